"""rsvd, rand_qb and the range finder on Dask: lazy, reproducible per-chunk streams, one read of A per pass."""

import numpy as np
import pytest

import lowrank_la as la
from lowrank_la.svd import rand_qb, randomized_range_finder, rsvd, svd_error_estimate, svd_tol

da = pytest.importorskip("dask.array")
import dask  # noqa: E402


class CountingArray:
    """A read-only array that counts the chunk reads Dask makes (``from_array`` calls ``__getitem__``)."""

    def __init__(self, a):
        self.a, self.shape, self.dtype, self.ndim = a, a.shape, a.dtype, a.ndim
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self.a[key]


def _matrix(m=200, n=120, seed=0, dtype=np.float64):
    s = la.datasets.spectrum("exponential", min(m, n), scale=6)
    return la.datasets.matrix_with_spectrum(m, n, s, rng=seed, dtype=dtype)


CHUNKINGS = {"rows": (50, 120), "both": (50, 40), "rows_small": (15, 120)}


@pytest.mark.parametrize("chunks", list(CHUNKINGS))
@pytest.mark.parametrize("method", ["subspace", "block_krylov"])
def test_rsvd_is_lazy_and_accurate(method, chunks):
    A = _matrix()
    D = da.from_array(A, chunks=CHUNKINGS[chunks])
    res = rsvd(D, 8, method=method, n_iter=4, rng=0)
    assert all(isinstance(x, da.Array) for x in res)  # lazy
    U, s, Vh = dask.compute(*res)
    exact = np.linalg.svd(A, compute_uv=False)[:8]
    assert np.allclose(s, exact, rtol=1e-10)
    assert np.allclose(U.T @ U, np.eye(8), atol=1e-12) and np.allclose(Vh @ Vh.T, np.eye(8), atol=1e-12)
    ref = rsvd(A, 8, method=method, n_iter=4, rng=0)  # the same subspace as in memory (different draws)
    assert np.allclose(U, ref.U, atol=1e-6) and np.allclose(Vh, ref.Vh, atol=1e-6)  # same sign rule


def test_wide_dask_matrix_is_transposed_and_centering_works():
    A = _matrix(120, 200) + 3.0
    D = da.from_array(A, chunks=(40, 50))
    U, s, Vh = dask.compute(*rsvd(D, 6, center=True, rng=1))
    exact = np.linalg.svd(A - A.mean(axis=0), compute_uv=False)[:6]
    assert U.shape == (120, 6) and Vh.shape == (6, 200)
    assert np.allclose(s, exact, rtol=1e-8)


@pytest.mark.parametrize("chunks", ["rows", "both"])
def test_same_seed_same_bits_whatever_the_scheduler(chunks):
    A = _matrix(dtype=np.float32)
    D = da.from_array(A, chunks=CHUNKINGS[chunks])
    a = dask.compute(*rsvd(D, 5, rng=7), scheduler="threads")
    b = dask.compute(*rsvd(D, 5, rng=7), scheduler="sync")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(x.dtype == np.float32 for x in a)
    graph = rsvd(D, 5, rng=7)
    c1, c2 = dask.compute(*graph), dask.compute(*graph)  # a graph computed twice: the same draws
    assert all(np.array_equal(x, y) for x, y in zip(c1, c2))


@pytest.mark.parametrize(("method", "chunks"), [("subspace", (50, 60)), ("block_krylov", (50, 60)),
                                               ("subspace", (50, 120)), ("block_krylov", (50, 120))])  # fused
@pytest.mark.parametrize("q", [0, 2])
def test_one_read_of_each_chunk_per_pass(method, q, chunks):
    A = CountingArray(_matrix())
    D = da.from_array(A, chunks=chunks, asarray=True, inline_array=False)
    n_chunks = D.npartitions
    res = rsvd(D, 6, method=method, n_iter=q, rng=0)
    A.reads = 0
    dask.compute(*res, scheduler="sync", optimize_graph=False)
    # Dask loads each chunk once per graph (shared getter keys); the passes reuse the loaded chunks, so a
    # computed graph reads the data at most once: reads never exceed one sweep of the chunks
    assert A.reads == n_chunks


def test_range_finder_and_rand_qb_on_dask():
    A = _matrix()
    D = da.from_array(A, chunks=(30, 120))
    Q = randomized_range_finder(D, 10, n_iter=1, rng=0)
    assert isinstance(Q, da.Array)
    Qc = Q.compute()
    assert np.allclose(Qc.T @ Qc, np.eye(10), atol=1e-12)
    res = rand_qb(D, rank=12, block_size=5, rng=0)
    assert isinstance(res.Q, da.Array) and isinstance(res.B, da.Array)  # lazy with a rank alone
    Qc, Bc = dask.compute(res.Q, res.B)
    assert Qc.shape == (200, 12) and np.allclose(Bc, Qc.T @ A, atol=1e-12)
    res = rand_qb(D, tol=1e-3, block_size=5, rng=0)
    Qc, Bc = dask.compute(res.Q, res.B)
    assert np.linalg.norm(A - Qc @ Bc) <= 1e-3 * np.linalg.norm(A) * (1 + 1e-6)
    tol = svd_tol(D, 1e-4, rng=0)
    U, s, Vh = dask.compute(*tol)
    assert np.linalg.norm(A - (U * s) @ Vh) <= 1e-4 * np.linalg.norm(A) * (1 + 1e-6)
    est = svd_error_estimate(D, U, s, Vh, rng=0)
    true = np.linalg.norm(A - (U * s) @ Vh)
    assert true / 3 < est < 3 * true


def test_distributed_local_cluster():
    distributed = pytest.importorskip("distributed")
    A = _matrix(300, 100)
    exact = np.linalg.svd(A, compute_uv=False)[:5]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        D = da.from_array(A, chunks=(75, 100))
        U, s, Vh = client.compute(list(rsvd(D, 5, n_iter=2, rng=3)), sync=True)
        U2, s2, Vh2 = client.compute(list(rsvd(D, 5, n_iter=2, rng=3)), sync=True)
    assert np.allclose(s, exact, rtol=1e-10)
    assert np.array_equal(U, U2) and np.array_equal(s, s2)  # per-chunk streams: same seed, same bits
    local = dask.compute(*rsvd(D, 5, n_iter=2, rng=3), scheduler="sync")
    assert np.allclose(local[0], U, atol=1e-12)
