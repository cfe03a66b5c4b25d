"""TruncatedSVDUpdater and svd_update: known answers against dense LAPACK, invariants, save/load, bad input."""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from lowrank_la.svd._update import SVD_UPDATE_METHODS, TruncatedSVDUpdater, svd_update

FORMS = [True, False]  # sparse_path


def _svd_k(A, k):
    U, s, Vh = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vh[:k]


def _low_rank_start(rng, m, n, k, dtype=np.float64):
    A = rng.standard_normal((m, n)).astype(dtype)
    return A, _svd_k(A, k)


def _dense(E):
    return E.toarray() if sp.issparse(E) else np.asarray(E)


def _max_angle(X, Y):
    """Largest principal angle between the column spaces of X and Y."""
    return float(np.max(scipy.linalg.subspace_angles(X, Y)))


def _state(up):
    """Everything an update could touch, as copies."""
    return (up._u.buf[: up._u.count].copy(), up._u.K.copy(), up._u.count, up._v.buf[: up._v.count].copy(),
            up._v.K.copy(), up._v.count, up._s.copy(), up.n_updates, up._gen.bit_generator.state)


def _same_state(a, b):
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            if x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize("sparse_path", FORMS)
@pytest.mark.parametrize("sparse_update", [True, False])
def test_one_zha_simon_update_is_the_dense_truncated_svd(rng, sparse_path, sparse_update):
    m, n, k, s = 60, 50, 5, 3
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    E = sp.random(s, n, density=0.1, format="csr", random_state=1)
    E = E if sparse_update else E.toarray()
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, sparse_path=sparse_path)
    up.add_rows(E)
    Ur, sr, Vhr = _svd_k(np.vstack([(U * S) @ Vh, _dense(E)]), k)
    np.testing.assert_allclose(up.s, sr, rtol=1e-12)
    assert _max_angle(up.U, Ur) < 1e-10
    assert _max_angle(up.Vh.T, Vhr.T) < 1e-10
    assert np.abs(up.U.T @ up.U - np.eye(k)).max() < 1e-13
    assert up.shape == (m + s, n)


@pytest.mark.parametrize("sparse_path", FORMS)
@pytest.mark.parametrize("sparse_update", [True, False])
def test_a_batch_wider_than_its_space_takes_the_short_gram_and_stays_exact(rng, sparse_path, sparse_update,
                                                                          monkeypatch):
    # 40 new rows in R^12 (and, sparse, touching 10 of the 12 columns): the residual basis from the 12 x 12 (10 x
    # 10) Gram matrix M M^T instead of the 40 x 40 one; the update is still the dense truncated SVD of the stack
    m, n, k, s = 30, 12, 4, 40
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    E = sp.hstack([sp.random(s, 10, density=0.36, random_state=2), sp.csr_matrix((s, 2))], format="csr")
    E = E if sparse_update else E.toarray()
    from lowrank_la.svd import _update

    calls = []
    factor = _update._Space.gram_factor

    def counted(space, X):
        M = factor(space, X)
        calls.append(M is not None)
        return M

    monkeypatch.setattr(_update._Space, "gram_factor", counted)
    monkeypatch.setattr(_update, "DIRECT_WIDTH", np.inf)  # a dense batch this wide would take the direct update
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, sparse_path=sparse_path)
    up.add_rows(E)
    assert any(calls)
    # the same update through the s x s Gram matrix
    monkeypatch.setattr(_update._Space, "gram_factor", lambda space, X: None)
    ref = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, sparse_path=sparse_path)
    ref.add_rows(E)
    np.testing.assert_allclose(up.s, ref.s, rtol=1e-12)
    assert _max_angle(up.Vh.T, ref.Vh.T) < 1e-10
    full = np.vstack([(U * S) @ Vh, _dense(E)])
    Ur, sr, Vhr = _svd_k(full, k)
    # Zha-Simon is exact when the old part has rank k: the stack's top k, to rounding
    np.testing.assert_allclose(up.s, sr, rtol=1e-12)
    assert _max_angle(up.U, Ur) < 1e-10 and _max_angle(up.Vh.T, Vhr.T) < 1e-10
    assert np.abs(up.Vh @ up.Vh.T - np.eye(k)).max() < 1e-13


