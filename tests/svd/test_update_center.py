"""TruncatedSVDUpdater(center=True): the truncated SVD of the column-centred matrix, kept implicitly (issue 16)."""

import json
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._backend import flip_signs
from lowrank_la.svd._update import SVD_UPDATE_METHODS, TruncatedSVDUpdater

FORMS = [True, False]  # sparse_path


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _svd_k(A, k):
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    U, Vh = flip_signs(U[:, :k], Vh[:k])
    return U, s[:k], Vh


def _projector_gap(X, Y):
    """``max |X X^T - Y Y^T|``: the distance of two subspaces, blind to rotations within them."""
    return float(np.abs(X @ X.T - Y @ Y.T).max())


def _offset_sparse(m, n, seed, density=0.2, offset=2.0):
    """A sparse matrix whose stored entries sit around `offset`: its column means are far from zero."""
    gen = np.random.default_rng(seed)
    nnz = int(density * m * n)  # positions drawn with replacement (sp.random takes seconds at 20000 x 3000)
    rows, cols = gen.integers(0, m, nnz), gen.integers(0, n, nnz)
    return sp.csr_array((gen.random(nnz) + offset, (rows, cols)), shape=(m, n))


def _approximation(up):
    return (up.U * up.s) @ up.Vh


def _assert_is_truncated_svd_of(up, ref, k, tol=1e-10):
    Ur, sr, Vhr = _svd_k(ref, k)
    scale = sr[0]
    assert np.abs(up.s - sr).max() <= tol * scale
    assert _projector_gap(up.U, Ur) <= tol
    assert _projector_gap(up.Vh.T, Vhr.T) <= tol


@pytest.mark.parametrize("sparse_input", [True, False])
def test_the_initial_svd_is_the_updater_on_the_explicitly_centred_matrix(sparse_input):
    A = _offset_sparse(60, 40, 1)
    A = A if sparse_input else A.toarray()
    centred = TruncatedSVDUpdater(A, 5, center=True, rng=0)
    explicit = TruncatedSVDUpdater(_dense(A) - _dense(A).mean(axis=0), 5, rng=0)
    for a, b in zip(centred.result, explicit.result):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    np.testing.assert_allclose(centred.mean, _dense(A).mean(axis=0), rtol=1e-14)


@pytest.mark.parametrize("method", SVD_UPDATE_METHODS)
@pytest.mark.parametrize("sparse_path", FORMS)
@pytest.mark.parametrize("sparse_input", [True, False])
def test_each_update_is_the_truncated_svd_of_the_approximation_plus_the_centred_change(method, sparse_path,
                                                                                       sparse_input):
    # the updater's promise (Zha-Simon): the rank-k SVD of (previous approximation + the change of the centred
    # matrix). k = 5 is below the rank, so truncation is at work; with l >= s + 1 GKL and RPI span the whole
    # residual and reduce to Zha-Simon
    k = 5
    A = _offset_sparse(70, 40, 1)
    wrap = (lambda X: X) if sparse_input else _dense
    up = TruncatedSVDUpdater(wrap(A[:40]), k, center=True, method=method, sparse_path=sparse_path, l=40, rng=0)
    rows_seen = _dense(A[:40])
    for lo, hi in ((40, 52), (52, 70)):
        prev, E = _approximation(up), _dense(A[lo:hi])
        mu, mu_new = rows_seen.mean(axis=0), np.vstack([rows_seen, E]).mean(axis=0)
        up.add_rows(wrap(A[lo:hi]))
        rows_seen = np.vstack([rows_seen, E])
        _assert_is_truncated_svd_of(up, np.vstack([prev - (mu_new - mu), E - mu_new]), k)
        np.testing.assert_allclose(up.mean, rows_seen.mean(axis=0), rtol=1e-13, atol=1e-15)
    prev, E = _approximation(up), _offset_sparse(70, 6, 2, offset=-1.5)
    up.add_columns(wrap(E))
    _assert_is_truncated_svd_of(up, np.hstack([prev, _dense(E) - _dense(E).mean(axis=0)]), k)
    prev = _approximation(up)
    D, F = _offset_sparse(70, 2, 3, density=0.3), np.random.default_rng(4).standard_normal((46, 2))
    up.update_low_rank(wrap(D), F)
    Dd = _dense(D)
    _assert_is_truncated_svd_of(up, prev + (Dd - Dd.mean(axis=0)) @ F.T, k)
    uncentred = np.hstack([rows_seen, _dense(E)]) + Dd @ F.T
    np.testing.assert_allclose(up.mean, uncentred.mean(axis=0), rtol=1e-12, atol=1e-14)
    assert up.shape == (70, 46) and up.n_updates == 4


