"""lowrank_la: low-rank and randomized numerical linear algebra.

Algorithms are written once against the array-API namespace of their input and run on NumPy (with Numba
kernels), on CuPy GPUs and, for those that stream over their input, on Dask arrays.

Subpackages (imported on first use, as in scipy)
------------------------------------------------
svd          randomized SVD (subspace, block Krylov, fixed accuracy, single pass) and truncated-SVD updating
completion   matrix completion by alternating minimization
matmul       approximate matrix multiplication: sampled, sketched and multilevel Monte Carlo
factor       meta-factorization and its instances: generalized Nystrom, CUR, interpolative, UTV, pseudoinverses
projection   dynamic maintenance of Kronecker-structured projections (interior-point SDP solvers)
sensing      low-rank matrix sensing: ScaledGD(lambda), ScaledGD, GD, PrecGD, the l1 subgradient method
tensor       Tucker and tensor-train decompositions, core-shape (multilinear rank) search under a size budget
sketch       sketch operators (Gaussian, sparse sign, CountSketch, SRHT, FJLT) and the fast Walsh-Hadamard transform
psd          symmetric and PSD matrices, traces: stable Nystrom, randomized eigh, RPCholesky, Nystrom PCG, XTrace
sklearn      scikit-learn estimators over the algorithms (needs scikit-learn; imported only with this subpackage)
datasets     synthetic problems shared by the tests, the docs and the reproductions
experiments  the registry of reproduced paper experiments (``python -m lowrank_la reproduce``)

Shared names
------------
as_operator          the operator adapter: block products with any supported matrix, counting passes
MatrixOperator       what ``as_operator`` returns
SVDResult            ``(U, s, Vh)`` named tuple returned by the SVD-like routines
SVDAccuracyResult    an ``SVDResult`` that also reports its accuracy (``rsvd``: residuals, error estimate, passes)
SolverResult         result object of the iterative solvers (``converged``, ``n_iter``, ``history``)
ConvergenceWarning   warned by an iterative solver that stopped before its tolerance was met
thread_limit         bound the threads of BLAS and of the Numba kernels
rsvd, svd_tol        the most used names of :mod:`lowrank_la.svd`
altmin_complete      matrix completion (:mod:`lowrank_la.completion`)
scaled_gd_lambda, scaled_gd   matrix sensing (:mod:`lowrank_la.sensing`)
meta_factorize, generalized_nystrom, cur, interpolative   :mod:`lowrank_la.factor`
core_shape_search    :mod:`lowrank_la.tensor`
mlmc_matmul          :mod:`lowrank_la.matmul`
fwht, make_sketch, jl_min_dim   the most used names of :mod:`lowrank_la.sketch`
"""

import importlib

from ._backend import (
    ConvergenceWarning,
    MatrixOperator,
    SolverResult,
    SVDAccuracyResult,
    SVDResult,
    as_operator,
    thread_limit,
)

__version__ = "0.1.0.dev0"

_SUBPACKAGES = ("completion", "datasets", "experiments", "factor", "matmul", "projection", "psd", "sensing", "sketch",
                "sklearn", "svd", "tensor")
_REEXPORTED = {"fwht": "sketch", "make_sketch": "sketch", "jl_min_dim": "sketch", "rsvd": "svd", "svd_tol": "svd",
               "altmin_complete": "completion", "scaled_gd_lambda": "sensing", "scaled_gd": "sensing",
               "meta_factorize": "factor", "generalized_nystrom": "factor", "cur": "factor",
               "interpolative": "factor", "core_shape_search": "tensor", "mlmc_matmul": "matmul"}

__all__ = [
    "__version__",
    "ConvergenceWarning",
    "MatrixOperator",
    "SVDAccuracyResult",
    "SVDResult",
    "SolverResult",
    "as_operator",
    "thread_limit",
    *_SUBPACKAGES,
    *_REEXPORTED,
]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _REEXPORTED:
        return getattr(importlib.import_module(f"{__name__}.{_REEXPORTED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
