"""Shared machinery of :mod:`lowrank_la.psd` (private).

* :class:`SquareProducts` validates a square matrix argument and forms the block products ``A @ X`` the
  algorithms need, in the input's namespace, counting them (Dask products are computed to NumPy);
* :func:`draw_vectors` draws the test vectors: Gaussian, Rademacher, uniform on the sphere of radius
  ``sqrt(n)``, or any sketch of :func:`lowrank_la.sketch.make_sketch` scaled so that ``E[w w^T] = I``;
* :func:`check_symmetric_core` is the cheap symmetry check: the small matrix ``Omega^T A Omega`` that every
  method forms anyway must be symmetric;
* :func:`stable_nystrom` is the shifted Nystrom core of Tropp, Yurtsever, Udell and Cevher (2017);
* :func:`small` moves small (l x l) work to NumPy float64, :func:`back_float64` brings it back.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .._backend import as_operator, is_numpy_namespace, random_normal, svd_tall, to_numpy
from .._validate import check_option, check_real
from ..svd._common import pow2_exponent, times_pow2

SKETCHES = ("gaussian", "rademacher", "sparse_sign", "countsketch", "srht", "fjlt")


class SquareProducts:
    """A validated square matrix and its block products ``A @ X`` (one pass each, counted in `n_passes`).

    `symmetric` (the methods that assume ``A = A^T``: ``nystrom``, ``eigh``, ``nystrom_pcg``): the products go
    through :meth:`~lowrank_la.MatrixOperator.symmetric_matmat`, BLAS's faster of ``A @ X`` and ``A^T @ X``.
    """

    def __init__(self, A, name: str = "A", *, symmetric: bool = False):
        op = as_operator(A, name=name)
        m, n = op.shape
        if m != n:
            raise ValueError(f"{name} must be square, got shape ({m}, {n})")
        self.op = op
        self.n = n
        self.dtype = op.dtype
        self.dask = op.kind == "dask"
        self.xp = np if self.dask else op.xp
        self.device = "cpu" if self.dask else op.device
        self.n_vectors = 0  # columns multiplied with A (matvecs)
        self.symmetric = symmetric

    @property
    def n_passes(self) -> int:
        return self.op.n_passes

    def matmat(self, X):
        """``A @ X`` as a concrete array of the namespace ``self.xp`` (a vector is passed as a one-column block,
        which every operator kind supports)."""
        if X.ndim == 1:
            return self.matmat(self.xp.reshape(X, (-1, 1)))[:, 0]
        self.n_vectors += int(X.shape[1])
        Y = self.op.symmetric_matmat(X) if self.symmetric else self.op.matmat(X)
        return np.asarray(Y.compute()) if self.dask else Y

    def rmatmat(self, X):
        """``A^T @ X`` for a block `X` (for the methods that do not assume symmetry)."""
        self.n_vectors += int(X.shape[1])
        Y = self.op.rmatmat(X)
        return np.asarray(Y.compute()) if self.dask else Y

    def asarray(self, X):
        """A NumPy block in this matrix's namespace, device and working dtype."""
        X = np.asarray(X, dtype=self.host_dtype)
        return X if is_numpy_namespace(self.xp) else self.xp.asarray(X, device=self.device)

    @property
    def host_dtype(self):
        """The NumPy dtype of the working precision."""
        return np.dtype(np.float32 if self.xp.finfo(self.dtype).bits == 32 else np.float64)

    @property
    def eps(self) -> float:
        return float(np.finfo(self.host_dtype).eps)


def draw_vectors(P: SquareProducts, cols: int, kind: str, gen):
    """An (n, cols) block of test vectors of `kind` in `P`'s namespace and dtype, each with ``E[w w^T] = I``.

    They are drawn in float64 and rounded to the working dtype, so that float32 and float64 input see the same test
    vectors from the same seed (a randomized estimate of float32 data then differs from float64's by rounding only).
    """
    xp, n = P.xp, P.n
    if kind in ("gaussian", "rademacher", "sphere"):
        G = random_normal(gen, (n, cols), dtype=xp.float64, xp=xp, device=P.device)
        if kind == "rademacher":
            G = xp.where(G >= 0, xp.asarray(1.0, dtype=xp.float64), xp.asarray(-1.0, dtype=xp.float64))
        elif kind == "sphere":
            norms = xp.sqrt(xp.sum(G * G, axis=0))
            G = G * (math.sqrt(n) / xp.where(norms > 0, norms, 1))
        return xp.astype(G, P.dtype)
    from ..sketch import make_sketch

    S = make_sketch(kind, cols, n, rng=gen).todense()  # (cols, n) with E[S^T S] = I: rows scaled by sqrt(cols)
    return P.asarray(np.asarray(to_numpy(S), dtype=np.float64).T * math.sqrt(cols))


def check_sketch(sketch, name: str = "sketch"):
    """`sketch` if it names a test-matrix kind of the PSD methods (:data:`SKETCHES`), else a ValueError naming `name`.

    Examples
    --------
    >>> check_sketch("gaussian")
    'gaussian'
    """
    return check_option(sketch, name, SKETCHES)


def symmetry_tolerance(check_symmetric, sym_tol, P: SquareProducts) -> float | None:
    """The tolerance of the symmetry check: `sym_tol` checked (default ``sqrt(eps)`` of the working dtype), or
    None when `check_symmetric` is False."""
    if not isinstance(check_symmetric, (bool, np.bool_)):
        raise TypeError(f"check_symmetric must be True or False, got {check_symmetric!r}")
    tol = math.sqrt(P.eps) if sym_tol is None else check_real(sym_tol, "sym_tol", low=0, low_inclusive=False)
    return tol if check_symmetric else None


