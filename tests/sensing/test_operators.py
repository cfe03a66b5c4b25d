"""Measurement operators: adjoint identity, dense against block-generated designs, scaling, backends, bad input."""

import numpy as np
import pytest

from lowrank_la.sensing import GaussianSensing, LinearMapSensing, SamplingOperator, SensingOperator, _operators


def _sampling(n1, n2, m, seed, **kw):
    lin = np.random.default_rng(seed).choice(n1 * n2, m, replace=False)
    rows, cols = np.divmod(lin, n2)
    return SamplingOperator(rows, cols, (n1, n2), **kw)


def _operators_under_test():
    mat = np.random.default_rng(3).standard_normal((40, 6 * 5))
    return {
        "gauss-sym": GaussianSensing(8, 100, rng=0),
        "gauss-rect": GaussianSensing((6, 9), 70, symmetric=False, rng=1),
        "gauss-blocks": GaussianSensing(8, 100, storage="blocks", rng=0),
        "sampling": _sampling(6, 7, 20, 2),
        "sampling-sym": _sampling(7, 7, 20, 2, symmetric=True),
        "user": LinearMapSensing(lambda X: mat @ X.reshape(-1), lambda z: (mat.T @ z).reshape(6, 5), (6, 5), 40),
    }


@pytest.mark.parametrize("name", list(_operators_under_test()))
def test_adjoint_identity(name):
    op = _operators_under_test()[name]
    assert isinstance(op, SensingOperator)
    for seed in range(3):
        assert op.adjoint_error(rng=seed) < 1e-12


def test_a_wrong_adjoint_is_caught():
    op = LinearMapSensing(lambda X: X[0].copy(), lambda z: np.outer(z, np.ones(4)) * 0 + np.eye(4) * z[0], 4, 4)
    assert op.adjoint_error(rng=0) > 1e-3


def test_forward_is_the_dense_design_times_vec():
    for op in (GaussianSensing(7, 50, rng=4), GaussianSensing((5, 6), 50, symmetric=False, rng=4)):
        X = np.random.default_rng(5).standard_normal(op.shape)
        A = op.todense()
        np.testing.assert_allclose(op.forward(X), A @ X.reshape(-1), rtol=1e-12, atol=1e-12)
        z = np.random.default_rng(6).standard_normal(50)
        np.testing.assert_allclose(op.adjoint(z), (A.T @ z).reshape(op.shape), rtol=1e-12, atol=1e-12)


def test_symmetric_design_measures_the_symmetric_part():
    op = GaussianSensing(6, 40, rng=0)
    X = np.random.default_rng(1).standard_normal((6, 6))
    np.testing.assert_allclose(op.forward(X), op.forward((X + X.T) / 2), atol=1e-13)
    A = op.todense().reshape(40, 6, 6)
    np.testing.assert_array_equal(A, A.transpose(0, 2, 1))
    G = op.adjoint(np.ones(40))
    np.testing.assert_allclose(G, G.T, atol=1e-14)


def test_blocks_regenerate_the_dense_design(monkeypatch):
    monkeypatch.setattr(_operators, "BLOCK_BYTES", 8 * 64 * 7)  # 7 rows a block: 15 blocks, the last one short
    blocks = GaussianSensing(8, 100, storage="blocks", rng=11)
    assert blocks.block_rows == 7
    dense = GaussianSensing(8, 100, rng=11)
    np.testing.assert_array_equal(blocks.todense(), dense.todense())
    X = np.random.default_rng(0).standard_normal((8, 8))
    np.testing.assert_allclose(blocks.forward(X), dense.forward(X), rtol=1e-12, atol=1e-13)
    z = np.random.default_rng(1).standard_normal(100)
    np.testing.assert_allclose(blocks.adjoint(z), dense.adjoint(z), rtol=1e-12, atol=1e-13)
    assert blocks.adjoint_error(rng=2) < 1e-12


def test_gaussian_scaling_is_isometric_in_expectation():
    # E ||A(X)||^2 = ||X||_F^2; with m = 4000 the ratio concentrates within +-5% (5 sigma: sqrt(2/m) = 2.2%)
    op = GaussianSensing((10, 12), 4000, symmetric=False, rng=0)
    X = np.random.default_rng(1).standard_normal((10, 12))
    ratio = np.linalg.norm(op.forward(X)) ** 2 / np.linalg.norm(X) ** 2
    assert abs(ratio - 1) < 0.11
    op = GaussianSensing(10, 4000, rng=0)
    S = X[:, :10] + X[:, :10].T
    assert abs(np.linalg.norm(op.forward(S)) ** 2 / np.linalg.norm(S) ** 2 - 1) < 0.11


