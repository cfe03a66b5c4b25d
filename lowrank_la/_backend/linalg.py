"""Small dense linear algebra that takes the fast path per backend: economic QR, CholeskyQR2, a tall SVD,
the LU normaliser, small SVDs and solves, and the library's one sign rule ``flip_signs``."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .._validate import is_dask
from .namespace import array_namespace, is_cupy_namespace, is_numpy_namespace
from .results import SVDResult
from .threads import one_blas_thread

__all__ = ["SMALL_WORK_NOTE", "cholesky_qr2", "flip_signs", "lu_normalize", "qr_econ", "refuse_dask", "solve",
           "svd_small", "svd_tall", "times_inverse_upper"]


#: Why the small dense work of the iterative methods calls ``numpy.linalg`` rather than ``scipy.linalg``.
SMALL_WORK_NOTE = """\
NumPy and scipy wheels each bundle their own OpenBLAS, with their own thread pools. A pool's threads spin for a
while after each call before they sleep, so alternating between the two libraries in a loop (a GEMM in NumPy, a
triangular solve in scipy, ...) makes each pool's threads wait for cores the other pool's spinning threads hold.
On 2 cores this made a block Krylov SVD of a 6000 x 3000 matrix 2.5x slower (0.62 s against 0.25 s), the large
GEMMs included. The loops therefore keep to NumPy's library: ``numpy.linalg.qr``, ``svd``, ``eigh``,
``cholesky``, and ``inv`` of small triangles applied by GEMM instead of scipy's triangular solves. scipy remains
where NumPy has no equivalent (pivoted LU) and in one-off work outside the loops."""

#: :func:`qr_econ` runs on one BLAS thread for blocks of at least ``_QR_ONE_THREAD_MIN`` entries and fewer than
#: ``_QR_ONE_THREAD_ROWS`` rows or ``_QR_ONE_THREAD_SIZE`` entries (measured on 2 cores: m from 1,000 to 100,000,
#: n from 20 to 400)
_QR_ONE_THREAD_MIN, _QR_ONE_THREAD_ROWS, _QR_ONE_THREAD_SIZE = 10_000, 5_000, 300_000


def qr_econ(X, xp=None):
    """Economic QR ``X = Q R`` of a tall (m, l) block; returns ``(Q, R)``.

    NumPy goes through ``numpy.linalg.qr`` (LAPACK geqrf/orgqr, dtype kept; see :data:`SMALL_WORK_NOTE` for why
    not scipy's), on one BLAS thread for a block of fewer than 5,000 rows or 300,000 entries (and at least
    10,000, below which entering the limit costs more than it saves): OpenBLAS's threaded QR of such blocks was
    1.2x to 2.6x slower than its serial one on 2 cores (after a GEMM, as in the algorithms: 3000 x 60 in 9.5 ms
    against 4.1 ms), and 1.05x to 1.6x faster above. CuPy goes through cuSOLVER, anything else through
    ``xp.linalg.qr``.
    """
    xp = array_namespace(X) if xp is None else xp
    if not is_numpy_namespace(xp):
        return xp.linalg.qr(X, mode="reduced")
    m, n = X.shape[-2:]
    if _QR_ONE_THREAD_MIN <= m * n and (m < _QR_ONE_THREAD_ROWS or m * n < _QR_ONE_THREAD_SIZE):
        with one_blas_thread():
            return np.linalg.qr(X, mode="reduced")
    return np.linalg.qr(X, mode="reduced")


def pivoted_qr(M, mode="economic"):
    """Column-pivoted QR ``M[:, perm] = Q R`` of a NumPy block (LAPACK geqp3, through scipy: NumPy has none), on
    one BLAS thread; returns what ``scipy.linalg.qr(M, mode=mode, pivoting=True)`` returns.

    For the sketch-sized blocks the selection and factor functions pivot (one side ``k``-sized): scipy's pool
    left asleep does not wake beside NumPy's, whose threads still spin from the products before
    (:data:`SMALL_WORK_NOTE`). Measured on 2 cores: ``cur`` of a dense 3000 x 1500 matrix (k = 20) spent 10 ms in
    each such QR on 2 threads against 0.25 ms on one.
    """
    with one_blas_thread():
        return scipy.linalg.qr(M, mode=mode, pivoting=True, check_finite=False)


def solve_triangular(R, B, **options):
    """``scipy.linalg.solve_triangular(R, B, **options)`` for a small triangular `R`, on one BLAS thread (as
    :func:`pivoted_qr`, whose factors it solves with)."""
    with one_blas_thread():
        return scipy.linalg.solve_triangular(R, B, check_finite=False, **options)


def times_inverse_upper(X, R, xp=None):
    """``X @ inv(R)`` for an upper-triangular (l, l) `R`.

    On NumPy the (small) inverse is formed (``numpy.linalg.inv``: see :data:`SMALL_WORK_NOTE`) and applied by a
    GEMM, which runs at full BLAS-3 speed where a triangular solve with ``m`` right-hand sides in the wrong memory
    order is several times slower; CholeskyQR2's second round corrects the rounding this adds.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        return X @ np.linalg.inv(R)
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.solve_triangular(R, X.T, trans="T", lower=False).T
    return xp.linalg.solve(R.T, X.T).T


