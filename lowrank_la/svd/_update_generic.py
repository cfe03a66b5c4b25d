"""The Zha-Simon update of a truncated SVD on any array-API namespace (CuPy GPUs; array-api-strict in the tests).

The NumPy updater (``_update.py``) keeps Deng et al.'s extended decomposition and sparse residual pairs, which
are loops over index structures. On a GPU the dense form is what pays: every step is a GEMM, one thin QR and
one small SVD. For new rows ``E`` (s, n) of ``A_k = U diag(s) Vh``:

    C = E Vh^T,  R = E - C Vh            (projection, applied twice: "twice is enough")
    R^T = Q_R T                           (thin QR, Q_R is n x s)
    K = [[diag(s), 0], [C, T^T]]          ((k + s) x (k + s))
    K = X diag(sigma) Y^T                 (small SVD)
    U' = [[U, 0], [0, I]] X_k,  Vh' = Y_k^T [Vh; Q_R^T],  s' = sigma_k

which is exactly the rank-k truncated SVD of ``[U diag(s) Vh; E]``. New columns are new rows of the transpose.
Cost ``O((m + n) k (k + s) + (k + s)^3)`` per update.
"""

from __future__ import annotations

from .._backend import SVDResult, array_namespace, flip_signs, qr_econ, svd_small, working_dtype
from .._validate import as_matrix, check_option, check_rank, check_shape_agrees

__all__ = ["check_factors", "orthonormality_tolerance", "zha_simon_update"]


def zha_simon_update(U, s, Vh, E, *, kind="rows", flip_sign=True):
    """Rank-k Zha-Simon update of ``U diag(s) Vh`` by rows or columns `E`, on the namespace of the inputs."""
    kind = check_option(kind, "kind", ["rows", "columns"])
    U, s, Vh, E = (as_matrix(a, name, ndim=nd, sparse=False)
                   for name, a, nd in (("U", U, 2), ("s", s, 1), ("Vh", Vh, 2), ("E", E, 2)))
    xp = array_namespace(U, s, Vh, E)
    dtype = working_dtype(xp.result_type(U.dtype, s.dtype, Vh.dtype, E.dtype), xp, name="U, s, Vh, E")
    U, s, Vh, E = (xp.astype(a, dtype) for a in (U, s, Vh, E))
    check_factors(U, s, Vh, xp)
    if kind == "rows":
        check_shape_agrees("E.shape[1]", E.shape[1], Vh.shape[1], "the number of columns, Vh.shape[1]")
        U2, s2, Vh2 = _add_rows(U, s, Vh, E, xp)
    else:
        check_shape_agrees("E.shape[0]", E.shape[0], U.shape[0], "the number of rows, U.shape[0]")
        V2, s2, Uh2 = _add_rows(Vh.T, s, U.T, E.T, xp)
        U2, Vh2 = Uh2.T, V2.T
    if flip_sign:
        U2, Vh2 = flip_signs(U2, Vh2, xp)
    return SVDResult(U2, s2, Vh2)


def orthonormality_tolerance(dtype) -> float:
    """Largest ``max |Q^T Q - I|`` accepted of given factors: 1e-6 for float64, 1e-3 for float32."""
    return 1e-3 if "32" in str(dtype) else 1e-6


def check_factors(U, s, Vh, xp):
    """Refuse factors that are not a truncated SVD: shapes, ``s >= 0``, orthonormal ``U`` columns and ``Vh`` rows.

    ``s`` may come in any order (the update sorts it with the factors). Orthonormality is checked to
    :func:`orthonormality_tolerance` on ``U^T U`` and ``Vh Vh^T``, ``O((m + n) k^2)``, the cost of one update.
    """
    k = s.shape[0]
    check_shape_agrees("U.shape[1]", U.shape[1], k, "len(s)")
    check_shape_agrees("Vh.shape[0]", Vh.shape[0], k, "len(s)")
    check_rank(k, (U.shape[0], Vh.shape[1]), name="len(s)")
    low = float(xp.min(s))
    if not low >= 0:
        raise ValueError(f"s must be non-negative, got min(s) = {low}")
    tol = orthonormality_tolerance(s.dtype)
    eye = xp.eye(k, dtype=s.dtype, device=getattr(s, "device", None))
    for name, what, gram, product in (("U", "columns", U.T @ U, "U^T U"), ("Vh", "rows", Vh @ Vh.T, "Vh Vh^T")):
        err = float(xp.max(xp.abs(gram - eye)))
        if not err <= tol:
            raise ValueError(f"{name} must have orthonormal {what}: max |{product} - I| = {err:.3g} exceeds {tol:g} "
                             f"for {s.dtype}")


def _add_rows(U, s, Vh, E, xp):
    k = s.shape[0]
    device = getattr(s, "device", None)
    C = E @ Vh.T
    R = E - C @ Vh
    C2 = R @ Vh.T  # the second projection removes what rounding left of range(V)
    R = R - C2 @ Vh
    C = C + C2
    Q_R, T = qr_econ(R.T, xp)
    top = xp.concat([xp.eye(k, dtype=s.dtype, device=device) * s[None, :],
                     xp.zeros((k, T.shape[0]), dtype=s.dtype, device=device)], axis=1)
    K = xp.concat([top, xp.concat([C, T.T], axis=1)], axis=0)
    X, sigma, Yh = svd_small(K, xp)
    X_k = X[:, :k]
    U2 = xp.concat([U @ X_k[:k, :], X_k[k:, :]], axis=0)
    Vh2 = Yh[:k, :] @ xp.concat([Vh, Q_R.T], axis=0)
    return U2, sigma[:k], Vh2
