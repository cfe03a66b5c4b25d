"""Shared machinery of the randomized SVD family (private).

* :func:`prepare` validates the matrix argument and wraps it into a :class:`Products` object: the block
  products ``A @ X`` and ``A^T @ Y`` of the (optionally implicitly centred, optionally transposed) matrix, on
  any backend, counting passes on the underlying :class:`~lowrank_la.MatrixOperator`;
* :func:`draw` draws a Gaussian test matrix in the working dtype; on Dask, one independent, reproducible
  stream per chunk of the dimension it spans;
* :func:`orthonormalize` / :func:`normalize` are the orthonormaliser (Householder QR, CholeskyQR2, TSQR on
  Dask) and the cheap power-iteration normaliser (pivoted LU);
* :func:`sign_fix` applies the library's sign rule lazily on Dask and through ``flip_signs`` elsewhere;
* :func:`times_pow2`, :func:`pow2_exponent` and :func:`safe_norm` are the exact power-of-two rescaling that
  keeps the algorithms scale invariant (``f(c A) = c f(A)`` for ``c`` from 1e-310 to 1e300).
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import (
    as_operator,
    cholesky_qr2,
    flip_signs,
    is_cupy_namespace,
    is_numpy_namespace,
    lu_normalize,
    qr_econ,
    random_normal,
    svd_tall,
    to_numpy,
)
from .._validate import is_dask, is_sparse

NORMALIZERS = ("auto", "lu", "qr", "cholqr2", "none")


def check_adjoint(A, name: str = "A") -> None:
    """Refuse a LinearOperator that cannot apply its adjoint (every method here needs ``A^T @ Y``)."""
    if is_sparse(A) or is_dask(A) or hasattr(A, "__array_namespace__"):
        return
    if hasattr(A, "matmat") and not hasattr(A, "rmatmat"):
        raise TypeError(f"{name} is an operator without rmatmat; the randomized SVD needs products with "
                        f"A^T: give {name} an rmatmat (or rmatvec)")
    try:
        from scipy.sparse.linalg import LinearOperator
        from scipy.sparse.linalg._interface import _CustomLinearOperator
    except ImportError:  # pragma: no cover
        return
    if not isinstance(A, LinearOperator):
        return
    if isinstance(A, _CustomLinearOperator):
        missing = (getattr(A, "_CustomLinearOperator__rmatvec_impl", None) is None
                   and getattr(A, "_CustomLinearOperator__rmatmat_impl", None) is None)
    else:
        cls = type(A)
        missing = (cls._rmatvec is LinearOperator._rmatvec and cls._rmatmat is LinearOperator._rmatmat
                   and cls._adjoint is LinearOperator._adjoint)
    if missing:
        raise TypeError(f"{name} is a LinearOperator without rmatvec/rmatmat; the randomized SVD needs "
                        f"products with A^T: build {name} with rmatvec= (or rmatmat=)")


class Products:
    """Block products with ``C = A - 1 mu^T`` (``mu = 0`` unless centred), or with ``C^T`` if transposed.

    ``matmat(X) = C @ X`` and ``rmatmat(Y) = C^T @ Y``; each is one pass over ``A``, counted on ``op``.
    """

    def __init__(self, op, raw, *, center=False, transposed=False):
        self.op = op
        self.raw = raw
        self.xp = op.xp
        self.dtype = op.dtype
        self.dask = op.kind == "dask"
        self.transposed = transposed
        m, n = op.shape
        self.shape = (n, m) if transposed else (m, n)
        self.mu = None
        self.scale_exp = 0  # the products are those of 2**scale_exp * C (see :meth:`rescale`)
        if center:  # column means, one pass: mu = conj(A^H 1) / m
            ones = self._ones(m, op.shape, 0)
            mu = op.rmatmat(ones) / m
            self.mu = self.xp.conj(mu) if op.is_complex else mu

    # the chunks of A along its rows (axis 0) and columns (axis 1), for Dask
    def _chunks(self, axis):
        return self.raw.chunks[axis] if self.dask else None

    def _ones(self, size, shape, axis):
        if self.dask:
            import dask.array as da

            return da.ones((size,), dtype=self.dtype, chunks=(self._chunks(axis),))
        return self.xp.ones((size,), dtype=self.dtype, device=self.op.device)

    def col_chunks(self):
        """Chunks of the dimension that a right-hand side ``X`` of :meth:`matmat` spans (Dask only)."""
        return self._chunks(0 if self.transposed else 1)

    def row_chunks(self):
        return self._chunks(1 if self.transposed else 0)

    def _a(self, X):  # A @ X, centred
        Y = self.op.matmat(X)
        if self.mu is not None:
            Y = Y - self.xp.reshape(self.mu @ X, (1, -1))
        return Y

    def _at(self, Y):  # A^T @ Y, centred
        X = self.op.rmatmat(Y)
        if self.mu is not None:  # C^H Y = A^H Y - conj(mu) (1^T Y)
            mu = self.xp.conj(self.mu) if self.op.is_complex else self.mu
            X = X - self.xp.reshape(mu, (-1, 1)) * self.xp.reshape(self.xp.sum(Y, axis=0), (1, -1))
        return X

    def rescale(self, exponent: int) -> None:
        """Make the products those of ``2**exponent * C`` (exact; folded into the blocks, `A` is untouched)."""
        self.scale_exp = int(exponent)

    def _scaled(self, product, X):
        """``2**scale_exp * product(X)``: most of the factor on the (unit-sized) block, the rest on the result."""
        e = self.scale_exp
        if e == 0:
            return product(X)
        pre = max(-_step(self.dtype), min(_step(self.dtype), e))
        return times_pow2(product(times_pow2(X, pre, self.dtype)), e - pre, self.dtype)

    def matmat(self, X):
        return self._scaled(self._at if self.transposed else self._a, X)

    def rmatmat(self, Y):
        return self._scaled(self._a if self.transposed else self._at, Y)


def prepare(A, *, center=False, transpose="auto", name="A", allow_complex=False):
    """Validate `A` and return ``(Products, transposed)``; ``transpose="auto"`` transposes when ``m < n``."""
    check_adjoint(A, name)
    op = as_operator(A, name=name, allow_complex=allow_complex)
    raw = op._A if op.kind == "dask" else A  # the Dask array in the working dtype, for its chunks
    m, n = op.shape
    transposed = (m < n) if transpose == "auto" else bool(transpose)
    return Products(op, raw, center=center, transposed=transposed), transposed


# --------------------------------------------------------------------------- exact power-of-two scaling

def _step(dtype) -> int:
    """The largest exponent ``e`` such that ``2.0**e`` and ``2.0**-e`` are normal numbers of `dtype`."""
    return 100 if "float32" in str(dtype) else 1000


def times_pow2(X, exponent: int, dtype=None):
    """``X * 2**exponent``, exact unless the result under/overflows, in steps that keep each factor normal."""
    step = _step(X.dtype if dtype is None else dtype)
    e = int(exponent)
    while e != 0:
        part = max(-step, min(step, e))
        X = X * (2.0 ** part)
        e -= part
    return X


def pow2_exponent(magnitude: float) -> int:
    """The exponent ``e`` with ``2**e * magnitude`` in ``[0.5, 1)`` (0 for zero, Inf or NaN)."""
    if magnitude == 0 or not math.isfinite(magnitude):
        return 0
    return -math.frexp(magnitude)[1]


def ldexp_safe(x: float, exponent: int) -> float:
    """``x 2^exponent`` as a Python float, Inf where it overflows (``math.ldexp`` raises there)."""
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.copysign(math.inf, x)


def safe_norm(X, xp) -> float:
    """``||X||_F`` without overflow or underflow in its squares (scaled by a power of two from ``max |X|``).

    Returns a Python float; Inf where the norm itself exceeds the float64 range, NaN where `X` holds NaN.
    """
    if is_dask(X):
        import dask.array as xp
    big = host_float(xp.max(xp.abs(X)))
    if big == 0 or not math.isfinite(big):
        return big
    e = pow2_exponent(big)
    Xs = times_pow2(X.astype(np.float64) if is_dask(X) else xp.astype(X, xp.float64), e, np.float64)
    return ldexp_safe(math.sqrt(host_float(xp.sum(Xs * Xs))), -e)


def herm(X, xp):
    """The conjugate transpose ``X^H`` (``X.T`` for real `X`, without a copy)."""
    return xp.conj(X.T) if xp.isdtype(X.dtype, "complex floating") else X.T


def blocks_gram(blocks, Z, xp):
    """``[B_1, B_2, ...]^H Z`` for a basis kept as a list of blocks (nothing to grow and copy as it widens)."""
    return xp.concat([herm(B, xp) @ Z for B in blocks], axis=0)


def minus_projection(blocks, Z, xp):
    """``Z - K K^H Z`` for the orthonormal basis ``K = [B_1, B_2, ...]`` kept as a list of blocks: one sweep of
    block classical Gram-Schmidt."""
    return Z - blocks_times(blocks, blocks_gram(blocks, Z, xp))


def blocks_times(blocks, M):
    """``[B_1, B_2, ...] @ M`` for a basis kept as a list of blocks: the sum of ``B_j M_j`` over the row blocks
    ``M_j`` of `M`."""
    out, start = None, 0
    for B in blocks:
        term = B @ M[start:start + B.shape[1], :]
        if out is None:
            out = term
        else:
            out += term
        start += B.shape[1]
    return out


def host_float(x) -> float:
    """A 0-d array of any backend (Dask computed, CuPy copied) as a Python float."""
    return float(to_numpy(x))


# --------------------------------------------------------------------------- random test matrices

def grown(X, shape, xp, device):
    """A zero `shape` array of `X`'s dtype on `device` with `X` in its top-left corner: a buffer grown (amortised
    doubling, by the caller) for a basis built a block at a time."""
    out = xp.zeros(shape, dtype=X.dtype, device=device)
    out[:X.shape[0], :X.shape[1]] = X
    return out


def _draw_chunk(seed, shape, dtype):
    return np.random.default_rng(seed).standard_normal(shape, dtype=dtype)


def gaussian(gen, shape, *, dtype, xp, device=None):
    """Standard Gaussian draws of `shape` in `dtype`; for a complex dtype ``(X + iY) / sqrt(2)`` (unit variance)."""
    if not xp.isdtype(dtype, "complex floating"):
        return random_normal(gen, shape, dtype=dtype, xp=xp, device=device)
    real = xp.float32 if xp.finfo(dtype).bits == 32 else xp.float64
    re, im = (xp.astype(random_normal(gen, shape, dtype=real, xp=xp, device=device), dtype) for _ in range(2))
    return (re + im * 1j) * math.sqrt(0.5)


def draw_seeds(prod: Products, gen):
    """:func:`draw`'s seeds on Dask, one per column chunk of ``prod``, with the chunks and the host dtype."""
    chunks = prod.col_chunks()
    seeds = np.random.SeedSequence(int(gen.integers(2**63 - 1))).spawn(len(chunks))
    return seeds, chunks, np.float32 if np.dtype(prod.dtype) == np.float32 else np.float64


