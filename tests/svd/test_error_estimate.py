"""svd_error_estimate: within a factor of the true error (Frobenius), a tight lower bound (spectral)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import lowrank_la as la
from lowrank_la._backend import as_operator
from lowrank_la.svd import rsvd, svd_error_estimate


def _problem(kind="polynomial", k=10, **params):
    s = la.datasets.spectrum(kind, 150, **(params or {"power": 1}))
    A = la.datasets.matrix_with_spectrum(200, 150, s, rng=0)
    U, s_hat, Vh = rsvd(A, k, n_iter=1, rng=0)
    R = A - (U * s_hat) @ Vh
    return A, U, s_hat, Vh, np.linalg.norm(R), np.linalg.norm(R, 2)


def test_frobenius_estimate_within_a_factor_over_seeds():
    A, U, s, Vh, fro, _ = _problem()
    est = np.array([svd_error_estimate(A, U, s, Vh, rng=seed) for seed in range(40)])
    # n_samples = 10: the squared estimate is a weighted chi-square; on these 40 seeds every estimate is within
    # a factor 1.5 of the truth (relative std of the squared estimate <= sqrt(2/10) = 0.45; here the residual
    # has many comparable singular values, so it is ~0.15), and the mean of the squares is unbiased to ~5%
    assert np.all(est < 1.5 * fro) and np.all(est > fro / 1.5)
    assert abs(np.mean(est**2) / fro**2 - 1) < 0.05


def test_spectral_estimate_is_a_tight_lower_bound():
    for kind, params in (("polynomial", {"power": 1}), ("exponential", {"scale": 10})):
        A, U, s, Vh, _, two = _problem(kind, **params)
        for seed in range(5):
            est = svd_error_estimate(A, U, s, Vh, norm="2", rng=seed)
            # a Rayleigh quotient: never above the truth (up to rounding); 4 block power steps with 10 vectors
            # get within 2% on these spectra (observed worst ~0.3%)
            assert two * 0.98 <= est <= two * (1 + 1e-12)


def test_every_input_kind_and_pass_count():
    A, U, s, Vh, fro, two = _problem()
    ref = svd_error_estimate(A, U, s, Vh, rng=1)
    for X in (sp.csr_array(A), aslinearoperator(A)):
        assert np.isclose(svd_error_estimate(X, U, s, Vh, rng=1), ref, rtol=1e-12)
    op = as_operator(A)
    svd_error_estimate(op, U, s, Vh, rng=1)
    assert op.n_passes == 1
    op = as_operator(A)
    svd_error_estimate(op, U, s, Vh, norm="2", rng=1)
    assert op.n_passes == 9
    exact = la.datasets.low_rank_matrix(60, 40, 3, rng=0)
    U3, s3, Vh3 = np.linalg.svd(exact, full_matrices=False)
    assert svd_error_estimate(exact, U3[:, :3], s3[:3], Vh3[:3], rng=0) < 1e-13


def test_errors():
    A, U, s, Vh, _, _ = _problem()
    with pytest.raises(ValueError, match="norm='nuc'"):
        svd_error_estimate(A, U, s, Vh, norm="nuc")
    with pytest.raises(ValueError, match="n_samples=0"):
        svd_error_estimate(A, U, s, Vh, n_samples=0)
    with pytest.raises(ValueError, match=r"U.shape\[0\]=199"):
        svd_error_estimate(A, U[:-1], s, Vh)
    with pytest.raises(ValueError, match=r"s.shape\[0\]=9"):
        svd_error_estimate(A, U, s[:-1], Vh)
    with pytest.raises(ValueError, match=r"Vh.shape\[1\]=149"):
        svd_error_estimate(A, U, s, Vh[:, :-1])
    bad = U.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="U must be finite"):
        svd_error_estimate(A, bad, s, Vh)
    with pytest.raises(ValueError, match="s must be 1-D"):
        svd_error_estimate(A, U, s[:, None], Vh)
