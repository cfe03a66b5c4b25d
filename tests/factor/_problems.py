"""Test matrices shared by the factor tests."""

import numpy as np


def low_rank(m, n, r, seed=0, dtype=np.float64):
    """A generic (m, n) matrix of exact rank r (Gaussian factors)."""
    gen = np.random.default_rng(seed)
    return (gen.standard_normal((m, r)) @ gen.standard_normal((r, n))).astype(dtype)


def decaying(m, n, decay=0.8, seed=0):
    """Haar factors and geometrically decaying singular values ``decay**j``."""
    gen = np.random.default_rng(seed)
    p = min(m, n)
    U = np.linalg.qr(gen.standard_normal((m, p)))[0]
    V = np.linalg.qr(gen.standard_normal((n, p)))[0]
    return (U * decay ** np.arange(p)) @ V.T


def best_error(A, k):
    """Relative Frobenius error of the best rank-k approximation."""
    s = np.linalg.svd(A, compute_uv=False)
    return float(np.sqrt(np.sum(s[k:] ** 2) / np.sum(s**2)))


def rel(X, Y):
    return float(np.linalg.norm(X - Y) / np.linalg.norm(Y))
