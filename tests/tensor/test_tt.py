"""Tensor trains: TT-SVD against exact TT tensors and its tail bounds, and the TT-rank search against brute force."""

import itertools

import numpy as np
import pytest

from lowrank_la.tensor import tt_rank_search, tt_size, tt_spectrum, tt_svd, tt_to_tensor


def _tt_tensor(shape, ranks, seed=0, noise=0.0):
    gen = np.random.default_rng(seed)
    full = (1, *ranks, 1)
    X = tt_to_tensor([gen.standard_normal((full[k], shape[k], full[k + 1])) for k in range(len(shape))])
    return X + noise * np.linalg.norm(X) / np.sqrt(X.size) * gen.standard_normal(X.shape)


def _reference(cores):
    out = cores[0]
    for G in cores[1:]:
        out = np.tensordot(out, G, axes=(-1, 0))
    return out[0, ..., 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tt_svd_recovers_an_exact_tensor_train(dtype):
    X = _tt_tensor((6, 5, 4, 3), (2, 3, 2)).astype(dtype)
    cores = tt_svd(X, (2, 3, 2))
    assert [G.shape for G in cores] == [(1, 6, 2), (2, 5, 3), (3, 4, 2), (2, 3, 1)]
    assert all(G.dtype == dtype for G in cores)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(tt_to_tensor(cores), X, atol=tol * np.abs(X).max())
    for G in cores[:-1]:
        Q = G.reshape(-1, G.shape[2])
        np.testing.assert_allclose(Q.T @ Q, np.eye(Q.shape[1]), atol=tol)


def test_tt_to_tensor_matches_tensordot_reference():
    gen = np.random.default_rng(1)
    cores = [gen.standard_normal(s) for s in [(1, 3, 2), (2, 4, 2), (2, 2, 1)]]
    np.testing.assert_allclose(tt_to_tensor(cores), _reference(cores), atol=1e-12)
    assert tt_size((3, 4, 2), (2, 2)) == sum(G.size for G in cores)


@pytest.mark.parametrize("seed", range(3))
def test_tt_svd_error_lies_between_the_tail_bounds(seed):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((5, 6, 4, 3)) ** 3
    spec = tt_spectrum(X, method="svd")
    for ranks in [(1, 1, 1), (2, 3, 2), (4, 5, 3)]:
        tails = np.array([spec.norm_sq - v[:r].sum() for v, r in zip(spec.values, ranks)])
        err = np.linalg.norm(X - tt_to_tensor(tt_svd(X, ranks))) ** 2
        assert tails.max() * (1 - 1e-9) <= err <= tails.sum() * (1 + 1e-9) + 1e-12


def test_tt_spectrum_gram_matches_svd():
    X = _tt_tensor((6, 5, 4), (3, 2), noise=0.1)
    for g, s in zip(tt_spectrum(X).values, tt_spectrum(X, method="svd").values):
        np.testing.assert_allclose(g, s, atol=1e-10 * s.sum())


def test_exact_tt_rank_search_equals_brute_force():
    X = np.random.default_rng(4).standard_normal((5, 6, 4, 3)) ** 3
    spec = tt_spectrum(X)
    for budget in (18, 40, 80, 150, 300):
        best = None
        for r in itertools.product(*[range(1, len(v) + 1) for v in spec.values]):
            size = tt_size(X.shape, r)
            if size <= budget:
                tail = sum(spec.norm_sq - v[:k].sum() for v, k in zip(spec.values, r))
                if best is None or tail < best[0] - 1e-9 * spec.norm_sq:
                    best = (tail, r)
        res = tt_rank_search(spectrum=spec, budget=budget)
        assert res.n_params <= budget
        assert res.surrogate_tail == pytest.approx(best[0], rel=1e-9, abs=1e-9 * spec.norm_sq)
        greedy = tt_rank_search(spectrum=spec, budget=budget, method="greedy")
        assert greedy.n_params <= budget and greedy.surrogate_tail >= res.surrogate_tail - 1e-9 * spec.norm_sq


def test_exact_tt_ranks_are_found_at_their_size():
    X = _tt_tensor((8, 7, 6, 5), (3, 4, 2), seed=2)
    budget = tt_size(X.shape, (3, 4, 2))
    for method in ("exact", "greedy"):
        res = tt_rank_search(X, budget, method=method)
        assert res.ranks == (3, 4, 2) and res.surrogate_tail < 1e-10 * res.norm_sq


def test_tt_functions_leave_their_inputs_untouched_and_keep_float32():
    X = _tt_tensor((6, 5, 4), (2, 3), seed=3, noise=0.1).astype(np.float32)
    before = X.copy()
    cores = tt_svd(X, (2, 3), svd="gram")
    saved = [G.copy() for G in cores]
    assert all(G.dtype == np.float32 for G in cores)
    assert tt_to_tensor(cores).dtype == np.float32
    assert all(v.dtype == np.float32 for v in tt_spectrum(X).values)
    tt_rank_search(X, 60)
    np.testing.assert_array_equal(X, before)
    for G, G0 in zip(cores, saved):
        np.testing.assert_array_equal(G, G0)


def test_tt_bad_input_is_refused():
    X = np.ones((3, 4, 5))
    with pytest.raises(ValueError, match="budget"):
        tt_rank_search(X, 5)
    with pytest.raises(ValueError, match="bonds"):
        tt_svd(X, (1, 1, 1))
    with pytest.raises(ValueError, match=r"ranks\[0\]=4"):
        tt_svd(X, (4, 1))
    with pytest.raises(ValueError, match="finite"):
        tt_svd(np.full((2, 2), np.nan), (1,))
    with pytest.raises(ValueError, match="spectrum"):
        tt_rank_search(None, 100)
    with pytest.raises(ValueError, match="cores"):
        tt_to_tensor([np.ones((1, 2, 3)), np.ones((2, 4, 1))])
    with pytest.raises(ValueError, match=r"cores\[0\] must be finite"):
        tt_to_tensor([np.full((1, 2, 3), np.inf), np.ones((3, 4, 1))])