def cholesky_qr2(X, xp=None):
    """Orthonormalise the columns of a tall (m, l) block by CholeskyQR2; returns ``Q`` (m, l).

    Two rounds of ``G = X^H X = R^H R, X <- X R^{-1}``: BLAS-3 only, so it is the fastest orthonormaliser on
    GPUs and for very tall blocks. It needs ``cond(X) < ~1/sqrt(eps)``; when the Cholesky factorisation
    breaks down, or yields non-finite values, it falls back to Householder QR.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((100, 5))
    >>> Q = cholesky_qr2(X)
    >>> bool(np.allclose(Q.T @ Q, np.eye(5)))
    True
    """
    xp = array_namespace(X) if xp is None else xp
    factors = _cholqr2(X, xp)
    return qr_econ(X, xp)[0] if factors is None else factors[0]


def _cholqr2(X, xp):
    """``(Q, R)`` of ``X = Q R`` by CholeskyQR2, or None where a Cholesky factorisation breaks down."""
    hermitian = xp.isdtype(X.dtype, "complex floating")
    Q, R = X, None
    for _ in range(2):
        G = xp.matmul(xp.conj(Q.T) if hermitian else Q.T, Q)
        try:
            L = xp.linalg.cholesky(G)
        except Exception:  # LinAlgError of whichever backend: not positive definite
            return None
        Rj = xp.conj(L.T) if hermitian else L.T
        Q = times_inverse_upper(Q, Rj, xp)
        if not bool(xp.all(xp.isfinite(Q))):
            return None
        R = Rj if R is None else Rj @ R
    return Q, R


def svd_tall(X, xp=None, *, k=None):
    """Thin SVD of a tall (m, l) block, ``m >> l``, from small factorisations: the top `k` triplets, or all.

    ``X = Q R`` by two BLAS-3 CholeskyQR rounds, then ``R = W diag(s) Vh`` and ``U = Q W``: a few GEMMs with
    the tall block instead of LAPACK's bidiagonalisation of it (about 10x faster for 3000 x 180 on 2 cores).
    The factorisation is backward stable, like gesdd, while ``cond(X) < 0.1 / sqrt(eps)`` (CholeskyQR2's
    condition); beyond it, or where a Cholesky factorisation breaks down, it is :func:`svd_small`.

    With `k`, only the top `k` triplets are returned, and where they are well separated from rounding
    (``eps s_1^2 / s_k^2 < 1e-10``) they come from the eigenpairs of the Gram matrix ``X^H X`` (one GEMM and an
    (l, l) eigensolver): the relative error of ``s_i`` and the loss of orthogonality of ``U`` are then below
    ``eps s_1^2 / s_k^2``, under 1e-10.

    Single precision blocks are factored in double precision (they are small), and the factors returned in the
    input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((500, 8))
    >>> U, s, Vh = svd_tall(X)
    >>> bool(np.allclose(s, np.linalg.svd(X, compute_uv=False)) and np.allclose(U.T @ U, np.eye(8)))
    True
    >>> U3, s3, Vh3 = svd_tall(X, k=3)
    >>> bool(np.allclose(s3, s[:3]) and np.allclose(np.abs(U3.T @ U[:, :3]), np.eye(3)))
    True
    """
    xp = array_namespace(X) if xp is None else xp
    m, l = X.shape
    if m < 2 * l:
        return _top(svd_small(X, xp), k)
    dtype = X.dtype
    wide = xp.float64 if dtype == xp.float32 else xp.complex128 if dtype == xp.complex64 else dtype
    Xw = xp.astype(X, wide)  # single precision factors in double: cond(X) up to ~1e7 instead of ~300
    Xh = xp.conj(Xw.T) if xp.isdtype(wide, "complex floating") else Xw.T
    eps = float(xp.finfo(wide).eps)

    def back(U, s, Vh):
        return SVDResult(xp.astype(U, dtype), xp.astype(s, xp.finfo(dtype).dtype), xp.astype(Vh, dtype))

    if k is not None and k < l:
        lam, Z = xp.linalg.eigh(Xh @ Xw)
        lam, Z = xp.flip(lam[l - k:]), xp.flip(Z[:, l - k:], axis=1)  # the top k, descending
        if float(lam[-1]) > 1e10 * eps * float(lam[0]):
            s = xp.sqrt(lam)
            Zh = xp.conj(Z.T) if xp.isdtype(wide, "complex floating") else Z.T
            return back((Xw @ Z) / xp.reshape(s, (1, -1)), s, Zh)
    factors = _cholqr2(Xw, xp)
    if factors is not None:
        W, s, Vh = svd_small(factors[1], xp)
        if float(s[-1]) > 10 * math.sqrt(eps) * float(s[0]):
            return _top(back(factors[0] @ W, s, Vh), k)
    return _top(svd_small(X, xp), k)


