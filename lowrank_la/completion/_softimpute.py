"""Soft-impute (Mazumder, Hastie and Tibshirani, JMLR 2010): nuclear-norm regularised completion.

Each step replaces the missing entries by the current model and shrinks the singular values of the filled matrix:

    Z <- S_lam(P_Omega(M) + P_Omega^perp(Z)) = S_lam(P_Omega(M - Z) + Z),     S_lam: s_i -> max(s_i - lam, 0)

The filled matrix is "sparse plus low rank": a sparse matrix of the residuals on the observed entries plus the
factored model ``U diag(s) V^T``. Its truncated SVD is computed by :func:`lowrank_la.rsvd` through a
``scipy.sparse.linalg.LinearOperator`` whose products cost ``O(|Omega| l + (m + n) r l)``: nothing of size m x n
is ever formed.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._kernels.completion import sampled_product
from ._altmin import STALL
from ._observations import Observations

__all__: list[str] = []

POWER_ITER = 2  # power iterations of each step's randomized SVD
RANK_STEP = 8  # extra singular triplets computed beyond the model's current rank


def sparse_plus_low_rank(obs: Observations, resid, U, s, V) -> LinearOperator:
    """The operator ``P_Omega(resid) + U diag(s) V^T`` with block products (the rows of `obs` are sorted)."""
    S = sp.csr_array((resid, obs.by_row.idx, obs.by_row.indptr), shape=obs.shape)
    St = S.T.tocsr()
    Us = U * s

    def matmat(X):
        X = X.reshape(X.shape[0], -1)
        return S @ X + Us @ (V.T @ X)

    def rmatmat(Y):
        Y = Y.reshape(Y.shape[0], -1)
        return St @ Y + V @ (Us.T @ Y)

    return LinearOperator(obs.shape, matvec=matmat, rmatvec=rmatmat, matmat=matmat, rmatmat=rmatmat,
                          dtype=resid.dtype)


def _relative_change(U0, s0, V0, U1, s1, V1) -> float:
    """``||Z1 - Z0||_F / ||Z0||_F`` of two factored models, from r x r Gram matrices (``O((m + n) r^2)``)."""
    norm0 = float(np.sum(s0**2))
    if norm0 == 0.0:
        return math.inf if np.any(s1) else 0.0
    cross = float(np.sum((s0[:, None] * (U0.T @ U1)) * ((V0.T @ V1) * s1[None, :]))) if s0.size and s1.size else 0.0
    return math.sqrt(max(norm0 + float(np.sum(s1**2)) - 2 * cross, 0.0) / norm0)


def softimpute_fit(obs: Observations, lam, U, s, V, *, max_rank, n_iter, tol, gen, offsets=None, holdout=None,
                   patience=3, stall_tol=STALL):
    """Soft-impute iterations at the threshold `lam` from the model ``U diag(s) V^T`` (``U``, ``V`` orthonormal).

    `offsets` (copied), when given, get one sweep after each step (block coordinate descent on the joint
    objective). Stops when the model changes by less than `tol` (relative, Frobenius) or its objective by less
    than `stall_tol` (relative, twice in a row), at the best held-out error of `holdout` (``patience`` iterations
    without improvement) or after `n_iter` steps. The rank is at most `max_rank`; each step computes
    ``RANK_STEP`` triplets beyond the current rank, so that the rank can grow. Returns a dict ``U, s, V,
    offsets, converged, n_iter, history, stop, holdout_error``.
    """
    from ..svd import rsvd

    dtype = obs.vals.dtype
    m, n = obs.shape
    rows, cols = obs.rows, obs.cols
    offsets = offsets.copy() if offsets is not None else None
    history: dict[str, list] = {"residual": [], "change": []}
    if holdout is not None:
        history["holdout"] = []
    vals = obs.vals.astype(np.float64)
    norm_vals = float(np.linalg.norm(vals)) or 1.0

    def model_at(U, s, V):
        if not s.shape[0]:
            return np.zeros(obs.nnz)
        return sampled_product(np.ascontiguousarray(U * s), np.ascontiguousarray(V, dtype=np.float64), rows, cols)

    def snapshot(U, s, V):
        return U, s, V, (offsets.copy() if offsets is not None else None)

    model = model_at(U, s, V)
    best = (math.inf, snapshot(U, s, V), 0)
    converged, stop, it = False, "n_iter", 0
    objective, flat = math.inf, 0
    for it in range(1, n_iter + 1):
        resid = vals - model - (offsets.at(rows, cols) if offsets is not None else 0.0)
        target = min(max_rank + 1, min(m, n), s.shape[0] + RANK_STEP)
        op = sparse_plus_low_rank(obs, resid.astype(dtype), U, s.astype(dtype), V)
        U1, s1, Vh1 = rsvd(op, target, n_iter=POWER_ITER, flip_sign=False, rng=gen)
        s1 = np.maximum(np.asarray(s1, dtype=np.float64) - lam, 0.0)
        keep = min(int(np.count_nonzero(s1)), max_rank)
        U1, s1, V1 = np.ascontiguousarray(U1[:, :keep]), s1[:keep], np.ascontiguousarray(Vh1[:keep].T)
        change = _relative_change(U, s, V, U1, s1, V1)
        U, s, V = U1, s1, V1
        model = model_at(U, s, V)
        if offsets is not None:
            offsets.fit(obs, model)
        resid = vals - model - (offsets.at(rows, cols) if offsets is not None else 0.0)
        residual = float(np.linalg.norm(resid))
        history["residual"].append(residual / norm_vals)
        history["change"].append(change)
        if holdout is not None:
            err = holdout.rmse(U * s, V, offsets)
            history["holdout"].append(err)
            if err < best[0] * (1 - 1e-4):
                best = (err, snapshot(U, s, V), it)
            elif it - best[2] >= patience:
                stop = "holdout"
                U, s, V, offsets = best[1]
                break
        if change <= tol:
            converged, stop = True, "tol"
            break
        value = residual**2 + 2 * lam * float(np.sum(s)) + (offsets.penalty() if offsets is not None else 0.0)
        flat = flat + 1 if value > objective * (1 - stall_tol) else 0
        objective = value
        if flat >= 2:
            converged, stop = True, "stationary"
            break
    if holdout is not None and stop != "holdout" and best[2] and best[0] < holdout.rmse(U * s, V, offsets):
        U, s, V, offsets = best[1]
    return {"U": U, "s": s, "V": V, "offsets": offsets, "converged": converged, "n_iter": it, "history": history,
            "stop": stop, "holdout_error": best[0] if holdout is not None else None, "best_iter": best[2]}
