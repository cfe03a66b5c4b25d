"""The result types and the warning every subpackage shares: ``SVDResult``, ``SolverResult``,
``ConvergenceWarning``."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["ConvergenceWarning", "SVDResult", "SolverResult"]


class ConvergenceWarning(UserWarning):
    """An iterative method stopped (iteration limit, breakdown) before meeting its tolerance."""


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
    """

    U: Any
    s: Any
    Vh: Any


class SolverResult(dict):
    """Result of an iterative solver, in the style of ``scipy.optimize.OptimizeResult``.

    A dictionary whose keys are also attributes. Every solver sets at least ``converged`` (bool), ``n_iter``
    (int) and ``history`` (a dict of per-iteration arrays, such as the residual).

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
