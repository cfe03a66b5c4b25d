"""Fixed-rank randomized SVD: subspace (power) iteration and randomized block Krylov."""

from __future__ import annotations

import math

from .._backend import (
    SVDResult,
    as_rng,
    is_cupy_namespace,
    is_numpy_namespace,
    random_normal,
    svd_small,
    times_inverse_upper,
)
from .._validate import check_int, check_option, check_rank, refuse_random_state
from ._common import (
    NORMALIZERS,
    draw,
    finish,
    host_float,
    normalize,
    orthonormalize,
    pow2_exponent,
    prepare,
    resolve_normalizer,
    svd_of_projection,
    times_pow2,
)

__all__ = ["KRYLOV_MEMORY_BUDGET", "randomized_range_finder", "rsvd"]

#: Block Krylov builds its basis in the short dimension when the long one is at least this many times longer.
SMALL_SIDE_RATIO = 4

#: Bytes the block Krylov basis ``(m + n) * block_size * (n_iter + 1)`` may take before :func:`rsvd` refuses.
KRYLOV_MEMORY_BUDGET = 4 * 2**30


def _auto_iterations(k, shape):
    return 7 if k < 0.1 * min(shape) else 4


def _check_n_iter(n_iter, name="n_iter"):
    if isinstance(n_iter, str):
        return check_option(n_iter, name, ["auto"])
    return check_int(n_iter, name, low=0)


def _range_finder(prod, size, q, normalizer, gen):
    """HMT Algorithm 4.4 with a normaliser between products; returns ``Q`` with `size` orthonormal columns."""
    xp, dask = prod.xp, prod.dask
    # every product at a unit column scale first (the span is unchanged): no Gram matrix under- or overflows
    Y = _unit_columns(prod.matmat(draw(prod, gen, size)), xp)
    for _ in range(q):
        Y = normalize(Y, xp, method=normalizer, dask=dask)
        Z = normalize(_unit_columns(prod.rmatmat(Y), xp), xp, method=normalizer, dask=dask)
        Y = _unit_columns(prod.matmat(Z), xp)
    final = "cholqr2" if normalizer == "cholqr2" else "qr"
    return orthonormalize(Y, xp, method=final, dask=dask)


@refuse_random_state
def randomized_range_finder(A, size, *, n_iter=4, normalizer="auto", rng=None):
    """Orthonormal basis ``Q`` (m, size) of the dominant range of `A`, by randomized subspace iteration.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix, touched only through the products ``A @ X`` and ``A.T @ Y`` (sparse input stays sparse;
        a LinearOperator needs ``rmatmat`` or ``rmatvec``).
    size : int
        Number of columns of ``Q``, ``1 <= size <= min(m, n)``.
    n_iter : int
        Number of power iterations ``q >= 0``.
    normalizer : {"auto", "lu", "qr", "cholqr2", "none"}
        Normaliser between products: "lu" (pivoted LU, the permuted lower factor: cheap, not orthonormal),
        "qr" (Householder; TSQR on Dask), "cholqr2" (CholeskyQR2, BLAS-3 only; QR if it breaks down), or
        "none" (unstable beyond a few iterations). "auto" is "cholqr2" on NumPy and CuPy (BLAS-3 only, and on
        NumPy it stays within NumPy's BLAS library: see the docs' randomized SVD page) and "qr" elsewhere. The
        final basis is always orthonormalised (QR, or CholeskyQR2 with ``normalizer="cholqr2"``).
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    Q : (m, size) array
        Orthonormal columns, in the namespace and dtype of `A` (lazy on Dask).

    Raises
    ------
    ValueError
        If `size`, `n_iter` or `normalizer` is out of range, or `A` is empty or holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is complex, or is a LinearOperator without ``rmatmat``.

    Notes
    -----
    With a Gaussian ``Omega`` (n, size), ``Y = (A A^T)^q A Omega`` and ``Q = orth(Y)`` (HMT Algorithm 4.4,
    normalised as in fbpca). Cost: ``2q + 1`` passes over `A`, ``O(mn size (2q + 1))`` flops dense
    (``O(nnz size (2q + 1))`` sparse) plus ``O((m + n) size^2 q)`` for the normalisers, memory
    ``O((m + n) size)``. On Dask the test matrix is drawn per chunk from reproducible streams, and the
    orthonormalisation is TSQR: the result is a lazy Dask array.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness: probabilistic
       algorithms for constructing approximate matrix decompositions", SIAM Rev. 53(2), 2011.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.svd import randomized_range_finder
    >>> A = la.datasets.low_rank_matrix(100, 60, rank=5, rng=0)
    >>> Q = randomized_range_finder(A, 8, rng=0)
    >>> Q.shape, bool(np.allclose(Q.T @ Q, np.eye(8)))
    ((100, 8), True)
    >>> bool(np.linalg.norm(A - Q @ (Q.T @ A)) < 1e-12 * np.linalg.norm(A))
    True
    """
    prod, _ = prepare(A, transpose=False)
    size = check_rank(size, prod.shape, "size")
    q = check_int(n_iter, "n_iter", low=0)
    normalizer = check_option(normalizer, "normalizer", NORMALIZERS)
    gen = as_rng(rng)
    return _range_finder(prod, size, q, resolve_normalizer(normalizer, prod.xp, prod.dask), gen)