def draw(prod: Products, gen, cols: int):
    """A standard Gaussian (n, cols) test matrix in the working dtype (complex: :func:`gaussian`), for
    ``prod.matmat``.

    On Dask it is chunked like the columns of the (possibly transposed) matrix, and chunk ``j`` is drawn from
    the ``j``-th child of a ``SeedSequence`` seeded from `gen`: the same `rng` gives the same matrix whatever
    the scheduler and the order in which chunks are computed.
    """
    n = prod.shape[1]
    xp = prod.xp
    if prod.dask:
        import dask
        import dask.array as da

        seeds, chunks, host = draw_seeds(prod, gen)
        blocks = [da.from_delayed(dask.delayed(_draw_chunk)(s, (c, cols), host), shape=(c, cols), dtype=host)
                  for s, c in zip(seeds, chunks)]
        return da.concatenate(blocks, axis=0)
    return gaussian(gen, (n, cols), dtype=prod.dtype, xp=xp, device=prod.op.device)


# --------------------------------------------------------------------------- orthonormalisation

def resolve_normalizer(normalizer, xp, dask):
    """``"auto"``: CholeskyQR2 on NumPy and CuPy (BLAS-3, and NumPy's BLAS library only); QR elsewhere."""
    if normalizer != "auto":
        return normalizer
    if not dask and (is_numpy_namespace(xp) or is_cupy_namespace(xp)):
        return "cholqr2"
    return "qr"


