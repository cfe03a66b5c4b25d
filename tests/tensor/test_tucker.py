"""Tucker basics: unfold/fold, mode products, HOSVD, ST-HOSVD, HOOI, against NumPy/TensorLy and their invariants."""

import itertools
import warnings

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la._backend import ConvergenceWarning
from lowrank_la.tensor import (
    fold,
    hooi,
    hosvd,
    hosvd_spectrum,
    mode_product,
    st_hosvd,
    tucker_size,
    tucker_to_tensor,
    unfold,
)

TOL = {np.float32: 1e-4, np.float64: 1e-10}


def _unfold_reference(X, n):
    """Mode-n unfolding with the other modes in C order (TensorLy's convention)."""
    return np.moveaxis(X, n, 0).reshape(X.shape[n], -1)


def mode_dot(X, M, n):
    """NumPy reference of the mode-n product ``X x_n M``."""
    return np.moveaxis(np.tensordot(M, X, axes=(1, n)), 0, n)


def _tails(X, ranks):
    spec = hosvd_spectrum(X, method="svd")
    return np.array([spec.norm_sq - v[:r].sum() for v, r in zip(spec.values, ranks)])


def _rel_err2(X, core, factors):
    return float(np.linalg.norm(X - tucker_to_tensor(core, factors)) ** 2 / np.linalg.norm(X) ** 2)


@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5), (2, 3, 4, 5)])
def test_unfold_fold_match_the_reference_and_invert(shape, rng):
    X = rng.standard_normal(shape)
    for n in range(len(shape)):
        M = unfold(X, n)
        np.testing.assert_array_equal(M, _unfold_reference(X, n))
        np.testing.assert_array_equal(fold(M, n, shape), X)


def test_mode_product_matches_the_reference(rng):
    X = rng.standard_normal((4, 5, 6))
    for n in range(3):
        M = rng.standard_normal((3, X.shape[n]))
        np.testing.assert_allclose(mode_product(X, M, n), mode_dot(X, M, n), atol=1e-12)
        np.testing.assert_allclose(mode_product(X, M.T, n, transpose=True), mode_dot(X, M, n), atol=1e-12)


def test_tucker_to_tensor_and_size_match_the_reference(rng):
    core = rng.standard_normal((2, 3, 4))
    factors = [rng.standard_normal((i, r)) for i, r in zip((5, 6, 7), (2, 3, 4))]
    expected = np.einsum("abc,ia,jb,kc->ijk", core, *factors)
    np.testing.assert_allclose(tucker_to_tensor(core, factors), expected, atol=1e-12)
    assert tucker_size((5, 6, 7), (2, 3, 4)) == 24 + 10 + 18 + 28


