"""The MLMC driver and mlmc_matmul: known answers, the design caveat, rates, seeding and input checks."""

import math
import warnings

import numpy as np
import pytest

from lowrank_la import ConvergenceWarning
from lowrank_la.matmul import MatmulLevels, UnbiasedLevelsWarning, mlmc, mlmc_matmul


def kernel_problem(m=4, n=2000, p=3, seed=0, dtype=np.float64):
    gen = np.random.default_rng(seed)
    A = gen.standard_normal((m, n)) * np.exp(-np.arange(n) / 800) / 25
    B = gen.standard_normal((n, p)) / 25 + 0.02
    return A.astype(dtype), B.astype(dtype)


def toy_level(l, N, rng):
    """P_l = (1 + U / 2^l)^2, U ~ U(0, 1) shared by fine and coarse: E[P_l] = 1 + 2^-l + 4^-l / 3 -> 1."""
    u = rng.random(N)
    d = (1 + u / 2**l) ** 2 - ((1 + u / 2 ** (l - 1)) ** 2 if l else 0)
    return d.sum(), (d * d).sum(), N * 2.0**l


def test_generic_driver_known_answer_and_rates():
    est, info = mlmc(toy_level, 2e-3, rng=0)
    assert info.converged
    assert abs(est - 1) < 3 * 2e-3  # the target RMSE is 2e-3
    assert 0.8 < info.alpha_hat < 1.2 and 1.7 < info.beta_hat < 2.3 and abs(info.gamma_hat - 1) < 1e-9
    assert info.total_cost == pytest.approx(float(np.sum(info.N_l * info.cost_l)))
    assert info.variance <= 0.5 * (2e-3) ** 2 * 1.01


def test_generic_driver_theta_zero_keeps_one_level_and_meets_variance():
    est, info = mlmc(lambda l, N, rng: (rng.random(N).sum(), (rng.random(N) ** 2).sum(), N), 1e-2, L_min=0,
                     L_max=0, theta=0.0, rng=1)
    assert info.levels == 1 and info.variance <= 1e-4 * 1.01


def test_caveat_unbiased_levels_have_zero_mean_corrections():
    """f=None: every level is an unbiased estimate of A @ B, so E[dP_l] = 0 (design caveat of the spec)."""
    A, B = kernel_problem()
    nested = MatmulLevels(A, B, c0=4, coupling="nested")
    N = 4000
    for l in (1, 2, 3):
        fine, coarse = nested.draw(l, N, rng=l)
        d = fine - coarse
        se = d.std(axis=0, ddof=1) / np.sqrt(N)
        # 12 entries per level: each within 4.5 standard errors of zero (false alarm < 1e-4 per level)
        assert np.all(np.abs(d.mean(axis=0)) <= 4.5 * se)
        assert np.all(se > 0)  # the corrections are random, not trivially zero
    fine, coarse = MatmulLevels(A, B, c0=4).draw(2, 50, rng=0)  # antithetic: coarse == fine exactly
    assert np.array_equal(fine, coarse)


def test_caveat_mlmc_matmul_warns_and_uses_one_level():
    A, B = kernel_problem()
    with pytest.warns(UnbiasedLevelsWarning, match="mean zero"):
        P, info = mlmc_matmul(A, B, atol=1e-3, rng=0, max_cost=math.inf, return_info=True)
    assert info.levels == 1 and info.converged
    err = np.abs(P - A @ B)
    assert np.linalg.norm(err) < 3 * 1e-3
    assert np.all(err <= 4.5 * np.sqrt(info.var_entries))


def test_smooth_f_corrections_decay_at_predicted_rates():
    """f = tanh: mean(dP_l) ~ 2^-l (alpha ~ 1) and Var(dP_l) ~ 4^-l (beta ~ 2) with antithetic coupling."""
    A, B = kernel_problem()
    levels = MatmulLevels(A, B, f=np.tanh, c0=4)
    gen = np.random.default_rng(0)
    means, variances = [], []
    for l in range(1, 6):
        s1, s2, *_ = levels(l, 6000, gen)
        means.append(np.linalg.norm(s1 / 6000))
        variances.append(np.sum(s2 / 6000 - (s1 / 6000) ** 2))
    alpha = -np.polyfit(range(1, 6), np.log2(means), 1)[0]
    beta = -np.polyfit(range(1, 6), np.log2(variances), 1)[0]
    assert 0.7 < alpha < 1.3
    assert 1.6 < beta < 2.6


