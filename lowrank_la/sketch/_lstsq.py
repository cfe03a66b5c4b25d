"""Tall least squares by sketch-and-precondition (Blendenpik / LSRN style)."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse.linalg as spla

from .._backend import (
    ConvergenceWarning,
    SolverResult,
    array_namespace,
    as_rng,
    device_of,
    is_numpy_namespace,
    qr_econ,
    to_numpy,
    working_dtype,
)
from .._validate import (
    as_matrix,
    check_int,
    check_shape_agrees,
    check_tolerance,
    is_dask,
    is_sparse,
    refuse_random_state,
)
from ..svd._common import ldexp_safe, pow2_exponent
from ._operators import make_sketch

__all__ = ["lstsq_sketched"]


@refuse_random_state
def lstsq_sketched(A, b, *, sketch="sparse_sign", oversample=6, tol=1e-10, maxiter=None, rng=None):
    r"""Solve ``min_x ||A x - b||_2`` for a tall ``A`` by sketch-and-precondition.

    A random sketch ``S`` (``s x N``, ``s = oversample * k``) gives ``S A = Q R``; ``R`` is a preconditioner
    that makes ``A R^{-1}`` well conditioned (condition number about
    ``(1 + sqrt(1/oversample)) / (1 - sqrt(1/oversample))``: 2.4 for the default ``oversample=6``, below 3
    with probability about 0.99 or more in the tests), whatever the
    conditioning of ``A``. LSQR on ``A R^{-1}`` then converges in ``O(log(1/tol))`` steps, started at the
    sketch-and-solve point ``x_0 = R^{-1} Q^T S b``.

    Parameters
    ----------
    A : (N, k) array, list or scipy.sparse matrix
        Tall design, ``N >= k``, full column rank, finite; only touched through products after the sketch.
        Arrays of other array-API namespaces (array-api-strict, CuPy, torch) are solved on the host (scipy's
        LSQR), and ``x``, ``x0`` and ``R`` are returned in their namespace, on their device. A Dask array is
        never gathered (any chunking): one pass for ``max |A|`` and the finiteness check, one for the sketch
        ``S A`` (a sum of per-chunk sketches, the same draws as for NumPy), then two passes per LSQR step
        (``A @ y`` and ``A.T @ r``, chunk by chunk); the client holds vectors of length N and ``O(s k)``
        numbers. The result (NumPy) equals the NumPy one up to rounding. With ``oversample * k >= N`` A is
        computed and solved directly: it is then no larger than its sketch would be.
    b : (N,) array or list
        Right-hand side, finite (NumPy or Dask; a Dask `b` is rechunked like the rows of `A`).
    sketch : str
        Any kind of :func:`lowrank_la.sketch.make_sketch`; ``"sparse_sign"`` (8 nonzeros per column) costs
        ``O(8 nnz(A))`` and suits sparse and dense ``A``; ``"srht"`` and ``"gaussian"`` work too.
    oversample : int
        Sketch rows per unknown, ``>= 2``. If ``oversample * k >= N`` sketching cannot help and the problem is
        solved directly (``scipy.linalg.lstsq``).
    tol : float
        LSQR's ``atol = btol``: it stops when ``||(A R^-1)^T r|| <= tol ||A R^-1|| ||r||`` (or the residual is
        ``tol``-small), so the forward error is about ``tol`` times the condition number of ``A R^-1``, not of
        ``A``. Clipped below at the dtype's machine epsilon.
    maxiter : int, optional
        Cap on the LSQR steps (default ``10 + 2 log2(1/tol)``, far above what a good preconditioner needs).
    rng : None, int or numpy.random.Generator
        Randomness of the sketch.

    Returns
    -------
    SolverResult
        ``x`` (k,) in the dtype of ``A`` and ``b``; ``R`` (k, k), the preconditioner; ``x0``, the
        sketch-and-solve point; ``converged``; ``n_iter`` (LSQR steps); ``method`` (``"sketch"`` or
        ``"direct"``); ``history`` with ``residual`` = ``[||b - A x0||, ||b - A x||]``.

    Raises
    ------
    ValueError
        If ``A`` is not tall (``N < k``), the shapes disagree, an input holds NaN or Inf, an argument is out of
        range, or the solution is not representable in the dtype (for example ``A * 1e-310`` with ``b`` of
        order one).
    numpy.linalg.LinAlgError
        If the sketch of ``A`` is numerically rank deficient (``A`` has no full column rank).

    Warns
    -----
    ConvergenceWarning
        If LSQR stops at `maxiter` before `tol` (then ``converged`` is False).

    See Also
    --------
    lowrank_la.psd.nystrom_pcg : Preconditioned CG for regularised positive semidefinite systems.
    numpy.linalg.lstsq : The dense direct solver.
    scipy.sparse.linalg.lsqr : LSQR without a preconditioner.

    Notes
    -----
    The problem is solved as ``(2^ea A) y = 2^eb b`` with ``max |2^ea A|`` and ``max |2^eb b|`` near one, and
    ``x = 2^(ea - eb) y``: exact powers of two, so ``f(c A, d b) = (d / c) f(A, b)`` from ``c, d = 1e-310`` to
    ``1e300`` wherever the solution is representable. ``A`` is copied for this only when ``max |A|`` is
    outside ``2^-64 .. 2^64``.

    Cost: the sketch ``O(8 nnz(A))`` (sparse sign), the QR ``O(s k^2)``, and ``O(nnz(A) + k^2)`` per LSQR step,
    so ``O(nnz(A) log(1/tol) + k^3)`` in all, against ``O(N k^2)`` for a dense QR. It pays when ``N >> k``
    and ``k`` is large enough that ``k >> log(1/tol)``.

    References
    ----------
    .. [1] H. Avron, P. Maymounkov, S. Toledo, "Blendenpik: Supercharging LAPACK's least-squares solver",
           SIAM J. Sci. Comput. 32(3), 2010.
    .. [2] X. Meng, M. A. Saunders, M. W. Mahoney, "LSRN: A parallel iterative solver for strongly over- or
           underdetermined systems", SIAM J. Sci. Comput. 36(2), 2014.
    .. [3] Y. Gu, Z. Song, J. Yin, L. Zhang, "Low Rank Matrix Completion via Robust Alternating Minimization in
           Nearly Linear Time", ICLR 2024 (the per-row solver of the robust AltMin step).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sketch import lstsq_sketched
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((2000, 20)) * np.logspace(0, 6, 20)   # condition number ~1e6
    >>> b = rng.standard_normal(2000)
    >>> res = lstsq_sketched(A, b, rng=0)
    >>> x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    >>> bool(res.converged), bool(np.linalg.norm(A @ (res.x - x_ref)) < 1e-8 * np.linalg.norm(A @ x_ref))
    (True, True)
    >>> bool(np.linalg.cond(A @ np.linalg.inv(res.R)) < 3)
    True
    """
    A = as_matrix(A, "A")
    b = as_matrix(b, "b", ndim=1, sparse=False)
    N, k = A.shape
    if N < k:
        raise ValueError(f"A must be tall: A.shape[0]={N} must satisfy A.shape[0] >= A.shape[1] = {k}")
    check_shape_agrees("b.shape[0]", b.shape[0], N, "A.shape[0]")
    oversample = check_int(oversample, "oversample", low=2)
    tol = check_tolerance(tol, "tol", high=1)
    # other array-API namespaces (array-api-strict, CuPy, torch): solved on the host, returned in theirs
    out_xp, out_device = None, None
    lazy = is_dask(A) or is_dask(b)
    if lazy:
        A, b = _dask_operands(A, b)
    elif not is_sparse(A) and not is_numpy_namespace(array_namespace(A)):
        out_xp, out_device = array_namespace(A), device_of(A)
    if not lazy:
        A = A if is_sparse(A) else to_numpy(A)
        b = to_numpy(b)
    dtype = np.result_type(working_dtype(A.dtype, np, name="A"), working_dtype(b.dtype, np, name="b"))
    tol = max(tol, float(np.finfo(dtype).eps))
    if maxiter is None:
        maxiter = int(10 + 2 * np.log2(1 / tol))
    maxiter = check_int(maxiter, "maxiter", low=1)
    gen = as_rng(rng)
    # solve 2^ea A y = 2^eb b, max |2^ea A| and max |2^eb b| in [0.5, 1): x = 2^(ea - eb) y, and nothing
    # under- or overflows on the way (A is copied only where its magnitude is outside 2^-64 .. 2^64)
    if lazy:
        amax_A, amax_b = _dask_max_abs(A, b)
        ea, eb = pow2_exponent(amax_A), pow2_exponent(amax_b)
    else:
        data = A.data if is_sparse(A) else A
        ea = pow2_exponent(float(np.max(np.abs(data)))) if data.size else 0
        eb = pow2_exponent(float(np.max(np.abs(b))))
    if abs(ea) <= _SAFE_EXPONENT:
        ea = 0
    if lazy:  # scaled lazily, chunk by chunk
        A = A.astype(dtype).map_blocks(np.ldexp, ea, dtype=dtype) if ea else A.astype(dtype)
        b = b.astype(dtype).map_blocks(np.ldexp, eb, dtype=dtype)
        if oversample * k >= N:  # A is at most oversample * k^2 numbers, as small as its sketch would be
            import dask

            A, b = dask.compute(A, b)
    elif not is_sparse(A):
        A = np.ldexp(A.astype(dtype, copy=False), ea) if ea else np.asarray(A, dtype=dtype)
    else:
        A = A.astype(dtype) if A.dtype != dtype else A
        if ea:
            A = A.copy()
            A.data = np.ldexp(A.data, ea)
    if not lazy:
        b = np.ldexp(b.astype(dtype), eb)

    def result(y, R, y0, converged, n_iter, method, residuals):
        with np.errstate(over="ignore"):  # an overflow is refused just below
            x = np.ldexp(np.asarray(y, dtype=np.float64), ea - eb).astype(dtype)
            x0 = np.ldexp(np.asarray(y0, dtype=np.float64), ea - eb).astype(dtype)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"the least-squares solution x is not representable in {dtype}: its entries reach "
                             f"about 2^{int(np.log2(np.max(np.abs(y)))) + ea - eb} (A and b scaled by "
                             f"2^{ea} and 2^{eb} were solved; rescale the problem)")
        if not converged:
            warnings.warn(f"lstsq_sketched stopped after maxiter={maxiter} LSQR steps before tol={tol:g} "
                          f"(residual {residuals[-1]:.3g})", ConvergenceWarning, stacklevel=3)
        if R is not None:
            R = np.ldexp(R, -ea)
        history = {"residual": [ldexp_safe(r, -eb) for r in residuals]}
        if out_xp is not None:
            x, x0 = (out_xp.asarray(v, device=out_device) for v in (x, x0))
            R = None if R is None else out_xp.asarray(R, device=out_device)
        return SolverResult(x=x, R=R, x0=x0, converged=bool(converged), n_iter=int(n_iter), method=method,
                            history=history)

    s = oversample * k
    if s >= N:  # the sketch would be as tall as A: solve directly
        Ad = A.toarray() if is_sparse(A) else A
        y = scipy.linalg.lstsq(Ad, b, check_finite=False)[0]
        r = float(np.linalg.norm(b - Ad @ y))
        return result(y, None, y, np.isfinite(r), 0, "direct", [r, r])
    options = {"nnz_per_col": min(8, s)} if sketch == "sparse_sign" else {}
    S = make_sketch(sketch, s, N, rng=gen, **options)
    SA, Sb = S @ A, S @ b
    if lazy:  # the sketches are sums of per-chunk sketches; A @ y and A.T @ r are passes of per-chunk products
        import dask

        SA, Sb, b = dask.compute(SA, Sb, b)  # b: a vector of N, what LSQR works on
        A = _DaskProducts(A)
    SA = np.asarray(SA.toarray() if is_sparse(SA) else SA, dtype=dtype)
    Sb = np.asarray(Sb, dtype=dtype)
    Q, R = qr_econ(SA)
    diag = np.abs(np.diag(R))
    if diag.min() <= k * np.finfo(dtype).eps * diag.max():
        raise np.linalg.LinAlgError("A is numerically rank deficient (its sketch has a singular R factor); "
                                    "lstsq_sketched needs a full-column-rank A")
    z0 = Q.T @ Sb
    y0 = scipy.linalg.solve_triangular(R, z0, check_finite=False)

    def matvec(z):
        return A @ scipy.linalg.solve_triangular(R, np.ravel(z), check_finite=False)

    def rmatvec(r):
        return scipy.linalg.solve_triangular(R, A.T @ np.ravel(r), trans="T", check_finite=False)

    op = spla.LinearOperator((N, k), matvec=matvec, rmatvec=rmatvec, dtype=dtype)
    out = spla.lsqr(op, b, atol=tol, btol=tol, iter_lim=maxiter, x0=z0)
    z, istop, itn = out[0], out[1], out[2]
    y = scipy.linalg.solve_triangular(R, z, check_finite=False)
    r0 = float(np.linalg.norm(b - A @ y0))
    r1 = float(np.linalg.norm(b - A @ y))
    converged = istop in (0, 1, 2, 4, 5) and np.isfinite(r1)
    return result(y, R, y0, converged, itn, "sketch", [r0, r1])


def _dask_operands(A, b):
    """Dask `A` and `b` (either may be NumPy) with b chunked like the rows of A."""
    import dask.array as da

    A = da.asarray(A)
    b = b.rechunk((A.chunks[0],)) if is_dask(b) else da.from_array(np.asarray(b), chunks=(A.chunks[0],))
    return A, b


def _dask_max_abs(A, b):
    """``(max |A|, max |b|)`` of Dask operands in one pass, refusing NaN and Inf (not checked at the boundary,
    where it would cost a pass of its own)."""
    import dask
    import dask.array as da

    amax_A, amax_b, finite_A, finite_b = dask.compute(abs(A).max(), abs(b).max(), da.isfinite(A).all(),
                                                      da.isfinite(b).all())
    for name, finite in (("A", finite_A), ("b", finite_b)):
        if not finite:
            raise ValueError(f"{name} must be finite, but it holds NaN or Inf value(s)")
    return float(amax_A), float(amax_b)


class _DaskProducts:
    """A Dask A seen by LSQR: ``A @ y`` and ``A.T @ r`` (NumPy vectors in and out), one pass each, chunk by
    chunk; A is never gathered."""

    def __init__(self, A):
        self.A = A

    def __matmul__(self, y):
        return self.A.dot(y).compute()

    @property
    def T(self):
        return _DaskAdjoint(self.A)


class _DaskAdjoint:
    def __init__(self, A):
        self.A = A

    def __matmul__(self, r):
        import dask.array as da

        return self.A.T.dot(da.from_array(r, chunks=(self.A.chunks[0],))).compute()


#: |log2 max |A|| up to which A is used as it is (no scaled copy): products and LSQR's norms stay in range.
_SAFE_EXPONENT = 64
