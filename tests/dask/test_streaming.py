"""StreamingSketch fed from a Dask array: one pass, one row block in memory at a time, equal to feeding the same
row blocks from memory."""

import numpy as np
import pytest

from lowrank_la.svd import StreamingSketch
from tests.dask_tools import assert_equal_to_rounding, assert_no_gather, chunked

da = pytest.importorskip("dask.array")


def _matrix(m=240, n=60, r=4, seed=0):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((m, r)) @ gen.standard_normal((r, n)) + 1e-3 * gen.standard_normal((m, n))


def _in_memory(A, blocks, sketch="gaussian", theta=1.0, rows=None, prior=None):
    sk = StreamingSketch((300, A.shape[1]) if rows is not None else A.shape, rank=4, sketch=sketch, rng=3)
    if prior is not None:
        sk.linear_update(prior)
    index = np.arange(A.shape[0]) if rows is None else rows
    for lo, hi in blocks:
        sk.linear_update(A[lo:hi], theta=theta if lo == 0 else 1.0, tau=0.5, rows=index[lo:hi])
    return sk


def _blocks_read(D):
    """The row ranges linear_update reads, recorded from the slices it computes."""
    seen = []
    original = da.Array.__getitem__

    def spy(self, key):
        if self is D:
            seen.append((key.start, key.stop))
        return original(self, key)

    da.Array.__getitem__ = spy
    try:
        StreamingSketch(D.shape, rank=2, rng=0).linear_update(D)
    finally:
        da.Array.__getitem__ = original
    return seen


@pytest.mark.parametrize("sketch", ["gaussian", "sparse_sign"])
def test_row_chunked_dask_equals_the_same_blocks_in_memory(sketch):
    A = _matrix()
    D = chunked(A, (60, 60))
    sk = StreamingSketch(A.shape, rank=4, sketch=sketch, rng=3)
    sk.linear_update(A * 2)
    sk.linear_update(D, theta=0.9, tau=0.5)
    ref = _in_memory(A, [(0, 60), (60, 120), (120, 180), (180, 240)], sketch, theta=0.9, prior=A * 2)
    for name in ("X", "Y", "Z"):
        assert_equal_to_rounding(getattr(sk, name), getattr(ref, name))
    assert sk.n_updates == 2
    U, s, Vh = sk.fixed_rank()
    assert np.linalg.norm((U * s) @ Vh - 2.3 * A) < 1e-2 * np.linalg.norm(A)


def test_rows_index_and_float32():
    A = _matrix(seed=1).astype(np.float32)
    rows = np.random.default_rng(2).permutation(300)[:240]
    sk = StreamingSketch((300, 60), rank=4, rng=3, dtype="float32")
    sk.linear_update(chunked(A, (80, 60)), tau=0.5, rows=rows)
    ref = StreamingSketch((300, 60), rank=4, rng=3, dtype="float32")
    for lo in range(0, 240, 80):
        ref.linear_update(A[lo:lo + 80], tau=0.5, rows=rows[lo:lo + 80])
    assert sk.X.dtype == np.float32
    assert_equal_to_rounding(sk.Y, ref.Y, rel=1e-6)
    assert_equal_to_rounding(sk.Z, ref.Z, rel=1e-6)


def test_column_chunked_matrix_is_read_in_row_slabs_of_one_chunk():
    A = _matrix(seed=2)
    D = chunked(A, (240, 15))  # chunked along the columns only: a row chunk is the whole matrix
    assert _blocks_read(D) == [(lo, lo + 60) for lo in range(0, 240, 60)]  # 60 rows x 60 cols = one chunk
    sk = StreamingSketch(A.shape, rank=4, rng=3)
    sk.linear_update(D)
    ref = _in_memory(A, [(lo, lo + 60) for lo in range(0, 240, 60)])
    np.testing.assert_allclose(sk.Z, 2 * ref.Z, rtol=1e-12, atol=1e-12)  # tau = 0.5 in the reference
    assert_no_gather(*[D[lo:lo + 60] for lo in range(0, 240, 60)], source=D)


def test_bad_block_leaves_the_sketch_unchanged():
    A = _matrix(seed=3)
    A[200, 5] = np.nan
    sk = StreamingSketch(A.shape, rank=4, rng=3)
    with pytest.raises(ValueError, match="H must be finite"):
        sk.linear_update(chunked(A, (60, 60)))
    assert sk.n_updates == 0 and not sk.X.any() and not sk.Z.any()
    with pytest.raises(ValueError, match="H.shape"):
        sk.linear_update(chunked(A[:100], (50, 60)))


def test_on_the_cluster(dask_client):
    A = _matrix(seed=4)
    sk = StreamingSketch(A.shape, rank=4, rng=3)
    sk.linear_update(chunked(A, (60, 60)), tau=0.5)
    ref = _in_memory(A, [(lo, lo + 60) for lo in range(0, 240, 60)])
    assert_equal_to_rounding(sk.Z, ref.Z)
