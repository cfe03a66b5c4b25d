"""Small symmetric test matrices with known spectra, shared by the psd tests."""

import numpy as np


def with_spectrum(eigenvalues, seed=0):
    """``Q diag(eigenvalues) Q^T`` with a Haar-random orthogonal ``Q``, exactly symmetric, and ``Q``."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((lam.size, lam.size)))[0]
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2, Q


def low_rank_psd(n, r, seed=0):
    """A PSD matrix of exact rank `r` (``G G^T`` with Gaussian ``G``)."""
    G = np.random.default_rng(seed).standard_normal((n, r))
    return G @ G.T


def top_eigh(A, k):
    """The top-`k` eigenpairs of a dense symmetric `A` by numpy.linalg.eigh, descending."""
    w, V = np.linalg.eigh(A)
    return w[::-1][:k], V[:, ::-1][:, :k]
