"""Issue 15, tensor part: scale invariance (item 6), fold/unfold validation (7), one Tucker result type and
integral float budgets (14), the input rule and rng= (16)."""

import pickle
import warnings

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la._backend import ConvergenceWarning
from lowrank_la.tensor import (
    TuckerResult,
    _tucker,
    core_shape_path,
    core_shape_search,
    fold,
    hooi,
    hosvd,
    hosvd_spectrum,
    mode_product,
    rre_greedy,
    st_hosvd,
    tt_rank_search,
    tt_spectrum,
    tt_svd,
    tt_to_tensor,
    tucker_to_tensor,
    unfold,
)

RANKS = (3, 2, 2)


@pytest.fixture(scope="module")
def X():
    """A small Tucker tensor plus noise, scaled to unit Frobenius norm (so that 1e154^2 ||X||^2 is representable)."""
    T = la.datasets.tucker_tensor((8, 7, 6), RANKS, noise=0.05, rng=0)
    return T / np.linalg.norm(T)


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --------------------------------------------------------------------------- item 6: scale invariance

LINEAR = {
    "hosvd": lambda A: tucker_to_tensor(hosvd(A, RANKS, svd="gram")),
    "hosvd_svd": lambda A: tucker_to_tensor(hosvd(A, RANKS, svd="svd")),
    "st_hosvd": lambda A: tucker_to_tensor(st_hosvd(A, RANKS)),
    "hooi": lambda A: tucker_to_tensor(hooi(A, RANKS, n_iter_max=3, tol=0)),
    "hooi_random": lambda A: tucker_to_tensor(hooi(A, RANKS, init="random", n_iter_max=3, tol=0, rng=1)),
    "tt_svd": lambda A: tt_to_tensor(tt_svd(A, (3, 2))),
    "unfold": lambda A: unfold(A, 1),
    "fold": lambda A: fold(unfold(A, 2), 2, A.shape),
    "mode_product": lambda A: mode_product(A, np.ones((2, 7)), 1),
    "tucker_to_tensor": lambda A: tucker_to_tensor(A[:3, :2, :2], [np.eye(8, 3), np.eye(7, 2), np.eye(6, 2)]),
}


@pytest.mark.parametrize("c", [1e-300, 2.0**-1030, 1e154, 1e300])
@pytest.mark.parametrize("name", list(LINEAR))
def test_item6_linear_outputs_scale_with_the_input(X, name, c):
    # hosvd/st_hosvd/hooi/tt_svd went through Gram matrices: at 1e-300 relative error 0.66-0.98, at 1e154 and
    # 1e300 "Eigenvalues did not converge"
    f = LINEAR[name]
    got = f(c * X)
    assert np.all(np.isfinite(got))
    assert _rel(got / c, f(X)) < 1e-6


@pytest.mark.parametrize("c", [2.0**-500, 2.0**500, 1e154])
@pytest.mark.parametrize("fn", [lambda A: hosvd_spectrum(A), lambda A: hosvd_spectrum(A, method="svd"),
                                lambda A: tt_spectrum(A)], ids=["hosvd_spectrum", "hosvd_spectrum_svd", "tt"])
def test_item6_spectra_scale_with_the_square_where_representable(X, fn, c):
    ref, got = fn(X), fn(c * X)
    assert got.norm_sq == pytest.approx(c * c * ref.norm_sq, rel=1e-12)
    for v, v0 in zip(got.values, ref.values):
        np.testing.assert_allclose(v / (c * c), v0, rtol=1e-6, atol=1e-12 * ref.norm_sq)


SQUARED = {
    "hosvd_spectrum": lambda A: hosvd_spectrum(A),
    "tt_spectrum": lambda A: tt_spectrum(A),
    "core_shape_search": lambda A: core_shape_search(A, 60),
    "core_shape_path": lambda A: core_shape_path(A, [40, 60]),
    "rre_greedy": lambda A: rre_greedy(A, 60),
    "tt_rank_search": lambda A: tt_rank_search(A, 60),
}


