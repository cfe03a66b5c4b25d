"""SVD, column-pivoted QR and the relaxed two-sided UTV variants, rebuilt as meta-factorizations (didactic
instances, and references for the tests)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .._backend.linalg import refuse_dask
from .._validate import check_option, check_rank, is_sparse
from ._input import PreparedMatrix
from ._meta import MetaFactorization, default_rcond, frame_pinv, meta_factorize

__all__ = ["mf_cpqr", "mf_svd", "utv"]

UTV_VARIANTS = ("svd", "cpqr", "lu")


def _dense(A, name="A"):
    """`A` prepared (:class:`PreparedMatrix`) and its working copy as a dense NumPy array (these instances
    factorize A itself)."""
    prep = PreparedMatrix(A, name, operator=False)
    refuse_dask(prep.given, name, "this factorization (a full SVD, pivoted QR or UTV of it)",
                "use lowrank_la.svd.rsvd, factor.cur, factor.interpolative or factor.generalized_nystrom, which "
                "work on Dask chunk by chunk")
    return prep, prep.work.toarray() if is_sparse(prep.work) else prep.work


def _returned(prep, mf, *, g_power, h_power):
    """`mf`, computed on the working scale, on the input's scale (the core scales like ``A**g_power``, ``H``
    like ``A**h_power``) and in the input's namespace."""
    out = prep.out
    G, H = prep.unscale(mf.G, g_power), prep.unscale(mf.H, h_power)
    X = prep.unscale(mf.X, -h_power)
    prep.refuse_unrepresentable("the right projector factor X", X)
    return MetaFactorization(out(mf.F), out(G), out(H), out(mf.Yt), out(X), mf.info)


def _cpqr_basis(M, k):
    """First `k` columns of Q in the column-pivoted QR of `M`."""
    return scipy.linalg.qr(M, mode="economic", pivoting=True, check_finite=False)[0][:, :k]


def mf_svd(A, k, *, check=True):
    """Truncated SVD as a meta-factorization: frames ``U_k`` and ``V_k``, test matrices the frames.

    The core comes out of the reconstruction equation as ``G = U_k^T A V_k = diag(s_1, ..., s_k)``.

    Parameters
    ----------
    A : (m, n) array or sparse matrix
        Densified; other array-API arrays are factorized on the host, and the factors come back in their
        namespace. A Dask array is refused with a ``TypeError``: the factorization needs the
        whole matrix in one place.
    k : int
        ``1 <= k <= min(m, n)``.
    check : bool or "raise"
        As in :func:`meta_factorize`.

    Returns
    -------
    MetaFactorization
        ``info["s"]`` holds the k leading singular values.

    Raises
    ------
    ValueError
        If `k` is out of range or `A` holds NaN or Inf.
    TypeError
        If `A` is a LinearOperator or a Dask array (these instances factorize A itself).

    See Also
    --------
    mf_cpqr : Column-pivoted QR as a meta-factorization.
    utv : The relaxed two-sided UTV.
    lowrank_la.svd.rsvd : The randomized truncated SVD, for large matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import mf_svd
    >>> A = np.random.default_rng(0).standard_normal((30, 20))
    >>> mf = mf_svd(A, 4)
    >>> bool(np.allclose(mf.G, np.diag(mf.info["s"])))
    True
    """
    prep, dense = _dense(A)
    k = check_rank(k, dense.shape)
    U, s, Vh = scipy.linalg.svd(dense, full_matrices=False, check_finite=False)
    result = meta_factorize(dense, U[:, :k], Vh[:k].T, check=check)
    result.info["s"] = prep.out(prep.unscale(s[:k], 1))
    return _returned(prep, result, g_power=1, h_power=0)


def mf_cpqr(A, k, *, check=True):
    """Column-pivoted QR as a meta-factorization: ``F = Q_k``, ``H^T = R_{1:k,:} P^T``; the core is ``I``.

    Parameters
    ----------
    A : (m, n) array or sparse matrix
        Densified; other array-API arrays are factorized on the host, and the factors come back in their
        namespace. A Dask array is refused with a ``TypeError``: the factorization needs the
        whole matrix in one place.
    k : int
        ``1 <= k <= min(m, n)``; exact at ``k = rank(A)``.
    check : bool or "raise"
        As in :func:`meta_factorize`.

    Returns
    -------
    MetaFactorization
        ``F Q_k^T A = Q_k Q_k^T A``, the one-sided CPQR truncation; ``info["perm"]`` is the column permutation.

    Raises
    ------
    ValueError
        If `k` is out of range or `A` holds NaN or Inf.
    TypeError
        If `A` is a LinearOperator or a Dask array (these instances factorize A itself).

    See Also
    --------
    mf_svd : The truncated SVD as a meta-factorization.
    utv : The relaxed two-sided UTV.
    interpolative : The interpolative decomposition, also from pivoted QR.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import mf_cpqr
    >>> A = np.random.default_rng(0).standard_normal((30, 20))
    >>> mf = mf_cpqr(A, 5)
    >>> bool(np.allclose(mf.G, np.eye(5)))
    True
    """
    prep, dense = _dense(A)
    k = check_rank(k, dense.shape)
    result = cpqr_from_factors(dense, scipy.linalg.qr(dense, mode="economic", pivoting=True, check_finite=False), k,
                               check=check)
    result.info["perm"] = prep.out(result.info["perm"])
    return _returned(prep, result, g_power=0, h_power=1)


