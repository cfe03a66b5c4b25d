"""Sketched and DP-robust coordinate queries: unbiasedness, predicted standard deviation, the private median,
the privacy accounting and the sketch pool."""

import math

import numpy as np
import pytest

from lowrank_la.projection import KroneckerProjectionMaintainer, coordinate_estimate_std, default_sketch_size
from lowrank_la.projection._private import (
    SketchPool,
    composed_epsilon,
    per_answer_epsilon,
    pool_size,
    private_median,
)
from lowrank_la.sketch import make_sketch

from ._problems import problem


@pytest.mark.parametrize("kind", ["gaussian", "countsketch"])
def test_sketched_estimates_are_unbiased_with_the_predicted_std(kind):
    # 6000 draws of an s = 8 sketch of a 16-dim P h. Calibrated on seeds 0-4 at 4000 draws: |mean error| <= 2.1
    # standard errors and std / predicted in [0.982, 1.033]; the thresholds are 4 standard errors and 5%.
    A, W = problem(4, 6, 0)
    pm = KroneckerProjectionMaintainer(A, W, rng=0)
    h = np.random.default_rng(1).standard_normal(16)
    v = pm.query(h)
    idx = [0, 5]
    trials = 6000
    z = np.array([pm.query_sketched(h, idx, sketch_size=8, kind=kind) for _ in range(trials)])
    pred = coordinate_estimate_std(v, idx, 8, kind)
    assert (np.abs(z.mean(axis=0) - v[idx]) <= 4 * pred / math.sqrt(trials)).all()
    assert (np.abs(z.std(axis=0) / pred - 1) <= 0.05).all()


def test_fixed_seed_gives_a_fixed_sketch_and_matrix_queries_work():
    A, W = problem(4, 6, 0)
    pm = KroneckerProjectionMaintainer(A, W, vec="C")
    h = np.random.default_rng(1).standard_normal(16)
    a = pm.query_sketched(h, [3], rng=5)
    assert (a == pm.query_sketched(h.reshape(4, 4), [3], rng=5)).all()  # vec="C": mat(h) is the row-major reshape
    R = make_sketch("gaussian", default_sketch_size(16), 16, rng=5).todense()
    assert np.allclose(a, (R.T @ R @ pm.query(h))[[3]])
    assert pm.query_sketched(h).shape == (16,)
    with pytest.raises(ValueError, match=r"0 <= idx < n\^2 = 16"):
        pm.query_sketched(h, [16])
    with pytest.raises(TypeError, match="idx must be"):
        pm.query_sketched(h, [0.5])
    with pytest.raises(ValueError, match="kind='fast' must be one of"):
        pm.query_sketched(h, [0], kind="fast")


def test_sketch_pool_matches_the_dense_countsketches():
    gen = np.random.default_rng(3)
    pool = SketchPool.draw(5, 7, 30, np.random.default_rng(11))
    seeds = np.random.default_rng(11).integers(0, 2**63 - 1, size=5)
    v = gen.standard_normal(30)
    want = np.array([(lambda R: R.T @ (R @ v))(make_sketch("countsketch", 7, 30, rng=int(s)).todense())
                     for s in seeds])
    assert np.allclose(pool.estimates(v, [0, 4, 29]), want[:, [0, 4, 29]])


def test_composition_and_its_inverse():
    eps0 = per_answer_epsilon(1.0, 400, 1e-6)
    assert abs(composed_epsilon(eps0, 400, 1e-6) - 1.0) < 1e-9
    assert composed_epsilon(eps0, 200, 1e-6) < 1.0
    assert composed_epsilon(0.5, 0, 1e-6) == 0.0
    # K = O(sqrt(N) log N): quadrupling the answers roughly doubles the pool
    k1 = pool_size(per_answer_epsilon(1.0, 1000, 1e-6), 4096, 1000)
    k4 = pool_size(per_answer_epsilon(1.0, 4000, 1e-6), 4096, 4000)
    assert 1.9 < k4 / k1 < 2.4


def test_private_median_lands_between_the_quartiles():
    # eps0 = 0.05, 4096 bins, 10 answers: the pool-size rule asks K = 8 ln(4096 * 10 / 1e-3) / eps0 = 2817; all
    # 200 seeded trials must land between the quartiles of the values (the rule's failure probability is 1e-3)
    eps0 = 0.05
    K = pool_size(eps0, 4096, 10)
    assert K == math.ceil(8 * math.log(4096 * 10 / 1e-3) / 0.05)
    gen = np.random.default_rng(0)
    inside = 0
    for _ in range(200):
        z = gen.standard_normal(K)
        out = private_median(z, -5, 5, eps0, 4096, gen)
        lo, hi = np.quantile(z, [0.25, 0.75])
        inside += lo - 10 / 4096 <= out <= hi + 10 / 4096
    assert inside == 200


def test_robust_query_accounts_every_answer_and_refuses_beyond_the_budget():
    A, W = problem(4, 6, 2)
    pm = KroneckerProjectionMaintainer(A, W, rng=1)
    gen = np.random.default_rng(2)
    T_max, idx = 5, [1, 2]
    for t in range(T_max):
        out = pm.robust_query(gen.standard_normal(16), idx, T_max, n_sketches=300)
        assert out.shape == (2,)
        assert pm.diagnostics["robust_answers"] == 2 * (t + 1)
    settings = pm.robust_settings
    assert settings["budget"] == 10 and settings["pool_size"] == 300
    assert abs(pm.diagnostics["privacy_spent"] - 1.0) < 1e-9  # the whole (eps_dp = 1) budget
    with pytest.raises(RuntimeError, match="privacy budget of robust_query is spent: 10 of 10"):
        pm.robust_query(gen.standard_normal(16), [0], T_max, n_sketches=300)
    with pytest.raises(ValueError, match="set up with T_max=5"):
        pm.robust_query(gen.standard_normal(16), [0], 6, n_sketches=300)
    pm.reset_robust()
    assert pm.robust_settings is None and pm.diagnostics["robust_answers"] == 0
    pm.robust_query(gen.standard_normal(16), [0], 6, n_sketches=300)
    assert pm.robust_settings["T_max"] == 6