def test_gram_factor_reproduces_the_gram_matrix_of_both_spaces(rng):
    from lowrank_la.svd._update import _Space

    W = np.linalg.qr(rng.standard_normal((12, 4)))[0]
    rows = np.arange(10)  # the touched rows
    K = np.linalg.qr(rng.standard_normal((4, 4)))[0]  # W = buf K with buf = W K^T
    pair = _Space((1, -1), touched=((W @ K.T)[rows], K))
    X = pair.project_out_factor((rng.standard_normal((10, 40)), np.zeros((4, 40))))
    M = pair.gram_factor(X)
    assert M.shape == (10, 40)
    np.testing.assert_allclose(M.T @ M, pair.inner(X, X), atol=1e-12)
    dense = _Space((1,), W=W)
    Xd = dense.project_out_factor((rng.standard_normal((12, 40)),))
    np.testing.assert_allclose(dense.gram_factor(Xd).T @ dense.gram_factor(Xd), dense.inner(Xd, Xd), atol=1e-12)
    assert dense.gram_factor((Xd[0][:, :8],)) is None and pair.gram_factor((X[0][:, :8], X[1][:, :8])) is None


@pytest.mark.parametrize("method", SVD_UPDATE_METHODS)
def test_sparse_and_dense_forms_agree(rng, method):
    m, n, k = 80, 70, 6
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    Es = [sp.random(12, n, density=0.05, format="csr", random_state=i) for i in range(4)]
    results = []
    for sparse_path in FORMS:
        up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, method=method, sparse_path=sparse_path, l=4, rng=3)
        for E in Es:
            up.add_rows(E)
        results.append(up.result)
    (U1, s1, Vh1), (U2, s2, Vh2) = results
    np.testing.assert_allclose(s1, s2, rtol=1e-10)
    np.testing.assert_allclose((U1 * s1) @ Vh1, (U2 * s2) @ Vh2, atol=1e-10 * s1[0])


@pytest.mark.parametrize("method", ["gkl", "rpi"])
@pytest.mark.parametrize("sparse_path", FORMS)
def test_gkl_and_rpi_with_a_full_basis_reduce_to_zha_simon(rng, method, sparse_path):
    m, n, k, s = 50, 40, 4, 5
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    E = rng.standard_normal((s, n))
    exact = svd_update(U, S, Vh, E, method="zha-simon", sparse_path=sparse_path)
    approx = svd_update(U, S, Vh, E, method=method, l=s, sparse_path=sparse_path, rng=0)
    np.testing.assert_allclose(approx.s, exact.s, rtol=1e-12)
    np.testing.assert_allclose(approx.U, exact.U, atol=1e-10)
    np.testing.assert_allclose(approx.Vh, exact.Vh, atol=1e-10)
    # and with a basis smaller than the update they are approximations, not the exact answer
    small = svd_update(U, S, Vh, E, method=method, l=1, sparse_path=sparse_path, rng=0)
    assert np.abs(small.s - exact.s).max() > 1e-6


@pytest.mark.parametrize("sparse_path", FORMS)
def test_add_columns_equals_add_rows_on_the_transpose(rng, sparse_path):
    m, n, k = 40, 55, 5
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    E = sp.random(m, 4, density=0.2, format="csc", random_state=2)
    cols = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, sparse_path=sparse_path, flip_sign=False)
    cols.add_columns(E)
    rows = TruncatedSVDUpdater(U=Vh.T, s=S, Vh=U.T, sparse_path=sparse_path, flip_sign=False)
    rows.add_rows(E.T)
    assert cols.shape == (m, n + 4) and rows.shape == (n + 4, m)
    np.testing.assert_array_equal(cols.s, rows.s)
    np.testing.assert_allclose(cols.U, rows.Vh.T, atol=1e-14)
    np.testing.assert_allclose(cols.Vh, rows.U.T, atol=1e-14)
    Ur, sr, _ = _svd_k(np.hstack([(U * S) @ Vh, E.toarray()]), k)
    np.testing.assert_allclose(cols.s, sr, rtol=1e-12)


