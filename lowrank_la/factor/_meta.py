"""The meta-factorization ``A ~ F G H^T``: projector equations for the frames, reconstruction equation for the core.

Given frames ``F`` (m x kf) and ``H`` (n x kh) and test matrices ``B`` (m x lb) and ``D`` (n x ld), the projector
factors are ``Y^T = (B^T F)^+ B^T`` and ``X = D (H^T D)^+``; they solve the projector equations
``F Y^T F = F`` and ``H^T X H^T = H^T`` exactly when ``rank(B^T F) = rank(F)`` and ``rank(H^T D) = rank(H)``.
The core is the general solution ``G = Y^T A X + W - (Y^T F) W (H^T X)`` of the reconstruction equation
``F G H^T = A`` (which is consistent when ``col(A) <= col(F)`` and ``row(A) <= col(H)``); below full rank,
``F G H^T = (F Y^T) A (X H^T)`` is a two-sided oblique projection of ``A``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from .._backend import array_namespace, as_operator, is_numpy_namespace, qr_econ, svd_small
from .._backend.linalg import solve_triangular
from .._validate import as_matrix, check_operand, check_option, check_real, check_shape_agrees, is_sparse
from ..svd._common import safe_norm

__all__ = ["MetaFactorization", "RankConditionWarning", "meta_factorize"]

METHODS = ("qr", "lstsq", "pinv")
_BLOCK_ENTRIES = 1 << 18  # entries of one dense residual block in relative_error


class RankConditionWarning(UserWarning):
    """A rank condition of the projector equations fails: a frame is rank deficient or a test matrix loses rank.

    See Also
    --------
    meta_factorize : The solver that checks the rank conditions.
    cur : Warns with it when the cross core ``A[rows, cols]^+`` is ill-conditioned.
    pinv_from_rank_factorization : Warns with it when a factor is rank deficient.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from lowrank_la.factor import RankConditionWarning, meta_factorize
    >>> A = np.outer(np.arange(1.0, 6.0), np.arange(1.0, 5.0))
    >>> F = np.hstack([A[:, :1], A[:, :1]])          # two equal columns: rank 1 < 2 columns
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = meta_factorize(A, F, A.T[:, :1])
    >>> caught[0].category is RankConditionWarning
    True
    """


class MetaFactorization:
    """A low-rank factorization ``A ~ F @ G @ H.T`` with its projector factors.

    Parameters
    ----------
    F, G, H : array_like
        Column frame (m, kf), core (kf, kh) and row frame (n, kh), dense and real.
    Yt, X : array_like, optional
        Left (kf, m) and right (n, kh) projector factors, when known.
    info : dict, optional
        Diagnostics stored (copied) as :attr:`info`.
    apply_factors : tuple of three arrays, optional
        An equivalent triple ``(L, M, R)`` with ``L @ M @ R.T == F @ G @ H.T``, better conditioned, through
        which the products are computed (default ``(F, G, H)``).

    Attributes
    ----------
    F : (m, kf) array
        Column frame.
    G : (kf, kh) array
        Core.
    H : (n, kh) array
        Row frame (``H.T`` multiplies from the right).
    Yt : (kf, m) array
        Left projector factor: ``P_c = F @ Yt`` is an (oblique) projector onto ``col(F)`` when the left rank
        condition holds.
    X : (n, kh) array
        Right projector factor: ``P_r = X @ H.T``.
    info : dict
        ``rank_F``, ``rank_BtF``, ``rank_H``, ``rank_HtD`` (numerical ranks, or None when not computed),
        ``projector_residual_left`` ``||F Yt F - F||_F / ||F||_F`` and ``projector_residual_right``
        ``||H^T X H^T - H^T||_F / ||H||_F`` (None when not checked), ``route_left`` and ``route_right`` (how each
        factor was computed: "qr", "lstsq" or "pinv", and "pinv (fallback)" when the QR route met a rank
        deficient ``B^T F``), and instance-specific entries.

    Raises
    ------
    ValueError
        If a factor is not 2-D, is empty or holds NaN or Inf, or the shapes do not chain (``G`` must be
        (kf, kh), ``Yt`` (kf, m), ``X`` (n, kh)).
    TypeError
        If a factor is not a dense numeric real array (lists and DataFrames are converted).

    See Also
    --------
    meta_factorize : The general solver that returns it.
    CURDecomposition : The subclass for CUR decompositions.
    InterpolativeDecomposition : The subclass for interpolative decompositions.

    Notes
    -----
    The low-rank operator is applied through its factors (``matvec`` costs ``O((m + n) k + kf kh)``) and never
    formed unless :meth:`reconstruct` is called. Instances may apply it through an equivalent, better conditioned
    triple (CUR goes through the orthonormal factors of ``C`` and ``R``); ``F @ G @ H.T`` is the same matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import MetaFactorization
    >>> mf = MetaFactorization(np.ones((3, 1)), np.array([[2.0]]), np.ones((4, 1)))
    >>> mf.shape, mf.rank, mf.matvec(np.ones(4)).tolist()
    ((3, 4), 1, [8.0, 8.0, 8.0])
    """

    def __init__(self, F, G, H, Yt=None, X=None, info=None, *, apply_factors=None):
        F, G, H = (as_matrix(M, name, sparse=False) for M, name in ((F, "F"), (G, "G"), (H, "H")))
        check_shape_agrees("G.shape[0]", G.shape[0], F.shape[1], "F.shape[1]")
        check_shape_agrees("G.shape[1]", G.shape[1], H.shape[1], "H.shape[1]")
        if Yt is not None:
            Yt = as_matrix(Yt, "Yt", sparse=False)
            check_shape_agrees("Yt.shape[0]", Yt.shape[0], F.shape[1], "F.shape[1]")
            check_shape_agrees("Yt.shape[1]", Yt.shape[1], F.shape[0], "F.shape[0]")
        if X is not None:
            X = as_matrix(X, "X", sparse=False)
            check_shape_agrees("X.shape[0]", X.shape[0], H.shape[0], "H.shape[0]")
            check_shape_agrees("X.shape[1]", X.shape[1], H.shape[1], "H.shape[1]")
        self.F, self.G, self.H, self.Yt, self.X = F, G, H, Yt, X
        self.info = dict(info or {})
        self._apply = apply_factors if apply_factors is not None else (F, G, H)

    @property
    def shape(self) -> tuple[int, int]:
        """The shape ``(m, n)`` of the approximated matrix.

        See Also
        --------
        MetaFactorization.rank : The inner dimension of the factorization.
        """
        return (int(self.F.shape[0]), int(self.H.shape[0]))

    @property
    def dtype(self):
        """The dtype of the factors (that of ``F``).

        See Also
        --------
        MetaFactorization.reconstruct : The dense matrix, in this dtype.
        """
        return self.F.dtype

    @property
    def rank(self) -> int:
        """Inner dimension of the factorization, ``min(kf, kh)`` (an upper bound of the rank).

        See Also
        --------
        MetaFactorization.shape : The shape of the approximated matrix.
        """
        return int(min(self.G.shape))

    def _xp(self):
        return array_namespace(self._apply[0])

    def reconstruct(self):
        """The dense matrix ``F @ G @ H.T``.

        Returns
        -------
        (m, n) array
            The low-rank approximation, formed explicitly (``O(m n k)`` time and ``m n`` memory).

        See Also
        --------
        MetaFactorization.matmat : Products through the factors, without forming the matrix.
        MetaFactorization.relative_error : The error against the approximated matrix.
        """
        L, M, R = self._apply
        if L.shape[0] >= R.shape[0]:
            return L @ (M @ R.T)
        return (L @ M) @ R.T

    def matmat(self, V):
        """``(F G H^T) @ V`` for an (n, p) block `V`, through the factors.

        Parameters
        ----------
        V : (n, p) array_like or sparse matrix
            The block to multiply. It follows the input rule: dense, sparse or array-like, real or complex; a
            `V` that is not 2-D, is empty, holds NaN or Inf or has ``V.shape[0] != n`` is refused with a
            ``ValueError`` naming it.

        Returns
        -------
        (m, p) array
            ``F @ (G @ (H.T @ V))``.

        See Also
        --------
        MetaFactorization.rmatmat : The product with the transpose.
        MetaFactorization.matvec : The product with a vector.
        MetaFactorization.as_linear_operator : The same products as a scipy LinearOperator.
        """
        return self._product(self._operand(V, "V", 1, 2))

    def rmatmat(self, U):
        """``(F G H^T)^T @ U`` for an (m, p) block `U`, through the factors.

        Parameters
        ----------
        U : (m, p) array_like or sparse matrix
            The block to multiply, checked as `V` in :meth:`matmat`.

        Returns
        -------
        (n, p) array
            ``H @ (G.T @ (F.T @ U))``.

        See Also
        --------
        MetaFactorization.matmat : The product with the factorization itself.
        MetaFactorization.rmatvec : The transpose product with a vector.
        """
        return self._rproduct(self._operand(U, "U", 0, 2))

    def matvec(self, x):
        """``(F G H^T) @ x`` for a 1-D `x` of length n.

        Parameters
        ----------
        x : (n,) array_like
            The vector to multiply, checked as `V` in :meth:`matmat`.

        Returns
        -------
        (m,) array
            The product, through the factors.

        See Also
        --------
        MetaFactorization.matmat : The product with a block.
        MetaFactorization.rmatvec : The transpose product with a vector.
        """
        return self._product(self._operand(x, "x", 1, 1))

    def rmatvec(self, y):
        """``(F G H^T)^T @ y`` for a 1-D `y` of length m.

        Parameters
        ----------
        y : (m,) array_like
            The vector to multiply, checked as `V` in :meth:`matmat`.

        Returns
        -------
        (n,) array
            The product, through the factors.

        See Also
        --------
        MetaFactorization.rmatmat : The transpose product with a block.
        MetaFactorization.matvec : The product with a vector.
        """
        return self._rproduct(self._operand(y, "y", 0, 1))

    def _operand(self, X, name, axis, ndim):
        """`X` checked as the operand of a product with ``F G H^T`` (``axis=1``) or its transpose (``axis=0``).

        The input rule (lists and sparse accepted, complex allowed, NaN/Inf and empty refused), `ndim`
        dimensions, and ``X.shape[0] == shape[axis]``; errors name `name`.
        """
        return check_operand(X, name, self.shape[axis], f"the factorization's shape[{axis}]", ndim=ndim)

    def _product(self, V):
        L, M, R = self._apply
        return L @ (M @ (R.T @ V))

    def _rproduct(self, U):
        L, M, R = self._apply
        return R @ (M.T @ (L.T @ U))

    def as_linear_operator(self) -> LinearOperator:
        """A ``scipy.sparse.linalg.LinearOperator`` applying ``F G H^T`` through the factors (NumPy arrays).

        The operator checks shapes only (as SciPy's do): its products skip the finiteness checks of
        :meth:`matmat`, for iterative solvers that call it many times.

        Returns
        -------
        scipy.sparse.linalg.LinearOperator
            An (m, n) operator with ``matvec``, ``rmatvec``, ``matmat`` and ``rmatmat``.

        See Also
        --------
        MetaFactorization.matvec : The product it applies.
        MetaFactorization.rmatvec : The transpose product it applies.
        """
        return LinearOperator(self.shape, matvec=self._product, rmatvec=self._rproduct, matmat=self._product,
                              rmatmat=self._rproduct, dtype=np.dtype(self.dtype))

    def relative_error(self, A) -> float:
        """``||A - F G H^T||_F / ||A||_F`` for an (m, n) `A`, dense or sparse.

        Parameters
        ----------
        A : (m, n) array or sparse matrix
            Real, by the input rule (lists and DataFrames converted, sparse kept sparse).

        Returns
        -------
        float
            The relative Frobenius error; 0.0 when `A` and the factorization are both zero, ``inf`` when only
            `A` is.

        Raises
        ------
        ValueError
            If `A` is not 2-D, is empty, holds NaN or Inf, or its shape is not the factorization's.
        TypeError
            If `A` is complex or not numeric.

        See Also
        --------
        MetaFactorization.reconstruct : The dense approximation.

        Notes
        -----
        The residual is formed by blocks of rows of at most about ``2**18`` entries (a sparse block is
        densified on its own), so neither `A` nor the reconstruction is ever held dense in full; the norms are
        scaled by powers of two, so their squares neither overflow nor underflow.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> from lowrank_la.factor import mf_svd
        >>> A = sp.random(40, 30, density=0.1, format="csr", random_state=0)
        >>> mf = mf_svd(A.toarray(), 5)
        >>> bool(abs(mf.relative_error(A) - mf.relative_error(A.toarray())) < 1e-14)
        True
        """
        A = check_operand(A, "A", self.shape[0], "the factorization's shape[0]", ndim=2, allow_complex=False)
        check_shape_agrees("A.shape[1]", A.shape[1], self.shape[1], "the factorization's shape[1]")
        xp = self._xp()
        sparse = is_sparse(A)
        if sparse and A.format != "csr":
            A = A.tocsr()  # row blocks of a CSR matrix are cheap slices
        L, M, R = self._apply
        MRt = M @ R.T
        m, n = self.shape
        step = max(1, _BLOCK_ENTRIES // n)
        residual = 0.0
        for start in range(0, m, step):
            stop = min(start + step, m)  # array-API slices stay in bounds
            block = A[start:stop, :].toarray() if sparse else A[start:stop, :]
            block = np.asarray(block) if is_numpy_namespace(xp) else xp.asarray(block)
            residual = math.hypot(residual, safe_norm(block - L[start:stop, :] @ MRt, xp))
        values = A.data if sparse else A  # ||A||_F from the stored entries alone
        norm = safe_norm(values, array_namespace(values))
        if norm == 0:
            return 0.0 if residual == 0 else math.inf
        return residual / norm

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.shape[0]}x{self.shape[1]}, F {tuple(self.F.shape)}, "
                f"G {tuple(self.G.shape)}, H {tuple(self.H.shape)}, dtype={self.dtype}>")


# --------------------------------------------------------------------------- validation helpers

def as_frame(M, name, rows, rows_name, xp, dtype, *, min_cols=1, min_cols_text=None):
    """A dense frame or test matrix in `xp` and `dtype`, with `rows` rows and at least `min_cols` columns."""
    M = as_matrix(M, name, sparse=False)
    check_shape_agrees(f"{name}.shape[0]", M.shape[0], rows, rows_name)
    if int(M.shape[1]) < min_cols:
        raise ValueError(f"{name}.shape[1]={M.shape[1]} must be >= {min_cols_text}")
    M = xp.asarray(M) if not is_numpy_namespace(xp) else np.asarray(M)
    return xp.astype(M, dtype) if M.dtype != dtype else M


def default_rcond(shape, dtype, xp) -> float:
    """SciPy's pinv default: ``max(shape) * eps`` relative to the largest singular value."""
    return max(int(s) for s in shape) * float(xp.finfo(dtype).eps)


def numerical_rank(s, rcond, xp) -> int:
    """Number of singular values `s` above ``rcond * max(s)`` (0 for an empty or zero spectrum)."""
    if s.shape[0] == 0:
        return 0
    top = float(xp.max(s))
    return int(xp.sum(xp.astype(s > rcond * top, xp.int64))) if top > 0 else 0


def singular_values(M, xp):
    """Singular values of a small dense `M`, descending."""
    if is_numpy_namespace(xp):  # NumPy's LAPACK between NumPy products (lowrank_la._backend.SMALL_WORK_NOTE)
        return np.linalg.svd(M, compute_uv=False)
    return xp.linalg.svd(M, full_matrices=False)[1]


def solve_upper(R, Z, xp):
    """``R^{-1} Z`` for a small upper-triangular `R`."""
    if is_numpy_namespace(xp):
        return solve_triangular(R, Z, lower=False)
    return xp.linalg.solve(R, Z)


def small_pinv(M, rcond, xp):
    """Pseudoinverse of a small matrix, singular values below ``rcond * s_max`` treated as zero."""
    U, s, Vh = svd_small(M, xp)
    keep = numerical_rank(s, rcond, xp)
    return (Vh[:keep, ...].T / s[:keep]) @ U[:, :keep].T


def inverse_factor(K, Bt, *, method, rcond, xp):
    """``K^+ Bt`` for a tall (l, k) `K` (``K = B^T F``, ``Bt = B^T``), and how it was computed.

    Returns ``(Z, rank_K, route)``. The QR route needs ``rank(K) = k``; when ``K`` is rank deficient it falls
    back to the pseudoinverse (``route = "pinv (fallback)"``), as the paper's code does.
    """
    s = singular_values(K, xp)
    rank = numerical_rank(s, rcond, xp)
    full = rank == K.shape[1]
    if method == "qr" and full:
        Q, R = qr_econ(K, xp)
        return solve_upper(R, Q.T @ Bt, xp), rank, "qr"
    if method == "lstsq" and is_numpy_namespace(xp):
        return scipy.linalg.lstsq(K, Bt, cond=rcond, check_finite=False)[0], rank, "lstsq"
    route = "pinv" if method != "qr" else "pinv (fallback)"
    return small_pinv(K, rcond, xp) @ Bt, rank, route


def frame_pinv(F, *, method, rcond, xp):
    """``F^+`` of a tall (m, k) frame, for the test matrix ``B = F`` (without squaring its condition number).

    Returns ``(F^+, rank_F, route)``: QR when ``F`` has full column rank and ``method="qr"``, the truncated SVD
    otherwise.
    """
    Q, R = qr_econ(F, xp)
    rank = numerical_rank(singular_values(R, xp), rcond, xp)
    if method == "qr" and rank == F.shape[1]:
        return solve_upper(R, Q.T, xp), rank, "qr"
    return small_pinv(F, rcond, xp), rank, "pinv" if method != "qr" else "pinv (fallback)"


def _frame_rank(M, rcond, xp) -> int:
    """Numerical rank of a tall frame from the singular values of its R factor."""
    if M.shape[0] >= M.shape[1]:
        return numerical_rank(singular_values(qr_econ(M, xp)[1], xp), rcond, xp)
    return numerical_rank(singular_values(M, xp), rcond, xp)


def _relative_norm(E, M, xp) -> float:
    top = float(xp.linalg.vector_norm(M))
    return float(xp.linalg.vector_norm(E)) / top if top > 0 else float(xp.linalg.vector_norm(E))


def check_projectors(F, H, Yt, X, *, rcond, xp, rank_BtF=None, rank_HtD=None, check=True) -> dict:
    """Projector residuals and frame ranks; warns (``check=True``) or raises (``check="raise"``) on failure.

    The rank condition on the left is ``rank(B^T F) = rank(F)``: it decides whether ``F Y^T F = F`` holds. A
    frame with fewer independent columns than columns is reported too (its core is then computed by the
    pseudoinverse and is one of many).
    """
    info = {"rank_F": _frame_rank(F, rcond, xp), "rank_H": _frame_rank(H, rcond, xp),
            "rank_BtF": rank_BtF, "rank_HtD": rank_HtD,
            "projector_residual_left": _relative_norm(F @ (Yt @ F) - F, F, xp),
            "projector_residual_right": _relative_norm(H @ (X.T @ H) - H, H, xp)}
    problems = []
    for side, frame, rank_frame, rank_test in (("left", "F", info["rank_F"], rank_BtF),
                                               ("right", "H", info["rank_H"], rank_HtD)):
        test = "B^T F" if side == "left" else "H^T D"
        if rank_test is not None and rank_test < rank_frame:
            residual = info[f"projector_residual_{side}"]
            problems.append(f"the {side} rank condition fails: rank({test}) = {rank_test} < rank({frame}) = "
                            f"{rank_frame}, so the {side} projector equation does not hold (relative residual "
                            f"{residual:.2e})")
        n_cols = int(F.shape[1] if side == "left" else H.shape[1])
        if rank_frame < n_cols:
            problems.append(f"{frame} is rank deficient (numerical rank {rank_frame} < {n_cols} columns): the core "
                            "is the pseudoinverse solution, one of many")
    info["rank_condition_holds"] = not problems
    if problems and check == "raise":
        raise np.linalg.LinAlgError("; ".join(problems))
    if problems:
        warnings.warn("; ".join(problems), RankConditionWarning, stacklevel=3)
    return info


# --------------------------------------------------------------------------- the general solver

def meta_factorize(A, F, H, *, B=None, D=None, W=None, method="qr", rcond=None, check=True):
    """Meta-factorization ``A ~ F G H^T`` from given frames: solve the projector and reconstruction equations.

    Parameters
    ----------
    A : (m, n) array, sparse matrix, LinearOperator or Dask array
        The matrix; touched only through one block product ``A @ X`` (never modified). On Dask the product and
        the factors stay lazy, computed chunk by chunk (the frames are small panels; nothing gathers ``A``).
    F : (m, kf) array
        Column frame (ideally ``col(A) <= col(F)``).
    H : (n, kh) array
        Row frame (ideally ``row(A) <= col(H)``).
    B : (m, lb) array, optional
        Left test matrix; default ``F`` (orthogonal projector, optimal core). The left projector equation needs
        ``rank(B^T F) = rank(F)``, so ``lb >= rank(F)``; fewer columns are allowed (generalized Nystrom's
        ``D = Omega`` has fewer columns than ``H = A^T Psi``) and reported by the rank check.
    D : (n, ld) array, optional
        Right test matrix; default ``H``. Needs ``rank(H^T D) = rank(H)`` for the right projector equation.
    W : (kf, kh) array, optional
        Free parameter of the general solution ``G = Y^T A X + W - (Y^T F) W (H^T X)``; it does not change
        ``F G H^T`` when the projector equations hold and the reconstruction is exact.
    method : {"qr", "lstsq", "pinv"}
        How ``(B^T F)^+ B^T`` and ``D (H^T D)^+`` are formed: economy QR (needs ``rank(B^T F) = kf``; falls
        back to the pseudoinverse otherwise), LAPACK least squares, or the SVD pseudoinverse.
    rcond : float, optional
        Relative cut-off for small singular values, in ``(0, 1)``; default ``max(shape) * eps`` (SciPy's
        pinv default), per factor.
    check : bool or "raise"
        Compute the projector residuals and the ranks of ``F``, ``H``, ``B^T F`` and ``H^T D``; warn with
        :class:`RankConditionWarning` (``True``) or raise ``numpy.linalg.LinAlgError`` (``"raise"``) when a rank
        condition fails or a frame is rank deficient. ``False`` skips the residuals and the ranks of the frames
        (the ranks of ``B^T F`` and ``H^T D``, needed anyway, are still recorded).

    Returns
    -------
    MetaFactorization
        ``F``, ``G``, ``H``, ``Yt``, ``X`` and ``info`` (ranks, residuals, routes).

    Raises
    ------
    ValueError
        If a frame or a test matrix has the wrong shape, or an input holds NaN or Inf.

    See Also
    --------
    MetaFactorization : The returned factors, core and projector factors.
    mf_svd : The truncated SVD as an instance, with its frames chosen.
    cur_from_indices : CUR, the instance whose frames are columns and rows of `A`.
    generalized_nystrom : Generalized Nystrom, the instance with random test matrices.

    Notes
    -----
    ``Y^T = (B^T F)^+ B^T`` and ``X = D (H^T D)^+`` satisfy ``F Y^T F = F`` iff ``rank(B^T F) = rank(F)``, and
    ``H^T X H^T = H^T`` iff ``rank(H^T D) = rank(H)``. Cost: ``O(mn kh)`` for the one product ``A X``, plus
    ``O((m + n) k l)`` for the small factors. With ``B = F`` and ``D = H`` the core ``F^+ A (H^T)^+`` minimises
    ``||A - F G H^T||_F``. Known factorizations are instances: see :func:`mf_svd`, :func:`mf_cpqr`, :func:`utv`,
    :func:`cur`, :func:`generalized_nystrom`, :func:`interpolative`.

    References
    ----------
    .. [1] M. P. Karpowicz, "A theory of meta-factorization", arXiv:2111.14385 (2021); code: github.com/mkarpowi/mft.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import meta_factorize
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((60, 5)) @ gen.standard_normal((5, 40))       # rank 5
    >>> F, H = A @ gen.standard_normal((40, 5)), A.T @ gen.standard_normal((60, 5))
    >>> mf = meta_factorize(A, F, H, B=gen.standard_normal((60, 5)), D=gen.standard_normal((40, 5)))
    >>> bool(mf.relative_error(A) < 1e-10), mf.info["projector_residual_left"] < 1e-12
    (True, True)
    """
    op = as_operator(A)
    m, n = op.shape
    xp, dtype = op.xp, op.dtype
    F = as_frame(F, "F", m, "A.shape[0]", xp, dtype)
    H = as_frame(H, "H", n, "A.shape[1]", xp, dtype)
    kf, kh = int(F.shape[1]), int(H.shape[1])
    if B is not None:
        B = as_frame(B, "B", m, "A.shape[0]", xp, dtype)
    if D is not None:
        D = as_frame(D, "D", n, "A.shape[1]", xp, dtype)
    if W is not None:
        W = as_frame(W, "W", kf, "F.shape[1]", xp, dtype)
        check_shape_agrees("W.shape[1]", W.shape[1], kh, "H.shape[1]")
    check_option(method, "method", METHODS)
    check_option(check, "check", [True, False, "raise"])
    if rcond is not None:
        rcond = check_real(rcond, "rcond", low=0, high=1, low_inclusive=False, high_inclusive=False)

    rc_left = rcond if rcond is not None else default_rcond((m, kf) if B is None else B.shape, dtype, xp)
    rc_right = rcond if rcond is not None else default_rcond((n, kh) if D is None else D.shape, dtype, xp)
    if B is None:
        Yt, rank_left, route_left = frame_pinv(F, method=method, rcond=rc_left, xp=xp)
    else:
        Yt, rank_left, route_left = inverse_factor(B.T @ F, B.T, method=method, rcond=rc_left, xp=xp)
    if D is None:
        Xt, rank_right, route_right = frame_pinv(H, method=method, rcond=rc_right, xp=xp)
    else:
        Xt, rank_right, route_right = inverse_factor(D.T @ H, D.T, method=method, rcond=rc_right, xp=xp)
    X = Xt.T
    G = Yt @ op.matmat(X)
    if W is not None:
        G = G + W - (Yt @ F) @ W @ (H.T @ X)
    info = {"route_left": route_left, "route_right": route_right, "rank_BtF": rank_left, "rank_HtD": rank_right}
    if check:
        info.update(check_projectors(F, H, Yt, X, rcond=max(rc_left, rc_right), xp=xp, rank_BtF=rank_left,
                                     rank_HtD=rank_right, check=check))
    return MetaFactorization(F, G, H, Yt, X, info)

