"""Reproduction ``single-pass``: the storage sweep of Tropp, Yurtsever, Udell and Cevher (SISC 2019), Fig. 1.

The paper compares single-view (one pass, linear sketch) fixed-rank approximations at equal storage. For each
synthetic matrix class (LowRank+Noise, PolyDecay, ExpDecay; ``R = 10`` leading ones, target rank ``r = 10``)
and each storage budget ``T`` (counted in stored sketch entries, as in the paper), it measures the relative
excess error ``||A - [A_hat]_r||_F / ||A - [A]_r||_F - 1`` of

* ``three (oracle)``: the three-sketch reconstruction ``Q [C]_r P^T`` (paper eq. (2.10)-(2.11)), with the
  best ``(k, s)`` satisfying ``k (m + n) + s^2 <= T``: every ``k`` from ``r + alpha + 1`` with
  ``s = floor(sqrt(T - k (m + n))) >= k + alpha``, as the paper's Fig. 1 sweeps them;
* ``three (s=2k+1)``: lowrank_la's :class:`StreamingSketch` with the recommended proportion ``s = 2 k + 1``
  and the largest ``k`` that fits in ``T``, with Gaussian and with sparse sign test matrices;
* ``two (oracle)`` and ``two (l=2k+1)``: the two-sketch of Tropp et al. (SIMAX 2017), ``Q [(Psi Q)^+ W]_r``
  with ``Y = A Omega`` (``k`` columns) and ``W = Psi A`` (``l`` rows), storage ``k m + l n``;
* ``HMT``: the single-pass method of Halko, Martinsson and Tropp (2011, Sec. 5.5), as in the authors' SKETCH
  code (``HMTFixedRankApprox``), with ``l = T / (m + n)`` columns in each of its two sketches.

Differences from the paper: real test matrices and data (``alpha = 1``; the paper's plots use the complex
field), nested Gaussian test matrices (the sketch for a smaller
``k`` or ``s`` is the leading part of the largest one, so that a sweep costs one pass), and fewer trials and
classes below ``full``. PolyDecay and ExpDecay are diagonal, as in the paper's code (Gaussian test matrices
are rotation invariant).

The verdict is fixed before looking at the numbers (see ``TOLERANCE`` and ``MAJORITY``; ``FLOOR`` was added
after the first quick run showed excess errors of 1e-13 against 4e-15, which are rounding, not a ranking): the
three-sketch is at least as good as the best earlier method in every cell (up to Monte Carlo noise), strictly
better in most, with the recommended parameters too, and its error falls as ``T`` grows. Errors below ``FLOOR``
are compared as equal to it, and such a tie never counts in the claim's favour: a cell where the three-sketch
and the best baseline both sit at the floor is not one where it is strictly lower (it still counts among the
cells), and a class whose three-sketch error starts at the floor has not shown it falling. The number of floor
ties is reported.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). From the authors' experiment driver
(SKETCH, verified in the spec): n = 1000, r = 10, R in {5, 10, 20}, complex field, nine classes, 20 trials, the
budget grid of ``full``. Ours: real field, R = 10 only, and at ``quick`` n = 400, four classes, 2 trials, three
budgets (two cores). The paper's own text could not be read beyond its abstract, which confirms the claim ("the
new method achieves smaller relative approximation errors and is less sensitive to parameter choices"); the
error bound of its Theorem 5.1 (used by ``tests/svd/test_streaming.py``) and its recommended ``k``, ``s`` of
Section 5.4 were not read in the paper. Both are corroborated by public third-party code only: a MATLAB
SketchySVD takes ``k = 4 r + alpha``, ``s = 2 k + alpha`` citing the paper's eq. (5.3), and a Julia package's
documentation, citing the paper, uses the same expression for the bound on ``E ||A - A_hat||_F^2``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .. import datasets
from .._backend import as_rng, thread_limit
from ..svd._streaming import StreamingSketch
from ._registry import ExperimentResult, pyplot, register
from ._style import finish, legend_under_panels, spaced_ticks

__all__ = ["run"]

R_LEADING = 10   # the R of the paper: leading unit singular values
RANK = 10        # the target rank r
ALPHA = 1        # real field

CLASSES = {  # name -> (family, parameter)
    "LowRank+Noise xi=1e-4": ("lowrank", 1e-4),
    "LowRank+Noise xi=1e-2": ("lowrank", 1e-2),
    "LowRank+Noise xi=1e-1": ("lowrank", 1e-1),
    "PolyDecay p=0.5": ("poly", 0.5),
    "PolyDecay p=1": ("poly", 1.0),
    "PolyDecay p=2": ("poly", 2.0),
    "ExpDecay q=0.01": ("exp", 0.01),
    "ExpDecay q=0.1": ("exp", 0.1),
    "ExpDecay q=0.5": ("exp", 0.5),
}

SIZES = {
    "smoke": {"n": 150, "classes": ["LowRank+Noise xi=1e-1", "PolyDecay p=1"], "trials": 1,
              "budgets": [14, 24, 48]},
    "quick": {"n": 400, "classes": ["LowRank+Noise xi=1e-2", "LowRank+Noise xi=1e-1", "PolyDecay p=1",
                                    "ExpDecay q=0.1"],
              "trials": 2, "budgets": [16, 32, 64]},
    # the paper's grid of T/(m+n) for r = 10: r..2r in steps of 2, and round((2r+3) 2^(0:0.5:3.5)), above the
    # minimal budgets (12.3 for the three-sketch, 13 for the two-sketch at n = 1000)
    "full": {"n": 1000, "classes": list(CLASSES), "trials": 20,
             "budgets": [14, 16, 18, 20, 23, 33, 46, 65, 92, 130, 184, 260]},
}

METHODS = ("three (oracle)", "three (s=2k+1)", "three sparse (s=2k+1)", "two (oracle)", "two (l=2k+1)", "HMT")
BASELINES = ("two (oracle)", "two (l=2k+1)", "HMT")

# What counts as the claim holding, fixed before looking at the numbers:
TOLERANCE = 1.25  # "at least as good": the three-sketch's mean excess error <= 1.25 x the best baseline's, per cell
MAJORITY = 0.75   # "lower": strictly below every baseline in at least 75% of the cells
FLOOR = 1e-9      # excess errors below this are rounding (float64 norms of the residual): compared as equal


# --------------------------------------------------------------------------- test problems

def _matrix(name, n, gen):
    """The test matrix (dense, n x n) and its singular values (descending)."""
    family, value = CLASSES[name]
    if family == "lowrank":
        A = datasets.low_rank_plus_noise(n, R_LEADING, value, rng=gen)
        sv = np.sort(np.abs(np.linalg.eigvalsh(A)))[::-1]  # symmetric PSD: singular values = eigenvalues
        return A, sv
    kind, key = ("low_rank_poly", "power") if family == "poly" else ("low_rank_exp", "rate")
    sv = datasets.spectrum(kind, n, rank=R_LEADING, **{key: value})
    return np.diag(sv), sv


def _excess(A, U, s, Vh, best):
    return float(np.linalg.norm(A - (U * s) @ Vh) / best - 1.0)


# --------------------------------------------------------------------------- reconstructions

def _three_sketch_rank_r(X, Y, Z, Phi, Psi, r):
    """Tropp et al. (2019) eq. (2.10)-(2.11) from explicit sketches (Phi: s x m, Psi: s x n)."""
    Q = scipy.linalg.qr(Y, mode="economic")[0]
    P = scipy.linalg.qr(X.T, mode="economic")[0]
    U1, T1 = scipy.linalg.qr(Phi @ Q, mode="economic")
    U2, T2 = scipy.linalg.qr(Psi @ P, mode="economic")
    left = scipy.linalg.solve_triangular(T1, U1.T @ Z @ U2)
    C = scipy.linalg.solve_triangular(T2, left.T).T
    Uc, s, Vhc = np.linalg.svd(C)
    return Q @ Uc[:, :r], s[:r], Vhc[:r] @ P.T


def _two_sketch_rank_r(Y, W, Psi, r):
    """Tropp et al. (2017) Alg. 7: Q = orth(Y), X = (Psi Q)^+ W, A_r = Q [X]_r (Psi: l x m)."""
    Q = scipy.linalg.qr(Y, mode="economic")[0]
    U, T = scipy.linalg.qr(Psi @ Q, mode="economic")
    Xc = scipy.linalg.solve_triangular(T, U.T @ W)
    Ux, s, Vhx = np.linalg.svd(Xc, full_matrices=False)
    return Q @ Ux[:, :r], s[:r], Vhx[:r]


def _hmt_rank_r(Y, Yt, Omega, Omega_t, r):
    """HMT (2011) Sec. 5.5 as in the SKETCH code: Y = A Omega (m x l), Yt = A^T Omega_t (n x l)."""
    Q = np.linalg.svd(Y, full_matrices=False)[0][:, :r]
    Qt = np.linalg.svd(Yt, full_matrices=False)[0][:, :r]
    B1 = np.linalg.lstsq((Qt.T @ Omega).T, (Q.T @ Y).T, rcond=None)[0].T   # (Q^T Y) (Qt^T Omega)^+
    B2 = np.linalg.lstsq(Omega_t.T @ Q, Yt.T @ Qt, rcond=None)[0]          # (Omega_t^T Q)^+ (Yt^T Qt)
    Ux, s, Vhx = np.linalg.svd((B1 + B2) / 2)
    return Q @ Ux, s, Vhx @ Qt.T


# --------------------------------------------------------------------------- parameter rules

def _three_oracle_pairs(T, m, n):
    """(k, s) pairs for the oracle: every k from r + alpha + 1 with s = floor(sqrt(T - k(m+n))) >= k + alpha."""
    def core(k):
        rest = T - k * (m + n)
        return min(min(m, n), math.isqrt(rest)) if rest >= 0 else -1

    k_lo = RANK + ALPHA + 1
    k_hi = k_lo
    while k_hi + 1 <= min(m, n) and core(k_hi + 1) >= k_hi + 1 + ALPHA:
        k_hi += 1
    if core(k_lo) < k_lo + ALPHA:
        return []
    return [(k, core(k)) for k in range(k_lo, k_hi + 1)]


def _two_oracle_pairs(T, m, n):
    """(k, l) pairs for the two-sketch oracle: every k from r + alpha + 1 with l = floor((T - k m) / n) >= k + alpha
    + 1."""
    def corange(k):
        return (T - k * m) // n

    k_lo = RANK + ALPHA + 1
    if corange(k_lo) < k_lo + ALPHA + 1:
        return []
    k_hi = k_lo
    while k_hi + 1 <= min(m, n) and corange(k_hi + 1) >= k_hi + 1 + ALPHA + 1:
        k_hi += 1
    return [(k, int(corange(k))) for k in range(k_lo, k_hi + 1)]


def _three_rule(T, m, n):
    """Largest k with k (m + n) + (2k + 1)^2 <= T (and k >= r + alpha + 1), s = 2k + 1; None if none fits."""
    k = None
    for cand in range(RANK + ALPHA + 1, min(m, n) + 1):
        if cand * (m + n) + (2 * cand + 1) ** 2 <= T:
            k = cand
        else:
            break
    return None if k is None else (k, 2 * k + 1)


def _two_rule(T, m, n):
    """Largest k with k m + (2k + 1) n <= T (and k >= r + alpha + 1), l = 2k + 1; None if none fits."""
    k = None
    for cand in range(RANK + ALPHA + 1, min(m, n) + 1):
        if cand * m + (2 * cand + 1) * n <= T:
            k = cand
        else:
            break
    return None if k is None else (k, 2 * k + 1)


# --------------------------------------------------------------------------- one trial

def _trial(A, best, budgets, gen, seed):
    """Excess errors of every method at every budget, for one draw of the test matrices."""
    m, n = A.shape
    out = []
    plans = {T: (_three_oracle_pairs(T * (m + n), m, n), _two_oracle_pairs(T * (m + n), m, n),
                 _three_rule(T * (m + n), m, n), _two_rule(T * (m + n), m, n)) for T in budgets}
    k3 = max([k for p in plans.values() for k, _ in p[0]] + [1])
    s3 = max([s for p in plans.values() for _, s in p[0]] + [1])
    k2 = max([k for p in plans.values() for k, _ in p[1]] + [p[3][0] for p in plans.values() if p[3]] + [1])
    l2 = max([l for p in plans.values() for _, l in p[1]] + [p[3][1] for p in plans.values() if p[3]] + [1])
    lh = max(budgets)
    # nested Gaussian test matrices: the leading rows give the sketch of every smaller size (one pass over A)
    Ups, Om, Phi, Psi = (gen.standard_normal(shape) for shape in ((k3, m), (k3, n), (s3, m), (s3, n)))
    X3, Y3, Z3 = Ups @ A, A @ Om.T, Phi @ A @ Psi.T
    Om2, Psi2 = gen.standard_normal((n, k2)), gen.standard_normal((l2, m))
    Y2, W2 = A @ Om2, Psi2 @ A
    Omh, Omh_t = gen.standard_normal((n, lh)), gen.standard_normal((m, lh))
    Yh, Yh_t = A @ Omh, A.T @ Omh_t
    for T in budgets:
        three_pairs, two_pairs, three_rule, two_rule = plans[T]
        storage = T * (m + n)
        rec = {}
        if three_pairs:
            errs = [(_excess(A, *_three_sketch_rank_r(X3[:k], Y3[:, :k], Z3[:s, :s], Phi[:s], Psi[:s], RANK),
                             best), k, s) for k, s in three_pairs]
            rec["three (oracle)"] = min(errs)
        if two_pairs:
            errs = [(_excess(A, *_two_sketch_rank_r(Y2[:, :k], W2[:l], Psi2[:l], RANK), best), k, l)
                    for k, l in two_pairs]
            rec["two (oracle)"] = min(errs)
        if two_rule:
            k, l = two_rule
            rec["two (l=2k+1)"] = (_excess(A, *_two_sketch_rank_r(Y2[:, :k], W2[:l], Psi2[:l], RANK), best), k, l)
        if three_rule:
            k, s = three_rule
            for method, kind in (("three (s=2k+1)", "gaussian"), ("three sparse (s=2k+1)", "sparse_sign")):
                sk = StreamingSketch((m, n), RANK, range_size=k, core_size=s, sketch=kind,
                                     rng=int(gen.integers(2**31)))
                sk.linear_update(A)
                rec[method] = (_excess(A, *sk.fixed_rank(), best), k, s)
        l = int(round(T))
        if l >= RANK:
            rec["HMT"] = (_excess(A, *_hmt_rank_r(Yh[:, :l], Yh_t[:, :l], Omh[:, :l], Omh_t[:, :l], RANK), best),
                          l, l)
        for method, (err, a, b) in rec.items():
            out.append({"T_over_mn": T, "storage": storage, "method": method, "trial": seed, "k": a,
                        "s_or_l": b, "excess_error": err})
    return out


# --------------------------------------------------------------------------- the reproduction

@register("single-pass",
          paper="Tropp, Yurtsever, Udell, Cevher, 'Streaming low-rank matrix approximation with an application "
                "to scientific simulation', SIAM J. Sci. Comput. 41(4), 2019 (arXiv:1902.08651), Fig. 1",
          claim="at equal storage, the three-sketch reconstruction achieves smaller relative approximation errors "
                "than previous single-pass methods (the two-sketch of Tropp et al. 2017 and HMT 2011), also "
                "with the recommended parameters s = 2k+1, and its error falls as the storage grows")
def run(size="quick", rng=0, progress=None):
    """Storage sweep of the single-pass methods; see the module docstring."""
    cfg = SIZES[size]
    n, budgets = cfg["n"], cfg["budgets"]
    gen = as_rng(rng)
    rows = []
    cases = [(name, t) for name in cfg["classes"] for t in range(cfg["trials"])]
    matrices = {}
    with thread_limit(1):  # small dense work: two BLAS pools (NumPy, scipy) on 2 threads contend (20 ms a call)
        for name, t in progress(cases, total=len(cases), desc="single-pass"):
            if name not in matrices:
                A, sv = _matrix(name, n, gen)
                matrices[name] = (A, float(np.sqrt(np.sum(sv[RANK:] ** 2))))
            A, best = matrices[name]
            for row in _trial(A, best, budgets, gen, t):
                rows.append({"class": name, "n": n, "r": RANK, "R": R_LEADING, **row})
    table = _aggregate(rows)
    held, summary = _judge(table, cfg)
    return ExperimentResult(table=table, claim_held=held, summary=summary, figure=_figure(table, cfg))


def _aggregate(rows):
    """Mean, min and max excess error over the trials, per (class, budget, method)."""
    keys = sorted({(r["class"], r["T_over_mn"], r["method"]) for r in rows},
                  key=lambda key: (list(CLASSES).index(key[0]), key[1], METHODS.index(key[2])))
    table = []
    for cls, T, method in keys:
        cell = [r for r in rows if (r["class"], r["T_over_mn"], r["method"]) == (cls, T, method)]
        errs = np.array([r["excess_error"] for r in cell])
        table.append({"class": cls, "n": cell[0]["n"], "T_over_mn": T, "storage": cell[0]["storage"],
                      "method": method, "trials": len(cell), "mean_excess_error": float(errs.mean()),
                      "min_excess_error": float(errs.min()), "max_excess_error": float(errs.max()),
                      "k": int(np.median([r["k"] for r in cell])),
                      "s_or_l": int(np.median([r["s_or_l"] for r in cell]))})
    return table


def _means(table, floor=0.0):
    out = {}
    for row in table:
        value = max(row["mean_excess_error"], floor)
        out.setdefault(row["class"], {}).setdefault(row["T_over_mn"], {})[row["method"]] = value
    return out


def _judge(table, cfg):
    means = _means(table, FLOOR)
    cells = at_least = lower = rule_ok = rule_cells = floor_ties = 0
    falls = True
    lines, failures = [], []
    for cls, by_T in means.items():
        for T, cell in sorted(by_T.items()):
            base = [cell[b] for b in BASELINES if b in cell]
            if "three (oracle)" in cell and base:
                cells += 1
                ok = cell["three (oracle)"] <= TOLERANCE * min(base)
                at_least += ok
                lower += cell["three (oracle)"] < min(base)  # a tie at the floor is not strictly lower
                floor_ties += cell["three (oracle)"] == min(base) == FLOOR
                if not ok:
                    failures.append(f"{cls}, T/(m+n)={T}: oracle three {cell['three (oracle)']:.3g} vs best "
                                    f"baseline {min(base):.3g}")
            rule_base = [cell[b] for b in ("two (l=2k+1)", "HMT") if b in cell]
            if "three (s=2k+1)" in cell and rule_base:
                rule_cells += 1
                ok = cell["three (s=2k+1)"] <= TOLERANCE * min(rule_base)
                rule_ok += ok
                if not ok:
                    failures.append(f"{cls}, T/(m+n)={T}: three (s=2k+1) {cell['three (s=2k+1)']:.3g} vs "
                                    f"{min(rule_base):.3g}")
        for method in ("three (oracle)", "three (s=2k+1)"):
            series = [by_T[T][method] for T in sorted(by_T) if method in by_T[T]]
            if len(series) >= 2 and not series[-1] < series[0]:  # from the floor it cannot fall: not shown
                falls = False
                failures.append(f"{cls}: {method} error does not fall with T ({series[0]:.3g} -> {series[-1]:.3g})")
        first, last = min(by_T), max(by_T)
        parts = [f"{m} {by_T[last][m]:.3g}" for m in METHODS if m in by_T[last]]
        lines.append(f"{cls}: at T/(m+n)={last}: " + ", ".join(parts)
                     + f"; three (oracle) at T/(m+n)={first}: {by_T[first].get('three (oracle)', float('nan')):.3g}")
    checks = {
        f"three (oracle) <= {TOLERANCE} x best baseline in every cell": cells > 0 and at_least == cells,
        f"three (oracle) strictly lowest in >= {MAJORITY:.0%} of cells": cells > 0 and lower >= MAJORITY * cells,
        f"three (s=2k+1) <= {TOLERANCE} x min(two (l=2k+1), HMT) in every cell": rule_cells > 0
        and rule_ok == rule_cells,
        "three-sketch error falls from the smallest to the largest T": falls,
    }
    held = all(checks.values())
    sparse = [cell["three sparse (s=2k+1)"] / cell["three (s=2k+1)"] for by_T in means.values()
              for cell in by_T.values() if "three sparse (s=2k+1)" in cell and cell["three (s=2k+1)"] > 0]
    verdict = "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items())
    summary = (f"n={cfg['n']}, r={RANK}, R={R_LEADING}, {cfg['trials']} trial(s), T/(m+n) in {cfg['budgets']}; "
               f"mean relative excess error ||A - A_hat_r||_F / ||A - [A]_r||_F - 1. Oracle three-sketch strictly "
               f"lowest in {lower}/{cells} cells ({floor_ties} tied at the floor {FLOOR:g}, counted as not lower), "
               f"within x{TOLERANCE} of the best baseline in {at_least}/{cells}; "
               f"three (s=2k+1) within x{TOLERANCE} of min(two (l=2k+1), HMT) in {rule_ok}/{rule_cells}. {verdict}. "
               + (f"Sparse sign / Gaussian test matrices (three, s=2k+1): median ratio of excess errors "
                  f"{np.median(sparse):.2f} (information only). " if sparse else "")
               + "\n\n" + "\n".join(f"- {line}" for line in lines)
               + ("\n\nCells that missed a threshold:\n" + "\n".join(f"- {f}" for f in failures) if failures else ""))
    return held, summary


def _figure(table, cfg):
    plt = pyplot()
    if plt is None:
        return None
    means = _means(table)
    classes = list(means)
    cols = min(3, len(classes))
    rows = math.ceil(len(classes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    style = {"three (oracle)": ("k", "-", "o"), "three (s=2k+1)": ("k", "--", "s"),
             "three sparse (s=2k+1)": ("0.55", ":", "^"), "two (oracle)": ("tab:red", "-", "o"),
             "two (l=2k+1)": ("tab:red", "--", "s"), "HMT": ("goldenrod", "-", "D")}
    default_T = (4 * RANK + 1) * 2 * cfg["n"] + (2 * (4 * RANK + 1) + 1) ** 2
    for ax, cls in zip(axes.ravel(), classes):
        by_T = means[cls]
        for method in METHODS:
            pts = [(T, by_T[T][method]) for T in sorted(by_T) if method in by_T[T] and by_T[T][method] > 0]
            if pts:
                color, ls, marker = style[method]
                ax.plot(*zip(*pts), ls=ls, marker=marker, color=color, ms=4, label=method)
        ax.axvline(default_T / (2 * cfg["n"]), color="0.8", lw=1, zorder=0)
        ax.set(xscale="log", yscale="log", title=cls, xlabel="storage T/(m+n)")
        ticks = spaced_ticks(sorted(by_T), 1.6)
        ax.set_xticks(ticks, [f"{T:g}" for T in ticks])
        ax.set_xticks([], minor=True)
    for ax in axes.ravel()[len(classes):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("relative excess error")
    legend_under_panels(axes[0, 0], 3)
    fig.suptitle(f"Single-pass fixed-rank approximation, n={cfg['n']}, r={RANK}, R={R_LEADING} "
                 f"(grey line: default k=4r+1, s=2k+1)")
    return finish(fig)