def test_nested_coupling_decays_slower_than_antithetic():
    A, B = kernel_problem()
    gen = np.random.default_rng(1)
    var = {}
    for coupling in ("antithetic", "nested"):
        s1, s2, *_ = MatmulLevels(A, B, f=np.tanh, c0=4, coupling=coupling)(4, 3000, gen)
        var[coupling] = np.sum(s2 / 3000 - (s1 / 3000) ** 2)
    assert var["antithetic"] < 0.2 * var["nested"]


def test_final_estimate_within_three_standard_errors_of_exact():
    A, B = kernel_problem()
    exact = np.tanh(A @ B)
    F, info = mlmc_matmul(A, B, f=np.tanh, atol=2e-3, c0=4, rng=0, max_cost=math.inf, return_info=True)
    assert info.converged and info.levels >= 3
    rmse = np.sqrt(info.variance + info.bias_hat**2)
    assert np.linalg.norm(F - exact) <= 3 * rmse
    assert rmse <= 2e-3 * 1.05
    assert info.total_cost > 0 and np.isfinite(info.single_level_cost)


def test_random_data_stack_known_answer():
    """3-D stacks: the target is the mean over the data of f(A[k] @ B[k])."""
    gen = np.random.default_rng(2)
    A0, B0 = kernel_problem()
    scale = gen.uniform(0.5, 1.5, size=(6, 1, 1))
    A, B = A0[None] * scale, np.broadcast_to(B0, (6, *B0.shape)).copy()
    exact = np.mean(np.tanh(A @ B), axis=0)
    F, info = mlmc_matmul(A, B, f=np.tanh, atol=3e-3, c0=4, rng=0, max_cost=math.inf, return_info=True)
    assert np.linalg.norm(F - exact) <= 3 * np.sqrt(info.variance + info.bias_hat**2)


def test_same_seed_same_bits_float32_and_inputs_untouched():
    A, B = kernel_problem(dtype=np.float32)
    A0, B0 = A.copy(), B.copy()
    F1 = mlmc_matmul(A, B, f=np.tanh, atol=3e-3, c0=4, rng=7, max_cost=math.inf)
    F2 = mlmc_matmul(A, B, f=np.tanh, atol=3e-3, c0=4, rng=7, max_cost=math.inf)
    assert F1.dtype == np.float32 and np.array_equal(F1, F2)
    assert np.array_equal(A, A0) and np.array_equal(B, B0)


@pytest.mark.parametrize("stack", [False, True])
def test_level_sampler_leaves_its_inputs_untouched(stack):
    A, B = kernel_problem(n=64, dtype=np.float32)
    if stack:
        A, B = np.stack([A, 2 * A]), np.stack([B, B / 2])
    A0, B0 = A.copy(), B.copy()
    levels = MatmulLevels(A, B, f=np.tanh, c0=4)
    fine, coarse = levels.draw(2, 10, rng=0)
    assert fine.dtype == coarse.dtype == np.float32
    levels(1, 10, np.random.default_rng(0))
    assert np.array_equal(A, A0) and np.array_equal(B, B0)


def test_max_cost_stops_with_warning():
    A, B = kernel_problem()
    with pytest.warns(ConvergenceWarning, match="max_cost"):
        _, info = mlmc_matmul(A, B, f=np.tanh, atol=1e-5, c0=4, max_cost=2e6, rng=0, return_info=True)
    assert not info.converged and info.total_cost <= 2e6 * 1.01


def test_array_api_strict_backend():
    xps = pytest.importorskip("array_api_strict")
    A, B = kernel_problem()
    F = mlmc_matmul(xps.asarray(A), xps.asarray(B), f=xps.tanh, atol=3e-3, c0=4, rng=0, max_cost=math.inf)
    ref = mlmc_matmul(A, B, f=np.tanh, atol=3e-3, c0=4, rng=0, max_cost=math.inf)
    np.testing.assert_allclose(np.asarray(F), ref, rtol=1e-10, atol=1e-12)


