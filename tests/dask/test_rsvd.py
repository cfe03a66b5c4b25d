"""rsvd's fused subspace iteration and block Krylov on Dask (a matrix chunked along its long side only): one task per
chunk and step, a TSQR tree of small tasks, no gather, and the NumPy result on the same data within rsvd's accuracy
(the test matrix is drawn per chunk on Dask, so the draws differ: singular values and subspaces are compared)."""

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la.svd import _rsvd, rsvd
from tests.dask_tools import assert_equal_to_rounding, assert_no_gather, chunked

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _matrix(m=800, n=90, dtype=np.float64):
    s = la.datasets.spectrum("exponential", min(m, n), scale=6)
    return la.datasets.matrix_with_spectrum(m, n, s, rng=0, dtype=dtype)


def _n_tasks(*collections):
    return len(dask.base.collections_to_expr(list(collections)).__dask_graph__())


# rows per chunk: 8 chunks, or 50 of 16 rows (a tree of nodes under a root; fewer rows than the sketch width)
@pytest.mark.parametrize(("method", "rows", "wide"), [("subspace", 100, False), ("subspace", 100, True),
                                                      ("subspace", 16, False), ("block_krylov", 100, False),
                                                      ("block_krylov", 100, True), ("block_krylov", 16, False)])
def test_fused_subspace_equals_numpy_without_gather(method, rows, wide, dask_client):
    A = _matrix()
    A = A.T.copy() if wide else A
    before = A.copy()
    D = chunked(A, (90, rows) if wide else (rows, 90))
    res = rsvd(D, 8, n_iter=3, method=method, rng=0)
    assert res.n_passes == 8 and all(isinstance(x, da.Array) for x in res)
    assert_no_gather(*res, source=D)
    U, s, Vh = dask_client.compute(list(res), sync=True)
    ref = rsvd(A, 8, n_iter=3, method=method, rng=0)
    np.testing.assert_allclose(s, ref.s, rtol=1e-8)  # different draws: rsvd's accuracy
    np.testing.assert_allclose(U, ref.U, atol=1e-4)  # the same sign rule
    np.testing.assert_allclose(Vh, ref.Vh, atol=1e-4)
    assert np.allclose(U.T @ U, np.eye(8), atol=1e-13) and np.allclose(Vh @ Vh.T, np.eye(8), atol=1e-13)
    np.testing.assert_array_equal(A, before)


def test_fused_graph_is_small_and_float32_stays():
    A = _matrix(dtype=np.float32)
    D = chunked(A, (100, 90))  # 8 chunks
    tasks = [_n_tasks(*rsvd(D, 5, n_iter=q, rng=1)) for q in (0, 2, 4)]
    # each step adds 8 chunk tasks, their small parts' getitems, a TSQR tree (fewer nodes than chunks) and the next
    # Omega's QR; the rest (draw, lift, sign rule) is fixed
    assert tasks[1] - tasks[0] <= 2 * (3 * 8 + 1) and tasks[2] - tasks[1] <= 2 * (3 * 8 + 1)
    assert tasks[0] <= 20 * 8
    U, s, Vh = dask.compute(*rsvd(D, 5, n_iter=2, rng=1), scheduler="sync")
    assert U.dtype == s.dtype == Vh.dtype == np.float32
    exact = np.linalg.svd(A.astype(np.float64), compute_uv=False)[:5]
    np.testing.assert_allclose(s, exact, rtol=1e-4)


@pytest.mark.parametrize("method", ["subspace", "block_krylov"])
def test_fused_and_general_paths_agree(method, monkeypatch):
    A = _matrix()
    D = chunked(A, (100, 90))
    fused = dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=2), scheduler="sync")
    monkeypatch.setattr(_rsvd, "_fused_dask", lambda prod, normalizer: False)
    general = dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=2), scheduler="sync")
    for a, b in zip(fused, general):  # the same draws: the same result to rounding
        np.testing.assert_allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("method", ["subspace", "block_krylov"])
@pytest.mark.parametrize("wide", [False, True])
def test_fused_sign_rule_in_the_graph(method, wide):
    """The sign rule is applied inside the fused graph (on U, the lifted factor or, for a wide matrix, the small
    one): each column of U has its largest entry at least minus its smallest; ``flip_sign=False`` gives the same
    factors up to those signs; an empty chunk changes nothing."""
    A = _matrix()
    A = A.T.copy() if wide else A
    blocks = (300, 0, 500)
    D = da.from_array(A, chunks=((90,), blocks) if wide else (blocks, (90,)))
    U, s, Vh = dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=4), scheduler="sync")
    assert np.all(U.max(axis=0) >= -U.min(axis=0))
    U0, s0, Vh0 = dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=4, flip_sign=False), scheduler="sync")
    signs = np.sign(np.sum(U * U0, axis=0))
    assert set(signs) <= {-1.0, 1.0}
    np.testing.assert_allclose(U0 * signs, U, atol=1e-12)
    np.testing.assert_allclose(Vh0 * signs[:, None], Vh, atol=1e-12)
    np.testing.assert_array_equal(s0, s)
    ref = rsvd(A, 6, n_iter=2, method=method, rng=4)
    np.testing.assert_allclose(U, ref.U, atol=1e-4)  # the in-memory result (other draws): the same sign rule
    np.testing.assert_allclose(Vh, ref.Vh, atol=1e-4)