@pytest.mark.parametrize("c", [1e-300, 2.0**-1030, 1e300])
@pytest.mark.parametrize("name", list(SQUARED))
def test_item6_squared_outputs_are_refused_when_not_representable(X, name, c):
    # squared singular values of a tensor at 1e+-300 do not fit a float64; they were 0 or a LinAlgError
    with pytest.raises(ValueError, match=rf"{name} works with squared singular values, and \|\|X\|\|_F\^2 = 2\*\*"):
        SQUARED[name](c * X)


@pytest.mark.parametrize("c", [2.0**-500, 2.0**500])
def test_item6_searches_are_scale_invariant(X, c):
    for fn in (lambda A: core_shape_search(A, 60), lambda A: rre_greedy(A, 60), lambda A: tt_rank_search(A, 60)):
        ref, got = fn(X), fn(c * X)
        assert got.ranks == ref.ranks
        assert got.norm_sq == pytest.approx(c * c * ref.norm_sq, rel=1e-12)
        assert got.surrogate_tail == pytest.approx(c * c * ref.surrogate_tail, rel=1e-6, abs=1e-12 * got.norm_sq)
    assert [r.ranks for r in core_shape_path(c * X, [40, 60])] == [r.ranks for r in core_shape_path(X, [40, 60])]


@pytest.mark.parametrize("c", [2.0**-100, 2.0**100])
def test_item6_float32_tensors_far_from_unit_scale(X, c):
    # the float32 Gram matrix overflows at max |X| ~ 2**64 and flushes to zero at 2**-63
    X32 = X.astype(np.float32)
    res = hosvd(c * X32, RANKS)
    assert res.core.dtype == np.float32
    assert _rel(tucker_to_tensor(res) / c, tucker_to_tensor(hosvd(X32, RANKS))) < 1e-4
    # the searches work on a float64 spectrum: float32 tensors are searched at any scale
    assert core_shape_search(c * X32, 60).ranks == core_shape_search(X32, 60).ranks
    with pytest.raises(ValueError, match="normal range of float32"):
        hosvd_spectrum(c * X32)


def test_item6_the_input_is_not_scaled_in_place(X):
    big = 1e300 * X
    before = big.copy()
    hooi(big, RANKS, n_iter_max=2, tol=0)
    tt_svd(big, (2, 2))
    np.testing.assert_array_equal(big, before)


def test_item6_hooi_breakdown_warns_and_is_not_converged(X, monkeypatch):
    real = _tucker._leading_left_vectors
    calls = []

    def poisoned(M, r, method, gen, xp):
        calls.append(1)
        U = real(M, r, method, gen, xp)
        return U * np.nan if len(calls) == 6 else U  # the HOSVD start (3 calls), then the sweep's last mode

    monkeypatch.setattr(_tucker, "_leading_left_vectors", poisoned)
    with pytest.warns(ConvergenceWarning, match="NaN or Inf"):
        res = hooi(X, RANKS)
    assert res.converged is False and res.n_iter == 0


# --------------------------------------------------------------------------- item 7: fold / unfold

@pytest.mark.parametrize("bad, error, match", [
    (np.full((3, 4, 5), np.nan), ValueError, "X must be finite"),
    (np.ones(5), ValueError, r"X must have order \(ndim\) >= 2"),
    (np.zeros((3, 0, 2)), ValueError, "X must be non-empty"),
    (np.array([[["a"]]], dtype=object), TypeError, "X must hold numbers"),
    (np.array([[["a"]]]), TypeError, "X must hold numbers"),
])
def test_item7_unfold_refuses_bad_tensors(bad, error, match):
    with pytest.raises(error, match=match):
        unfold(bad, 0)


