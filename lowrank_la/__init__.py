"""lowrank_la: low-rank and randomized numerical linear algebra.

Algorithms are written once against the array-API namespace of their input and run on NumPy (with Numba
kernels), on CuPy GPUs and, for those that stream over their input, on Dask arrays.

Subpackages
-----------
sketch       sketch operators (Gaussian, sparse sign, CountSketch, SRHT, FJLT) and the fast Walsh-Hadamard transform
datasets     synthetic problems shared by the tests, the docs and the reproductions
experiments  the registry of reproduced paper experiments (``python -m lowrank_la reproduce``)

Shared names
------------
ConvergenceWarning   warned by an iterative solver that stopped before its tolerance was met
SVDResult            ``(U, s, Vh)`` named tuple returned by the SVD-like routines
SolverResult         result object of the iterative solvers (``converged``, ``n_iter``, ``history``)
as_operator          the operator adapter: block products with any supported matrix, counting passes
"""

__version__ = "0.1.0.dev0"

from . import datasets, experiments
from ._array import ConvergenceWarning, MatrixOperator, SolverResult, SVDResult, as_operator, thread_limit

__all__ = [
    "__version__",
    "ConvergenceWarning",
    "MatrixOperator",
    "SVDResult",
    "SolverResult",
    "as_operator",
    "datasets",
    "experiments",
    "thread_limit",
]
