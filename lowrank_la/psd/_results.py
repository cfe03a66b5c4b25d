"""Result types of :mod:`lowrank_la.psd`: eigenpairs with an accuracy report, trace and diagonal estimates, and
the partial Cholesky factor of RPCholesky."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["DiagonalEstimate", "EighResult", "RPCholeskyResult", "TraceEstimate"]


class EighResult(tuple):
    """Eigenpairs ``(w, V)`` as :func:`numpy.linalg.eigh` returns them, but with ``w`` descending.

    It unpacks as ``w, V`` (``A ~ V @ diag(w) @ V.T``); the accuracy report is in attributes (None where a
    computation did not measure it), and survives pickling.

    Attributes
    ----------
    w : (k,) array
        Eigenvalues, descending.
    V : (n, k) array
        Orthonormal eigenvectors, as columns.
    residuals : (k,) array or None
        ``||A v_i - w_i v_i|| / max|w|`` per pair (NumPy float64), from the products already formed.
    error_estimate : float or None
        Estimated maximum relative eigenvalue error ``max_i |w_i - lambda_i| / |w_i|`` over the pairs that are not
        numerically zero.
    n_passes : int
        Block products with ``A`` made.
    converged : bool or None
        Whether ``error_estimate <= tol``; None without a tolerance.
    tol : float or None
        The tolerance aimed at.
    rank : int
        Columns of the sketch or basis the pairs come from.

    See Also
    --------
    eigh : Returns an EighResult.
    nystrom : Returns an EighResult.

    Examples
    --------
    >>> import numpy as np, pickle
    >>> res = EighResult(np.array([2.0, 1.0]), np.eye(3, 2), error_estimate=1e-9, n_passes=3, converged=True,
    ...                  tol=1e-6)
    >>> w, V = res
    >>> w.tolist(), res.converged, pickle.loads(pickle.dumps(res)).n_passes
    ([2.0, 1.0], True, 3)
    """

    def __new__(cls, w, V, *, residuals=None, error_estimate=None, n_passes=None, converged=None, tol=None,
                rank=None):
        self = super().__new__(cls, (w, V))
        self.residuals = residuals
        self.error_estimate = error_estimate
        self.n_passes = n_passes
        self.converged = converged
        self.tol = tol
        self.rank = rank
        return self

    @property
    def w(self):
        """The eigenvalues, descending (the first item of the tuple).

        See Also
        --------
        EighResult.V : The eigenvectors, the second item.
        """
        return self[0]

    @property
    def V(self):
        """The eigenvectors, as columns (the second item of the tuple).

        See Also
        --------
        EighResult.w : The eigenvalues, the first item.
        """
        return self[1]

    def _report(self):
        return {"residuals": self.residuals, "error_estimate": self.error_estimate, "n_passes": self.n_passes,
                "converged": self.converged, "tol": self.tol, "rank": self.rank}

    def __repr__(self):
        return (f"EighResult(error_estimate={self.error_estimate!r}, converged={self.converged}, tol={self.tol!r}, "
                f"n_passes={self.n_passes}, rank={self.rank}, w={self.w!r}, V=<array {tuple(self.V.shape)}>)")

    def __reduce__(self):
        return (_rebuild_eigh, (tuple(self), self._report()))


def _rebuild_eigh(fields, report):
    return EighResult(*fields, **report)


class TraceEstimate(NamedTuple):
    """A trace estimate and its error estimate.

    Attributes
    ----------
    estimate : float
        The estimate of ``tr(A)``.
    error_estimate : float
        Its estimated standard error (the spread of the estimator's own samples, divided by the square root of
        their number): the error is below it about two times in three, below three times it nearly always.
    n_matvecs : int
        Products of ``A`` with a vector made.

    See Also
    --------
    hutchpp : Returns a TraceEstimate.
    xtrace : Returns a TraceEstimate.
    DiagonalEstimate : The result of the diagonal estimator.
    """

    estimate: float
    error_estimate: float
    n_matvecs: int


class DiagonalEstimate(NamedTuple):
    """An estimate of ``diag(A)`` and its entrywise error estimate.

    Attributes
    ----------
    estimate : (n,) array
        The estimate of the diagonal.
    error_estimate : (n,) array
        Entrywise estimated standard errors (the spread of the leave-one-out estimates over the square root of
        their number).
    n_matvecs : int
        Products of ``A`` or ``A^T`` with a vector made.

    See Also
    --------
    xdiag : Returns a DiagonalEstimate.
    TraceEstimate : The result of the trace estimators.
    """

    estimate: Any
    error_estimate: Any
    n_matvecs: int


class RPCholeskyResult(NamedTuple):
    """A partial Cholesky factorisation ``A ~ F F^T`` from pivoted columns of ``A``.

    Attributes
    ----------
    F : (n, r) array
        The factor; ``F[pivots]`` is lower triangular. ``r <= k``: fewer columns when the residual vanished
        first (``A`` has rank ``r``).
    pivots : (r,) int array
        The chosen columns, in order.
    residual_trace : float
        ``tr(A - F F^T)``, the trace-norm error (``A - F F^T`` is positive semidefinite).
    trace : float
        ``tr(A)``.
    n_entries : int
        Entries of ``A`` evaluated: the diagonal and the pivot columns.

    See Also
    --------
    rpcholesky : Returns an RPCholeskyResult.
    EighResult : The result of the Nystrom approximation, eigenpairs instead of a Cholesky factor.
    """

    F: Any
    pivots: Any
    residual_trace: float
    trace: float
    n_entries: int