def _top(result, k):
    U, s, Vh = result
    return result if k is None else SVDResult(U[:, :k], s[:k], Vh[:k, :])


def lu_normalize(X, xp=None):
    """The LU normaliser of a tall (m, l) block: ``P L`` of ``X = P L U`` (unit lower L).

    Cheaper than QR and enough to keep the columns of a power iteration from collapsing onto the top singular
    vector; the basis is not orthonormal. Falls back to QR on backends without a pivoted LU.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        return scipy.linalg.lu(X, permute_l=True, check_finite=False)[0]
    if is_cupy_namespace(xp):
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.lu(X, permute_l=True)[0]
    return qr_econ(X, xp)[0]


def svd_small(X, xp=None, *, lapack="numpy"):
    """Thin SVD ``X = U diag(s) Vh`` of a small dense block; returns ``SVDResult``.

    NumPy arrays go through LAPACK gesdd, NumPy's (``lapack="numpy"``) or scipy's (``"scipy"``, for a caller
    whose other LAPACK work is scipy's: :data:`SMALL_WORK_NOTE`), and are retried with the slower, more robust
    gesvd (scipy's) if gesdd fails to converge.
    """
    xp = array_namespace(X) if xp is None else xp
    if is_numpy_namespace(xp):
        try:
            if lapack == "scipy":
                return SVDResult(*scipy.linalg.svd(X, full_matrices=False, check_finite=False))
            return SVDResult(*np.linalg.svd(X, full_matrices=False))
        except np.linalg.LinAlgError:
            return SVDResult(*scipy.linalg.svd(X, full_matrices=False, check_finite=False,
                                               lapack_driver="gesvd"))
    return SVDResult(*xp.linalg.svd(X, full_matrices=False))


def solve(A, B, xp=None, *, assume_a: str = "gen"):
    """Solve ``A X = B`` for a small square `A` (``assume_a="pos"`` uses Cholesky on NumPy)."""
    xp = array_namespace(A, B) if xp is None else xp
    if is_numpy_namespace(xp):
        return scipy.linalg.solve(A, B, assume_a=assume_a, check_finite=False)
    return xp.linalg.solve(A, B)


def flip_signs(U, Vh=None, xp=None):
    """Make the largest-magnitude entry of each column of `U` positive, flipping the rows of `Vh` to match.

    For complex input the column is rotated by a unit phase so that entry is real and positive, and the row
    of `Vh` by the opposite phase, so that ``U @ diag(s) @ Vh`` is unchanged.

    This is lowrank_la's one sign rule for SVD-like results (``flip_sign=True`` everywhere), so that results
    are deterministic and comparable across backends and libraries.

    Examples
    --------
    >>> import numpy as np
    >>> U, Vh = flip_signs(np.array([[1.0], [-3.0]]), np.array([[2.0, 1.0]]))
    >>> U.ravel().tolist(), Vh.ravel().tolist()
    ([-1.0, 3.0], [-2.0, -1.0])
    """
    xp = array_namespace(U) if xp is None else xp
    rows = xp.argmax(xp.abs(U), axis=0)
    picked = xp.take_along_axis(U, xp.reshape(rows, (1, -1)), axis=0)[0, ...]
    if xp.isdtype(U.dtype, "complex floating"):  # complex: rotate the largest entry onto the positive reals
        size = xp.abs(picked)
        signs = xp.where(size > 0, xp.conj(picked) / xp.where(size > 0, size, 1), xp.ones_like(picked))
    else:
        signs = 1 - 2 * xp.astype(picked < 0, U.dtype)
    U = U * signs
    if Vh is None:
        return U
    return U, Vh * xp.reshape(xp.conj(signs) if xp.isdtype(U.dtype, "complex floating") else signs, (-1, 1))


def refuse_dask(A, name, what, alternative):
    """Refuse a Dask `A` with a ``TypeError`` naming it, for work that needs the whole array in one place (a
    factorization of all of it), instead of gathering it silently.

    Examples
    --------
    >>> import dask.array as da
    >>> try:
    ...     refuse_dask(da.ones((4, 4), chunks=2), "A", "f", "use g")
    ... except TypeError as error:
    ...     print(error)
    A is a Dask array, and f needs the whole array in one place; use g (or pass A.compute() if it fits in memory)
    """
    if is_dask(A):
        raise TypeError(f"{name} is a Dask array, and {what} needs the whole array in one place; {alternative} "
                        f"(or pass {name}.compute() if it fits in memory)")