@pytest.mark.parametrize("method", SVD_UPDATE_METHODS)
@pytest.mark.parametrize("sparse_path", FORMS)
def test_low_rank_update_is_the_dense_truncated_svd(rng, method, sparse_path):
    m, n, k = 50, 40, 5
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    D = sp.random(m, 2, density=0.1, format="csc", random_state=2)
    E = sp.random(n, 2, density=0.1, format="csc", random_state=3)
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, method=method, sparse_path=sparse_path, l=2, rng=0)
    up.update_low_rank(D, E)
    Ur, sr, Vhr = _svd_k((U * S) @ Vh + D.toarray() @ E.toarray().T, k)
    np.testing.assert_allclose(up.s, sr, rtol=1e-12)
    np.testing.assert_allclose((up.U * up.s) @ up.Vh, (Ur * sr) @ Vhr, atol=1e-12 * sr[0])
    assert up.shape == (m, n)


def test_low_rank_update_with_zero_d_is_a_no_op(rng):
    m, n, k = 30, 20, 4
    _, (U, S, Vh) = _low_rank_start(rng, m, n, k)
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh)
    up.update_low_rank(sp.csc_array((m, 2)), rng.standard_normal((n, 2)))
    np.testing.assert_allclose(up.s, S, rtol=1e-14)
    np.testing.assert_allclose((up.U * up.s) @ up.Vh, (U * S) @ Vh, atol=1e-13)


@pytest.mark.parametrize("sparse_path", FORMS)
def test_an_exactly_rank_k_stream_stays_exact(rng, sparse_path):
    m, n, k = 120, 90, 4
    A = rng.standard_normal((m, k)) @ rng.standard_normal((k, n))
    half = m // 2
    U, S, Vh = _svd_k(A[:half, : n - 10], k)
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, sparse_path=sparse_path)
    up.add_columns(A[:half, n - 10:])
    for start in range(half, m, 15):
        up.add_rows(A[start: start + 15])
        seen = A[: start + 15]
        np.testing.assert_allclose(up.s, np.linalg.svd(seen, compute_uv=False)[:k], rtol=1e-11)
        np.testing.assert_allclose((up.U * up.s) @ up.Vh, seen, atol=1e-11 * up.s[0])


def test_orthonormality_drift_after_1000_sparse_updates():
    m0, n, k = 300, 2000, 16
    A = sp.random(m0, n, density=0.01, format="csr", random_state=0)
    gen = np.random.default_rng(1)
    U, S, Vh = _svd_k(A.toarray(), k)
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, cond_limit=1e8)
    with threadpool_limits(1):  # tiny LAPACK calls: threads only add contention on a shared machine
        for _ in range(1000):
            cols = gen.choice(n, size=4, replace=False)
            E = sp.csr_array((gen.standard_normal(4), (np.zeros(4, int), cols)), shape=(1, n))
            up.add_rows(E)
    errs = up.orthonormality_error()
    assert max(errs) < 1e-8, errs
    assert up.shape == (m0 + 1000, n)


@pytest.mark.parametrize("sparse_path", FORMS)
@pytest.mark.parametrize("method", SVD_UPDATE_METHODS)
def test_nearly_dependent_update_keeps_the_factors_orthonormal(method, sparse_path):
    # 8 new rows that share one direction and differ by 1 down to 1e-7 of it (condition ~1e7), and old singular
    # values so small that every new direction is kept: the factor V' = [V, Q] G is as orthonormal as the basis Q.
    # One Gram-Schmidt pass leaves ~eps cond^2 (1e-5 measured), and V's share of Q grows by cond (1e-10 measured);
    # two passes and the re-projection against V in both forms: ~2e-15.
    gen = np.random.default_rng(0)
    m, n, k, s = 40, 300, 12, 8
    U = np.linalg.qr(gen.standard_normal((m, k)))[0]
    V = np.linalg.qr(gen.standard_normal((n, k)))[0]
    base = gen.standard_normal(n)
    E = np.array([base + 1e-7 ** (j / (s - 1)) * gen.standard_normal(n) for j in range(s)])
    up = TruncatedSVDUpdater(U=U, s=np.full(k, 1e-12), Vh=V.T, method=method, sparse_path=sparse_path, l=s, rng=0)
    up.add_rows(E)
    assert max(up.orthonormality_error()) < 1e-13, up.orthonormality_error()
    if method != "rpi":  # RPI's power steps raise the spectrum to the 7th power: the smallest directions drown
        np.testing.assert_allclose(up.s[:s], np.linalg.svd(E, compute_uv=False), rtol=1e-9)