def _block_krylov(prod, b, q, gen):
    """Krylov basis ``Q`` of ``[A Pi, (A A^T) A Pi, ..., (A A^T)^q A Pi]`` and ``Bt = A^T Q`` (Musco-Musco).

    Each new block is orthogonalised against all previous ones twice (block Gram-Schmidt with a QR after each
    sweep), before the next product. ``A^T Q_j`` is both the next Krylov step and a block of ``Bt``, so the
    Rayleigh-Ritz projection costs no extra pass: ``2q + 2`` passes in all.
    """
    xp, dask = prod.xp, prod.dask
    m, n = prod.shape
    lmax = min(prod.shape)
    total = min(b * (q + 1), lmax)
    if not dask:  # the basis and A^T Q fill preallocated blocks: no copies of the growing basis
        Qbuf = xp.empty((m, total), dtype=prod.dtype, device=prod.op.device)
        Zbuf = xp.empty((n, total), dtype=prod.dtype, device=prod.op.device)
    Qs, Zs = [], []
    basis = 0
    Y = _unit_columns(prod.matmat(draw(prod, gen, b)), xp)
    for j in range(q + 1):
        Y = Y[:, :min(b, lmax - basis)]  # at most lmax - basis new directions exist
        if basis:
            Qall = Qbuf[:, :basis] if not dask else _dask_concat(Qs)
            Y = _orthogonalize_against(Qall, Y, xp, dask, gen, prod)
        else:
            Y = orthonormalize(Y, xp, method="qr" if dask else "cholqr2", dask=dask)
        width = min(b, lmax - basis)
        if width < b:
            Y = Y[:, :width]
        Z = prod.rmatmat(Y)
        if dask:
            Qs.append(Y)
            Zs.append(Z)
        else:
            Qbuf[:, basis:basis + width] = Y
            Zbuf[:, basis:basis + width] = Z
        basis += width
        if j == q or basis >= lmax:
            break
        Y = _unit_columns(prod.matmat(_unit_columns(Z, xp)), xp)  # the span only: no c^2 that overflows
        del Z
    if dask:  # no data-dependent sweeps on a lazy graph: re-orthonormalise the whole basis, Bt <- Bt R^-1
        import dask.array as da

        Q, R = da.linalg.qr(_dask_concat(Qs))
        Bt = _dask_concat(Zs)
        Rc = R.rechunk(-1)
        Bt = da.map_blocks(_solve_right, Bt, Rc, dtype=Bt.dtype)
        return Q, Bt
    return Qbuf[:, :basis], Zbuf[:, :basis]


