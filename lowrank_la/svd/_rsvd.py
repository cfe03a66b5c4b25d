"""Fixed-rank randomized SVD: subspace (power) iteration and randomized block Krylov."""

from __future__ import annotations

import functools
import math
import operator
import sys
import typing
import warnings

import numpy as np

from .._backend import (
    ConvergenceWarning,
    SVDAccuracyResult,
    array_namespace,
    as_rng,
    blas_beside_kernels,
    is_cupy_namespace,
    is_numpy_namespace,
    qr_econ,
    sparse_kernel_input,
    svd_small,
    svd_tall,
    times_inverse_upper,
    to_numpy,
)
from .._backend.linalg import _cholqr2
from .._validate import check_int, check_option, check_rank, check_real, refuse_random_state
from ._common import (
    NORMALIZERS,
    _draw_chunk,
    blocks_gram,
    blocks_times,
    draw,
    draw_seeds,
    finish,
    gaussian,
    grown,
    herm,
    host_float,
    minus_projection,
    normalize,
    orthonormalize,
    pow2_exponent,
    prepare,
    resolve_normalizer,
    signs_from_extremes,
    svd_of_projection,
    times_pow2,
)

__all__ = ["DEFAULT_MAX_PASSES", "DEFAULT_TOL", "KRYLOV_MEMORY_BUDGET", "REFINE_GAIN", "randomized_range_finder",
           "rsvd"]

#: Block Krylov builds its basis in the short dimension when the long one is at least this many times longer.
SMALL_SIDE_RATIO = 4

#: Bytes the block Krylov basis ``(m + n) * block_size * (n_iter + 1)`` may take before :func:`rsvd` refuses.
KRYLOV_MEMORY_BUDGET = 4 * 2**30


def _krylov_budget() -> int:
    """The budget as the user set it: ``lowrank_la.svd.KRYLOV_MEMORY_BUDGET`` (the public name), read at call time."""
    return int(getattr(sys.modules.get(__package__), "KRYLOV_MEMORY_BUDGET", KRYLOV_MEMORY_BUDGET))


def _auto_iterations(k, shape):
    return 7 if k < 0.1 * min(shape) else 4


def _dask_krylov_fits(prod, k, oversamples):
    """Whether the Dask default (``n_iter="auto"``, no `tol`) is block Krylov: its basis of ``b (q + 1)`` columns
    (``b = k + oversamples``, ``q`` half the subspace depth, rounded up) is narrower than the short side and within
    :data:`KRYLOV_MEMORY_BUDGET`; where not, the default stays the subspace iteration at the full depth."""
    lmax = min(prod.shape)
    width = (k + oversamples) * (math.ceil(_auto_iterations(k, prod.shape) / 2) + 1)
    return width <= lmax and sum(prod.shape) * width * _itemsize(prod.dtype, prod.xp) <= _krylov_budget()


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
    (m, size) array
        The basis ``Q``: orthonormal columns, in the namespace and dtype of `A` (lazy on Dask).

    Raises
    ------
    ValueError
        If `size`, `n_iter` or `normalizer` is out of range, or `A` is empty or holds NaN or Inf.
    TypeError
        If `A` is not a matrix, is complex, or is a LinearOperator without ``rmatmat``.

    See Also
    --------
    rsvd : The truncated SVD from such a basis.
    rand_qb : A range basis grown block by block until a tolerance is met.

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
    prod, _ = prepare(A, transpose=False, allow_complex=True)
    _refuse_complex_dask(prod)
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


def _orthogonalize_against(Qall, Y, xp, dask, gen, prod, *, normalized=None):
    """Orthonormal basis of ``(I - Qall Qall^T) Y``, orthogonal to ``Qall`` to working precision.

    Block classical Gram-Schmidt on an orthonormalised block (CholeskyQR2: BLAS-3 only, Householder QR where
    it breaks down), repeated while a sweep removes more than half of a column's norm (Kahan-Parlett "twice is
    enough"; at most 5 sweeps). If ``Y`` lies numerically inside ``range(Qall)`` (the Krylov space became
    invariant, e.g. for an exactly low-rank matrix), the block is replaced by a fresh Gaussian one: any
    orthonormal completion keeps the Rayleigh-Ritz step exact. On Dask: 2 fixed sweeps, and the caller
    re-orthonormalises the whole basis at the end (TSQR). `normalized`: ``orthonormalize(Y, xp, method="cholqr2")``
    where the caller has it already (the first normalisation is then skipped).
    """
    if dask:
        for _ in range(2):
            Y = orthonormalize(Y - Qall @ (Qall.T @ Y), xp, method="qr", dask=True)
        return Y
    complex_ = xp.isdtype(Y.dtype, "complex floating")
    for _attempt in range(2):
        Y = orthonormalize(Y, xp, method="cholqr2") if normalized is None else normalized
        normalized = None
        for _ in range(5):
            Y = Y - Qall @ (herm(Qall, xp) @ Y)
            kept = xp.sqrt(xp.sum(xp.real(Y * xp.conj(Y)) if complex_ else Y * Y, axis=0))  # columns had norm 1
            Y = orthonormalize(Y, xp, method="cholqr2")
            if float(xp.min(kept)) > 0.5:
                return Y
        Y = gaussian(gen, tuple(Y.shape), dtype=Y.dtype, xp=xp, device=prod.op.device)
    return Y


#: :func:`_next_block` keeps its one-sweep block when the block's condition number is at most this: what the sweep
#: leaves along the basis (rounding, eps relative) grows by it in the triangular solve
_ONE_SWEEP_COND = 100.0


def _next_block(Qall, Y, xp, gen, prod):
    """The next Krylov block of the tolerance-driven block Krylov: an orthonormal basis of ``(I - Qall Qall^H) Y``,
    for a block `Y` already projected once (against the blocks it couples to), and whether one sweep was enough.

    One sweep ``Y - Qall (Qall^H Y)`` and CholeskyQR2 are enough when the sweep keeps more than half of every
    column (Kahan-Parlett: the second projection of "twice is enough") and the block is well conditioned
    (``cond <= _ONE_SWEEP_COND``), as the Krylov blocks of the real-data panel were after the first; otherwise
    :func:`_orthogonalize_against` takes over (normalise first, sweep until nothing is lost, a fresh Gaussian
    block where `Y` lies inside ``range(Qall)``).
    """
    norms = _column_norms(Y, xp)
    Y = Y - Qall @ (herm(Qall, xp) @ Y)
    kept = _column_norms(Y, xp) / xp.where(norms > 0, norms, xp.ones_like(norms))
    factors = _cholqr2(Y, xp) if float(xp.min(kept)) > 0.5 else None
    if factors is not None:
        Q, R = factors
        lam = _as_host64(xp.linalg.eigvalsh(herm(R, xp) @ R))
        if lam[0] > 0 and lam[-1] <= _ONE_SWEEP_COND ** 2 * lam[0]:
            return Q, True
        # the fallback's first step is this very CholeskyQR2 of Y: keep its Q
        return _orthogonalize_against(Qall, Y, xp, False, gen, prod, normalized=Q), False
    return _orthogonalize_against(Qall, Y, xp, False, gen, prod), False


def _solve_right(X, R):
    import scipy.linalg

    return scipy.linalg.solve_triangular(R, X.T, trans="T", lower=False, check_finite=False).T


# --------------------------------------------------------------------------- subspace iteration on Dask, fused

def _fused_dask(prod, normalizer):
    """Whether :func:`_dask_subspace` applies: a Dask matrix in one chunk across its short side, uncentred."""
    return (prod.dask and prod.mu is None and prod.scale_exp == 0 and normalizer in ("auto", "qr")
            and len(prod.col_chunks()) == 1)


def _aligned(a):
    """`a`, or an aligned copy of it where its data is not aligned to its items.

    A chunk deserialised in place from a message (a NumPy array scattered from the client or embedded in the graph,
    e.g. ``da.from_array(x).persist()`` on a cluster) can start at any byte; NumPy's products then leave BLAS for
    their own loops, 2x-4x slower than one copy and BLAS (see "Unaligned chunks" in docs/scaling.rst, Chunking).
    """
    return a if a.flags.aligned else np.array(a)


class _Seeded(typing.NamedTuple):
    """A test matrix not drawn yet: each chunk task of the first step draws it from the seed (the same bits as
    :func:`draw`'s one chunk), so that no draw task stands between the start and the chunks."""

    seed: np.random.SeedSequence
    shape: tuple
    dtype: type

    def drawn(self):
        return _draw_chunk(self.seed, self.shape, self.dtype)


def _chunk_qr(a, omega, transposed, earlier=()):
    """``Y_i = A_i Omega`` of one row chunk, the QR ``Q_i R_i`` of ``[*earlier, Y_i]`` (a block Krylov basis: the
    chunk's earlier blocks) and ``A_i^T Q_i``: one read of the chunk. Returns ``(Y_i, Q_i, (R_i, A_i^T Q_i))``."""
    a = _aligned(a)
    a = a.T if transposed else a
    y = a @ (omega.drawn() if isinstance(omega, _Seeded) else omega)
    q, r = qr_econ(np.concatenate([*earlier, y], axis=1) if earlier else y, np)
    return y, q, (r, a.T @ q)


def _chunk_step(a, omega, transposed):
    """:func:`_chunk_qr` of a step before the last: ``Y_i`` (kept by block Krylov) and the small parts."""
    y, _, part = _chunk_qr(a, omega, transposed)
    return y, part


def _chunk_part(a, omega, transposed):
    """:func:`_chunk_qr` of a subspace step before the last: the small parts alone (one task output, no split)."""
    return _chunk_qr(a, omega, transposed)[2]


