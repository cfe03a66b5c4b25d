"""svd_error_estimate: within a factor of the true error (Frobenius), a tight lower bound (spectral)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

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


def _complex_problem(dtype, m=90, n=60, k=6):
    gen = np.random.default_rng(7)
    decay = 1.0 / (1.0 + np.arange(n))  # a slowly decaying spectrum: the residual has many comparable values
    X = np.linalg.qr(gen.standard_normal((m, n)) + 1j * gen.standard_normal((m, n)))[0]
    Y = np.linalg.qr(gen.standard_normal((n, n)) + 1j * gen.standard_normal((n, n)))[0]
    Z = ((X * decay) @ Y.conj().T).astype(dtype)
    U, s, Vh = np.linalg.svd(Z, full_matrices=False)
    real = np.float32 if dtype == np.complex64 else np.float64
    return Z, U[:, :k], s[:k].astype(real), Vh[:k], np.linalg.norm(s[k:]), s[k]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_input_estimates_and_keeps_its_dtype(dtype):
    import array_api_strict as xps

    Z, U, s, Vh, fro, two = _complex_problem(dtype)
    est = np.array([svd_error_estimate(Z, U, s, Vh, rng=seed) for seed in range(40)])
    # complex Gaussian probes (E g g^H = I): unbiased for ||R||_F^2; observed within 1.12x on every seed, the
    # mean of the squares within 3% (40 seeds, relative std of one squared estimate <= sqrt(1/10) = 0.32)
    assert np.all(est < 1.5 * fro) and np.all(est > fro / 1.5)
    assert abs(np.mean(est**2) / fro**2 - 1) < 0.1
    for seed in range(3):  # a Rayleigh quotient: a lower bound, within 2% here
        est2 = svd_error_estimate(Z, U, s, Vh, norm="2", rng=seed)
        assert two * 0.98 <= est2 <= two * (1 + 1e-5)
    seen = []

    def record(X):
        seen.append(X.dtype)
        return X

    op = LinearOperator(Z.shape, matvec=lambda x: Z @ record(x), rmatvec=lambda y: Z.conj().T @ record(y),
                        matmat=lambda X: Z @ record(X), rmatmat=lambda Y: Z.conj().T @ record(Y), dtype=Z.dtype)
    rtol = 1e-4 if dtype == np.complex64 else 1e-12
    for norm in ("fro", "2"):
        ref = svd_error_estimate(Z, U, s, Vh, norm=norm, rng=3)
        assert np.isclose(svd_error_estimate(op, U, s, Vh, norm=norm, rng=3), ref, rtol=rtol)
        assert np.isclose(svd_error_estimate(sp.csr_array(Z), U, s, Vh, norm=norm, rng=3), ref, rtol=rtol)
        strict = svd_error_estimate(*(xps.asarray(a) for a in (Z, U, s, Vh)), norm=norm, rng=3)
        assert np.isclose(strict, ref, rtol=rtol)
    assert seen and set(seen) == {np.dtype(dtype)}  # the probes and the power blocks stay in the input's dtype
    import dask.array as da

    lazy = da.from_array(Z, chunks=(45, 60))  # Dask draws real probes per chunk: still unbiased, other draws
    assert fro / 1.5 < svd_error_estimate(lazy, U, s, Vh, rng=0) < 1.5 * fro
    assert two * 0.98 <= svd_error_estimate(lazy, U, s, Vh, norm="2", rng=0) <= two * (1 + 1e-5)


def test_exactly_low_rank_complex_input_gives_zero():
    gen = np.random.default_rng(8)
    L = (gen.standard_normal((70, 3)) + 1j * gen.standard_normal((70, 3))) @ (
        gen.standard_normal((3, 50)) + 1j * gen.standard_normal((3, 50)))
    U, s, Vh = np.linalg.svd(L, full_matrices=False)
    for norm in ("fro", "2"):
        assert svd_error_estimate(L, U[:, :3], s[:3], Vh[:3], norm=norm, rng=0) < 1e-10 * s[0]
    # a real matrix with complex factors (a phase on each pair of singular vectors) is the same approximation
    phase = np.exp(1j * np.arange(3))
    A = L.real
    Ua, sa, Vha = np.linalg.svd(A, full_matrices=False)
    ref = svd_error_estimate(A, Ua[:, :3], sa[:3], Vha[:3], rng=0)
    rotated = svd_error_estimate(A, Ua[:, :3] * phase, sa[:3], Vha[:3] * phase.conj()[:, None], rng=0)
    assert np.isclose(rotated, ref, rtol=1e-12)


@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.coo_array, sp.dok_matrix])
def test_sparse_or_complex_factors_are_refused_naming_them(kind):
    A, U, s, Vh, _, _ = _problem()
    with pytest.raises(TypeError, match="U must be a dense array"):
        svd_error_estimate(A, kind(U), s, Vh)
    with pytest.raises(TypeError, match="Vh must be a dense array"):
        svd_error_estimate(A, U, s, kind(Vh))
    with pytest.raises(TypeError, match="s has complex dtype complex128"):
        svd_error_estimate(A, U, s + 0j, Vh)