def _block_krylov_small_side(prod, b, q, k, gen):
    """Block Krylov for a tall ``A`` (m >> n): the basis lives in R^n, every O(m) cost is a product or O(m w k).

    ``V = orth[Pi, (A^T A) Pi, ..., (A^T A)^q Pi]`` (n x w), ``W = A V`` (the products themselves) and
    ``P = A^T W`` (the next Krylov blocks, plus one last product): ``2q + 2`` passes, as for the m-side basis.
    Rayleigh-Ritz from ``G = V^T A^T A V = V^T P = W^T W`` (w x w): while ``cond(G) < 1e-2/sqrt(eps)``, the
    left projection onto ``range(W)`` (the m-side Krylov space) through ``Q = W R^{-1}``, ``R^T R = G``,
    ``Q^T A = R^{-T} P^T``; otherwise the right projection ``A V V^T`` through ``G = Z diag(s^2) Z^T``,
    ``U_k = W Z_k / s_k``, ``Vh_k = (V Z_k)^T``. Then one CholeskyQR step on ``U_k = W C`` through its Gram
    matrix ``C^T G C`` (small) and on ``Vh_k``. Orthogonalisation costs ``O(n w^2)`` instead of ``O(m w^2)``;
    the only O(m) work besides the products is the final ``U = W C'``, which is one more pass ``A (V C')`` when
    ``A`` is sparse with ``nnz(A) < m w`` (cheaper than the ``m w k`` GEMM); the m x b blocks of ``W`` are then
    dropped as soon as ``A^T W_j`` is formed, so memory is ``O(m b + n w)`` instead of ``O((m + n) w)``. The
    eigenvalues of ``G`` carry an absolute error ``~ eps s_1^2``: where ``s_k^2 < 1e4 eps s_1^2`` the SVD of ``W``
    is computed densely instead (``W`` recomputed by one more pass if it was dropped). Returns None (the caller
    falls back to the m-side basis) if the CholeskyQR step breaks down.
    """
    xp = prod.xp
    n = prod.shape[1]
    total = min(b * (q + 1), n)
    # the n x w bases fill preallocated blocks (no copies of the growing basis); the m x w blocks of W stay apart
    Vbuf = xp.empty((n, total), dtype=prod.dtype, device=prod.op.device)
    Pbuf = xp.empty((n, total), dtype=prod.dtype, device=prod.op.device)
    op = prod.op
    # sparse A with nnz(A) < m w: U = A (V C) by one more pass is cheaper than keeping the m x w blocks of W
    sparse_cheaper = op.kind == "sparse" and not prod.transposed and op._A.nnz < prod.shape[0] * total
    Ws = []
    V = orthonormalize(draw(prod, gen, b), xp, method="qr")
    basis = 0
    for j in range(q + 1):
        width = min(b, n - basis)
        V = V[:, :width]
        Vbuf[:, basis:basis + width] = V
        W = prod.matmat(V)
        if j == 0:  # continue with 2^e A, 2^e max|A V| about one: the Gram matrices of W stay in range
            e = pow2_exponent(host_float(xp.max(xp.abs(W))))
            prod.rescale(e)
            W = times_pow2(W, e)
        if not sparse_cheaper:
            Ws.append(W)
        Pbuf[:, basis:basis + width] = prod.rmatmat(W)
        del W
        basis += width
        if j == q or basis >= n:
            break
        # at most n - basis new directions exist: truncate before orthogonalising
        V = _orthogonalize_against(Vbuf[:, :basis], Pbuf[:, basis - width:basis - width + min(b, n - basis)], xp,
                                   False, gen, prod)
    V, P = Vbuf[:, :basis], Pbuf[:, :basis]

    def w_times(Y):  # W @ Y = A (V Y): one more sparse pass with k columns when nnz(A) < m w, else the blocks
        if sparse_cheaper:
            return prod.matmat(V @ Y)
        out, start = None, 0
        for Wj in Ws:
            term = Wj @ Y[start:start + Wj.shape[1], :]
            out = term if out is None else out + term
            start += Wj.shape[1]
        return out

    G = V.T @ P
    G = (G + G.T) / 2
    lam, Z = xp.linalg.eigh(G)
    lam, Z = xp.flip(lam), xp.flip(Z, axis=1)
    eps = float(xp.finfo(prod.dtype).eps)
    R = _cholesky_upper(G, xp) if float(lam[-1]) > 100 * math.sqrt(eps) * float(lam[0]) else None
    if R is not None:
        # left projection onto range(W) = span[A Pi, ..., (A A^T)^q A Pi] (what the m-side basis gives):
        # Q = W R^-1 with R^T R = G = W^T W, and Q^T A = R^-T P^T; cond(G) < 1e-2 / sqrt(eps) here
        Bt = times_inverse_upper(P, R, xp)
        # SVD of Bt (n x w) from the eigenpairs of Bt^T Bt while squaring keeps the k-th value, else densely
        mu, Y = xp.linalg.eigh(Bt.T @ Bt)
        mu, Y = xp.flip(mu), xp.flip(Y, axis=1)
        if float(mu[k - 1]) > 1e4 * eps * float(mu[0]):
            s = xp.sqrt(mu[:k])
            Yk = Y[:, :k]
            Vh = ((Bt @ Yk) / xp.reshape(s, (1, -1))).T
        else:
            X, s, Yh = svd_small(Bt, xp)
            s, Yk, Vh = s[:k], Yh[:k, :].T, X[:, :k].T
        C = _solve_upper(R, Yk, xp)  # U = W C
    else:
        # right projection A V V^T: the SVD of W = A V from the eigenpairs of G, or, where squaring loses the
        # k-th value (s_k^2 < 1e4 eps s_1^2), from a dense SVD of W (O(m w^2), no extra pass)
        if not float(lam[k - 1]) > 1e4 * eps * float(lam[0]):
            Uw, sw, Zh = svd_small(prod.matmat(V) if sparse_cheaper else xp.concat(Ws, axis=1), xp)
            return Uw[:, :k], sw[:k], (V @ Zh[:k, :].T).T
        s = xp.sqrt(lam[:k])
        C = Z[:, :k] / xp.reshape(s, (1, -1))  # U = W C
        Vh = (V @ Z[:, :k]).T
    # one CholeskyQR step on U = W C and on Vh^T, with U^T U = C^T G C formed in the small space (W^T W = G);
    # then the small SVD of R1 diag(s) R2^T, and U = W (C R1^-1 X): a single product with the tall W
    R1, R2 = _cholesky_upper(C.T @ G @ C, xp), _cholesky_upper(Vh @ Vh.T, xp)
    if R1 is None or R2 is None:
        return None
    X, s2, Yh = svd_small((R1 * xp.reshape(s, (1, -1))) @ R2.T, xp)
    return w_times(C @ _solve_upper(R1, X, xp)), s2, (Vh.T @ _solve_upper(R2, Yh.T, xp)).T


