"""Time a reproduction at small sizes and project the time of its ``full`` size (issue 22 item 5).

For one reproduction NAME this runs (or reads from earlier reports) the ``smoke`` and ``quick`` sizes, optionally
a *probe* (the full size's per-unit problem with fewer units: fewer seeds, trials or cases, or fewer iterations),
and projects the full size's time as proportional to ``W(cfg)``, the reproduction's cost model below (in
arbitrary work units, written out by hand from what its ``run`` function computes), from the measured point of
largest work: with a probe, the probe's time times the ratio of the work, which is more reliable than an
extrapolation from ``quick`` (whose time is mostly fixed costs). It also prints the exponent ``b`` of ``t ~ W^b``
between the two largest points. ::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python tools/full_size_projection.py hutchpp-rate --probe --out /tmp/proj
    python tools/full_size_projection.py fixed-accuracy --reports /tmp/smoke /tmp/quick   # reuse run times
    python tools/full_size_projection.py fixed-accuracy --run '{"n": 4000}' --out DIR   # an intermediate size

``--reports DIR ...`` takes the time of a size from ``DIR/NAME.md`` (written by ``python -m lowrank_la reproduce
NAME --size SIZE --out DIR``; the size is read from the report) instead of running it, and a probe's from
``DIR/NAME-probe/NAME.md`` (written by ``--probe --out DIR``; its size dict from ``size.json`` beside it).
``--run JSON`` runs the full size with the given keys replaced (an intermediate size, when the full one does not
fit) and writes its report, CSV and figure under ``--out`` in ``NAME-mid/``. The result is one line
per measured point and the projection, printed and, with ``--out``, appended to ``OUT/projections.txt``.

Each cost model counts the dominant work of one run and assumes what it says (iteration counts that do not grow
with the size, for instance); a probe at the full per-unit size checks most of that. The models:

- fixed-accuracy: three ``n x n`` test matrices with Haar factors (``3 n^3``) plus ``seeds x cases`` runs of
  randQB_EI and an error check, each about ``n^2`` times a rank of some hundred (``100 n^2`` each).
- single-pass: per class and trial, one reconstruction per oracle pair and rule at every budget, each checked
  against the dense ``n x n`` matrix (``n^2 (n r + k^2)`` per reconstruction, ``k`` its range size).
- hutchpp-rate: per seed, power and product count ``m``: ``n m`` Gaussian draws and products with the diagonal
  matrix and a QR of ``n x m/3`` (``n m^2 / 9``).
- xtrace-accuracy: per spectrum, seed and ``m``: five estimators of ``m`` dense products each (``5 n^2 m``).
- subgradient-l1, scaledgd, scaledgd-lambda: per run, iterations times one product with the dense Gaussian
  sensing operator (``measurements x n^2``); the iterations are the cap (an upper bound where a run stops
  early at its tolerance).
- fjlt: per (d, eps, seed): the spread and sparse step repeated ``1 + repeats`` times (``n d log2 d``) and the
  distortion of the ``n^2 / 2`` pairs in ``k`` dimensions (``n^2 k``).
- kron-projection: E1, per case, ``T`` steps costing ``m n^2`` each (products with the ``m x n^2`` constraint
  matrix); E2, ``2 T_max`` least-squares solves with an ``n^2 x n^2`` Gram matrix (``n^6``).
- altmin: E1 and E2, per run, iterations times ``|Omega| k^2`` (the exact least-squares solves; ``|Omega| = p
  n^2`` or ``rho n k log n``); E3, per repeat and ``k``, ``p n^2 k^2``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
import time
from pathlib import Path

# name -> (module, SIZES attribute, cost model, probe)
SPECS: dict[str, tuple] = {}


def spec(name, module, attr):
    def decorate(cost):
        SPECS[name] = [module, attr, cost, None]
        return cost
    return decorate


def probe(name):
    def decorate(func):
        SPECS[name][3] = func
        return func
    return decorate


@spec("fixed-accuracy", "fixed_accuracy", "SIZES")
def _w_fixed(cfg, mod):
    cases = cfg["cases"] or mod.PAPER_CASES
    return 3 * cfg["n"] ** 3 + cfg["seeds"] * len(cases) * 100 * cfg["n"] ** 2


@probe("fixed-accuracy")
def _p_fixed(full):
    return dict(full, n=4000)


@spec("single-pass", "single_pass", "SIZES")
def _w_single(cfg, mod):
    n, r = cfg["n"], mod.RANK
    per_trial = 0
    for T in cfg["budgets"]:
        storage = T * 2 * n
        pairs = mod._three_oracle_pairs(storage, n, n) + mod._two_oracle_pairs(storage, n, n)
        rules = [p for p in (mod._three_rule(storage, n, n), mod._two_rule(storage, n, n)) if p]
        per_trial += sum(n * n * r + n * k * k for k, _ in pairs + rules + rules) + n * n * r + n * T * T
    return len(cfg["classes"]) * cfg["trials"] * per_trial


@probe("single-pass")
def _p_single(full):
    return dict(full, classes=["LowRank+Noise xi=1e-2"], trials=1)


@spec("hutchpp-rate", "psd_trace", "RATE_SIZES")
def _w_hutchpp(cfg, mod):
    return len(mod.RATE_POWERS) * cfg["seeds"] * sum(cfg["n"] * m + cfg["n"] * m * m / 9 for m in cfg["ms"])


@probe("hutchpp-rate")
def _p_hutchpp(full):
    return dict(full, seeds=4)


@spec("xtrace-accuracy", "psd_trace", "XTRACE_SIZES")
def _w_xtrace(cfg, mod):
    return cfg["n"] ** 3 + 6 * cfg["seeds"] * sum(5 * cfg["n"] ** 2 * m for m in cfg["ms"])


@probe("xtrace-accuracy")
def _p_xtrace(full):
    return dict(full, seeds=5)


@spec("subgradient-l1", "sensing", "SIZES_L1")
def _w_l1(cfg, mod):
    return len(cfg["kappas"]) * len(cfg["fractions"]) * 20 * cfg["n"] * cfg["r_star"] * cfg["n"] ** 2


@probe("subgradient-l1")
def _p_l1(full):
    return dict(full, kappas=[1], fractions=[0.2])


@spec("scaledgd", "sensing", "SIZES_TMC")
def _w_tmc(cfg, mod):
    return 2 * len(cfg["kappas"]) * cfg["n_iter"] * 5 * cfg["n"] * cfg["r"] * cfg["n"] ** 2


@probe("scaledgd")
def _p_tmc(full):
    return dict(full, kappas=[20], n_iter=100)


@spec("scaledgd-lambda", "sensing", "SIZES")
def _w_lambda(cfg, mod):
    total = 0
    for n, rs in cfg["cases"]:
        per_iteration = mod.M_FACTOR * n * rs * n * n
        for kappa in cfg["kappas"]:
            runs = 2 + sum(f <= kappa for f in cfg["grid"])
            total += cfg["seeds"] * runs * cfg["cap"] * per_iteration
        total += cfg["seeds"] * len(cfg["noise_kappas"]) * len(cfg["noises"]) * cfg["cap"] * per_iteration
    return total


@probe("scaledgd-lambda")
def _p_lambda(full):
    return dict(full, cases=[(100, 5)], seeds=1, kappas=[1, 10], noise_kappas=[], cap=200, processes=1)


@spec("fjlt", "fjlt", "SIZES")
def _w_fjlt(cfg, mod):
    n = cfg["n"]
    return cfg["seeds"] * sum(n * d * math.log2(d) * (1 + cfg["repeats"]) + n * n * min(mod.jl_min_dim(n, e), d)
                              for d in cfg["dims"] for e in cfg["eps"])


@probe("fjlt")
def _p_fjlt(full):
    return dict(full, seeds=1)


@spec("kron-projection", "kron_projection", "SIZES")
def _w_kron(cfg, mod):
    e1, e2 = cfg["e1"], cfg["e2"]
    return sum(e1["T"] * mod._m(n, rule) * n * n for n, rule, _ in e1["cases"]) + 2 * e2["T_max"] * e2["n"] ** 6


@probe("kron-projection")
def _p_kron(full):
    return {"e1": dict(full["e1"], cases=[(64, "n2/8", 4)]), "e2": dict(full["e2"], T_max=200)}


@spec("altmin", "altmin", "SIZES")
def _w_altmin(cfg, mod):
    e1, e2, e3 = cfg["e1"], cfg["e2"], cfg["e3"]
    runs1 = 1 + 2 * (len(e1["tols"]) + 1)
    w1 = len(e1["kappas"]) * sum(runs1 * e1["n_iter"] * p * e1["n"] ** 2 * e1["k"] ** 2 for p in e1["ps"])
    w2 = sum(2 * e2["trials"] * e2["n_iter"] * rho * e2["n"] * e2["k"] * math.log(e2["n"]) * e2["k"] ** 2
             for rho in e2["rhos"])
    w3 = e3["repeats"] * sum(e3["p"] * e3["n"] ** 2 * k * k for k in e3["ks"])
    return w1 + w2 + w3


@probe("altmin")
def _p_altmin(full):
    return {"e1": dict(full["e1"], kappas=[20], ps=[0.05]), "e2": dict(full["e2"], trials=2),
            "e3": dict(full["e3"], repeats=1)}


def _module(name):
    module, attr, _, _ = SPECS[name]
    mod = importlib.import_module(f"lowrank_la.experiments.{module}")
    return mod, getattr(mod, attr)


def work(name, cfg):
    """The cost model's work units of `name` at the size dict `cfg`."""
    mod, _ = _module(name)
    return float(SPECS[name][2](cfg, mod))


