"""Positive semidefinite and symmetric matrices, and traces (:mod:`lowrank_la.psd`).

Randomized methods for symmetric and PSD matrices that touch the matrix only through block products (or, for
RPCholesky, through its diagonal and a few columns), and stochastic trace and diagonal estimators that need
nothing but matrix-vector products.

Low-rank approximation and eigenpairs
-------------------------------------
=====================================  ============================================================================
:func:`nystrom`                        stable randomized Nystrom ``A ~ V diag(w) V^T`` (Tropp-Yurtsever-Udell-
                                       Cevher), fixed rank or fixed accuracy, any sketch
:func:`eigh`                           randomized ``eigh``: Nystrom for PSD, block Krylov + Rayleigh-Ritz for any
                                       symmetric matrix, with residuals and an error estimate
:func:`rpcholesky`                     randomly pivoted (partial) Cholesky ``A ~ F F^T`` from entry access; block,
                                       accelerated (rejection), greedy and uniform pivoting
:class:`KernelMatrix`                  a kernel matrix given by a kernel function and data points, never formed
=====================================  ============================================================================

Linear systems
--------------
=====================================  ============================================================================
:func:`nystrom_pcg`                    CG for ``(A + mu I) x = b`` with the Nystrom preconditioner (Frangella-
                                       Tropp-Udell), adaptive rank
=====================================  ============================================================================

Trace and diagonal estimation
-----------------------------
=====================================  ============================================================================
:func:`hutchinson`                     Girard-Hutchinson ``mean(w^T A w)``
:func:`hutchpp`                        Hutch++ (Meyer-Musco-Musco-Woodruff): low-rank part + Hutchinson remainder
:func:`xtrace`                         XTrace (Epperly-Tropp-Webber): exchangeable leave-one-out Hutch++
:func:`xnystrace`                      XNysTrace: the PSD variant on a Nystrom approximation
:func:`xdiag`                          XDiag: the diagonal by the same leave-one-out construction
=====================================  ============================================================================

Results
-------
:class:`EighResult` (``w, V`` plus the accuracy report), :class:`TraceEstimate`, :class:`DiagonalEstimate`,
:class:`RPCholeskyResult`.
"""

from ._nystrom import *  # noqa: F403
from ._nystrom import __all__ as _nystrom_all
from ._pcg import *  # noqa: F403
from ._pcg import __all__ as _pcg_all
from ._results import *  # noqa: F403
from ._results import __all__ as _results_all
from ._rpcholesky import *  # noqa: F403
from ._rpcholesky import __all__ as _rpcholesky_all
from ._trace import *  # noqa: F403
from ._trace import __all__ as _trace_all

__all__ = _nystrom_all + _rpcholesky_all + _pcg_all + _trace_all + _results_all