def orthonormalize(Y, xp, *, method="qr", dask=False):
    """Orthonormal basis of the columns of a tall block: TSQR on Dask, else QR or CholeskyQR2."""
    if dask:
        import dask.array as da

        if len(Y.chunks[1]) > 1:
            Y = Y.rechunk({1: -1})
        if method == "cholqr2":
            return _dask_cholqr2(Y)
        return da.linalg.qr(Y)[0]
    if method == "cholqr2":
        return cholesky_qr2(Y, xp)
    return qr_econ(Y, xp)[0]


def _dask_cholqr2(Y):
    """Shifted CholeskyQR3 on a row-chunked Dask array (lazy); Gram matrices are reduced over the chunks.

    A lazy graph cannot fall back to Householder QR when the Cholesky factorisation breaks down, so the first
    of three rounds factors ``G + s I`` with Fukaya et al.'s shift ``s = 11 (m l + l (l + 1)) eps trace(G)``,
    which makes it succeed for any ``Y``; the two unshifted rounds after it restore orthogonality.
    """
    import dask.array as da
    import scipy.linalg

    m = Y.shape[0]

    def solve_right(block, R):
        return scipy.linalg.solve_triangular(R, block.T, trans="T", lower=False, check_finite=False).T

    def chol(g, shifted):
        if shifted:
            l = g.shape[0]
            shift = 11 * (m * l + l * (l + 1)) * np.finfo(g.dtype).eps * max(float(np.trace(g)), 1e-300)
            g = g + shift * np.eye(l, dtype=g.dtype)
        return scipy.linalg.cholesky(g, lower=False, check_finite=False)

    Q = Y
    for shifted in (True, False, False):
        G = (Q.T @ Q).rechunk(-1)
        R = G.map_blocks(chol, shifted, dtype=G.dtype)
        Q = da.map_blocks(solve_right, Q, R, dtype=Q.dtype)
    return Q


