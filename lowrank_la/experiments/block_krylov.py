"""Reproduction ``block-krylov``: randomized block Krylov against simultaneous iteration (Musco and Musco 2015).

Musco and Musco prove that randomized Block Krylov Iteration gives the ``(1 + eps)`` spectral-norm,
Frobenius-norm and per-vector guarantees of Simultaneous (subspace) Iteration in ``O~(1/sqrt(eps))``
iterations instead of ``O~(1/eps)``, and report that it "performs substantially better experimentally". Their
experiments (Section 7) plot, against the iteration count and the run time, three errors of the rank-k
approximation ``Z Z^T A`` (``Z``: the k computed left singular vectors):

* spectral: ``||A - Z Z^T A||_2 / sigma_{k+1} - 1``;
* Frobenius: ``||A - Z Z^T A||_F / ||A - A_k||_F - 1``;
* per vector: ``max_{i <= k} |sigma_i^2 - z_i^T A A^T z_i| / sigma_{k+1}^2``.

This experiment measures the three against the number of matrix-vector products with ``A`` or ``A^T``,
counted exactly by wrapping ``A`` into a counting ``scipy.sparse.linalg.LinearOperator`` (so the count
includes every product the implementation makes, the final Rayleigh-Ritz step included). Both methods are
``lowrank_la.svd.rsvd``: ``method="subspace"`` with ``oversamples=0`` (block size k, Musco and Musco's
Simultaneous Iteration) for ``n_iter`` in a grid, and ``method="block_krylov"`` with ``block_size=k`` for
``n_iter`` in a smaller grid. The matrices stand in for the paper's sparse term-document and graph data (not
available offline): a sparse matrix with power-law row and column degrees (``datasets.sparse_power_law``),
and a dense matrix with the slowly decaying spectrum ``sigma_j = (j + 1)^{-1/2}`` (small gaps, the hard case
for simultaneous iteration). The exact singular values come from the eigenvalues of ``A^T A``; the spectral norm of the
residual from the largest eigenvalue of its Gram matrix ``A^T A - (A^T Z)(A^T Z)^T`` (Lanczos, tolerance 1e-12).

Simultaneous iteration runs at every ``n_iter`` of its own grid *and of block Krylov's*: with block size k both
methods make ``(2 q + 2) k`` products at ``n_iter = q`` (counted, not assumed), so every block Krylov point has
a simultaneous-iteration point at the same matvec budget. At ``q = 0`` the two are the same algorithm.

The claim is judged by a rule fixed before the run, on the measured median errors over the seeds, for each
matrix and for the per-vector and the spectral error:

* *equal budgets*: at every block Krylov point with ``q >= 1``, its error is strictly below that of simultaneous
  iteration at the same measured matvec count (``q = 0``, the same algorithm, is reported, not judged);
* *equal accuracy*: for each target ``eps`` in {0.1, 0.01}, block Krylov reaches ``eps`` on its grid, with at
  most as many matvecs as simultaneous iteration needs on its (finer and longer) grid (infinite if it never
  gets there); where both first reach ``eps`` at the same count, the equal-budget rule has already required
  block Krylov's error there to be the lower. The ratio of the two counts is reported beside the verdict.

Paper's setting (checked for issue 22, see ``docs/paper_constants.rst``). Only the abstract of the paper could
be read (NeurIPS proceedings page); it confirms the iteration counts ``O~(1/eps)`` for Simultaneous Iteration and
``O~(1/sqrt(eps))`` for Block Krylov, the ``(1 + eps)`` spectral guarantee, "nearly optimal PCA" for both, and
"performs substantially better experimentally". The description of Section 7 above (its data, its ``k``, its
three plotted errors) and the exact per-vector formula are from the spec's memory of the paper and were not
checked against its text; public third-party scripts that reproduce the paper's figures (Block Krylov against
Simultaneous Iteration on 20 Newsgroups) define the same three errors, which corroborates them, not the paper's
own wording. Differences: synthetic stand-ins for the paper's sparse term-document and graph matrices (not
available offline), at most 10000 x 2000 with k = 50 (``full``) and 3000 x 600 with k = 20 (``quick``) so that
the grid runs on two cores; block size ``b = k`` as in the paper's analysis.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from .. import datasets
from .._backend import as_rng, thread_limit
from ._registry import ExperimentResult, pyplot, register
from ._style import finish, legend_under_panels

__all__ = ["run"]

SIZES = {
    "smoke": {"m": 800, "n": 300, "nnz": 8000, "k": 10, "seeds": 2,
              "subspace_iters": [6, 8], "krylov_iters": [0, 1, 2, 3, 4]},
    "quick": {"m": 3000, "n": 600, "nnz": 30000, "k": 20, "seeds": 2,
              "subspace_iters": [8, 12, 16, 24], "krylov_iters": [0, 1, 2, 3, 4, 6]},
    "full": {"m": 10000, "n": 2000, "nnz": 150000, "k": 50, "seeds": 5,
             "subspace_iters": [16, 24, 32], "krylov_iters": [0, 1, 2, 3, 4, 6, 8, 12]},
}
METHODS = ("simultaneous iteration", "block Krylov")
MATRICES = ("sparse power-law", "dense poly-decay (p=1/2)")

# What counts as the claim holding, fixed before looking at the numbers (see the module docstring):
TARGETS = (0.1, 0.01)  # error levels eps at which the matvec counts are compared
JUDGED = ("per_vector", "spectral")  # the errors compared (the Frobenius error is reported)


class _CountingOperator(scipy.sparse.linalg.LinearOperator):
    """``A`` as a LinearOperator that counts the vectors it is multiplied with (``A`` and ``A^T`` alike)."""

    def __init__(self, A):
        super().__init__(dtype=A.dtype, shape=A.shape)
        self.A = A
        self.matvecs = 0

    def _matvec(self, x):
        self.matvecs += 1
        return self.A @ x

    def _rmatvec(self, y):
        self.matvecs += 1
        return self.A.T @ y

    def _matmat(self, X):
        self.matvecs += X.shape[1]
        return np.asarray(self.A @ X)

    def _rmatmat(self, Y):
        self.matvecs += Y.shape[1]
        return np.asarray(self.A.T @ Y)


def _matrices(cfg, gen):
    m, n = cfg["m"], cfg["n"]
    sparse = datasets.sparse_power_law(m, n, nnz=cfg["nnz"], exponent=2.0, rng=gen)
    dense = datasets.matrix_with_spectrum(m, n, datasets.spectrum("polynomial", n, power=0.5), rng=gen)
    out = {}
    for name, A in zip(MATRICES, (sparse, dense)):
        Ad = A.toarray() if scipy.sparse.issparse(A) else A
        gram = Ad.T @ Ad
        # sigma_i^2 are the eigenvalues of the Gram matrix (absolute error ~ eps sigma_1^2: ample here)
        sigma = np.sqrt(np.maximum(scipy.linalg.eigvalsh(gram, check_finite=False)[::-1], 0.0))
        out[name] = {"A": A, "gram": gram, "sigma": sigma, "fro2": float(np.sum(Ad**2))}
    return out


def _largest_eigenvalue(G):
    """Largest eigenvalue of the symmetric `G` by Lanczos (ARPACK), to near machine precision."""
    v0 = np.ones(G.shape[0]) / math.sqrt(G.shape[0])
    return float(scipy.sparse.linalg.eigsh(G, k=1, which="LA", tol=1e-12, v0=v0, return_eigenvectors=False)[0])


def _errors(problem, U, k):
    """The three errors of Musco and Musco for the rank-k basis ``Z = U[:, :k]``."""
    A, gram, sigma = problem["A"], problem["gram"], problem["sigma"]
    Z = np.asarray(U[:, :k], dtype=np.float64)
    W = np.asarray(A.T @ Z)  # (n, k): A^T z_i
    sigma_k1 = sigma[k]
    residual_gram = gram - W @ W.T  # (A - ZZ^T A)^T (A - ZZ^T A) for orthonormal Z
    spectral = math.sqrt(max(_largest_eigenvalue(residual_gram), 0.0))
    fro = math.sqrt(max(problem["fro2"] - float(np.sum(W**2)), 0.0))
    optimal_fro = math.sqrt(float(np.sum(sigma[k:] ** 2)))
    rayleigh = np.sum(W**2, axis=0)  # z_i^T A A^T z_i, in the order of the computed singular values
    return {
        "spectral": spectral / sigma_k1 - 1,
        "frobenius": fro / optimal_fro - 1,
        "per_vector": float(np.max(np.abs(sigma[:k] ** 2 - rayleigh)) / sigma_k1**2),
    }


def _grids(cfg):
    """The n_iter grids: simultaneous iteration's beyond block Krylov's, and every block Krylov one."""
    return sorted(set(cfg["subspace_iters"]) | set(cfg["krylov_iters"])), cfg["krylov_iters"]


def _cases(cfg):
    for name in MATRICES:
        for method, iters in zip(METHODS, _grids(cfg)):
            for q in iters:
                for seed in range(cfg["seeds"]):
                    yield name, method, q, seed


@register("block-krylov",
          paper="Musco, Musco, 'Randomized Block Krylov Methods for Stronger and Faster Approximate Singular "
                "Value Decomposition', NeurIPS 2015 (arXiv:1504.05477)",
          claim="Block Krylov Iteration gives Simultaneous Iteration's (1 + eps) spectral and per-vector "
                "guarantees in O~(1/sqrt(eps)) instead of O~(1/eps) iterations and performs substantially better "
                "experimentally: it reaches a given error with fewer matrix-vector products")
def run(size="quick", rng=0, progress=None):
    """Measure error against matvecs for both methods; see the module docstring."""
    from ..svd import rsvd

    cfg = SIZES[size]
    k = cfg["k"]
    gen = as_rng(rng)
    problems = _matrices(cfg, gen)
    seeds = gen.integers(2**31, size=cfg["seeds"])
    cases = list(_cases(cfg))
    rows = []
    with thread_limit(1):  # tiny LAPACK calls dominate: one thread is faster, and steadier on a busy machine
        for name, method, q, seed in progress(cases, total=len(cases), desc="block-krylov"):
            op = _CountingOperator(problems[name]["A"])
            start = time.perf_counter()
            if method == "block Krylov":
                U, s, Vh = rsvd(op, k, method="block_krylov", block_size=k, n_iter=q, rng=int(seeds[seed]))
            else:
                U, s, Vh = rsvd(op, k, method="subspace", oversamples=0, n_iter=q, rng=int(seeds[seed]))
            seconds = time.perf_counter() - start
            rows.append({"matrix": name, "method": method, "n_iter": q, "seed": seed, "k": k,
                         "matvecs": op.matvecs, "seconds": seconds, **_errors(problems[name], U, k)})
    held, summary = _judge(rows, cfg)
    return ExperimentResult(table=rows, claim_held=held, summary=summary, figure=_figure(rows))


def _curves(rows):
    """Per matrix and method: (matvecs, median errors) per n_iter, in order of matvecs."""
    out = {}
    for name in MATRICES:
        for method in METHODS:
            cell = [r for r in rows if r["matrix"] == name and r["method"] == method]
            points = []
            for q in sorted({r["n_iter"] for r in cell}):
                at_q = [r for r in cell if r["n_iter"] == q]
                points.append({"n_iter": q, "matvecs": int(np.median([r["matvecs"] for r in at_q])),
                               **{e: float(np.median([r[e] for r in at_q]))
                                  for e in ("spectral", "frobenius", "per_vector")}})
            out[name, method] = sorted(points, key=lambda p: p["matvecs"])
    return out


def _matvecs_to_reach(points, error, eps):
    reached = [p["matvecs"] for p in points if p[error] <= eps]
    return min(reached) if reached else math.inf


def _judge(rows, cfg):
    curves = _curves(rows)
    held = True
    lines = []
    for name in MATRICES:
        bk_points, si_points = curves[name, "block Krylov"], curves[name, "simultaneous iteration"]
        si_at = {p["matvecs"]: p for p in si_points}
        parts = []
        for error in JUDGED:
            budget = []
            for p in bk_points:
                if p["n_iter"] == 0:
                    continue
                si = si_at.get(p["matvecs"])
                ok = si is not None and p[error] < si[error]
                held &= ok
                budget.append(f"{p['matvecs']}: {p[error]:.2g} vs " + (f"{si[error]:.2g}" if si else "absent")
                              + ("" if ok else " FAILS"))
            parts.append(f"{error} at equal matvecs (BK vs SI) " + ", ".join(budget))
            for eps in TARGETS:
                bk = _matvecs_to_reach(bk_points, error, eps)
                si = _matvecs_to_reach(si_points, error, eps)
                ok = math.isfinite(bk) and bk <= si
                held &= ok
                ratio = f"{bk / si:.2f}" if math.isfinite(si) and math.isfinite(bk) else "-"
                parts.append(f"{error} <= {eps:g}: BK {bk}, SI {si} (BK/SI {ratio}){'' if ok else ' FAILS'}")
        lines.append(f"{name}: " + "; ".join(parts))
    summary = (f"k={cfg['k']}, block size k for both methods, {cfg['seeds']} seeds, {cfg['m']}x{cfg['n']} "
               f"matrices; median errors at equal matvec budgets (products with A or A^T, Rayleigh-Ritz included; "
               f"q >= 1), and the matvecs needed for the median error to reach eps. Claim "
               f"{'held' if held else 'did NOT hold'} (rule: block Krylov strictly more accurate at every equal "
               f"budget, and reaching every eps with at most simultaneous iteration's matvecs).\n\n"
               + "\n".join(f"- {line}" for line in lines))
    return held, summary


def _figure(rows):
    plt = pyplot()
    if plt is None:
        return None
    curves = _curves(rows)
    errors = ("per_vector", "spectral", "frobenius")
    fig, axes = plt.subplots(len(MATRICES), len(errors), figsize=(13, 7), squeeze=False)
    for i, name in enumerate(MATRICES):
        for j, error in enumerate(errors):
            ax = axes[i][j]
            for method, marker in zip(METHODS, "os"):
                points = curves[name, method]
                ax.plot([p["matvecs"] for p in points], [max(p[error], 1e-16) for p in points], marker + "-",
                        label=method)
            for eps in TARGETS:
                ax.axhline(eps, color="gray", lw=0.7, ls=":")
            ax.set(yscale="log", xlabel="matvecs with A or A^T", ylabel=f"{error.replace('_', '-')} error",
                   title=name)
    legend_under_panels(axes[0][0], len(METHODS))
    return finish(fig)