def test_safeguard_folds_a_singular_small_factor(rng):
    # a new row orthogonal to everything and larger than every singular value makes F[:k] singular
    A = np.zeros((10, 8))
    A[:5, :5] = rng.standard_normal((5, 5))
    U, S, Vh = _svd_k(A, 3)
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh)
    E = np.zeros((1, 8))
    E[0, 7] = 100.0
    up.add_rows(E)
    assert up.n_folds >= 1
    np.testing.assert_allclose(up.s, _svd_k(np.vstack([(U * S) @ Vh, E]), 3)[1], rtol=1e-13)
    assert max(up.orthonormality_error()) < 1e-13


def test_refactor_every_keeps_the_matrix(rng):
    _, (U, S, Vh) = _low_rank_start(rng, 40, 30, 4)
    E = rng.standard_normal((8, 30))
    a = TruncatedSVDUpdater(U=U, s=S, Vh=Vh)
    b = TruncatedSVDUpdater(U=U, s=S, Vh=Vh, refactor_every=2)
    for i in range(0, 8, 2):
        a.add_rows(E[i: i + 2])
        b.add_rows(E[i: i + 2])
    assert b.n_refactorizations == 2 and a.n_refactorizations == 0
    np.testing.assert_allclose((a.U * a.s) @ a.Vh, (b.U * b.s) @ b.Vh, atol=1e-12)
    assert np.array_equal(b._u.K, np.eye(4))


@pytest.mark.parametrize("sparse_path", FORMS)
def test_float32_stays_float32(rng, sparse_path):
    A, _ = _low_rank_start(rng, 60, 40, 5, dtype=np.float32)
    up = TruncatedSVDUpdater(A[:40], 5, sparse_path=sparse_path, rng=0)
    up.add_rows(A[40:])
    up.add_columns(sp.random(60, 3, density=0.2, format="csc", random_state=0, dtype=np.float32))
    assert up.U.dtype == up.s.dtype == up.Vh.dtype == np.float32
    assert up._u.K.dtype == up._v.buf.dtype == np.float32
    assert np.abs(up.U.T @ up.U - np.eye(5)).max() < 1e-5


def test_initial_svd_from_a_matrix_uses_rsvd_and_sorts(rng):
    A = rng.standard_normal((80, 10)) @ rng.standard_normal((10, 60))
    up = TruncatedSVDUpdater(sp.csr_array(A), 10, rng=0)
    np.testing.assert_allclose(up.s, np.linalg.svd(A, compute_uv=False)[:10], rtol=1e-10)
    assert np.all(np.diff(up.s) <= 0)


def test_inputs_are_not_modified(rng):
    _, (U, S, Vh) = _low_rank_start(rng, 30, 25, 4)
    E = sp.random(3, 25, density=0.2, format="csr", random_state=0)
    D = rng.standard_normal((30, 2))
    copies = [U.copy(), S.copy(), Vh.copy(), E.toarray(), E.indices.copy(), D.copy()]
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh)
    up.add_rows(E)
    up.update_low_rank(np.vstack([D, np.zeros((3, 2))]), np.ones((25, 2)))
    for a, b in zip([U, S, Vh, E.toarray(), E.indices, D], copies):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError):
        up.U[0, 0] = 1.0  # the materialised factors are read-only views of the cache