def _chunk_last(a, omega, transposed, earlier):
    """:func:`_chunk_qr` of the last step: ``Q_i`` (for ``U``) and the small parts."""
    return _chunk_qr(a, omega, transposed, earlier)[1:]


#: The TSQR tree of :func:`_dask_subspace` combines at most this many chunks (or nodes) in one task (fewer, down to
#: 2, where the children's ``A_i^T Q_i`` would outweigh a chunk).
TSQR_SPLIT = 8


def _tsqr_node(parts):
    """One node of the TSQR tree, from its children's ``(R_i, A_i^T Q_i)``: the factor ``Qhat`` of the stacked
    ``R_i = Qhat R`` split per child, and the node's ``(R, A^T Q = sum_i A_i^T Q_i Qhat_i)`` for its parent."""
    qhat, r = qr_econ(np.concatenate([r_i for r_i, _ in parts], axis=0), np)
    blocks = np.split(qhat, np.cumsum([r_i.shape[0] for r_i, _ in parts])[:-1], axis=0)
    return blocks, (r, sum(w @ qb for (_, w), qb in zip(parts, blocks)))


def _tsqr_root(parts, k):
    """The root of the last step's TSQR tree: the top `k` of the SVD of ``A^T Q = W diag(s) Z^T`` and ``Z_k``
    pushed onto each child, ``([Qhat_i Z_k per child], s_k, W_k^T)``: one task, one output."""
    blocks, up = _tsqr_node(parts)
    z, s, Vh = _final_svd(up, k)
    return [b @ z for b in blocks], s, Vh


def _tsqr_push(blocks, parent, index):
    """A node below the root: its children's coefficients, its ``Qhat`` blocks times its own (``parent[0][index]``),
    as a 1-tuple (the shape of the root's output, so that every level reads ``[0][index]``)."""
    return [b @ parent[0][index] for b in blocks],


def _tsqr_final(parts, split, k):
    """The last step's TSQR tree over the chunks' lazy ``(R_i, A_i^T Q_i)``, with the final SVD at the root: per
    chunk ``(output, index)`` such that ``output[0][index]`` is its coefficient (``Qhat`` blocks on its path times
    ``Z_k``, so that ``U_i = Q_i`` times it), and the root's output. On the way down, consumers take whole outputs
    and an index: no split-output tasks (each is one more task and scheduler round trip), so that for up to `split`
    chunks the root's task is followed directly by the chunks' lifts."""
    import dask

    node = dask.delayed(_tsqr_node, pure=True, nout=2)
    levels = []  # the nodes' Qhat blocks below the root, leaves' parents first, with their numbers of children
    while len(parts) > split:
        sizes = [min(split, len(parts) - i) for i in range(0, len(parts), split)]
        out = [node(parts[i:i + split]) for i in range(0, len(parts), split)]
        levels.append(([blocks for blocks, _ in out], sizes))
        parts = [up for _, up in out]
    root = dask.delayed(_tsqr_root, pure=True)(parts, k)
    pointers = [(root, j) for j in range(len(parts))]
    push = dask.delayed(_tsqr_push, pure=True)
    for blocks, sizes in reversed(levels):
        pointers = [(pushed, c) for b, size, (parent, j) in zip(blocks, sizes, pointers)
                    for pushed in [push(b, parent, j)] for c in range(size)]
    return pointers, root


def _next_omega(root):
    """The next test matrix of a subspace iteration: an orthonormal basis of the root's ``A^T Q``."""
    return qr_econ(root[1], np)[0]


def _tsqr_up(parts, root):
    """A node of a TSQR tree before the last step, where only ``A^T Q`` is needed: the node's ``(R, A^T Q)`` for
    its parent, or at the `root` the next test matrix (one task, no split outputs)."""
    up = _tsqr_node(parts)[1]
    return _next_omega(up) if root else up


def _step_omega(parts, split):
    """The next test matrix from the chunks' lazy ``(R_i, A_i^T Q_i)`` of a step before the last: a TSQR tree of
    :func:`_tsqr_up` tasks whose root also takes the QR (two task levels a step for up to `split` chunks)."""
    import dask

    node = dask.delayed(_tsqr_up, pure=True)
    while True:
        root = len(parts) <= split
        parts = [node(parts[i:i + split], root) for i in range(0, len(parts), split)]
        if root:
            return parts[0]


def _final_svd(root, k):
    """The top `k` of the SVD of the root's ``A^T Q = W diag(s) Z^T``: ``(Z_k, s_k, W_k^T)``."""
    w, s, zh = svd_small(root[1], np)  # gesvd where gesdd fails
    return zh[:k].T, s[:k], w[:, :k].T


def _lifted(q_i, parent, index):
    """``U_i = Q_i Z_k`` of one chunk (its coefficient is ``parent[0][index]``, see :func:`_tsqr_final`)."""
    return q_i @ parent[0][index]


def _column_extremes(q_i, parent, index):
    """The largest and smallest entry of each column of the chunk's ``U_i`` (for the sign rule)."""
    u = _lifted(q_i, parent, index)
    if u.shape[0] == 0:
        return np.full(u.shape[1], -np.inf), np.full(u.shape[1], np.inf)
    return u.max(axis=0), u.min(axis=0)


def _combined_extremes(extremes):
    """The columns' extremes over all the chunks, from each chunk's."""
    return np.max([e[0] for e in extremes], axis=0), np.min([e[1] for e in extremes], axis=0)


def _signs(extremes, root):
    """:func:`~lowrank_la.svd._common.sign_fix`'s rule on Dask: +1 where a column of the caller's ``U`` has its
    largest entry at least minus its smallest, else -1; from the chunks' column extremes, or (`extremes` None,
    the caller's ``U`` is the small factor ``(W_k^T)^T``) from the root's ``W_k^T`` itself."""
    big, small = (root[2].max(axis=1), root[2].min(axis=1)) if extremes is None else _combined_extremes(extremes)
    return signs_from_extremes(big, small, root[2].dtype)


def _final_long(q_i, parent, index, root, extremes, flip_sign, transposed):
    """One chunk of the long factor, lifted, signed (the signs are computed here from all the chunks' extremes, so
    that no task stands between them and the chunks) and in the caller's orientation."""
    u = _lifted(q_i, parent, index)
    if flip_sign:
        u = u * _signs(extremes, root)
    return u.T if transposed else u


def _final_small(root, extremes, flip_sign):
    """The small factor ``W_k^T`` with the same signs as :func:`_final_long`'s."""
    return root[2] * _signs(extremes, root)[:, None] if flip_sign else root[2]


