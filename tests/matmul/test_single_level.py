"""Single-level product estimators: unbiasedness, closed-form variances, variance estimates, API contract.

Statistical tests use fixed seeds; every tolerance is a multiple of the standard error of the statistic it
bounds (stated beside it), so a biased or mis-scaled estimator fails while the correct one does not flake.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lowrank_la.matmul import matmul_variance, sampled_matmul, sketched_matmul

RUNS = 3000


def problem(m=6, n=80, p=4, seed=0, dtype=np.float64):
    """Skewed column norms, so that norm probabilities differ from uniform ones."""
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((m, n)) * np.exp(-np.arange(n) / 20)
    B = gen.standard_normal((n, p)) + 0.5
    return A.astype(dtype), B.astype(dtype)


def runs(estimator, A, B, c, n_runs=RUNS, **kw):
    P, V = zip(*(estimator(A, B, c, rng=seed, return_variance=True, **kw) for seed in range(n_runs)))
    return np.array(P), np.array(V)


SAMPLED = [dict(probs="norm"), dict(probs="uniform"), dict(probs="uniform", replace=False)]
SKETCHED = ["gaussian", "countsketch", "sparse_sign"]


def cases():
    for kw in SAMPLED:
        yield pytest.param(sampled_matmul, kw, kw["probs"], kw.get("replace", True),
                           id=f"dkm-{kw['probs']}-{'rep' if kw.get('replace', True) else 'norep'}")
    for kind in SKETCHED:
        yield pytest.param(sketched_matmul, {"kind": kind}, kind, True, id=kind)


@pytest.mark.parametrize("estimator, kw, method, replace", list(cases()))
def test_unbiased_and_variance_matches_closed_form(estimator, kw, method, replace):
    A, B = problem()
    c = 12
    P, V_hat = runs(estimator, A, B, c, **kw)
    exact = A @ B
    # unbiased: every entry of the mean over RUNS is within 4.5 standard errors of A @ B (24 entries: a
    # false alarm has probability < 2e-4; a missing 1/p or 1/c rescaling moves the mean by >> 4.5 SE)
    se = P.std(axis=0, ddof=1) / np.sqrt(RUNS)
    assert np.all(np.abs(P.mean(axis=0) - exact) <= 4.5 * se + 1e-12)
    # the empirical E||P - AB||^2 matches the closed form within 5%; its relative standard error is below 1.5%
    sq = ((P - exact) ** 2).sum(axis=(1, 2))
    closed = matmul_variance(A, B, c, method=method, replace=replace)
    assert sq.std(ddof=1) / np.sqrt(RUNS) / sq.mean() < 0.015
    assert abs(sq.mean() / closed - 1) < 0.05
    # the per-run variance estimate is unbiased: its mean is within 5% of the closed form
    assert abs(V_hat.mean() / closed - 1) < 0.05


def test_srht_variance_estimate_is_unbiased():
    A, B = problem(n=64)
    n_runs = 500  # SRHT calls are slow on tiny inputs (the parallel FWHT kernel's start-up)
    P, V_hat = runs(sketched_matmul, A, B, 16, n_runs, kind="srht")
    sq = ((P - A @ B) ** 2).sum(axis=(1, 2))
    assert np.all(np.abs(P.mean(axis=0) - A @ B) <= 4.5 * P.std(axis=0, ddof=1) / np.sqrt(n_runs))
    # both means have about 4% relative standard error at 500 runs: 15% is about 3 standard errors
    assert abs(V_hat.mean() / sq.mean() - 1) < 0.15


def test_error_decays_like_inverse_square_root_of_runs():
    """The mean of R independent estimates approaches A @ B at rate R^(-1/2): R E||mean - AB||^2 = V."""
    A, B = problem()
    P, _ = runs(sampled_matmul, A, B, 8, probs="norm")
    closed = matmul_variance(A, B, 8)
    for R in (30, 300):
        groups = P[: (RUNS // R) * R].reshape(RUNS // R, R, *P.shape[1:]).mean(axis=1)
        scaled = R * ((groups - A @ B) ** 2).sum(axis=(1, 2)).mean()
        # 100 and 10 groups: relative standard error about 15% and 45% for chi-square-like statistics
        assert 0.5 < scaled / closed < 1.6 if R == 300 else 0.7 < scaled / closed < 1.35


def test_norm_probabilities_beat_uniform_on_skewed_norms():
    A, B = problem()
    assert matmul_variance(A, B, 10, method="norm") < 0.5 * matmul_variance(A, B, 10, method="uniform")


def test_given_probabilities_match_norm_string():
    A, B = problem()
    w = np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=1)
    P1 = sampled_matmul(A, B, 10, probs=w / w.sum(), rng=3)
    P2 = sampled_matmul(A, B, 10, probs="norm", rng=3)
    np.testing.assert_allclose(P1, P2, rtol=1e-12)


def test_exact_when_all_mass_on_one_pair():
    A = np.zeros((3, 5))
    B = np.zeros((5, 2))
    A[:, 2], B[2] = [1.0, 2.0, 3.0], [4.0, 5.0]
    np.testing.assert_allclose(sampled_matmul(A, B, 3, rng=0), A @ B)
    assert matmul_variance(A, B, 3) == 0


@pytest.mark.parametrize("estimator", [sampled_matmul, sketched_matmul])
def test_float32_kept_inputs_untouched_same_bits(estimator):
    A, B = problem(dtype=np.float32)
    A0, B0 = A.copy(), B.copy()
    P = estimator(A, B, 10, rng=5)
    assert P.dtype == np.float32
    assert np.array_equal(P, estimator(A, B, 10, rng=5))
    assert not np.array_equal(P, estimator(A, B, 10, rng=6))
    assert np.array_equal(A, A0) and np.array_equal(B, B0)


@pytest.mark.parametrize("method", ["norm", "uniform", "gaussian", "countsketch", "given"])
def test_matmul_variance_leaves_its_inputs_untouched(method):
    A, B = problem(dtype=np.float32)
    A0, B0 = A.copy(), B.copy()
    probs = np.full(A.shape[1], 1.0 / A.shape[1]) if method == "given" else method
    p0 = np.array(probs, copy=True)
    assert matmul_variance(A, B, 10, method=probs) > 0
    assert np.array_equal(A, A0) and np.array_equal(B, B0)
    assert np.array_equal(np.asarray(probs), p0)


@pytest.mark.parametrize("estimator, kw", [(sampled_matmul, {"probs": "norm"}), (sampled_matmul, {"probs": "uniform"}),
                                           (sketched_matmul, {"kind": "gaussian"}),
                                           (sketched_matmul, {"kind": "countsketch"})])
def test_backends_agree_with_numpy(xp_backend, estimator, kw):
    A, B = problem()
    P = xp_backend.tonumpy(estimator(xp_backend.asarray(A), xp_backend.asarray(B), 40, rng=1, **kw))
    ref = estimator(A, B, 40, rng=1, **kw)
    np.testing.assert_allclose(P, ref, rtol=1e-10, atol=1e-12)


def test_dask_reads_only_sampled_chunks():
    da = pytest.importorskip("dask.array")
    A, B = problem(n=400)
    Ad, Bd = da.from_array(A, chunks=(6, 50)), da.from_array(B, chunks=(50, 4))
    P = sampled_matmul(Ad, Bd, 30, probs="uniform", rng=2)
    np.testing.assert_allclose(P, sampled_matmul(A, B, 30, probs="uniform", rng=2), rtol=1e-12)


BAD = [
    (lambda A, B: sampled_matmul(A, B[:-1], 5), ValueError, "B.shape"),
    (lambda A, B: sampled_matmul(A, B, 0), ValueError, "c=0"),
    (lambda A, B: sketched_matmul(A, B, 0), ValueError, "s=0"),
    (lambda A, B: sampled_matmul(A, B, 5, probs=np.full(80, 0.5)), ValueError, "sum to one"),
    (lambda A, B: sampled_matmul(A, B, 5, probs=np.r_[0.0, np.full(79, 1 / 79)]), ValueError, "positive"),
    (lambda A, B: sampled_matmul(A, B, 5, probs=np.full(7, 1 / 7)), ValueError, "shape"),
    (lambda A, B: sampled_matmul(A, B, 5, probs="nope"), ValueError, "probs"),
    (lambda A, B: sampled_matmul(A, B, 90, probs="uniform", replace=False), ValueError, "c=90"),
    (lambda A, B: sampled_matmul(A, B, 5, replace=False), ValueError, "replace=False"),
    (lambda A, B: sketched_matmul(A, B, 5, kind="fft"), ValueError, "kind"),
    (lambda A, B: sketched_matmul(A, B, 200, kind="srht"), ValueError, "s=200"),
    (lambda A, B: sampled_matmul(np.where(A > 0.5, np.nan, A), B, 5), ValueError, "A must be finite"),
    (lambda A, B: sampled_matmul(A, B.astype(complex), 5), TypeError, "complex"),
    (lambda A, B: sampled_matmul(A[0], B, 5), ValueError, "2-D"),
    (lambda A, B: sampled_matmul(A, B, 5, return_variance="yes"), ValueError, "return_variance"),
    (lambda A, B: sketched_matmul(A, B, 5, return_variance="no"), ValueError, "return_variance"),
    (lambda A, B: matmul_variance(A, B, 5, method="gaussian", replace=False), ValueError, "replace=False"),
    (lambda A, B: matmul_variance(A, B, 5, method="norm", replace=False), ValueError, "replace=False"),
]


@pytest.mark.parametrize("call, exc, text", BAD)
def test_bad_input_is_refused_with_its_name(call, exc, text):
    A, B = problem()
    with pytest.raises(exc, match=text):
        call(A, B)


def test_single_sample_variance_estimate_is_nan():
    A, B = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, v = sampled_matmul(A, B, 1, rng=0, return_variance=True)
    assert np.isnan(v)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 5), n=st.integers(1, 12), p=st.integers(1, 5), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_sampling_every_index_without_replacement_is_exact(m, n, p, seed, dtype):
    gen = np.random.default_rng(seed)
    A, B = gen.standard_normal((m, n)).astype(dtype), gen.standard_normal((n, p)).astype(dtype)
    P = sampled_matmul(A, B, n, probs="uniform", replace=False, rng=seed)
    assert P.shape == (m, p) and P.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(P, A.astype(np.float64) @ B, rtol=tol, atol=tol * n)
    assert matmul_variance(A, B, n, method="uniform", replace=False) == 0.0


@settings(max_examples=25, deadline=None)
@given(c=st.one_of(st.integers(-3, 0), st.floats(0.5, 3.5), st.just(True), st.text(max_size=2)))
def test_bad_sample_counts_are_refused(c):
    A, B = problem()
    with pytest.raises((ValueError, TypeError), match="c"):
        sampled_matmul(A, B, c)
