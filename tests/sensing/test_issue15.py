"""Issue 15 (items 11, 16) for lowrank_la.sensing: the design size check, rng validated up front, SPEC 7, and
the one input rule for y, truth and x0."""

import numpy as np
import pytest

from lowrank_la.sensing import GaussianSensing, gd, precgd, scaled_gd, scaled_gd_lambda, subgradient_l1

SOLVERS = [gd, precgd, scaled_gd, scaled_gd_lambda, subgradient_l1]


def psd_problem(n=10, m=200):
    op = GaussianSensing(n, m, rng=0)
    X = np.random.default_rng(1).standard_normal((n, 2))
    return op, op.forward(X @ X.T)


def test_item11_huge_dense_design_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"n=10, m=1000000000.*GiB.*storage='blocks'"):
        GaussianSensing(10, 10**9)
    op = GaussianSensing(10, 10**9, storage="blocks", rng=0)  # regenerated block by block: nothing stored
    assert op.n_measurements == 10**9


def test_item11_one_measurement_matrix_too_large_is_refused_in_both_storages():
    for storage in ("dense", "blocks"):
        with pytest.raises(ValueError, match="reduce n"):
            GaussianSensing((10**6, 10**6), 10, symmetric=False, storage=storage)


@pytest.mark.parametrize("solver", SOLVERS)
def test_item11_bad_rng_is_refused_up_front(solver):
    """gd/precgd/scaled_gd with the default spectral start never drew, so rng='not a seed' passed unnoticed."""
    op, y = psd_problem()
    with pytest.raises(TypeError, match="rng must be"):
        solver(op, y, 2, rng="not a seed", n_iter=1)
    with pytest.raises(ValueError, match="rng=-1"):
        solver(op, y, 2, rng=-1, n_iter=1)


@pytest.mark.parametrize("call", [lambda op, y: gd(op, y, 2, random_state=0),
                                  lambda op, y: scaled_gd_lambda(op, y, 2, random_state=0),
                                  lambda op, y: GaussianSensing(10, 20, random_state=0),
                                  lambda op, y: op.adjoint_error(random_state=0)])
def test_random_state_is_refused(call):
    op, y = psd_problem()
    with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\)"):
        call(op, y)


def test_item16_y_truth_x0_by_the_input_rule():
    op, y = psd_problem()
    ref = scaled_gd_lambda(op, y, 2, rng=0, n_iter=5)
    res = scaled_gd_lambda(op, y.tolist(), 2, rng=0, n_iter=5)
    np.testing.assert_array_equal(res.X, ref.X)
    M = np.asmatrix(np.eye(10))
    assert len(gd(op, tuple(y), 2, truth=M, n_iter=3).history["error"]) == 4
    with pytest.raises(TypeError, match="y must be"):
        gd(op, {"y": 1}, 2)
    with pytest.raises(TypeError, match="x0 must hold numbers"):
        scaled_gd_lambda(op, y, 2, x0=[["a", "b"]] * 10)


@pytest.mark.parametrize("c", [1e300, 1e-300, 1e-310])
@pytest.mark.parametrize("solver", SOLVERS)
def test_solvers_are_scale_equivariant(solver, c):
    """y c recovers c M: X X^T of 1e300 data overflowed (gd returned converged=False, error 0.32), and 1e-300
    data underflowed to 'y is all zeros'."""
    op, y = psd_problem()
    ref, res = solver(op, y, 2, rng=0, n_iter=60), solver(op, y * c, 2, rng=0, n_iter=60)
    model = (lambda r: r.X @ r.X.T) if "X" in ref else (lambda r: r.L @ r.R.T)
    assert res.converged == ref.converged and res.n_iter == ref.n_iter
    np.testing.assert_allclose(model(res) / c, model(ref), rtol=0, atol=1e-12 * np.abs(model(ref)).max())


def _operators():
    from lowrank_la.sensing import LinearMapSensing, SamplingOperator

    return [GaussianSensing(6, 40, rng=0), SamplingOperator(np.arange(6), (np.arange(6) * 5) % 6, 6),
            LinearMapSensing(lambda X: np.diag(X).copy(), np.diag, 6, 6)]


@pytest.mark.parametrize("op", _operators(), ids=lambda op: type(op).__name__)
def test_item16_forward_and_adjoint_follow_the_input_rule(op):
    import pandas as pd
    import scipy.sparse as sp

    X = np.random.default_rng(2).standard_normal((6, 6))
    z = np.random.default_rng(3).standard_normal(op.n_measurements)
    y, Az = op.forward(X), op.adjoint(z)
    # np.matrix is a plain 2-D array (it gave a (1, m) matrix), DataFrames and Series are read as arrays
    for spelling in (np.asmatrix(X), pd.DataFrame(X), X.tolist()):
        out = op.forward(spelling)
        assert type(out) is np.ndarray and out.shape == y.shape
        np.testing.assert_allclose(out, y, rtol=1e-13)
    np.testing.assert_allclose(op.adjoint(pd.Series(z)), Az, rtol=1e-13)
    # sparse input is refused by type, naming the argument (it failed with AxisError / AttributeError)
    for fmt in (sp.csr_matrix, sp.coo_array, sp.dok_matrix):
        with pytest.raises(TypeError, match=r"^X must be a dense array"):
            op.forward(fmt(X))
    with pytest.raises(TypeError, match=r"^z must be a dense array"):
        op.adjoint(sp.csr_matrix(z[None, :]))
    bad = X.copy()
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"^X must be finite"):
        op.forward(bad)
    with pytest.raises(ValueError, match=r"^X must have shape \(6, 6\)"):
        op.forward(X[:, :5])
