"""How often a sketch of exactly the numerical rank misses part of the range (the numbers in the Notes of
``svd.rand_qb`` and ``factor.generalized_nystrom``). ::

    python tools/exact_rank_sketches.py

On 200 random 24 x 16 matrices of rank 3 plus noise (the fuzz suite's ``low_rank``), prints for each rank asked
for the ratio of the error ``||A - A_k||_F`` to the best rank-3 error: median, maximum, and the fractions of
draws over 2x and over 10x.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fuzz"))
from _registry import low_rank  # noqa: E402

from lowrank_la import factor, svd  # noqa: E402

METHODS = {
    "svd.rand_qb": (lambda A, k, seed: (lambda r: r.Q @ r.B)(svd.rand_qb(A, rank=k, rng=seed)), (3, 5)),
    "factor.generalized_nystrom": (lambda A, k, seed: factor.generalized_nystrom(A, k, rng=seed).reconstruct(),
                                   (3, 5, 8)),
}

for name, (approx, ranks) in METHODS.items():
    for k in ranks:
        ratios = []
        for seed in range(200):
            A = low_rank(seed)
            best = np.linalg.norm(np.linalg.svd(A, compute_uv=False)[3:])
            ratios.append(np.linalg.norm(A - approx(A, k, seed)) / best)
        r = np.array(ratios)
        print(f"{name} k={k}: median {np.median(r):.2f}x, max {r.max():.1f}x, "
              f"over 2x {np.mean(r > 2):.1%}, over 10x {np.mean(r > 10):.1%}")