def check_symmetric_core(core: np.ndarray, tol: float | None, name: str = "A") -> None:
    """Refuse `A` when the small matrix ``core = Omega^T A Omega`` is not symmetric to within `tol`.

    ``||core - core^T||_F <= tol ||core||_F`` is a random test of the symmetry of ``A``: it costs no product (the
    methods form ``core`` anyway) and detects an antisymmetric part ``N`` with ``||N||_F`` above about
    ``tol ||A||_F sqrt(n / l)``. `tol` None skips it.
    """
    if tol is None:
        return
    size = float(np.linalg.norm(core))
    asym = float(np.linalg.norm(core - core.T))
    if asym > tol * size:
        raise ValueError(f"{name} must be symmetric, but Omega^T {name} Omega (a random test) has a relative "
                         f"antisymmetric part {asym / size:.2e} > sym_tol={tol:.2e}; pass check_symmetric=False to "
                         "skip the check, or symmetrize A as (A + A.T) / 2")


def small(X) -> np.ndarray:
    """A small block as a NumPy float64 array (for the l x l work)."""
    return np.asarray(to_numpy(X), dtype=np.float64)


def pow2_scale(Y, P: SquareProducts) -> int:
    """The exponent ``e`` that puts ``max |Y|`` into ``[0.5, 1)`` (0 for a zero block)."""
    return pow2_exponent(float(to_numpy(P.xp.max(P.xp.abs(Y)))) if Y.shape[0] * Y.shape[1] else 0.0)


def stable_nystrom(P: SquareProducts, Omega, Y, *, name: str = "A", sym_tol=None):
    """Eigenpairs ``(lam, U)`` (descending) of the Nystrom approximation ``Y (Omega^T Y)^+ Y^T``, stably.

    The shifted construction of Tropp, Yurtsever, Udell and Cevher (2017): ``Y_nu = Y + nu Omega`` with
    ``nu <= sqrt(n) eps ||Y||_F`` (the smallest sufficient shift, see :func:`shifted_cholesky`),
    ``C^T C = Omega^T Y_nu`` (Cholesky), ``B = Y_nu C^{-1}``, ``B = U S V^T`` and ``lam = max(S^2 - nu, 0)``.
    ``Y`` is first scaled by a power of two (exactly) so that no square under- or overflows; the small work and
    ``B`` are computed in float64, ``U`` is returned in the working dtype.
    A Cholesky factorisation that breaks down means ``A`` is not positive semidefinite: ``ValueError`` naming
    `name`. Returns ``(lam, U, nu)`` with ``nu`` in `A`'s units.
    """
    xp = P.xp
    e = pow2_scale(Y, P)
    Ys = times_pow2(xp.astype(Y, xp.float64), e, np.float64)
    Omega64 = xp.astype(Omega, xp.float64)
    core = small(Omega64.T @ Ys)
    check_symmetric_core(core, sym_tol, name)
    norm_y = float(to_numpy(xp.sqrt(xp.sum(Ys * Ys))))
    if norm_y == 0.0:  # A Omega = 0: the approximation is zero
        return np.zeros(Y.shape[1]), P.asarray(np.eye(P.n, Y.shape[1])), 0.0
    gram = small(Omega64.T @ Omega64)
    C, nu = shifted_cholesky((core + core.T) / 2, gram, norm_y, P.n, P.eps)
    if C is None:
        low = float(scipy.linalg.eigvalsh((core + core.T) / 2 + nu * gram, check_finite=False)[0])
        raise ValueError(f"{name} must be positive semidefinite, but Omega^T {name} Omega has the eigenvalue "
                         f"{math.ldexp(low, -e):.3g} < 0 (to within the stabilising shift); use "
                         "lowrank_la.psd.eigh(..., psd=False) for symmetric indefinite matrices")
    Y_nu = Ys + nu * Omega64
    B = Y_nu @ back_float64(P, np.linalg.inv(C))  # C is upper triangular: LU takes no pivots (SMALL_WORK_NOTE)
    U, s, _ = svd_tall(B, xp)
    lam = np.maximum(small(s) ** 2 - nu, 0.0)
    lam = np.ldexp(lam, -e)
    return lam, xp.astype(U, P.dtype), math.ldexp(nu, -e)


def shifted_cholesky(core, gram, norm_y, n, eps):
    """``(C, nu)``: the upper Cholesky factor of ``core + nu gram`` for the smallest shift that works.

    The shift starts at ``eps(float64) ||Y||_F / sqrt(n)`` (Epperly, Tropp and Webber's choice; the small work
    runs in float64) and grows 16-fold up to ``sqrt(n) eps ||Y||_F`` with the working dtype's ``eps`` (Tropp,
    Yurtsever, Udell and Cevher's): float32 products carry float32 rounding, which can make the core of an exactly
    low-rank matrix indefinite at that level, and the smallest sufficient shift keeps the most accuracy (the
    shift's own error is of its size). ``(None, nu)`` when even the largest shift fails (the matrix is not
    positive semidefinite).
    """
    nu = float(np.finfo(np.float64).eps) * norm_y / math.sqrt(n)
    top = math.sqrt(n) * eps * norm_y
    while True:
        try:
            C = np.linalg.cholesky(core + nu * gram).T  # NumPy's LAPACK between NumPy products (SMALL_WORK_NOTE)
            if np.all(np.isfinite(C)) and float(np.min(np.abs(np.diag(C)))) > 0.0:
                return C, nu
        except np.linalg.LinAlgError:
            pass
        if nu >= top:
            return None, nu
        nu = min(16 * nu, top)


def back_float64(P: SquareProducts, X):
    """A small NumPy float64 array in `P`'s namespace (kept in float64)."""
    return X if is_numpy_namespace(P.xp) else P.xp.asarray(X, device=P.device)