def test_tucker_to_tensor_and_size_match_tensorly(rng):
    tl = pytest.importorskip("tensorly")  # a peer, in the bench extra
    from tensorly.tucker_tensor import _tucker_n_param

    core = rng.standard_normal((2, 3, 4))
    factors = [rng.standard_normal((i, r)) for i, r in zip((5, 6, 7), (2, 3, 4))]
    np.testing.assert_allclose(tucker_to_tensor(core, factors), tl.tucker_to_tensor((core, factors)), atol=1e-12)
    np.testing.assert_array_equal(unfold(core, 1), tl.unfold(core, 1))
    assert tucker_size((5, 6, 7), (2, 3, 4)) == _tucker_n_param((5, 6, 7), (2, 3, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("svd", ["gram", "svd", "randomized", "auto"])
def test_exact_multilinear_rank_is_recovered(dtype, svd):
    X = la.datasets.tucker_tensor((20, 15, 12), (4, 3, 5), rng=1, dtype=dtype.__name__)
    for method in (hosvd, st_hosvd):
        core, factors = method(X, (4, 3, 5), svd=svd, rng=0)
        assert core.dtype == dtype and all(U.dtype == dtype for U in factors)
        assert core.shape == (4, 3, 5)
        for U in factors:
            np.testing.assert_allclose(U.T @ U, np.eye(U.shape[1]), atol=TOL[dtype])
        assert _rel_err2(X.astype(np.float64), core, factors) < TOL[dtype] ** 2 * 100


def test_hosvd_matches_numpy_reference(rng):
    X = rng.standard_normal((8, 9, 10))
    ranks = (3, 4, 2)
    Us = [np.linalg.svd(unfold(X, n))[0][:, :r] for n, r in enumerate(ranks)]
    ref = X
    for n, U in enumerate(Us):
        ref = mode_dot(ref, U @ U.T, n)
    core, factors = hosvd(X, ranks)
    np.testing.assert_allclose(tucker_to_tensor(core, factors), ref, atol=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_hosvd_error_lies_between_the_tail_bounds(seed):
    gen = np.random.default_rng(seed)
    shape = tuple(int(s) for s in gen.integers(3, 9, size=int(gen.integers(3, 5))))
    X = gen.standard_normal(shape) * np.linspace(1, 3, shape[-1])
    ranks = tuple(int(gen.integers(1, s + 1)) for s in shape)
    tails = _tails(X, ranks)
    for method in (hosvd, st_hosvd):
        err = np.linalg.norm(X - tucker_to_tensor(*method(X, ranks))) ** 2
        assert tails.max() * (1 - 1e-10) - 1e-12 <= err <= tails.sum() * (1 + 1e-10) + 1e-12


def test_hooi_improves_on_hosvd_and_matches_tensorly():
    X = la.datasets.tucker_tensor((30, 25, 20), (5, 4, 3), noise=0.3, rng=2)
    ranks = (4, 4, 2)
    res = hooi(X, ranks, tol=1e-12, n_iter_max=200)
    assert res.converged
    errors = np.array(res.history["error"])
    assert np.all(np.diff(errors) <= 1e-12)  # HOOI never increases the error
    assert errors[-1] ** 2 <= _rel_err2(X, *hosvd(X, ranks)) + 1e-12
    assert abs(errors[-1] ** 2 - _rel_err2(X, res.core, res.factors)) < 1e-10
    tucker = pytest.importorskip("tensorly.decomposition").tucker  # a peer, in the bench extra
    core, factors = tucker(X, ranks, init="svd", n_iter_max=200, tol=1e-12)
    assert abs(errors[-1] ** 2 - _rel_err2(X, core, factors)) < 1e-6 * errors[-1] ** 2


def test_hooi_random_init_is_seeded_and_runs_fixed_sweeps():
    X = la.datasets.tucker_tensor((15, 14, 13), (3, 3, 3), noise=0.2, rng=3)
    a = hooi(X, (2, 3, 2), init="random", n_iter_max=5, tol=0, rng=7)
    b = hooi(X, (2, 3, 2), init="random", n_iter_max=5, tol=0, rng=7)
    assert a.n_iter == 5 and a.converged
    np.testing.assert_array_equal(a.core, b.core)


def test_hooi_warns_when_tol_is_not_met():
    X = la.datasets.tucker_tensor((15, 14, 13), (3, 3, 3), noise=0.5, rng=3)
    with pytest.warns(ConvergenceWarning, match="tol"):
        res = hooi(X, (2, 2, 2), init="random", n_iter_max=2, tol=1e-15, rng=0)
    assert not res.converged


def test_float32_stays_float32_and_input_untouched():
    X = la.datasets.tucker_tensor((10, 9, 8), (2, 2, 2), noise=0.1, rng=0, dtype="float32")
    before = X.copy()
    res = hooi(X, (2, 2, 2))
    assert res.core.dtype == np.float32 and all(U.dtype == np.float32 for U in res.factors)
    assert mode_product(X, np.ones((3, 9), np.float32), 1).dtype == np.float32
    assert all(v.dtype == np.float32 for v in hosvd_spectrum(X).values)
    np.testing.assert_array_equal(X, before)


def test_every_tucker_function_leaves_its_inputs_untouched():
    X = la.datasets.tucker_tensor((10, 9, 8), (2, 2, 2), noise=0.1, rng=0, dtype="float32")
    before = X.copy()
    for method in (hosvd, st_hosvd):
        core, factors = method(X, (2, 2, 2), svd="gram")
        assert core.dtype == np.float32
    saved = core.copy(), [U.copy() for U in factors]
    M = np.ones((3, 9), np.float32)
    assert tucker_to_tensor(core, factors).dtype == np.float32
    mode_product(X, M, 1)
    fold(unfold(X, 2), 2, X.shape)
    np.testing.assert_array_equal(X, before)
    np.testing.assert_array_equal(M, np.ones((3, 9), np.float32))
    np.testing.assert_array_equal(core, saved[0])
    for U, U0 in zip(factors, saved[1]):
        np.testing.assert_array_equal(U, U0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gram_subspace_matches_the_svd_subspace(dtype):
    # the Gram path (numpy.linalg.eigh of X_(n) X_(n)^T) spans the leading left singular subspace
    X = np.random.default_rng(6).standard_normal((7, 8, 9)).astype(dtype)
    for n, r in enumerate((2, 3, 4)):
        U_gram = hosvd(X, (2, 3, 4), svd="gram").factors[n]
        U_svd = np.linalg.svd(unfold(X, n).astype(np.float64))[0][:, :r]
        assert U_gram.dtype == dtype
        np.testing.assert_allclose(U_gram @ U_gram.T, U_svd @ U_svd.T, atol=100 * TOL[dtype])


def test_integer_input_is_promoted():
    X = np.arange(60).reshape(3, 4, 5)
    assert hosvd(X, (1, 1, 1)).core.dtype == np.float64


def test_generic_backends(xp_dense_backend):
    X = la.datasets.tucker_tensor((10, 9, 8), (3, 2, 2), noise=0.05, rng=0)
    Xb = xp_dense_backend.asarray(X)
    for fn in (lambda A: hosvd(A, (3, 2, 2), svd="gram"), lambda A: st_hosvd(A, (3, 2, 2), svd="svd")):
        core, factors = fn(Xb)
        full = xp_dense_backend.tonumpy(tucker_to_tensor(core, factors))
        core_np, factors_np = fn(X)
        np.testing.assert_allclose(full, tucker_to_tensor(core_np, factors_np), atol=1e-10)
    res = hooi(Xb, (3, 2, 2), n_iter_max=3, tol=0)
    assert abs(res.history["error"][-1] - hooi(X, (3, 2, 2), n_iter_max=3, tol=0).history["error"][-1]) < 1e-10
    M = xp_dense_backend.tonumpy(unfold(Xb, 1))
    np.testing.assert_array_equal(M, unfold(X, 1))


@pytest.mark.parametrize("bad, match", [
    (np.ones(5), "order"),
    (np.full((3, 3, 3), np.nan), "finite"),
    (np.zeros((3, 0, 2)), "non-empty"),
])
def test_bad_tensors_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        hosvd(bad, (1,) * bad.ndim)


def test_bad_ranks_are_refused():
    X = np.ones((3, 4, 5))
    with pytest.raises(ValueError, match="len\\(ranks\\)"):
        hosvd(X, (1, 1, 1, 1))
    with pytest.raises(ValueError, match=r"ranks\[1\]=5"):
        hooi(X, (1, 5, 1))
    with pytest.raises(TypeError, match="ranks"):
        st_hosvd(X, 2)
    with pytest.raises(ValueError, match="permutation"):
        st_hosvd(X, (1, 1, 1), order=(0, 0, 1))
    with pytest.raises(ValueError, match="init"):
        hooi(X, (1, 1, 1), init="nope")
    with pytest.raises(ValueError, match="mode"):
        unfold(X, 3)
    with pytest.raises(ValueError, match="M.shape"):
        mode_product(X, np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="shape"):
        fold(np.ones((3, 4)), 0, (3, 4, 5))
    with pytest.raises(ValueError, match="X must be finite"):
        mode_product(np.full((3, 4), np.inf), np.ones((2, 4)), 1)
    with pytest.raises(ValueError, match="M must be finite"):
        mode_product(X, np.full((2, 4), np.nan), 1)
    with pytest.raises(ValueError, match="M must be 2-D"):
        mode_product(X, np.ones(4), 1)
    with pytest.raises(ValueError, match=r"factors\[1\] must be finite"):
        tucker_to_tensor(np.ones((1, 1)), [np.ones((3, 1)), np.full((4, 1), np.nan)])


def test_st_hosvd_order_does_not_break_the_bound():
    X = np.random.default_rng(5).standard_normal((6, 7, 8))
    ranks = (2, 3, 4)
    bound = _tails(X, ranks).sum()
    for order in itertools.permutations(range(3)):
        core, factors = st_hosvd(X, ranks, order=order)
        assert np.linalg.norm(X - tucker_to_tensor(core, factors)) ** 2 <= bound * (1 + 1e-10)


def test_hooi_quiet_with_tol_zero():
    X = la.datasets.tucker_tensor((8, 8, 8), (2, 2, 2), noise=0.5, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hooi(X, (2, 2, 2), n_iter_max=2, tol=0)


# ---- mutation-testing survivors (tools/mutation_sample.py, issue 22): each test kills one recorded mutant


def test_hooi_refuses_zero_sweeps_by_name():
    X = np.random.default_rng(0).standard_normal((4, 3, 2))
    with pytest.raises(ValueError, match="n_iter_max"):
        hooi(X, (2, 2, 1), n_iter_max=0)


def test_st_hosvd_default_order_is_by_decreasing_compression_ties_in_mode_order():
    X = np.random.default_rng(1).standard_normal((6, 4, 3))
    ranks = (3, 2, 1)  # I_n / R_n = 2, 2, 3: order 2, then the tie 0, 1
    core, factors = st_hosvd(X, ranks)
    core_ref, factors_ref = st_hosvd(X, ranks, order=[2, 0, 1])
    np.testing.assert_array_equal(core, core_ref)
    for U, U_ref in zip(factors, factors_ref):
        np.testing.assert_array_equal(U, U_ref)


def test_hosvd_randomized_rank_above_the_other_modes_product_completes_the_basis():
    X = np.random.default_rng(2).standard_normal((6, 2, 2))
    core, factors = hosvd(X, (5, 2, 2), svd="randomized", rng=0)  # mode-0 unfolding is 6 x 4: rank 5 > 4
    assert factors[0].shape == (6, 5)
    np.testing.assert_allclose(factors[0].T @ factors[0], np.eye(5), atol=1e-12)
    np.testing.assert_allclose(tucker_to_tensor(core, factors), X, atol=1e-10)


def test_hosvd_svd_method_resolves_small_singular_vectors_that_gram_squares_away():
    gen = np.random.default_rng(3)
    U = np.linalg.qr(gen.standard_normal((4, 4)))[0]
    V = np.linalg.qr(gen.standard_normal((8, 4)))[0]
    M = U @ np.diag([1.0, 1e-3, 1e-6, 1e-9]) @ V.T  # the mode-0 unfolding of a (4, 2, 4) tensor
    X = fold(M, 0, (4, 2, 4))
    factor = hosvd(X, (3, 2, 4), svd="svd")[1][0]
    # the thin SVD resolves the third direction to about 1e-10; the Gram matrix (eigenvalue 1e-12) only to ~1e-4
    np.testing.assert_allclose(factor @ factor.T, U[:, :3] @ U[:, :3].T, atol=1e-7)


def test_mode_error_names_the_last_axis_of_a_matrix():
    with pytest.raises(ValueError, match=r"X\.ndim - 1 = 1"):
        unfold(np.ones((2, 3)), 2)
