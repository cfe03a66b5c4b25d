"""lstsq_sketched (sketch-and-precondition least squares) against numpy.linalg.lstsq."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la import ConvergenceWarning
from lowrank_la.sketch import lstsq_sketched


def _problem(N, k, seed, dtype=np.float64, cond=1e4, noise=1.0):
    rng = np.random.default_rng(seed)
    A = (rng.standard_normal((N, k)) * np.logspace(0, np.log10(cond), k)).astype(dtype)
    x = rng.standard_normal(k)
    b = (A @ x + noise * rng.standard_normal(N)).astype(dtype)
    return A, b


@pytest.mark.parametrize(("N", "k"), [(2000, 10), (1500, 40)])
def test_preconditioned_condition_number_below_3(N, k):
    # calibrated: 100 seeds each at oversample=6 gave max kappa(A R^-1) of 2.74 (k=10) and 2.47 (k=50)
    conds = []
    for seed in range(30):
        A, b = _problem(N, k, seed)
        res = lstsq_sketched(A, b, rng=seed)
        conds.append(np.linalg.cond(A @ np.linalg.inv(res.R)))
    assert np.mean(np.array(conds) < 3) >= 29 / 30


@pytest.mark.parametrize("sketch", ["sparse_sign", "gaussian", "srht"])
@pytest.mark.parametrize("tol", [1e-6, 1e-10])
def test_agrees_with_numpy_lstsq_to_its_tolerance(sketch, tol):
    A, b = _problem(3000, 20, 0, cond=1e6)
    res = lstsq_sketched(A, b, sketch=sketch, tol=tol, rng=1)
    x_ref, *_ = np.linalg.lstsq(A, b, rcond=None)
    assert res.converged and res.method == "sketch"
    C = A @ np.linalg.inv(res.R)
    kappa = np.linalg.cond(C)
    r = np.linalg.norm(b - A @ x_ref)
    # LSQR's bound: ||C (y - y*)|| <= kappa^2 tol ||r|| (plus rounding), measured in the A-norm
    err = np.linalg.norm(A @ (res.x - x_ref))
    assert err <= 10 * kappa**2 * tol * r + 1e-12 * np.linalg.norm(b)
    # the residual is optimal to the same accuracy
    assert np.linalg.norm(b - A @ res.x) <= r * (1 + 10 * tol)


def test_consistent_system_is_solved_to_high_relative_accuracy():
    A, b = _problem(2000, 15, 3, noise=0.0)
    res = lstsq_sketched(A, b, tol=1e-12, rng=0)
    x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    assert np.linalg.norm(A @ (res.x - x_ref)) <= 1e-9 * np.linalg.norm(b)
    assert res.history["residual"][1] <= res.history["residual"][0] + 1e-12


def test_sparse_input_and_float32():
    rng = np.random.default_rng(0)
    A = sp.random(4000, 25, density=0.05, format="csr", random_state=1)
    b = rng.standard_normal(4000)
    res = lstsq_sketched(A, b, rng=0)
    x_ref = np.linalg.lstsq(A.toarray(), b, rcond=None)[0]
    assert np.linalg.norm(res.x - x_ref) <= 1e-7 * np.linalg.norm(x_ref)
    A32, b32 = _problem(3000, 10, 1, dtype=np.float32, cond=10)
    res32 = lstsq_sketched(A32, b32, tol=1e-6, rng=0)
    x64 = np.linalg.lstsq(A32.astype(np.float64), b32.astype(np.float64), rcond=None)[0]
    assert res32.x.dtype == np.float32
    assert np.linalg.norm(res32.x - x64) <= 1e-4 * np.linalg.norm(x64)


def test_same_seed_same_bits_and_input_untouched():
    A, b = _problem(1000, 8, 2)
    A0, b0 = A.copy(), b.copy()
    x1 = lstsq_sketched(A, b, rng=5).x
    x2 = lstsq_sketched(A, b, rng=5).x
    assert np.array_equal(x1, x2)
    assert np.array_equal(A, A0) and np.array_equal(b, b0)


def test_short_problem_is_solved_directly():
    A, b = _problem(30, 10, 0)
    res = lstsq_sketched(A, b)
    assert res.method == "direct"
    assert np.allclose(res.x, np.linalg.lstsq(A, b, rcond=None)[0])


def test_bad_input_is_refused_with_its_name():
    A, b = _problem(100, 5, 0)
    with pytest.raises(ValueError, match="A must be tall"):
        lstsq_sketched(A.T, b[:5])
    with pytest.raises(ValueError, match=r"b.shape\[0\]"):
        lstsq_sketched(A, b[:-1])
    bad = b.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="b must be finite"):
        lstsq_sketched(A, bad)
    with pytest.raises(ValueError, match="oversample"):
        lstsq_sketched(A, b, oversample=1)
    with pytest.raises(ValueError, match="tol"):
        lstsq_sketched(A, b, tol=0)
    with pytest.raises(np.linalg.LinAlgError, match="rank deficient"):
        lstsq_sketched(np.hstack([A, A[:, :1]]), b)


# --------------------------------------------------------------------------- issue 15 items 8, 12, 16

def _scaled_problem():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((600, 8)) * np.logspace(0, 3, 8)
    return A, rng.standard_normal(600)


@pytest.mark.parametrize(("ca", "cb"), [(1e-300, 1.0), (1e-310, 1e-310), (1.0, 1e300), (1e300, 1.0),
                                        (1e300, 1e300), (1e-300, 1e-300)])
def test_item8_lstsq_sketched_is_scale_invariant(ca, cb):
    """lstsq_sketched(A, b * 1e300) gave NaN; at A * 1e-310 all-NaN x and converged=False without a warning."""
    A, b = _scaled_problem()
    ref = lstsq_sketched(A, b, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = lstsq_sketched(A * ca, b * cb, rng=0)
    assert res.converged
    np.testing.assert_allclose(res.x * (ca / cb), ref.x, rtol=1e-6 if ca > 1e-305 else 1e-4)
    assert res.history["residual"][-1] / cb == pytest.approx(ref.history["residual"][-1], rel=1e-6)


def test_item8_lstsq_sketched_refuses_an_unrepresentable_solution():
    A, b = _scaled_problem()
    with pytest.raises(ValueError, match="not representable in float64"):
        lstsq_sketched(A * 1e-310, b, rng=0)


def test_item8_lstsq_sketched_warns_when_lsqr_stops_early():
    A, b = _scaled_problem()
    with pytest.warns(ConvergenceWarning, match="maxiter=1"):
        res = lstsq_sketched(A, b, tol=1e-15, maxiter=1, rng=0)
    assert not res.converged


def test_item12_lstsq_sketched_runs_on_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    A, b = _scaled_problem()
    ref = lstsq_sketched(A, b, rng=0)
    res = lstsq_sketched(xp.asarray(A), xp.asarray(b), rng=0)
    assert type(res.x) is type(xp.asarray(b)) and res.x.dtype == xp.float64
    np.testing.assert_allclose(np.asarray(res.x), ref.x, rtol=1e-12)
    direct = lstsq_sketched(xp.asarray(A[:30]), xp.asarray(b[:30]), rng=0)
    assert direct.method == "direct" and type(direct.x) is type(res.x)


def test_item16_lstsq_sketched_takes_lists_and_dok_and_refuses_random_state():
    A, b = _scaled_problem()
    ref = lstsq_sketched(A, b, rng=0)
    np.testing.assert_allclose(lstsq_sketched(A.tolist(), b.tolist(), rng=0).x, ref.x, rtol=1e-12)
    np.testing.assert_allclose(lstsq_sketched(sp.dok_array(A), b, rng=0).x, ref.x, rtol=1e-10)
    with pytest.raises(ValueError, match="b must be 1-D"):
        lstsq_sketched(A, b[:, None])
    with pytest.raises(TypeError, match="random_state"):
        lstsq_sketched(A, b, random_state=0)
    assert lstsq_sketched(A.astype(np.float32) * np.float32(1e-30), b.astype(np.float32), rng=0).x.dtype \
        == np.float32
