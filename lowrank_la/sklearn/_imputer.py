"""A missing-value imputer over :func:`~lowrank_la.completion.altmin_complete`."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._backend import to_numpy
from ..completion import Segments, altmin_complete, segment_ridges
from ..completion._offsets import DAMPING
from ..svd import rsvd
from ._base import check_X, seed_of

__all__ = ["LowRankImputer"]

_SOLVE_BYTES = 32 << 20  # rows solved at a time by transform: their gathered designs take about this much


class LowRankImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill missing values (NaN) with a low-rank model of the data.

    Scikit-learn's imputer interface over :func:`lowrank_la.completion.altmin_complete`.

    The model is ``mean + row_offset[i] + col_offset[j] + (U V^T)[i, j]``; by default its rank and
    regularisation are chosen on held-out entries. ``fit_transform(X)`` returns `X` completed by the fitted
    model. ``transform`` on other rows solves, for each row, its offset and its factor against the fitted
    column factors on the row's observed entries (the same ridge regression as a half-step of the fit), then
    fills the row's missing entries.

    Parameters
    ----------
    rank : int, "auto" or None
        Rank of the low-rank part; None or "auto" chooses it from the data.
    reg : float or "auto"
        Regularisation as a fraction of the largest singular value of the observations (see
        :func:`~lowrank_la.completion.altmin_complete`); "auto" chooses it from the data.
    method : {"auto", "altmin", "softimpute"}
        Completion method.
    random_state : None, int, numpy RandomState or Generator
        Seed of the held-out split and the initialisation.

    Attributes
    ----------
    result_ : CompletionResult
        The fitted model (``rank``, ``reg``, ``method``, ``holdout_error``, ...).
    col_factors_ : (n_features, rank) array
        The balanced column factors ``V diag(s)^(-1/2)`` that rows are solved against.
    ridge_ : float
        The ridge of those row regressions, ``reg * sigma_1`` (``sigma_1``: the largest singular value of the
        observations minus the fitted offsets, zero-filled).
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    lowrank_la.completion.altmin_complete : The matrix completion behind it.
    RandomizedTruncatedSVD : A low-rank model of complete data.
    lowrank_la.completion.CompletionResult : The completed model, whose ``fill`` fills a matrix in one call.

    Notes
    -----
    ``transform`` costs ``O(N_i k^2 + k^3)`` per row with ``N_i`` observed entries (gathered normal equations,
    solved in batches); rows without any observed entry get the column means of the model. Sparse input is
    refused: in scikit-learn's imputers a sparse matrix's zeros are values, while
    :func:`~lowrank_la.completion.altmin_complete` reads the stored entries of a sparse matrix as the only
    observations; call it directly for that meaning.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import LowRankImputer
    >>> rng = np.random.default_rng(0)
    >>> M = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 30))
    >>> X = M.copy()
    >>> X[rng.random(X.shape) < 0.3] = np.nan
    >>> imp = LowRankImputer(random_state=0).fit(X[:150])
    >>> filled = imp.transform(X[150:])                       # rows not seen by fit
    >>> bool(np.linalg.norm(filled - M[150:]) < 0.05 * np.linalg.norm(M[150:]))
    True
    """

    def __init__(self, rank=None, *, reg="auto", method="auto", random_state=None):
        self.rank = rank
        self.reg = reg
        self.method = method
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def fit(self, X, y=None):
        """Fit the low-rank model on `X`.

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Training data, NaN for the missing entries.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        LowRankImputer
            ``self``, fitted.

        See Also
        --------
        LowRankImputer.transform : Fill the missing values of new rows.
        LowRankImputer.fit_transform : Fit and fill the training data.
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit on `X` and return `X` completed by the fitted model.

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Training data, NaN for the missing entries.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        (n_samples, n_features) array
            A new array (`X` is not modified) with the missing entries filled.

        See Also
        --------
        LowRankImputer.fit : Fit only.
        lowrank_la.completion.CompletionResult.fill : The filling of the completed model.
        """
        return self._fit(X)

    def _fit(self, X):
        X = check_X(self, X, reset=True, method="fit", sparse=False, allow_nan=True)
        rng = np.random.default_rng(seed_of(self.random_state))
        res = altmin_complete(X, rank=self.rank, reg=self.reg, method=self.method, rng=rng)
        self.result_ = res
        s = np.asarray(res.s, dtype=np.float64)
        keep = s > 0
        V = np.asarray(to_numpy(res.V), dtype=np.float64)[:, keep]
        self.col_factors_ = V / np.sqrt(s[keep])
        self._col_base = float(res.mean) + np.asarray(to_numpy(res.col_offsets), dtype=np.float64)
        self.ridge_ = float(res.reg) * _top_singular_value(X, res, rng) if res.reg else 0.0
        return res.fill(X)

    def transform(self, X):
        """Fill the NaN of `X` with the fitted model.

        Each row's factor and offset are solved on its observed entries against the fitted column factors.

        Parameters
        ----------
        X : (n_samples, n_features) array_like
            Data with NaN for the missing entries, with the fitted number of features.

        Returns
        -------
        (n_samples, n_features) array
            A new array of the working dtype of `X`, its observed entries unchanged.

        See Also
        --------
        LowRankImputer.fit_transform : Fill the training data itself.
        """
        check_is_fitted(self, "result_")
        X = check_X(self, X, reset=False, method="transform", sparse=False, allow_nan=True)
        X = np.array(to_numpy(X))
        missing = np.isnan(X)
        rows = np.flatnonzero(missing.any(axis=1))
        if rows.size == 0:
            return X
        B, n = self.col_factors_, X.shape[1]
        k = B.shape[1]
        offsets = bool(self.result_.offsets)
        D = np.hstack([B, np.ones((n, 1))]) if offsets else B
        step = max(1, _SOLVE_BYTES // (8 * n * D.shape[1]))
        for lo in range(0, rows.size, step):
            idx = rows[lo:lo + step]
            seen = ~missing[idx]
            T = np.where(seen, X[idx] - self._col_base, 0.0)
            counts = seen.sum(axis=1)
            ridge = np.zeros((idx.size, D.shape[1]))
            if k:
                indptr = np.concatenate([[0], np.cumsum(counts)])
                seg = Segments(indptr, np.nonzero(seen)[1], T[seen])
                ridge[:, :k] = segment_ridges(seg, k, n, self.ridge_)[:, None]
            if offsets:
                ridge[:, -1] = DAMPING
            G = np.matmul((seen[:, :, None] * D).transpose(0, 2, 1), D)
            G[:, np.arange(D.shape[1]), np.arange(D.shape[1])] += ridge
            coef = np.linalg.solve(G, (T @ D)[..., None])[..., 0]
            fill = self._col_base + coef @ D.T
            X[idx] = np.where(seen, X[idx], fill.astype(X.dtype))
        return X


def _top_singular_value(X, res, rng):
    """The largest singular value of the observed entries of `X` minus the model's offsets, zero-filled."""
    rows, cols = np.nonzero(~np.isnan(X))
    base = float(res.mean) + np.asarray(to_numpy(res.row_offsets), dtype=np.float64)[rows]
    vals = X[rows, cols].astype(np.float64) - base - np.asarray(to_numpy(res.col_offsets), dtype=np.float64)[cols]
    if not np.any(vals):
        return 0.0
    S = sp.csr_array((vals, (rows, cols)), shape=X.shape)
    return float(rsvd(S, 1, rng=rng).s[0])
