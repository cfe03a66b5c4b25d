"""Meta-factorization (:mod:`lowrank_la.factor`).

A factorization ``A ~ F G H^T`` is the solution of two linear matrix equations (Karpowicz, arXiv:2111.14385):
the projector equations ``F Y^T F = F`` and ``H^T X H^T = H^T`` with ``Y^T = (B^T F)^+ B^T`` and
``X = D (H^T D)^+`` (test matrices ``B``, ``D``), and the reconstruction equation ``F G H^T = A`` with core
``G = Y^T A X``. SVD, pivoted QR, UTV, CUR, the interpolative decomposition, generalized Nystrom and
pseudoinverse formulas are instances.

The general solver
------------------
=====================================  ============================================================================
:func:`meta_factorize`                 core and projector factors from frames ``F``, ``H`` (and ``B``, ``D``, ``W``)
:class:`MetaFactorization`             the result: ``F``, ``G``, ``H``, ``Yt``, ``X``, ``info``, ``reconstruct``,
                                       ``matvec``/``rmatvec``, ``as_linear_operator``
:class:`RankConditionWarning`          a rank condition of the projector equations fails
=====================================  ============================================================================

Instances
---------
=====================================  ============================================================================
:func:`generalized_nystrom`            ``A Omega (Psi^T A Omega)^+ Psi^T A`` with drawn sketches (Nakatsukasa)
:func:`nystrom_from_sketches`          the same with given ``Omega``, ``Psi``
:func:`cur`                            CUR with DEIM, pivoted-QR, leverage or uniform selection; optimal or cross core
:func:`cur_from_indices`               CUR for given rows and columns (:class:`CURDecomposition`)
:func:`select_indices`                 the row and column selection behind :func:`cur`; :func:`deim`
:func:`interpolative`                  column interpolative decomposition (:class:`InterpolativeDecomposition`;
                                       ``idx``, ``proj`` as in :mod:`scipy.linalg.interpolative`)
:func:`utv`                            relaxed two-sided UTV/ULV (``variant`` "svd", "cpqr", "lu")
:func:`mf_svd`                         truncated SVD as a meta-factorization (core ``diag(s)``)
:func:`mf_cpqr`                        column-pivoted QR as a meta-factorization (core ``I``)
=====================================  ============================================================================

Pseudoinverses
--------------
=====================================  ============================================================================
:func:`rank_factorization`             ``A = B D`` with ``B`` the pivot columns (a stable ``rref``)
:func:`pinv_from_rank_factorization`   ``A^+ = D^T (B^T A D^T)^{-1} B^T``
:func:`randomized_pinv`                ``(P^T A)^+ P^T A Q (A Q)^+`` (Karpowicz-Strang)
=====================================  ============================================================================
"""

from ._classical import *  # noqa: F403
from ._classical import __all__ as _classical_all
from ._cur import *  # noqa: F403
from ._cur import __all__ as _cur_all
from ._interpolative import *  # noqa: F403
from ._interpolative import __all__ as _interpolative_all
from ._meta import *  # noqa: F403
from ._meta import __all__ as _meta_all
from ._nystrom import *  # noqa: F403
from ._nystrom import __all__ as _nystrom_all
from ._pinv import *  # noqa: F403
from ._pinv import __all__ as _pinv_all
from ._select import *  # noqa: F403
from ._select import __all__ as _select_all

__all__ = (_meta_all + _nystrom_all + _cur_all + _select_all + _interpolative_all + _classical_all + _pinv_all)
