"""The Numba kernel for ``Z @ P.T`` against its scipy reference."""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._kernels.sparse_apply import pack_columns, rows_times_sparse_t, rows_times_sparse_t_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("k", "d", "density"), [(1, 1, 1.0), (5, 40, 0.0), (7, 300, 0.02), (64, 128, 0.5)])
def test_kernel_matches_reference(k, d, density, dtype, rng):
    P = sp.random(k, d, density=density, format="csr", random_state=3, dtype=np.float64)
    Z = rng.standard_normal((9, d)).astype(dtype)
    packed = pack_columns(P, dtype)
    out = rows_times_sparse_t(Z, packed)
    expected = Z.astype(np.float64) @ P.T.toarray()
    assert out.dtype == dtype and out.shape == (9, k)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(out, expected, rtol=tol, atol=tol * max(1.0, np.abs(expected).max()))
    assert np.allclose(rows_times_sparse_t_reference(Z, packed), out, rtol=tol, atol=tol * 10)


def test_duplicates_are_summed_and_empty_columns_skipped():
    P = sp.coo_array(([1.0, 2.0, 3.0], ([0, 0, 1], [2, 2, 4])), shape=(2, 6))
    packed = pack_columns(P, np.float64)
    assert packed.cols.tolist() == [2, 4] and packed.data.tolist() == [3.0, 3.0]
    Z = np.arange(12.0).reshape(2, 6)
    assert np.allclose(rows_times_sparse_t(Z, packed), Z @ P.toarray().T)