@pytest.mark.parametrize("sparse_path", FORMS)
def test_a_stream_of_exactly_low_rank_centred_data_is_the_exact_centred_svd(sparse_path):
    # rank 3 plus a column offset: the centred matrix has rank 3 = k at every step, so nothing is truncated and
    # the updater holds the exact SVD of the explicitly centred matrix (same sign rule)
    gen = np.random.default_rng(5)
    G, H = gen.standard_normal((90, 3)), gen.standard_normal((3, 30))
    offset = gen.uniform(-4, 4, 40)
    full = np.hstack([G @ H, G @ gen.standard_normal((3, 10))]) + offset
    up = TruncatedSVDUpdater(full[:50, :30], 3, center=True, sparse_path=sparse_path, rng=0)
    up.add_rows(sp.csr_array(full[50:70, :30]))
    up.add_rows(full[70:, :30])
    up.add_columns(full[:, 30:])
    U, s, Vh = _svd_k(full - full.mean(axis=0), 3)
    np.testing.assert_allclose(up.s, s, rtol=1e-12)
    np.testing.assert_allclose(up.U, U, rtol=0, atol=1e-10)
    np.testing.assert_allclose(up.Vh, Vh, rtol=0, atol=1e-10)
    assert np.abs(up.U.sum(axis=0)).max() < 1e-10  # the centred columns' left singular vectors are orthogonal to 1


@pytest.mark.parametrize("sparse_path", FORMS)
def test_new_columns_match_the_updater_on_explicitly_centred_columns(sparse_path):
    # centring new columns by their own means is the same math as appending the centred columns: same seed,
    # same result, with truncation at work (k = 4 < rank)
    A, E = _offset_sparse(50, 30, 6), _offset_sparse(50, 8, 7)
    Ad, Ed = A.toarray(), E.toarray()
    centred = TruncatedSVDUpdater(A, 4, center=True, sparse_path=sparse_path, rng=0)
    explicit = TruncatedSVDUpdater(Ad - Ad.mean(axis=0), 4, sparse_path=sparse_path, rng=0)
    centred.add_columns(E)
    explicit.add_columns(Ed - Ed.mean(axis=0))
    for a, b in zip(centred.result, explicit.result):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    np.testing.assert_allclose(centred.mean, np.hstack([Ad, Ed]).mean(axis=0), rtol=1e-14)


def test_float32_stays_float32_and_inputs_are_untouched():
    A = _offset_sparse(40, 20, 8).astype(np.float32)
    E = _offset_sparse(5, 20, 9).astype(np.float32)
    before = (A.data.copy(), E.data.copy(), E.indices.copy())
    up = TruncatedSVDUpdater(A, 4, center=True, rng=0)
    up.add_rows(E)
    up.add_columns(np.ones((45, 2), dtype=np.float32))
    assert up.U.dtype == up.s.dtype == up.Vh.dtype == up.mean.dtype == np.float32
    assert np.array_equal(A.data, before[0]) and np.array_equal(E.data, before[1])
    assert np.array_equal(E.indices, before[2])
    ref = np.vstack([A.toarray(), E.toarray()]).astype(np.float64)
    np.testing.assert_allclose(up.mean[:20], ref.mean(axis=0), rtol=1e-5)
    assert not up.mean.flags.writeable


def test_centred_sparse_updates_use_memory_linear_in_m_plus_n():
    # the centred matrix is dense; it must never be formed: peak memory of an update is O((m + n) k) beyond the
    # input (here 20000 x 3000 would be 480 MB dense; the bound below is under 6 MB)
    m, n, k, s = 20000, 3000, 10, 40
    A = _offset_sparse(m, n, 10, density=0.001, offset=1.0)
    E, F = _offset_sparse(s, n, 11, density=0.002, offset=1.0), _offset_sparse(m + 2 * s, 5, 12, density=0.002)
    for method in ("zha-simon", "gkl"):
        up = TruncatedSVDUpdater(A, k, center=True, method=method, rng=0)
        up.add_rows(E)  # the first append doubles the row buffer of U'; measure the steady state
        tracemalloc.start()
        try:
            up.add_rows(E)
            up.add_columns(F)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 3 * 8 * (m + n) * (k + s), (method, peak)