def test_item7_fold_refuses_bad_unfoldings():
    with pytest.raises(ValueError, match="M must be finite"):
        fold(np.full((3, 20), np.inf), 0, (3, 4, 5))
    with pytest.raises(ValueError, match="M must be 2-D"):
        fold(np.ones(60), 0, (3, 4, 5))
    with pytest.raises(TypeError, match="M must hold numbers"):
        fold(np.full((3, 20), None), 0, (3, 4, 5))
    with pytest.raises(ValueError, match="M must be non-empty"):
        fold(np.ones((3, 0)), 0, (3, 4, 5))
    with pytest.raises(ValueError, match=r"shape=\(5,\) must have at least 2 modes"):
        fold(np.ones((5, 1)), 0, (5,))


def test_item7_fold_and_unfold_take_lists():
    X = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unfold(X.tolist(), 1), unfold(X, 1))
    np.testing.assert_array_equal(fold(unfold(X, 1).tolist(), 1, np.array(X.shape)), X)


# --------------------------------------------------------------------------- item 14: result types, budgets

def test_item14_every_tucker_routine_returns_a_tucker_result(X):
    results = [hosvd(X, RANKS), st_hosvd(X, RANKS), hooi(X, RANKS)]
    for res in results:
        assert type(res) is TuckerResult
        core, factors = res
        assert core.shape == RANKS and [U.shape[1] for U in factors] == list(RANKS)
        np.testing.assert_array_equal(tucker_to_tensor(res), tucker_to_tensor(core, factors))
    res = results[2]
    assert res.converged and res.n_iter == len(res.history["error"]) >= 1
    assert res.core is res[0] and res.factors is res[1]


def test_item14_tucker_result_keeps_its_attributes():
    res = hooi(la.datasets.tucker_tensor((6, 5, 4), (2, 2, 2), noise=0.1, rng=1), (2, 2, 2), tol=0, n_iter_max=2)
    again = pickle.loads(pickle.dumps(res))
    assert again.n_iter == 2 and again.converged and again.history == res.history
    np.testing.assert_array_equal(again.core, res.core)
    replaced = res._replace(core=2 * res.core)
    assert replaced.n_iter == 2 and replaced.history is res.history
    text = repr(res)
    assert text.startswith("TuckerResult(core=<array (2, 2, 2) float64>, factors=[<array (6, 2)>")
    assert "converged=True, n_iter=2, history={'error': <2 values>}" in text


def test_item14_tucker_to_tensor_refuses_a_lone_core():
    with pytest.raises(TypeError, match="tucker_to_tensor\\(\\) needs factors"):
        tucker_to_tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match="factors must be a sequence"):
        tucker_to_tensor(np.ones((2, 2)), np.ones((3, 2)))


def test_item14_integral_float_budgets_are_accepted(X):
    assert core_shape_search(X, 6e1).ranks == core_shape_search(X, 60).ranks
    assert core_shape_search(X, np.float64(60)).budget == 60
    assert [r.budget for r in core_shape_path(X, [4e1, 6e1])] == [40, 60]
    assert tt_rank_search(X, 6e1).ranks == tt_rank_search(X, 60).ranks
    for fn in (lambda b: core_shape_search(X, b), lambda b: core_shape_path(X, [b]), lambda b: rre_greedy(X, b),
               lambda b: tt_rank_search(X, b)):
        with pytest.raises(TypeError, match="budget must be a whole number .* got 60.5"):
            fn(60.5)
        with pytest.raises(TypeError, match="budget must be a whole number .* got inf"):
            fn(float("inf"))


def test_item14_repr_shows_no_meaningless_nan(X):
    for method in ("auto", "milp", "greedy"):
        res = core_shape_search(X, 60, method=method)
        assert res.rre is None and "nan" not in repr(res)
    assert rre_greedy(X, 60).rre >= 0
    assert "nan" not in repr(tt_rank_search(X, 60))


# --------------------------------------------------------------------------- item 16: the input rule, rng=