def _unit_columns(Y, xp):
    """`Y` with each column divided by its largest magnitude (a Krylov block's span, at a unit scale)."""
    if hasattr(Y, "dask"):
        import dask.array as xp
    big = xp.max(xp.abs(Y), axis=0)
    return Y / xp.where(big > 0, big, xp.ones_like(big))


def _solve_upper(R, Y, xp):
    """``R^{-1} Y`` for upper-triangular `R`."""
    return xp.linalg.solve(R, Y)  # (k, k): small; NumPy's own LAPACK, see lowrank_la._backend.SMALL_WORK_NOTE


def _cholesky_upper(G, xp):
    try:
        L = xp.linalg.cholesky(G)
    except Exception:  # not positive definite
        return None
    return L.T if bool(xp.all(xp.isfinite(L))) else None


def _orthogonalize_against(Qall, Y, xp, dask, gen, prod):
    """Orthonormal basis of ``(I - Qall Qall^T) Y``, orthogonal to ``Qall`` to working precision.

    Block classical Gram-Schmidt on an orthonormalised block (CholeskyQR2: BLAS-3 only, Householder QR where
    it breaks down), repeated while a sweep removes more than half of a column's norm (Kahan-Parlett "twice is
    enough"; at most 5 sweeps). If ``Y`` lies numerically inside ``range(Qall)`` (the Krylov space became
    invariant, e.g. for an exactly low-rank matrix), the block is replaced by a fresh Gaussian one: any
    orthonormal completion keeps the Rayleigh-Ritz step exact. On Dask: 2 fixed sweeps, and the caller
    re-orthonormalises the whole basis at the end (TSQR).
    """
    if dask:
        for _ in range(2):
            Y = orthonormalize(Y - Qall @ (Qall.T @ Y), xp, method="qr", dask=True)
        return Y
    for _attempt in range(2):
        Y = orthonormalize(Y, xp, method="cholqr2")
        for _ in range(5):
            Y = Y - Qall @ (Qall.T @ Y)
            kept = xp.sqrt(xp.sum(Y * Y, axis=0))  # the columns had norm 1
            Y = orthonormalize(Y, xp, method="cholqr2")
            if float(xp.min(kept)) > 0.5:
                return Y
        Y = random_normal(gen, tuple(Y.shape), dtype=prod.dtype, xp=xp, device=prod.op.device)
    return Y


