"""The result of :func:`~lowrank_la.completion.altmin_complete`: the fitted model, and how to use it."""

from __future__ import annotations

import numpy as np

from .._backend import SolverResult, to_numpy
from ._input import _namespace_of, observed_entries
from ._observations import _index_array

__all__ = ["CompletionResult"]


class CompletionResult(SolverResult):
    """A completed matrix in factored form: ``mean + row_offsets[i] + col_offsets[j] + (U @ V.T)[i, j]``.

    A :class:`~lowrank_la.SolverResult` (a dict whose keys are also attributes) with the keys set by
    :func:`~lowrank_la.completion.altmin_complete`: ``U`` (m, r) with orthonormal columns, ``V`` (n, r) carrying
    the scale (its columns are orthogonal, of norms ``s``), ``s`` (r,) the singular values of ``U @ V.T``,
    descending; ``mean``, ``row_offsets`` (m,) and ``col_offsets`` (n,) (zero when the model has no offsets);
    ``shape``; ``converged``, ``n_iter``, ``history``; and what was chosen: ``method``, ``rank``, ``reg``,
    ``offsets``, ``solver``, with ``selection`` (the held-out path, when anything was chosen from the data)
    and ``holdout_error``. Nothing of size m x n is stored.

    See Also
    --------
    altmin_complete : The completion that returns it.
    completion_error : The relative error of factors against known ones.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.completion import altmin_complete
    >>> X = np.outer(np.arange(1.0, 7.0), np.arange(1.0, 6.0))
    >>> X[0, 0] = X[3, 2] = np.nan
    >>> res = altmin_complete(X, rank=1, reg=0.0, rng=0)
    >>> np.round(res.fill(X)[[0, 3], [0, 2]], 6).tolist()
    [1.0, 12.0]
    """

    def predict(self, rows, cols):
        """The model's entries at ``(rows[t], cols[t])``, as a float64 NumPy array (``O(len(rows) r)``).

        Parameters
        ----------
        rows, cols : (n,) int arrays
            The coordinates, ``0 <= rows < m``, ``0 <= cols < n``.

        Returns
        -------
        (n,) numpy.ndarray
            The predicted entries, float64.

        See Also
        --------
        CompletionResult.fill : The missing entries of a whole matrix.
        CompletionResult.to_dense : The whole completed matrix.
        """
        m, n = self.shape
        rows = _index_array(rows, "rows", m)
        cols = _index_array(cols, "cols", n)
        if rows.shape != cols.shape:
            raise ValueError(f"rows and cols must have the same length, got {rows.shape[0]} and {cols.shape[0]}")
        U, V = (np.asarray(to_numpy(x), dtype=np.float64) for x in (self.U, self.V))
        out = np.einsum("tk,tk->t", U[rows], V[cols]) if U.shape[1] else np.zeros(rows.shape[0])
        row_off, col_off = (np.asarray(to_numpy(x), dtype=np.float64) for x in (self.row_offsets, self.col_offsets))
        return out + float(self.mean) + row_off[rows] + col_off[cols]

    def to_dense(self):
        """Form the whole completed matrix (``O(m n r)`` time, ``m n`` memory).

        Returns
        -------
        (m, n) numpy.ndarray
            ``U V^T`` plus the mean and the offsets, in the dtype of the factors.

        See Also
        --------
        CompletionResult.predict : Selected entries without forming the matrix.
        """
        U, V = to_numpy(self.U), to_numpy(self.V)
        row_off, col_off = to_numpy(self.row_offsets), to_numpy(self.col_offsets)
        Z = U @ V.T + row_off[:, None] + col_off[None, :]
        return (Z + Z.dtype.type(self.mean)).astype(U.dtype, copy=False)

    def fill(self, X, mask=None):
        """`X` with its missing entries replaced by the model's: a new matrix; `X` itself is not modified.

        Parameters
        ----------
        X : (m, n) array_like
            A dense matrix of the fitted shape (any array-API namespace, list, ``numpy.matrix`` or pandas
            DataFrame): NaN marks a missing entry, unless `mask` is given.
        mask : (m, n) bool array, optional
            True for the observed entries; the others are replaced (whatever they hold).

        Returns
        -------
        array or DataFrame
            The observed entries of `X` unchanged, the missing ones completed; in the namespace (and on the device)
            of `X`, in its working dtype (float32 stays float32, integers become float64). A DataFrame gives a
            DataFrame with the same index and columns.

        See Also
        --------
        CompletionResult.predict : The model's entries at given positions.
        lowrank_la.sklearn.LowRankImputer.transform : The same filling behind scikit-learn's API.
        """
        values, observed = observed_entries(X, mask, need_observed=False)
        if values.shape != tuple(self.shape):
            raise ValueError(f"X has shape {values.shape}, but the model was fitted on shape {tuple(self.shape)}")
        rows, cols = np.nonzero(~observed)
        values[rows, cols] = self.predict(rows, cols).astype(values.dtype)
        if type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns"):
            return type(X)(values, index=X.index, columns=X.columns)
        xp, device = _namespace_of(X)
        return values if xp is None else xp.asarray(values, device=device)
