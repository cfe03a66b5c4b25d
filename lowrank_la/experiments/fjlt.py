"""Reproduction ``fjlt``: the sparser FJLT of Fandina, Hogsgaard and Larsen (ICML 2023).

The paper proves that the sparse matrix P of the fast Johnson-Lindenstrauss transform can have
``alpha = min(ln(1/eps)/eps, ln n)`` times fewer nonzeros than Ailon and Chazelle's ``ln^2 n`` per row at
the same distortion, and that no sparser P works. The paper has no experiments; this one measures the claim:
for each dimension d, distortion eps and density rule, the maximum pairwise distortion of n points (half
Gaussian, half spiky) over several seeds, and the time of the P-multiply.

The rules are used with constant 1 and Gaussian entries, the paper's construction, so that the two rules
differ by exactly alpha: ``q d' = ln^2 n`` (Ailon-Chazelle), ``q d' = ln^2 n / alpha`` (FHL), and two
densities below FHL's threshold, ``q d' = 1`` and ``q d' = 1/4``. One more rule, FHL's with constant 2
(lowrank_la's default ``c_q``), is reported for information and is not part of the verdict.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). The abstract confirms the density rule
up to a constant: the ``k ln^2 n`` term "can be improved to (k ln^2 n)/alpha for an alpha =
Omega(min{eps^-1 ln(1/eps), ln n})", and a matching lower bound ("our new analysis is in fact tight"); it also
restates Ailon and Chazelle's ``k = O(eps^-2 ln n)`` and ``O(d ln d + k ln^2 n)``. Taking alpha equal to the
minimum with constant 1 (and the library's ``c_q = 2``) is our instantiation, since the constant could not be
read; that the paper has no experiments is the spec's reading and was not checked against its body. Sizes: d
up to 2^16 and n = 200 points at ``quick`` (1000 at ``full``), ours.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import as_rng, thread_limit
from ..sketch import FJLT, jl_min_dim, max_distortion
from ._registry import ExperimentResult, best_time, pyplot, register
from ._style import finish, legend_under_panels

__all__ = ["run"]

SIZES = {
    "smoke": {"dims": [2**12], "n": 100, "eps": [0.3], "seeds": 2, "repeats": 1},
    "quick": {"dims": [2**14, 2**16], "n": 200, "eps": [0.1, 0.2, 0.3], "seeds": 4, "repeats": 3},
    "full": {"dims": [2**14, 2**15, 2**16], "n": 1000, "eps": [0.1, 0.2, 0.3], "seeds": 20, "repeats": 5},
}
RULES = ("ailon-chazelle", "fhl x2", "fhl", "one per row", "quarter per row")

# What counts as the claim holding, fixed before looking at the numbers (see the module docstring):
SAME_DISTORTION = 1.15  # FHL's median max distortion within 15% of Ailon-Chazelle's, in every cell
BREAKDOWN = 1.5  # below the threshold (q d' = 1/4) the median max distortion is >= 1.5x Ailon-Chazelle's
TIME_SHARE = 0.5  # the P-multiply is faster by at least half of the nonzero ratio alpha
CACHE_BYTES = 1 << 20  # the P-multiply is timed on this many bytes of mixed rows, in the L2 cache


def _points(n, d, gen):
    """n points in R^d: half Gaussian, half spiky (1 to 3 nonzero coordinates)."""
    X = gen.standard_normal((n, d))
    spiky = X[n // 2:]
    spiky[:] = 0.0
    for row in spiky:
        row[gen.choice(d, size=gen.integers(1, 4), replace=False)] = gen.standard_normal(1) + 2.0
    return X


def _density(rule, d_pad, n, eps):
    ln_n = math.log(n)
    per_row = {"ailon-chazelle": ln_n**2,
               "fhl": ln_n**2 / min(math.log(1 / eps) / eps, ln_n),
               "fhl x2": 2 * ln_n**2 / min(math.log(1 / eps) / eps, ln_n),
               "one per row": 1.0,
               "quarter per row": 0.25}[rule]
    return min(per_row / d_pad, 1.0)


def _p_multiply_time(S, Z, repeats):
    """Seconds per row of ``Z @ P.T`` on rows already in cache, as in ``S.apply``, which mixes and reduces
    a few MiB of rows at a time. (On rows fetched from memory the time is that of reading them, whatever P.)"""
    rows = Z[: max(1, CACHE_BYTES // (Z.shape[1] * Z.itemsize))]
    S.sparse_step(rows)  # warm the cache
    return best_time(lambda: S.sparse_step(rows), 10 * repeats) / rows.shape[0]


def _cases(cfg):
    for d in cfg["dims"]:
        for eps in cfg["eps"]:
            for seed in range(cfg["seeds"]):
                yield d, eps, seed


@register("fjlt",
          paper="Fandina, Hogsgaard, Larsen, 'The Fast Johnson-Lindenstrauss Transform is Even Faster', "
                "ICML 2023 (arXiv:2204.01800)",
          claim="P can be sparser than Ailon-Chazelle's by alpha = min(ln(1/eps)/eps, ln n) at the same "
                "distortion, and no sparser; the P-multiply gets faster by about alpha")
def run(size="quick", rng=0, progress=None):
    """Measure the FHL claim; see the module docstring."""
    cfg = SIZES[size]
    n = cfg["n"]
    data_gen = as_rng(rng)
    points = {d: _points(n, d, data_gen) for d in cfg["dims"]}
    seeds = as_rng(rng).integers(2**31, size=cfg["seeds"])
    rows = []
    cases = list(_cases(cfg))
    with thread_limit(1):  # one thread: steadier timings of the sparse step
        for d, eps, seed in progress(cases, total=len(cases), desc="fjlt"):
            X = points[d]
            k = min(jl_min_dim(n, eps), d)
            for rule in RULES:
                q = _density(rule, d, n, eps)
                S = FJLT(k, d, q=q, entries="gaussian", rng=int(seeds[seed]))
                Z = S.spread(X)
                Y = S.sparse_step(Z)
                rows.append({
                    "d": d, "n": n, "eps": eps, "k": k, "seed": seed, "rule": rule,
                    "alpha": min(math.log(1 / eps) / eps, math.log(n)),
                    "nnz_per_row": S.nnz_per_row_,
                    "max_distortion": max_distortion(X, Y),
                    "p_multiply_s_per_row": _p_multiply_time(S, Z, cfg["repeats"]),
                })
    held, summary = _judge(rows, cfg)
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_figure(rows))


def _cells(rows):
    """Per (d, eps) cell and rule: median max distortion, mean nnz per row, median P-multiply time."""
    out = {}
    for key in {(r["d"], r["eps"]) for r in rows}:
        cell = [r for r in rows if (r["d"], r["eps"]) == key]
        out[key] = {
            rule: {
                "distortion": float(np.median([r["max_distortion"] for r in cell if r["rule"] == rule])),
                "nnz": float(np.mean([r["nnz_per_row"] for r in cell if r["rule"] == rule])),
                "time": float(np.median([r["p_multiply_s_per_row"] for r in cell if r["rule"] == rule])),
                "alpha": cell[0]["alpha"],
            }
            for rule in RULES
        }
    return dict(sorted(out.items()))


def _judge(rows, cfg):
    checks = {"same distortion": True, "breakdown below threshold": True, "faster P-multiply": True}
    lines = []
    for (d, eps), cell in _cells(rows).items():
        ac, fhl, fhl2, quarter = (cell[r] for r in ("ailon-chazelle", "fhl", "fhl x2", "quarter per row"))
        same = fhl["distortion"] / ac["distortion"]
        broken = quarter["distortion"] / ac["distortion"]
        speedup = ac["time"] / fhl["time"]
        alpha = ac["alpha"]
        checks["same distortion"] &= same <= SAME_DISTORTION
        checks["breakdown below threshold"] &= broken >= BREAKDOWN
        checks["faster P-multiply"] &= speedup >= TIME_SHARE * alpha
        lines.append(f"d=2^{int(math.log2(d))}, eps={eps}: nnz/row {ac['nnz']:.1f} -> {fhl['nnz']:.1f} "
                     f"(alpha={alpha:.1f}); max distortion AC {ac['distortion']:.3f}, FHL {fhl['distortion']:.3f} "
                     f"(x{same:.2f}), FHL x2 {fhl2['distortion']:.3f} (x{fhl2['distortion'] / ac['distortion']:.2f}), "
                     f"q d'=1/4 {quarter['distortion']:.3f} (x{broken:.2f}); "
                     f"P-multiply {speedup:.1f}x faster")
    held = all(checks.values())
    verdict = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items())
    summary = (f"{cfg['seeds']} seeds per cell, n={cfg['n']} points. {verdict}. "
               f"Thresholds: FHL/AC distortion <= {SAME_DISTORTION}, (q d'=1/4)/AC >= {BREAKDOWN}, "
               f"speed-up >= {TIME_SHARE} alpha.\n\n" + "\n".join(f"- {line}" for line in lines))
    return held, summary


def _figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    cells = _cells(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    markers = dict(zip(RULES, "oDsv^"))
    for (d, eps), cell in cells.items():
        line = left.plot([cell[r]["nnz"] for r in RULES], [cell[r]["distortion"] for r in RULES], "-", alpha=0.5,
                         label=f"d=2^{int(math.log2(d))}, eps={eps}")[0]
        for rule in RULES:
            left.plot(cell[rule]["nnz"], cell[rule]["distortion"], markers[rule], color=line.get_color())
        right.plot(cell["fhl"]["alpha"], cell["ailon-chazelle"]["time"] / cell["fhl"]["time"], "o",
                   color=line.get_color())
    for rule, marker in markers.items():
        left.plot([], [], marker, color="gray", label=rule)
    left.set(xscale="log", xlabel="nonzeros per row of P", ylabel="median max pairwise distortion",
             title="Distortion against the sparsity of P")
    legend_under_panels(left, 5)  # the cells' colours also mark the right panel's points
    alphas = [c["fhl"]["alpha"] for c in cells.values()]
    span = np.linspace(min(alphas) * 0.9, max(alphas) * 1.1, 2)
    right.plot(span, span, "k--", label="speed-up = alpha")
    right.plot(span, TIME_SHARE * span, "k:", label=f"{TIME_SHARE} alpha (threshold)")
    right.set(xlabel="alpha = min(ln(1/eps)/eps, ln n)", ylabel="P-multiply time, AC / FHL",
              title="Time of the sparse step")
    right.legend()
    return finish(fig)