def run_size(name, label, cfg=None, out=None):
    """Run `name` at the size `label` (``cfg``, when given, is registered under that label first); seconds."""
    from lowrank_la.experiments import _registry

    _, sizes = _module(name)
    if cfg is not None:
        sizes[label] = cfg
    experiment = _registry.get(name)
    start = time.perf_counter()
    result = experiment.func(size=label, rng=0, progress=lambda it, **_: it)
    result.seconds = time.perf_counter() - start
    if out is not None:
        suffix = "" if label in ("smoke", "quick", "full") else f"-{label}"
        folder = Path(out) / f"{name}{suffix}"
        _registry._write(experiment, result, folder, label)
        (folder / "size.json").write_text(json.dumps(sizes[label], default=list) + "\n")
    return result.seconds, result.claim_held


def report_time(path):
    """(size, seconds) from a report written by ``lowrank_la.experiments.run``."""
    match = re.search(r"- Size: (\w+); time: ([0-9.]+) s", Path(path).read_text())
    if match is None:
        raise ValueError(f"no size and time line in {path}")
    return match.group(1), float(match.group(2))


def project(points, full_w):
    """Projected seconds at the work `full_w` from measured ``(work, seconds)`` points: proportional to the work
    from the point of largest work (its fixed costs scaled too, so a slight overestimate), and the exponent
    ``b`` of ``t ~ W^b`` between the two largest points (near 1 where the model holds and the fixed costs are
    small)."""
    pts = sorted(points)
    w1, t1 = pts[-1]
    exponent = float("nan")
    if len(pts) >= 2 and pts[-2][0] != w1 and pts[-2][1] > 0:
        w0, t0 = pts[-2]
        exponent = math.log(t1 / t0) / math.log(w1 / w0)
    return t1 * full_w / w1, exponent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("name", choices=sorted(SPECS))
    p.add_argument("--sizes", nargs="*", default=["smoke", "quick"], help="registered sizes to run and time")
    p.add_argument("--reports", nargs="*", default=[], type=Path,
                   help="folders with earlier NAME.md reports: their times replace runs of those sizes")
    p.add_argument("--probe", action="store_true", help="also run the probe (see the module docstring)")
    p.add_argument("--run", default=None, help="JSON: run the full size with these keys replaced and stop")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    name = args.name
    _, sizes = _module(name)
    if args.run is not None:
        cfg = dict(sizes["full"], **json.loads(args.run))
        seconds, held = run_size(name, "mid", cfg, args.out)
        line = (f"{name} at {json.dumps(json.loads(args.run))} (otherwise full): {seconds:.1f} s, claim "
                f"{'held' if held else 'did NOT hold'}, work {work(name, cfg):.3g}")
        _emit(line, args.out)
        return 0
    points = []
    reported = {}
    for path in args.reports:
        for md in ([path] if path.suffix == ".md" else [path / f"{name}.md", path / f"{name}-probe" / f"{name}.md"]):
            if md.exists():
                size, seconds = report_time(md)
                cfg = sizes.get(size)
                if (md.parent / "size.json").exists():
                    cfg = json.loads((md.parent / "size.json").read_text())
                reported[size] = (seconds, cfg)
    for size in args.sizes:
        if size in reported:
            seconds, how = reported[size][0], "report"
        else:
            seconds, how = run_size(name, size, out=args.out)[0], "run"
        points.append((size, work(name, sizes[size]), seconds, how))
    if args.probe:
        cfg = SPECS[name][3](sizes["full"])
        seconds, _ = run_size(name, "probe", cfg, args.out)
        points.append(("probe", work(name, cfg), seconds, "run"))
    elif "probe" in reported:
        points.append(("probe", work(name, reported["probe"][1]), reported["probe"][0], "report"))
    full_w = work(name, sizes["full"])
    seconds, exponent = project([(w, s) for _, w, s, _ in points], full_w)
    lines = [f"{name}: {label} W={w:.3g} t={s:.1f} s ({how})" for label, w, s, how in points]
    largest = max(w for _, w, _, _ in points)
    lines.append(f"{name}: full W={full_w:.3g} ({full_w / largest:.3g}x the largest point); t ~ W^{exponent:.2f} "
                 f"between the two largest points; projected full time (proportional to W from the largest "
                 f"point) {seconds:.0f} s = {seconds / 60:.1f} min")
    _emit("\n".join(lines), args.out)
    return 0


def _emit(text, out):
    print(text, flush=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "projections.txt").open("a") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
