"""The offsets of a completion model: a global mean and damped row and column offsets, fitted with the low rank part.

The model is ``mean + row[i] + col[j] + Z[i, j]``. Given the low-rank part's values on the observed entries, one
sweep updates the column offsets, then the row offsets, each as the exact minimiser of

    sum_Omega (M_ij - mean - row_i - col_j - Z_ij)^2 + damping (||row||^2 + ||col||^2)

in that block (``col_j = sum_i r_ij / (N_j + damping)``): block coordinate descent on the joint objective, so
that alternating it with the low-rank half-steps never raises it.
"""

from __future__ import annotations

import numpy as np

from ._observations import Observations, Segments

__all__: list[str] = []

DAMPING = 5.0  # a row with N_i observations gets sum(residuals) / (N_i + DAMPING)


class Offsets:
    """Mutable offsets of the observations `obs` (see the module docstring); ``copy()`` before sharing."""

    def __init__(self, obs: Observations, *, damping=DAMPING):
        m, n = obs.shape
        self.mean = float(np.mean(obs.vals.astype(np.float64)))
        self.row, self.col = np.zeros(m), np.zeros(n)
        self.damping = damping
        self._row_n = np.bincount(obs.rows, minlength=m) + damping
        self._col_n = np.bincount(obs.cols, minlength=n) + damping
        self._col_order = np.argsort(obs.cols, kind="stable")  # the order of obs.by_col's values

    def copy(self) -> Offsets:
        new = object.__new__(Offsets)
        new.__dict__.update(self.__dict__)
        new.row, new.col = self.row.copy(), self.col.copy()
        return new

    def at(self, rows, cols) -> np.ndarray:
        """``mean + row[rows] + col[cols]`` (float64)."""
        return self.mean + self.row[rows] + self.col[cols]

    def fit(self, obs: Observations, model=0.0, sweeps=1) -> None:
        """Update the offsets, given the low-rank part's values `model` on the observed entries (float64)."""
        m, n = obs.shape
        rest = obs.vals.astype(np.float64) - self.mean - model
        for _ in range(sweeps):
            self.col = np.bincount(obs.cols, rest - self.row[obs.rows], minlength=n) / self._col_n
            self.row = np.bincount(obs.rows, rest - self.col[obs.cols], minlength=m) / self._row_n

    def penalty(self) -> float:
        """``damping (||row||^2 + ||col||^2)``: the offsets' part of the objective."""
        return self.damping * float(self.row @ self.row + self.col @ self.col)

    def targets(self, obs: Observations) -> Observations:
        """The observations minus the offsets: what the low-rank part fits (same index structures)."""
        vals = (obs.vals - self.at(obs.rows, obs.cols)).astype(obs.vals.dtype)
        return Observations(obs.shape, obs.rows, obs.cols, vals, Segments(obs.by_row.indptr, obs.by_row.idx, vals),
                            Segments(obs.by_col.indptr, obs.by_col.idx, vals[self._col_order]))
