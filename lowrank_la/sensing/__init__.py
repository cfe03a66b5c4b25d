"""Low-rank matrix sensing (:mod:`lowrank_la.sensing`).

Recover a low-rank matrix ``M`` from linear measurements ``y = A(M) (+ noise)``, ``A(M)_i = <A_i, M>``, by
factored gradient methods: ``M = X X^T`` (PSD) or ``M = L R^T``. The measurement operators expose ``forward``
and ``adjoint``; the solvers touch ``M`` only through them and return a :class:`lowrank_la.SolverResult`.

Measurement operators
---------------------
=============================  ==================================================================================
:class:`SensingOperator`       the interface: ``forward(X)``, ``adjoint(z)``, ``shape``, ``n_measurements``,
                               ``adjoint_error(rng)``
:class:`GaussianSensing`       i.i.d. ``N(0, 1/m)`` designs (symmetric or not), dense or regenerated block by block
                               from counter-based Philox streams
:class:`SamplingOperator`      entry sampling (matrix completion), scaled to be isometric in expectation
:class:`LinearMapSensing`      a user's ``forward`` / ``adjoint`` pair
=============================  ==================================================================================

Solvers
-------
=============================  ==================================================================================
:func:`scaled_gd_lambda`       ScaledGD(lambda): damped preconditioner, small random start, overparameterised rank
                               (Xu, Shen, Chi and Ma, ICML 2023)
:func:`scaled_gd`              ScaledGD at the exact rank, spectral start, asymmetric factors (Tong, Ma and Chi)
:func:`gd`                     vanilla factored gradient descent (the baseline)
:func:`precgd`                 PrecGD: damping that follows the residual (Zhang, Fattahi and Zhang)
:func:`subgradient_l1`         l1-loss subgradient method with geometric steps, robust to gross outliers
                               (Ma and Fattahi)
=============================  ==================================================================================
"""

from ._operators import *  # noqa: F403
from ._operators import __all__ as _operators_all
from ._solvers import *  # noqa: F403
from ._solvers import __all__ as _solvers_all

__all__ = list(_operators_all) + list(_solvers_all)
