"""Randomly pivoted Cholesky (Chen, Epperly, Tropp, Webber), its block and accelerated (rejection) variants, and
greedy and uniform pivoting, from entry access: a matrix, or a kernel function and data points."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .._backend import array_namespace, as_rng, is_numpy_namespace, to_numpy
from .._validate import (
    as_matrix,
    check_int,
    check_operand,
    check_option,
    check_rank,
    check_tolerance,
    is_linear_operator,
    is_sparse,
    refuse_random_state,
)
from ..svd._common import pow2_exponent
from ._results import RPCholeskyResult

__all__ = ["KernelMatrix", "rpcholesky"]

METHODS = ("rp", "greedy", "uniform")


class KernelMatrix:
    """The kernel matrix ``K[i, j] = kernel(x_i, x_j)`` of data points, evaluated in blocks and never formed.

    Parameters
    ----------
    kernel : callable
        ``kernel(X, Y)`` returns the (len(X), len(Y)) matrix of kernel values between the rows of `X` and `Y`
        (for example ``sklearn.metrics.pairwise.rbf_kernel``). It must be symmetric and positive semidefinite;
        a result of another shape, or with NaN or Inf, is refused with a ``ValueError`` naming `kernel`.
    points : (n, d) array_like
        The data points, as rows (read by the input rule; never modified).
    diag : callable, optional
        ``diag(X)`` returns the (len(X),) diagonal ``kernel(x_i, x_i)`` (1 for RBF kernels). Default: the
        diagonals of ``kernel`` on blocks of at most 256 points.
    block_rows : int
        Rows of ``K`` evaluated at a time in products (memory ``block_rows * n``).

    See Also
    --------
    rpcholesky : The partial Cholesky factorization that reads only a few of its columns.
    nystrom : The Nystrom approximation, which reads it through block products.
    lowrank_la.MatrixOperator : The block-product interface of the other matrices.

    Notes
    -----
    An operator (``shape``, ``dtype``, ``matmat``, ``rmatmat``, ``@``) that every function of
    :mod:`lowrank_la.psd` accepts: ``K @ V`` evaluates ``K`` block by block (``n^2`` kernel evaluations per
    product, memory ``O(block_rows n)``), so that :func:`nystrom_pcg` and the trace estimators work on kernels too
    large to store. :func:`rpcholesky` uses only :meth:`diagonal` and :meth:`columns`: ``O(n k)`` evaluations.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import KernelMatrix
    >>> X = np.random.default_rng(0).standard_normal((100, 3))
    >>> rbf = lambda X, Y: np.exp(-((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) / 2)
    >>> K = KernelMatrix(rbf, X, diag=lambda X: np.ones(len(X)))
    >>> K.shape, bool(np.allclose(K.columns([0, 5]), rbf(X, X[[0, 5]])))
    ((100, 100), True)
    """

    def __init__(self, kernel, points, *, diag=None, block_rows=1024):
        if not callable(kernel):
            raise TypeError(f"kernel must be callable as kernel(X, Y), got {type(kernel).__name__}")
        if diag is not None and not callable(diag):
            raise TypeError(f"diag must be None or callable as diag(X), got {type(diag).__name__}")
        points = np.asarray(to_numpy(as_matrix(points, "points", sparse=False)))
        self.dtype = np.dtype(np.float32 if points.dtype in (np.float16, np.float32) else np.float64)
        self.points = points.astype(self.dtype)  # a copy: later changes to the caller's array do not leak in
        self.kernel = kernel
        self.diag = diag
        self.block_rows = check_int(block_rows, "block_rows", low=1)
        self.shape = (points.shape[0], points.shape[0])

    def __repr__(self):
        return f"<KernelMatrix {self.shape[0]}x{self.shape[1]}, {self.points.shape[1]}-dimensional points>"

    def _evaluate(self, rows, cols):
        X, Y = self.points[rows], self.points[cols]
        out = self.kernel(X, Y)
        out = np.asarray(out.toarray() if is_sparse(out) else to_numpy(out))
        if out.shape != (X.shape[0], Y.shape[0]):
            raise ValueError(f"kernel returned shape {out.shape} for {X.shape[0]} and {Y.shape[0]} points; it must "
                             f"return the ({X.shape[0]}, {Y.shape[0]}) matrix kernel(X, Y)")
        if out.dtype.kind not in "biuf":
            raise ValueError(f"kernel returned dtype {out.dtype}; it must return real numbers")
        if not np.all(np.isfinite(out)):
            raise ValueError("kernel returned NaN or Inf values")
        return out.astype(self.dtype, copy=False)

    def _indices(self, idx):
        idx = np.asarray(to_numpy(as_matrix(idx, "idx", ndim=1, sparse=False)))
        if idx.dtype.kind not in "iu":
            raise TypeError(f"idx must hold integer indices, got dtype {idx.dtype}")
        n = self.shape[0]
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
            raise ValueError(f"idx must satisfy 0 <= idx < n = {n}, got {int(idx.min())} .. {int(idx.max())}")
        return idx.astype(np.intp)

    def columns(self, idx):
        """Evaluate the columns ``K[:, idx]``.

        Parameters
        ----------
        idx : sequence of int
            Column indices, ``0 <= idx < n``.

        Returns
        -------
        (n, len(idx)) numpy.ndarray
            The columns, in the working dtype (float32 for float32 points, else float64).

        See Also
        --------
        KernelMatrix.block : A principal submatrix.
        KernelMatrix.diagonal : The diagonal.
        """
        return self._evaluate(slice(None), self._indices(idx))

    def block(self, idx):
        """Evaluate the principal submatrix ``K[idx][:, idx]``.

        Parameters
        ----------
        idx : sequence of int
            Row and column indices, ``0 <= idx < n``.

        Returns
        -------
        (len(idx), len(idx)) numpy.ndarray
            The submatrix, in the working dtype.

        See Also
        --------
        KernelMatrix.columns : Whole columns.
        """
        idx = self._indices(idx)
        return self._evaluate(idx, idx)

    def diagonal(self):
        """Evaluate the diagonal of ``K`` (through `diag` when it was given).

        Returns
        -------
        (n,) numpy.ndarray
            ``diag(K)``, in the working dtype.

        See Also
        --------
        KernelMatrix.columns : Columns of the kernel matrix.
        """
        n = self.shape[0]
        if self.diag is not None:
            d = np.asarray(to_numpy(self.diag(self.points)))
            if d.shape != (n,):
                raise ValueError(f"diag returned shape {d.shape}; it must return the ({n},) diagonal")
            if not np.all(np.isfinite(d)):
                raise ValueError("diag returned NaN or Inf values")
            return d.astype(self.dtype, copy=False)
        step = min(self.block_rows, 256)
        return np.concatenate([np.diagonal(self._evaluate(slice(i, i + step), slice(i, i + step)))
                               for i in range(0, n, step)])

    def matmat(self, V):
        """Multiply by ``K``, evaluating it in blocks of `block_rows` rows (never all of it at once).

        Parameters
        ----------
        V : (n, l) or (n,) array_like
            Real block or vector, finite.

        Returns
        -------
        (n, l) or (n,) numpy.ndarray
            ``K @ V``.

        See Also
        --------
        KernelMatrix.rmatmat : The product with the transpose, the same for a symmetric kernel.
        """
        V = np.asarray(to_numpy(check_operand(V, "V", self.shape[0], "n", sparse=False, allow_complex=False)))
        out = np.empty(V.shape, dtype=np.result_type(self.dtype, V.dtype, np.float32))
        for i in range(0, self.shape[0], self.block_rows):
            out[i:i + self.block_rows] = self._evaluate(slice(i, i + self.block_rows), slice(None)) @ V
        return out

    def rmatmat(self, V):
        """Multiply by ``K^T``, which is ``K`` (a kernel matrix is symmetric).

        Parameters
        ----------
        V : (n, l) or (n,) array_like
            Real block or vector, finite.

        Returns
        -------
        (n, l) or (n,) numpy.ndarray
            ``K^T @ V = K @ V``.

        See Also
        --------
        KernelMatrix.matmat : The product this delegates to.
        """
        return self.matmat(V)

    __matmul__ = matmat


class _Entries:
    """Entry access to a PSD matrix: its diagonal, columns and principal blocks, scaled by ``2^e`` (exactly)."""

    def __init__(self, A, points, name="A"):
        self.xp = None
        if callable(A) and not hasattr(A, "shape"):
            if points is None:
                raise TypeError(f"{name} is a kernel function: pass the data points as points=")
            A = KernelMatrix(A, points)
        elif points is not None:
            raise TypeError(f"points= is only for a kernel function {name}; got a matrix {name} as well")
        if isinstance(A, KernelMatrix):
            self.kernel = A
            self.n, self.dtype = A.shape[0], A.dtype
        elif is_linear_operator(A) and not hasattr(A, "__array_namespace__"):
            raise TypeError(f"{name} must give entry access (a dense or sparse matrix, a KernelMatrix, or a kernel "
                            f"function with points=); a {type(A).__name__} only gives products")
        else:
            A = as_matrix(A, name)
            m, n = A.shape
            if m != n:
                raise ValueError(f"{name} must be square, got shape ({m}, {n})")
            if not is_sparse(A):
                self.xp = array_namespace(A)
                A = np.asarray(to_numpy(A))
            self.kernel = None
            self.A, self.n = A, n
            kind = A.dtype.kind
            self.dtype = np.dtype(np.float32 if A.dtype in (np.float32, np.float16) else np.float64)
            if kind not in "biuf":  # pragma: no cover - as_matrix refuses complex and object input
                raise TypeError(f"{name} must be real")
        self.name = name
        self.evaluated = 0
        self.e = 0

    def diagonal(self):
        d = self.kernel.diagonal() if self.kernel is not None else np.asarray(self.A.diagonal())
        self.evaluated += self.n
        d = np.asarray(d, dtype=np.float64)
        top = float(np.max(d)) if d.size else 0.0
        if np.any(d < -1e3 * np.finfo(self.dtype).eps * max(top, 0.0)) or (top < 0):
            raise ValueError(f"{self.name} must be positive semidefinite, but its diagonal has the negative entry "
                             f"{float(np.min(d)):.3g}")
        self.e = pow2_exponent(top) // 2 * 2  # even: sqrt(2^e) = 2^(e/2) exactly
        return np.ldexp(np.maximum(d, 0.0), self.e)

    def columns(self, idx):
        self.evaluated += self.n * len(idx)
        if self.kernel is not None:
            C = self.kernel.columns(idx)
        else:
            C = self.A[:, idx]
            C = C.toarray() if is_sparse(C) else C
        return np.ldexp(np.asarray(C, dtype=np.float64), self.e)

    def block(self, idx):
        self.evaluated += len(idx) ** 2
        if self.kernel is not None:
            H = self.kernel.block(idx)
        else:
            H = self.A[np.ix_(idx, idx)] if not is_sparse(self.A) else self.A[idx][:, idx].toarray()
        return np.ldexp(np.asarray(H, dtype=np.float64), self.e)


def _eliminate(H, accept, floor, gen):
    """Pivoted Cholesky of the residual block `H` over its candidates in order; ``(L, kept)``.

    ``accept="rejection"``: candidate ``j`` is kept with probability ``H'_jj / H_jj`` (its residual after the
    kept ones, over its residual when it was sampled), which makes block sampling follow sequential RPCholesky
    exactly (Epperly, Tropp, Webber). ``accept="all"``: every candidate is kept. Either way a candidate whose
    residual is at most `floor` (rounding) is not.
    """
    H = np.array(H, dtype=np.float64)
    b = H.shape[0]
    u = np.diag(H).copy()
    tiny = max(floor, np.finfo(np.float64).tiny)
    L = np.zeros((b, b))
    kept = []
    draws = gen.random(b) if accept == "rejection" else None
    for j in range(b):
        hjj = H[j, j]
        ok = hjj > tiny and (draws is None or draws[j] * u[j] < hjj)
        if ok:
            kept.append(j)
            L[j:, j] = H[j:, j] / math.sqrt(hjj)
            H[j + 1:, j + 1:] -= np.outer(L[j + 1:, j], L[j + 1:, j])
    kept = np.asarray(kept, dtype=np.intp)
    return L[np.ix_(kept, kept)], kept


def _candidates(method, accelerated, d, b, chosen, gen):
    """Candidate pivots for the next block, and the acceptance rule of :func:`_eliminate`."""
    n = d.size
    if method == "greedy":
        if b == 1:
            return np.array([int(np.argmax(d))]), "all"
        part = np.argpartition(d, -b)[-b:]
        return part[np.argsort(-d[part], kind="stable")], "all"
    if method == "uniform":
        free = np.setdiff1d(np.arange(n), chosen, assume_unique=False)
        return gen.choice(free, size=min(b, free.size), replace=False), "all"
    p = d / d.sum()
    if b == 1:
        return np.array([gen.choice(n, p=p)]), "all"
    if accelerated:
        return gen.choice(n, size=b, p=p, replace=True), "rejection"
    draws = gen.choice(n, size=2 * b, p=p, replace=True)
    _, first = np.unique(draws, return_index=True)
    return draws[np.sort(first)][:b], "all"


@refuse_random_state
def rpcholesky(A, k, *, points=None, method="rp", block_size="auto", accelerated=True, tol=None, rng=None):
    """Partial Cholesky ``A ~ F F^T`` with pivots drawn by randomly pivoted Cholesky, from a few columns of `A`.

    Parameters
    ----------
    A : (n, n) array, sparse matrix, KernelMatrix, or callable
        Symmetric positive semidefinite, given by entry access: a dense or sparse matrix, a
        :class:`KernelMatrix`, or a kernel function ``kernel(X, Y)`` together with `points` (wrapped into a
        :class:`KernelMatrix`). Only the diagonal and the pivot columns are evaluated (``n (k + 1)`` entries,
        plus ``b^2`` per block of candidates); the matrix is never formed. Never modified.
    k : int
        Number of pivots (columns of ``F``), ``1 <= k <= n``.
    points : (n, d) array_like, optional
        The data points of a kernel function `A`.
    method : {"rp", "greedy", "uniform"}
        Pivot rule: random, proportional to the residual diagonal (RPCholesky, the default); the largest residual
        diagonal entry (greedy, the classical pivoted Cholesky); uniformly random columns (the Nystrom method on
        random columns). The last two are the baselines RPCholesky improves on.
    block_size : int or "auto"
        Pivots sampled at a time. 1 gives the sequential algorithm. "auto": ``ceil(k / 10)`` (at most 100) for
        "rp", 1 for "greedy", ``k`` for "uniform".
    accelerated : bool
        With "rp" and ``block_size > 1``: accept each sampled candidate by rejection (the accelerated
        RPCholesky of Epperly, Tropp and Webber), which reproduces the sequential algorithm's pivot
        distribution at block speed. False: plain block RPCholesky (distinct samples, all kept).
    tol : float, optional
        Stop early once ``tr(A - F F^T) <= tol tr(A)``. It always stops when the residual is rounding (``A`` has
        rank below `k`): no pivot is taken whose residual diagonal entry is below ``100 eps max diag(A)``.
    rng : None, int or numpy.random.Generator
        Source of the pivots.

    Returns
    -------
    RPCholeskyResult
        ``F`` (n, r) in `A`'s dtype and namespace (r <= k), ``pivots`` (r,), ``residual_trace``
        (``tr(A - F F^T)``, the trace-norm error), ``trace`` and ``n_entries`` (entries of `A` evaluated).

    Raises
    ------
    ValueError
        If `A` is not square, has a negative diagonal entry, its pivot block is not symmetric, the kernel returns
        the wrong shape or non-finite values, or an argument is out of range.
    TypeError
        If `A` gives products only (a LinearOperator), or `points` goes with a matrix.

    See Also
    --------
    KernelMatrix : A kernel matrix to pass as `A`, evaluated column by column.
    nystrom : The Nystrom approximation from block products, for matrices given as arrays or operators.
    lowrank_la.factor.cur : Column and row selection for matrices that are not PSD.

    Notes
    -----
    Each step draws a pivot ``s`` with probability ``d_s / sum(d)`` (``d``: the diagonal of the residual
    ``A - F F^T``), evaluates column ``s``, and eliminates it: ``g = A[:, s] - F F[s]^T``, ``F <- [F, g /
    sqrt(g_s)]``, ``d <- d - g^2 / g_s``. Cost: ``k`` column evaluations and ``O(n k^2)`` arithmetic. In
    expectation the trace-norm error is within ``(1 + eps)`` of the best rank-r error after
    ``r / eps + r log(1 / (eps eta))`` steps, ``eta`` the relative error of the best rank-r approximation [1]_.
    Greedy pivoting chases outliers and uniform sampling misses small clusters; RPCholesky balances the two.

    References
    ----------
    .. [1] Y. Chen, E. N. Epperly, J. A. Tropp, R. J. Webber, "Randomly pivoted Cholesky: practical approximation
       of a kernel matrix with few entry evaluations", Comm. Pure Appl. Math. (2024) (arXiv:2207.06503).
    .. [2] E. N. Epperly, J. A. Tropp, R. J. Webber, "Embrace rejection: kernel matrix approximation by
       accelerated randomly pivoted Cholesky" (arXiv:2410.03969).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import rpcholesky
    >>> X = np.random.default_rng(0).standard_normal((1000, 2))
    >>> rbf = lambda X, Y: np.exp(-((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1) / 8)
    >>> res = rpcholesky(rbf, 60, points=X, rng=0)       # 60 columns of a 1000 x 1000 kernel, never formed
    >>> res.F.shape, bool(res.residual_trace < 1e-6 * res.trace), res.n_entries < 1000 * 62
    ((1000, 60), True, True)
    """
    E = _Entries(A, points)
    n = E.n
    k = check_rank(k, (n, n), "k", upper=n, upper_text=f"n = {n}")
    check_option(method, "method", METHODS)
    if not isinstance(accelerated, (bool, np.bool_)):
        raise TypeError(f"accelerated must be True or False, got {accelerated!r}")
    if block_size == "auto":
        b = {"rp": min(100, math.ceil(k / 10)), "greedy": 1, "uniform": k}[method]
    else:
        b = check_int(block_size, "block_size", low=1)
    tol = 0.0 if tol is None else check_tolerance(tol, high=1)
    gen = as_rng(rng)
    d = E.diagonal()
    trace = float(d.sum())
    floor = 100 * np.finfo(E.dtype).eps * (float(np.max(d)) if n else 0.0)  # a residual entry that is rounding
    stop = max(tol * trace, n * floor)
    Ft = np.zeros((k, n))  # F^T, row-major: the updates touch whole rows
    pivots = np.zeros(k, dtype=np.intp)
    count, idle = 0, 0
    while count < k and float(d.sum()) > stop and idle < 10:
        cand, rule = _candidates(method, accelerated, d, min(b, k - count), pivots[:count], gen)
        if rule == "rejection" or cand.size > 1:
            H = E.block(cand)
            _check_symmetric(H, E.name)
            H = H - Ft[:count, cand].T @ Ft[:count, cand]
        else:
            H = d[cand].reshape(1, 1)
        L, kept = _eliminate(H, rule, floor, gen)
        if kept.size == 0:  # every candidate is numerically dependent on the pivots chosen
            idle += 1 if method == "rp" else 10
            continue
        idle = 0
        kept = kept[: k - count]
        L = L[: kept.size, : kept.size]
        S = cand[kept]
        G = E.columns(S).T - Ft[:count, S].T @ Ft[:count]  # residual columns, as rows
        rows = scipy.linalg.solve_triangular(L, G, lower=True, check_finite=False)
        Ft[count:count + S.size] = rows
        pivots[count:count + S.size] = S
        count += S.size
        d = np.maximum(d - np.sum(rows**2, axis=0), 0.0)
    F = np.ldexp(Ft[:count].T, -E.e // 2).astype(E.dtype)
    if E.xp is not None and not is_numpy_namespace(E.xp):
        F = E.xp.asarray(F)
    return RPCholeskyResult(F, pivots[:count].copy(), math.ldexp(float(d.sum()), -E.e), math.ldexp(trace, -E.e),
                            E.evaluated)


def _check_symmetric(H, name):
    """The evaluated principal block must be symmetric (a free check of `A` and of a kernel)."""
    size = float(np.linalg.norm(H))
    if size > 0 and float(np.linalg.norm(H - H.T)) > 1e-6 * size:
        raise ValueError(f"{name} must be symmetric, but its principal submatrix at the sampled pivots is not")
