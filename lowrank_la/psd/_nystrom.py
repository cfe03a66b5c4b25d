"""Randomized Nystrom approximation of a PSD matrix (fixed rank and fixed accuracy) and randomized ``eigh``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.linalg

from .._backend import ConvergenceWarning, as_rng, cholesky_qr2, one_blas_thread, qr_econ
from .._validate import check_int, check_option, check_rank, check_tolerance, refuse_random_state
from ..svd._common import blocks_gram, blocks_times, minus_projection, safe_norm, times_pow2
from ._common import (
    SquareProducts,
    check_sketch,
    check_symmetric_core,
    draw_vectors,
    pow2_scale,
    small,
    stable_nystrom,
    symmetry_tolerance,
)
from ._results import EighResult

__all__ = ["eigh", "nystrom"]

WHICH = ("LM", "LA", "SA")


class _Growth:
    """A Nystrom sketch ``(Omega, Y = A Omega)`` grown block by block; each new block first serves as probes.

    The probes estimate the error of the current approximation ``E = A - A_hat``: for test vectors with
    ``E[w w^T] = I``, ``E ||E w||^2 = ||E||_F^2``, so ``||E W||_F / sqrt(b)`` estimates ``||E||_F >= ||E||_2``,
    at no extra cost (the products ``A W`` join the sketch next).
    """

    def __init__(self, P, first, sketch, gen, sym_tol, name="A"):
        self.P, self.sketch, self.gen, self.sym_tol, self.name = P, sketch, gen, sym_tol, name
        self.Omega = draw_vectors(P, first, sketch, gen)
        self.Y = P.matmat(self.Omega)
        self._factor()

    def _factor(self):
        self.lam, self.U, self.nu = stable_nystrom(self.P, self.Omega, self.Y, name=self.name, sym_tol=self.sym_tol)

    @property
    def size(self) -> int:
        return int(self.Omega.shape[1])

    def grow(self, cols: int, probe: bool) -> float | None:
        """Add `cols` test vectors; return the probe estimate of ``||A - A_hat||_F`` before they joined."""
        P, xp = self.P, self.P.xp
        W = draw_vectors(P, cols, self.sketch, self.gen)
        AW = P.matmat(W)
        est = None
        if probe:
            lam = P.asarray(self.lam)
            R = AW - self.U @ (xp.reshape(lam, (-1, 1)) * (self.U.T @ W))
            est = safe_norm(xp.astype(R, xp.float64), xp) / math.sqrt(cols)
        self.Omega = xp.concat([self.Omega, W], axis=1)
        self.Y = xp.concat([self.Y, AW], axis=1)
        self._factor()
        return est


def _result(P, lam, U, k, **report):
    lam = lam[:k]
    w = P.asarray(lam)
    return EighResult(w, U[:, :k], n_passes=P.n_passes, **report)


@refuse_random_state
def nystrom(A, k, *, oversamples=10, tol=None, sketch="gaussian", check_symmetric=True, sym_tol=None, rng=None):
    """Randomized Nystrom approximation ``A ~ V diag(w) V^T`` of a positive semidefinite matrix, computed stably.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Symmetric positive semidefinite. Touched only through block products ``A @ Omega`` (one pass for a
        fixed rank); never modified.
    k : int
        Rank of the approximation, ``1 <= k <= n``; with `tol`, the largest rank allowed.
    oversamples : int
        Extra test vectors for a fixed rank: the sketch has ``l = min(n, k + oversamples)`` columns and the top
        `k` eigenpairs of its approximation are returned (truncation improves the approximation [1]_).
    tol : float, optional
        Fixed accuracy: grow the sketch (doubling, from ``min(16, k // 2)`` columns) until the estimated relative
        Frobenius error ``||A - A_hat||_F / ||A_hat||_F`` is at most `tol`, or the rank reaches `k` (then
        ``ConvergenceWarning``). Each new block first serves as probes of the current error, at no extra
        product. The approximation of the whole sketch (rank up to `k`) is returned.
    sketch : {"gaussian", "rademacher", "sparse_sign", "countsketch", "srht", "fjlt"}
        Kind of the test matrix ``Omega`` (see :func:`lowrank_la.sketch.make_sketch`; the structured sketches are
        materialised as dense blocks here).
    check_symmetric : bool
        Check that `A` is symmetric, by the random test ``||Omega^T A Omega - (Omega^T A Omega)^T||_F <= sym_tol
        ||Omega^T A Omega||_F`` on the small matrix the method forms anyway (free).
    sym_tol : float, optional
        Tolerance of that check; default ``sqrt(eps)`` of the working dtype.
    rng : None, int or numpy.random.Generator
        Source of the test matrix (scipy's SPEC 7).

    Returns
    -------
    EighResult
        ``(w, V)``: ``w`` (r,) descending and non-negative, ``V`` (n, r) orthonormal, in `A`'s namespace and dtype;
        ``error_estimate`` (fixed accuracy: the estimated relative Frobenius error of the approximation before
        the last block joined, which bounds the returned one's in expectation; else None), ``converged``,
        ``tol``, ``n_passes``, ``rank`` (the sketch size).

    Raises
    ------
    ValueError
        If `A` is not square, not symmetric (to `sym_tol`), not positive semidefinite (the core's Cholesky
        factorisation breaks down), holds NaN or Inf, or `k`, `oversamples`, `tol` are out of range.

    See Also
    --------
    eigh : Randomized eigenpairs of any symmetric matrix, with residuals and an error estimate.
    rpcholesky : A PSD low-rank approximation from a few columns, for matrices known only entrywise.
    nystrom_pcg : CG preconditioned by this approximation.
    lowrank_la.factor.generalized_nystrom : The generalized Nystrom approximation of a nonsymmetric matrix.
    lowrank_la.svd.rsvd : The randomized SVD, for matrices that are not PSD.

    Notes
    -----
    The plain formula ``Y (Omega^T Y)^+ Y^T`` forms the pseudoinverse of an ill-conditioned core and loses
    accuracy for fast-decaying spectra. The stable construction of Tropp, Yurtsever, Udell and Cevher [1]_
    shifts ``Y_nu = Y + nu Omega`` (``nu``: the smallest of ``eps ||Y||_F / sqrt(n)``, 16 times that, ... up to
    their ``sqrt(n) eps ||Y||_F``, for which the core is numerically definite), factors ``Omega^T Y_nu = C^T C``
    (Cholesky), takes the SVD ``Y_nu C^{-1} = U S V^T`` and returns ``U`` with ``max(S^2 - nu, 0)``. Cost: one
    product with an (n, l) block, then ``O(n l^2)``. The error of the rank-k result is close to that of the
    best rank-k approximation when the spectrum decays [1]_, [2]_.

    References
    ----------
    .. [1] J. A. Tropp, A. Yurtsever, M. Udell, V. Cevher, "Fixed-rank approximation of a positive-semidefinite
       matrix from streaming data", NeurIPS 2017.
    .. [2] A. Gittens, M. W. Mahoney, "Revisiting the Nystrom method for improved large-scale machine
       learning", JMLR 17 (2016).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import nystrom
    >>> G = np.random.default_rng(0).standard_normal((300, 5))
    >>> A = G @ G.T                                     # PSD of rank 5
    >>> w, V = nystrom(A, 5, rng=0)
    >>> bool(np.allclose((V * w) @ V.T, A))
    True
    """
    P = SquareProducts(A, symmetric=True)
    k = check_rank(k, (P.n, P.n), "k", upper=P.n, upper_text=f"n = {P.n}")
    oversamples = check_int(oversamples, "oversamples", low=0)
    check_sketch(sketch)
    stol = symmetry_tolerance(check_symmetric, sym_tol, P)
    gen = as_rng(rng, P.xp)
    if tol is None:
        grown = _Growth(P, min(P.n, k + oversamples), sketch, gen, stol)
        return _result(P, grown.lam, grown.U, k, rank=grown.size)
    tol = check_tolerance(tol)
    grown = _Growth(P, min(16, max(1, k // 2)), sketch, gen, stol)
    est = None
    while grown.size < k:
        est = grown.grow(min(grown.size, k - grown.size), probe=True)
        size = float(np.sqrt(np.sum(grown.lam ** 2)))  # ||A_hat||_F <= ||A||_F
        est = est / size if size > 0 else (0.0 if est == 0 else math.inf)
        if est <= tol:
            break
    converged = est is not None and est <= tol
    if not converged:
        got = "nothing measured (k is the first block)" if est is None else f"an estimated error of {est:.3g}"
        warnings.warn(f"nystrom reached the largest rank k={k} with {got}, above tol={tol:g}: raise k",
                      ConvergenceWarning, stacklevel=3)
    return _result(P, grown.lam, grown.U, grown.size, error_estimate=est, converged=converged, tol=tol,
                   rank=grown.size)


@refuse_random_state
def eigh(A, k, *, psd=False, which="LM", tol=1e-3, max_passes=20, oversamples=10, block_size=None,
         sketch="gaussian", check_symmetric=True, sym_tol=None, rng=None):
    """Randomized eigendecomposition of a symmetric matrix: the `k` eigenpairs selected by `which`.

    Parameters
    ----------
    A : (n, n) array, sparse matrix or LinearOperator
        Symmetric. Touched only through block products ``A @ X``; never modified.
    k : int
        Number of eigenpairs, ``1 <= k <= n``.
    psd : bool
        `A` is positive semidefinite: use the stable Nystrom approximation (:func:`nystrom`), which needs no
        power iterations. Default False: a symmetric block Krylov range finder with Rayleigh-Ritz, for any
        symmetric matrix. Nystrom pays off where the spectrum decays fast; where it decays slowly its sketch
        must grow, and once the next sketch would exceed half of the columns the eigenpairs come from a dense
        ``eigh`` of ``A`` itself (exact; an ``n x n`` array), whereas block Krylov converges in a few passes.
    which : {"LM", "LA", "SA"}
        Largest magnitude, largest algebraic or smallest algebraic eigenvalues (scipy's ``eigsh`` names; with
        `psd` only "LM"/"LA", which coincide there).
    tol : float or None
        Target relative eigenvalue error ``max_i |w_i - lambda_i| / |w_i|``. Block Krylov adds a block per pass
        until the error estimate from the Ritz residuals is below it; Nystrom doubles its sketch until
        ``||A - A_hat||_F`` (estimated by the next block, Weyl's bound) is below ``tol * w_k``. None: a fixed
        cost (`max_passes` blocks; Nystrom: one pass of ``k + oversamples`` columns), without a verdict.
    max_passes : int
        Most blocks: block products with `A` (two per block on the SVD route for sparse input, see Notes);
        reaching it before `tol` warns ``ConvergenceWarning``.
    oversamples : int
        The block has ``k + oversamples`` columns (unless `block_size` is given).
    block_size : int, optional
        Columns per block product of block Krylov (``psd=False``), at most ``n``; default ``k + oversamples``.
        Narrower blocks reach a given accuracy with fewer columns in all (a Krylov space of higher degree) but
        more passes, and find at most `block_size` copies of a repeated eigenvalue; a dense BLAS-3 product costs
        about the same below a few dozen columns (measured: see the psd docs page).
    sketch : {"gaussian", "rademacher", "sparse_sign", "countsketch", "srht", "fjlt"}
        Test matrix of the Nystrom path (``psd=True``); block Krylov starts from a Gaussian block.
    check_symmetric : bool
        Whether to run the symmetry check of :func:`nystrom` (on ``Q^T A Q`` for block Krylov).
    sym_tol : float, optional
        Tolerance of that check, as in :func:`nystrom`.
    rng : None, int or numpy.random.Generator
        Source of the test vectors.

    Returns
    -------
    EighResult
        ``(w, V)`` with ``w`` (k,) descending and ``V`` (n, k) orthonormal, as :func:`numpy.linalg.eigh` but
        descending; ``residuals`` (block Krylov: ``||A v_i - w_i v_i|| / max|w|``), ``error_estimate``,
        ``converged``, ``tol``, ``n_passes``, ``rank`` (the basis or sketch size).

    Raises
    ------
    ValueError
        If `A` is not square or not symmetric (to `sym_tol`), with ``psd=True`` not positive semidefinite, or an
        argument is out of range.

    See Also
    --------
    nystrom : The stable Nystrom approximation, which ``psd=True`` uses.
    lowrank_la.svd.rsvd : The randomized SVD, for nonsymmetric matrices.
    scipy.sparse.linalg.eigsh : Lanczos eigensolver for a few eigenpairs to high accuracy.

    Notes
    -----
    Block Krylov: ``K = [Q_0, A Q_0, A^2 Q_0, ...]`` orthonormalised block by block (one pass each, block size
    ``b = k + oversamples`` or `block_size`), Rayleigh-Ritz ``T = K^T A K = S diag(theta) S^T`` from the products
    already formed. The residuals ``R = A K S - K S diag(theta)`` of every Ritz pair have the Gram matrix
    ``M = S^T (A K)^T (A K) S - diag(theta)^2`` (no extra pass, no n-sized work). In the basis of the Ritz vectors
    and the complement of ``K``, the eigenvalues of ``A`` above the complement's top ``mu`` are the fixed points
    of ``lambda = eig(diag(theta) + E (lambda - A_2)^-1 E^T)`` with ``E E^T = M``; with interlacing this gives
    ``theta_i <= lambda_i <= eig_i(diag(theta) + M / (theta_i - mu))`` (largest values; the same on ``-A`` for the
    smallest), which couples all Ritz pairs and is about ``||r_i||^2 / (theta_i - mu)`` for an isolated one, in
    the manner of the quadratic residual bounds of Li and Li [4]_. ``mu`` is estimated from the first Ritz pair
    not yet converged and from ``A`` on the newest block; where that estimate is not below ``theta_i``, the block
    bound ``||R_m||_2^2 / (theta_i - theta_{m+1})`` over the first ``m`` pairs [4]_, minimised over a grid of
    ``m``, is used. Measured on nine test spectra, the true error was at most twice the estimate at the stop, and
    the estimate at most 1.5x-4x the true error there (the block bound alone: 30x-100x, one or two passes more).
    Cost per pass: one product with an (n, b) block and ``O(n (pb) b)`` for the growing basis. Nystrom: one pass
    per doubling of the sketch.

    **Sparse input** (scipy.sparse, a `tol`, no `block_size`): the largest-magnitude eigenpairs are the top
    singular triplets, ``A v_i = s_i u_i`` with ``u_i = +-v_i``, and where they are all positive (negative), also
    the largest (smallest) values. :func:`~lowrank_la.svd.rsvd`'s tolerance-driven block Krylov finds them (with
    its thick restart, which bounds the work on the basis that dominates on sparse input, and its estimate,
    checked by a probe of the complement on a flat top; at most `max_passes` blocks of two products), and the
    Rayleigh-Ritz step ``V^T A V = (V^T U) diag(s)`` on its right vectors gives the signed eigenpairs at no
    further product; the error estimate is the SVD's. Where the top holds eigenvalues of both signs (their
    singular vectors can mix where magnitudes meet), none of the sign ``"LA"`` / ``"SA"`` asks for, or an
    eigenpair's residual exceeds twice the singular triplets' largest, the symmetric block Krylov above runs
    instead, with its own `max_passes`. On 10-NN graphs, a grid Laplacian and a sparse Gram matrix this was
    1.5x-9x faster than the symmetric block Krylov, at an estimate as honest (see the psd docs page).

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness", SIAM Rev. 53 (2011).
    .. [2] C. Musco, C. Musco, "Randomized block Krylov methods for stronger and faster approximate singular value
       decomposition", NeurIPS 2015.
    .. [3] J. A. Tropp, A. Yurtsever, M. Udell, V. Cevher, "Fixed-rank approximation of a positive-semidefinite
       matrix from streaming data", NeurIPS 2017.
    .. [4] C.-K. Li, R.-C. Li, "A note on eigenvalues of perturbed Hermitian matrices", Linear Algebra Appl. 395
       (2005).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.psd import eigh
    >>> gen = np.random.default_rng(0)
    >>> Q = np.linalg.qr(gen.standard_normal((400, 400)))[0]
    >>> A = (Q * (0.8 ** np.arange(400) * (-1) ** np.arange(400))) @ Q.T   # indefinite, fast decay
    >>> res = eigh(A, 5, tol=1e-8, rng=0)
    >>> w, V = res
    >>> bool(res.converged), np.round(w, 6).tolist()
    (True, [1.0, 0.64, 0.4096, -0.512, -0.8])
    """
    P = SquareProducts(A, symmetric=True)
    k = check_rank(k, (P.n, P.n), "k", upper=P.n, upper_text=f"n = {P.n}")
    if not isinstance(psd, (bool, np.bool_)):
        raise TypeError(f"psd must be True or False, got {psd!r}")
    check_option(which, "which", ("LM", "LA") if psd else WHICH)
    tol = None if tol is None else check_tolerance(tol)
    max_passes = check_int(max_passes, "max_passes", low=1)
    oversamples = check_int(oversamples, "oversamples", low=0)
    check_sketch(sketch)
    stol = symmetry_tolerance(check_symmetric, sym_tol, P)
    gen = as_rng(rng, P.xp)
    block = min(P.n, k + oversamples)
    if psd:
        return _nystrom_eigh(P, k, block, tol, max_passes, sketch, gen, stol)
    if block_size is not None:
        block = min(P.n, check_int(block_size, "block_size", low=1))
    elif tol is not None and P.op.kind == "sparse":
        found = _svd_eigh(P, k, which, tol, max_passes, gen, stol)
        if found is not None:
            return found
    return _krylov_eigh(P, k, block, which, tol, max_passes, gen, stol)


def _svd_eigh(P, k, which, tol, max_passes, gen, stol):
    """The `k` eigenpairs `which` asks for of the sparse symmetric `A` from its top `k` singular triplets (the
    eigenpairs of largest magnitude): :func:`~lowrank_la.svd.rsvd`'s tolerance-driven block Krylov (thick restart,
    the probe of a flat top; at most `max_passes` blocks of two products) and the Rayleigh-Ritz step
    ``V^T A V = (V^T U) diag(s)`` on its right vectors (``A V = U diag(s)``: no further product), whose
    eigenvalues carry the signs.

    Returns None where they are not what `which` asks for, or not separated: values of both signs (for "LM": where
    magnitudes meet, their singular vectors mix), none of the sign "LA" / "SA" asks for (the largest magnitudes
    all positive are the largest values, all negative the smallest), or a residual ``||A v_i - w_i v_i||`` above
    twice the largest singular-triplet residual. The caller then runs the symmetric block Krylov.
    """
    from ..svd import rsvd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # said below, in eigh's terms
        res = rsvd(P.op, k, tol=tol, max_passes=2 * max_passes, rng=gen)
    U, s, Vh = res
    s_host = small(s)
    T = small(Vh @ U) * s_host
    check_symmetric_core(T, stol)
    theta, Z = np.linalg.eigh((T + T.T) / 2)
    theta, Z = theta[::-1], Z[:, ::-1]
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    positive, negative = bool(np.all(theta > 0)), bool(np.all(theta < 0))
    if (top > 0 and not (positive or negative)) or (which == "LA" and not positive) or \
            (which == "SA" and not negative):
        return None
    Zd = P.asarray(Z)
    W = Vh.T @ Zd
    residuals = _relative_residuals((U * s) @ Zd - W * P.asarray(theta), P.xp, top)
    if top > 0 and float(np.max(residuals)) > 2 * float(np.max(small(res.residuals))) + 64 * P.eps:
        return None
    if not res.converged:
        _warn_unconverged(max_passes, P.n_passes, res.error_estimate, tol)
    return EighResult(P.xp.astype(P.asarray(theta), P.dtype), P.xp.astype(W, P.dtype), residuals=residuals,
                      error_estimate=res.error_estimate, n_passes=P.n_passes, converged=bool(res.converged), tol=tol,
                      rank=k)


def _relative_residuals(R, xp, top):
    """The column norms of the residual block `R` of eigenpairs, over ``top = max|w|`` (where nonzero)."""
    norms = small(xp.sqrt(xp.sum(xp.astype(R, xp.float64) ** 2, axis=0)))
    return norms / top if top > 0 else norms


def _warn_unconverged(max_passes, products, est, tol):
    warnings.warn(f"eigh stopped after max_passes={max_passes} blocks ({products} products) with an estimated relative "
                  f"eigenvalue error {est:.3g} above tol={tol:g}: raise max_passes", ConvergenceWarning, stacklevel=5)


def _nystrom_eigh(P, k, block, tol, max_passes, sketch, gen, stol):
    if tol is not None and 4 * block > P.n:  # the sketch could not grow once below half of A: A itself, at once
        return _dense_eigh(P, k, tol, stol)
    grown = _Growth(P, block, sketch, gen, stol)
    if tol is None:
        return _result(P, grown.lam, grown.U, k, rank=grown.size)
    est = None
    while P.n_passes < max_passes and grown.size < P.n:
        if 4 * grown.size > P.n:  # the next sketch would hold over half of A: A itself is cheaper, and exact
            return _dense_eigh(P, k, tol, stol)
        err = grown.grow(min(grown.size, P.n - grown.size), probe=True)
        wk = float(grown.lam[k - 1])
        est = err / wk if wk > 0 else (0.0 if err == 0 else math.inf)
        if est <= tol:
            break
    if grown.size >= P.n and (est is None or est > tol):  # the sketch spans everything: exact up to rounding
        est = 0.0
    converged = est is not None and est <= tol
    if not converged:
        warnings.warn(f"eigh(psd=True) stopped after max_passes={max_passes} passes with an estimated error "
                      f"{_fmt(est)} above tol={tol:g}: raise max_passes, or use psd=False (block Krylov)",
                      ConvergenceWarning, stacklevel=4)
    return _result(P, grown.lam, grown.U, k, error_estimate=est, converged=converged, tol=tol, rank=grown.size)


def _dense_eigh(P, k, tol, stol):
    """The top `k` eigenpairs of the PSD `A` from ``A`` itself (one product with the identity, a dense ``eigh``):
    where a Nystrom sketch would need more than half of the columns (a flat or singular spectrum), it costs less
    than the sketch's factorisations and is exact to rounding (no shifted Cholesky of a singular core, which a
    square sketch of a rank-deficient ``A`` would break down on). Eigenvalues below zero by rounding are zero."""
    xp = P.xp
    A = xp.astype(P.matmat(P.asarray(np.eye(P.n))), xp.float64)
    check_symmetric_core(small(A), stol, "A")
    lam, V = xp.linalg.eigh((A + A.T) / 2)
    lam, V = xp.flip(lam), xp.flip(V, axis=1)
    lam = np.maximum(small(lam), 0.0)
    return _result(P, lam, xp.astype(V, P.dtype), k, error_estimate=0.0, converged=True, tol=tol, rank=P.n)


def _fmt(est):
    return "(not measured)" if est is None else f"{est:.3g}"


def _select(theta, k, which):
    """Indices of the `k` Ritz values `which` asks for, ordered by descending value."""
    key = {"LM": -np.abs(theta), "LA": -theta, "SA": theta}[which]
    picked = np.argsort(key, kind="stable")[:k]
    return picked[np.argsort(-theta[picked], kind="stable")]


UNCONVERGED = 0.3  # a Ritz pair is not converged on where its residual exceeds this fraction of its distance
#                    to the median Ritz value (the bulk of the spectrum the basis sees) or of the wanted ones' spread


def _ritz_error(theta, M, picked, which, eps, last=None):
    """Relative error estimate ``max_i e_i / |theta_i|`` of the picked Ritz values (numerically zero ones skipped).

    ``M = R^T R`` is the Gram matrix of the residuals ``R = A K S - K S diag(theta)`` of all Ritz pairs. Per side
    of the spectrum (largest values for "LA" and the positive picks of "LM", smallest for "SA" and the negative
    ones), with scores ``s`` (``theta`` or ``-theta``) in descending order: in the basis of the Ritz vectors and of
    the complement ``K_perp``, ``A = [[diag(s), E], [E^T, A_2]]`` with ``E E^T = M``; an eigenvalue ``lambda``
    above ``mu = lambda_max(A_2)`` is a fixed point of ``lambda = eig(diag(s) + E (lambda - A_2)^-1 E^T)``, and
    ``(lambda - A_2)^-1 <= I / (lambda - mu)`` with the interlacing ``lambda_i >= s_i`` give

        ``s_i <= lambda_i <= eig_i(diag(s) + M / (s_i - mu))``   (``i``-th largest, ``s_i > mu``),

    which couples every Ritz pair exactly and reduces to ``||r_i||^2 / (s_i - mu)`` for an isolated one (measured
    1.0x-3.6x the true error with the exact ``mu`` on four spectra, where the block bound of :func:`_block_bound`
    was 40x-100x above it). ``mu``, the top of ``A`` on the complement of the basis, is not known; it is estimated
    by the larger of (a) the score of the first Ritz pair not converged on (residual above ``UNCONVERGED`` times
    the smaller of its distance to the median Ritz value and the spread ``s_1 - s_k`` of the wanted ones, so that
    on a flat top, where the uncaptured spectrum lies just below ``s_k``, loose pairs count): the spectrum the
    basis has not captured starts about there, and (b) the
    top eigenvalue of ``A`` on the newest block, which lies in the complement of the basis before it (a lower
    bound of that complement's top, which bounds the present one from above). Both are estimates, not bounds: on
    nine test spectra (decaying, flat, clustered, repeated, indefinite; blocks of 20-60) the true error was at most
    twice the estimate at every pass but the first ones, where the error is still of order one. Where ``mu``
    reaches ``s_i``, the block bound is used for that pair (not the smaller of the two: where ``mu`` is below
    ``s_i`` the block bound stopped early on a cluster). On the kNN-graph benchmark (flat top) every pair falls
    back to the block bound. An eigenvalue the basis has missed altogether (a cluster wider than the block, found
    late) is seen by neither: with k = 10, blocks of 20 and a cluster of 30, both estimates stopped at 1e-3 for a
    true 6e-3 after two passes.
    """
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    if top == 0.0:
        return 0.0
    bound = np.full(len(picked), math.inf)
    r = np.sqrt(np.maximum(np.diag(M), 0.0))
    sides = (("LA", theta[picked] >= 0), ("SA", theta[picked] < 0)) if which == "LM" else ((which, None),)
    for side, mask in sides:
        rows = np.arange(len(picked)) if mask is None else np.flatnonzero(mask)
        if rows.size:
            bound[rows] = _secular_bound(theta, M, r, picked[rows], side, last)
    fallback = ~np.isfinite(bound)
    if np.any(fallback):
        bound[fallback] = _block_bound(theta, M, picked, which)[fallback]
    return _worst(theta, bound, picked, eps, top)


def _worst(theta, bound, picked, eps, top):
    """``max_i e_i / |theta_i|`` over the picked pairs that are not numerically zero."""
    worst = 0.0
    for j, e in zip(picked, bound):
        if abs(theta[j]) > 10 * math.sqrt(eps) * top:
            worst = max(worst, max(e, eps * top) / abs(theta[j]))  # no better than the products' rounding
    return worst


def _secular_bound(theta, M, r, picked, side, last=None):
    """``eig_i(diag(s) + M / (s_i - mu)) - s_i`` for the `picked` pairs on one `side` (see :func:`_ritz_error`);
    inf where the estimated ``mu`` is not below ``s_i``. `last` holds the extreme eigenvalues of ``A`` on the
    newest block. The eigenvalue is nondecreasing in the coefficient (``M`` is PSD), so the coefficients are
    rounded up to a few levels (the largest over powers of two, down to an eighth) and one ``eigvalsh`` of the
    Ritz-sized matrix serves each level."""
    s = theta if side == "LA" else -theta
    order = np.argsort(-s, kind="stable")
    so, ro, Mo = s[order], r[order], M[np.ix_(order, order)]
    pos = np.argsort(order)[picked]  # rank of each picked pair on this side
    spread = np.minimum(so - float(np.median(so)), so[0] - float(np.min(so[pos])))
    loose = np.flatnonzero(ro > UNCONVERGED * spread)
    first = int(loose[0]) if loose.size else so.size - 1
    newest = -math.inf if last is None else (last[1] if side == "LA" else -last[0])
    mu = max(float(so[first]), newest)
    gap = so[pos] - mu
    out = np.full(pos.size, math.inf)
    ok = gap > 0
    if not np.any(ok):
        return out
    coef = np.where(ok, 1.0 / np.where(ok, gap, 1.0), 0.0)
    cmax = float(np.max(coef))
    level = np.where(ok, np.minimum(np.floor(np.log2(cmax / np.where(ok, coef, cmax))), 3), 0).astype(int)
    for lv in np.unique(level[ok]):
        c = cmax * 2.0 ** -lv
        ev = np.linalg.eigvalsh(np.diag(so) + c * Mo)[::-1]
        here = ok & (level == lv)
        out[here] = np.maximum(ev[pos[here]] - so[pos[here]], 0.0)
    return out


def _block_bound(theta, M, picked, which):
    """The block quadratic residual bound of Li and Li (2005) for each picked Ritz value (absolute).

    For the first ``m`` Ritz pairs in the order of `which` (score ``|theta|``, ``theta`` or ``-theta``), it gives
    ``|lambda_i - theta_i| <= ||R_m||_2^2 / eta_i``, with the eigenvalues matched in order and ``eta_i`` the
    distance from ``theta_i`` to the spectrum of ``A`` on the complement of those ``m`` Ritz vectors, estimated by
    the score of the ``(m+1)``-th Ritz value; the smallest such bound over a grid of ``m`` (from ``k`` up to the
    basis size). Unlike a bound per Ritz pair with the gap to its nearest neighbour, it does not assume which
    eigenvalue each Ritz value approximates (such a bound reported 7e-3 for a true error of 9e-2 on a flat
    spectrum).
    """
    score = {"LM": np.abs(theta), "LA": theta, "SA": -theta}[which]
    order = np.argsort(-score, kind="stable")
    score, Mo = score[order], M[np.ix_(order, order)]
    where = np.argsort(order)[picked]  # positions of the picked pairs in that order
    k, width = len(picked), theta.size
    bound = np.full(k, math.inf)
    for m in np.unique(np.linspace(k, width - 1, 8).astype(int)) if width > k else ():
        with one_blas_thread():  # scipy's pool left asleep beside NumPy's (lowrank_la._backend.SMALL_WORK_NOTE)
            norm2 = max(float(scipy.linalg.eigvalsh(Mo[:m, :m], subset_by_index=[m - 1, m - 1],
                                                    check_finite=False)[0]), 0.0)
        gap = score[where] - np.max(score[m:])
        bound = np.minimum(bound, np.where(gap > 0, norm2 / np.where(gap > 0, gap, 1.0), math.inf))
    return bound


def _orth_against(blocks, Z, xp):
    """An orthonormal basis of the part of `Z` orthogonal to the orthonormal basis ``K = [B_1, B_2, ...]`` (the
    list `blocks`).

    Two rounds of block Gram-Schmidt, then CholeskyQR2 (BLAS-3). Columns of `Z` inside span(K) leave rounding
    noise, which the QR normalises into directions that need not be orthogonal to `K`; when ``K^T Q`` shows it,
    those are projected out and normalised again (they become fresh random directions).
    """
    for _ in range(2):
        Z = minus_projection(blocks, Z, xp)
    Q = cholesky_qr2(Z, xp)
    C = blocks_gram(blocks, Q, xp)
    if float(small(xp.max(xp.abs(C)))) > 1e-6:
        for _ in range(2):
            Q = qr_econ(minus_projection(blocks, Q, xp), xp)[0]
    return Q


def _krylov_eigh(P, k, block, which, tol, max_passes, gen, stol):
    xp = P.xp
    spent = P.n_passes  # by the SVD route where it gave way (its products count, not against this budget)
    cap = min(P.n, block * max_passes)
    T = np.zeros((cap, cap))  # K^T A K, grown by one block row and column per pass
    G = np.zeros((cap, cap))  # (A K)^T (A K): the residual Gram matrix of every Ritz pair without forming them
    Q = cholesky_qr2(draw_vectors(P, block, "gaussian", gen), xp)
    # the basis K and its products A K (times 2^scale), as lists of their blocks: no buffer to grow, whose copies
    # into fresh memory took 7% of a dense n = 10,000 run
    Ks, AKs = [], []
    scale, width, est = None, 0, None
    while True:
        Z = P.matmat(Q)
        if scale is None:  # one exact power-of-two scale for every product: no square under- or overflows
            scale = pow2_scale(Z, P)
        b = int(Q.shape[1])
        newest = times_pow2(Z, scale, P.dtype)
        del Z
        Ks.append(Q)
        AKs.append(newest)
        width += b
        for M, blocks in ((T, Ks), (G, AKs)):
            M[:width, width - b:width] = small(blocks_gram(blocks, newest, xp))
            M[width - b:width, :width - b] = M[:width - b, width - b:width].T
        if width == b:
            check_symmetric_core(T[:b, :b], stol)
        Tw = T[:width, :width]
        theta, S = np.linalg.eigh((Tw + Tw.T) / 2)
        picked = _select(theta, k, which)
        if tol is not None or P.n_passes - spent >= max_passes or width >= cap:
            Gw = G[:width, :width]
            Tb = T[width - b:width, width - b:width]
            ext = np.linalg.eigvalsh((Tb + Tb.T) / 2)
            est = _ritz_error(theta, S.T @ ((Gw + Gw.T) / 2) @ S - np.diag(theta**2), picked, which, P.eps,
                              (float(ext[0]), float(ext[-1])))
        if (tol is not None and est <= tol) or P.n_passes - spent >= max_passes or width >= cap:
            break
        Q = _orth_against(Ks, newest, xp)[:, : min(block, cap - width)]
    Sk = P.asarray(S[:, picked])
    U = blocks_times(Ks, Sk)
    R = blocks_times(AKs, Sk) - U * P.asarray(theta[picked])
    top = float(np.max(np.abs(theta))) if theta.size else 0.0
    residuals = _relative_residuals(R, xp, top)
    converged = None if tol is None else bool(est <= tol)
    if converged is False:
        _warn_unconverged(max_passes, P.n_passes, est, tol)
    w = P.asarray(np.ldexp(theta[picked], -scale))
    return EighResult(w, xp.astype(U, P.dtype), residuals=residuals, error_estimate=est, n_passes=P.n_passes,
                      converged=converged, tol=tol, rank=width)