def _dask_subspace(prod, size, q, k, gen, *, krylov=False, flip_sign=True):
    """Subspace iteration (or block Krylov) with ``q`` steps on a Dask matrix chunked along its long side only:
    ``(U, s, Vh)`` of `A` (not of ``prod``'s transpose), the top `k`, with the sign rule where `flip_sign`; lazy.

    Each step is one task per chunk that forms ``Y_i = A_i Omega``, its QR and ``A_i^T Q_i`` (both products of a
    step from one read of the chunk), and a TSQR tree of small tasks (at most ``TSQR_SPLIT`` children each) that
    combines the chunks' ``R_i`` and ``A_i^T Q_i`` into ``A^T Q`` (n x size, ``Q`` the orthonormal basis of
    ``A Omega``); its QR is the next ``Omega``. The last step takes the SVD of ``A^T Q`` instead, and
    ``U = Q Z_k`` is lifted per chunk. Passes are counted as products, ``2 q + 2`` as for the in-memory path,
    from ``q + 1`` reads of `A`. The test matrix is :func:`draw`'s. With `krylov`, each chunk keeps its blocks
    ``A_i Omega_j`` and the last step orthonormalises all of them, ``Q = orth[A Omega_0, ..., A Omega_q]``
    (``range(Omega_{j+1}) = range(A^T A Omega_j)``: the block Krylov space), at the same reads and passes.

    The sign rule (:func:`~lowrank_la.svd._common.sign_fix`'s, on the caller's ``U``) is part of the graph: a task
    per chunk finds its columns' extremes, and each chunk's final task (lift, signs, orientation) takes all of
    them (through one combining task beyond `split` chunks; or the small factor alone, where ``U`` is the small
    factor): two task levels after the TSQR root, where
    lifting, slicing, transposing and ``sign_fix`` on the lazy result took about ten (100-130 ms per call on a
    local cluster, more than a step; the lift, a ``(rows, size) x (size, k)`` product, is done twice instead).
    """
    import dask
    import dask.array as da

    transposed = prod.transposed
    chunks = prod.raw.to_delayed(optimize_graph=False)
    chunks = chunks[0, :] if transposed else chunks[:, 0]
    (seed,), _, host = draw_seeds(prod, gen)  # one column chunk: draw's one seed
    omega = _Seeded(seed, (prod.shape[1], size), host)
    n, width = prod.shape[1], size * (q + 1 if krylov else 1)
    split = max(2, min(TSQR_SPLIT, max(prod.row_chunks()) * n // ((n + width) * width)))
    step = dask.delayed(_chunk_step, pure=True, nout=2) if krylov else dask.delayed(_chunk_part, pure=True)
    earlier = [[] for _ in chunks]
    for _ in range(q):
        parts = []
        for a, kept in zip(chunks, earlier):
            if krylov:
                y, part = step(a, omega, transposed)
                kept.append(y)
            else:
                part = step(a, omega, transposed)
            parts.append(part)
        omega = _step_omega(parts, split)
    finish_chunk = dask.delayed(_chunk_last, pure=True, nout=2)
    last = [finish_chunk(a, omega, transposed, kept) for a, kept in zip(chunks, earlier)]
    pointers, root = _tsqr_final([part for _, part in last], split, k)
    prod.op._counter.count += 2 * q + 2
    dtype = prod.dtype
    qs = [qi for qi, _ in last]
    # the sign rule on the caller's U: the long factor (its chunks' column extremes), or the small one (Vh^T) where
    # prod is A^T (from the root alone)
    extremes = None if transposed or not flip_sign else \
        [dask.delayed(_column_extremes, pure=True)(qi, parent, j) for qi, (parent, j) in zip(qs, pointers)]
    if extremes is not None and len(extremes) > split:  # one task combines them (a graph linear in the chunks)
        extremes = [dask.delayed(_combined_extremes, pure=True)(extremes)]
    final = dask.delayed(_final_long, pure=True)
    long = [da.from_delayed(final(qi, parent, j, root, extremes, flip_sign, transposed), dtype=dtype,
                            shape=(k, rows) if transposed else (rows, k))
            for qi, (parent, j), rows in zip(qs, pointers, prod.row_chunks())]
    long = da.concatenate(long, axis=1 if transposed else 0)
    small = da.from_delayed(dask.delayed(_final_small, pure=True)(root, extremes, flip_sign), shape=(k, n), dtype=dtype)
    s = da.from_delayed(dask.delayed(operator.itemgetter(1), pure=True)(root), shape=(k,), dtype=dtype)
    return (small.T, s, long) if transposed else (long, s, small)


def _dask_concat(blocks):
    import dask.array as da

    return da.concatenate(blocks, axis=1).rechunk({1: -1})


# --------------------------------------------------------------------------- stopping on convergence

#: The relative accuracy ``n_iter="auto"`` aims at on in-memory input when no `tol` is given; beyond it the
#: iteration goes on while each block gains at least ``REFINE_GAIN`` (see :func:`rsvd`, Notes).
DEFAULT_TOL = 1e-3

#: Without an explicit `tol`, blocks are added past ``DEFAULT_TOL`` while the last one cut the error estimate by
#: at least this factor, the estimate is above ``1000 eps``, the passes stay within the former fixed default's
#: ``2q + 2`` (``q = 7`` if ``k < 0.1 min(m, n)``, else 4) and the basis within half the short dimension (or the
#: matrix has at most 2^17 entries): the accuracy that converging fast makes cheap, never at more passes than
#: before.
REFINE_GAIN = 100.0

# matrices of at most this many entries refine past DEFAULT_TOL up to a basis of the whole short side
_SMALL = 2**17

#: The default cap on the passes of the tolerance-driven iteration (``max_passes=None``).
DEFAULT_MAX_PASSES = 40

#: Block Krylov skips the Rayleigh-Ritz check of a block (its w x w eigensolver) while the estimate extrapolated
#: from the last two checks stays above ``SKIP_MARGIN * tol``; a skipped check costs at most one block more.
SKIP_MARGIN = 10.0
# at most this many blocks in a row go unchecked
_MAX_SKIP = 1
# a check (the w x w eigensolver, about 30 w^3 flops at the speed of a GEMM: its reduction is half BLAS-2) may be
# skipped only when it costs more than a block's products (sparse products: 10x slower per flop than a GEMM); on
# the dense 6000 x 3000 asv case a block costs more than any check, and skipping one would cost a block
_CHECK_COST = 30
_SPARSE_COST = 10
# a thick restart where one check would cost more than this many blocks' products (see _restart_plan)
_RESTART_BLOCKS = 2

#: Before the block Krylov iteration stops (converged or not) on a flat top, a probe checks the estimate's ``mu``
#: (the top of ``A^H A`` on the complement of the basis): block Lanczos on that complement from a random block of
#: ``_PROBE_WIDTH`` columns, ``_PROBE_STEPS`` steps (2 passes each). On flat spectra the newest block's ``mu`` was
#: 0.5-0.8 of the true one and the estimate 2x-5x below the true error; four steps found 0.90-0.97 of it (on the
#: decaying real-data panel the newest block's ``mu`` was already close; the width barely mattered, the depth did:
#: see docs/algorithms/svd.rst)
_PROBE_WIDTH = 4
_PROBE_STEPS = 4
# ... where the top is flat: the lower half of the top k Ritz values within this much (relative, of s^2) of s_k^2.
# The newest block's mu put the complement's top 0.2-0.6 s_k^2 below s_k^2; where the k / 2 values above s_k lie
# within a few percent of it (measured 0.3%-2.5% on the flat spectra, 30%-1600% on the real-data panel), that gap
# is not credible, and the probe checks it
_FLAT_TOP = 0.2

# the tolerance-driven block Krylov's default block size is max(k, _MIN_BLOCK): narrower blocks make BLAS-2 products
_MIN_BLOCK = 16

# dense input whose basis side is at most this many default blocks is factored in one block of all of it
_WHOLE = 4

# the rounding of a returned singular value: about eps s_1 (QR-based SVD of A V Z_k), FLOOR times that in the
# estimate; eps s_1^2 / s_i where the values come from the Gram matrix (only while that is below 1e-10 s_i)
_FLOOR = 8.0
# the quadratic estimate is a first-order one: doubled, it stayed above the true error on every matrix tried
_SAFETY = 2.0
# the Ritz values come from the Gram matrix, and U = A V Z_k / s, where eps s_1^2 / s_k^2 is below this
_GRAM_OK = 1e-10
_TINY = float(np.finfo(np.float64).tiny)


def _error_estimates(s, r, mu, eps):
    """Relative error estimates of Ritz values from their residuals and the spectrum outside the Ritz space.

    ``s`` (w,) are the Ritz values, descending, ``r`` (k,) the residual norms ``||A^H u_i - s_i v_i||`` of the
    leading `k` Ritz triplets (with ``A v_i = s_i u_i``), and `mu` an estimate of the largest eigenvalue of
    ``A^H A`` compressed to the complement of the Ritz space (host floats). Some singular value lies within
    ``r_i / sqrt(2)`` of ``s_i`` (the residual of ``[u_i; v_i] / sqrt(2)`` for ``[[0, A], [A^H, 0]]``): the
    linear bound. Rayleigh-Ritz resolves the coupling inside the space exactly, so the error of
    ``s_i^2`` is, to second order, ``e_i^H (s_i^2 - C)^{-1} e_i <= s_i^2 r_i^2 / (s_i^2 - mu)`` (``e_i``: the
    residual of the eigenpair ``(v_i, s_i^2)`` of ``A^H A``, of norm ``s_i r_i``; ``C``: the compression), which
    for the singular value is at most ``s_i r_i^2 / (2 (s_i^2 - mu))``: the quadratic estimate, taken twice.
    Returns ``min(linear, quadratic) / s_i`` plus the rounding of the returned value (see ``_FLOOR``), at most 1
    (Ritz values lie between 0 and the singular values they approximate).
    """
    k = r.shape[-1]  # r may be a stack of residual vectors, (..., k): one estimate per row
    sk = np.where(s[:k] > 0, s[:k], _TINY)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lin = r / math.sqrt(2.0)
        eta = sk ** 2 - mu
        quad = np.where(eta > 0, _SAFETY * sk * r ** 2 / (2 * eta), np.inf)
        ratio = s[0] / sk
        gram = eps * ratio[-1] ** 2 <= _GRAM_OK
        floor = _FLOOR * eps * (ratio ** 2 if gram else ratio)
        return np.minimum(1.0, np.minimum(lin, quad) / sk + floor)


class _Monitor:
    """The stopping test of the tolerance-driven iterations: estimates, convergence, the reason to stop."""

    def __init__(self, k, tol, cap, eps, *, refine=False):
        self.k, self.tol, self.cap, self.eps, self.refine = k, tol, cap, eps, refine
        self.estimate, self.limited, self.residuals = 1.0, False, None
        self.history = []  # (block, estimate) of the checks made

    def due(self, block):
        """Whether block number `block` is worth a check: unless the estimates of the last two checks, extrapolated
        at their geometric rate, stay above ``SKIP_MARGIN tol`` (Krylov estimates fall ever faster, so the
        extrapolation overstates the next one), with at most ``_MAX_SKIP`` blocks in a row unchecked."""
        if len(self.history) < 2 or self.estimate <= self.tol:
            return True
        (j1, e1), (j2, e2) = self.history[-2:]
        if block - j2 > _MAX_SKIP or not 0 < e2 < e1:
            return True
        return e2 * (e2 / e1) ** ((block - j2) / (j2 - j1)) <= SKIP_MARGIN * self.tol

    def _estimate(self, s, r, mu):
        """Per-value relative estimates, which of them count (``live``), and their maximum."""
        rel = _error_estimates(s, r, mu, self.eps)
        # values below 10 sqrt(eps) s_1 are zero to the Gram matrix (its rounding makes values of sqrt(eps) s_1):
        # no relative accuracy to verify
        live = s[:self.k] > 10 * math.sqrt(self.eps) * s[0]
        return rel, live, float(np.max(rel[live])) if bool(np.any(live)) else 0.0

    def retract(self):
        """Forget the last check (its ``mu`` proved too low), so that it can be made again."""
        self.history.pop()
        self.estimate = self.history[-1][1] if self.history else 1.0

    def check(self, s, r, mu, *, room=True, block=None, before=None):
        """Record the Ritz values `s`, residuals `r` (host float64) and `mu` (of block number `block`, counted from
        1; None: the next one); True when the iteration should stop converged: the top k meet `tol` and, when
        refining, the last block cut the estimate less than ``REFINE_GAIN`` times or there is no `room` for a
        cheap one. Where the previous block went unchecked, ``before()`` gives its ``(s, r, mu)`` for that test."""
        k = self.k
        if r.shape[0] < k:  # fewer Ritz values than asked for: keep growing
            return False
        previous = self.estimate
        block = (self.history[-1][0] + 1 if self.history else 1) if block is None else block
        skipped = bool(self.history) and self.history[-1][0] < block - 1
        # the residuals are computed to about eps s_1^2 / s_i: where the estimates are at what that allows,
        # iterating cannot verify more (both estimates in one call: they are elementwise)
        noise = 4 * self.eps * s[0] ** 2 / np.where(s[:k] > 0, s[:k], 1.0)
        rel, attainable = _error_estimates(s, np.stack((r, noise)), mu, self.eps)
        live = s[:k] > 10 * math.sqrt(self.eps) * s[0]  # as in _estimate
        self.estimate = float(np.max(rel[live])) if bool(np.any(live)) else 0.0
        self.residuals = r / s[0] if s[0] > 0 else np.zeros(k)
        self.history.append((block, self.estimate))
        floor = ~live | (rel <= 4 * attainable)
        # limited: what misses tol is at that level
        self.limited = self.estimate > self.tol and bool(np.all((rel <= self.tol) | floor))
        if self.estimate > self.tol:
            return False
        if not (self.refine and room and self.estimate > 1000 * self.eps and not bool(np.all(floor))):
            return True
        if skipped and before is not None:
            s0, r0, mu0 = before()
            previous = self._estimate(s0, r0, mu0)[2] if r0.shape[0] >= k else 1.0
        return self.estimate * REFINE_GAIN > previous

    def report(self, n_passes):
        return {"residuals": self.residuals, "error_estimate": self.estimate, "n_passes": n_passes,
                "converged": self.estimate <= self.tol, "tol": self.tol}


def _warn_unconverged(mon, passes, why, dtype_name):
    if why == "rounding":
        advice = (f"tol={mon.tol:g} is below what {dtype_name} can verify for the smaller of these singular values "
                  f"(their squares carry rounding errors of about eps s_1^2); use float64 input or a larger tol")
    elif why == "memory":
        advice = ("the Krylov basis reached lowrank_la.svd.KRYLOV_MEMORY_BUDGET; give a smaller block_size, raise "
                  "the budget, or use method='subspace' (memory O((m + n)(k + oversamples)))")
    else:
        advice = f"raise max_passes (now {mon.cap}) or tol"
    warnings.warn(f"rsvd stopped after {passes} passes over A with an estimated maximum relative singular-value "
                  f"error of {mon.estimate:.3g}, above tol={mon.tol:g}: {advice}", ConvergenceWarning, stacklevel=5)


def _host_namespace(prod):
    """The namespace the small-side work of the tolerance-driven methods runs in: the input's, NumPy for Dask."""
    return array_namespace(np.empty(0)) if prod.dask else prod.xp


def _column_norms(X, xp):
    if type(X) is np.ndarray and X.dtype.kind == "f" and X.ndim == 2 and X.strides[1] == X.itemsize:
        # rows contiguous (C order, or columns of it): einsum accumulates row after row as sum(X * X, axis=0)
        # does, without the temporary, about twice as fast
        return np.sqrt(np.einsum("ij,ij->j", X, X))
    if xp.isdtype(X.dtype, "complex floating"):
        return xp.sqrt(xp.sum(xp.real(X * xp.conj(X)), axis=0))
    return xp.sqrt(xp.sum(X * X, axis=0))


def _as_host64(x):
    return np.asarray(to_numpy(x), dtype=np.float64)


def _first_product(prod, X):
    """``A @ X`` on the first block; where ``max |A X|`` is far from one (squares of the singular values could
    leave the dtype's range), the products run on ``2^e A`` from then on, with ``max |2^e A X|`` about one."""
    xp = prod.xp
    W = prod.matmat(X)
    if xp.isdtype(W.dtype, "complex floating"):
        big = host_float(xp.max(xp.abs(W)))
    else:  # no |W| temporary
        big = max(host_float(xp.max(W)), -host_float(xp.min(W)))
    e = pow2_exponent(big)
    if abs(e) > (32 if xp.finfo(prod.dtype).bits == 32 else 256):
        prod.rescale(e)
        W = times_pow2(W, e)
    return W


def _krylov_tol(prod, k, b, mon, gen, *, whole=False):
    """Block Krylov in the second dimension of ``prod``, stopped on the residuals of its Ritz triplets.

    ``V = orth[Pi, (A^H A) Pi, (A^H A)^2 Pi, ...]`` (n x w) grows one block at a time; after block ``j`` the
    products ``W_j = A V_j`` and ``P_j = A^H W_j`` (two passes) give the Rayleigh-Ritz step of ``A^H A`` on
    ``range(V)`` through ``G = V^H P`` (w x w, updated by one block column), whose eigenpairs
    ``(s_i^2, z_i)`` give the Ritz triplets ``v_i = V z_i``, ``u_i = A v_i / s_i``. Their residuals come free:
    ``A^H A v_i - s_i^2 v_i = (I - V V^H) P z_i = (I - V V^H) P_j z_i^{(j)}`` (every earlier ``P_l`` lies in
    ``range(V)``), and ``(I - V V^H) P_j`` is the next block before its normalisation. The newest block
    ``V_j`` is (up to its normalisation) what ``A^H A`` made of the previous residuals: the largest eigenvalue
    of its compression ``V_j^H P_j`` estimates that of ``A^H A`` outside ``range(V)`` (see
    :func:`_error_estimates`). Returns ``(U, s, Vh)`` of the (possibly rescaled) products and why it stopped
    short of `tol` (None when converged).
    """
    hx = _host_namespace(prod)
    m, n = prod.shape
    dtype = prod.dtype
    device = prod.op.device if not prod.dask else None
    op = prod.op
    cap_w = min(n, b * (mon.cap // 2))
    # the m x b blocks W_j are kept for U = W Z (dense), unless one more pass is cheaper (sparse, nnz < m w)
    keep_w = not prod.dask and not (op.kind == "sparse" and op._A.nnz < m * cap_w)
    per_column = (2 * n + (m if keep_w else 0)) * _itemsize(dtype, hx)
    budget = _krylov_budget()
    mem_w = budget // per_column
    if mem_w < min(k + 1, n):
        raise ValueError(f"k={k} needs a Krylov basis of {per_column * (k + 1) / 2**30:.2f} GiB at least, over the "
                         f"budget of {budget / 2**30:.2f} GiB (lowrank_la.svd.KRYLOV_MEMORY_BUDGET)")
    limit_w = min(cap_w, mem_w)
    block_cost = _block_cost(op, m, n, b)
    # restarts for cost only where no m x w products are kept (compressing them costs about a block's products)
    keep, restart_w = _restart_plan(k, b, limit_w, math.inf if keep_w else block_cost)
    size = min(limit_w, 4 * b)
    Vbuf = hx.empty((n, size), dtype=dtype, device=device)
    G = hx.zeros((size, size), dtype=dtype, device=device)
    Ws = []
    w = wp = prev = blocks = 0  # prev: where the previous block starts; wp: where the projection of P_j starts
    discarded = 0.0  # the largest Ritz value (of A^H A) a thick restart let go
    probed = 0.0  # the complement's top as the probe found it (the complement only shrinks after it)
    extra = 0 if keep_w else 1  # the pass for U = A V Z_k
    # and the probe's passes, kept free until it has run (a claim it could not check would stand unchecked); not on
    # Dask (a pass reads the data), nor where they would take more than a quarter of the cap
    reserve = 2 * _PROBE_STEPS if not prod.dask and not whole and mon.cap >= 8 * _PROBE_STEPS else 0

    def stop_reason(done):
        """Why the iteration must stop unconverged after a check (None: it may go on, or it converged)."""
        if done or w >= n:
            return None
        if op.n_passes + 2 + extra + reserve > mon.cap:  # the next block, the pass for U, the probe
            return "cap"
        if w + 1 > limit_w:
            return "memory" if mem_w < cap_w else "cap"
        return "rounding" if mon.limited else None

    if whole:  # the whole short side in one block: the Rayleigh-Ritz step is the SVD of A itself
        Vj = hx.eye(n, dtype=dtype, device=device)
    else:
        # a Gaussian block of at most half as many columns as rows has a condition number below 6 (with
        # overwhelming probability): CholeskyQR2 is exact to rounding there, and 3x faster than Householder QR
        Vj = orthonormalize(gaussian(gen, (n, min(b, n)), dtype=dtype, xp=hx, device=device), hx,
                            method="cholqr2" if 2 * b <= n else "qr")
    while True:
        width = Vj.shape[1]
        W = _first_product(prod, Vj) if w == 0 else prod.matmat(Vj)
        Pj = prod.rmatmat(W)
        if prod.dask:
            Pj = hx.asarray(Pj.compute())
        elif keep_w:
            Ws.append(W)
        del W
        if w + width > size:  # grow the buffers (amortised: the size doubles)
            size = min(limit_w, max(2 * size, w + width))
            Vbuf, G = grown(Vbuf, (n, size), hx, device), grown(G, (size, size), hx, device)
        w0, w = w, w + width
        blocks += 1
        Vbuf[:, w0:w] = Vj
        # G = V^H A^H A V is block tridiagonal: V_l^H P_j = P_l^H V_j, and P_l lies in the span of the blocks up
        # to V_{l+1} (each block holds all of the previous residual), so only the previous and the newest block
        # couple to P_j; the rest is rounding, which the sweep of _orthogonalize_against removes from the next block
        C = herm(Vbuf[:, wp:w], hx) @ Pj
        # G is kept exactly Hermitian: its newest diagonal block symmetrised (what (G + G^H) / 2 did to all of G,
        # a no-op elsewhere, where the blocks are exact transposes of each other)
        newest = (C[w0 - wp:, :] + herm(C[w0 - wp:, :], hx)) / 2
        G[wp:w0, w0:w] = C[:w0 - wp, :]
        G[w0:w, w0:w] = newest
        G[w0:w, wp:w0] = herm(C[:w0 - wp, :], hx)
        Yp = Pj - Vbuf[:, wp:w] @ C  # (I - V V^H) P_j
        last = w >= n or op.n_passes + 2 + extra + reserve > mon.cap or w + 1 > limit_w
        grow = w + min(b, n - w)
        # a thick restart where the next block would pass restart_w; for cost, not in the last two stretches of
        # the passes (growing converges in fewer of them)
        restart = restart_w is not None and not last and grow > restart_w and \
            (grow >= limit_w or op.n_passes + 4 * -(-(restart_w - keep) // b) + 2 + extra + reserve <= mon.cap)
        if last or restart or _CHECK_COST * w ** 3 <= block_cost or mon.due(blocks):
            lam, Z = hx.linalg.eigh(G[:w, :w])
            lam, Z = hx.flip(lam), hx.flip(Z, axis=1)
            mu = float(np.max(_as_host64(hx.linalg.eigvalsh(newest)))) if w0 else math.inf
            mu = max(mu, discarded, probed)
            kk = min(k, w)
            s_all = np.sqrt(np.maximum(_as_host64(lam), 0.0))
            rn = _as_host64(_column_norms(Yp @ Z[w0:w, :kk], hx))
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(s_all[:kk] > 0, rn / s_all[:kk], 0.0)
            # refine within the former default's passes, and while the basis is a small part of the short side (a
            # small matrix, where everything is cheap, up to all of it)
            room = (2 * (w + b) <= n or m * n <= _SMALL) and \
                op.n_passes + 2 + extra <= 2 * _auto_iterations(k, (m, n)) + 2
            before = functools.partial(_previous_ritz, G[:w, :w], hx, prev, w0, k)
            done = mon.check(s_all, r, mu, room=room, block=blocks, before=before)
            why = stop_reason(done)
            if (done or why is not None) and reserve:
                # once, at the first stop, on a flat top: later checks take its value (the complement only shrinks);
                # elsewhere the passes kept for it are free again
                reserve = 0
                if w < n and _flat_top(s_all, k):
                    probed = _complement_top(prod, Vbuf[:, :w], gen)
                    if probed > mu:  # the newest block saw less of the complement than the probe: check again
                        mon.retract()
                        done = mon.check(s_all, r, probed, room=room, block=blocks, before=before)
                why = stop_reason(done)
            if done or w >= n or why is not None:
                break
        if restart:
            # the Ritz vectors let go lie outside the new basis: the top of A^H A there is at least the first of
            # their Ritz values, which the newest block alone can miss (on flat spectra the estimates then fell
            # to half the true error)
            discarded = max(discarded, float(_as_host64(lam[keep:keep + 1])[0]))
            Ws = _thick_restart(Vbuf, G, lam, Z, Ws, w, keep, hx, device)
            w = keep
        Vj, one_sweep = _next_block(Vbuf[:, :w], Yp[:, :min(b, n - w, limit_w - w)], hx, gen, prod)
        # where the next block may be a fresh Gaussian one (not all of the residual), it is projected against all;
        # the first block after a restart couples to every kept Ritz vector
        prev = 0 if restart else w0
        wp = w0 if one_sweep and not restart else 0
        del Pj, Yp
    Zk = Z[:, :k]
    Vk = Vbuf[:, :w] @ Zk
    s = hx.asarray(s_all[:k], dtype=hx.real(Zk[:1, :1]).dtype, device=device)  # the Ritz values
    if keep_w:
        X = _compressed(Ws, Zk)[0]
    else:
        X = prod.matmat(Vk)  # lazy on Dask
    eps = float(hx.finfo(dtype).eps)
    if prod.dask:
        return X / hx.reshape(s, (1, -1)), s, herm(Vk, hx), why
    if eps * s_all[0] ** 2 <= _GRAM_OK * s_all[k - 1] ** 2:
        # U = A V_k / s is orthonormal to eps s_1^2 / s_k^2 (the accuracy of the eigenvectors of G): enough; the
        # values are the norms ||A v_i||, accurate to eps s_1 / s_i (the eigenvalues of G carry eps s_1^2 / s_i^2)
        norms = _column_norms(X, hx)
        order = hx.argsort(norms, descending=True, stable=True)
        s = hx.take(norms, order)
        return hx.take(X, order, axis=1) / hx.reshape(s, (1, -1)), s, herm(hx.take(Vk, order, axis=1), hx), why
    # otherwise the SVD of A V_k, QR-based: orthonormal U and values accurate to eps s_1 / s_i
    U, s, Yh = svd_tall(X, hx)
    return U, s, Yh @ herm(Vk, hx), why


def _flat_top(s, k):
    """Whether the top `k` of the Ritz values `s` (descending) are flat: ``s_{ceil(k/2)}^2 <= (1 + _FLAT_TOP) s_k^2``
    (always for k = 1, where one value shows no decay)."""
    return bool(s[(k + 1) // 2 - 1] ** 2 <= (1 + _FLAT_TOP) * s[k - 1] ** 2)


def _complement_top(prod, V, gen):
    """An estimate (from below) of the largest eigenvalue of ``A^H A`` on the orthogonal complement of the
    orthonormal `V`: block Lanczos with full reorthogonalisation from a random block of ``_PROBE_WIDTH`` columns
    orthogonal to `V`, ``_PROBE_STEPS`` steps (two passes each), the top Ritz value of the probe's space.

    The block Krylov iteration's ``mu`` comes from its newest block, which the residuals of the unconverged Ritz
    pairs dominate; on flat spectra the complement's top lies well above it (see ``_PROBE_STEPS``).
    """
    hx = prod.xp
    n = V.shape[0]
    width = min(_PROBE_WIDTH, n - V.shape[1])
    Q = _orthogonalize_against(V, gaussian(gen, (n, width), dtype=V.dtype, xp=hx, device=prod.op.device), hx,
                               False, gen, prod)
    basis, images = [], []
    for step in range(_PROBE_STEPS):
        basis.append(Q)
        Y = prod.rmatmat(prod.matmat(Q))  # A^H A Q: Q is orthogonal to V, so this is the compression's product
        images.append(Y)
        if width * (step + 1) + V.shape[1] >= n:
            break
        # one sweep against V (what it leaves, rounding, can only raise the estimate), two against the probe's own
        Y = minus_projection([V], Y, hx)
        for _sweep in range(2):
            Y = minus_projection(basis, Y, hx)
        Q = orthonormalize(Y, hx, method="qr")
    T = blocks_gram(basis, hx.concat(images, axis=1), hx)
    return float(np.max(_as_host64(hx.linalg.eigvalsh((T + herm(T, hx)) / 2))))


def _restart_plan(k, b, limit_w, block_cost):
    """``(keep, restart_w)`` of the thick restart of :func:`_krylov_tol`: the number of Ritz vectors kept, and the
    width that a block may not take the basis past (a restart first); ``restart_w`` is None where the basis may not
    restart (fewer than two blocks would fit past the kept vectors below `limit_w`, where the iteration stops).

    The basis restarts where one check of it (its ``w x w`` eigensolver, ``_CHECK_COST w^3``) would cost more than
    ``_RESTART_BLOCKS`` blocks' products (sparse input, whose products are cheap) and where it would pass `limit_w`
    (the memory budget). Keeping ``k + 2b`` rather than ``k + b`` took fewer passes to the same accuracy in about
    the same time.
    """
    keep, widest = k + 2 * b, limit_w - 1  # a basis of limit_w columns is the last
    if keep + 2 * b > widest:
        return keep, None
    cheap_w = (_RESTART_BLOCKS * block_cost / _CHECK_COST) ** (1 / 3)
    return keep, min(widest, max(int(cheap_w), keep + 2 * b)) if math.isfinite(cheap_w) else widest


def _thick_restart(Vbuf, G, lam, Z, Ws, w, keep, xp, device):
    """Compress the basis ``Vbuf[:, :w]`` to its top `keep` Ritz vectors ``V Z_keep`` (in place; ``G`` becomes their
    Ritz values on the diagonal) and the kept products `Ws` with it (returned).

    ``A^H A V Z_keep = V Z_keep diag(lam_keep) + Y S`` (``Y``: the residual block, orthogonal to ``V``; ``S``: the
    last block's rows of ``Z_keep``), a Krylov-Schur decomposition: the iteration goes on from ``Y`` as before,
    its first block coupled to every kept vector and the ones after it to their neighbour only.
    """
    Vbuf[:, :keep] = Vbuf[:, :w] @ Z[:, :keep]
    G[:w, :w] = 0
    G[:keep, :keep] = xp.eye(keep, dtype=G.dtype, device=device) * xp.astype(lam[:keep], G.dtype)
    return _compressed(Ws, Z[:, :keep])


def _compressed(Ws, Zkeep):
    """The kept products ``[W_1, W_2, ...] Z_keep`` as one block (the list stays empty when none are kept)."""
    return [blocks_times(Ws, Zkeep)] if Ws else Ws


def _block_cost(op, m, n, b):
    """What a block's two products cost, in units of the flops of dense small work (for :data:`_CHECK_COST`)."""
    if op.kind == "dense":
        return 4 * m * n * b
    if op.kind == "sparse":
        return _SPARSE_COST * 4 * op._A.nnz * b
    return math.inf  # a LinearOperator, Dask: unknown, assumed dear; every block is checked


def _previous_ritz(G, xp, wp, w0, k):
    """Ritz values, residuals and ``mu`` (as in :func:`_krylov_tol`) of the basis before its newest block (columns
    ``w0:``), from the block tridiagonal ``G`` alone: the residual block of the previous step is ``V_j R`` (the
    newest block, whose coupling ``V_j^H A^H A V_{j-1} = R`` is in ``G``), so ``r_i = ||R z_i^{(j-1)}|| / s_i``."""
    lam, Z = xp.linalg.eigh(G[:w0, :w0])  # G is exactly Hermitian (see _krylov_tol)
    lam, Z = xp.flip(lam), xp.flip(Z, axis=1)
    s = np.sqrt(np.maximum(_as_host64(lam), 0.0))
    kk = min(k, w0)
    rn = _as_host64(_column_norms(G[w0:, wp:w0] @ Z[wp:w0, :kk], xp))
    mu = float(np.max(_as_host64(xp.linalg.eigvalsh(G[wp:w0, wp:w0])))) if wp else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        return s, np.where(s[:kk] > 0, rn / s[:kk], 0.0), mu


def _subspace_tol(prod, k, size, mon, normalizer, gen):
    """Subspace iteration stopped on the residuals of the Ritz triplets of its right projections.

    With an orthonormal ``Z`` (n x l), ``Y = A Z = U_Y diag(s) X^H`` gives the Ritz triplets
    ``(u_i, s_i, v_i = Z x_i)`` with ``A v_i = s_i u_i``; the next product ``Bt = A^H U_Y`` (the subspace
    iteration's own ``A^H Q``) gives their residuals ``A^H u_i - s_i v_i = Bt e_i - s_i v_i`` without another
    pass, and ``Z <- orth(Bt)`` continues. The spectrum outside ``range(Z)`` is estimated by the smallest
    Ritz value ``s_l^2`` (see :func:`_error_estimates`).
    """
    xp = prod.xp
    Z = orthonormalize(draw(prod, gen, size), xp, method="qr")
    Y = _first_product(prod, Z)
    while True:
        Uy, sy, Xh = svd_tall(Y, xp)
        Bt = prod.rmatmat(Uy)
        Vr = Z @ herm(Xh[:k, :], xp)
        s_all = _as_host64(sy)
        rn = _as_host64(_column_norms(Bt[:, :k] - Vr * xp.reshape(sy[:k], (1, -1)), xp))
        done = mon.check(s_all, rn, s_all[-1] ** 2 if size > k else math.inf)
        why = None
        if not done:
            if prod.op.n_passes + 2 > mon.cap:
                why = "cap"
            elif mon.limited:
                why = "rounding"
        if done or why is not None:
            return Uy[:, :k], sy[:k], herm(Vr, xp), why
        Z = orthonormalize(Bt, xp, method="cholqr2" if normalizer == "cholqr2" else "qr")
        Y = prod.matmat(Z)


@refuse_random_state
@blas_beside_kernels(sparse_kernel_input)
def rsvd(A, k, *, oversamples=10, n_iter="auto", tol=None, max_passes=None, normalizer="auto", method="auto",
         block_size=None, transpose="auto", center=False, flip_sign=True, rng=None):
    """Truncated SVD of `A` by randomized block Krylov or subspace iteration, by default until converged.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix: a dense array of any array-API namespace (NumPy, CuPy, array-api-strict), a scipy or
        cupyx sparse matrix or array (never densified), a ``scipy.sparse.linalg.LinearOperator`` with
        ``rmatmat`` (or ``rmatvec``), or a Dask array (the result is lazy). Real or complex (complex64,
        complex128; not on Dask). Touched only through the block products ``A @ X`` and ``A^H @ Y``; never
        modified.
    k : int
        Number of singular triplets, ``1 <= k <= min(m, n)``.
    oversamples : int
        Extra columns ``p >= 0``: the subspace method's sketch has ``l = min(k + p, min(m, n))`` columns, and
        ``k + p`` is block Krylov's default block size with a fixed `n_iter`.
    n_iter : int or "auto"
        "auto" (default): iterate until the top `k` singular values meet `tol` (on Dask: see Notes). An int
        ``q >= 0``: exactly ``q`` power iterations (subspace) or Krylov steps (block Krylov), no convergence
        test, the same bits as before the tolerance-driven mode existed.
    tol : float, optional
        Relative accuracy target, ``0 < tol < 1``: stop when the estimated ``|s_i - sigma_i| / sigma_i`` of every
        one of the top `k` singular values is at most `tol` (the estimate is reported as
        ``result.error_estimate``). Default :data:`DEFAULT_TOL` (1e-3), refined past while cheap (see Notes).
        Only with ``n_iter="auto"``.
    max_passes : int, optional
        Cap on the passes over `A` of the tolerance-driven iteration, ``>= 2`` (two per block, plus the
        centring pass, for sparse input the one that forms ``U`` and, on a flat top, the 8 of the probe of the
        complement where the cap is at least 32, see Notes); default :data:`DEFAULT_MAX_PASSES` (40).
        Reaching it before `tol` warns ``ConvergenceWarning``. Only with ``n_iter="auto"``.
    normalizer : {"auto", "lu", "qr", "cholqr2", "none"}
        Normaliser between the products of the subspace method with a fixed `n_iter` (see
        :func:`randomized_range_finder`); "auto" is CholeskyQR2 (Householder QR where it breaks down) on NumPy
        and CuPy, and QR (TSQR on Dask) elsewhere. The tolerance-driven subspace iteration orthonormalises
        (CholeskyQR2 for "auto" and "cholqr2" on NumPy and CuPy, QR otherwise). Block Krylov ignores it.
    method : {"auto", "block_krylov", "subspace"}
        "block_krylov": Musco and Musco's randomized block Krylov method with full re-orthogonalisation and
        Rayleigh-Ritz. "subspace": HMT range finder with normalised power iterations. "auto" (default):
        block Krylov when tolerance-driven, when `block_size` is given, or on Dask with ``n_iter="auto"`` where
        its basis fits (see Notes); subspace with a fixed `n_iter`.
    block_size : int, optional
        Block size ``b >= 1`` of block Krylov; default ``max(k, 16)`` when tolerance-driven, ``k + oversamples``
        with a fixed `n_iter`. Only for block Krylov.
    transpose : "auto" or bool
        Work on ``A^H`` (and swap the outputs): "auto" does when ``m < n``, so that the test matrix spans the
        short dimension.
    center : bool
        Compute the SVD of the column-centred ``A - 1 mu^T`` (mu: column means), implicitly, as a rank-one
        correction of every product: sparse input stays sparse. Costs one extra pass (for mu). This is PCA.
    flip_sign : bool
        Apply the library's sign rule: the largest-magnitude entry of each column of ``U`` is real and positive.
    rng : None, int or numpy.random.Generator
        Source of randomness. The same seed gives the same bits on the same backend.

    Returns
    -------
    SVDAccuracyResult
        Unpacks as ``U, s, Vh``: ``U`` (m, k) with orthonormal columns, ``s`` (k,) descending, ``Vh`` (k, n)
        with orthonormal rows; in the namespace, device and dtype of `A` (float32 stays float32, complex stays
        complex; integers compute in float64). Lazy Dask arrays for Dask input. Its attributes report the
        accuracy: ``error_estimate`` (estimated maximum relative singular-value error), ``residuals`` (per
        triplet, ``max(||A v_i - s_i u_i||, ||A^H u_i - s_i v_i||) / s_1``), ``converged``
        (``error_estimate <= tol``), ``tol`` and ``n_passes``; with a fixed `n_iter` only ``n_passes`` is set
        (the others are None).

    Raises
    ------
    ValueError
        If `k`, `oversamples`, `n_iter`, `tol`, `max_passes`, `block_size` or an option is out of range, if
        `tol` or `max_passes` is given with an integer `n_iter`, if `A` is empty or holds NaN or Inf, or if
        the block Krylov basis would exceed :data:`KRYLOV_MEMORY_BUDGET` bytes.
    TypeError
        If `A` is not a matrix, is a complex Dask array, or is a LinearOperator without
        ``rmatmat``/``rmatvec``.

    Warns
    -----
    ConvergenceWarning
        If the tolerance-driven iteration stops above `tol`: at `max_passes`, at the memory budget, or where
        `tol` is below what the dtype can verify. The message says what to raise.

    See Also
    --------
    svd_tol : Fixed-accuracy variant: the rank is chosen to meet a Frobenius tolerance.
    randomized_range_finder : The range basis alone, by subspace iteration.
    svd_error_estimate : An a-posteriori estimate of ``||A - U diag(s) Vh||``.
    lowrank_la.psd.eigh : Randomized eigenpairs of a symmetric matrix.
    lowrank_la.sklearn.RandomizedTruncatedSVD : The scikit-learn estimator over this function.
    scipy.sparse.linalg.svds : Lanczos-based truncated SVD to high accuracy.

    Notes
    -----
    **Stopping on convergence** (``n_iter="auto"``, the default on in-memory input). Block Krylov grows the
    basis ``V = orth[Pi, (A^H A) Pi, (A^H A)^2 Pi, ...]`` of the short dimension (``Pi`` Gaussian, n x b)
    one block at a time. After each block, the two products ``W = A V_j`` and ``P = A^H W`` give the
    Rayleigh-Ritz step of ``A^H A`` on ``range(V)`` (through ``V^H P``, updated by one block column) and, for
    free, the residuals ``r_i = ||A^H u_i - s_i v_i||`` of its Ritz triplets (``A v_i = s_i u_i`` holds by
    construction): ``A^H A v_i - s_i^2 v_i`` is the next Krylov block, projected, applied to ``z_i``. The
    error estimate of each Ritz value ``s_i`` (always ``s_i <= sigma_i``) is the smaller of the linear bound
    ``r_i / sqrt(2)`` and twice the second-order estimate ``s_i r_i^2 / (2 (s_i^2 - mu))``, where ``mu``, the
    largest eigenvalue of ``A^H A`` outside ``range(V)`` (the gap that matters: Rayleigh-Ritz resolves the
    neighbouring Ritz values exactly), is estimated by the top eigenvalue of the newest block's compression
    ``V_j^H P_j``; plus ``8 eps s_1 / s_i`` for the rounding of the returned value. The iteration stops when
    every one of the top `k` is within `tol`; values below ``10 sqrt(eps) s_1`` are zero to the Gram matrix
    and are not counted. ``V^H A^H A V`` is block tridiagonal (each block holds all of the previous residual), so
    ``P_j`` is projected against its two neighbouring blocks only, and one full sweep with CholeskyQR2 makes the
    next block (two sweeps where a column loses half its norm or the block's condition exceeds 100). Where the
    ``w x w`` eigensolver costs more than a block's products, a block's check is skipped while the estimate,
    extrapolated from the last two checks, stays above ``10 tol`` (never two blocks in a row). On digits, TF-IDF
    text, photographs and power-law sparse matrices the true maximum error was 0.35 to 0.52 times the estimate
    (above rounding). The answer is ``A V Z_k`` (the top `k` Ritz
    vectors) with its column norms ``||A v_i||`` as the singular values (accurate to ``eps s_1 / s_i``, where the
    eigenvalues of ``V^H P`` carry ``eps s_1^2 / s_i^2``), or its QR-based SVD where ``eps s_1^2 / s_k^2`` is
    above 1e-10. Dense input whose short side is at most 4 default blocks (``4 max(k, 16)``) is factored in one
    block of all of it (the identity): 2 passes, the SVD to rounding, cheaper than the blocks that would cover
    most of it (scikit-learn's digits, 1797 x 64, k = 10: 2 passes instead of 8, 2.4 ms against 4.0 ms for
    scikit-learn's ``randomized_svd``, one thread). Passes: 2 per block; for sparse input with
    ``nnz(A) < m w`` one more (``U`` from ``A V Z_k`` instead of keeping the ``m x w`` products). The depth
    comes from the data; the block size is ``b = max(k, 16)``: at least `k`, because a block Krylov space
    holds at most ``b`` copies of a repeated singular value (a smaller block could miss copies among the top
    `k` and not know it), and no more, because a narrower block reaches a higher Krylov degree for the same
    number of products (on the asv sparse case, ``b = k`` needed 650 column products for 1e-3 where
    ``b = k + 10`` needed 780). Where one check would cost more than two blocks' products (sparse input, whose
    products are cheap) and where the basis would pass ``KRYLOV_MEMORY_BUDGET``, the basis restarts from its top
    ``k + 2b`` Ritz vectors and the residual block (a thick restart, as in Krylov-Schur; ``mu`` is then no lower
    than the largest Ritz value let go): on the TF-IDF matrix at k = 50, tol = 1e-6, 1.2x faster. Where the
    top is flat (the top ``k / 2`` values within 20% of ``s_k^2``; in memory, not on Dask), at the first stop a
    probe (block Lanczos from 4 random columns orthogonal to the basis, 4 steps: 8 passes, kept free until then
    where ``max_passes >= 32``) estimates the complement's top; where it lies above the newest block's, ``mu``
    is raised to it and the check made again (on flat spectra, e.g. a grid Laplacian or a normalised kNN graph,
    the newest block saw half of it, and the true error reached 2.4x-5.4x the estimate; with the probe at most
    1.07x). The subspace method stops in the same way on the Ritz triplets of ``A Z`` (``Z`` its orthonormal
    right block), whose residuals the next product ``A^H Q`` gives, with the smallest Ritz value standing for
    ``mu``.

    The default tolerance is :data:`DEFAULT_TOL` = 1e-3, and without an explicit `tol` the iteration goes on
    past it while each block cuts the estimate by :data:`REFINE_GAIN` (100x), within the passes of the
    former fixed default (``2q + 2``, ``q = 7`` if ``k < 0.1 min(m, n)``, else 4) and a basis of half the short
    side (any, for matrices of at most 2^17 entries): a fast-decaying spectrum comes out accurate to rounding
    at no more passes than before, a flat one at about 1e-3 (the former default reached about 1e-2 there).
    This keeps the former accuracy for the library's own callers of ``n_iter="auto"``: on the calls their
    tests make, the median singular-value error went from 1.6e-8 to 1.4e-15 (matrix-completion
    initialisation, 12 passes instead of 16), 9.8e-16 to 4.2e-16 (factor selection, 4 instead of 10), 3.6e-8
    to 2.3e-8 (Tucker, 2 instead of 10) and 7e-16 to 6e-16 (higher-order spectra, 4 instead of 10).

    **Fixed depth** (an integer `n_iter`; on Dask without `tol`). The former behaviour, bit for bit:
    "auto" depth on Dask is 7 power iterations if ``k < 0.1 min(m, n)`` and 4 otherwise for the subspace
    method (scikit-learn's rule), half that rounded up for block Krylov (4 or 2 steps).

    **Subspace iteration** [1]_: with a Gaussian ``Omega`` (n, l), ``Y = (A A^H)^q A Omega`` (normalised
    after every product), ``Q = orth(Y)``, ``B = Q^H A = U_B diag(s) Vh`` and ``U = Q U_B``. It reads `A`
    exactly ``2q + 2`` times; flops ``O(mnl(2q + 2))`` dense or ``O(nnz(A) l (2q + 2))`` sparse, plus
    ``O((m + n) l^2 q)`` for the normalisers and ``O(n l^2)`` for the small SVD; memory ``O((m + n)(k + p))``.
    Expected error (``q = 0``, ``p >= 2``, HMT Thm 10.6):
    ``E||A - QQ^H A||_2 <= (1 + sqrt(k/(p-1))) sigma_{k+1} + e sqrt(k+p)/p (sum_{j>k} sigma_j^2)^{1/2}``;
    with ``q`` power steps the same holds for ``sigma^(2q+1)`` and the ``(2q+1)``-th root.

    **Block Krylov** [2]_ with a fixed depth: the orthonormal basis ``Q`` of
    ``[A Pi, (A A^H) A Pi, ..., (A A^H)^q A Pi]`` (``Pi`` Gaussian, n x b), each block orthogonalised twice
    against all the previous ones; then the SVD of ``Q^H A`` (Rayleigh-Ritz), whose blocks ``A^H Q_j`` are
    the Krylov products themselves. It reads `A` ``2q + 2`` times; flops ``O(mnb(2q + 2))`` dense plus
    ``O(m (b(q+1))^2)`` for the orthogonalisation and ``O(n (b(q+1))^2)`` for the SVD; memory
    ``O((m + n) b (q + 1))``. It reaches ``(1 + eps)`` spectral and per-vector accuracy with
    ``q = O(log(n)/sqrt(eps))`` steps, against ``O(log(n)/eps)`` for subspace iteration; it is usually the
    fastest method at a given accuracy, at ``q + 1`` times the memory. When the long side is at least
    ``SMALL_SIDE_RATIO = 4`` times the short one (real input on NumPy and CuPy), the basis is built in the
    short dimension instead, ``V = orth[Pi, (A^T A) Pi, ..., (A^T A)^q Pi]``, and the Rayleigh-Ritz step
    projects onto ``range(A V)`` (the same Krylov space) through the Gram matrix ``V^T A^T A V`` of the
    products already formed: orthogonalisation costs ``O(n ((q+1) b)^2)`` instead of ``O(m ((q+1) b)^2)``, and
    the passes stay ``2q + 2`` (one more for sparse ``A`` with ``nnz(A) < m (q+1) b``, replacing a dense
    ``m (q+1) b k`` product). Where the Gram matrix is too ill-conditioned it falls back to the right projection
    ``A V V^T`` or to a dense SVD of ``A V``.

    **Complex input** runs the same algorithms with conjugate transposes and a complex Gaussian test matrix
    ``(X + iY) / sqrt(2)``; the sign rule rotates the largest-magnitude entry of each column of ``U`` onto
    the positive real axis (and the row of ``Vh`` by the opposite phase).

    **Dask.** Stopping on the data would compute the graph at every pass, so ``n_iter="auto"`` keeps the
    fixed depth above and the result is lazy. Without `tol` and `method`, that is block Krylov with the block
    ``b = k + oversamples`` at ``q = 4`` steps if ``k < 0.1 min(m, n)``, else 2 (10 or 6 passes; the same bits as
    ``rsvd(A, k, method="block_krylov", n_iter=q)``), where its basis of ``b (q + 1)`` columns is narrower than
    the short side and within :data:`KRYLOV_MEMORY_BUDGET`; elsewhere the subspace iteration at 7 or 4 steps (16
    or 10 passes), the default before. Block Krylov at half the depth was at least as accurate as the subspace
    iteration at the full depth (or both at rounding) on every spectrum tried (``s_j = (j+1)^{-a}``, ``a = 1,
    0.5, 0.1``, and rank 30 plus noise; ``k = 5, 20, 150``; 5 seeds; e.g. ``a = 1``, 20000 x 1000, ``k = 20``:
    median error of the top `k` singular values 2.5e-11 against 2.1e-6); 3 steps were not (``k = 5``,
    ``a = 0.5``: 4e-7 against 4.2e-9).
    ``benchmarks/scaling_dask.py --only rule`` measures this, and ``docs/scaling.rst`` the times against
    ``dask.array.linalg.svd_compressed``. The price is memory: each row chunk keeps its ``q`` blocks
    ``A_i Omega_j`` (``m b q`` numbers in all, spread over the workers) until the last step.
    With an explicit `tol`, block Krylov runs with its basis (the
    short dimension) in memory, computing ``A^H (A V_j)`` at every block (two reads of `A`, three on the
    first block, which also finds the scale); ``U = A V Z_k / s`` stays lazy. The fixed-depth test matrix is
    drawn per chunk of the dimension it spans, from reproducible streams; `A` may be chunked by rows or in
    both dimensions and is never rechunked (the sample blocks keep all their columns in one chunk, and their
    rows are chunked like `A`). Orthonormalisation is TSQR (``dask.array.linalg.qr``), or CholeskyQR2 for
    ``normalizer="cholqr2"``. Each pass reads `A` once when the result is computed. At a fixed depth, on a
    matrix chunked along its long side only (uncentred, `normalizer` "auto" or "qr"), both methods are fused:
    each step is one task per chunk forming ``A_i Omega``, its QR and ``A_i^T Q_i`` (two passes from one read of
    the chunk; block Krylov keeps the chunk's blocks ``A_i Omega_j``), and a TSQR tree of small tasks gives
    ``A^T Q`` and the next ``Omega``; ``n_passes`` still counts ``2q + 2``.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness: probabilistic
       algorithms for constructing approximate matrix decompositions", SIAM Rev. 53(2), 2011.
    .. [2] C. Musco, C. Musco, "Randomized block Krylov methods for stronger and faster approximate singular
       value decomposition", NeurIPS 2015, arXiv:1504.05477.
    .. [3] B. N. Parlett, "The Symmetric Eigenvalue Problem", SIAM, 1998 (Ch. 11: residual and gap bounds
       of Rayleigh-Ritz approximations).

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
    >>> B = la.datasets.matrix_with_spectrum(300, 200, la.datasets.spectrum("polynomial", 200, power=1), rng=0)
    >>> res = rsvd(B, 10, tol=1e-6, rng=0)
    >>> res.converged, res.error_estimate <= 1e-6
    (True, True)
    >>> exact = np.linalg.svd(B, compute_uv=False)[:10]
    >>> bool(np.max(np.abs(res.s - exact) / exact) <= 2 * res.error_estimate)
    True
    >>> U, s, Vh = rsvd(A, 3, method="block_krylov", n_iter=2, rng=0)  # a fixed depth
    >>> s.round(6).tolist()
    [1.0, 0.875, 0.75]
    """
    method = check_option(method, "method", ["auto", "block_krylov", "subspace"])
    normalizer = check_option(normalizer, "normalizer", NORMALIZERS)
    check_option(transpose, "transpose", ["auto", True, False])
    center = check_option(center, "center", [False, True])
    flip_sign = check_option(flip_sign, "flip_sign", [False, True])
    n_iter = _check_n_iter(n_iter)
    oversamples = check_int(oversamples, "oversamples", low=0)
    if tol is not None:
        tol = check_real(tol, "tol", low=0, high=1, low_inclusive=False, high_inclusive=False)
    if max_passes is not None:
        max_passes = check_int(max_passes, "max_passes", low=2)
    if n_iter != "auto" and (tol is not None or max_passes is not None):
        given = "tol" if tol is not None else "max_passes"
        raise ValueError(f"{given} applies to n_iter='auto' (stop when converged); n_iter={n_iter} runs a fixed "
                         "number of iterations: give one or the other")
    if block_size is not None:
        if method == "subspace":
            raise ValueError(f"block_size={block_size!r} applies only to method='block_krylov'")
        block_size = check_int(block_size, "block_size", low=1)
    prod, transposed = prepare(A, center=center, transpose=transpose, allow_complex=True)
    k = check_rank(k, prod.shape, "k")
    xp, dask = prod.xp, prod.dask
    _refuse_complex_dask(prod)
    gen = as_rng(rng)
    lmax = min(prod.shape)
    adaptive = n_iter == "auto" and (not dask or tol is not None)
    if method == "auto":
        method = "block_krylov" if block_size is not None or adaptive else "subspace"
        if dask and n_iter == "auto" and block_size is None and _dask_krylov_fits(prod, k, oversamples):
            method = "block_krylov"  # the Dask default (no tol): block Krylov at half the depth (see Notes)
    if adaptive:
        return _rsvd_tol(prod, transposed, k, method, oversamples, block_size, tol, max_passes, normalizer,
                         flip_sign, gen)
    q = _auto_iterations(k, prod.shape) if n_iter == "auto" else n_iter

    if method == "subspace" and _fused_dask(prod, normalizer):
        U, s, Vh = _dask_subspace(prod, min(k + oversamples, lmax), q, k, gen, flip_sign=flip_sign)
        return SVDAccuracyResult(U, s, Vh, n_passes=prod.op.n_passes)
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
        budget = _krylov_budget()
        if need > budget:
            raise ValueError(
                f"block_size={b} and n_iter={q} need a Krylov basis of (m + n) * block_size * (n_iter + 1) = "
                f"{need / 2**30:.2f} GiB, over the budget of {budget / 2**30:.2f} GiB "
                "(lowrank_la.svd.KRYLOV_MEMORY_BUDGET); lower block_size or n_iter, or use method='subspace'")
        if width == b * (q + 1) and _fused_dask(prod, normalizer):
            U, s, Vh = _dask_subspace(prod, b, q, k, gen, krylov=True, flip_sign=flip_sign)
            return SVDAccuracyResult(U, s, Vh, n_passes=prod.op.n_passes)
        small = None
        real = not xp.isdtype(prod.dtype, "complex floating")
        if not dask and real and (is_numpy_namespace(xp) or is_cupy_namespace(xp)) and m >= SMALL_SIDE_RATIO * n:
            small = _block_krylov_small_side(prod, b, q, k, gen)
        if small is not None:
            U, s, Vh = small
            s = times_pow2(s, -prod.scale_exp)  # the small side ran on 2^e A
            return SVDAccuracyResult(*finish(U, s, Vh, k, transposed=transposed, flip_sign=flip_sign, xp=xp),
                                     n_passes=prod.op.n_passes)
        Q, Bt = _block_krylov(prod, b, q, gen)
    U, s, Vh = svd_of_projection(Q, Bt, xp, dask=dask, k=k)
    s = times_pow2(s, -prod.scale_exp)  # 2^e A where the small side set a scale and then fell back
    return SVDAccuracyResult(*finish(U, s, Vh, k, transposed=transposed, flip_sign=flip_sign, xp=xp, dask=dask),
                             n_passes=prod.op.n_passes)


def _rsvd_tol(prod, transposed, k, method, oversamples, block_size, tol, max_passes, normalizer, flip_sign, gen):
    """The tolerance-driven rsvd (``n_iter="auto"``): block Krylov or subspace iteration, stopped on residuals."""
    xp = _host_namespace(prod)
    cap = DEFAULT_MAX_PASSES if max_passes is None else max_passes
    mon = _Monitor(k, DEFAULT_TOL if tol is None else tol, cap, float(xp.finfo(prod.dtype).eps), refine=tol is None)
    lmax = min(prod.shape)
    if method == "block_krylov" or prod.dask:
        b = min(block_size if block_size is not None else max(k, _MIN_BLOCK), lmax)
        if min(lmax, b * (cap // 2)) < k:
            raise ValueError(f"block_size={b} and max_passes={cap} give a Krylov space of dimension at most "
                             f"block_size * (max_passes // 2) = {b * (cap // 2)}, below k={k}; raise block_size or "
                             "max_passes")
        # a short side of at most _WHOLE default blocks: one block of all of it (no random draw, no refinement
        # steps), cheaper than the blocks that would cover most of it
        whole = block_size is None and prod.op.kind == "dense" and prod.shape[1] <= _WHOLE * b
        U, s, Vh, why = _krylov_tol(prod, k, b, mon, gen, whole=whole)
    else:
        size = min(k + oversamples, lmax)
        method = "cholqr2" if resolve_normalizer(normalizer, xp, False) == "cholqr2" else "qr"
        U, s, Vh, why = _subspace_tol(prod, k, size, mon, method, gen)
    s = times_pow2(s, -prod.scale_exp)
    if why is not None and mon.estimate > mon.tol:  # (a refinement past tol stops quietly)
        _warn_unconverged(mon, prod.op.n_passes, why, str(prod.dtype))
    if prod.dask:
        import dask.array as da

        s, Vh = da.from_array(to_numpy(s)), da.from_array(to_numpy(Vh))
    U, s, Vh = finish(U, s, Vh, k, transposed=transposed, flip_sign=flip_sign, xp=prod.xp, dask=prod.dask)
    return SVDAccuracyResult(U, s, Vh, **mon.report(prod.op.n_passes))


def _refuse_complex_dask(prod):
    if prod.dask and prod.xp.isdtype(prod.dtype, "complex floating"):
        raise TypeError(f"A is a complex Dask array (dtype {prod.dtype}); complex input is taken on NumPy, CuPy and "
                        "array-API arrays only: compute A first")


def _itemsize(dtype, xp):
    return xp.finfo(dtype).bits // 8 * (2 if xp.isdtype(dtype, "complex floating") else 1)