def _unaligned(x):
    """A copy of `x` whose data starts one byte past an allocation: not aligned to its items, as a chunk deserialised
    in place from a message can be."""
    out = np.empty(x.nbytes + 1, dtype=np.uint8)[1:].view(x.dtype).reshape(x.shape)
    out[...] = x
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("method", ["subspace", "block_krylov"])
def test_unaligned_chunks_are_copied_once_per_task(method, monkeypatch):
    """NumPy's products leave BLAS on unaligned data (2x-4x slower): the fused chunk task makes one aligned copy."""
    A = _matrix()
    D = chunked(A, (100, 90))
    expected = dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=3), scheduler="sync")
    seen, original = [], _rsvd._aligned

    def spy(a):
        out = original(a)
        seen.append((a.flags.aligned, out.flags.aligned, out is a))
        return out

    monkeypatch.setattr(_rsvd, "_aligned", spy)
    got = dask.compute(*rsvd(D.map_blocks(_unaligned), 6, n_iter=2, method=method, rng=3), scheduler="sync")
    assert len(seen) == 3 * 8 and all(not before and after and not same for before, after, same in seen)
    for a, b in zip(got, expected):  # the same draws and data: the same result
        np.testing.assert_allclose(a, b, atol=1e-12)
    seen.clear()
    dask.compute(*rsvd(D, 6, n_iter=2, method=method, rng=3), scheduler="sync")
    assert len(seen) == 3 * 8 and all(before and same for before, _, same in seen)  # aligned chunks: no copy


# --------------------------------------------------------------------------- the Dask default (n_iter="auto", no tol)

# (k, the explicit call it equals): k = 8 < 0.1 min(m, n) = 9: block Krylov at ceil(7 / 2) = 4 steps, a basis of
# 18 * 5 = 90 columns (the whole short side, just fitting); k = 20: ceil(4 / 2) = 2 steps, 30 * 3 = 90 columns;
# k = 30: 40 * 3 = 120 columns would exceed the short side, so the former default, subspace iteration with 4 steps
@pytest.mark.parametrize(("k", "method", "q"), [(8, "block_krylov", 4), (20, "block_krylov", 2), (30, "subspace", 4)])
def test_dask_default_is_block_krylov_at_half_depth(k, method, q, dask_client):
    A = _matrix(n=90)
    D = chunked(A, (100, 90))
    res = rsvd(D, k, rng=0)
    assert res.n_passes == 2 * q + 2 and all(isinstance(x, da.Array) for x in res)  # lazy
    assert_no_gather(*res, source=D)
    U, s, Vh = dask_client.compute(list(res), sync=True)
    explicit = dask.compute(*rsvd(D, k, method=method, n_iter=q, rng=0), scheduler="sync")
    for got, expected in zip((U, s, Vh), explicit):  # the explicit call, on the cluster and in-process
        assert_equal_to_rounding(got, expected)
    ref = rsvd(A, k, method=method, n_iter=q, rng=0)  # NumPy, the same method and depth (other draws)
    exact = np.linalg.svd(A, compute_uv=False)[:k]
    np.testing.assert_allclose(s, ref.s, rtol=1e-8)
    np.testing.assert_allclose(s, exact, rtol=1e-8)
    np.testing.assert_allclose(U[:, :6], ref.U[:, :6], atol=1e-6)  # the leading, well separated vectors
    np.testing.assert_allclose(Vh[:6], ref.Vh[:6], atol=1e-6)


def test_dask_default_is_as_accurate_as_the_former_default_in_fewer_passes():
    """On a slowly decaying spectrum (``s_j = (j + 1)^-1/2``) the default (block Krylov, 4 steps, 10 passes) is at
    least as accurate as the former default (subspace iteration, 7 steps, 16 passes) over five seeds."""
    A = la.datasets.matrix_with_spectrum(1500, 300, la.datasets.spectrum("polynomial", 300, power=0.5), rng=0)
    D = chunked(A, (250, 300))
    exact = np.linalg.svd(A, compute_uv=False)[:10]
    new, old = [], []
    for seed in range(5):
        res = rsvd(D, 10, rng=seed)
        former = rsvd(D, 10, method="subspace", n_iter=7, rng=seed)
        assert (res.n_passes, former.n_passes) == (10, 16)
        s_new, s_old = dask.compute(res.s, former.s, scheduler="sync")
        new.append(np.max(np.abs(s_new - exact) / exact))
        old.append(np.max(np.abs(s_old - exact) / exact))
    assert np.median(new) <= np.median(old) and max(new) <= max(old)


def test_dask_default_within_the_krylov_budget(monkeypatch):
    """Over ``KRYLOV_MEMORY_BUDGET`` the default falls back to the former subspace iteration (the same graph), and an
    explicit block Krylov call is still refused."""
    import lowrank_la.svd

    A = _matrix()
    D = chunked(A, (100, 90))
    need = (800 + 90) * 18 * 5 * 8  # (m + n) * b * (q + 1) * 8 bytes for k = 8
    monkeypatch.setattr(lowrank_la.svd, "KRYLOV_MEMORY_BUDGET", need)
    assert rsvd(D, 8, rng=0).n_passes == 10  # fits exactly: block Krylov
    monkeypatch.setattr(lowrank_la.svd, "KRYLOV_MEMORY_BUDGET", need - 1)
    res = rsvd(D, 8, rng=0)
    assert res.n_passes == 16
    former = rsvd(D, 8, method="subspace", n_iter=7, rng=0)
    assert all(np.array_equal(a, b) for a, b in zip(*dask.compute(list(res), list(former), scheduler="sync")))
    with pytest.raises(ValueError, match="block_size=18 and n_iter=4 need a Krylov basis.*KRYLOV_MEMORY_BUDGET"):
        rsvd(D, 8, method="block_krylov", rng=0)
