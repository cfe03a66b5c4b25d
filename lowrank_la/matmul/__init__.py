"""Approximate matrix multiplication (:mod:`lowrank_la.matmul`): sampled and sketched products, and a
multilevel Monte Carlo estimator of products and of entrywise functions of them.

Single-level estimators are unbiased estimates of ``A @ B`` whose error decays like ``c^(-1/2)`` in the
number of samples ``c``. The multilevel estimator telescopes coupled sampled products at ``c0 M^l`` samples;
it pays off only where the levels are biased (a nonlinear entrywise ``f``): for ``f = None`` the corrections
have mean zero, and it falls back to one level.

Functions
---------
=============================  ======================================================================
:func:`sampled_matmul`         column-row sampling (Drineas-Kannan-Mahoney), norm/uniform/given probs
:func:`sketched_matmul`        ``(A S^T)(S B)`` with a Gaussian, CountSketch, SRHT or sparse sign sketch
:func:`matmul_variance`        closed-form expected squared Frobenius error of those estimators
:func:`mlmc_matmul`            multilevel Monte Carlo estimate of ``f(A @ B)``
:func:`mlmc`                   generic adaptive MLMC driver (Giles) for any coupled level sampler
:class:`MatmulLevels`          the coupled level sampler behind ``mlmc_matmul``
:class:`MLMCInfo`              diagnostics of an MLMC run (levels, N_l, means, variances, rates, cost)
:class:`UnbiasedLevelsWarning` issued when the levels cannot be biased (``f = None``)
=============================  ======================================================================
"""

from ._levels import *  # noqa: F403
from ._levels import __all__ as _levels_all
from ._mlmc import *  # noqa: F403
from ._mlmc import __all__ as _mlmc_all
from ._mlmc_matmul import *  # noqa: F403
from ._mlmc_matmul import __all__ as _mlmc_matmul_all
from ._sampled import *  # noqa: F403
from ._sampled import __all__ as _sampled_all
from ._sketched import *  # noqa: F403
from ._sketched import __all__ as _sketched_all
from ._variance import *  # noqa: F403
from ._variance import __all__ as _variance_all

__all__ = _levels_all + _mlmc_all + _mlmc_matmul_all + _sampled_all + _sketched_all + _variance_all