def test_sampling_scale_makes_adjoint_forward_p_inverse_projection():
    op = _sampling(6, 7, 21, 0)  # p = 1/2
    X = np.random.default_rng(1).standard_normal((6, 7))
    back = op.adjoint(op.forward(X))
    mask = np.zeros((6, 7), dtype=bool)
    mask[op.rows, op.cols] = True
    np.testing.assert_allclose(back, np.where(mask, 2 * X, 0), atol=1e-13)


def test_batches_are_one_product_each():
    op = GaussianSensing(6, 30, rng=0)
    Xs = np.random.default_rng(1).standard_normal((3, 6, 6))
    np.testing.assert_allclose(op.forward(Xs), np.stack([op.forward(X) for X in Xs]), atol=1e-13)
    Z = np.random.default_rng(2).standard_normal((3, 30))
    np.testing.assert_allclose(op.adjoint(Z), np.stack([op.adjoint(z) for z in Z]), atol=1e-13)


@pytest.mark.parametrize("name", ["gauss-sym", "gauss-blocks", "sampling", "user"])
def test_float32_stays_float32_and_inputs_are_untouched(name):
    op = _operators_under_test()[name]
    X = np.random.default_rng(0).standard_normal(op.shape).astype(np.float32)
    z = np.random.default_rng(1).standard_normal(op.n_measurements).astype(np.float32)
    X0, z0 = X.copy(), z.copy()
    assert op.forward(X).dtype == np.float32
    assert op.adjoint(z).dtype == np.float32
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(z, z0)
    assert op.adjoint_error(rng=0, dtype="float32") < 1e-5


def test_sampling_indices_are_not_modified():
    rows, cols = np.array([2, 0, 1], dtype=np.int32), np.array([1, 2, 0], dtype=np.int32)
    r0, c0 = rows.copy(), cols.copy()
    op = SamplingOperator(rows, cols, 3)
    op.adjoint(op.forward(np.ones((3, 3))))
    np.testing.assert_array_equal(rows, r0)
    np.testing.assert_array_equal(cols, c0)


def test_same_seed_same_operator():
    a, b = GaussianSensing(5, 20, rng=3), GaussianSensing(5, 20, rng=3)
    np.testing.assert_array_equal(a.todense(), b.todense())
    assert not np.array_equal(a.todense(), GaussianSensing(5, 20, rng=4).todense())


@pytest.mark.parametrize("name", ["gauss-sym", "gauss-rect", "sampling", "sampling-sym"])
def test_backends_agree_with_numpy(xp_dense_backend, name):
    op = _operators_under_test()[name]
    X = np.random.default_rng(0).standard_normal(op.shape)
    z = np.random.default_rng(1).standard_normal(op.n_measurements)
    y = xp_dense_backend.tonumpy(op.forward(xp_dense_backend.asarray(X)))
    g = xp_dense_backend.tonumpy(op.adjoint(xp_dense_backend.asarray(z)))
    np.testing.assert_allclose(y, op.forward(X), atol=1e-12)
    np.testing.assert_allclose(g, op.adjoint(z), atol=1e-12)


def test_bad_input_is_refused_with_its_name():
    op = GaussianSensing(5, 20, rng=0)
    with pytest.raises(ValueError, match="X must have shape"):
        op.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match="z must have shape"):
        op.adjoint(np.ones(19))
    with pytest.raises(ValueError, match="X must be finite"):
        op.forward(np.full((5, 5), np.nan))
    with pytest.raises(ValueError, match="m=0"):
        GaussianSensing(5, 0)
    with pytest.raises(ValueError, match="square"):
        GaussianSensing((5, 6), 10, symmetric=True)
    with pytest.raises(ValueError, match="storage"):
        GaussianSensing(5, 10, storage="disk")
    with pytest.raises(TypeError, match="dtype"):
        GaussianSensing(5, 10, dtype="int8")
    with pytest.raises(ValueError, match="distinct"):
        SamplingOperator([0, 0], [1, 1], 3)
    with pytest.raises(ValueError, match="cols holds the index 3"):
        SamplingOperator([0, 1], [1, 3], 3)
    with pytest.raises(TypeError, match="rows must hold integer"):
        SamplingOperator([0.5], [1], 3)
    with pytest.raises(TypeError, match="callables"):
        LinearMapSensing(np.eye(3), np.eye(3), 3, 3)
    bad = LinearMapSensing(lambda X: X.reshape(-1), lambda z: z.reshape(3, 3), 3, 8)
    with pytest.raises(ValueError, match="user's forward map returned shape"):
        bad.forward(np.ones((3, 3)))


def test_float32_design_is_applied_in_the_input_dtype():
    op32 = GaussianSensing(6, 40, dtype="float32", rng=0)  # float32 normals: a different draw than float64's
    X = np.random.default_rng(1).standard_normal((6, 6))
    A = op32.todense()
    assert A.dtype == np.float32
    assert op32.forward(X).dtype == np.float64
    np.testing.assert_allclose(op32.forward(X), A.astype(np.float64) @ X.reshape(-1), atol=1e-6)  # todense rounds
