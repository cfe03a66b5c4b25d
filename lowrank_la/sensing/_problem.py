"""What every sensing solver shares: the validated problem, the initialisations, and the iteration loop."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._backend import (
    ConvergenceWarning,
    SolverResult,
    array_namespace,
    as_rng,
    is_numpy_namespace,
    random_normal,
    working_dtype,
)
from .._validate import as_matrix, check_int, check_option, check_rank, check_real, check_tolerance
from ..matmul._common import exponent, outside_safe_range, scale_pow2
from ._operators import SensingOperator

__all__ = [
    "DIVERGENCE_FACTOR", "GRADIENT_RATIO", "NOISE_RATIO", "STALL_FRACTION", "Problem", "check_step", "default_tol",
    "iterate",
]

#: A run whose relative residual exceeds this multiple of its initial value (or 1) is stopped as diverged.
DIVERGENCE_FACTOR = 1e6
#: The noise-floor stop is tested once the squared residual, extrapolated geometrically from its last three
#: values, is predicted to fall by less than this fraction of itself.
STALL_FRACTION = 1e-3
#: ... and it stops when ``||A*(res)||_2`` is at most this multiple of ``||A*(s * res)||_2`` for random signs
#: ``s`` (the residual then carries no low-rank structure that the sign flip would destroy: a component of size
#: ``d`` above a noise edge ``e`` shows as an outlier ``d + e^2 / d >= 2 e``) ...
NOISE_RATIO = 1.15
#: ... and the factor gradient ``||A*(res) X||_F`` is at most this fraction of ``||A*(s * res) X||_F`` (the
#: iterate is stationary at the scale of the noise). At the noise floor of the noisy sensing panel (n = 40,
#: r* = 2, four solvers, kappa up to 100) the two ratios were 0.88-0.94 and 0.005-0.11; a slow phase of ScaledGD
#: at m = 5 n r (n = 20, kappa = 10, noiseless, error 0.13) gave 1.34 and 0.36, plateaus 1.85-3.4.
GRADIENT_RATIO = 0.2
#: Seed of the random signs of the noise test (fixed: the solvers with a spectral start stay deterministic).
SIGN_SEED = 0x5EED


def default_tol(dtype) -> float:
    """The default stopping tolerance on the relative residual: 1e-12 in float64, 1e-5 in float32."""
    return 1e-12 if np.dtype(str(dtype).split(".")[-1]).itemsize >= 8 else 1e-5


def check_step(eta, name="eta"):
    """A step size: a real number ``> 0`` (``ValueError`` naming `name` otherwise)."""
    return check_real(eta, name, low=0, low_inclusive=False)


class Problem:
    """A validated sensing problem ``y = A(M)``: the operator, the data, the truth (for testing), the namespace."""

    def __init__(self, op, y, r, *, truth=None, psd=True, tol=None, n_iter=1000):
        if not isinstance(op, SensingOperator):
            raise TypeError(f"op must be a lowrank_la.sensing operator (GaussianSensing, SamplingOperator, "
                            f"LinearMapSensing), got {type(op).__name__}")
        n1, n2 = op.shape
        if psd and n1 != n2:
            raise ValueError(f"this solver recovers a PSD matrix and needs a square operator, got op.shape = "
                             f"{op.shape}")
        y = as_matrix(y, "y", ndim=1, sparse=False)  # numeric, real, finite, 1-D
        if y.shape[0] != op.n_measurements:
            raise ValueError(f"y has {y.shape[0]} entries but the operator takes {op.n_measurements} measurements")
        self.xp = xp = array_namespace(y)
        self.dtype = working_dtype(y.dtype, xp, name="y")
        self.y = y if y.dtype == self.dtype else xp.astype(y, self.dtype)  # astype copies: y is never written
        e = exponent(xp.max(xp.abs(self.y)))
        # y of extreme scale is solved as y 4^-k (exact), the factors scaled back by 2^k: X X^T and the gradients
        # of 1e300 (or 1e-300) data would overflow (underflow) in the products
        self.k = e // 2 if outside_safe_range(e, self.dtype) else 0
        self.y = scale_pow2(self.y, -2 * self.k)
        self.op, self.psd = op, psd
        self.r = check_rank(r, op.shape, name="r", upper=min(op.shape), upper_text=f"min(op.shape) = {min(op.shape)}")
        self.n_iter = check_int(n_iter, "n_iter", low=0)
        self.tol = default_tol(self.dtype) if tol is None else check_tolerance(tol, "tol")
        self.y_norm = float(xp.linalg.vector_norm(self.y))
        if self.y_norm == 0:
            raise ValueError("y is all zeros: the only solution is M = 0")
        self.truth = None
        if truth is not None:
            truth = as_matrix(truth, "truth", sparse=False)  # numeric, real and finite
            if tuple(truth.shape) != tuple(op.shape):
                raise ValueError(f"truth must have shape {op.shape}, got {tuple(truth.shape)}")
            truth = scale_pow2(xp.asarray(truth, dtype=self.dtype), -2 * self.k)
            self.truth = truth
            self.truth_norm = float(xp.linalg.matrix_norm(truth))
        self._spectrum = None
        self._signs = None

    # ---------------------------------------------------------------- the maps
    def residual(self, M):
        """``A(M) - y`` and its norm relative to ``||y||``."""
        res = self.op.forward(M) - self.y
        return res, float(self.xp.linalg.vector_norm(res)) / self.y_norm

    def adjoint(self, z):
        """``A*(z)``, symmetrised for PSD problems (the gradient of ``||A(X X^T) - y||^2 / 4`` is it times X)."""
        G = self.op.adjoint(z)
        return (G + G.T) / 2 if self.psd else G

    def error(self, M):
        if self.truth is None:
            return None
        return float(self.xp.linalg.matrix_norm(M - self.truth)) / self.truth_norm

    # ---------------------------------------------------------------- spectral information of A*(y)
    def spectrum(self):
        """Eigen- (PSD) or singular value decomposition of ``A*(y)``, computed once: ``(U, values, V)``."""
        if self._spectrum is None:
            xp = self.xp
            G = self.adjoint(self.y)
            if self.psd:
                w, U = xp.linalg.eigh(G)
                order = xp.flip(xp.argsort(w))  # descending
                w, U = xp.take(w, order), xp.take(U, order, axis=1)
                self._spectrum = (U, w, U)
            else:
                U, s, Vh = xp.linalg.svd(G, full_matrices=False)
                self._spectrum = (U, s, Vh.T)
        return self._spectrum

    def sigma1(self) -> float:
        """Top eigenvalue (singular value) of ``A*(y)``: the spectral estimate of ``sigma_1(M)``."""
        return max(float(self.spectrum()[1][0]), 0.0)

    # ---------------------------------------------------------------- the noise level
    def _norm2(self, G) -> float:
        """Spectral norm of the gradient matrix (``eigvalsh`` when symmetric, NumPy's LAPACK on NumPy)."""
        xp = self.xp
        lin = np.linalg if is_numpy_namespace(xp) else xp.linalg
        values = lin.eigvalsh(G) if self.psd else lin.svdvals(G)
        return float(xp.max(xp.abs(values)))

    def at_noise(self, res, G, state) -> bool:
        """Whether the residual `res` of the iterate `state` is noise: no low-rank structure left to fit.

        Compares the gradient matrix ``G = A*(res)`` with ``G_s = A*(s * res)`` for random signs ``s``, which
        keep the distribution of white noise and destroy the low-rank structure of ``A(Delta)`` for an error
        ``Delta`` still to be fitted. Noise needs both

        * no outlier: ``||G||_2 <= NOISE_RATIO ||G_s||_2``; a component not yet grown from a small start (a
          plateau, where the factor gradient is tiny) shows as one;
        * stationarity: the factor gradient ``||G X||_F`` (``G R``, ``G^T L``) at most ``GRADIENT_RATIO`` times
          ``||G_s X||_F``; an error inside the span of the factors that is still being fitted (a slow phase), whose
          outlier may sit below the noise edge when ``m`` is small, shows there.

        The test holds for any operator, Gaussian, sampling or a user's.
        """
        xp = self.xp
        if self._signs is None:
            self._signs = as_rng(SIGN_SEED, xp)
        s = xp.sign(random_normal(self._signs, (self.op.n_measurements,), dtype=self.dtype, xp=xp))
        G_s = self.adjoint(res * s)
        if self._norm2(G) > NOISE_RATIO * self._norm2(G_s):
            return False
        parts = state if isinstance(state, tuple) else (state, state)

        def factor_gradient(G):
            return math.hypot(float(xp.linalg.matrix_norm(G @ parts[1])), float(xp.linalg.matrix_norm(G.T @ parts[0])))

        return factor_gradient(G) <= GRADIENT_RATIO * factor_gradient(G_s)

    def noise_level(self, rel) -> float:
        """Estimated standard deviation of the measurement noise, ``||res|| / sqrt(m - dof)``, in y's units.

        ``dof`` is the dimension of the rank-``r`` model (``n r - r (r - 1) / 2`` PSD, ``(n1 + n2 - r) r``
        otherwise), an upper bound when ``r`` exceeds the true rank: the estimate is then biased low by the factor
        ``sqrt((m - dof(r)) / (m - dof(r*)))``. NaN when ``m <= dof``.
        """
        n1, n2 = self.op.shape
        r = self.r
        dof = n1 * r - r * (r - 1) // 2 if self.psd else (n1 + n2 - r) * r
        free = self.op.n_measurements - dof
        if free <= 0:
            return math.nan
        return math.ldexp(rel * self.y_norm / math.sqrt(free), 2 * self.k)

    # ---------------------------------------------------------------- initialisations
    def spectral_init(self):
        """Top-r spectral factors of ``A*(y)``: ``X = U_r diag(sqrt(max(w, 0)))`` or ``(U S^1/2, V S^1/2)``."""
        xp = self.xp
        U, w, V = self.spectrum()
        root = xp.sqrt(xp.clip(w[:self.r], 0, None)) if self.psd else xp.sqrt(w[:self.r])
        if self.psd:
            return U[:, :self.r] * root
        return U[:, :self.r] * root, V[:, :self.r] * root

    def small_init(self, alpha, gen, scale):
        """``alpha sqrt(scale) G`` with ``G_ij ~ N(0, 1/n)``: the small random initialisation."""
        n = self.op.shape[0]
        G = random_normal(gen, (n, self.r), dtype=self.dtype, xp=self.xp)
        return G * (alpha * math.sqrt(max(scale, 0.0)) / math.sqrt(n))

    def given_init(self, x0, name="x0"):
        """A user's starting factor(s), validated and copied into the working dtype."""
        xp = self.xp
        n1, n2 = self.op.shape
        parts = x0 if isinstance(x0, tuple) else (x0,)
        shapes = [(n1, self.r)] if self.psd else [(n1, self.r), (n2, self.r)]
        if len(parts) != len(shapes):
            raise ValueError(f"{name} must be {'one (n, r) array' if self.psd else 'a pair (L0, R0)'}")
        out = []
        for part, shape in zip(parts, shapes):
            part = as_matrix(part, name, sparse=False)  # numeric, real (complex is refused, not cast) and finite
            if tuple(part.shape) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {tuple(part.shape)}")
            out.append(scale_pow2(xp.asarray(part, dtype=self.dtype, copy=True), -self.k))
        return out[0] if self.psd else tuple(out)

    def init(self, init, alpha, rng, default_alpha, name="init"):
        """Resolve ``init`` ("spectral", "small" or arrays) into the starting factor(s); returns (x0, alpha)."""
        if not isinstance(init, str):
            return self.given_init(init, name), None
        check_option(init, name, ["spectral", "small"])
        if init == "spectral":
            return self.spectral_init(), None
        if alpha == "auto":
            alpha = default_alpha
        else:
            alpha = check_real(alpha, "alpha", low=0, low_inclusive=False)
        gen = as_rng(rng, self.xp)
        X = self.small_init(alpha, gen, self.sigma1())
        if self.psd:
            return X, alpha
        return (X, self.small_init(alpha, gen, self.sigma1())), alpha

    def auto_alpha(self) -> float:
        """The default initialisation scale: ``10 eps`` in float64, ``1e-4`` in float32.

        A small start keeps the directions that the data do not determine (``r`` above the true rank) small for
        as long as possible: they grow by a bounded factor per iteration, with noise from its level upward, so
        the smaller they start, the later a noisy run begins to fit the noise (with ``alpha = 1e-8`` rather than
        ``2e-15`` the noisy panel of :func:`scaled_gd_lambda` ended up to 1.75 times farther from ``M`` than the
        rank-r* least-squares fit). A small ``alpha`` costs only ``O(log(1/alpha))`` iterations. In float32 the
        first gradients, of size ``alpha sigma_1``, would drown in rounding below ``1e-4``.
        """
        eps = float(np.finfo(np.dtype(str(self.dtype).split(".")[-1])).eps)
        return 10 * eps if eps < 1e-10 else 1e-4


def _model(state, xp):
    if isinstance(state, tuple):
        L, R = state
        return L @ R.T
    return state @ state.T


def _finite(state, xp) -> bool:
    parts = state if isinstance(state, tuple) else (state,)
    return all(bool(xp.all(xp.isfinite(p))) for p in parts)


def _predicted_fall(d) -> float:
    """How much further the squared residual ``d`` (its last three values) falls, extrapolated geometrically.

    With ``d_t = d_inf + c rho^t`` the next fall is ``rho`` times the last one, so ``d_t - d_inf = step rho /
    (1 - rho)``. A residual that did not fall is predicted to stay (0); one whose fall is not shrinking
    (the start from a small point, or a plateau being left) is not extrapolated (inf).
    """
    before, step = d[0] - d[1], d[1] - d[2]
    if step <= 0:
        return 0.0
    if before <= step:
        return math.inf
    rho = step / before
    return step * rho / (1 - rho)


def _fall_turned(d) -> bool:
    """The fall of the squared residual ``d`` (its last four values) shrank, then stopped shrinking."""
    falls = [d[0] - d[1], d[1] - d[2], d[2] - d[3]]
    return falls[0] > falls[1] > 0 and falls[2] >= falls[1]


def iterate(problem: Problem, state, step, *, callback=None, name="solver", extra=None, done=None,
            criterion=None, noise_stop=True):
    """Run ``state <- step(state, G, residual, t)`` until the relative residual is at most ``problem.tol``.

    ``done(rel, t)`` replaces that stopping rule (``criterion`` then describes it in the messages).

    With ``noise_stop`` the run also stops, converged, at the noise level of the data: when the residual is
    predicted to fall by less than :data:`STALL_FRACTION` of its square (geometric extrapolation of its last
    three values), or its fall stopped shrinking, and :meth:`Problem.at_noise` finds nothing but noise in it,
    which tells the noise floor from a plateau or a slow phase; a failed test is retried after 1, 2, 4, ...
    iterations while the residual stays flat. Every result reports ``noise_level`` (:meth:`Problem.noise_level`).

    `step` receives the gradient matrix ``G = A*(A(M) - y)`` (symmetrised for PSD problems), the residual vector,
    its relative norm, and the iteration number. Divergence (a non-finite iterate, or a residual above
    ``DIVERGENCE_FACTOR`` times the initial one) stops the run with the last finite iterate, ``converged=False``
    and a :class:`ConvergenceWarning`.
    """
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a callable, got {type(callback).__name__}")
    xp = problem.xp
    M = _model(state, xp)
    res, rel = problem.residual(M)
    history = {"residual": [rel]}
    if problem.truth is not None:
        history["error"] = [problem.error(M)]
    limit = DIVERGENCE_FACTOR * max(rel, 1.0)
    if done is None:
        def done(rel, t):
            return rel <= problem.tol
        criterion = f"the relative residual tol={problem.tol:.3g}"
    converged, diverged, stopped, at_noise, t = done(rel, 0), False, False, False, 0
    wait, next_test = 1, 0
    while not converged and t < problem.n_iter:
        G = problem.adjoint(res)
        if noise_stop and t >= 3:
            d = [v * v for v in history["residual"][-4:]]
            if _predicted_fall(d[1:]) > STALL_FRACTION * d[-1] and not _fall_turned(d):
                wait = 1
            elif t >= next_test:
                if problem.at_noise(res, G, state):
                    converged = at_noise = True
                    break
                next_test, wait = t + wait, 2 * wait
        new = step(state, G, res, rel, t)
        if not _finite(new, xp):
            diverged = True
            break
        M_new = _model(new, xp)
        res_new, rel_new = problem.residual(M_new)
        if not math.isfinite(rel_new) or rel_new > limit:
            diverged = True
            break
        state, M, res, rel, t = new, M_new, res_new, rel_new, t + 1
        history["residual"].append(rel)
        if problem.truth is not None:
            history["error"].append(problem.error(M))
        converged = done(rel, t)
        if callback is not None and callback(_snapshot(_unscaled(state, problem.k), t, rel, history.get("error"))):
            stopped = True
            break
    noise = problem.noise_level(rel)
    if diverged:
        message = (f"{name} diverged at iteration {t + 1} (relative residual above {limit:.3g} or not finite); "
                   "returning the last finite iterate: reduce the step size eta")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    elif stopped:
        message = f"stopped by the callback at iteration {t}"
    elif at_noise:
        message = (f"reached the noise level of the data at iteration {t}: the residual stopped falling and "
                   f"carries no structure beyond noise (relative residual {rel:.3g}, estimated noise standard "
                   f"deviation {noise:.3g})")
    elif not converged:
        message = (f"{name} did not reach {criterion} in {problem.n_iter} iterations (relative residual "
                   f"{rel:.3g})")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    else:
        message = f"reached {criterion} (relative residual {rel:.3g})"
    state = _unscaled(state, problem.k)
    factors = {"L": state[0], "R": state[1]} if isinstance(state, tuple) else {"X": state}
    return SolverResult(**factors, converged=bool(converged), diverged=diverged, n_iter=t, message=message,
                        history=history, noise_level=noise, **(extra or {}))


def _unscaled(state, k):
    """Factors of the problem on ``y 4^-k`` as factors of the problem on ``y``."""
    if not k:
        return state
    return tuple(scale_pow2(p, k) for p in state) if isinstance(state, tuple) else scale_pow2(state, k)


def _snapshot(state, t, rel, errors):
    factors = {"L": state[0], "R": state[1]} if isinstance(state, tuple) else {"X": state}
    error = {} if errors is None else {"error": errors[-1]}
    return SolverResult(**factors, iteration=t, residual=rel, **error)
