"""Dynamic Kronecker projection maintenance (:mod:`lowrank_la.projection`).

Maintain the projection ``P = B^T (B B^T)^-1 B`` with ``B = A (W^1/2 kron W^1/2)`` (the SDP interior-point
normal equations) or ``B = A (W kron I)``, where ``A`` stacks ``m`` constraint matrices ``A_i`` (n x n) as the rows
``vec(A_i)^T`` and the positive definite weight ``W`` receives low-rank changes, and answer queries ``P h``:
exactly, by sketches, or robustly against an adaptive adversary through a differentially private median over a
pool of sketches (Song, Yang, Yang, Zhang, ICML 2023). Nothing of size ``n^2 x n^2`` is ever formed.

Functions and classes
---------------------
=======================================  ===========================================================================
:func:`kron_apply_B`                     matrix-free ``B h`` (``form="sqrt"|"identity"``, ``vec="F"|"C"``)
:func:`kron_apply_BT`                    matrix-free ``B^T y``
:func:`kron_normal_matrix`               ``B B^T`` as one batched GEMM and a Gram matrix
:class:`KroneckerProjectionMaintainer`   ``update`` / ``query`` / ``query_sketched`` / ``robust_query``, with
                                         ``method="lazy_pcg"|"woodbury"|"rebuild"``, diagnostics, save/load
:func:`coordinate_estimate_std`          predicted standard deviation of a sketched coordinate estimate
:func:`default_sketch_size`              the default sketch size ``min(n^2, ceil(ln(n^2/1e-6)/0.25^2))``
=======================================  ===========================================================================
"""

from ._kron import *  # noqa: F403
from ._kron import __all__ as _kron_all
from ._maintainer import *  # noqa: F403
from ._maintainer import __all__ as _maintainer_all

__all__ = list(_kron_all) + list(_maintainer_all)
