"""Small test problems shared by the projection tests, and the dense references built with numpy.kron."""

import numpy as np
import scipy.linalg


def problem(n, m, seed, *, symmetric=True, cond=10.0, dtype=np.float64):
    """``m`` constraint matrices (n x n) and an SPD ``W`` of condition number `cond`."""
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((m, n, n))
    if symmetric:
        A = (A + A.transpose(0, 2, 1)) / 2
    Q = np.linalg.qr(gen.standard_normal((n, n)))[0]
    W = (Q * np.logspace(0, -np.log10(cond), n)) @ Q.T
    return A.astype(dtype), ((W + W.T) / 2).astype(dtype)


def dense_B(A, W, form, vec):
    """``B = A (W kron I)`` or ``A (W^1/2 kron W^1/2)``, rows ``vec(A_i)`` in the `vec` convention (np.kron)."""
    m, n, _ = A.shape
    rows = A.reshape(m, n * n, order=vec)
    if form == "identity":
        return rows @ np.kron(W, np.eye(n))
    S = np.real(scipy.linalg.sqrtm(W))
    return rows @ np.kron(S, S)


def dense_P(B):
    return B.T @ np.linalg.solve(B @ B.T, B)


def low_rank_step(W, k, gen, scale=0.3):
    """``(U, C)``: U orthonormal n x k, C symmetric with ``||C|| = scale lambda_min(W)`` (W stays SPD)."""
    n = W.shape[0]
    U = np.linalg.qr(gen.standard_normal((n, k)))[0]
    C = gen.standard_normal((k, k))
    C = C + C.T
    return U, C * scale * np.linalg.eigvalsh(W)[0] / np.linalg.norm(C, 2)
