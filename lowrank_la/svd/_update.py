"""Updating a truncated SVD as rows, columns or low-rank edits arrive (Zha-Simon, GKL, RPI; Deng et al.).

The updater keeps ``A_k = U diag(s) V^T`` of an evolving matrix. Each update is the exact (``"zha-simon"``) or
approximate (``"gkl"``, ``"rpi"``) truncated SVD of the *previous approximation* plus the update, as in Zha and
Simon. Two forms of every method:

* the dense baseline (``sparse_path=False``): ``U`` and ``V`` are stored explicitly and rotated at every update,
  ``O((m + n) k^2)`` per update;
* the sparse-aware form of Deng et al. (``sparse_path=True``): the extended decomposition ``U = U' U''``,
  ``V = V' V''`` with small ``k x k`` factors ``U''`` and ``V''``, and the residual of the update against the
  current subspace kept as pairs ``x = b - V c`` ("sparse vector minus a linear combination of orthonormal
  vectors", SV-LCOV) with ``b`` supported on the rows the update touches. Nothing is proportional to ``m`` or
  ``n``: an update of ``s`` rows touching ``t`` columns costs ``O((t + k)(k + s)^2 + (k + s)^3)``.

A dense block wide against the space (``k + s + 1 >= DIRECT_WIDTH * n``) with the exact method takes the direct
update instead: one dense SVD of the stacked rows in the coordinates of the space, as scikit-learn's
``IncrementalPCA`` (``TruncatedSVDUpdater._append_direct``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._backend import SVDResult, as_rng, flip_signs, one_blas_thread, svd_small, working_dtype
from .._backend.storage import ArrayField, ConfigField, generator_state, read_state
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_rank,
    check_real,
    check_shape_agrees,
    is_dask,
    is_linear_operator,
    is_sparse,
    refuse_random_state,
)
from ._update_generic import check_factors, zha_simon_update

__all__ = ["SVD_UPDATE_METHODS", "TruncatedSVDUpdater", "svd_update"]

#: The update methods: exact small-SVD update, Golub-Kahan-Lanczos, randomized power iteration.
SVD_UPDATE_METHODS = ("zha-simon", "gkl", "rpi")

#: A dense block of ``s`` new rows (columns) is appended by the direct update (one dense SVD in the coordinates of
#: the space, as scikit-learn's IncrementalPCA) when ``k + s + 1 >= DIRECT_WIDTH * n`` (``m``), see
#: ``TruncatedSVDUpdater._direct``; ``math.inf`` turns it off.
DIRECT_WIDTH = 1 / 3

#: Version 2 added centring (``center``, ``mean``); version-1 files load as uncentred updaters.
_STATE_VERSION = 2


# --------------------------------------------------------------------------- vectors in two representations

class _Space:
    """Blocks of vectors of R^dim, stored as tuples of arrays with one column per vector.

    Dense space: ``(X,)`` with ``X`` (dim, p). Pair space (SV-LCOV): ``(B, C)`` with ``B`` (t, p) the values on
    the ``t`` touched rows and ``C`` (k, p), standing for ``B_full - W C`` where ``W`` is the current orthonormal
    factor and ``C = W^T B_full``; inner products are then ``B1^T B2 - C1^T C2``.
    """

    def __init__(self, signs, W=None, touched=None):
        self.signs = signs
        self.W = W  # dense space: the explicit factor, for the re-projection pass
        self.touched = touched  # pair space: (W'[rows], K), the factor on the touched rows being W'[rows] K

    def inner(self, X, Y):
        out = X[0].T @ Y[0]
        for sign, a, b in zip(self.signs[1:], X[1:], Y[1:]):
            out = out + sign * (a.T @ b)
        return out

    def sqnorms(self, X):
        out = np.einsum("ij,ij->j", X[0], X[0])
        for sign, a in zip(self.signs[1:], X[1:]):
            out = out + sign * np.einsum("ij,ij->j", a, a)
        return out

    @staticmethod
    def scales(X):
        """Unsigned column scale ``sum_i ||X_i[:, j]||^2``: the size of the rounding error of ``sqnorms``."""
        return sum(np.einsum("ij,ij->j", a, a) for a in X)

    @staticmethod
    def combine(X, Wt):
        return tuple(a @ Wt for a in X)

    @staticmethod
    def sub(X, Y):
        return tuple(a - b for a, b in zip(X, Y))

    @staticmethod
    def scale(X, w):
        return tuple(a * w for a in X)

    @staticmethod
    def columns(X, sl):
        return tuple(a[:, sl] for a in X)

    def gram_factor(self, X):
        """A matrix ``M`` with ``M^T M = inner(X, X)`` and fewer rows than `X` has columns, or None.

        Dense space: ``X`` itself, when it has fewer rows (``dim``) than columns. Pair space, for pairs whose ``C``
        is ``W^T B_full`` (as :meth:`project_out_factor` leaves them): with ``W_r`` the factor's rows on the touched
        rows, ``inner(X, X) = B^T (I - W_r W_r^T) B``, so ``M = (I - W_r W_r^T)^{1/2} B`` (t rows), from the SVD
        of ``W_r`` (its singular values are at most one, ``W`` being orthonormal)."""
        s = X[0].shape[1]
        if len(X) == 1:
            return X[0] if X[0].shape[0] < s else None
        if self.touched is None or X[0].shape[0] >= s:
            return None
        Wt, K = self.touched
        Uw, sw, _ = np.linalg.svd(Wt @ K, full_matrices=False)
        shrink = (1 - np.sqrt(np.clip(1 - sw * sw, 0, None))).astype(X[0].dtype, copy=False)
        return X[0] - Uw @ (shrink[:, None] * (Uw.T @ X[0]))

    def project_out_factor(self, X):
        """``X - W (W^T X)``. Pair space: ``C`` recomputed as ``W^T B_full = K^T W'[rows]^T B`` (the same
        projection, as the pair stands for ``B_full - W C``), which clears the rounding of ``C`` that an
        orthonormalisation of nearly dependent vectors would amplify."""
        if self.W is not None:
            return (X[0] - self.W @ (self.W.T @ X[0]),)
        if self.touched is not None:
            Wt, K = self.touched
            return (X[0], K.T @ (Wt.T @ X[0]))
        return X


def _gram_schmidt(space, X, tau, refs=None):
    """Orthonormal basis of the range of the columns of `X`: block classical Gram-Schmidt, twice (BCGS2).

    Each pass projects the block against the current factor (:meth:`_Space.project_out_factor`) and
    orthonormalises it within itself from its Gram matrix ``G = V diag(lam) V^T`` (SVQB, Stathopoulos and Wu
    2002): ``X <- X V_r diag(lam_r)^{-1/2}`` over the eigenvalues ``lam_r > tau``. The columns are first scaled
    to about unit reference norm (their unsigned scale, or `refs`, within a factor 2: by a power of two, which
    rounds nothing; a column of zero scale is dropped), so a direction is dependent and dropped when its energy
    is at most about `tau` times that of a column on entry; a negative eigenvalue (cancellation in
    ``b^T b - c^T c``) counts as zero. One pass leaves an orthogonality error of about ``eps cond(X)^2`` (below
    1/100 for the directions kept) and lets the factor's share of ``X`` grow by ``cond(X)``; the second pass
    brings both to ``eps`` ("twice is enough"). Every step is a block product, an ``s x s`` Gram matrix and its
    eigendecomposition: ``O((dim + k) s^2 + s^3)``; a block wider than the space it lies in (``s`` above the
    rows of :meth:`_Space.gram_factor`'s ``M``, ``dim`` or the touched rows) takes the eigenpairs of ``G = M^T M``
    from the smaller ``M M^T`` instead (``V = M^T U diag(lam)^{-1/2}``): ``O(t^2 s + t^3)``. Returns the basis
    block (p <= s columns).
    """
    dtype = X[0].dtype
    if refs is None:
        refs = space.scales(X)
    live = np.flatnonzero(refs > 0)
    X = space.scale(space.columns(X, live), np.exp2(-np.round(0.5 * np.log2(refs[live]))).astype(dtype))
    for _ in range(2):
        X = space.project_out_factor(X)
        M = space.gram_factor(X)
        if M is None:
            lam, V = np.linalg.eigh(space.inner(X, X))
            keep = lam > tau
            X = space.combine(X, (V[:, keep] / np.sqrt(lam[keep])).astype(dtype, copy=False))
        else:  # a block wider than its space: the eigenpairs of G = M^T M from the smaller M M^T = U diag(lam) U^T
            lam, U = np.linalg.eigh(M @ M.T)
            keep = lam > tau
            X = space.combine(X, ((M.T @ U[:, keep]) / lam[keep]).astype(dtype, copy=False))  # V lam^{-1/2}
    return tuple(np.ascontiguousarray(a) for a in X)


class _Residual:
    """The update's component orthogonal to the current factor, ``X = (I - W W^T) Y`` (dim x s), as an operator.

    ``block`` is X itself in the space's representation (pairs: free; dense: formed only when the exact method
    asks for it), ``apply(y) = X y`` and ``apply_t(P) = X^T P`` are matrix-free.
    """

    def __init__(self, space, Y, C, refs, W=None, pairs=None):
        self.space, self.Y, self.C, self.W, self.pairs, self.refs = space, Y, C, W, pairs, refs
        self.s = C.shape[1]
        self.dtype = C.dtype
        self.Bt = None if pairs is None else pairs[0].T  # once: a sparse transpose is a new object per call

    def block(self):
        if self.pairs is not None:
            B, C = self.pairs
            return (B.toarray() if is_sparse(B) else B, C)
        Yd = self.Y.toarray() if is_sparse(self.Y) else np.asarray(self.Y)
        return (Yd.astype(self.dtype, copy=False) - self.W @ self.C,)

    def apply(self, y):
        if self.pairs is not None:
            return (np.asarray(self.pairs[0] @ y), self.pairs[1] @ y)
        return (np.asarray(self.Y @ y) - self.W @ (self.C @ y),)

    def apply_t(self, P):
        if self.pairs is not None:
            return np.asarray(self.Bt @ P[0]) - self.pairs[1].T @ P[1]
        return np.asarray(self.Y.T @ P[0]) - self.C.T @ (self.W.T @ P[0])


def _basis(res, method, l, n_power, gen, tau):
    """Orthonormal basis Q of (the dominant part of) the range of the residual, by `method`."""
    space = res.space
    if method == "zha-simon":
        return _gram_schmidt(space, res.block(), tau, res.refs)
    width = min(l, res.s)
    if method == "rpi":
        omega = gen.standard_normal((res.s, width)).astype(res.dtype)
        Q = _gram_schmidt(space, res.apply(omega), tau)
        for _ in range(n_power):
            if Q[0].shape[1] == 0:
                break
            Q = _gram_schmidt(space, res.apply(res.apply_t(Q)), tau)
        return Q
    # gkl: Golub-Kahan-Lanczos bidiagonalisation of X started from a random s-vector, full re-orthogonalisation
    # (two passes) of both sides, into preallocated bases
    right = np.empty((res.s, width + 1), dtype=res.dtype)
    q = gen.standard_normal(res.s).astype(res.dtype)
    right[:, 0] = q / np.linalg.norm(q)
    left, count = None, 0
    while count < width:
        p = res.apply(right[:, count: count + 1])
        if left is None:
            left = tuple(np.empty((a.shape[0], width), dtype=a.dtype) for a in p)
        ref = float(space.scales(p)[0])
        basis = space.columns(left, slice(0, count))
        for _ in range(2):
            p = space.project_out_factor(p)
            if count:
                p = space.sub(p, space.combine(basis, space.inner(basis, p)))
        alpha2 = float(space.sqnorms(p)[0])
        if not alpha2 > tau * ref or ref <= 0:
            break
        for a, b in zip(left, p):
            a[:, count] = b[:, 0] / math.sqrt(alpha2)
        count += 1
        w = res.apply_t(space.columns(left, slice(count - 1, count)))[:, 0]
        w_ref = float(np.linalg.norm(w))
        Qr = right[:, :count]
        for _ in range(2):
            w = w - Qr @ (Qr.T @ w)
        beta = float(np.linalg.norm(w))
        if not beta > math.sqrt(tau) * w_ref:
            break
        right[:, count] = w / beta
    return tuple(np.ascontiguousarray(a[:, :count]) for a in left)  # width >= 1: `left` exists


# --------------------------------------------------------------------------- one factor: U = U' U''

class _Factor:
    """``W = W'[:count] @ K`` with ``W'`` in a row buffer that grows by doubling, and a small ``K`` (k x k)."""

    def __init__(self, buf, count, K):
        self.buf, self.count, self.K = buf, count, K

    @classmethod
    def from_dense(cls, W):
        count, k = W.shape
        buf = np.zeros((count, k), dtype=W.dtype)
        buf[:] = W
        return cls(buf, count, np.eye(k, dtype=W.dtype))

    @property
    def dense(self):
        return self.buf[: self.count] @ self.K

    def copy(self):
        return _Factor(self.buf.copy(), self.count, self.K.copy())


def _inverse(K):
    """``inv(K)`` and its 1-norm condition number (``inf`` and None where K is singular).

    NumPy's LAPACK, not scipy's: an update alternates these k x k steps with NumPy GEMMs, and two OpenBLAS thread
    pools spinning against each other made updates 10x slower on 2 threads (``lowrank_la._backend.SMALL_WORK_NOTE``).
    """
    try:
        Kinv = np.linalg.inv(K)
    except np.linalg.LinAlgError:
        return None, math.inf
    if not np.all(np.isfinite(Kinv)):
        return None, math.inf
    return Kinv, float(np.linalg.norm(K, 1) * np.linalg.norm(Kinv, 1))


# --------------------------------------------------------------------------- the updater

class TruncatedSVDUpdater:
    r"""Keep a rank-`k` truncated SVD current as rows, columns or low-rank edits arrive.

    Parameters
    ----------
    A0 : (m, n) array, sparse matrix or Dask array, optional
        The initial matrix; its rank-`k` truncated SVD is computed with :func:`lowrank_la.svd.rsvd`
        (``n_iter=init_iter``). Give either `A0` and `k`, or `U`, `s` and `Vh`. A Dask `A0` is never gathered:
        rsvd runs on it chunk by chunk (with its per-chunk test matrix, so the initial factors differ from those
        of the same matrix in NumPy within rsvd's accuracy) and the factors are brought to the host; the state
        is NumPy whatever the input.
    k : int, optional
        Rank kept, ``1 <= k <= min(m, n)``.
    U, s, Vh : arrays, optional
        An initial truncated SVD (``U`` (m, k) and ``Vh`` (k, n) with orthonormal columns / rows, ``s`` (k,)
        finite and non-negative). Copied; never modified. ``s`` may come in any order: it is sorted descending
        and the columns of ``U`` and rows of ``Vh`` are permuted with it. Orthonormality is checked,
        ``max |U^T U - I|`` and ``max |Vh Vh^T - I|`` at most 1e-6 (float64) or 1e-3 (float32), at a cost of
        ``O((m + n) k^2)``, that of one update; factors that fail are refused with a ValueError.
    center : bool
        Keep the truncated SVD of the column-centred matrix ``A - 1 mu^T`` (``mu``: the column means of the
        current matrix; this is PCA), implicitly: sparse input is never densified (see Notes). Needs `A0`:
        factors carry no means. The updates take the *uncentred* rows, columns and edits.
    method : {"zha-simon", "gkl", "rpi"}
        ``"zha-simon"``: exact update through a Gram-Schmidt basis of the whole residual (Zha and Simon [1]_).
        ``"gkl"``: the residual is replaced by its projection onto `l` Golub-Kahan-Lanczos vectors
        (Vecharynski and Saad [2]_). ``"rpi"``: onto a randomized range of `l` vectors with `n_power` power
        iterations (Yamazaki et al. [3]_). With ``l >= s`` both reduce to ``"zha-simon"``.
    sparse_path : bool
        True: Deng et al.'s sparse-aware form [4]_ (extended decomposition, SV-LCOV residuals). False: the dense
        baseline, matrix-free for GKL and RPI.
    l : int
        Basis size of ``"gkl"`` and ``"rpi"`` (``min(l, s)`` is used).
    n_power : int
        Power iterations of ``"rpi"``.
    refactor_every : int, optional
        Refactorise (fold and re-orthonormalise, see Notes) after every this many updates.
    cond_limit : float
        Safeguard: when an update would make the 1-norm condition number of ``U''`` or
        ``V''`` exceed it, that side is folded, ``U' <- U' U''`` and ``U'' <- I`` (O(m k^2)), instead of
        being solved against an ill-conditioned ``U''``.
    init_iter : int
        Power iterations of the initial :func:`~lowrank_la.svd.rsvd`.
    flip_sign : bool
        Apply the library's sign rule (largest-magnitude entry of each column of ``U`` positive) to the
        materialised ``U`` and ``Vh``.
    rng : None, int or numpy.random.Generator
        Randomness of the initial SVD, of ``"rpi"`` and of the start vector of ``"gkl"``.

    Attributes
    ----------
    U, s, Vh : arrays
        The current truncated SVD (materialised lazily, ``U = U' U''``, cached until the next update;
        read-only views).
    shape : tuple
        Shape of the current matrix.
    mean : array or None
        With ``center=True``, the column means ``mu`` (n,) of the current uncentred matrix (read-only).
    n_updates, n_refactorizations, n_folds : int
        Counters (updates, refactorisations, sides folded by the `cond_limit` safeguard).

    See Also
    --------
    svd_update : One update of given factors, in functional form.
    rsvd : The randomized SVD that computes the initial factors from `A0`.
    StreamingSketch : A single-pass sketch of a matrix under general linear updates.
    lowrank_la.sklearn.IncrementalTruncatedSVD : The scikit-learn estimator over this class.

    Notes
    -----
    Adding rows ``E`` (s x n): with ``C = V^T E^T`` and an orthonormal basis ``Q`` of ``(I - V V^T) E^T``,

    .. math::

        \begin{bmatrix} U \Sigma V^T \\ E \end{bmatrix}
        = \begin{bmatrix} U & 0 \\ 0 & I \end{bmatrix}
          \begin{bmatrix} \Sigma & 0 \\ C^T & E Q \end{bmatrix}
          \begin{bmatrix} V & Q \end{bmatrix}^T ,

    and the SVD ``F Theta G^T`` of the small middle matrix, truncated to `k`, gives the new triplets. In the
    sparse-aware form ``Q = B - V C_q`` is kept as pairs, the rotation of the old rows is absorbed in
    ``U'' <- U'' F_k[:k]`` and ``V'' <- V'' (G_k[:k] - C_q G_k[k:])``, the new rows ``F_k[k:] U''^{-1}`` are appended
    to ``U'`` and ``B G_k[k:] V''^{-1}`` is added to the touched rows of ``V'`` (solves, not inverses). Cost per
    update: ``O((t + k)(k + s)^2 + (k + s)^3)`` for ``t`` touched columns, against
    ``O((m + n) k (k + s) + n s (k + s))`` for the dense baseline. Columns are rows of the transpose; a low-rank
    edit ``A + D E^T`` orthogonalises ``D`` against ``U`` and ``E`` against ``V`` and rotates both sides.

    Dense blocks wide against the space (the direct update). With the exact method, a dense block of ``s`` rows
    with ``k + s + 1 >= n / 3`` (``DIRECT_WIDTH``; columns: against ``m``) would give a residual basis ``Q``
    spanning most of the space, and the middle matrix above would be about as large as the stacked rows
    themselves. Such a block skips the basis: the stacked rows ``[Sigma V^T; E]`` (centred: plus the old rows'
    rank-one change), ``(k + s (+ 1)) x n``, are factored by one dense LAPACK SVD, as scikit-learn's
    ``IncrementalPCA`` does (a tall stack through a Householder QR, its reflectors applied to the `k` wanted left
    vectors only); the leading right vectors become the new ``V`` (stored explicitly, ``V'' = I``) and the
    left ones rotate ``U`` as above. The same rank-k truncated SVD, in ``O(n (k + s)^2)`` instead of the
    basis's ``O(n s^2)`` passes plus the SVD; sparse blocks and the approximate methods keep the update above.

    Refactorisation (the safeguard): ``U = Q_u R_u``, ``V = Q_v R_v`` by QR, the SVD of ``R_u Sigma R_v^T``
    rotates ``Q_u`` and ``Q_v``, and ``U'' = V'' = I`` again; ``O((m + n) k^2)``. It keeps ``U`` and ``V``
    orthonormal to rounding and bounds the growth of ``cond(U'')``.

    Every method computes the truncated SVD of the previous *approximation* plus the update, not of the true
    matrix: the truncation errors accumulate over updates (Zha and Simon).

    Centring (``center=True``). The initial SVD is :func:`~lowrank_la.svd.rsvd` with ``center=True``. Adding
    ``s`` rows ``E`` to ``m`` rows moves the means to ``mu' = mu + d``, ``d = (E^T 1 - s mu) / (m + s)``, and the
    centred matrix becomes

    .. math::

        \begin{bmatrix} U \Sigma V^T - 1 d^T \\ E - 1 \mu'^T \end{bmatrix} ,

    a rank-one change of the old rows and new rows that are ``E`` plus a rank-one term. Both are written in
    ``[E^T, mu]`` (``d`` and ``mu'`` are combinations of its columns). ``E^T`` is projected onto ``V`` as in the
    uncentred update (sparse ``E`` stays sparse, and only the columns it touches enter the residual pairs);
    ``mu`` joins the residual basis as one dense vector of its own (two Gram-Schmidt passes against ``V`` and
    the basis of ``E^T``), and the ones vector is orthogonalised against ``U`` likewise. One small SVD of size
    ``(k + 1 + s) x (k + s + 1)`` then gives the new triplets: a single truncation, exactly the rank-k
    truncated SVD of the previous approximation plus the centred change for ``"zha-simon"``. New columns ``E``
    (m, s) are centred by their own means ``w``: the update appends ``E - 1 w^T`` through ``[E, 1]`` (the old
    columns' means do not change). A low-rank edit ``D E^T`` moves the means by ``E D^T 1 / m`` and is applied
    as ``[D, 1] [E, -E D^T 1 / m]^T``. Cost on top of the uncentred update: ``O((m + n) k)`` (every entry of
    the centred matrix moves with the means: one product with all rows of ``U'`` and of ``V'``, and a rank-one
    correction of every row of each, written in place); memory ``O((m + n) k)`` beyond the input and the
    state. On a 100,000 x 100,000 sparse matrix that is about 20 ms per update at k = 16 and 40 ms at
    k = 64, against 2 to 8 ms uncentred (``benchmarks/svd_update.py``, ``SVDUpdateCentred``). Accuracy is
    relative to the uncentred entries: data far from the origin (offset much larger than its spread) loses up
    to about ``log10(offset / spread)`` digits, as any implicit centring does.

    References
    ----------
    .. [1] H. Zha, H. D. Simon, "On updating problems in latent semantic indexing", SIAM J. Sci. Comput. 21(2)
       (1999) 782-791.
    .. [2] E. Vecharynski, Y. Saad, "Fast updating algorithms for latent semantic indexing", SIAM J. Matrix
       Anal. Appl. 35(3) (2014) 1105-1131.
    .. [3] I. Yamazaki, J. Kurzak, P. Wu, M. Zounon, J. Dongarra, "Randomized algorithms to update partial
       singular value decomposition on a hybrid CPU/GPU cluster", SC'15.
    .. [4] H. Deng, Y. Yang, J. Li, C. Chen, W. Jiang, S. Pu, "Fast updating truncated SVD for representation
       learning with sparse matrices", ICLR 2024, arXiv:2401.09703.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from lowrank_la.svd import TruncatedSVDUpdater
    >>> A = sp.random(300, 200, density=0.02, format="csr", random_state=0)
    >>> up = TruncatedSVDUpdater(A[:200], 10, rng=0)
    >>> up.add_rows(A[200:])
    >>> up.shape, up.U.shape, up.Vh.shape
    ((300, 200), (300, 10), (10, 200))
    >>> bool(np.allclose(up.U.T @ up.U, np.eye(10)))
    True

    Centred (PCA of the rows seen so far), checked against the dense SVD of the explicitly centred matrix:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((120, 3)) @ rng.standard_normal((3, 40)) + 5.0  # rank 3 plus an offset
    >>> pca = TruncatedSVDUpdater(X[:80], 3, center=True, rng=0)
    >>> pca.add_rows(X[80:])
    >>> s_ref = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)[:3]
    >>> bool(np.allclose(pca.s, s_ref) and np.allclose(pca.mean, X.mean(axis=0)))
    True
    """

    @refuse_random_state
    def __init__(self, A0=None, k=None, *, U=None, s=None, Vh=None, center=False, method="zha-simon",
                 sparse_path=True, l=10, n_power=3, refactor_every=None, cond_limit=1e8, init_iter=4, flip_sign=True,
                 rng=None):
        self.method = check_option(method, "method", SVD_UPDATE_METHODS)
        self.sparse_path = bool(check_option(sparse_path, "sparse_path", [True, False]))
        self.l = check_int(l, "l", low=1)
        self.n_power = check_int(n_power, "n_power", low=0)
        self.refactor_every = None if refactor_every is None else check_int(refactor_every, "refactor_every",
                                                                            low=1)
        self.cond_limit = check_real(cond_limit, "cond_limit", low=1)
        self.flip_sign = bool(flip_sign)
        self.center = bool(check_option(center, "center", [False, True]))
        self._gen = as_rng(rng)
        if self.center and A0 is None:
            raise ValueError("center=True needs A0 (the column means come from it); factors U, s, Vh carry no "
                             "means: build the centred updater from the matrix")
        if A0 is not None:
            if U is not None or s is not None or Vh is not None:
                raise ValueError("give either A0 and k, or U, s and Vh, not both")
            A0 = as_matrix(A0, "A0")
            if k is None:
                raise ValueError("k must be given with A0")
            k = check_rank(k, A0.shape)
            from ._rsvd import rsvd

            init_iter = check_int(init_iter, "init_iter", low=0)
            U0, s0, Vh0 = rsvd(A0, k, n_iter=init_iter, center=self.center, flip_sign=False, rng=self._gen)
            if is_dask(A0):  # rsvd is lazy on Dask: its factors computed together, chunk by chunk
                import dask

                U0, s0, Vh0 = dask.compute(U0, s0, Vh0)
            U0, s0, Vh0 = np.asarray(U0), np.asarray(s0), np.asarray(Vh0)
            if self.center:  # summed in float64 (float32 sums of many rows lose digits), kept in the state dtype
                self._mean = (_column_sums(A0) / A0.shape[0]).astype(U0.dtype)
        else:
            if U is None or s is None or Vh is None:
                raise ValueError("give either A0 and k, or all of U, s and Vh")
            U0, s0, Vh0 = _check_factors(U, s, Vh)
            if k is not None and check_int(k, "k", low=1) != s0.shape[0]:
                raise ValueError(f"k={k} must equal len(s) = {s0.shape[0]} when U, s, Vh are given")
        self.dtype = U0.dtype
        order = np.argsort(-s0, kind="stable")
        self._s = s0[order].copy()
        self._u = _Factor.from_dense(U0[:, order])
        self._v = _Factor.from_dense(Vh0[order].T)
        self.n_updates = 0
        self.n_refactorizations = 0
        self.n_folds = 0
        self._cache = None
        if not self.center:
            self._mean = None

    @classmethod
    def _from_dense_svd(cls, A0, k, *, center=False, **options):
        """An updater started from the exact truncated SVD of a dense NumPy `A0` (one LAPACK SVD, of the centred
        `A0` for ``center=True``) instead of :func:`~lowrank_la.svd.rsvd`; `options` as in the constructor.

        What :class:`lowrank_la.sklearn.IncrementalTruncatedSVD` starts a dense first batch from, as
        ``IncrementalPCA`` does."""
        A = np.asarray(as_matrix(A0, "A0", sparse=False))
        A = A.astype(working_dtype(A.dtype, np, name="A0"), copy=False)
        k = check_rank(k, A.shape)
        mean = None
        if center:  # summed in float64, kept in the state dtype (as the constructor)
            mean = (_column_sums(A) / A.shape[0]).astype(A.dtype)
            A = A - mean
        U, s, Vh = _svd_top(np.array(A, order="F"), k)  # a copy: _svd_top overwrites its argument
        up = cls(U=U, s=s, Vh=Vh, **options)
        if center:
            up.center, up._mean = True, mean
        return up

    # ------------------------------------------------------------------ read access
    @property
    def k(self) -> int:
        """Rank kept.

        See Also
        --------
        TruncatedSVDUpdater.s : The `k` singular values.
        """
        return self._s.shape[0]

    @property
    def shape(self) -> tuple:
        """Shape ``(m, n)`` of the current matrix.

        See Also
        --------
        TruncatedSVDUpdater.add_rows : Grow the number of rows.
        TruncatedSVDUpdater.add_columns : Grow the number of columns.
        """
        return (self._u.count, self._v.count)

    def _materialise(self):
        if self._cache is None:
            U = self._u.dense
            Vh = self._v.dense.T.copy()
            if self.flip_sign:
                U, Vh = flip_signs(U, Vh)
            s = self._s.copy()
            for a in (U, s, Vh):
                a.flags.writeable = False
            self._cache = SVDResult(U, s, Vh)
        return self._cache

    @property
    def U(self):
        """Left singular vectors (m, k), ``U' U''`` materialised (O(m k^2), cached).

        See Also
        --------
        TruncatedSVDUpdater.row_factors : Selected rows of ``U`` without forming it.
        TruncatedSVDUpdater.result : ``U``, ``s`` and ``Vh`` together.
        """
        return self._materialise().U

    @property
    def s(self):
        """Singular values (k,), descending.

        See Also
        --------
        TruncatedSVDUpdater.result : ``U``, ``s`` and ``Vh`` together.
        """
        return self._materialise().s

    @property
    def Vh(self):
        """Right singular vectors as rows (k, n), materialised (O(n k^2), cached).

        See Also
        --------
        TruncatedSVDUpdater.U : The left singular vectors.
        TruncatedSVDUpdater.result : ``U``, ``s`` and ``Vh`` together.
        """
        return self._materialise().Vh

    @property
    def mean(self):
        """Column means (n,) of the current (uncentred) matrix with ``center=True``, else None (read-only).

        See Also
        --------
        TruncatedSVDUpdater.result : The SVD of the centred matrix.
        """
        if self._mean is None:
            return None
        out = self._mean.view()
        out.flags.writeable = False
        return out

    @property
    def result(self) -> SVDResult:
        """``SVDResult(U, s, Vh)``.

        See Also
        --------
        lowrank_la.SVDResult : The result type.
        TruncatedSVDUpdater.U : The left singular vectors alone.
        """
        return self._materialise()

    def row_factors(self, i):
        """Row(s) `i` of ``U`` in O(k^2) each: ``U'[i] @ U''``.

        The signs are the internal ones: with ``flip_sign=True`` a column may differ in sign from the
        materialised ``U`` (knowing that sign costs O(m k)); build with ``flip_sign=False`` for rows that
        match ``U`` exactly.

        Parameters
        ----------
        i : int or array of ints
            Row index or indices, ``-m <= i < m``.

        Returns
        -------
        (k,) or (len(i), k) numpy.ndarray
            The requested rows of ``U``.

        See Also
        --------
        TruncatedSVDUpdater.U : The whole matrix of left singular vectors.

        Examples
        --------
        >>> import numpy as np
        >>> A = np.random.default_rng(0).standard_normal((50, 20))
        >>> up = TruncatedSVDUpdater(A, 5, flip_sign=False, rng=0)
        >>> up.add_rows(A[:3])
        >>> bool(np.allclose(up.row_factors(51), up.U[51]))
        True
        """
        m = self._u.count
        idx = np.asarray(i)
        if not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"i must be an integer or an array of integers, got dtype {idx.dtype}")
        if idx.size and (idx.min() < -m or idx.max() >= m):
            raise ValueError(f"i={i} must satisfy -{m} <= i < m = {m}")
        return self._u.buf[: self._u.count][idx] @ self._u.K

    def orthonormality_error(self) -> tuple:
        """Measure the loss of orthonormality of the factors, in O((m + n) k^2).

        Returns
        -------
        tuple of two floats
            ``(||U^T U - I||_2, ||V^T V - I||_2)``.

        See Also
        --------
        TruncatedSVDUpdater.refactorize : Restore orthonormality.
        """
        k = self.k
        U, V = self._u.dense, self._v.dense
        eye = np.eye(k, dtype=self.dtype)
        return (float(np.linalg.norm(U.T @ U - eye, 2)), float(np.linalg.norm(V.T @ V - eye, 2)))

    # ------------------------------------------------------------------ updates
    def add_rows(self, E):
        """Append the rows `E` (s, n), dense, sparse or a Dask array: ``A <- [A; E]``.

        A Dask `E` is fed one chunk of rows at a time, each computed on its own (memory: one block of rows, with
        all its column chunks, and the factors) and added as one update; the result is that of ``add_rows``
        called on those blocks in order (each update truncates to rank k, so it may differ from one update with
        all the rows at once). An `E` with a single chunk of rows but several of columns is refused (its one
        block of rows would be all of it): rechunk it into blocks of rows first.

        Parameters
        ----------
        E : (s, n) array_like, sparse matrix or Dask array
            The new rows; ``n`` is the current number of columns.

        Raises
        ------
        ValueError
            If `E` is empty, holds NaN or Inf, ``E.shape[1]`` differs from the current ``n``, or `E` is a Dask
            array chunked along columns only. The state is then unchanged, except for a Dask `E` with NaN or Inf
            in a later row block: the blocks before it stay added, and the error says how many rows were.

        See Also
        --------
        TruncatedSVDUpdater.add_columns : Append columns.
        TruncatedSVDUpdater.update_low_rank : A low-rank edit of the current matrix.
        svd_update : The same update of given factors, in functional form.
        """
        if is_dask(E):
            self._add_blocks(E, 0)
            return
        self._add_rows(self._check_update(E, "E", 1, self._v.count, "the current number of columns n"))

    def _add_rows(self, E):
        """:meth:`add_rows` of rows already checked: a finite NumPy array (or CSR array) of the state's dtype with
        ``n`` columns (:class:`lowrank_la.sklearn.IncrementalTruncatedSVD` validates its batches itself)."""
        with self._small_work(self._direct(self._v, E.T)):
            if not self.center:
                self._append(self._u, self._v, E.T, transpose=False)
                return
            # new rows E - 1 mu'^T, old rows change by -1 d^T: mu' = mu + d, d = (E^T 1 - s mu) / (m + s); in
            # terms of Y = [E^T, mu]: mu' = Y [1 / (m + s); m / (m + s)], d = Y [1 / (m + s); -s / (m + s)]
            m, s = self._u.count, E.shape[0]
            c = np.concatenate([np.full(s, -1.0 / (m + s)), [-m / (m + s)]]).astype(self.dtype)
            b = np.concatenate([np.full(s, -1.0 / (m + s)), [s / (m + s)]]).astype(self.dtype)
            mean = self._mean + (_column_sums(E) - s * self._mean.astype(np.float64)) / (m + s)
            self._append(self._u, self._v, E.T, transpose=False, dense=self._mean,
                         new=(np.ones(s, dtype=self.dtype), c), old=(np.ones(m, dtype=self.dtype), b))
            self._mean = mean.astype(self.dtype)

    def add_columns(self, E):
        """Append the columns `E` (m, s), dense, sparse or a Dask array: ``A <- [A, E]``.

        A Dask `E` is fed one chunk of columns at a time, as :meth:`add_rows` feeds row blocks.

        Parameters
        ----------
        E : (m, s) array_like, sparse matrix or Dask array
            The new columns; ``m`` is the current number of rows.

        Raises
        ------
        ValueError
            If `E` is empty, holds NaN or Inf, or ``E.shape[0]`` differs from the current ``m``. The state is
            then unchanged (for a Dask `E`: as in :meth:`add_rows`).

        See Also
        --------
        TruncatedSVDUpdater.add_rows : Append rows.
        TruncatedSVDUpdater.update_low_rank : A low-rank edit of the current matrix.
        svd_update : The same update of given factors, in functional form.
        """
        if is_dask(E):
            self._add_blocks(E, 1)
            return
        E = self._check_update(E, "E", 0, self._u.count, "the current number of rows m")
        with self._small_work(self._direct(self._u, E)):
            if not self.center:
                self._append(self._v, self._u, E, transpose=True)
                return
            # each new column is centred by its own mean w: the new rows of A^T are E^T - w 1^T, Y = [E, 1]
            m, s = E.shape
            w = (_column_sums(E) / m).astype(self.dtype)
            c = np.zeros(s + 1, dtype=self.dtype)
            c[s] = -1
            self._append(self._v, self._u, E, transpose=True, dense=np.ones(m, dtype=self.dtype), new=(w, c))
            self._mean = np.concatenate([self._mean, w])

    def update_low_rank(self, D, E):
        """Apply a low-rank edit ``A <- A + D E^T`` with `D` (m, s) and `E` (n, s), dense or sparse.

        Parameters
        ----------
        D : (m, s) array_like or sparse matrix
            Left factor of the edit; ``m`` is the current number of rows.
        E : (n, s) array_like or sparse matrix
            Right factor of the edit; ``n`` is the current number of columns, and ``s`` that of `D`.

        Raises
        ------
        ValueError
            If `D` or `E` is empty or not finite, their shapes do not match the current ``(m, n)``, or their
            numbers of columns differ. The state is then unchanged.

        See Also
        --------
        TruncatedSVDUpdater.add_rows : Append rows.
        TruncatedSVDUpdater.add_columns : Append columns.
        """
        D = self._check_update(D, "D", 0, self._u.count, "the current number of rows m")
        E = self._check_update(E, "E", 0, self._v.count, "the current number of columns n")
        check_shape_agrees("E.shape[1]", E.shape[1], D.shape[1], "D.shape[1]")
        with self._small_work():
            if not self.center:
                self._low_rank(D, E)
                return
            # the means move by E dbar (dbar = D^T 1 / m): the centred matrix changes by [D, 1] [E, -E dbar]^T
            shift = np.asarray(E @ (_column_sums(D) / self._u.count)).astype(self.dtype).ravel()
            self._low_rank(D, E, dense=(np.ones(self._u.count, dtype=self.dtype), -shift))
            self._mean = self._mean + shift

    def _add_blocks(self, E, axis):
        """Feed a Dask `E` to :meth:`add_rows` (``axis=0``) or :meth:`add_columns` (``axis=1``) one chunk of rows
        (columns) at a time, each computed alone: the array is never gathered."""
        E = as_matrix(E, "E")  # refuses unknown chunk sizes
        other, expected = (1, self._v.count) if axis == 0 else (0, self._u.count)
        check_shape_agrees(f"E.shape[{other}]", E.shape[other], expected,
                           f"the current number of {'columns n' if axis == 0 else 'rows m'}")
        working_dtype(E.dtype, np, name="E")
        add, what = (self.add_rows, "rows") if axis == 0 else (self.add_columns, "columns")
        if E.numblocks[axis] == 1 and E.numblocks[other] > 1:  # one block of rows would be all of E
            layout = "E.rechunk({0: rows, 1: -1})" if axis == 0 else "E.rechunk({0: -1, 1: columns})"
            raise ValueError(f"E has chunks {E.chunks}: one chunk of {what} and {E.numblocks[other]} along the other "
                             f"axis, so its one block of {what} is all of E; {what} are fed one chunk of {what} at a "
                             f"time: rechunk E into blocks of {what} first ({layout}), which reads every chunk once")
        stop = 0
        for size in E.chunks[axis]:
            start, stop = stop, stop + size
            block = np.asarray((E[start:stop] if axis == 0 else E[:, start:stop]).compute())
            try:
                add(block)
            except ValueError as error:
                raise ValueError(f"E[{start}:{stop}] ({what} of one chunk of the Dask array E): {error}; the {start} "
                                 f"{what} before it were added") from error

    def _small_work(self, direct=False):
        """The sparse-aware form does only small dense work (nothing proportional to m or n): one BLAS thread.
        The direct update of a wide dense block (`direct`, see :meth:`_direct`) is one large SVD: all threads."""
        return one_blas_thread() if self.sparse_path and not direct else contextlib.nullcontext()

    def _direct(self, other, cols):
        """Whether appending the dense block `cols` (dim, s) against the factor `other` (dim rows) takes the
        direct update (:meth:`_append_direct`): exact method, dense block, and ``k + s + 1 >= DIRECT_WIDTH * dim``
        (the residual basis would span most of the space, so the SVD in the basis ``[W, Q]`` is about as large as
        the SVD in the coordinates of the space, and its Gram-Schmidt is pure overhead)."""
        return (self.method == "zha-simon" and not is_sparse(cols)
                and self.k + cols.shape[1] + 1 >= DIRECT_WIDTH * other.count)

    def _low_rank(self, D, E, dense=(None, None)):
        """``A <- A + [D, d] [E, e]^T`` with `dense` = (d, e) optional dense vectors (centring)."""
        k = self.k
        left = self._side(self._u, D, dense=dense[0])
        right = self._side(self._v, E, dense=dense[1])
        Cl, _, Tl = left
        Cr, _, Tr = right
        pl, pr = Tl.shape[0], Tr.shape[0]
        M = np.zeros((k + pl, k + pr), dtype=self.dtype)
        M[:k, :k] = np.diag(self._s)
        M += np.concatenate([Cl, Tl]) @ np.concatenate([Cr, Tr]).T
        F, theta, Gh = svd_small(M)
        F, theta, G = F[:, :k], theta[:k], Gh[:k].T
        new_u = self._rotate(self._u, left, F)
        new_v = self._rotate(self._v, right, G)
        self._commit(new_u, new_v, theta)

    def _check_update(self, E, name, axis, expected, what):
        if is_dask(E):
            raise TypeError(f"{name} is a Dask array, and a low-rank edit needs all of it in one update; "
                            "add_rows and add_columns take Dask arrays (chunk by chunk), or pass "
                            f"{name}.compute() if it fits in memory")
        if is_linear_operator(E):
            raise TypeError(f"{name} must be a dense array or a sparse matrix, got {type(E).__name__}")
        E = as_matrix(E, name)
        check_shape_agrees(f"{name}.shape[{axis}]", E.shape[axis], expected, what)
        if is_sparse(E):
            return sp.csr_array(E).astype(self.dtype) if E.dtype != self.dtype else sp.csr_array(E)
        E = np.asarray(E)
        working_dtype(E.dtype, np, name=name)
        # one memory layout whatever the block's (a Dask chunk or a column slice may arrive in either): the
        # reductions and products over it then round the same way, and equal blocks give equal bits
        return np.ascontiguousarray(E, dtype=self.dtype)

    # the rows case, with (grow, basis) = (U, V); the columns case is the same with the roles swapped
    def _append(self, grow, other, cols, *, transpose, dense=None, new=None, old=None):
        """Append rows to the `grow` side: the new rows are ``cols^T`` in the uncentred case.

        Centring passes a dense vector `dense` (Y = ``[cols, dense]``) and ``new = (w, c)``: the new rows are
        ``cols^T + w (Y c)^T``; ``old = (a, b)``: the current rows change by ``a (Y b)^T``. One small SVD of
        the whole change: a single truncation.
        """
        if self._direct(other, cols):
            self._append_direct(grow, other, cols, transpose=transpose, dense=dense, new=new, old=old)
            return
        k = self.k
        C, _, T = side = self._side(other, cols, dense=dense)
        CT = np.concatenate([C, T])  # the columns of `cols` in the basis [W, Q]: (k + p, s + r)
        rows = CT.T
        if new is not None:
            w, c = new
            rows = rows[: w.shape[0]] + np.outer(w, CT @ c)
        s_new, p = rows.shape[0], T.shape[0]
        left, pa = None, 0
        if old is not None:  # the old rows' change a ([cols, dense] b)^T: `a` against the grow factor, exactly
            a, b = old
            left = self._side(grow, None, method="zha-simon", dense=a)
            pa = left[2].shape[0]
        M = np.zeros((k + pa + s_new, k + p), dtype=self.dtype)
        M[:k, :k] = np.diag(self._s)
        if left is not None:
            M[: k + pa] += np.outer(np.concatenate([left[0], left[2]])[:, 0], CT @ b)
        M[k + pa:] = rows
        F, theta, Gh = svd_small(M)
        F, theta, G = F[:, :k], theta[:k], Gh[:k].T
        new_other = self._rotate(other, side, G)
        new_grow = self._grow(grow, F, left)
        if transpose:
            self._commit(new_other, new_grow, theta)
        else:
            self._commit(new_grow, new_other, theta)

    def _append_direct(self, grow, other, cols, *, transpose, dense=None, new=None, old=None):
        """:meth:`_append` for a dense block wide against the factor `other` (:meth:`_direct`): the middle matrix in
        the coordinates of the space instead of the basis ``[W, Q]``.

        The stacked rows ``[diag(s) W^T; new rows]`` ((k + s) x dim, plus the old rows' change of centring in the
        basis ``[U, q]`` of the grow side) are factored by one dense SVD ``F Theta G^T``, as scikit-learn's
        ``IncrementalPCA`` does; ``G_k`` (dim x k) is the new `other` factor, stored explicitly (``W'' = I``), and
        ``F_k`` rotates the grow side as in :meth:`_append`. The same rank-k truncated SVD of the previous
        approximation plus the change, without the Gram-Schmidt basis of the residual: ``O(dim (k + s)^2)``
        for the SVD and ``O(dim k^2)`` to form ``W``.
        """
        k = self.k
        W = other.dense  # (dim, k)
        Yt = np.asarray(cols).T  # the new rows before centring, (s, dim)
        rows = Yt
        if new is not None:  # rows + w (Y c)^T, Y = [cols, dense]
            w, c = new
            Yc = cols @ c[:-1] + c[-1] * dense
            rows = Yt + np.outer(w, Yc)
        left, pa = None, 0
        if old is not None:  # the old rows' change a (Y b)^T, `a` in the basis [U, q] of the grow side
            a, b = old
            left = self._vector_side(grow, a) if self.sparse_path else self._side(grow, None, "zha-simon", a)
            pa = left[2].shape[0]
        M = np.empty((k + pa + rows.shape[0], W.shape[0]), dtype=self.dtype, order="F")  # LAPACK's layout
        M[:k] = self._s[:, None] * W.T
        M[k: k + pa] = 0
        if left is not None:
            Yb = cols @ b[:-1] + b[-1] * dense
            M[: k + pa] += np.outer(np.concatenate([left[0], left[2]])[:, 0], Yb)
        M[k + pa:] = rows
        F, theta, Gh = _svd_top(M, k)
        new_other = (_Factor(_with_capacity(np.ascontiguousarray(Gh[:k].T), other.buf.shape[0]), other.count,
                             np.eye(k, dtype=self.dtype)), None, False)
        new_grow = self._grow(grow, F, left)
        if transpose:
            self._commit(new_other, new_grow, theta)
        else:
            self._commit(new_grow, new_other, theta)

    def _vector_side(self, fac, a):
        """``self._side(fac, None, "zha-simon", dense=a)`` of the sparse-aware form for one dense vector `a` of
        moderate entries (the ones vector of centring), without its general machinery: ``c = W^T a``, the residual
        pair ``(a - W c) / rho`` on all rows, and ``T = [[rho]]``; nothing when the residual is below the
        dependence threshold."""
        rows = fac.count
        cv = fac.K.T @ (fac.buf[:rows].T @ a)
        ref = float(a @ a)
        nrm2 = ref - float(cv @ cv)
        if not (ref > 0 and nrm2 > 100 * float(np.finfo(self.dtype).eps) * ref):
            return cv[:, None], [], np.zeros((0, 1), dtype=self.dtype)
        rho = math.sqrt(nrm2)
        qb, qc = a / rho, cv / rho
        T = np.array([[qb @ a - qc @ cv]], dtype=self.dtype)
        return cv[:, None], [(np.arange(rows), qb[:, None], qc[:, None])], T

    def _side(self, fac, cols, method=None, dense=None):
        """Project the columns ``[cols, dense]`` (dim, s (+ 1)) onto the factor ``W``: ``C = W^T [cols, dense]``,
        an orthonormal basis ``Q`` of the residual against ``W`` (by `method`, default the updater's) and
        ``T = Q^T [cols, dense]``. Returns ``(C, blocks, T)``; the basis is ``blocks``, a list of
        ``(rows, B, C_q)``: in the sparse-aware form the pairs ``B - W C_q`` with ``B`` on the rows ``rows``, in
        the dense form one explicit ``(None, Q, None)``.

        `cols` may be None (only `dense`). `dense`, a vector (dim,) (the column means or the ones vector of
        centring), joins the basis by two Gram-Schmidt passes of its own in the sparse-aware form, so that the
        rows the sparse `cols` touch stay few."""
        method = self.method if method is None else method
        tau = 100 * float(np.finfo(self.dtype).eps)
        shift = _pow2_shift(cols, dense)  # the basis is found on 2^shift [cols, dense], largest entry near 1
        if shift and cols is not None:
            if is_sparse(cols):
                cols = cols.copy()  # same format and structure; the caller's matrix is never touched
                cols.data = np.ldexp(cols.data, shift)
            else:
                cols = np.ldexp(cols, shift)
        if shift and dense is not None:
            dense = np.ldexp(dense, shift)
        if not self.sparse_path and dense is not None:
            cols = dense[:, None] if cols is None else _with_column(cols, dense)
            dense = None
        if cols is None:
            C, blocks, T = np.zeros((self.k, 0), dtype=self.dtype), [], np.zeros((0, 0), dtype=self.dtype)
            touched = None
        elif self.sparse_path:
            uid, B = _touched_rows(cols, self.dtype, dense=method == "zha-simon")
            Wt = fac.buf[_rows(uid, fac.count)]
            if not uid.size:
                C = np.zeros((self.k, cols.shape[1]), dtype=self.dtype)
            elif is_sparse(B):
                C = fac.K.T @ np.asarray(B.T @ Wt).T
            else:
                C = fac.K.T @ (Wt.T @ B)
            refs = (np.asarray(B.multiply(B).sum(axis=0)).ravel() if is_sparse(B)
                    else np.einsum("ij,ij->j", B, B))
            res = _Residual(_Space((1, -1), touched=(Wt, fac.K)), None, C, refs, pairs=(B, C))
            Q = _basis(res, method, self.l, self.n_power, self._gen, tau)
            T = res.apply_t(Q).T
            blocks = [(uid, Q[0], Q[1])]
            touched = (uid, B, C)
        else:
            W = fac.buf[: fac.count]
            C = np.asarray(cols.T @ W).T.astype(self.dtype, copy=False)
            space = _Space((1,), W=W)
            refs = (np.asarray(cols.multiply(cols).sum(axis=0)).ravel() if is_sparse(cols)
                    else np.einsum("ij,ij->j", cols, cols))
            res = _Residual(space, cols, C, refs, W=W)
            Q = _basis(res, method, self.l, self.n_power, self._gen, tau)
            T = res.apply_t(Q).T
            blocks = [(None, Q[0], None)]
        if dense is not None:
            C, blocks, T = self._with_dense(fac, C, blocks, T, touched, dense.astype(self.dtype), tau)
        if shift:
            C, T = np.ldexp(C, -shift), np.ldexp(T, -shift)
        return C, blocks, T

    def _with_dense(self, fac, C, blocks, T, touched, v, tau):
        """Add the dense vector `v` to a sparse-aware side: its coefficients on ``W`` and on the basis, and its
        residual as one more basis vector ``(b - W c) / rho`` on all rows (classical Gram-Schmidt, twice)."""
        rows = fac.count
        cv = fac.K.T @ (fac.buf[:rows].T @ v)
        b, c = v.copy(), cv.copy()
        h = np.zeros(T.shape[0], dtype=self.dtype)
        for _ in range(2):
            at = 0
            for uid, B, Cq in blocks:
                width = B.shape[1]
                idx = _rows(uid, rows)
                hj = B.T @ b[idx] - Cq.T @ c
                b[idx] -= B @ hj
                c -= Cq @ hj
                h[at: at + width] += hj
                at += width
        C = np.concatenate([C, cv[:, None]], axis=1)
        T = np.concatenate([T, h[:, None]], axis=1)
        nrm2, ref = float(b @ b - c @ c), float(v @ v)
        if not (ref > 0 and nrm2 > tau * ref):
            return C, blocks, T
        qb, qc = b / math.sqrt(nrm2), c / math.sqrt(nrm2)
        row = np.empty(T.shape[1], dtype=self.dtype)  # q^T [cols, v], through the residual pairs of cols
        if touched is not None:
            uid, Bc, Cc = touched
            row[:-1] = np.asarray(Bc.T @ qb[uid]).ravel() - Cc.T @ qc
        row[-1] = qb @ v - qc @ cv
        return C, blocks + [(np.arange(rows), qb[:, None], qc[:, None])], np.concatenate([T, row[None]])

    def _rotate(self, fac, side, G):
        """The factor ``[W, Q] G`` (k + p, k) as ``(new _Factor, pending row corrections, folded)``.

        Nothing is written into the old factor's buffer here; the corrections are added by ``_commit``. When
        the new ``W''`` would have a condition number above `cond_limit` it is folded into ``W'`` instead
        (a new buffer, ``W'' = I``; O(dim k^2))."""
        return self._combine(fac, side[1], G[: self.k], G[self.k:], None)

    def _combine(self, fac, blocks, G1, G2, F_new):
        """``[W, Q] [G1; G2]`` with the rows `F_new` appended (None: none); see :meth:`_rotate`."""
        k = self.k
        parts, at = [], 0
        for uid, B, Cq in blocks:
            parts.append((uid, B, Cq, G2[at: at + B.shape[1]]))
            at += B.shape[1]
        if not self.sparse_path:
            buf = fac.buf[: fac.count] @ G1
            for _, Q, _, Gj in parts:
                buf += Q @ Gj
            if F_new is not None:
                buf = np.concatenate([buf, F_new])
            return _Factor(buf, buf.shape[0], fac.K), None, False
        inner = G1
        for _, _, Cq, Gj in parts:
            inner = inner - Cq @ Gj
        K = fac.K @ inner
        Kinv, cond = _inverse(K)
        n_new = 0 if F_new is None else F_new.shape[0]
        if cond > self.cond_limit:
            count = fac.count + n_new
            buf = _with_capacity(fac.buf[: fac.count] @ K, max(count, fac.buf.shape[0]))
            for uid, B, _, Gj in parts:
                if uid.size:
                    buf[_rows(uid, fac.count)] += B @ Gj
            if n_new:
                buf[fac.count: count] = F_new
            return _Factor(buf, count, np.eye(k, dtype=self.dtype)), None, True
        # a one-column block (the dense vector of centring, on all rows) stays a factored rank-one correction
        extra = [(uid, (B[:, 0], Gj[0] @ Kinv) if B.shape[1] == 1 else B @ (Gj @ Kinv))
                 for uid, B, _, Gj in parts if B.shape[1]]
        if n_new:
            extra.append((None, F_new @ Kinv))
        return _Factor(fac.buf, fac.count, K), extra, False

    def _grow(self, fac, F, left=None):
        """The factor ``[[W, Q_a, 0], [0, 0, I]] F`` (new rows ``F[k + p_a:]``), as in :meth:`_rotate`.

        `left` is the side of the old rows' change (centring): its basis ``Q_a`` (``p_a`` columns) rotates
        into the old rows as in :meth:`_rotate`; None: ``p_a = 0``."""
        k = self.k
        blocks = [] if left is None else left[1]
        pa = 0 if left is None else left[2].shape[0]
        return self._combine(fac, blocks, F[:k], F[k: k + pa], F[k + pa:])

    def _commit(self, new_u, new_v, theta):
        """Install the new state; nothing before this point modified the updater."""
        (u, u_extra, u_fold), (v, v_extra, v_fold) = new_u, new_v
        self._u, self._v = _apply_extra(u, u_extra), _apply_extra(v, v_extra)
        self._s = np.ascontiguousarray(theta, dtype=self.dtype)
        self.n_updates += 1
        self.n_folds += int(u_fold) + int(v_fold)
        self._cache = None
        if self.sparse_path and self.refactor_every is not None and self.n_updates % self.refactor_every == 0:
            self.refactorize()

    def refactorize(self):
        """Fold ``U''`` and ``V''`` into ``U'`` and ``V'`` and re-orthonormalise (O((m + n) k^2)).

        ``U = Q_u R_u``, ``V = Q_v R_v``; the SVD ``F Theta G^T`` of ``R_u diag(s) R_v^T`` gives
        ``U' = Q_u F``, ``V' = Q_v G``, ``s = Theta`` and ``U'' = V'' = I``. The rank-k matrix is unchanged up
        to rounding.

        See Also
        --------
        TruncatedSVDUpdater.orthonormality_error : Measure the loss of orthonormality this repairs.
        """
        Qu, Ru = scipy.linalg.qr(self._u.dense, mode="economic", check_finite=False)
        Qv, Rv = scipy.linalg.qr(self._v.dense, mode="economic", check_finite=False)
        F, theta, Gh = svd_small((Ru * self._s) @ Rv.T)
        self._u = _Factor.from_dense(Qu @ F)
        self._v = _Factor.from_dense(Qv @ Gh.T)
        self._s = np.ascontiguousarray(theta, dtype=self.dtype)
        self.n_refactorizations += 1
        self._cache = None

    # ------------------------------------------------------------------ save / load
    _CONFIG = ("method", "sparse_path", "l", "n_power", "refactor_every", "cond_limit", "flip_sign",
               "n_updates", "n_refactorizations",
               "n_folds", "center")

    def save(self, path):
        """Write the whole state to an ``.npz`` file.

        The state is the factors, buffers, counters, settings, random state and column means: :meth:`load`
        gives an updater that continues bit-identically.

        Parameters
        ----------
        path : str or os.PathLike
            File to write (overwritten if it exists).

        See Also
        --------
        TruncatedSVDUpdater.load : Read the file back.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> A = np.random.default_rng(0).standard_normal((40, 30))
        >>> up = TruncatedSVDUpdater(A[:30], 4, rng=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
        >>> up.save(path)
        >>> twin = TruncatedSVDUpdater.load(path)
        >>> up.add_rows(A[30:]); twin.add_rows(A[30:])
        >>> bool((up.U == twin.U).all() and (up.s == twin.s).all())
        True
        """
        config = {name: getattr(self, name) for name in self._CONFIG}
        config["version"] = _STATE_VERSION
        config["rng"] = generator_state(self._gen)
        config["u_count"], config["v_count"] = self._u.count, self._v.count
        arrays = dict(u_buf=self._u.buf, u_K=self._u.K, v_buf=self._v.buf, v_K=self._v.K, s=self._s)
        if self.center:
            arrays["mean"] = self._mean
        with open(os.fspath(path), "wb") as fh:
            np.savez(fh, **arrays, config=np.array(json.dumps(config)))

    @classmethod
    def load(cls, path):
        """An updater restored from a file written by :meth:`save`.

        Every field is checked against the schema of the format (:data:`_CONFIG_SCHEMA`, :data:`_ARRAY_SCHEMA`)
        before the updater is built: settings and counters (known method names, ranges), the random state (a
        bit generator from a fixed table), dtypes and shapes of the factors, finiteness, ``s`` non-negative and
        descending, row counts within the buffers, and for ``center=True`` the column means (``n`` of them).
        Files of format version 1 (before centring) load as uncentred updaters.

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.

        Returns
        -------
        TruncatedSVDUpdater
            The restored updater.

        Raises
        ------
        ValueError
            If the file is not a readable ``.npz`` archive, or a field does not fit the format; the message
            names the file and the field.

        See Also
        --------
        TruncatedSVDUpdater.save : Write the file this reads.
        """
        f = read_state(path, "config")
        version = f.raw_config.get("version")
        if type(version) is int and version == 1 and "center" not in f.raw_config:
            f.raw_config["center"] = False  # written before centring existed
        config = f.config(_CONFIG_SCHEMA)
        required = [name for name in _ARRAY_SCHEMA if name != "mean" or config["center"]]
        arrays = f.arrays(_ARRAY_SCHEMA, {"n": config["v_count"]}, required=required)
        s = arrays["s"]
        if s.shape[0] and (np.diff(s) > 0).any():
            raise f.error("s", "must be descending")
        for side in ("u", "v"):
            count, capacity = config[f"{side}_count"], arrays[f"{side}_buf"].shape[0]
            if not s.shape[0] <= count <= capacity:
                raise f.error(f"{side}_count", f"must satisfy k = {s.shape[0]} <= {side}_count <= the rows of "
                                               f"{side}_buf = {capacity}, got {count}")
        self = cls.__new__(cls)
        for name in cls._CONFIG:
            setattr(self, name, config[name])
        self._gen = config["rng"]
        self._u = _Factor(arrays["u_buf"], config["u_count"], arrays["u_K"])
        self._v = _Factor(arrays["v_buf"], config["v_count"], arrays["v_K"])
        self._s = s
        self._mean = arrays.get("mean")
        self.dtype = s.dtype
        self._cache = None
        return self

    def __repr__(self):
        form = "sparse-aware" if self.sparse_path else "dense"
        return (f"TruncatedSVDUpdater(shape={self.shape}, k={self.k}, method={self.method!r} ({form}), "
                f"{'center=True, ' if self.center else ''}n_updates={self.n_updates})")


#: The configuration of a saved updater.
_CONFIG_SCHEMA = {
    "method": ConfigField("option", options=SVD_UPDATE_METHODS),
    "sparse_path": ConfigField("bool"),
    "l": ConfigField("int", low=1),
    "n_power": ConfigField("int", low=0),
    "refactor_every": ConfigField("int", low=1, optional=True),
    "cond_limit": ConfigField("real", low=1),
    "flip_sign": ConfigField("bool"),
    "n_updates": ConfigField("int", low=0),
    "n_refactorizations": ConfigField("int", low=0),
    "n_folds": ConfigField("int", low=0),
    "center": ConfigField("bool"),
    "version": ConfigField("option", options=(1, _STATE_VERSION)),
    "rng": ConfigField("rng"),
    "u_count": ConfigField("int", low=1),
    "v_count": ConfigField("int", low=1),
}

#: The arrays of a saved updater: ``s`` binds the rank k and the dtype, the buffers their capacities.
_ARRAY_SCHEMA = {
    "s": ArrayField(("k",), low=0),
    "u_buf": ArrayField(("u_capacity", "k")),
    "u_K": ArrayField(("k", "k")),
    "v_buf": ArrayField(("v_capacity", "k")),
    "v_K": ArrayField(("k", "k")),
    "mean": ArrayField(("n",)),  # center=True only: the column means of the uncentred matrix
}


#: :func:`_svd_top` runs on one BLAS thread below this many flops (``m n^2``), where waking and synchronising
#: threads costs more than the second thread saves
_SVD_TOP_ONE_THREAD = 1e9


def _svd_top(M, k):
    """The leading `k` singular triplets ``(F_k, theta_k, G_k^T)`` of a dense `M`, exact (LAPACK).

    A tall `M` (at least 11/10 as many rows as columns) is first reduced by a Householder QR, ``M = Q R``; the
    left vectors of ``R`` (n x n) are carried back by applying the reflectors of ``Q`` to the `k` wanted columns
    only (``ormqr``), where the SVD of `M` itself forms all of ``Q`` and multiplies it with all left vectors of
    ``R``: ``4 m n k`` flops instead of ``~4 m n^2``.

    Threads: the tall path stays in scipy's LAPACK (``geqrf``, ``gesdd``, ``ormqr``), the other is NumPy's
    ``gesdd``, so that the two libraries' thread pools do not spin for cores against each other between its calls
    (``lowrank_la._backend.SMALL_WORK_NOTE``), and an `M` below :data:`_SVD_TOP_ONE_THREAD` flops is factored on
    one BLAS thread. Measured through ``IncrementalTruncatedSVD(center=True)`` on 2 cores, against scipy's QR and
    ``ormqr`` around NumPy's ``gesdd`` on all threads: digits in batches of 200 (``M`` 221 x 64), 11 ms against
    172 ms; 10,000 x 500 in batches of 1,000 (``M`` 1,021 x 500), 0.72 s against 1.83 s; 24,000 x 1,000 in
    batches of 3,000, ``k = 50`` (``M`` 3,051 x 1,000), 4.2 s against 5.1 s; 15,000 x 2,000, the same batches
    (``M`` 3,051 x 2,000), 11.6 s against 13.8 s (18.8 s on one thread).
    """
    m, n = M.shape
    with one_blas_thread() if m * n * n < _SVD_TOP_ONE_THREAD else contextlib.nullcontext():
        if m * 10 < 11 * n or M.dtype not in (np.float32, np.float64):
            F, theta, Gh = svd_small(M)
            return F[:, :k], theta[:k], Gh[:k]
        (qr, tau), R = scipy.linalg.qr(M, mode="raw", overwrite_a=True, check_finite=False)
        Ur, theta, Gh = svd_small(np.triu(R[:n]), lapack="scipy")
        ormqr = scipy.linalg.get_lapack_funcs("ormqr", (qr,))
        F = np.zeros((m, k), dtype=M.dtype, order="F")
        F[:n] = Ur[:, :k]
        lwork = max(int(ormqr("L", "N", qr, tau, F, -1)[1][0]), 1)
        F, _, info = ormqr("L", "N", qr, tau, F, lwork, overwrite_c=True)
        if info != 0:  # pragma: no cover - ormqr reports argument errors only
            raise RuntimeError(f"LAPACK ormqr failed with info = {info}")
        return np.ascontiguousarray(F), theta[:k], Gh[:k]


def _apply_extra(fac, extra):
    """Write the new rows (``uid`` None: appended) and the row corrections (on the rows ``uid``) of `extra`, a
    list of ``(uid, delta)``, into the buffer; a correction ``delta = (x, y)`` is the rank-one ``x y^T``.

    Only called from ``_commit``: a new buffer is allocated when the old one is full, otherwise the
    caller's arrays are written in place."""
    for uid, delta in extra or ():
        if uid is None:  # append rows
            need = fac.count + delta.shape[0]
            buf = fac.buf
            if need > buf.shape[0]:
                buf = np.zeros((max(need, 2 * buf.shape[0]), buf.shape[1]), dtype=buf.dtype)
                buf[: fac.count] = fac.buf[: fac.count]
            buf[fac.count: need] = delta
            fac = _Factor(buf, need, fac.K)
        elif isinstance(delta, tuple):
            _add_outer(fac.buf, _rows(uid, fac.count), *delta)
        elif uid.size:
            fac.buf[_rows(uid, fac.count)] += delta
    return fac


def _add_outer(buf, rows, x, y, chunk=4096):
    """``buf[rows] += x y^T`` in blocks of `chunk` rows (no dense temporary of the whole size: one pass)."""
    if isinstance(rows, slice):
        for start in range(0, x.shape[0], chunk):
            part = x[start: start + chunk]
            buf[start: start + part.shape[0]] += part[:, None] * y
    elif rows.size:
        buf[rows] += x[:, None] * y


def _rows(uid, count):
    """The rows `uid` (sorted, unique, below `count`) as an index: a slice (a view, no copy) when they are all
    ``count`` rows, as for the dense columns of centring."""
    return slice(0, count) if uid.size == count else uid


def _pow2_shift(*blocks) -> int:
    """The exponent ``e`` that brings the largest magnitude of the `blocks` (arrays, sparse matrices or None)
    near 1 (``0`` for zero blocks).

    Squared norms of the update's columns (Gram-Schmidt, the dependence test) overflow above ~1e154 and underflow
    below ~1e-154; scaling by ``2^e`` is exact, and ``C`` and ``T`` are scaled back by ``2^-e``, so that the
    update of ``c A`` is ``c`` times the update of ``A``.
    """
    top = 0.0
    for cols in blocks:
        data = np.empty(0) if cols is None else cols.data if is_sparse(cols) else cols
        top = max(top, float(np.max(np.abs(data))) if data.size else 0.0)
    if not 0.0 < top < math.inf:
        return 0
    return -math.frexp(top)[1]


def _column_sums(X):
    """Column sums of a dense, sparse or Dask matrix, summed in float64, as a NumPy vector."""
    return np.asarray(X.sum(axis=0, dtype=np.float64)).ravel()


def _with_column(X, v):
    """``[X, v]``: a sparse `X` stays sparse (`v` becomes one stored column), a dense one is copied."""
    if is_sparse(X):
        return sp.hstack([X, sp.csc_array(v[:, None])], format="csc")
    return np.concatenate([X, v[:, None].astype(X.dtype, copy=False)], axis=1)


def _with_capacity(rows, capacity):
    """`rows` copied into a zero-padded buffer of `capacity` rows."""
    buf = np.zeros((max(capacity, rows.shape[0]), rows.shape[1]), dtype=rows.dtype)
    buf[: rows.shape[0]] = rows
    return buf


def _touched_rows(cols, dtype, *, dense=True):
    """The rows a (dim, s) block touches, and the block restricted to them as a (t, s) array.

    For sparse input and ``dense=False`` the restricted block stays a CSR matrix (the approximate methods only
    multiply with it, so a wide batch never becomes a dense t x s array)."""
    if is_sparse(cols):
        csc = sp.csc_array(cols)
        if not csc.has_canonical_format:
            csc = csc.copy()  # the caller's matrix is never touched
            csc.sum_duplicates()
        rows = csc.indices
        which = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
        uid, inv = np.unique(rows, return_inverse=True)
        if not dense:
            data = csc.data.astype(dtype, copy=False)
            return uid, sp.csr_array((data, (inv, which)), shape=(uid.size, csc.shape[1]))
        B = np.zeros((uid.size, csc.shape[1]), dtype=dtype)
        B[inv, which] = csc.data
        return uid, B
    cols = np.asarray(cols)
    uid = np.flatnonzero(np.any(cols != 0, axis=1))
    return uid, np.ascontiguousarray(cols[uid], dtype=dtype)


def _check_factors(U, s, Vh):
    U, s, Vh = (as_matrix(a, name, ndim=nd, sparse=False) for name, a, nd in (("U", U, 2), ("s", s, 1), ("Vh", Vh, 2)))
    for name, a in (("U", U), ("s", s), ("Vh", Vh)):
        if hasattr(a, "__array_namespace__") and not isinstance(a, np.ndarray):
            raise TypeError(f"{name} is a {type(a).__module__}.{type(a).__name__}: TruncatedSVDUpdater keeps its "
                            "state in NumPy; update CuPy (or other array-API) factors on their device with "
                            "svd_update(U, s, Vh, E), or pass NumPy arrays")
    U, s, Vh = np.asarray(U), np.asarray(s), np.asarray(Vh)
    dtype = working_dtype(np.result_type(U.dtype, s.dtype, Vh.dtype), np, name="U, s, Vh")
    U, s, Vh = U.astype(dtype), s.astype(dtype), Vh.astype(dtype)
    check_factors(U, s, Vh, np)
    return U, s, Vh


@refuse_random_state
def svd_update(U, s, Vh, E, *, kind="rows", method="zha-simon", sparse_path=True, l=10, n_power=3,
               flip_sign=True, rng=None):
    r"""Update a truncated SVD ``U diag(s) Vh`` by new rows or columns `E`: functional form.

    Parameters
    ----------
    U, s, Vh : arrays
        The current rank-k truncated SVD, ``U`` (m, k), ``s`` (k,), ``Vh`` (k, n), checked as in
        :class:`TruncatedSVDUpdater` (``s`` in any order, orthonormality to 1e-6 / 1e-3). Never modified. CuPy (or other
        array-API) arrays are updated in their namespace and on their device by the dense Zha-Simon update
        (GEMMs, one thin QR and one small SVD; ``method="zha-simon"`` only, `E` dense in the same namespace).
    E : array or sparse matrix
        The new rows (s, n) for ``kind="rows"``, the new columns (m, s) for ``kind="columns"``. A Dask array is
        refused with a ``TypeError`` (the exact update needs all of `E` at once): feed its chunks to
        :meth:`TruncatedSVDUpdater.add_rows` or ``add_columns``, which update once per chunk.
    kind : {"rows", "columns"}
        What `E` holds.
    method : {"zha-simon", "gkl", "rpi"}
        As in :class:`TruncatedSVDUpdater`.
    sparse_path : bool
        As in :class:`TruncatedSVDUpdater`.
    l : int
        As in :class:`TruncatedSVDUpdater`.
    n_power : int
        As in :class:`TruncatedSVDUpdater`.
    flip_sign : bool
        Apply the library's sign rule to the result.
    rng : None, int or numpy.random.Generator
        As in :class:`TruncatedSVDUpdater` (used by the randomized methods only).

    Returns
    -------
    SVDResult
        The rank-k truncated SVD of ``[U diag(s) Vh; E]`` (or ``[U diag(s) Vh, E]``), exact for
        ``method="zha-simon"``.

    Raises
    ------
    ValueError
        If the shapes do not agree, an input is empty or holds NaN or Inf, ``s`` has a negative entry, ``U`` or
        ``Vh`` is not orthonormal (as in :class:`TruncatedSVDUpdater`), or an option is unknown.

    See Also
    --------
    TruncatedSVDUpdater : Keep the truncated SVD current over many updates, with low-rank edits and centring.
    rsvd : Recompute a truncated SVD from scratch.
    SVD_UPDATE_METHODS : The names accepted by `method`.

    Notes
    -----
    One update of :class:`TruncatedSVDUpdater`; see there for the math and the cost. There is no ``center``
    here: the centred update needs the column means and the row count, and returns new means; use
    ``TruncatedSVDUpdater(A0, k, center=True)``, which carries them from update to update (and saves them).

    References
    ----------
    .. [1] H. Zha, H. D. Simon, SIAM J. Sci. Comput. 21(2) (1999) 782-791.
    .. [2] H. Deng et al., "Fast updating truncated SVD for representation learning with sparse matrices",
       ICLR 2024, arXiv:2401.09703.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 3)) @ rng.standard_normal((3, 20))
    >>> U, s, Vh = np.linalg.svd(A[:20], full_matrices=False)
    >>> res = svd_update(U[:, :3], s[:3], Vh[:3], A[20:])
    >>> bool(np.allclose(res.s, np.linalg.svd(A, compute_uv=False)[:3]))
    True
    """
    kind = check_option(kind, "kind", ["rows", "columns"])
    if is_dask(E):
        raise TypeError("E is a Dask array, and svd_update is one exact update with all of E at once; feed its "
                        "chunks to TruncatedSVDUpdater(U=U, s=s, Vh=Vh).add_rows (or add_columns), which updates once "
                        "per chunk, or pass E.compute() if it fits in memory")
    if hasattr(U, "__array_namespace__") and not isinstance(U, np.ndarray):  # CuPy, or another array-API library
        check_option(method, "method", ["zha-simon"])
        if is_sparse(E):
            raise TypeError("E must be a dense array of the namespace of U, s and Vh off NumPy, got a sparse matrix")
        return zha_simon_update(U, s, Vh, E, kind=kind, flip_sign=flip_sign)
    up = TruncatedSVDUpdater(U=U, s=s, Vh=Vh, method=method, sparse_path=sparse_path, l=l, n_power=n_power,
                             flip_sign=flip_sign, rng=rng)
    if kind == "rows":
        up.add_rows(E)
    else:
        up.add_columns(E)
    U2, s2, Vh2 = up.result
    return SVDResult(np.array(U2), np.array(s2), np.array(Vh2))