def test_row_factors_match_u(rng):
    A, _ = _low_rank_start(rng, 50, 30, 5)
    up = TruncatedSVDUpdater(A[:40], 5, flip_sign=False, rng=0)
    up.add_rows(sp.csr_array(A[40:]))
    np.testing.assert_allclose(up.row_factors(45), up.U[45], atol=1e-14)
    np.testing.assert_allclose(up.row_factors([0, 49]), up.U[[0, 49]], atol=1e-14)
    with pytest.raises(ValueError, match="i=50"):
        up.row_factors(50)


def test_functional_form_matches_the_updater(rng):
    _, (U, S, Vh) = _low_rank_start(rng, 30, 25, 4)
    E = rng.standard_normal((30, 3))
    res = svd_update(U, S, Vh, E, kind="columns")
    up = TruncatedSVDUpdater(U=U, s=S, Vh=Vh)
    up.add_columns(E)
    np.testing.assert_array_equal(res.s, up.s)
    np.testing.assert_array_equal(res.U, up.U)
    assert res.Vh.shape == (4, 28)


@pytest.mark.parametrize("method", SVD_UPDATE_METHODS)
@pytest.mark.parametrize("sparse_path", FORMS)
def test_save_load_mid_stream_continues_bit_identically(tmp_path, rng, method, sparse_path):
    n = 60
    A = sp.random(200, n, density=0.05, format="csr", random_state=0)
    up = TruncatedSVDUpdater(A[:100], 6, method=method, sparse_path=sparse_path, l=3, rng=7)
    for i in range(100, 150, 10):
        up.add_rows(A[i: i + 10])
    path = tmp_path / "state.npz"
    up.save(path)
    twin = TruncatedSVDUpdater.load(path)
    D = sp.random(150, 2, density=0.05, format="csc", random_state=1)
    for other in (up, twin):
        for i in range(150, 200, 10):
            other.add_rows(A[i: i + 10])
        other.add_columns(sp.random(200, 3, density=0.1, format="csc", random_state=2))
        other.update_low_rank(sp.vstack([D, sp.csc_array((50, 2))]).tocsc(), np.ones((n + 3, 2)))
    assert np.array_equal(up.U, twin.U) and np.array_equal(up.s, twin.s) and np.array_equal(up.Vh, twin.Vh)
    assert (twin.method, twin.sparse_path, twin.n_updates) == (method, sparse_path, up.n_updates)


def _bad_updates(n, m):
    nan = np.ones((2, n))
    nan[1, 3] = np.nan
    return [
        ("add_rows", (np.ones((2, n + 1)),), "E.shape\\[1\\]=.* must equal the current number of columns"),
        ("add_rows", (nan,), "E must be finite"),
        ("add_rows", (np.ones((0, n)),), "E must be non-empty"),
        ("add_rows", (sp.csr_array((0, n)),), "E must be non-empty"),
        ("add_rows", (np.ones(n),), "E must be 2-D"),
        ("add_rows", (np.ones((2, n)) * 1j,), "complex"),
        ("add_columns", (np.ones((m - 1, 2)),), "E.shape\\[0\\]=.* must equal the current number of rows"),
        ("update_low_rank", (np.ones((m, 2)), np.ones((n, 3))), "E.shape\\[1\\]=3 must equal D.shape\\[1\\]"),
        ("update_low_rank", (np.ones((m, 2)), np.ones((n + 2, 2))), "E.shape\\[0\\]"),
        ("update_low_rank", (np.full((m, 2), np.inf), np.ones((n, 2))), "D must be finite"),
    ]


@pytest.mark.parametrize("case", range(10))
@pytest.mark.parametrize("sparse_path", FORMS)
def test_bad_updates_are_refused_and_leave_the_state_unchanged(rng, case, sparse_path):
    m, n = 40, 30
    A, _ = _low_rank_start(rng, m, n, 4)
    up = TruncatedSVDUpdater(A, 4, sparse_path=sparse_path, method="rpi", l=2, rng=0)
    up.add_rows(sp.random(3, n, density=0.2, format="csr", random_state=0))
    U_before = up.U
    before = _state(up)
    name, args, message = _bad_updates(n, m + 3)[case]
    with pytest.raises((ValueError, TypeError), match=message):
        getattr(up, name)(*args)
    assert _same_state(before, _state(up))
    assert up.U is U_before  # the cache was not invalidated either