def _solve_right(X, R):
    import scipy.linalg

    return scipy.linalg.solve_triangular(R, X.T, trans="T", lower=False, check_finite=False).T


def _dask_concat(blocks):
    import dask.array as da

    return da.concatenate(blocks, axis=1).rechunk({1: -1})


@refuse_random_state
def rsvd(A, k, *, oversamples=10, n_iter="auto", normalizer="auto", method="subspace", block_size=None,
         transpose="auto", center=False, flip_sign=True, rng=None):
    """Truncated SVD of `A` by randomized subspace iteration or randomized block Krylov.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix: a dense array of any array-API namespace (NumPy, CuPy, array-api-strict), a scipy or
        cupyx sparse matrix or array (never densified), a ``scipy.sparse.linalg.LinearOperator`` with
        ``rmatmat`` (or ``rmatvec``), or a Dask array (the result is lazy). Touched only through the block
        products ``A @ X`` and ``A.T @ Y``; never modified.
    k : int
        Number of singular triplets, ``1 <= k <= min(m, n)``.
    oversamples : int
        Extra sample columns ``p >= 0``; the sketch has ``l = min(k + p, min(m, n))`` columns.
    n_iter : int or "auto"
        Power iterations ``q >= 0`` (subspace) or Krylov steps (block Krylov). "auto": for the subspace
        method, 7 if ``k < 0.1 min(m, n)`` and 4 otherwise (scikit-learn's rule); for block Krylov, half of
        that rounded up (4 or 2): a Krylov space of degree ``q`` contains the subspace iterate of degree ``q``
        and, through Chebyshev polynomials, matches subspace iteration of degree about ``q^2``.
    normalizer : {"auto", "lu", "qr", "cholqr2", "none"}
        Normaliser between the products of the subspace method (see :func:`randomized_range_finder`); "auto"
        is CholeskyQR2 (Householder QR where it breaks down) on NumPy and CuPy, and QR (TSQR on Dask)
        elsewhere. Block Krylov always orthogonalises fully and ignores it.
    method : {"subspace", "block_krylov"}
        "subspace": HMT range finder with normalised power iterations, then ``B = Q^T A``. "block_krylov":
        Musco and Musco's randomized block Krylov method with full re-orthogonalisation and a Rayleigh-Ritz
        step on the whole Krylov space.
    block_size : int, optional
        Block size ``b >= 1`` of block Krylov; default ``k + oversamples``. Only for "block_krylov".
    transpose : "auto" or bool
        Work on ``A^T`` (and swap the outputs): "auto" does when ``m < n``, so that the test matrix spans the
        short dimension.
    center : bool
        Compute the SVD of the column-centred ``A - 1 mu^T`` (mu: column means), implicitly, as a rank-one
        correction of every product: sparse input stays sparse. Costs one extra pass (for mu). This is PCA.
    flip_sign : bool
        Apply the library's sign rule: the largest-magnitude entry of each column of ``U`` is positive.
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    SVDResult
        ``U`` (m, k) with orthonormal columns, ``s`` (k,) descending, ``Vh`` (k, n) with orthonormal rows; in
        the namespace, device and dtype of `A` (float32 stays float32; integers compute in float64). Lazy
        Dask arrays for Dask input.

    Raises
    ------
    ValueError
        If `k`, `oversamples`, `n_iter`, `block_size` or an option is out of range, if `A` is empty or holds
        NaN or Inf, or if the block Krylov basis would exceed :data:`KRYLOV_MEMORY_BUDGET` bytes.
    TypeError
        If `A` is not a matrix, is complex, or is a LinearOperator without ``rmatmat``/``rmatvec``.

    Notes
    -----
    **Subspace iteration** [1]_: with a Gaussian ``Omega`` (n, l), ``Y = (A A^T)^q A Omega`` (normalised
    after every product), ``Q = orth(Y)``, ``B = Q^T A = U_B diag(s) Vh`` and ``U = Q U_B``. It reads `A`
    exactly ``2q + 2`` times; flops ``O(mnl(2q + 2))`` dense or ``O(nnz(A) l (2q + 2))`` sparse, plus
    ``O((m + n) l^2 q)`` for the normalisers and ``O(n l^2)`` for the small SVD; memory ``O((m + n)(k + p))``.
    Expected error (``q = 0``, ``p >= 2``, HMT Thm 10.6):
    ``E||A - QQ^T A||_2 <= (1 + sqrt(k/(p-1))) sigma_{k+1} + e sqrt(k+p)/p (sum_{j>k} sigma_j^2)^{1/2}``;
    with ``q`` power steps the same holds for ``sigma^(2q+1)`` and the ``(2q+1)``-th root.

    **Block Krylov** [2]_: the orthonormal basis ``Q`` of ``[A Pi, (A A^T) A Pi, ..., (A A^T)^q A Pi]``
    (``Pi`` Gaussian, n x b), each block orthogonalised twice against all the previous ones; then the SVD of
    ``Q^T A`` (Rayleigh-Ritz), whose blocks ``A^T Q_j`` are the Krylov products themselves. It reads `A`
    ``2q + 2`` times; flops ``O(mnb(2q + 2))`` dense plus ``O(m (b(q+1))^2)`` for the orthogonalisation and
    ``O(n (b(q+1))^2)`` for the SVD; memory ``O((m + n) b (q + 1))``. It reaches ``(1 + eps)`` spectral and
    per-vector accuracy with ``q = O(log(n)/sqrt(eps))`` steps, against ``O(log(n)/eps)`` for subspace
    iteration; it is usually the fastest method at a given accuracy, at ``q + 1`` times the memory. When the
    long side is at least ``SMALL_SIDE_RATIO = 4`` times the short one (NumPy and CuPy), the basis is built
    in the short dimension instead, ``V = orth[Pi, (A^T A) Pi, ..., (A^T A)^q Pi]``, and the Rayleigh-Ritz
    step projects onto ``range(A V)`` (the same Krylov space) through the Gram matrix ``V^T A^T A V`` of the
    products already formed: orthogonalisation costs ``O(n ((q+1) b)^2)`` instead of ``O(m ((q+1) b)^2)``, and
    the passes stay ``2q + 2`` (one more for sparse ``A`` with ``nnz(A) < m (q+1) b``, replacing a dense
    ``m (q+1) b k`` product). Where the Gram matrix is too ill-conditioned it falls back to the right projection
    ``A V V^T`` or to a dense SVD of ``A V``.

    On Dask the test matrix is drawn per chunk of the dimension it spans, from reproducible streams; `A` may
    be chunked by rows or in both dimensions and is never rechunked (the sample blocks keep all their
    columns in one chunk, and their rows are chunked like `A`). Orthonormalisation is TSQR
    (``dask.array.linalg.qr``), or CholeskyQR2 for ``normalizer="cholqr2"``. Each pass reads `A` once when
    the result is computed.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness: probabilistic
       algorithms for constructing approximate matrix decompositions", SIAM Rev. 53(2), 2011.
    .. [2] C. Musco, C. Musco, "Randomized block Krylov methods for stronger and faster approximate singular
       value decomposition", NeurIPS 2015, arXiv:1504.05477.

    Examples
    --------
    >>> import numpy as np
    >>> import lowrank_la as la
    >>> from lowrank_la.svd import rsvd
    >>> A = la.datasets.low_rank_matrix(200, 100, rank=5, rng=0)
    >>> U, s, Vh = rsvd(A, 5, rng=0)
    >>> s.round(6).tolist()
    [1.0, 0.875, 0.75, 0.625, 0.5]
    >>> bool(np.allclose((U * s) @ Vh, A))
    True
    >>> U, s, Vh = rsvd(A, 3, method="block_krylov", n_iter=2, rng=0)
    >>> s.round(6).tolist()
    [1.0, 0.875, 0.75]
    """
    method = check_option(method, "method", ["subspace", "block_krylov"])
    normalizer = check_option(normalizer, "normalizer", NORMALIZERS)
    check_option(transpose, "transpose", ["auto", True, False])
    center = check_option(center, "center", [False, True])
    flip_sign = check_option(flip_sign, "flip_sign", [False, True])
    n_iter = _check_n_iter(n_iter)
    oversamples = check_int(oversamples, "oversamples", low=0)
    if block_size is not None:
        if method != "block_krylov":
            raise ValueError(f"block_size={block_size!r} applies only to method='block_krylov'")
        block_size = check_int(block_size, "block_size", low=1)
    prod, transposed = prepare(A, center=center, transpose=transpose)
    k = check_rank(k, prod.shape, "k")
    gen = as_rng(rng)
    xp, dask = prod.xp, prod.dask
    lmax = min(prod.shape)
    q = _auto_iterations(k, prod.shape) if n_iter == "auto" else n_iter

    if method == "subspace":
        size = min(k + oversamples, lmax)
        Q = _range_finder(prod, size, q, resolve_normalizer(normalizer, xp, dask), gen)
        Bt = prod.rmatmat(Q)
    else:
        if n_iter == "auto":
            q = math.ceil(q / 2)
        b = block_size if block_size is not None else k + oversamples
        if b * (q + 1) < k:
            raise ValueError(f"block_size={b} and n_iter={q} give a Krylov space of dimension "
                             f"block_size * (n_iter + 1) = {b * (q + 1)}, below k={k}; raise block_size or n_iter")
        b = min(b, lmax)
        m, n = prod.shape
        width = min(b * (q + 1), lmax)
        need = (m + n) * width * _itemsize(prod.dtype, xp)
        if need > KRYLOV_MEMORY_BUDGET:
            raise ValueError(
                f"block_size={b} and n_iter={q} need a Krylov basis of (m + n) * block_size * (n_iter + 1) = "
                f"{need / 2**30:.2f} GiB, over the budget of {KRYLOV_MEMORY_BUDGET / 2**30:.2f} GiB "
                "(lowrank_la.svd.KRYLOV_MEMORY_BUDGET); lower block_size or n_iter, or use method='subspace'")
        small = None
        if not dask and (is_numpy_namespace(xp) or is_cupy_namespace(xp)) and m >= SMALL_SIDE_RATIO * n:
            small = _block_krylov_small_side(prod, b, q, k, gen)
        if small is not None:
            U, s, Vh = small
            s = times_pow2(s, -prod.scale_exp)  # the small side ran on 2^e A
            return SVDResult(*finish(U, s, Vh, k, transposed=transposed, flip_sign=flip_sign, xp=xp))
        Q, Bt = _block_krylov(prod, b, q, gen)
    U, s, Vh = svd_of_projection(Q, Bt, xp, dask=dask, k=k)
    s = times_pow2(s, -prod.scale_exp)  # 2^e A where the small side set a scale and then fell back
    return SVDResult(*finish(U, s, Vh, k, transposed=transposed, flip_sign=flip_sign, xp=xp, dask=dask))


def _itemsize(dtype, xp):
    return xp.finfo(dtype).bits // 8
