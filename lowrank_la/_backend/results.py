"""The result types and the warning every subpackage shares: ``SVDResult``, ``SVDAccuracyResult``,
``SolverResult``, ``ConvergenceWarning``."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["ConvergenceWarning", "SVDAccuracyResult", "SVDResult", "SolverResult"]


class ConvergenceWarning(UserWarning):
    """An iterative method stopped (iteration limit, breakdown) before meeting its tolerance.

    See Also
    --------
    lowrank_la.svd.rsvd : Warns with it when `max_passes` is reached before the tolerance.
    lowrank_la.psd.nystrom_pcg : Warns with it when CG stops before the tolerance.
    lowrank_la.completion.altmin_complete : Warns with it when the fit does not converge within `n_iter`.
    """


class SVDResult(NamedTuple):
    """A truncated SVD ``A ~ U @ diag(s) @ Vh`` with ``s`` descending.

    Attributes
    ----------
    U : (m, k) array
        Left singular vectors (orthonormal columns).
    s : (k,) array
        Singular values, descending.
    Vh : (k, n) array
        Right singular vectors, as rows.

    See Also
    --------
    SVDAccuracyResult : The same tuple with an accuracy report, as `rsvd` returns it.
    lowrank_la.svd.svd_update : Returns an SVDResult.
    lowrank_la.svd.StreamingSketch.fixed_rank : Returns an SVDResult.
    """

    U: Any
    s: Any
    Vh: Any


class SVDAccuracyResult(SVDResult):
    """An :class:`SVDResult` ``(U, s, Vh)`` that also reports how accurate it is.

    It unpacks as ``U, s, Vh`` and compares equal to the plain tuple; the report is in attributes (pickled with
    the result). Fields that a computation did not measure are None (e.g. a fixed number of iterations
    measures no residuals).

    Attributes
    ----------
    residuals : (k,) array or None
        Per-triplet residual norms ``max(||A v_i - s_i u_i||, ||A^H u_i - s_i v_i||) / s_1`` (relative to the
        largest singular value returned, so that numerically zero values have finite residuals), as NumPy
        float64, estimated by the algorithm from the products it formed.
    error_estimate : float or None
        Estimated maximum relative singular-value error ``max_i |s_i - sigma_i| / sigma_i`` over the triplets
        that are not numerically zero (``s_i > 10 sqrt(eps) s_1``).
    n_passes : int or None
        Passes over ``A`` (block products ``A @ X`` or ``A^H @ Y``) that the computation made.
    converged : bool or None
        Whether ``error_estimate <= tol``; None without a tolerance.
    tol : float or None
        The tolerance the computation aimed at.

    See Also
    --------
    lowrank_la.svd.rsvd : The randomized SVD that returns it.
    SVDResult : The plain ``(U, s, Vh)`` tuple.
    lowrank_la.svd.svd_error_estimate : An error estimate for factors from anywhere.

    Examples
    --------
    >>> import numpy as np, pickle
    >>> res = SVDAccuracyResult(np.eye(3, 2), np.array([2.0, 1.0]), np.eye(2, 3), residuals=np.zeros(2),
    ...                         error_estimate=0.0, n_passes=4, converged=True, tol=1e-4)
    >>> U, s, Vh = res
    >>> res.converged, res.n_passes, pickle.loads(pickle.dumps(res)).error_estimate
    (True, 4, 0.0)
    """

    def __new__(cls, U, s, Vh, *, residuals=None, error_estimate=None, n_passes=None, converged=None, tol=None):
        self = super().__new__(cls, U, s, Vh)
        self.residuals = residuals
        self.error_estimate = error_estimate
        self.n_passes = n_passes
        self.converged = converged
        self.tol = tol
        return self

    def _report(self):
        return {"residuals": self.residuals, "error_estimate": self.error_estimate, "n_passes": self.n_passes,
                "converged": self.converged, "tol": self.tol}

    def __repr__(self):
        return (f"SVDAccuracyResult(error_estimate={self.error_estimate!r}, converged={self.converged}, "
                f"tol={self.tol!r}, n_passes={self.n_passes}, U={self.U!r}, s={self.s!r}, Vh={self.Vh!r})")

    def __reduce__(self):
        return (_rebuild_accuracy, (tuple(self), self._report()))


def _rebuild_accuracy(fields, report):
    return SVDAccuracyResult(*fields, **report)


class SolverResult(dict):
    """Result of an iterative solver, in the style of ``scipy.optimize.OptimizeResult``.

    A dictionary whose keys are also attributes. Every solver sets at least ``converged`` (bool), ``n_iter``
    (int) and ``history`` (a dict of per-iteration arrays, such as the residual).

    See Also
    --------
    lowrank_la.psd.nystrom_pcg : A solver that returns a SolverResult.
    lowrank_la.sketch.lstsq_sketched : A solver that returns a SolverResult.
    lowrank_la.sensing.scaled_gd : A solver that returns a SolverResult.
    SVDAccuracyResult : The result of the iterative SVDs, a tuple with an accuracy report.

    Examples
    --------
    >>> res = SolverResult(x=1.0, converged=True, n_iter=3, history={"residual": [1.0, 0.1, 0.01]})
    >>> res.converged, res.n_iter
    (True, 3)
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __repr__(self) -> str:
        width = max((len(k) for k in self), default=0)
        lines = []
        for key, value in self.items():
            text = repr(value) if not hasattr(value, "shape") else f"<array {tuple(value.shape)}>"
            lines.append(f"{key.rjust(width)}: {text}")
        return "\n".join(lines)

    def __dir__(self):
        return list(self.keys())
