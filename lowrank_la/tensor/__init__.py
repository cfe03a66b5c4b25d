"""Tucker decompositions and core-shape search (:mod:`lowrank_la.tensor`).

Tucker decompositions ``X ~ core x_1 U_1 ... x_N U_N`` of dense tensors in any array-API namespace, the
higher-order singular values of a tensor, and the choice of the core shape (multilinear rank) that fits a
parameter budget (Ghadiri, Fahrbach, Fu, Mirrokni, ICML 2023).

Tucker basics
-------------
=========================  =================================================================================
:func:`unfold`             mode-n unfolding ``X_(n)``, of shape ``(I_n, prod_{k != n} I_k)``
:func:`fold`               its inverse
:func:`mode_product`       ``X x_n M``: multiply every mode-n fibre by ``M`` (or ``M^T``)
:func:`hosvd`              truncated higher-order SVD
:func:`st_hosvd`           sequentially truncated HOSVD
:func:`hooi`               higher-order orthogonal iteration (Tucker-ALS), ``init="svd"`` or ``"random"``
:func:`tucker_to_tensor`   the full tensor of a core and factors, or of a :class:`TuckerResult`
:func:`tucker_size`        parameter count ``prod R_n + sum I_n R_n``
=========================  =================================================================================

Core shape under a budget
-------------------------
=========================  =================================================================================
:func:`hosvd_spectrum`     squared singular values of every unfolding (Gram + eigvalsh, SVD, or randomized)
:func:`core_shape_search`  the shape minimising the HOSVD surrogate: "auto", "milp", "exact", "greedy",
                           "bang_for_buck", or the true-loss "rre_greedy" baseline
:func:`core_shape_path`    the same for many budgets from one spectrum
:func:`rre_greedy`         the greedy search on the true Tucker loss (a HOOI fit per candidate)
=========================  =================================================================================

Tensor trains (the chain case of the paper's tree tensor networks)
-----------------------------------------------------------------
=========================  =================================================================================
:func:`tt_svd`             TT-SVD: cores of given bond ranks by sequential truncated SVDs
:func:`tt_to_tensor`       the full tensor of a tensor train
:func:`tt_size`            parameter count ``sum_k r_{k-1} I_k r_k``
:func:`tt_spectrum`        squared singular values of every sequential unfolding ``X_<k>``
:func:`tt_rank_search`     bond ranks under a budget minimising the same tail surrogate ("exact" or "greedy")
=========================  =================================================================================

Result types
------------
=========================  =================================================================================
:class:`TuckerResult`      ``(core, factors)`` of :func:`hosvd`, :func:`st_hosvd` and :func:`hooi` (which adds
                           ``converged``, ``n_iter`` and ``history``)
:class:`HosvdSpectrum`     ``(values, norm_sq, shape)`` of :func:`hosvd_spectrum`
:class:`CoreShapeResult`   ranks, parameter count, surrogate tail and bounds, MILP count, timing
``EXACT_STATE_LIMIT``      partial shapes the exact enumeration may keep before "auto" switches to the MILP
:class:`TTRankResult`      bond ranks, parameter count, surrogate tail and bounds, timing
=========================  =================================================================================
"""

from ._core_shape import *  # noqa: F403
from ._core_shape import __all__ as _core_shape_all
from ._spectrum import *  # noqa: F403
from ._spectrum import __all__ as _spectrum_all
from ._tt import *  # noqa: F403
from ._tt import __all__ as _tt_all
from ._tucker import *  # noqa: F403
from ._tucker import __all__ as _tucker_all

__all__ = list(_tucker_all) + list(_spectrum_all) + list(_core_shape_all) + list(_tt_all)