def test_item16_lists_and_dataframes_are_read_by_the_input_rule(X):
    pd = pytest.importorskip("pandas")
    ref = tucker_to_tensor(hosvd(X, RANKS))
    np.testing.assert_allclose(tucker_to_tensor(hosvd(X.tolist(), RANKS)), ref, atol=1e-12)
    M = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(mode_product(X[:, :4, :], pd.DataFrame(M), 1), mode_product(X[:, :4, :], M, 1))
    np.testing.assert_array_equal(fold(pd.DataFrame(unfold(X, 0)), 0, X.shape), X)
    res = hosvd(X, RANKS)
    np.testing.assert_allclose(tucker_to_tensor(res.core.tolist(), [U.tolist() for U in res.factors]), ref)
    cores = tt_svd(X, (3, 2))
    np.testing.assert_allclose(tt_to_tensor([G.tolist() for G in cores]), tt_to_tensor(cores))


@pytest.mark.parametrize("call, name", [
    (lambda bad: hosvd(bad, (1, 1, 1)), "X"),
    (lambda bad: hooi(bad, (1, 1, 1)), "X"),
    (lambda bad: tt_svd(bad, (1, 1)), "X"),
    (lambda bad: hosvd_spectrum(bad), "X"),
    (lambda bad: core_shape_search(bad, 40), "X"),
    (lambda bad: tt_rank_search(bad, 40), "X"),
    (lambda bad: mode_product(np.ones((2, 2, 2)), bad[0], 1), "M"),
    (lambda bad: tucker_to_tensor(np.ones((1, 1, 1)), [bad[0]] * 3), r"factors\[0\]"),
    (lambda bad: tt_to_tensor([bad, np.ones((1, 2, 1))]), r"cores\[0\]"),
])
def test_item16_object_arrays_are_refused_naming_the_argument(call, name):
    bad = np.full((1, 2, 1), "x", dtype=object)
    with pytest.raises(TypeError, match=rf"{name} must hold numbers"):
        call(bad)


def test_item16_sparse_input_is_refused_with_a_pointer():
    import scipy.sparse

    with pytest.raises(TypeError, match="M must be a dense array.*toarray"):
        mode_product(np.ones((2, 3, 2)), scipy.sparse.random(4, 3, density=0.5, format="csr"), 1)


@pytest.mark.parametrize("call", [
    lambda X: hosvd(X, RANKS, random_state=0),
    lambda X: st_hosvd(X, RANKS, random_state=0),
    lambda X: hooi(X, RANKS, random_state=0),
    lambda X: tt_svd(X, (2, 2), random_state=0),
    lambda X: hosvd_spectrum(X, random_state=0),
    lambda X: core_shape_search(X, 60, random_state=0),
    lambda X: core_shape_path(X, [60], random_state=0),
    lambda X: rre_greedy(X, 60, random_state=0),
])
def test_item16_random_state_is_refused_with_a_pointer_to_rng(X, call):
    with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\), not random_state=; pass rng=0"):
        call(X)


def test_item16_inputs_are_untouched_and_float32_kept(X):
    X32 = X.astype(np.float32)
    before = X32.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for res in (hosvd(X32, RANKS), st_hosvd(X32, RANKS), hooi(X32, RANKS, n_iter_max=2, tol=0)):
            assert res.core.dtype == np.float32 and all(U.dtype == np.float32 for U in res.factors)
        assert all(G.dtype == np.float32 for G in tt_svd(X32, (2, 2)))
    np.testing.assert_array_equal(X32, before)


def test_item16_rank_errors_name_the_tensor():
    # a matrix passed where ranks are for a 3-way tensor: the message named len(shape), not the argument X
    M = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"len\(ranks\)=3 must equal the order of the tensor, X.ndim = 2"):
        hosvd(M, (1, 1, 1))
    with pytest.raises(ValueError, match=r"ranks\[1\]=5 must satisfy 1 <= ranks\[1\] <= X.shape\[1\] = 4"):
        hooi(M, (1, 5))
    with pytest.raises(ValueError, match=r"len\(ranks\)=2 must equal the number of bonds, X.ndim - 1 = 1"):
        tt_svd(M, (1, 1))
    with pytest.raises(ValueError, match=r"len\(ranks\)=3 must equal the order of the tensor, len\(shape\) = 2"):
        la.tensor.tucker_size((3, 4), (1, 1, 1))
