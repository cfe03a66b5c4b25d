"""lstsq_sketched (sketch-and-precondition least squares) against numpy.linalg.lstsq."""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la.sketch._lstsq import lstsq_sketched


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