def cpqr_from_factors(dense, qrp, k, *, check=True):
    """:func:`mf_cpqr` from a given pivoted QR ``(Q, R, perm)`` of `dense` (so that a caller can reuse it)."""
    Q, R, perm = qrp
    H = np.zeros((dense.shape[1], k), dtype=dense.dtype)
    H[perm, :] = R[:k, :].T
    result = meta_factorize(dense, Q[:, :k], H, check=check)
    result.info["perm"] = perm
    return result


def utv(A, k, *, variant="svd"):
    """Relaxed two-sided UTV (or ULV) factorization ``A ~ U T V^T`` of rank k.

    ``Q_c`` and ``Q_r`` are the first k columns of the column-pivoted QR factors of ``A`` and ``A^T``; the small
    core ``G = Q_c^T A Q_r`` (the solution of the reconstruction equation for these frames) is factored and its
    factors pushed out into U and V (Karpowicz's ``mft.m`` blocks 4-6).

    Parameters
    ----------
    A : (m, n) array or sparse matrix
        Densified; other array-API arrays are factorized on the host, and the factors come back in their
        namespace. A Dask array is refused with a ``TypeError``: the factorization needs the
        whole matrix in one place.
    k : int
        ``1 <= k <= min(m, n)``; exact at ``k = rank(A)``.
    variant : {"svd", "cpqr", "lu"}
        "svd": ``G = U_g S V_g^T``, ``T = S`` diagonal; "cpqr": ``G P = Q_g R_g``, ``T = R_g`` upper triangular,
        ``V = Q_r P``; "lu": ``G = P L U_g``, ``T = L`` lower triangular (ULV), ``U = Q_c P`` and
        ``V = Q_r U_g^T`` (V is then not orthonormal).

    Returns
    -------
    MetaFactorization
        ``F = U``, ``G = T``, ``H = V``; ``Yt = U^+`` and ``X = (V^T)^+``.

    Raises
    ------
    ValueError
        If `k` is out of range or `A` holds NaN or Inf.
    TypeError
        If `A` is a LinearOperator or a Dask array (these instances factorize A itself).

    See Also
    --------
    mf_svd : The truncated SVD as a meta-factorization.
    mf_cpqr : Column-pivoted QR as a meta-factorization.
    meta_factorize : The general solver.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import utv
    >>> gen = np.random.default_rng(0)
    >>> A = gen.standard_normal((40, 6)) @ gen.standard_normal((6, 30))
    >>> mf = utv(A, 6, variant="lu")
    >>> bool(np.allclose(np.triu(mf.G, 1), 0)), bool(mf.relative_error(A) < 1e-12)
    (True, True)
    """
    prep, dense = _dense(A)
    k = check_rank(k, dense.shape)
    check_option(variant, "variant", UTV_VARIANTS)
    result = utv_from_bases(dense, _cpqr_basis(dense, k), _cpqr_basis(dense.T, k), variant)
    lu = variant == "lu"  # ULV: T = L is scale free and V = Q_r U_g^T carries the scale
    return _returned(prep, result, g_power=0 if lu else 1, h_power=1 if lu else 0)


def utv_from_bases(dense, Qc, Qr, variant):
    """The relaxed UTV of :func:`utv` from given orthonormal bases (so that a caller can reuse the two CPQRs)."""
    G = Qc.T @ dense @ Qr
    if variant == "svd":
        Ug, s, Vgh = scipy.linalg.svd(G, check_finite=False)
        U, T, V = Qc @ Ug, np.diag(s).astype(dense.dtype), Qr @ Vgh.T
    elif variant == "cpqr":
        Qg, Rg, perm = scipy.linalg.qr(G, pivoting=True, check_finite=False)
        U, T, V = Qc @ Qg, Rg, Qr[:, perm]
    else:
        P, L, Ug = scipy.linalg.lu(G, check_finite=False)
        U, T, V = Qc @ P, L, Qr @ Ug.T
    Yt = U.T  # U is orthonormal in every variant
    if variant == "lu":  # V = Q_r U_g^T is not
        X = frame_pinv(V, method="qr", rcond=default_rcond(dense.shape, dense.dtype, np), xp=np)[0].T
    else:
        X = V
    return MetaFactorization(U, T, V, Yt, X, {"variant": variant})
