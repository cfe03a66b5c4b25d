"""TruncatedSVDUpdater's direct update: a dense block wide against the space, one dense SVD of the stacked rows.

Every test runs the same update twice, through the direct update and through the Gram-Schmidt basis of the
residual (``DIRECT_WIDTH = inf``), and checks both against the dense truncated SVD of what the update promises:
the previous approximation plus the (centred) change.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la.svd import _update
from lowrank_la.svd._update import TruncatedSVDUpdater

from .test_update_center import _projector_gap as _gap
from .test_update_center import _svd_k

FORMS = [True, False]  # sparse_path


def _approximation(up):
    return (up.U * up.s) @ up.Vh


def _data(m, n, seed=0, offset=2.0, dtype=np.float64):
    """Full-rank rows around a low-rank part (truncation at work), shifted by `offset` (the means matter)."""
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((m, 8)) @ gen.standard_normal((8, n)) + 0.3 * gen.standard_normal((m, n)) + offset
    return X.astype(dtype)


class _Counter:
    """Counts the direct updates (calls of ``_append_direct``) while installed."""

    def __init__(self, monkeypatch):
        self.calls = 0
        original = TruncatedSVDUpdater._append_direct

        def counted(up, *args, **kwargs):
            self.calls += 1
            return original(up, *args, **kwargs)

        monkeypatch.setattr(TruncatedSVDUpdater, "_append_direct", counted)


def _both(monkeypatch, build, update):
    """The updater after `update` by the direct update and by the residual basis; checks the path taken."""
    counter = _Counter(monkeypatch)
    direct = build()
    update(direct)
    assert counter.calls == 1
    monkeypatch.setattr(_update, "DIRECT_WIDTH", np.inf)
    basis = build()
    update(basis)
    assert counter.calls == 1
    return direct, basis


def _check(up, other, ref, k, tol):
    Ur, sr, Vhr = _svd_k(ref, k)
    for u in (up, other):
        assert np.abs(u.s - sr).max() <= tol * sr[0]
        assert _gap(u.U, Ur) <= tol and _gap(u.Vh.T, Vhr.T) <= tol
        assert np.abs(u.U.T @ u.U - np.eye(k)).max() <= tol and np.abs(u.Vh @ u.Vh.T - np.eye(k)).max() <= tol
    # the same triplets (signs by the library's rule) by both paths
    for a, b in zip(up.result, other.result):
        np.testing.assert_allclose(a, b, rtol=0, atol=tol * max(1.0, float(sr[0])))


# tall stack (QR first: k + s + 1 > 1.1 n) and wide stack (n / 3 <= k + s + 1 < n)
@pytest.mark.parametrize("s", [70, 15])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse_path", FORMS)
def test_direct_rows_are_the_truncated_svd_of_the_approximation_plus_the_change(monkeypatch, s, center,
                                                                                sparse_path):
    k, n = 6, 40
    A = _data(50 + s, n)

    def build():
        up = TruncatedSVDUpdater(A[:50], k, center=center, sparse_path=sparse_path, rng=0)
        up.add_rows(A[50:50 + 5])  # a narrow block first: the residual basis, U'' and V'' away from I
        return up

    def update(up):
        up.add_rows(A[55:])

    direct, basis = _both(monkeypatch, build, update)
    ref_up = build()
    prev, E = _approximation(ref_up), A[55:]
    if center:
        seen = A[:55]
        mu, mu_new = seen.mean(axis=0), A.mean(axis=0)
        ref = np.vstack([prev - (mu_new - mu), E - mu_new])
        np.testing.assert_allclose(direct.mean, mu_new, rtol=1e-13)
    else:
        ref = np.vstack([prev, E])
    _check(direct, basis, ref, k, 1e-10)
    assert direct.shape == (50 + s, n)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse_path", FORMS)
def test_direct_columns_are_the_truncated_svd_of_the_approximation_plus_the_change(monkeypatch, center,
                                                                                   sparse_path):
    k, m, s = 5, 30, 40
    A = _data(m, 25 + s, seed=1)

    def build():
        return TruncatedSVDUpdater(A[:, :25], k, center=center, sparse_path=sparse_path, rng=0)

    def update(up):
        up.add_columns(A[:, 25:])

    direct, basis = _both(monkeypatch, build, update)
    prev, E = _approximation(build()), A[:, 25:]
    ref = np.hstack([prev, E - E.mean(axis=0) if center else E])
    _check(direct, basis, ref, k, 1e-10)
    if center:
        np.testing.assert_allclose(direct.mean, A.mean(axis=0), rtol=1e-13)


def test_direct_float32_stays_float32_and_agrees(monkeypatch):
    k, n = 4, 30
    A = _data(80, n, seed=2, dtype=np.float32)

    def build():
        return TruncatedSVDUpdater(A[:30], k, center=True, rng=0)

    def update(up):
        up.add_rows(A[30:])

    direct, basis = _both(monkeypatch, build, update)
    assert direct.U.dtype == direct.s.dtype == direct.Vh.dtype == np.float32
    prev = _approximation(build()).astype(np.float64)
    A64 = A.astype(np.float64)
    ref = np.vstack([prev - (A64.mean(axis=0) - A64[:30].mean(axis=0)), A64[30:] - A64.mean(axis=0)])
    _check(direct, basis, ref, k, 2e-4)


def test_a_sparse_block_never_takes_the_direct_update(monkeypatch):
    # as wide as any dense block that takes it: sparse input stays on the sparse-aware path, never densified
    counter = _Counter(monkeypatch)
    A = sp.random(200, 30, density=0.2, format="csr", random_state=0)
    up = TruncatedSVDUpdater(A[:40], 5, center=True, rng=0)
    up.add_rows(A[40:])
    assert counter.calls == 0
    up.add_rows(A[40:].toarray())
    assert counter.calls == 1


@pytest.mark.parametrize("method", ["gkl", "rpi"])
def test_the_approximate_methods_keep_their_own_update(monkeypatch, method):
    counter = _Counter(monkeypatch)
    A = _data(100, 20)
    up = TruncatedSVDUpdater(A[:30], 4, method=method, rng=0)
    up.add_rows(A[30:])
    assert counter.calls == 0


def test_direct_update_after_new_columns_keeps_the_spare_rows_and_continues(monkeypatch, tmp_path):
    # add_columns leaves the right factor's buffer with spare capacity; the direct update of rows replaces that
    # factor (its rows are the new G): shape, capacity and later updates stay right, and save / load continue
    # bit-identically
    counter = _Counter(monkeypatch)
    k = 4
    A = _data(120, 40, seed=3)
    up = TruncatedSVDUpdater(A[:30, :20], k, center=True, rng=0)
    up.add_columns(A[:30, 20:21])  # one column: the buffer doubles to 40 rows of capacity
    capacity = up._v.buf.shape[0]
    assert capacity > up._v.count
    up.add_rows(A[30:60, :21])
    assert counter.calls == 1 and up._v.buf.shape[0] == capacity and up.shape == (60, 21)
    up.add_columns(A[:60, 21:40])  # k + 19 + 1 >= 60 / 3: direct as well
    assert counter.calls == 2
    up.save(tmp_path / "state.npz")
    twin = TruncatedSVDUpdater.load(tmp_path / "state.npz")
    up.add_rows(A[60:, :40])
    twin.add_rows(A[60:, :40])
    assert counter.calls == 4  # one more direct update for each
    for a, b in zip(up.result, twin.result):
        assert np.array_equal(a, b)
    np.testing.assert_allclose(up.mean, A[:, :40].mean(axis=0), rtol=1e-13)
    assert np.abs(up.U.T @ up.U - np.eye(k)).max() < 1e-12


def test_a_rank_deficient_block_is_exact(monkeypatch):
    # repeated rows and a zero row: the stack is rank deficient, the reflectors of its QR still exact
    k, n = 3, 12
    base = _data(10, n, seed=4, offset=0.0)
    E = np.vstack([base[:2]] * 10 + [np.zeros((1, n))])

    def build():
        return TruncatedSVDUpdater(base, k, rng=0)

    def update(up):
        up.add_rows(E)

    direct, basis = _both(monkeypatch, build, update)
    _check(direct, basis, np.vstack([_approximation(build()), E]), k, 1e-10)


@pytest.mark.parametrize("shape", [(60, 20), (20, 60)])  # the tall (QR, ormqr) path and the other
def test_svd_top_is_the_lapack_svd_on_one_blas_thread_when_small(monkeypatch, shape):
    from lowrank_la.svd import _update

    entered = []
    real = _update.one_blas_thread
    monkeypatch.setattr(_update, "one_blas_thread", lambda: entered.append(1) or real())
    M = np.random.default_rng(0).standard_normal(shape)
    F, theta, Gh = _update._svd_top(np.array(M, order="F"), 5)
    U, s, Vh = np.linalg.svd(M, full_matrices=False)
    np.testing.assert_allclose(theta, s[:5], rtol=1e-13)
    np.testing.assert_allclose(np.abs(F.T @ U[:, :5]), np.eye(5), atol=1e-12)
    np.testing.assert_allclose(np.abs(Gh @ Vh[:5].T), np.eye(5), atol=1e-12)
    assert entered == [1]
    monkeypatch.setattr(_update, "_SVD_TOP_ONE_THREAD", M.size)  # above it: all threads
    _update._svd_top(np.array(M, order="F"), 5)
    assert entered == [1]


def test_svd_top_falls_back_to_gesvd_where_gesdd_fails(monkeypatch):
    import scipy.linalg

    from lowrank_la.svd import _update

    real = scipy.linalg.svd
    drivers = []

    def failing_gesdd(*args, lapack_driver="gesdd", **kwargs):
        drivers.append(lapack_driver)
        if lapack_driver == "gesdd":
            raise np.linalg.LinAlgError("SVD did not converge")
        return real(*args, lapack_driver=lapack_driver, **kwargs)

    monkeypatch.setattr(scipy.linalg, "svd", failing_gesdd)
    M = np.random.default_rng(1).standard_normal((50, 12))
    F, theta, Gh = _update._svd_top(np.array(M, order="F"), 4)
    assert drivers == ["gesdd", "gesvd"]
    np.testing.assert_allclose(theta, np.linalg.svd(M, compute_uv=False)[:4], rtol=1e-13)
    np.testing.assert_allclose((F * theta) @ Gh, M @ Gh.T @ Gh, atol=1e-12)
