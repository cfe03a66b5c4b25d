"""Factored first-order solvers of low-rank matrix sensing: ScaledGD(lambda), ScaledGD, GD, PrecGD, l1 subgradient."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._backend import ConvergenceWarning, as_rng, is_numpy_namespace
from .._validate import check_option, check_real, refuse_random_state
from ..matmul._common import scale_pow2
from ._problem import Problem, check_step, iterate

__all__ = ["gd", "precgd", "scaled_gd", "scaled_gd_lambda", "subgradient_l1"]

#: ``lam="auto"`` of :func:`scaled_gd_lambda`: the damping of each iteration is this multiple of the residual
#: ``||A(X X^T) - y||`` (PrecGD's rule, :func:`precgd`, is the multiple 1).
AUTO_DAMPING = 0.3

#: :func:`subgradient_l1` restarts its step schedule when, with the step run down below `tol`, a step of
#: ``eta 10^-j`` (``j = 0, ..., 6``) along the subgradient direction still lowers the l1 fit by more than this many
#: times ``eps ||y||_1`` (its rounding): the schedule ran out before the iterates reached a minimiser, where the
#: fit's minimum is sharp and no step lowers it. (Relative to the fit itself the gain can be tiny: with 20% gross
#: outliers a stall at 1.3e-2 relative error lowered it by 3e-5 of it.) At most ``SUBGRADIENT_RESTARTS`` times.
SUBGRADIENT_STALL_FLOOR = 1000.0
SUBGRADIENT_RESTARTS = 3


def _precondition(grad, gram, damping, xp):
    """``grad (gram + damping I)^-1`` for a small symmetric positive (semi)definite `gram`.

    Called once or twice per iteration between the NumPy products of the loop, so the (r, r) solve stays in
    NumPy's LAPACK (``numpy.linalg.solve``), not scipy's: see ``lowrank_la._backend.SMALL_WORK_NOTE``.
    """
    r = gram.shape[0]
    P = gram + damping * xp.eye(r, dtype=gram.dtype) if damping else gram
    return (np.linalg if is_numpy_namespace(xp) else xp.linalg).solve(P, grad.T).T


def _ldexp(value, e) -> float:
    """``value 2^e`` (a parameter reported in the units of the caller's y; ``inf`` beyond the float range)."""
    try:
        return math.ldexp(value, e)
    except OverflowError:
        return math.inf


def _damped_run(problem, X, eta, lam, *, name, callback, extra):
    """``X <- X - eta grad f(X) (X^T X + lam_t I)^-1``, ``lam_t = lam`` (a float) or ``c ||A(X X^T) - y||``
    (``lam = ("residual", c)``); ``history["lam"]`` gets every damping and ``lam`` the last, in y's units."""
    xp = problem.xp
    damping = []

    def step(X, G, res, rel, t):
        value = lam[1] * rel * problem.y_norm if isinstance(lam, tuple) else lam
        damping.append(value)
        return X - eta * _precondition(G @ X, X.T @ X, value, xp)

    out = iterate(problem, X, step, callback=callback, name=name, extra=extra)
    out.history["lam"] = [_ldexp(value, 2 * problem.k) for value in damping[:out.n_iter]]
    fixed = None if isinstance(lam, tuple) else _ldexp(lam, 2 * problem.k)
    out.lam = out.history["lam"][-1] if out.history["lam"] else fixed
    return out


@refuse_random_state
def scaled_gd_lambda(op, y, r, *, lam="auto", eta=0.5, alpha="auto", x0=None, n_iter=1000, tol=None, truth=None,
                     callback=None, rng=None):
    r"""Recover a PSD low-rank matrix by ScaledGD(lambda): damped preconditioned GD from a small random start.

    Minimises ``f(X) = ||A(X X^T) - y||^2 / 4`` over ``X`` (n, r) by

    ``X <- X - eta grad f(X) (X^T X + lam_t I)^-1``,  ``grad f(X) = sym(A*(A(X X^T) - y)) X``,

    from ``X_0 = alpha sqrt(sigma_hat_1) G``, ``G_ij ~ N(0, 1/n)`` (``sigma_hat_1`` the top eigenvalue of
    ``sym(A*(y))``). The rank ``r`` may exceed the true rank ``r*`` (overparameterisation): the damping keeps the
    preconditioner bounded on the directions that stay small. Nothing but the data is needed: the default
    damping, step and start are set from them (see Notes), and the run stops at `tol` or at the noise level of
    the data, which it reports.

    Parameters
    ----------
    op : SensingOperator
        The measurement map, square ``(n, n)`` (e.g. :class:`GaussianSensing`).
    y : (m,) array
        The measurements ``A(M) (+ noise)``, finite, of length ``op.n_measurements``; float32 stays float32.
    r : int
        Rank of the factor, ``1 <= r <= n``; may exceed the rank of ``M`` (``r = 2 r*`` is a safe guess).
    lam : "auto" or float
        The damping. ``"auto"`` (default): ``lam_t = 0.3 ||A(X_t X_t^T) - y||``, adapted at every iteration (see
        Notes). A float ``lam >= 0`` is the paper's fixed damping, which its theorem asks to be within a constant
        factor of ``sigma_min(M)``, an oracle quantity.
    eta : float
        Step size, ``> 0`` (0.5 as Tong, Ma and Chi; the theory's is a small constant).
    alpha : "auto" or float
        Scale of the initialisation relative to ``sqrt(sigma_hat_1)``, ``> 0``. ``"auto"``: ``10 eps`` in
        float64, ``1e-4`` in float32 (the smaller the start, the later a noisy run fits noise; it costs only
        ``O(log(1/alpha))`` iterations).
    x0 : (n, r) array, optional
        Starting point instead of the random one (`alpha` and `rng` are then unused).
    n_iter : int
        Maximum number of iterations, ``>= 0``.
    tol : float, optional
        Stop when ``||A(X X^T) - y|| / ||y|| <= tol`` (default 1e-12 in float64, 1e-5 in float32). The run also
        stops, converged, at the noise level of the data (see Notes).
    truth : (n, n) array, optional
        For testing: ``M``; ``history["error"]`` then records ``||X X^T - M||_F / ||M||_F``.
    callback : callable, optional
        ``callback(state)`` after each iteration, with ``state.X``, ``state.iteration``, ``state.residual``
        (and ``state.error``, the last entry of ``history["error"]``, when `truth` is given); returning True
        stops the run.
    rng : None, int or numpy.random.Generator
        Randomness of the initialisation.

    Returns
    -------
    SolverResult
        ``X`` (n, r) with ``X X^T`` the estimate; ``converged`` (`tol` or the noise level reached); ``diverged``;
        ``n_iter``; ``message`` (which stop); ``noise_level`` (estimated standard deviation of the noise in `y`,
        ``||A(X X^T) - y|| / sqrt(m - dof)``, ``dof = n r - r (r - 1) / 2``); ``history["residual"]`` (relative
        residual of each iterate, the initial one first), ``history["lam"]`` (the damping of each iteration) and,
        with `truth`, ``history["error"]``; ``lam`` (the last damping) and ``alpha``.

    Raises
    ------
    ValueError
        `r` outside ``[1, n]``, `y` not of length ``op.n_measurements`` or not finite, `eta` not a finite
        number ``> 0``, `lam` not a finite number ``>= 0`` (or a string other than "auto"), `alpha` not a finite
        number ``> 0``, `x0` or `truth` of the wrong shape or not finite.
    TypeError
        `op` is not a sensing operator, `y`, `x0` or `truth` is complex or not numeric, or `callback` is not
        callable.

    Warns
    -----
    ConvergenceWarning
        Neither `tol` nor the noise level was reached in `n_iter` iterations, or the iteration diverged (the
        last finite iterate is returned with ``converged=False``, ``diverged=True``).

    See Also
    --------
    scaled_gd : ScaledGD at the exact rank, with asymmetric factors and a spectral start.
    precgd : PrecGD, whose damping follows the residual.
    gd : Vanilla factored gradient descent, the baseline.
    subgradient_l1 : Recovery robust to grossly corrupted measurements.

    Notes
    -----
    **The damping.** In the direction of ``sigma_i(M)`` the error contracts by about ``1 - 2 eta sigma_i /
    (sigma_i + lam)``, so a damping far above ``sigma_min`` slows the method to GD's kappa-dependent pace; the
    directions beyond the true rank grow by about ``1 + eta ||(A*A - I)(X X^T - M)|| / lam`` per step, so a
    damping far below the current error lets them grow and the run stalls. The paper's fixed ``lam`` within a
    constant of ``sigma_min(M)`` balances the two but needs ``sigma_min``, which cannot be read off ``A*(y)``
    when it lies below the design noise of ``A*(y)`` (about ``2 sqrt(n / m) ||M||_F``, 0.45 at n = 40, m = 800
    against ``sigma_min = 0.01`` at kappa = 100), and it cannot suit both phases of the run. ``lam="auto"``
    therefore takes the scale that matters at each iteration: the residual ``||A(X_t X_t^T) - y||``, which under
    the restricted isometry property is ``||X_t X_t^T - M||_F`` up to ``1 +- delta`` (plus the noise). While the
    large components are being fitted it is large, and damps the spurious directions; once only the small ones
    are left it is of their size, the paper's range ``lam ~ sigma_min`` (it is what an estimate of
    ``sigma_min`` from the run would give); then it falls with the error, and the rate tends to ScaledGD's. The
    factor 0.3 is the most robust of {0.1, 0.2, 0.3, 0.5} that is within 15% of the fastest on Gaussian designs
    (0.1 diverged at ``m = 3 n r*``, ``r = 4 r*``; at ``m = 10 n r*``, ``r = 2 r*`` the counts to 1e-10 were
    105-120 for 0.1 and 115-135 for 0.3 whatever kappa). PrecGD (:func:`precgd`) uses the factor 1 from a spectral
    start.

    Measured with these defaults (Gaussian design, ``m = 10 n r*``, ``r = 2 r*``, ``M = U diag(linspace(1,
    1/kappa, r*)) U^T``, n in {40, 100}, r* in {2, 5}, kappa in {1, 10, 100, 1e3, 1e4}, 5 seeds each): 106 to 162
    iterations to a relative error of 1e-10, no stall, at most 1.16 times the count of the same seed at
    kappa = 1; no fixed ``lam`` of the grid ``{0.1, 0.3, ..., 1e4} sigma_min`` did better than 1.5 times fewer
    (on n = 40, r* = 2, seed 0 its best needed 98, 182, 299, 2030 and more than 3000 iterations for the five
    kappa, against 130, 135, 128, 122 and 113). See the ``scaledgd-lambda`` reproduction.

    **Noise.** With noisy measurements the residual levels off at the noise while the directions beyond the
    true rank start fitting it. The run stops when the residual, extrapolated geometrically, will fall by less
    than 0.1% more and ``A*(residual)`` has no larger spectral norm than ``A*`` of the residual with random signs
    (which keeps white noise and destroys the low-rank structure of a component still to be fitted: this tells
    the noise floor from a plateau). On the panel above with noise of 0.1% and 10% of ``||y|| / sqrt(m)``
    (kappa up to 100) it stopped within 1.08 times the iterations it took to first come within 1.1 times its
    final error, at an error within 1.01 times that of the rank-r* least-squares fit.

    **Cost.** Each iteration applies ``A`` and ``A*`` once (``4 m n^2`` flops with a dense Gaussian design, half
    of that when symmetric) and does ``O(n^2 r + n r^2 + r^3)`` factor work; a noise test, run only when the
    residual levels off, costs one more ``A*`` and two ``n x n`` eigenvalue computations. The iteration count
    claimed by the paper is ``O(log kappa log(kappa n) + log(1/eps))``, against a polynomial dependence on
    ``kappa`` for GD.

    References
    ----------
    .. [1] X. Xu, Y. Shen, Y. Chi, C. Ma, "The Power of Preconditioning in Overparameterized Low-Rank Matrix
       Sensing", ICML 2023, arXiv:2302.01186.
    .. [2] J. Zhang, S. Fattahi, R. Y. Zhang, "Preconditioned Gradient Descent for Over-Parameterized Nonconvex
       Matrix Factorization", NeurIPS 2021 (the damping that follows the residual).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing, scaled_gd_lambda
    >>> gen = np.random.default_rng(0)
    >>> U = np.linalg.qr(gen.standard_normal((20, 2)))[0]
    >>> M = (U * [1.0, 0.001]) @ U.T                       # rank 2, condition number 1000
    >>> op = GaussianSensing(20, 400, rng=1)
    >>> res = scaled_gd_lambda(op, op.forward(M), 4, rng=2)   # overparameterised: r = 4 > 2
    >>> res.converged, bool(np.linalg.norm(res.X @ res.X.T - M) < 1e-9 * np.linalg.norm(M))
    (True, True)

    With noise, the run stops at the noise level and estimates it:

    >>> y = op.forward(M) + 1e-3 * gen.standard_normal(400)
    >>> res = scaled_gd_lambda(op, y, 4, rng=2)
    >>> res.converged, round(res.noise_level, 3)
    (True, 0.001)
    """
    problem = Problem(op, y, r, truth=truth, tol=tol, n_iter=n_iter)
    rng = as_rng(rng, problem.xp)
    eta = check_step(eta)
    if isinstance(lam, str):
        check_option(lam, "lam", ["auto"])
        lam = ("residual", AUTO_DAMPING)
    else:
        lam = math.ldexp(check_real(lam, "lam", low=0), -2 * problem.k)  # in the units of the rescaled y
    X, alpha = problem.init("small" if x0 is None else x0, alpha, rng, problem.auto_alpha(), name="x0")
    return _damped_run(problem, X, eta, lam, name="scaled_gd_lambda", callback=callback, extra={"alpha": alpha})


@refuse_random_state
def scaled_gd(op, y, r, *, eta=0.5, init="spectral", asymmetric=True, n_iter=1000, tol=None, truth=None,
              callback=None, rng=None):
    r"""Recover an exact-rank matrix by ScaledGD (Tong, Ma and Chi): preconditioned GD from a spectral start.

    Asymmetric factors (``M = L R^T``, any ``(n1, n2)``), loss ``||A(L R^T) - y||^2 / 2``:

    ``L <- L - eta grad_L (R^T R)^-1``,  ``R <- R - eta grad_R (L^T L)^-1``  (both from the old pair),

    with ``grad_L = A*(A(L R^T) - y) R`` and ``grad_R = A*(A(L R^T) - y)^T L``. With ``asymmetric=False`` (PSD
    ``M = X X^T``, square operator): ``X <- X - eta grad f(X) (X^T X)^-1`` for ``f(X) = ||A(X X^T) - y||^2 / 4``,
    the undamped (``lam = 0``) case of :func:`scaled_gd_lambda`.

    Parameters
    ----------
    op : SensingOperator
        The measurement map.
    y : (m,) array
        The measurements, finite.
    r : int
        The rank, ``1 <= r <= min(n1, n2)``; ScaledGD needs the true rank (``L^T L`` must stay invertible).
    eta : float
        Step size, ``> 0`` (0.5 in the authors' scripts; the theory, as recalled, asks ``eta <= 2/3``).
    init : "spectral", "small" or arrays
        ``"spectral"``: the top-``r`` SVD (eigendecomposition) ``U S V^T`` of ``A*(y)``, ``L = U S^1/2``,
        ``R = V S^1/2``; ``"small"``: small random factors (scale ``1e-3``); or ``(L0, R0)`` (``X0`` when
        ``asymmetric=False``).
    asymmetric : bool
        Factor ``L R^T`` (True) or ``X X^T`` (False).
    n_iter : int
        As in :func:`scaled_gd_lambda`.
    tol : float, optional
        As in :func:`scaled_gd_lambda`.
    truth : array, optional
        As in :func:`scaled_gd_lambda`.
    callback : callable, optional
        As in :func:`scaled_gd_lambda`.
    rng : None, int or numpy.random.Generator
        As in :func:`scaled_gd_lambda` (`rng` only for ``init="small"``).

    Returns
    -------
    SolverResult
        ``L`` (n1, r) and ``R`` (n2, r) (or ``X`` when ``asymmetric=False``), ``converged`` (`tol` or the noise
        level reached, as in :func:`scaled_gd_lambda`), ``diverged``, ``n_iter``, ``message``, ``history``,
        ``noise_level``.

    Raises
    ------
    ValueError, TypeError
        As :func:`scaled_gd_lambda`.

    See Also
    --------
    scaled_gd_lambda : ScaledGD(lambda), for an overparameterised rank from a small random start.
    gd : Vanilla factored gradient descent, slow for ill-conditioned matrices.
    precgd : PrecGD, with adaptive damping.

    Notes
    -----
    Under the RIP, [1]'s theorem for matrix sensing makes ScaledGD contract at a rate independent of the
    condition number; vanilla GD (:func:`gd`) contracts at ``1 - O(eta / kappa)``. The constants we recall for
    that theorem (``0 < eta <= 2/3``, rate ``(1 - 0.6 eta)`` per iteration, ``delta_2r`` of order
    ``1 / (sqrt(r) kappa)``) were not checked against the paper's text; only the step-size range is corroborated,
    by a later theorem that extends [1] (Zhang and Pilanci, ICML 2024, which keeps ``0 < eta <= 2/3``). Nothing
    in the code depends on them. Cost per iteration: one application of ``A`` and one of ``A*``, plus
    ``O((n1 + n2) r^2 + r^3)``.

    References
    ----------
    .. [1] T. Tong, C. Ma, Y. Chi, "Accelerating Ill-Conditioned Low-Rank Matrix Estimation via Scaled Gradient
       Descent", JMLR 22(150):1-63, 2021, arXiv:2005.08898.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing, scaled_gd
    >>> gen = np.random.default_rng(0)
    >>> M = gen.standard_normal((15, 2)) @ gen.standard_normal((2, 12))
    >>> op = GaussianSensing((15, 12), 300, symmetric=False, rng=1)
    >>> res = scaled_gd(op, op.forward(M), 2)
    >>> res.converged, bool(np.linalg.norm(res.L @ res.R.T - M) < 1e-9 * np.linalg.norm(M))
    (True, True)
    """
    asymmetric = bool(check_option(asymmetric, "asymmetric", [True, False]))
    problem = Problem(op, y, r, truth=truth, tol=tol, n_iter=n_iter, psd=not asymmetric)
    rng = as_rng(rng, problem.xp)
    eta = check_step(eta)
    state, _ = problem.init(init, "auto", rng, 1e-3)
    xp = problem.xp

    def step(state, G, res, rel, t):
        if not asymmetric:
            return state - eta * _precondition(G @ state, state.T @ state, 0.0, xp)
        L, R = state
        return (L - eta * _precondition(G @ R, R.T @ R, 0.0, xp),
                R - eta * _precondition(G.T @ L, L.T @ L, 0.0, xp))

    return iterate(problem, state, step, callback=callback, name="scaled_gd")


@refuse_random_state
def gd(op, y, r, *, eta=0.5, init="spectral", alpha="auto", asymmetric=False, n_iter=1000, tol=None, truth=None,
       callback=None, rng=None):
    r"""Vanilla factored gradient descent, the baseline of the preconditioned methods.

    PSD (default): ``X <- X - (eta / sigma_hat_1) sym(A*(A(X X^T) - y)) X``; asymmetric:
    ``L <- L - (eta / sigma_hat_1) A*(res) R``, ``R <- R - (eta / sigma_hat_1) A*(res)^T L``, where
    ``sigma_hat_1`` is the top eigenvalue (singular value) of ``A*(y)``, the spectral estimate of
    ``sigma_1(M)`` (Tong, Ma and Chi's step ``eta / sigma_1``).

    Parameters
    ----------
    op : SensingOperator
        As in :func:`scaled_gd_lambda`.
    y : (m,) array
        As in :func:`scaled_gd_lambda`.
    r : int
        As in :func:`scaled_gd_lambda`.
    eta : float
        Relative step, ``> 0``; the step taken is ``eta / sigma_hat_1`` (``result.step``).
    init : "spectral", "small" or array(s)
        Spectral initialisation (default), the small random one of :func:`scaled_gd_lambda` (scale `alpha`),
        or given factors.
    alpha : "auto" or float
        Scale of ``init="small"``, as in :func:`scaled_gd_lambda`.
    asymmetric : bool
        Factor ``L R^T`` instead of ``X X^T``.
    n_iter : int
        As in :func:`scaled_gd_lambda`.
    tol : float, optional
        As in :func:`scaled_gd_lambda`.
    truth : array, optional
        As in :func:`scaled_gd_lambda`.
    callback : callable, optional
        As in :func:`scaled_gd_lambda`.
    rng : None, int or numpy.random.Generator
        As in :func:`scaled_gd_lambda`.

    Returns
    -------
    SolverResult
        The factor(s), ``converged`` (`tol` or the noise level reached, as in :func:`scaled_gd_lambda`),
        ``diverged``, ``n_iter``, ``message``, ``history``, ``noise_level``, ``step``.

    Raises
    ------
    ValueError, TypeError
        As :func:`scaled_gd_lambda`.

    See Also
    --------
    scaled_gd : The preconditioned method, insensitive to the condition number.
    scaled_gd_lambda : The damped preconditioned method for an overparameterised rank.

    Notes
    -----
    Near the solution the error in the direction of ``sigma_i(M)`` contracts by ``1 - 2 eta sigma_i /
    sigma_1``: the iteration count grows linearly with the condition number ``kappa``.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing, gd
    >>> gen = np.random.default_rng(0)
    >>> X = gen.standard_normal((20, 2))
    >>> op = GaussianSensing(20, 400, rng=1)
    >>> res = gd(op, op.forward(X @ X.T), 2, n_iter=3000, tol=1e-10)
    >>> res.converged
    True
    """
    asymmetric = bool(check_option(asymmetric, "asymmetric", [True, False]))
    problem = Problem(op, y, r, truth=truth, tol=tol, n_iter=n_iter, psd=not asymmetric)
    rng = as_rng(rng, problem.xp)
    eta = check_step(eta)
    state, alpha = problem.init(init, alpha, rng, problem.auto_alpha())
    sigma = problem.sigma1()
    step_size = eta / sigma if sigma > 0 else eta

    def step(state, G, res, rel, t):
        if not asymmetric:
            return state - step_size * (G @ state)
        L, R = state
        return L - step_size * (G @ R), R - step_size * (G.T @ L)

    return iterate(problem, state, step, callback=callback, name="gd",
                   extra={"step": _ldexp(step_size, -2 * problem.k), "alpha": alpha})


@refuse_random_state
def precgd(op, y, r, *, eta=0.5, init="spectral", alpha="auto", n_iter=1000, tol=None, truth=None, callback=None,
           rng=None):
    r"""PrecGD (Zhang, Fattahi and Zhang): ScaledGD with the adaptive damping ``lam_t = ||A(X X^T) - y||``.

    ``X <- X - eta grad f(X) (X^T X + lam_t I)^-1`` with ``f(X) = ||A(X X^T) - y||^2 / 4``. The damping
    follows the residual, an estimate of ``||X X^T - M||_F`` under the RIP, so it fades as the iterates
    converge and the method is robust to an overparameterised rank without knowing ``sigma_min(M)``. It needs
    a good start: the spectral initialisation (default).

    Parameters
    ----------
    op : SensingOperator
        As in :func:`scaled_gd_lambda`.
    y : (m,) array
        As in :func:`scaled_gd_lambda`.
    r : int
        As in :func:`scaled_gd_lambda`.
    eta : float
        As in :func:`scaled_gd_lambda`.
    init : "spectral", "small" or (n, r) array
        The starting point (the theory assumes a spectral or otherwise good one).
    alpha : "auto" or float
        Scale of ``init="small"``.
    n_iter : int
        As in :func:`scaled_gd_lambda`.
    tol : float, optional
        As in :func:`scaled_gd_lambda`.
    truth : array, optional
        As in :func:`scaled_gd_lambda`.
    callback : callable, optional
        As in :func:`scaled_gd_lambda`.
    rng : None, int or numpy.random.Generator
        As in :func:`scaled_gd_lambda`.

    Returns
    -------
    SolverResult
        ``X``, ``converged`` (`tol` or the noise level reached, as in :func:`scaled_gd_lambda`), ``diverged``,
        ``n_iter``, ``message``, ``history`` (with ``history["lam"]``, the damping of each iteration), ``lam``
        (the last damping), ``noise_level``.

    Raises
    ------
    ValueError, TypeError
        As :func:`scaled_gd_lambda`.

    See Also
    --------
    scaled_gd_lambda : ScaledGD(lambda), with a fixed damping.
    scaled_gd : ScaledGD without damping, at the exact rank.

    References
    ----------
    .. [1] J. Zhang, S. Fattahi, R. Y. Zhang, "Preconditioned Gradient Descent for Over-Parameterized Nonconvex
       Matrix Factorization", NeurIPS 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing, precgd
    >>> gen = np.random.default_rng(0)
    >>> X = gen.standard_normal((20, 2))
    >>> op = GaussianSensing(20, 400, rng=1)
    >>> res = precgd(op, op.forward(X @ X.T), 4)          # overparameterised
    >>> bool(res.history["residual"][-1] < 1e-8)
    True
    """
    problem = Problem(op, y, r, truth=truth, tol=tol, n_iter=n_iter)
    rng = as_rng(rng, problem.xp)
    eta = check_step(eta)
    X, alpha = problem.init(init, alpha, rng, problem.auto_alpha())
    return _damped_run(problem, X, eta, ("residual", 1.0), name="precgd", callback=callback, extra={"alpha": alpha})


@refuse_random_state
def subgradient_l1(op, y, r, *, eta=1.0, decay=0.95, alpha="auto", x0=None, n_iter=2000, tol=None, truth=None,
                   callback=None, rng=None):
    r"""Robust recovery from grossly corrupted measurements: subgradient method on the l1 loss (Ma and Fattahi).

    Minimises ``f(X) = ||A(X X^T) - y||_1`` from a small random start by

    ``X <- X - eta_t D(X) X``,  ``D(X) = sqrt(pi / (2 m)) sym(A*(sign(A(X X^T) - y)))``,  ``eta_t = eta decay^t``.

    For a Gaussian design ``E D(X) = (X X^T - M) / ||X X^T - M||_F`` without outliers, so the steps are
    dimensionless and the geometric decay sets the rate at which the error can shrink. A fraction of
    arbitrarily large outliers among the measurements leaves the subgradient direction nearly unchanged, where
    the l2 methods fit the outliers.

    Parameters
    ----------
    op : SensingOperator
        As in :func:`scaled_gd_lambda`.
    y : (m,) array
        As in :func:`scaled_gd_lambda`; `y` may contain gross outliers.
    r : int
        As in :func:`scaled_gd_lambda`.
    eta : float
        Initial step, ``> 0``.
    decay : float
        Geometric decay of the step, ``0 < decay <= 1``: the error falls by about ``decay`` per iteration once
        the start-up (growth from the small initialisation) is over, if the step is not too small by then
        (where it was, the schedule restarts: see Notes).
    alpha : "auto" or float
        Scale of the initialisation relative to ``sqrt(F_hat)``, ``F_hat = sqrt(m) median|y| / 0.6745``, a
        robust estimate of ``||M||_F``; ``"auto"``: 1e-3.
    x0 : (n, r) array, optional
        Starting point instead of the random one.
    n_iter : int
        Cap on the iterations (default 2000: one schedule runs down to `tol` in about 540 at the defaults, and a
        restart takes as many again; see Notes).
    tol : float, optional
        Stop when the relative l1 change of the fit is small: when ``eta_t < tol`` (the iterates then move by
        less than ``tol ||X||`` per step). Default 1e-12 in float64, 1e-5 in float32.
    truth : array, optional
        As in :func:`scaled_gd_lambda`.
    callback : callable, optional
        As in :func:`scaled_gd_lambda`.
    rng : None, int or numpy.random.Generator
        As in :func:`scaled_gd_lambda`.

    Returns
    -------
    SolverResult
        ``X``, ``converged`` (the step fell below `tol` at a minimiser of the l1 fit), ``restarts`` (of the
        step schedule), ``diverged``, ``n_iter``, ``message``, ``history``
        (``residual``: the relative l2 residual, large with outliers; ``l1``: ``||A(X X^T) - y||_1 / ||y||_1``;
        ``error`` with `truth`); ``noise_level``: the robust estimate ``median |A(X X^T) - y| / 0.6745`` of the
        standard deviation of the noise among the measurements that are not outliers.

    Raises
    ------
    ValueError, TypeError
        As :func:`scaled_gd_lambda`, and ``decay`` outside ``(0, 1]``.

    Warns
    -----
    ConvergenceWarning
        If `n_iter` runs out first, or if the iterates still stall short of a minimiser after
        ``SUBGRADIENT_RESTARTS`` restarts (``converged=False``; raise `decay` or `eta`).

    See Also
    --------
    scaled_gd_lambda : The least-squares method for measurements with small noise only.
    scaled_gd : ScaledGD on the least-squares loss.

    Notes
    -----
    The geometric schedule can run down before the iterates arrive: from an unlucky start the growth out of the
    small initialisation takes longer, and the step is below `tol` while the iterates are still far from the
    solution (on 8 x 8 rank-2 problems with 150 Gaussian measurements, 1 of 30 starts stopped 0.2 away at the
    default ``decay = 0.95``; 0 of 30 at 0.97, in 1.7x the iterations). So when the step falls below `tol`, the
    steps ``eta 10^-j`` (``j = 0, ..., 6``) along ``-D(X) X`` are tried: at a minimiser none lowers the l1 fit
    (its minimum is sharp), at a stall one does by more than its rounding (``SUBGRADIENT_STALL_FLOOR eps
    ||y||_1``), and the schedule restarts from that step (at most ``SUBGRADIENT_RESTARTS`` times). A run that
    needs no restart is unchanged by this test, which costs 8 products with the measurement operator. At the
    paper's size (n = 100, r = 5, m = 10,000) the default schedule stalled at 0.47 to 0.9 relative error from
    the seed of the ``subgradient-l1`` reproduction; restarted once, it reached 1e-12 in 1,078 iterations.

    References
    ----------
    .. [1] J. Ma, S. Fattahi, "Global convergence of sub-gradient method for robust matrix recovery: small
       initialization, noisy measurements, and over-parameterization", JMLR 24(96):1-84, 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing, subgradient_l1
    >>> gen = np.random.default_rng(0)
    >>> X = gen.standard_normal((20, 2))
    >>> M = X @ X.T
    >>> op = GaussianSensing(20, 800, rng=1)
    >>> y = op.forward(M)
    >>> bad = gen.choice(800, 80, replace=False)
    >>> y[bad] += 100 * np.linalg.norm(M) * gen.standard_normal(80)     # 10% gross outliers
    >>> res = subgradient_l1(op, y, 2, rng=2)
    >>> bool(np.linalg.norm(res.X @ res.X.T - M) < 1e-6 * np.linalg.norm(M))
    True
    """
    problem = Problem(op, y, r, truth=truth, tol=tol, n_iter=n_iter)
    rng = as_rng(rng, problem.xp)
    eta = check_step(eta)
    decay = check_real(decay, "decay", low=0, high=1, low_inclusive=False)
    xp = problem.xp
    m = op.n_measurements
    y_l1 = float(xp.sum(xp.abs(problem.y)))
    scale = math.sqrt(m) * float(_median(xp.abs(problem.y), xp)) / 0.6745
    if x0 is None:
        alpha = 1e-3 if isinstance(alpha, str) and check_option(alpha, "alpha", ["auto"]) else \
            check_real(alpha, "alpha", low=0, low_inclusive=False)
        X = problem.small_init(alpha, as_rng(rng, xp), scale)
    else:
        X, alpha = problem.given_init(x0), None
    norm = math.sqrt(math.pi / (2 * m))
    l1_history = []
    # the schedule eta decay^(t - start); the iterate the last step made
    run = {"start": 0.0, "restarts": 0, "stalled": False, "X": X}

    def direction(X, res):
        """``D(X) X``, ``D = sqrt(pi / 2m) A^*(sign(res))``: the l1 fit's subgradient direction."""
        return (problem.adjoint(xp.sign(res)) * norm) @ X

    def step(X, G, res, rel, t):
        l1_history.append(float(xp.sum(xp.abs(res))) / y_l1)
        run["X"] = X - (eta * decay ** (t - run["start"])) * direction(X, res)
        return run["X"]

    def l1_fit(X):
        res, _ = problem.residual(X @ X.T)
        return float(xp.sum(xp.abs(res))), res

    def stall_step(X):
        """The step ``eta 10^-j`` that lowers the l1 fit most along ``-D(X) X``, if by more than its rounding."""
        f0, res = l1_fit(X)
        DX = direction(X, res)
        best, target = None, f0 - SUBGRADIENT_STALL_FLOOR * float(xp.finfo(problem.dtype).eps) * y_l1
        for j in range(7):
            f, _ = l1_fit(X - (eta * 10.0**-j) * DX)
            if f < target:
                best, target = eta * 10.0**-j, f
        return best

    def small_step(rel, t):
        if eta * decay ** (t - run["start"]) >= problem.tol:
            return False
        if decay < 1:
            s = stall_step(run["X"])
            if s is not None and run["restarts"] < SUBGRADIENT_RESTARTS:
                run["restarts"] += 1
                run["start"] = t - math.log(s / eta) / math.log(decay)  # the step is s again
                return False
            run["stalled"] = s is not None
        return True

    out = iterate(problem, X, step, callback=callback, name="subgradient_l1", extra={"alpha": alpha},
                  done=small_step, criterion=f"a step size below tol={problem.tol:.3g}", noise_stop=False)
    out.restarts = run["restarts"]
    if out.converged and run["stalled"]:
        out.converged = False
        out.message = (f"subgradient_l1: the step size fell below tol={problem.tol:.3g} at iteration {out.n_iter} "
                       f"after {run['restarts']} restarts of its schedule, but a larger step still lowers the l1 fit: "
                       "the iterates stalled short of a minimiser; raise decay (closer to 1) or eta")
        warnings.warn(out.message, ConvergenceWarning, stacklevel=2)
    res_final, _ = problem.residual(scale_pow2(out.X, -problem.k) @ scale_pow2(out.X, -problem.k).T)
    # the l2 estimate of the noise would count the outliers: the median absolute deviation ignores them
    out.noise_level = _ldexp(float(_median(xp.abs(res_final), xp)) / 0.6745, 2 * problem.k)
    l1_history = l1_history[:out.n_iter] + [float(xp.sum(xp.abs(res_final))) / y_l1]
    out.history["l1"] = l1_history
    return out


def _median(v, xp):
    s = xp.sort(v)
    k = s.shape[0]
    return (s[(k - 1) // 2] + s[k // 2]) / 2
