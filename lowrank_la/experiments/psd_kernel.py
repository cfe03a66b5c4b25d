"""Reproductions ``rpcholesky`` and ``nystrom-pcg``: kernel matrices.

``rpcholesky`` (Chen, Epperly, Tropp, Webber): randomly pivoted Cholesky with ``k`` columns has a trace-norm error
within a small factor of the best rank-r error, and beats uniform column sampling on a kernel with outliers and
greedy pivoting on one with clusters. Data, Gaussian kernel ``exp(-|x - y|^2 / 2)``: "outliers", the authors'
gallery matrix (points ``0.5 N(0, I_20) / sqrt(20)``, of which ``n_out`` are moved by ``100 N(0, I_20)``), and
"clusters", one wide cluster (``3 N(0, I_2)``) with ``n_clusters`` tiny far-apart clusters of three points each
(centres uniform in ``[-200, 200]^2``, spread 0.05). The errors are ``tr(A - F F^T)`` (exact, from the residual
diagonal), means over the seeds; the best rank-r errors come from the eigenvalues (LAPACK). Rule, fixed before the
numbers were looked at, in every cell of the grid of ``k``:

* near-optimal: RPCholesky's mean error is at most twice the best rank-r error for the largest ``r`` with
  ``r (1 + ln(1 / eta_r)) <= k`` (``eta_r``: the best rank-r error over the trace; the paper's bound
  ``k >= r / eps + r log(1 / (eps eta))`` with ``eps = 1``), on both data sets;
* "clusters": RPCholesky's mean error is below greedy pivoting's at every ``k``;
* "outliers": RPCholesky's mean error is below uniform sampling's at every ``k >= 2 n_out`` (fewer columns than
  outliers cannot cover them whatever the rule; the smaller ``k`` are reported, not judged).

``nystrom-pcg`` (Frangella, Tropp, Udell 2023): with the Nystrom preconditioner the number of CG iterations is
nearly independent of the condition number, where plain CG's grows with it. Kernel ridge regression: an RBF kernel
matrix of points uniform in ``[0, 1]^3`` (bandwidth 0.2), ``(K + mu I) x = y`` with ``mu = 10^-j ||K||_2`` for ``j``
in a grid, solved to relative residual 1e-8 by :func:`lowrank_la.psd.nystrom_pcg` (adaptive rank) and by
``scipy.sparse.linalg.cg``. Rule, fixed in advance: the largest PCG iteration count over the grid is at most 2.5
times the smallest, while CG's is at least 5 times its smallest.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). ``rpcholesky``: the abstract confirms
"(k+1)N entry evaluations and O(k^2 N) additional arithmetic operations" and near-optimality, but the theorem
with ``k >= r / eps + r log(1 / (eps eta))`` could not be read, so the near-optimal rule above rests on the
spec's memory of it. ``nystrom-pcg``: the abstract confirms "constant condition number as soon as the rank of the
approximation is comparable with the number of effective degrees of freedom"; the preconditioner's formula is
corroborated by public code and a third-party report, not by the text, and the kernel ridge regression sizes here
(n = 1500 at ``quick``) are ours. The stabilising Nystrom shift starts at the XTrace code's ``eps ||Y||_F /
sqrt(n)`` and may grow to the ``sqrt(n) eps ||Y||`` of public implementations of Tropp et al. (2017).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from .._backend import as_rng, thread_limit
from ._registry import ExperimentResult, pyplot, register
from ._style import finish

__all__ = ["run_pcg", "run_rpcholesky"]

RPC_SIZES = {
    "smoke": {"n": 500, "n_out": 20, "n_clusters": 30, "ks": [40, 80], "seeds": 3},
    "quick": {"n": 1500, "n_out": 50, "n_clusters": 60, "ks": [25, 50, 100, 150, 200], "seeds": 5},
    "full": {"n": 6000, "n_out": 50, "n_clusters": 100, "ks": [25, 50, 100, 150, 200, 300, 400], "seeds": 20},
}
METHODS = ("rp", "greedy", "uniform")

PCG_SIZES = {
    "smoke": {"n": 500, "js": [1, 3], "tol": 1e-8},
    "quick": {"n": 1500, "js": [1, 2, 3, 4, 5], "tol": 1e-8},
    "full": {"n": 8000, "js": [1, 2, 3, 4, 5, 6], "tol": 1e-8},
}
PCG_FLAT, CG_GROWTH = 2.5, 5.0  # the rule (see the module docstring)


def _rbf(X, Y, bandwidth=1.0):
    sq = np.sum(X**2, 1)[:, None] + np.sum(Y**2, 1)[None, :] - 2 * X @ Y.T
    return np.exp(-np.maximum(sq, 0.0) / (2 * bandwidth**2))


def datasets(cfg, gen):
    """The "outliers" and "clusters" point sets of the rpcholesky reproduction."""
    n = cfg["n"]
    X = 0.5 * gen.standard_normal((n, 20)) / math.sqrt(20)
    X[gen.choice(n, cfg["n_out"], replace=False)] += 100 * gen.standard_normal((cfg["n_out"], 20))
    c = cfg["n_clusters"]
    tiny = np.repeat(gen.uniform(-200, 200, (c, 2)), 3, axis=0) + 0.05 * gen.standard_normal((3 * c, 2))
    return {"outliers": X, "clusters": np.vstack([3 * gen.standard_normal((n - 3 * c, 2)), tiny])}


def _best_rank(best, trace, k):
    """The largest r with r (1 + ln(1 / eta_r)) <= k, or 0."""
    r_ok = 0
    for r in range(1, k + 1):
        eta = best[r] / trace
        if eta <= 0 or r * (1 + math.log(1 / eta)) > k:
            break
        r_ok = r
    return r_ok


@register("rpcholesky",
          paper="Chen, Epperly, Tropp, Webber, 'Randomly pivoted Cholesky: practical approximation of a kernel "
                "matrix with few entry evaluations', Comm. Pure Appl. Math. (2024) (arXiv:2207.06503)",
          claim="RPCholesky with k columns has a trace-norm error within a small factor of the best rank-r error "
                "(k >= r + r log(1/eta)), and beats uniform sampling on a kernel with outliers and greedy pivoting "
                "on one with clusters")
def run_rpcholesky(size="quick", rng=0, progress=None):
    """Trace-norm errors of RPCholesky, greedy and uniform pivoting; see the module docstring."""
    from ..psd import rpcholesky

    cfg = RPC_SIZES[size]
    gen = as_rng(rng)
    seeds = gen.integers(2**31, size=cfg["seeds"])
    data = datasets(cfg, gen)
    rows = []
    with thread_limit(1):
        for name, X in progress(list(data.items()), total=len(data), desc="rpcholesky"):
            K = _rbf(X, X)
            lam = np.maximum(scipy.linalg.eigvalsh(K, check_finite=False)[::-1], 0.0)
            best = np.concatenate([np.cumsum(lam[::-1])[::-1], [0.0]])  # best[r] = sum_{j > r} lambda_j
            trace = float(np.trace(K))
            for k in cfg["ks"]:
                r = _best_rank(best, trace, k)
                for method in METHODS:
                    for s in range(cfg["seeds"]):
                        res = rpcholesky(K, k, method=method, rng=int(seeds[s]))
                        rows.append({"data": name, "method": method, "k": k, "seed": s,
                                     "trace_error": res.residual_trace, "best_rank_k": float(best[k]),
                                     "r": r, "best_rank_r": float(best[r]) if r else math.nan,
                                     "n_entries": res.n_entries})
    held, lines = True, []
    for name in data:
        parts = []
        for k in cfg["ks"]:
            mean = {m: float(np.mean([row["trace_error"] for row in rows if row["data"] == name
                                      and row["method"] == m and row["k"] == k])) for m in METHODS}
            cell = next(row for row in rows if row["data"] == name and row["k"] == k)
            ok = True
            if cell["r"]:
                ok &= mean["rp"] <= 2 * cell["best_rank_r"]
            if name == "clusters":
                ok &= mean["rp"] < mean["greedy"]
            elif k >= 2 * cfg["n_out"]:
                ok &= mean["rp"] < mean["uniform"]
            held &= ok
            opt = f"{mean['rp'] / cell['best_rank_r']:.2f}x best rank-{cell['r']}" if cell["r"] else "no r qualifies"
            parts.append(f"k={k}: rp {mean['rp']:.3g} ({opt}, {mean['rp'] / cell['best_rank_k']:.2f}x best "
                         f"rank-k), greedy {mean['greedy']:.3g}, uniform {mean['uniform']:.3g}"
                         f"{'' if ok else ' FAILS'}")
        lines.append(f"{name}: " + "; ".join(parts))
    summary = (f"n = {cfg['n']}, {cfg['seeds']} seeds, mean trace-norm errors tr(A - F F^T). Claim "
               f"{'held' if held else 'did NOT hold'} (rule in the module docstring; outliers judged against "
               f"uniform at k >= {2 * cfg['n_out']}).\n\n" + "\n".join(f"- {line}" for line in lines))
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_rpc_figure(rows))


def _rpc_figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    names = list(dict.fromkeys(r["data"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for ax, name in zip(axes[0], names):
        cell = [r for r in rows if r["data"] == name]
        ks = sorted({r["k"] for r in cell})
        for method, marker in zip(METHODS, "os^"):
            ax.plot(ks, [np.mean([r["trace_error"] for r in cell if r["method"] == method and r["k"] == k])
                         for k in ks], marker + "-", label=method)
        ax.plot(ks, [next(r["best_rank_k"] for r in cell if r["k"] == k) for k in ks], "k:", label="best rank k")
        ax.set(yscale="log", xlabel="k (columns)", ylabel="trace-norm error", title=name)
        ax.legend()
    return finish(fig)


@register("nystrom-pcg",
          paper="Frangella, Tropp, Udell, 'Randomized Nystrom preconditioning', SIAM J. Matrix Anal. Appl. 44 (2023) "
                "(arXiv:2110.02820)",
          claim="with the randomized Nystrom preconditioner, CG's iteration count for (A + mu I) x = b is nearly "
                "independent of the condition number, where plain CG's grows with it (kernel ridge regression)")
def run_pcg(size="quick", rng=0, progress=None):
    """Iterations of Nystrom PCG and CG over a range of mu; see the module docstring."""
    from ..psd import nystrom_pcg

    cfg = PCG_SIZES[size]
    gen = as_rng(rng)
    X = gen.uniform(0, 1, (cfg["n"], 3))
    y = np.sin(4 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * gen.standard_normal(cfg["n"])
    K = _rbf(X, X, bandwidth=0.2)
    norm = float(scipy.sparse.linalg.eigsh(K, k=1, return_eigenvectors=False)[0])
    rows = []
    with thread_limit(1):
        for j in progress(cfg["js"], total=len(cfg["js"]), desc="nystrom-pcg"):
            mu = norm * 10.0**-j
            res = nystrom_pcg(K, y, mu, tol=cfg["tol"], rng=int(gen.integers(2**31)))
            count = _Counter()
            scipy.sparse.linalg.cg(K + mu * np.eye(cfg["n"]), y, rtol=cfg["tol"], maxiter=20 * cfg["n"],
                                   callback=count)
            x = np.linalg.solve(K + mu * np.eye(cfg["n"]), y)
            rows.append({"mu_over_norm": 10.0**-j, "condition": (norm + mu) / mu, "pcg_iterations": res.n_iter,
                         "pcg_rank": res.rank, "pcg_converged": res.converged, "cg_iterations": count.calls,
                         "pcg_solution_error": float(np.linalg.norm(res.x - x) / np.linalg.norm(x))})
    pcg = [r["pcg_iterations"] for r in rows]
    cg = [r["cg_iterations"] for r in rows]
    pcg_ratio, cg_ratio = max(pcg) / max(min(pcg), 1), max(cg) / max(min(cg), 1)
    held = pcg_ratio <= PCG_FLAT and cg_ratio >= CG_GROWTH and all(r["pcg_converged"] for r in rows)
    summary = (f"n = {cfg['n']}, RBF kernel (bandwidth 0.2) on points in [0, 1]^3, relative residual {cfg['tol']:g}. "
               f"PCG iterations {pcg} (ranks {[r['pcg_rank'] for r in rows]}; max/min {pcg_ratio:.2f}, rule <= "
               f"{PCG_FLAT}); CG iterations {cg} (max/min {cg_ratio:.1f}, rule >= {CG_GROWTH}) for mu/||K|| = "
               f"{[r['mu_over_norm'] for r in rows]}. Claim {'held' if held else 'did NOT hold'}.")
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_pcg_figure(rows))


class _Counter:
    """A callback that counts its calls (CG iterations)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, _):
        self.calls += 1


def _pcg_figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5, 3.6))
    cond = [r["condition"] for r in rows]
    ax.plot(cond, [r["pcg_iterations"] for r in rows], "o-", label="Nystrom PCG")
    ax.plot(cond, [r["cg_iterations"] for r in rows], "s-", label="CG")
    ax.set(xscale="log", yscale="log", xlabel="cond(K + mu I)", ylabel="iterations to 1e-8")
    ax.legend()
    return finish(fig)