def normalize(Y, xp, *, method, dask=False):
    """The normaliser between two products of a power iteration."""
    if method == "none":
        return Y
    if method == "lu" and not dask:
        return lu_normalize(Y, xp)
    return orthonormalize(Y, xp, method="cholqr2" if method == "cholqr2" else "qr", dask=dask)


# --------------------------------------------------------------------------- finishing

def svd_of_projection(Q, Bt, xp, *, dask=False, k=None):
    """SVD of ``B = Bt^H`` (``Bt = A^H Q``, n x l) lifted by `Q`: ``(U, s, Vh)`` of ``Q B``, the top `k` only."""
    if dask:
        import dask.array as da

        W, s, Zh = da.linalg.svd(Bt.rechunk({1: -1}))
    else:  # factored at a unit scale: the Gram matrices of svd_tall would under/overflow beyond about 1e+-150
        e = pow2_exponent(host_float(xp.max(xp.abs(Bt))))
        W, s, Zh = svd_tall(times_pow2(Bt, e), xp, k=k)
        s = times_pow2(s, -e)
    if k is not None:  # truncate before lifting: Q @ Zh^T costs m l k flops instead of m l^2
        W, s, Zh = W[:, :k], s[:k], Zh[:k, :]
    if xp.isdtype(W.dtype, "complex floating"):  # Bt = W s Zh, so B = Zh^H s W^H
        return Q @ xp.conj(Zh.T), s, xp.conj(W.T)
    return Q @ Zh.T, s, W.T


def sign_fix(U, Vh, xp, *, dask=False):
    """Largest-magnitude entry of each column of U positive (``flip_signs``; a lazy equivalent on Dask)."""
    if not dask:
        return flip_signs(U, Vh, xp)
    import dask.array as da

    signs = signs_from_extremes(da.max(U, axis=0), da.min(U, axis=0), U.dtype, da)
    return U * signs[None, :], Vh * signs[:, None]


def signs_from_extremes(big, small, dtype, xp=np):
    """The sign rule from the columns' largest and smallest entries (`big`, `small`): +1 where the entry of
    largest magnitude is positive (ties: +1), else -1; for the lazy forms of :func:`flip_signs` on Dask."""
    return xp.where(big >= -small, 1, -1).astype(dtype)


def finish(U, s, Vh, k, *, transposed, flip_sign, xp, dask=False):
    """Truncate to `k`, undo the (conjugate) transpose, apply the sign rule."""
    U, s, Vh = U[:, :k], s[:k], Vh[:k, :]
    if transposed:
        U, Vh = herm(Vh, xp), herm(U, xp)
    if flip_sign:
        U, Vh = sign_fix(U, Vh, xp, dask=dask)
    return U, s, Vh