def test_bad_construction_is_refused(rng):
    A = rng.standard_normal((20, 10))
    U, S, Vh = _svd_k(A, 3)
    with pytest.raises(ValueError, match="k=11 must satisfy 1 <= k <= min\\(m, n\\) = 10"):
        TruncatedSVDUpdater(A, 11)
    with pytest.raises(ValueError, match="A0 must be finite"):
        TruncatedSVDUpdater(np.full((5, 5), np.nan), 2)
    with pytest.raises(ValueError, match="Vh.shape\\[0\\]=2 must equal len\\(s\\) = 3"):
        TruncatedSVDUpdater(U=U, s=S, Vh=Vh[:2])
    with pytest.raises(ValueError, match="s must be non-negative"):
        TruncatedSVDUpdater(U=U, s=-S, Vh=Vh)
    with pytest.raises(ValueError, match="method='lanczos' must be one of"):
        TruncatedSVDUpdater(A, 3, method="lanczos")
    with pytest.raises(ValueError, match="either A0 and k, or U, s and Vh"):
        TruncatedSVDUpdater(A, 3, U=U, s=S, Vh=Vh)
    with pytest.raises(ValueError, match="kind='diagonal' must be one of"):
        svd_update(U, S, Vh, A[:2], kind="diagonal")


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(0, 4), extra_cols=st.integers(-2, 2), nan_at=st.one_of(st.none(), st.integers(0, 50)),
       sparse=st.booleans())
def test_fuzzed_row_updates_are_refused_or_applied_whole(rows, extra_cols, nan_at, sparse):
    n = 12
    gen = np.random.default_rng(0)
    up = TruncatedSVDUpdater(U=np.linalg.qr(gen.standard_normal((15, 3)))[0], s=np.array([3.0, 2.0, 1.0]),
                             Vh=np.linalg.qr(gen.standard_normal((n, 3)))[0].T)
    E = gen.standard_normal((rows, n + extra_cols))
    if nan_at is not None and E.size:
        E.flat[nan_at % E.size] = np.nan
    before = _state(up)
    bad = rows == 0 or extra_cols != 0 or (nan_at is not None and E.size > 0)
    if bad:
        with pytest.raises(ValueError, match="E"):
            up.add_rows(sp.csr_array(E) if sparse else E)
        assert _same_state(before, _state(up))
    else:
        up.add_rows(sp.csr_array(E) if sparse else E)
        assert up.shape == (15 + rows, n) and up.n_updates == 1


