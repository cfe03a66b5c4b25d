"""The parallel CSR x dense kernels against their scipy references."""

import numpy as np
import pytest
import scipy.sparse as sp

from lowrank_la._kernels.csr_dense import csr_matmat, csr_matmat_reference, csr_rmatmat, csr_rmatmat_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,density", [((50, 30), 0.1), ((1, 7), 1.0), ((200, 3), 0.0), ((300, 120), 0.02)])
@pytest.mark.parametrize("slabs", [None, 1, 3, 7])
def test_kernels_match_their_references(shape, density, dtype, slabs):
    rng = np.random.default_rng(0)
    A = sp.random(*shape, density=density, format="csr", random_state=1, dtype=dtype)
    X = rng.standard_normal((shape[1], 5)).astype(dtype)
    Y = np.asfortranarray(rng.standard_normal((shape[0], 5)).astype(dtype))  # any layout
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.allclose(csr_matmat(A, X), csr_matmat_reference(A, X), rtol=tol, atol=tol)
    assert np.allclose(csr_rmatmat(A, Y, n_slabs=slabs), csr_rmatmat_reference(A, Y), rtol=tol, atol=tol)
    assert csr_matmat(A, X).dtype == dtype and csr_rmatmat(A, Y).dtype == dtype


def test_int64_indices_and_unsorted_entries():
    A = sp.csr_array(sp.random(40, 25, density=0.3, random_state=2))
    A.indices = A.indices.astype(np.int64)
    A.indptr = A.indptr.astype(np.int64)
    A.has_sorted_indices = False
    X = np.random.default_rng(1).standard_normal((25, 3))
    Y = np.random.default_rng(2).standard_normal((40, 3))
    assert np.allclose(csr_matmat(A, X), A @ X) and np.allclose(csr_rmatmat(A, Y), A.T @ Y)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_matmat_rows_of_every_length(dtype):
    """Rows with 0 to 9 non-zeros: the four-at-a-time sweep of ``csr_matmat`` and each of its remainders."""
    rng = np.random.default_rng(3)
    rows = [np.sort(rng.choice(40, size=count, replace=False)) for count in range(10) for _ in range(3)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    data = rng.standard_normal(indptr[-1]).astype(dtype) * (1 + 1j if dtype == np.complex128 else 1)
    A = sp.csr_array((data, np.concatenate(rows), indptr), shape=(len(rows), 40))
    X = rng.standard_normal((40, 33)).astype(dtype)
    assert np.allclose(csr_matmat(A, X), A @ X, rtol=1e-13, atol=1e-13)


def test_scatter_slabs_bounds_the_accumulators(monkeypatch):
    """One slab per thread, but no more than nnz / (16 n), and within the byte budget."""
    import numba

    from lowrank_la._kernels import csr_dense

    monkeypatch.setattr(numba, "get_num_threads", lambda: 8)
    dense = sp.csr_array(np.ones((200, 10)))  # nnz / (16 n) = 12.5
    sparse = sp.csr_array(sp.random(400, 50, density=0.08, random_state=0))  # nnz / (16 n) = 2
    assert csr_dense.scatter_slabs(dense, 4) == 8
    assert csr_dense.scatter_slabs(sparse, 4) == 2
    assert csr_dense.scatter_slabs(sp.csr_array((100, 50)), 4) == 1
    monkeypatch.setattr(csr_dense, "SLAB_BUDGET", 3 * 10 * 4 * 8)
    assert csr_dense.scatter_slabs(dense, 4) == 3
