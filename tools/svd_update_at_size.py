"""Run the svd-update reproduction at a size between ``quick`` and ``full`` (the full size does not fit a 2-core
machine in a few hours: 17 of its 36 cases took 40 minutes at about half a core).

``python tools/svd_update_at_size.py --out DIR [--nodes 30000 --users 30000 --items 8000]`` writes
``svd-update-mid.csv``, ``.png`` and ``.txt`` (time, verdict and summary) under DIR. Everything but the graph and
ratings sizes is the full size's setting (k = 64, 20 ratings per user, phi in {10, 100, 1000}).
"""

import argparse
import csv
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--nodes", type=int, default=30_000)
    p.add_argument("--users", type=int, default=30_000)
    p.add_argument("--items", type=int, default=8_000)
    args = p.parse_args(argv)
    from lowrank_la.experiments import svd_update

    cfg = dict(svd_update.SIZES["full"], nodes=args.nodes, users=args.users, items=args.items)
    svd_update.SIZES["mid"] = cfg
    start = time.perf_counter()
    result = svd_update.run(size="mid", rng=0, progress=lambda cases, **_: cases)
    seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "svd-update-mid.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=sorted({key for row in result.table for key in row}))
        writer.writeheader()
        writer.writerows(result.table)
    result.figure.savefig(args.out / "svd-update-mid.png", dpi=100)
    text = (f"svd-update at nodes={args.nodes}, users={args.users}, items={args.items} (otherwise the full size), "
            f"{seconds:.0f} s\nclaim held: {result.claim_held}\n\n{result.summary}\n")
    (args.out / "svd-update-mid.txt").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
