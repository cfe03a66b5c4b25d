"""Low-level kernels of lowrank_la: Numba on the CPU, CUDA (``src/cuda``, loaded through CuPy) on the GPU.

Private: the public functions validate their arguments and call these.

fwht_reference   fast Walsh-Hadamard transform of rows in array-API operations (the oracle of the tests)
fwht_numba       in-place FWHT over the rows of a 2-D array, Numba, parallel over rows
fwht_cupy        in-place FWHT over the rows of a 2-D CuPy array (CUDA kernels in ``src/cuda/fwht.cu``)
rows_to_columns  transformed rows written, with signs, as columns of a C-contiguous array (FJLT's explicit matrix)
cuda_source_path where a CUDA source of ``src/cuda`` is, installed or in a checkout
csr_matmat       ``A @ X`` for scipy CSR ``A`` and a dense block, parallel over rows (used by the operator adapter)
csr_rmatmat      ``A^T @ Y`` for scipy CSR ``A``: row slabs scattered in parallel (the operator adapter, where
                 :func:`~lowrank_la._kernels.csr_dense.scatter_slabs` gives two or more)
rows_times_sparse_t  ``Z @ P.T`` for dense rows Z and a sparse P (the sparse step of the sketches), Numba
completion       sampled products at observed entries and per-row normal equations for matrix completion
"""