def test_operators_are_refused_as_updates(rng):
    from scipy.sparse.linalg import aslinearoperator

    A, _ = _low_rank_start(rng, 20, 10, 2)
    up = TruncatedSVDUpdater(A, 2, rng=0)
    with pytest.raises(TypeError, match="E must be a dense array or a sparse matrix"):
        up.add_rows(aslinearoperator(np.ones((2, 10))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue15_item7_non_orthonormal_factors_are_refused(rng, dtype):
    # U scaled by 2 (or a Vh row pair mixed) was accepted and the update silently returned the factors of another
    # matrix
    A = rng.standard_normal((20, 10))
    U, S, Vh = (a.astype(dtype) for a in _svd_k(A, 3))
    E = rng.standard_normal((2, 10)).astype(dtype)
    with pytest.raises(ValueError, match=r"U must have orthonormal columns: max \|U\^T U - I\| = 3 exceeds"):
        svd_update(2 * U, S, Vh, E)
    mixed = Vh.copy()
    mixed[0] += mixed[1]
    with pytest.raises(ValueError, match=r"Vh must have orthonormal rows: max \|Vh Vh\^T - I\| = 1 exceeds"):
        TruncatedSVDUpdater(U=U, s=S, Vh=mixed)
    with pytest.raises(ValueError, match="s must be finite"):
        svd_update(U, np.array([1.0, np.nan, 0.5], dtype=dtype), Vh, E)


def test_issue15_item7_ascending_s_is_sorted_with_its_factors(rng):
    A = rng.standard_normal((20, 10))
    U, S, Vh = _svd_k(A, 3)
    E = rng.standard_normal((2, 10))
    want = svd_update(U, S, Vh, E)
    got = svd_update(U[:, ::-1], S[::-1], Vh[::-1], E)
    assert np.all(np.diff(got.s) <= 0)
    assert np.allclose(got.s, want.s, rtol=1e-13) and np.allclose((got.U * got.s) @ got.Vh, (want.U * want.s) @ want.Vh)


def test_issue15_item7_generic_path_refuses_non_orthonormal_factors(rng):
    xp = pytest.importorskip("array_api_strict")
    A = rng.standard_normal((20, 10))
    U, S, Vh = _svd_k(A, 3)
    with pytest.raises(ValueError, match="U must have orthonormal columns"):
        svd_update(xp.asarray(2 * U), xp.asarray(S), xp.asarray(Vh), xp.asarray(A[:2]))
    with pytest.raises(ValueError, match="s must be non-negative"):
        svd_update(xp.asarray(U), xp.asarray(-S), xp.asarray(Vh), xp.asarray(A[:2]))


def test_issue15_input_rule_and_random_state(rng):
    A = rng.standard_normal((20, 10))
    U, S, Vh = _svd_k(A, 3)
    got = svd_update(U.tolist(), S.tolist(), Vh.tolist(), A[:2].tolist())
    want = svd_update(U, S, Vh, A[:2])
    assert all(np.array_equal(x, y) for x, y in zip(got, want))
    with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\), not random_state="):
        svd_update(U, S, Vh, A[:2], random_state=0)
    with pytest.raises(TypeError, match=r"takes rng= \(scipy's SPEC 7\), not random_state="):
        TruncatedSVDUpdater(A, 3, random_state=0)
    with pytest.raises(TypeError, match="U must be a dense array"):
        TruncatedSVDUpdater(U=sp.csr_array(U), s=S, Vh=Vh)


@pytest.mark.parametrize("sparse_update", [False, True])
@pytest.mark.parametrize("sparse_path", [True, False])
@pytest.mark.parametrize("c", [1e-300, 1e300, 1e-310])
def test_issue15_scale_invariance_of_the_update(rng, c, sparse_path, sparse_update):
    # the squared norms of the residual columns under/overflowed: the residual basis was dropped and the singular
    # values were 5% off
    A = rng.standard_normal((30, 20))
    U, S, Vh = _svd_k(A[:20], 4)
    E = A[20:] if not sparse_update else sp.csr_array(A[20:] * (np.abs(A[20:]) > 1))
    scaled_E = c * E
    base = svd_update(U, S, Vh, E, sparse_path=sparse_path, method="zha-simon")
    got = svd_update(U, c * S, Vh, scaled_E, sparse_path=sparse_path, method="zha-simon")
    tol = 1e-12 if c != 1e-310 else 1e-8  # subnormal input carries fewer digits
    assert np.max(np.abs(got.s / c - base.s)) <= tol * base.s[0]
    assert np.allclose(np.abs(got.U.T @ base.U), np.eye(4), atol=1e-6)


def test_orthonormality_error_is_the_spectral_norm_of_the_gram_defect():
    gen = np.random.default_rng(3)
    U = np.linalg.qr(gen.standard_normal((40, 4)))[0] + 1e-9 * gen.standard_normal((40, 4))
    V = np.linalg.qr(gen.standard_normal((30, 4)))[0] + 1e-9 * gen.standard_normal((30, 4))
    up = TruncatedSVDUpdater(U=U, s=np.array([4.0, 3.0, 2.0, 1.0]), Vh=V.T)
    expected = [np.linalg.norm(X.T @ X - np.eye(4), 2) for X in (np.asarray(up.U), np.asarray(up.Vh).T)]
    assert min(expected) > 1e-10  # not rounding: the 1-norm or Frobenius norm would differ
    np.testing.assert_allclose(up.orthonormality_error(), expected, rtol=1e-10)
