"""Matrix completion (:mod:`lowrank_la.completion`).

Recover a low-rank, incoherent matrix ``M`` (m x n, rank k) from a few of its entries ``P_Omega(M)`` as a
product ``U V^T``, never forming an m x n matrix. Alternating minimization (AltMin) splits each half-step into
independent k-variable regressions, one per row or column; they are solved exactly (batched normal equations),
by sketch-and-precondition (Gu, Song, Yin and Zhang's robust step, nearly linear in ``|Omega| k``), or by a few
warm-started conjugate-gradient steps, and the solver is picked per problem by a cost model.

Functions
---------
=========================  =================================================================================
:func:`altmin_complete`    AltMin matrix completion; ``solver`` in ``"auto"``, ``"exact"``, ``"sketch"``, ``"cg"``
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
from ._observations import *  # noqa: F403
from ._observations import __all__ as _observations_all

__all__ = list(_altmin_all) + list(_observations_all)
