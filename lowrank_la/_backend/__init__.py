"""The one place that knows about array backends, one module per concern.

* :mod:`.results`: ``ConvergenceWarning`` and the result types ``SVDResult``, ``SVDAccuracyResult`` and
  ``SolverResult``;
* :mod:`.namespace`: the namespace and device of an input, and the dtype policy;
* :mod:`.random`: ``rng`` normalisation (scipy's SPEC 7) and reproducible streams;
* :mod:`.linalg`: small dense work on the fast path per backend, and the sign rule ``flip_signs``;
* :mod:`.threads`: bounds on BLAS and Numba threads;
* :mod:`.operator`: the operator adapter ``as_operator`` (block products, pass counting, sparse kept sparse).
* :mod:`.storage`: the one reader of saved state (``.npz`` files checked field by field against a schema).

The rest of the package imports these names from here.
"""

from .linalg import (
    SMALL_WORK_NOTE,
    cholesky_qr2,
    flip_signs,
    lu_normalize,
    qr_econ,
    solve,
    svd_small,
    svd_tall,
    times_inverse_upper,
)
from .namespace import array_namespace, device_of, is_cupy_namespace, is_numpy_namespace, to_numpy, working_dtype
from .operator import MatrixOperator, as_operator, sparse_kernel_input
from .random import as_rng, random_normal, spawn_rngs
from .results import ConvergenceWarning, SolverResult, SVDAccuracyResult, SVDResult
from .threads import KERNEL_THREADS_NOTE, blas_beside_kernels, one_blas_thread, thread_limit

__all__ = [
    "KERNEL_THREADS_NOTE",
    "SMALL_WORK_NOTE",
    "ConvergenceWarning",
    "MatrixOperator",
    "SVDAccuracyResult",
    "SVDResult",
    "SolverResult",
    "array_namespace",
    "as_operator",
    "as_rng",
    "blas_beside_kernels",
    "cholesky_qr2",
    "device_of",
    "flip_signs",
    "is_cupy_namespace",
    "is_numpy_namespace",
    "lu_normalize",
    "one_blas_thread",
    "qr_econ",
    "random_normal",
    "solve",
    "sparse_kernel_input",
    "spawn_rngs",
    "svd_small",
    "svd_tall",
    "thread_limit",
    "times_inverse_upper",
    "to_numpy",
    "working_dtype",
]
