"""Randomized SVD family (:mod:`lowrank_la.svd`).

Truncated SVDs of dense, sparse, operator and Dask matrices from a few block products with ``A``.

Fixed rank
----------
rsvd                     truncated SVD by randomized subspace iteration or randomized block Krylov
randomized_range_finder  orthonormal basis of the dominant range (HMT range finder with power iterations)

Fixed accuracy
--------------
rand_qb                  blocked randomized QB factorisation, stopped by rank or by a Frobenius tolerance
svd_tol                  SVD to a Frobenius tolerance with a near-optimal rank (Yu-Gu-Li randQB_EI)

Error estimation
----------------
svd_error_estimate       randomized a-posteriori estimate of ``||A - U diag(s) Vh||`` (Frobenius or spectral)

Single pass and updating
------------------------
StreamingSketch          one-pass three-sketch (Tropp-Yurtsever-Udell-Cevher) under linear updates, save/load
TruncatedSVDUpdater      keep a truncated SVD current as rows, columns or low-rank terms arrive (Deng et al.)
svd_update               one update of given factors, in functional form

Result types and settings
-------------------------
QBResult                 ``(Q, B, rank, error_estimate, converged, err2_history)`` returned by ``rand_qb``
SVDTolResult             ``(U, s, Vh)`` with ``.rank``, ``.error_estimate``, ``.converged``
KRYLOV_MEMORY_BUDGET     bytes the block Krylov basis may take before ``rsvd`` refuses
"""

from ._error import *  # noqa: F403
from ._error import __all__ as _error_all
from ._fixed_accuracy import *  # noqa: F403
from ._fixed_accuracy import __all__ as _fixed_accuracy_all
from ._rsvd import *  # noqa: F403
from ._rsvd import __all__ as _rsvd_all
from ._streaming import *  # noqa: F403
from ._streaming import __all__ as _streaming_all
from ._update import *  # noqa: F403
from ._update import __all__ as _update_all

__all__ = [*_rsvd_all, *_fixed_accuracy_all, *_error_all, *_streaming_all, *_update_all]
