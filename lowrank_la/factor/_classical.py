"""SVD, column-pivoted QR and the relaxed two-sided UTV variants, rebuilt as meta-factorizations (didactic
instances, and references for the tests)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .._backend import as_operator
from .._validate import check_option, check_rank, is_linear_operator
from ._meta import MetaFactorization, default_rcond, frame_pinv, meta_factorize

__all__ = ["mf_cpqr", "mf_svd", "utv"]

UTV_VARIANTS = ("svd", "cpqr", "lu")


def _dense(A, name="A"):
    """`A` validated and as a dense NumPy array in its working dtype (these instances factorize A itself)."""
    op = as_operator(A, name=name)
    if is_linear_operator(A) or op.kind != "dense" and op.kind != "sparse":
        raise TypeError(f"{name} must be a dense array or a sparse matrix for this factorization, got {op.kind}")
    dense = A.toarray() if op.kind == "sparse" else np.asarray(A)
    return dense.astype(op.dtype, copy=False)


def _cpqr_basis(M, k):
    """First `k` columns of Q in the column-pivoted QR of `M`."""
    return scipy.linalg.qr(M, mode="economic", pivoting=True, check_finite=False)[0][:, :k]


def mf_svd(A, k, *, check=True):
    """Truncated SVD as a meta-factorization: frames ``U_k`` and ``V_k``, test matrices the frames.

    The core comes out of the reconstruction equation as ``G = U_k^T A V_k = diag(s_1, ..., s_k)``.

    Parameters
    ----------
    A : (m, n) array or sparse matrix (densified)
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

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import mf_svd
    >>> A = np.random.default_rng(0).standard_normal((30, 20))
    >>> mf = mf_svd(A, 4)
    >>> bool(np.allclose(mf.G, np.diag(mf.info["s"])))
    True
    """
    dense = _dense(A)
    k = check_rank(k, dense.shape)
    U, s, Vh = scipy.linalg.svd(dense, full_matrices=False, check_finite=False)
    result = meta_factorize(dense, U[:, :k], Vh[:k].T, check=check)
    result.info["s"] = s[:k]
    return result


def mf_cpqr(A, k, *, check=True):
    """Column-pivoted QR as a meta-factorization: ``F = Q_k``, ``H^T = R_{1:k,:} P^T``; the core is ``I``.

    Parameters
    ----------
    A : (m, n) array or sparse matrix (densified)
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

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.factor import mf_cpqr
    >>> A = np.random.default_rng(0).standard_normal((30, 20))
    >>> mf = mf_cpqr(A, 5)
    >>> bool(np.allclose(mf.G, np.eye(5)))
    True
    """
    dense = _dense(A)
    k = check_rank(k, dense.shape)
    return cpqr_from_factors(dense, scipy.linalg.qr(dense, mode="economic", pivoting=True, check_finite=False), k,
                             check=check)


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
    A : (m, n) array or sparse matrix (densified)
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
    dense = _dense(A)
    k = check_rank(k, dense.shape)
    check_option(variant, "variant", UTV_VARIANTS)
    return utv_from_bases(dense, _cpqr_basis(dense, k), _cpqr_basis(dense.T, k), variant)


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