def test_save_load_continues_bit_identically(tmp_path):
    A = _offset_sparse(60, 25, 13)
    up = TruncatedSVDUpdater(A[:40], 4, center=True, method="rpi", l=3, rng=1)
    up.add_rows(A[40:50])
    up.save(tmp_path / "c.npz")
    twin = TruncatedSVDUpdater.load(tmp_path / "c.npz")
    assert twin.center and np.array_equal(twin.mean, up.mean)
    for obj in (up, twin):
        obj.add_rows(A[50:])
        obj.add_columns(_offset_sparse(60, 3, 14))
    for a, b in zip(up.result, twin.result):
        assert np.array_equal(a, b)
    assert np.array_equal(up.mean, twin.mean)


def test_a_version_1_file_loads_as_an_uncentred_updater(tmp_path):
    A = np.random.default_rng(2).standard_normal((30, 12))
    up = TruncatedSVDUpdater(A[:20], 3, rng=0)
    up.save(tmp_path / "v2.npz")
    with np.load(tmp_path / "v2.npz") as f:
        arrays = {key: f[key] for key in f.files}
    config = json.loads(str(arrays.pop("config")))
    assert config.pop("center") is False
    config["version"] = 1
    with open(tmp_path / "v1.npz", "wb") as fh:
        np.savez(fh, **arrays, config=np.array(json.dumps(config)))
    old = TruncatedSVDUpdater.load(tmp_path / "v1.npz")
    assert not old.center and old.mean is None
    old.add_rows(A[20:])
    up.add_rows(A[20:])
    assert np.array_equal(old.U, up.U) and np.array_equal(old.s, up.s)
    with np.load(tmp_path / "v2.npz") as f:  # a centred state without its means is refused, naming the field
        arrays = {key: f[key] for key in f.files}
    config = json.loads(str(arrays.pop("config")))
    config["center"] = True
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, **arrays, config=np.array(json.dumps(config)))
    with pytest.raises(ValueError, match="bad.npz: field 'mean' is missing"):
        TruncatedSVDUpdater.load(tmp_path / "bad.npz")


def test_bad_input_is_refused_naming_the_argument():
    A = _offset_sparse(30, 12, 15)
    with pytest.raises(ValueError, match="center='yes' must be one of False, True"):
        TruncatedSVDUpdater(A, 3, center="yes")
    U, s, Vh = np.linalg.svd(A.toarray(), full_matrices=False)
    with pytest.raises(ValueError, match="center=True needs A0"):
        TruncatedSVDUpdater(U=U[:, :3], s=s[:3], Vh=Vh[:3], center=True)
    up = TruncatedSVDUpdater(A, 3, center=True, rng=0)
    state = (up.U.copy(), up.s.copy(), up.mean.copy(), up.shape)
    bad = np.ones((2, 12))
    bad[0, 0] = np.nan
    for call, match in ((lambda: up.add_rows(np.ones((2, 11))), r"E.shape\[1\]=11"),
                        (lambda: up.add_rows(bad), "E must be finite"),
                        (lambda: up.add_columns(np.ones((29, 2))), r"E.shape\[0\]=29"),
                        (lambda: up.update_low_rank(np.ones((30, 2)), np.ones((12, 1))), r"E.shape\[1\]=1")):
        with pytest.raises(ValueError, match=match):
            call()
    assert up.shape == state[3] and np.array_equal(up.s, state[1]) and np.array_equal(up.mean, state[2])
    assert np.array_equal(up.U, state[0])
    assert "center=True" in repr(up)


@pytest.mark.parametrize("sparse_path", FORMS)
def test_folds_and_a_full_column_rank_state(sparse_path):
    # k = n: mu and the ones vector lie in the current factors (no new basis vector); cond_limit = 1 folds
    # U'' and V'' at every update (sparse-aware form): the centred SVD stays exact
    gen = np.random.default_rng(16)
    X, Y = gen.standard_normal((30, 4)) + 2, gen.standard_normal((30, 2)) + 1
    for cond_limit in (1e8, 1.0):
        up = TruncatedSVDUpdater(X[:20], 4, center=True, cond_limit=cond_limit, sparse_path=sparse_path, rng=0)
        up.add_rows(X[20:])
        np.testing.assert_allclose(up.s, np.linalg.svd(X - X.mean(axis=0), compute_uv=False), rtol=1e-12)
        prev = _approximation(up)
        up.add_columns(Y)
        _assert_is_truncated_svd_of(up, np.hstack([prev, Y - Y.mean(axis=0)]), 4)
        assert (up.n_folds > 0) == (sparse_path and cond_limit == 1.0)
