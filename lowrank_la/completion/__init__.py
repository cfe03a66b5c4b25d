"""Matrix completion (:mod:`lowrank_la.completion`).

Complete a matrix from some of its entries ``P_Omega(M)``: a dense matrix with NaN for the missing entries (or a
mask), a sparse matrix of observations, or coordinates. The model is ``mean + row and column offsets + U V^T``,
never formed as an m x n matrix; its rank and regularisation are chosen on held-out entries unless given.
Alternating minimization (AltMin) splits each half-step into independent k-variable regressions, one per row or
column; they are solved exactly (batched normal equations), by sketch-and-precondition (Gu, Song, Yin and
Zhang's robust step, nearly linear in ``|Omega| k``), or by a few warm-started conjugate-gradient steps, and the
solver is picked per problem by a cost model. Soft-impute (Mazumder, Hastie and Tibshirani) is the second method.

Functions
---------
=========================  =================================================================================
:func:`altmin_complete`    matrix completion: AltMin or soft-impute, rank and ``reg`` chosen from the data
:func:`altmin_distributed` AltMin on a Dask cluster (Spark ALS layout), factors returned as Dask arrays
:class:`CompletionResult`  its result: ``fill(X)``, ``predict(rows, cols)``, ``to_dense()``
:func:`completion_error`   ``||U V^T - M||_F / ||M||_F`` in factored form, from the factors of ``M``
:func:`halfstep_costs`     the cost model (flops of one half-step per solver) behind ``solver="auto"``
:func:`half_step`          one half-step alone: every row's (or column's) regression, by one solver
:func:`segment_ridges`     the per-regression ridges :func:`altmin_complete` uses
:func:`sampled_product`    the entries ``(U @ V.T)[rows, cols]`` without forming the product
:func:`parse_observations` validated observations indexed by row and by column (:class:`Observations`)
=========================  =================================================================================

The tall least-squares solver behind ``solver="sketch"`` is public as :func:`lowrank_la.sketch.lstsq_sketched`.
"""

from ._altmin import *  # noqa: F403
from ._altmin import __all__ as _altmin_all
from ._complete import *  # noqa: F403
from ._complete import __all__ as _complete_all
from ._distributed import *  # noqa: F403
from ._distributed import __all__ as _distributed_all
from ._observations import *  # noqa: F403
from ._observations import __all__ as _observations_all
from ._result import *  # noqa: F403
from ._result import __all__ as _result_all

__all__ = list(_altmin_all) + list(_complete_all) + list(_distributed_all) + list(_observations_all) + list(_result_all)