def test_robust_answers_are_within_two_stds_for_oblivious_queries():
    # 20 fresh (non-adaptive) queries of one coordinate, default pool for T_max = 20 (eps_dp = 1): the private
    # median lies between the estimates' quartiles, within 2 single-sketch standard deviations of (P h)_i.
    n = 6
    A, W = problem(n, 8, 3)
    pm = KroneckerProjectionMaintainer(A, W, rng=4)
    gen = np.random.default_rng(5)
    s = 12
    for _ in range(20):
        h = gen.standard_normal(n * n)
        v = pm.query(h)
        out = pm.robust_query(h, [7], 20, sketch_size=s)
        width = 2 * np.linalg.norm(h) / 4096
        assert abs(out[0] - v[7]) <= 2 * coordinate_estimate_std(v, [7], s, "countsketch")[0] + width
    K = pm.robust_settings["pool_size"]
    assert K == pool_size(per_answer_epsilon(1.0, 20, 1e-6), 4096, 20)


def test_robust_query_validates():
    A, W = problem(3, 4, 0)
    pm = KroneckerProjectionMaintainer(A, W)
    with pytest.raises(ValueError, match="T_max=0"):
        pm.robust_query(np.ones(9), [0], 0)
    with pytest.raises(ValueError, match="delta=2.0"):
        pm.robust_query(np.ones(9), [0], 3, delta=2.0)
    with pytest.raises(ValueError, match="h.shape"):
        pm.robust_query(np.ones(8), [0], 3, n_sketches=10)
    with pytest.raises(ValueError, match="kind='x'"):
        coordinate_estimate_std(np.ones(3), [0], 2, kind="x")


def test_sketched_queries_keep_float32_and_leave_h_untouched():
    A, W = problem(4, 6, 0, dtype=np.float32)
    pm = KroneckerProjectionMaintainer(A, W, rng=0)
    h = np.random.default_rng(1).standard_normal(16).astype(np.float32)
    H = h.reshape(4, 4).copy()
    copies = (h.copy(), H.copy())
    assert pm.query_sketched(h, [0, 3]).dtype == np.float32
    assert pm.query_sketched(H, [0, 3], kind="countsketch").dtype == np.float32
    assert pm.robust_query(h, [1], 3, n_sketches=20).dtype == np.float32
    assert (h == copies[0]).all() and (H == copies[1]).all()
    v = pm.query(h)
    std = coordinate_estimate_std(v, [0, 1], 8)
    assert std.dtype == np.float32
    assert np.allclose(std, coordinate_estimate_std(v.astype(np.float64), [0, 1], 8), rtol=1e-6)
    assert (v == pm.query(h)).all()


def test_bad_h_leaves_the_sketch_generator_untouched():
    A, W = problem(4, 6, 0)
    one, two = KroneckerProjectionMaintainer(A, W, rng=3), KroneckerProjectionMaintainer(A, W, rng=3)
    with pytest.raises(ValueError, match="h must be finite"):
        one.query_sketched(np.full(16, np.nan), [0])
    h = np.arange(16.0)
    assert (one.query_sketched(h, [0, 5]) == two.query_sketched(h, [0, 5])).all()


@pytest.mark.parametrize("call, err, match", [
    (lambda: coordinate_estimate_std(np.array([1.0, np.nan]), [0], 4), ValueError, "v must be finite"),
    (lambda: coordinate_estimate_std(np.ones((2, 2)), [0], 4), ValueError, "v must be 1-D"),
    (lambda: coordinate_estimate_std(np.ones(3), [3], 4), ValueError, r"0 <= idx < v.shape\[0\] = 3"),
    (lambda: coordinate_estimate_std(np.ones(3), [0.5], 4), TypeError, "idx must be"),
    (lambda: coordinate_estimate_std(np.ones(3), [0], 0), ValueError, "sketch_size=0 must satisfy"),
    (lambda: default_sketch_size(0), ValueError, "dim=0 must satisfy dim >= 1"),
    (lambda: default_sketch_size(10.5), TypeError, "dim must be an integer"),
])
def test_helpers_refuse_bad_arguments_by_name(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_coordinate_estimate_std_leaves_v_untouched():
    v = np.array([3.0, -4.0, 1.0])
    copy = v.copy()
    assert np.allclose(coordinate_estimate_std(v, 1, 2, "countsketch"), np.sqrt((26.0 - 16.0) / 2))
    assert (v == copy).all()


@pytest.mark.parametrize("kind", ["gaussian", "countsketch"])
@pytest.mark.parametrize("c", [2.0 ** -1000, 1e-300, 1e300, 2.0 ** -1060])
def test_coordinate_estimate_std_scales_with_v_over_the_float_range(kind, c):
    v = np.random.default_rng(4).standard_normal(16)
    base = coordinate_estimate_std(v, [0, 3], 8, kind)
    scaled = coordinate_estimate_std(v * c, [0, 3], 8, kind)
    assert np.all(np.isfinite(scaled)) and np.all(scaled > 0)
    rtol = 1e-12 if abs(math.log2(c)) < 1000 else 1e-2  # subnormal v keeps about 2 digits
    np.testing.assert_allclose(scaled / c, base, rtol=rtol)
    assert coordinate_estimate_std(np.zeros(4), [1], 8, kind).tolist() == [0.0]
