"""Issue 15 (items 8, 13, 16) for lowrank_la.matmul: extreme scales, sparse sampling, the MLMC budget and
progress, the compact MLMCInfo repr, and the one input rule."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la import ConvergenceWarning
from lowrank_la.matmul import (
    MatmulLevels,
    MLMCInfo,
    matmul_variance,
    mlmc,
    mlmc_matmul,
    sampled_matmul,
    sketched_matmul,
)

SCALES = [1e-300, 1e300, 1e-310]
METHODS = ["norm", "uniform", "gaussian", "countsketch", "sparse_sign"]


def problem(m=6, n=60, p=4, seed=0):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((m, n)) * np.exp(-np.arange(n) / 20), gen.standard_normal((n, p)) + 0.5


def assert_scaled(P, P1, c):
    """``P == c P1`` to rounding (subnormal scales lose the input's low bits: 1e-12 of the largest entry)."""
    np.testing.assert_allclose(P, c * P1, rtol=0, atol=1e-12 * c * np.abs(P1).max())


# ---------------------------------------------------------------- item 8: matmul_variance


@pytest.mark.parametrize("method", METHODS)
def test_item8_matmul_variance_squares_do_not_overflow(method):
    """A * 2^530 and B * 2^-530 have the same product and variance; the squares of A overflowed (0.0 or NaN)."""
    A, B = problem()
    ref = matmul_variance(A, B, 30, method=method)
    assert matmul_variance(A * 2.0**530, B * 2.0**-530, 30, method=method) == pytest.approx(ref, rel=1e-12)
    assert matmul_variance(A * 1e-150, B, 30, method=method) == pytest.approx(1e-300 * ref, rel=1e-12)


@pytest.mark.parametrize("c", [1e154, 1e-300])
def test_item8_matmul_variance_out_of_range_is_refused(c):
    A, B = problem()
    with pytest.raises(ValueError, match="outside the float64 range"):
        matmul_variance(A * c, B, 30)


# ---------------------------------------------------------------- scale oracle of the single-level estimators


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("probs", ["norm", "uniform"])
def test_sampled_matmul_is_scale_equivariant(c, probs):
    A, B = problem()
    assert_scaled(sampled_matmul(A * c, B, 30, probs=probs, rng=0), sampled_matmul(A, B, 30, probs=probs, rng=0), c)
    with pytest.raises(ValueError, match="estimated squared error"):  # c^2 times the variance: not representable
        sampled_matmul(A * c, B, 30, probs=probs, rng=0, return_variance=True)


@pytest.mark.parametrize("c", SCALES)
@pytest.mark.parametrize("kind", ["gaussian", "countsketch", "srht", "sparse_sign"])
def test_sketched_matmul_is_scale_equivariant(c, kind):
    A, B = problem()
    assert_scaled(sketched_matmul(A * c, B, 20, kind=kind, rng=0), sketched_matmul(A, B, 20, kind=kind, rng=0), c)


@pytest.mark.parametrize("estimator, kw", [(sampled_matmul, {}), (sketched_matmul, {"kind": "countsketch"}),
                                           (sketched_matmul, {"kind": "gaussian"})])
def test_variance_estimates_of_extreme_factors_with_a_moderate_product(estimator, kw):
    """A 2^600 and B 2^-600: the squares of each factor overflow or underflow, their product's variance does not."""
    A, B = problem()
    P, v = estimator(A, B, 20, rng=0, return_variance=True, **kw)
    P2, v2 = estimator(A * 2.0**600, B * 2.0**-600, 20, rng=0, return_variance=True, **kw)
    np.testing.assert_allclose(P2, P, rtol=1e-13, atol=1e-13 * np.abs(P).max())
    assert v2 == pytest.approx(v, rel=1e-12)


def test_a_product_beyond_the_float_range_is_refused():
    A, B = problem()
    with pytest.raises(ValueError, match="overflows"):
        sampled_matmul(A * 1e300, B * 1e300, 30, rng=0)


# ---------------------------------------------------------------- item 13: sparse sampling


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil"])
@pytest.mark.parametrize("which", ["both", "A", "B"])
def test_item13_sampled_matmul_accepts_sparse_like_dense(fmt, which):
    As = sp.random_array((20, 200), density=0.1, format=fmt, rng=0)
    Bs = sp.random_array((200, 7), density=0.1, format=fmt, rng=1)
    A = As if which in ("both", "A") else As.toarray()
    B = Bs if which in ("both", "B") else Bs.toarray()
    A_before = As.toarray().copy()
    for probs in ("norm", "uniform"):
        P, v = sampled_matmul(A, B, 50, probs=probs, rng=3, return_variance=True)
        Pd, vd = sampled_matmul(As.toarray(), Bs.toarray(), 50, probs=probs, rng=3, return_variance=True)
        assert sp.issparse(P) == (which == "both")
        np.testing.assert_allclose(P.toarray() if sp.issparse(P) else P, Pd, rtol=1e-12, atol=1e-14)
        assert v == pytest.approx(vd, rel=1e-10)
    assert np.array_equal(As.toarray(), A_before)


def test_item13_sparse_sampling_keeps_float32():
    A = sp.random_array((10, 100), density=0.2, format="csr", rng=0, dtype=np.float32)
    B = sp.random_array((100, 5), density=0.2, format="csc", rng=1, dtype=np.float32)
    assert sampled_matmul(A, B, 20, rng=0).dtype == np.float32


def test_item13_sketched_and_variance_refuse_sparse_with_the_argument_name():
    A = sp.random_array((10, 100), density=0.2, format="csr", rng=0)
    with pytest.raises(TypeError, match="A must be a dense array"):
        sketched_matmul(A, np.ones((100, 2)), 10)
    with pytest.raises(TypeError, match="B must be a dense array"):
        matmul_variance(np.ones((3, 100)), A.T, 10)


# ---------------------------------------------------------------- item 13: the MLMC budget, progress and repr


def breast_cancer():
    datasets = pytest.importorskip("sklearn.datasets")
    X = datasets.load_breast_cancer().data
    return X.T, X


@pytest.mark.parametrize("f", [None, np.tanh])
def test_item13_default_call_on_real_product_stops_within_budget_and_says_so(f):
    """569 x 30 real product, atol=5e-3: ran 294 s (2.2e11 multiply-adds); now at most twice m n p."""
    A, B = breast_cancer()
    exact_cost = 30 * 569 * 30
    with pytest.warns(ConvergenceWarning, match="max_cost.*exact product"):
        F, info = mlmc_matmul(A, B, f=f, atol=5e-3, rng=0, return_info=True)
    assert not info.converged and "max_cost" in info.message
    assert info.total_cost <= 2 * exact_cost * 1.01 and info.max_cost == 2 * exact_cost
    assert np.all(np.isfinite(F)) and F.shape == (30, 30)
    assert info.variance > 5e-3**2  # the reported variance says the target is not met


def test_item13_mlmcinfo_repr_is_compact():
    A, B = breast_cancer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, info = mlmc_matmul(A, B, f=np.tanh, atol=5e-3, rng=0, return_info=True)
    text = repr(info)
    assert "var_entries=<ndarray shape=(30, 30) dtype=float64>" in text
    assert "\n" not in text and len(text) < 1500 and "converged=False" in text


def test_item13_callback_sees_progress_and_can_stop():
    A, B = problem(n=400)
    seen = []

    def callback(progress):
        seen.append((progress.round, progress.total_cost, progress.levels))
        return progress.round >= 2

    _, info = mlmc_matmul(A, B, f=np.tanh, atol=0.1, rng=0, max_cost=1e8, callback=callback,
                          return_info=True)
    assert [r for r, _, _ in seen] == [1, 2] and seen[1][1] > seen[0][1] > 0
    assert not info.converged and "callback" in info.message
    with pytest.raises(TypeError, match="callback"):
        mlmc_matmul(A, B, f=np.tanh, callback=3)


def test_item13_verbose_reports_progress(capsys):
    A, B = problem(n=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlmc_matmul(A, B, f=np.tanh, atol=1e-2, rng=0, verbose=True)
    assert "mlmc_matmul" in capsys.readouterr().err


def test_item13_generic_driver_budget_covers_the_pilot():
    """The pilot (100 samples per level) used to run whatever the budget; now it is sized to fit."""
    def level(l, N, rng):
        u = rng.random(N)
        d = (1 + u / 2**l) ** 2 - ((1 + u / 2 ** (l - 1)) ** 2 if l else 0)
        return d.sum(), (d * d).sum(), N * 2.0**l

    with pytest.warns(ConvergenceWarning, match="max_cost"):
        _, info = mlmc(level, 1e-4, max_cost=200, rng=0)
    assert not info.converged and info.total_cost <= 200


def test_nonfinite_samples_are_refused():
    A, B = problem()
    with pytest.raises(ValueError, match="non-finite"):
        mlmc_matmul(A * 1e200, B, f=np.exp, atol=1e-2, rng=0)


@pytest.mark.parametrize("c", SCALES)
def test_mlmc_matmul_f_none_is_scale_equivariant(c):
    A, B = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = mlmc_matmul(A, B, atol=1.0, rng=0, max_cost=math.inf)
        assert_scaled(mlmc_matmul(A * c, B, atol=c, rng=0, max_cost=math.inf), ref, c)
        with pytest.raises(ValueError, match="MLMCInfo"):
            mlmc_matmul(A * c, B, atol=c, rng=0, max_cost=math.inf, return_info=True)


# ---------------------------------------------------------------- item 16: the input rule; SPEC 7


def test_item16_lists_dataframes_and_matrix_are_accepted():
    A, B = problem(n=30)
    ref = sampled_matmul(A, B, 10, rng=0)
    np.testing.assert_array_equal(sampled_matmul(A.tolist(), np.asmatrix(B), 10, rng=0), ref)
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(sketched_matmul(pd.DataFrame(A), B, 5, rng=0), sketched_matmul(A, B, 5, rng=0))
    assert matmul_variance(tuple(map(tuple, A)), B, 5) == matmul_variance(A, B, 5)
    assert MatmulLevels(np.stack([A, A]).tolist(), np.stack([B, B]), f=np.tanh).ops.K == 2


@pytest.mark.parametrize("func", [sampled_matmul, sketched_matmul, matmul_variance])
def test_item16_other_objects_are_refused_naming_the_argument(func):
    A, B = problem(n=30)
    with pytest.raises(TypeError, match="B must be"):
        func(A, {"x": 1}, 5)
    with pytest.raises(TypeError, match="A must hold numbers"):
        func([["a"] * 30], B, 5)


@pytest.mark.parametrize("call", [lambda A, B: sampled_matmul(A, B, 5, random_state=0),
                                  lambda A, B: sketched_matmul(A, B, 5, random_state=0),
                                  lambda A, B: mlmc_matmul(A, B, f=np.tanh, random_state=0)])
def test_random_state_is_refused(call):
    A, B = problem(n=30)
    with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\)"):
        call(A, B)


def test_mlmcinfo_is_exported():
    assert MLMCInfo.__repr__ is not object.__repr__


@pytest.mark.parametrize("wrong", ["A", "B"])
def test_a_2d_and_3d_pair_is_refused_naming_both(wrong):
    A, B = problem()
    stack = {"A": np.stack([A, A]), "B": np.stack([B, B])}
    args = {"A": A, "B": B, wrong: stack[wrong]}
    for call in (lambda: mlmc_matmul(args["A"], args["B"], rtol=0.3, rng=0),
                 lambda: MatmulLevels(args["A"], args["B"])):
        with pytest.raises(ValueError, match=r"A and B must both be 2-D .* or both 3-D") as info:
            call()
        assert "A of shape " in str(info.value) and "B of shape " in str(info.value)
        assert str(stack[wrong].shape) in str(info.value)
    assert MatmulLevels(stack["A"], stack["B"]).cost(1) > 0  # a matching stack is accepted