BAD = [
    (dict(rtol=0.0), ValueError, "rtol"),
    (dict(atol=-1.0), ValueError, "atol"),
    (dict(c0=0), ValueError, "c0=0"),
    (dict(M=1), ValueError, "M=1"),
    (dict(n_pilot=1), ValueError, "n_pilot"),
    (dict(L_max=-1), ValueError, "L_max"),
    (dict(coupling="random"), ValueError, "coupling"),
    (dict(sampler="optimal"), ValueError, "probs"),
    (dict(f="tanh"), TypeError, "f must be"),
    (dict(return_info="yes"), ValueError, "return_info"),
]


@pytest.mark.parametrize("kw, exc, text", BAD)
def test_bad_input_is_refused_with_its_name(kw, exc, text):
    A, B = kernel_problem(n=50)
    kw = {"f": np.tanh, **kw}
    with pytest.raises(exc, match=text):
        mlmc_matmul(A, B, **kw)


def test_inner_dimensions_must_agree():
    A, B = kernel_problem(n=50)
    with pytest.raises(ValueError, match="B.shape"):
        mlmc_matmul(A, B[:-1], f=np.tanh)


@pytest.mark.parametrize("kw, text", [(dict(eps=0.0), "eps=0"), (dict(eps=-1.0), "eps"),
                                      (dict(eps=1e-2, L_min=3, L_max=2), "L_min"),
                                      (dict(eps=1e-2, theta=1.0), "theta")])
def test_driver_bad_input(kw, text):
    with pytest.raises(ValueError, match=text):
        mlmc(toy_level, **kw)


def test_driver_warns_when_l_max_is_too_small():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, info = mlmc(toy_level, 1e-3, L_max=3, rng=0)
    assert not info.converged
    assert any(issubclass(w.category, ConvergenceWarning) and "L_max" in str(w.message) for w in caught)


def test_dask_inputs_give_the_numpy_result():
    da = pytest.importorskip("dask.array")
    A, B = kernel_problem(n=300)
    Ad, Bd = da.from_array(A, chunks=(4, 50)), da.from_array(B, chunks=(50, 3))
    F = mlmc_matmul(Ad, Bd, f=np.tanh, atol=1e-2, c0=4, rng=0, max_cost=math.inf)
    ref = mlmc_matmul(A, B, f=np.tanh, atol=1e-2, c0=4, rng=0, max_cost=math.inf)
    np.testing.assert_allclose(F, ref, rtol=1e-12, atol=1e-15)


def test_cost_scaling_on_random_data():
    """On random data (a stack of 8 randomly scaled Gram products) the MLMC cost grows like eps^-2 and plain
    Monte Carlo on the finest level like eps^-3 (fitted slopes, tolerance 0.3, over eps = 1e-2 .. 2.5e-3)."""
    gen = np.random.default_rng(2)
    n = 2000
    A0 = gen.standard_normal((4, n)) * np.sqrt(2 * np.exp(-np.arange(n) / 800) / n)
    A = A0[None] * gen.uniform(0.5, 1.5, size=(8, 1, 1))
    B = np.ascontiguousarray(np.transpose(A, (0, 2, 1)))
    exact = np.mean(np.tanh(A @ B), axis=0)
    eps_list, mlmc_cost, single_cost = [1e-2, 5e-3, 2.5e-3], [], []
    for eps in eps_list:
        F, info = mlmc_matmul(A, B, f=np.tanh, atol=eps, c0=4, rng=0, max_cost=math.inf, return_info=True)
        assert info.converged and np.linalg.norm(F - exact) <= 3 * eps
        mlmc_cost.append(info.total_cost)
        single_cost.append(info.single_level_cost)
    slope_mlmc = np.polyfit(np.log(eps_list), np.log(mlmc_cost), 1)[0]
    slope_single = np.polyfit(np.log(eps_list), np.log(single_cost), 1)[0]
    assert abs(slope_mlmc + 2) < 0.3
    assert abs(slope_single + 3) < 0.3
    assert mlmc_cost[-1] < single_cost[-1]
