"""What every sensing solver shares: the validated problem, the initialisations, and the iteration loop."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._backend import ConvergenceWarning, SolverResult, array_namespace, as_rng, random_normal, working_dtype
from .._validate import as_matrix, check_int, check_option, check_rank, check_real, check_tolerance
from ..matmul._common import exponent, outside_safe_range, scale_pow2
from ._operators import SensingOperator

__all__ = ["DIVERGENCE_FACTOR", "Problem", "check_step", "default_tol", "iterate"]

#: A run whose relative residual exceeds this multiple of its initial value (or 1) is stopped as diverged.
DIVERGENCE_FACTOR = 1e6


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
        """``alpha = tol / 1000``, at least ``10 eps`` (float64) or ``1e-4`` (float32), at most ``1e-3``.

        With an overparameterised rank the error stalls at a level proportional to ``alpha`` (the factor grows
        with the condition number: about ``alpha / 4`` at kappa = 10, ``1e3 alpha`` at kappa = 100 in the tests),
        so ``alpha`` sits well below the target; a small ``alpha`` costs only ``O(log(1/alpha))`` iterations.
        In float32 the first gradients, of size ``alpha sigma_1``, would drown in rounding below ``1e-4``.
        """
        eps = float(np.finfo(np.dtype(str(self.dtype).split(".")[-1])).eps)
        floor = 10 * eps if eps < 1e-10 else 1e-4
        return min(1e-3, max(1e-3 * self.tol, floor))


def _model(state, xp):
    if isinstance(state, tuple):
        L, R = state
        return L @ R.T
    return state @ state.T


def _finite(state, xp) -> bool:
    parts = state if isinstance(state, tuple) else (state,)
    return all(bool(xp.all(xp.isfinite(p))) for p in parts)


def iterate(problem: Problem, state, step, *, callback=None, name="solver", extra=None, done=None,
            criterion=None):
    """Run ``state <- step(state, G, residual, t)`` until the relative residual is at most ``problem.tol``.

    ``done(rel, t)`` replaces that stopping rule (``criterion`` then describes it in the messages).

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
    converged, diverged, stopped, t = done(rel, 0), False, False, 0
    while not converged and t < problem.n_iter:
        new = step(state, problem.adjoint(res), res, rel, t)
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
        if callback is not None and callback(_snapshot(_unscaled(state, problem.k), t, rel)):
            stopped = True
            break
    if diverged:
        message = (f"{name} diverged at iteration {t + 1} (relative residual above {limit:.3g} or not finite); "
                   "returning the last finite iterate: reduce the step size eta")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    elif stopped:
        message = f"stopped by the callback at iteration {t}"
    elif not converged:
        message = (f"{name} did not reach {criterion} in {problem.n_iter} iterations (relative residual "
                   f"{rel:.3g})")
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    else:
        message = f"reached {criterion} (relative residual {rel:.3g})"
    state = _unscaled(state, problem.k)
    factors = {"L": state[0], "R": state[1]} if isinstance(state, tuple) else {"X": state}
    return SolverResult(**factors, converged=bool(converged), diverged=diverged, n_iter=t, message=message,
                        history=history, **(extra or {}))


def _unscaled(state, k):
    """Factors of the problem on ``y 4^-k`` as factors of the problem on ``y``."""
    if not k:
        return state
    return tuple(scale_pow2(p, k) for p in state) if isinstance(state, tuple) else scale_pow2(state, k)


def _snapshot(state, t, rel):
    factors = {"L": state[0], "R": state[1]} if isinstance(state, tuple) else {"X": state}
    return SolverResult(**factors, iteration=t, residual=rel)
