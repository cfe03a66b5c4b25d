"""Truncated SVD / PCA estimators: randomized (:func:`~lowrank_la.svd.rsvd`, :func:`~lowrank_la.svd.svd_tol`) and
incremental (:class:`~lowrank_la.svd.TruncatedSVDUpdater`)."""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from .._backend import array_namespace
from .._validate import check_int, check_option, check_real, is_sparse
from ..svd import TruncatedSVDUpdater, rsvd, svd_tol
from ._base import check_X, check_Y, column_stats, seed_of

__all__ = ["IncrementalTruncatedSVD", "RandomizedTruncatedSVD"]


class _SVDTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """``transform``, ``inverse_transform`` and the variances shared by the truncated SVD estimators."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def _set_components(self, s, Vh, mean, total_var, n_samples, centred):
        """Set ``components_``, ``singular_values_``, ``mean_`` and the explained variances.

        Centred (PCA): ``explained_variance_ = s**2 / (n - 1)``, as scikit-learn's ``PCA``. Not centred
        (scikit-learn's ``TruncatedSVD``): the variance of each column of the transformed data ``X V``,
        ``s_i**2 / n - (mu . v_i)**2``. The ratios divide by the total variance of ``X`` with the same ``ddof``.
        """
        xp = array_namespace(Vh)
        self.components_ = Vh
        self.singular_values_ = s
        self.n_components_ = int(s.shape[0])
        if centred:
            self.mean_ = mean
            self.explained_variance_ = s * s / max(n_samples - 1, 1)
        else:
            self.mean_ = None
            self.explained_variance_ = xp.maximum(s * s / n_samples - (Vh @ mean) ** 2, xp.zeros_like(s))
        self.explained_variance_ratio_ = (self.explained_variance_ / total_var if total_var > 0
                                          else xp.zeros_like(s))

    def transform(self, X):
        """Project `X` (n_samples, n_features) onto the components: ``(X - mean_) @ components_.T``.

        Sparse `X` stays sparse (the mean is subtracted after the product).

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            The data to project.

        Returns
        -------
        (n_samples, k) array, k = ``n_components_``
            The coordinates of `X` in the basis of the components.

        See Also
        --------
        inverse_transform : Map the projection back.
        """
        check_is_fitted(self, "components_")
        X = check_X(self, X, reset=False, method="transform")
        Y = X @ self.components_.T
        Y = np.asarray(Y) if is_sparse(X) else Y
        if self.mean_ is not None:
            Y = Y - self.mean_ @ self.components_.T
        return Y

    def inverse_transform(self, X):
        """Map reduced data `X` (n_samples, ``n_components_``) back: ``X @ components_ + mean_``.

        Parameters
        ----------
        X : (n_samples, k) array_like or sparse matrix
            Coordinates in the basis of the components, ``k = n_components_``.

        Returns
        -------
        (n_samples, n_features) array
            The points of the fitted subspace (plus the mean) with those coordinates.

        See Also
        --------
        transform : The projection this maps back.
        """
        check_is_fitted(self, "components_")
        Y = check_Y(X, self.n_components_)
        out = Y @ self.components_
        out = np.asarray(out) if is_sparse(Y) else out
        return out if self.mean_ is None else out + self.mean_


class RandomizedTruncatedSVD(_SVDTransformer):
    """Truncated SVD (or PCA with ``center=True``) by randomized block Krylov or subspace iteration.

    scikit-learn's ``TruncatedSVD`` / ``PCA(svd_solver="randomized")`` interface over
    :func:`lowrank_la.svd.rsvd` (a number of components) and :func:`lowrank_la.svd.svd_tol` (a fraction of the
    variance to keep). By default the iteration stops when the singular values are accurate, not after a fixed
    number of steps. Dense, sparse and array-API input (with scikit-learn's ``array_api_dispatch``); float32
    stays float32; sparse input is never densified, also when centred.

    Parameters
    ----------
    n_components : int or float
        An int ``1 <= k <= min(n_samples, n_features)``: the number of components. A float ``0 < f < 1``: the
        smallest number of components whose reconstruction keeps the fraction `f` of ``||X||_F^2`` (of the
        centred ``X`` with ``center=True``: `f` of the variance, as ``PCA(n_components=f)``), found by
        :func:`~lowrank_la.svd.svd_tol` with ``tol = sqrt(1 - f)``, without computing the full SVD.
    algorithm : {"auto", "block_krylov", "subspace"}
        :func:`~lowrank_la.svd.rsvd`'s `method` (ignored for a float `n_components`).
    center : bool
        Subtract the column means (PCA), implicitly: sparse input stays sparse.
    n_iter : int or "auto"
        "auto": iterate until the singular values meet `tol`. An int: that many power / Krylov steps.
    tol : float, optional
        Relative accuracy of the singular values for ``n_iter="auto"`` (default 1e-3, see
        :func:`~lowrank_la.svd.rsvd`).
    n_oversamples : int
        Extra columns of the subspace method's sketch.
    power_iteration_normalizer : {"auto", "QR", "LU", "none"}
        The normaliser between the power steps of the subspace method with an integer `n_iter`, as in
        ``TruncatedSVD``: :func:`~lowrank_la.svd.rsvd`'s `normalizer` ("auto": CholeskyQR2; "LU": scikit-learn's
        choice for ``n_iter > 2``, about half the time of CholeskyQR2 for a sketch of 300 columns on TF-IDF text).
        The tolerance-driven iteration orthonormalises whatever is given.
    random_state : None, int, numpy RandomState or Generator
        Seed (an int gives the same numbers as ``rsvd(..., rng=int)``).

    Attributes
    ----------
    components_ : (k, n_features) array, k = ``n_components_``
        The right singular vectors (principal axes), rows orthonormal.
    singular_values_ : (k,) array
        Descending.
    explained_variance_, explained_variance_ratio_ : (k,) arrays
        The variance of each transformed column and its fraction of the total variance: as ``TruncatedSVD``
        (``ddof=0``) when not centred, as ``PCA`` (``ddof=1``) when centred.
    mean_ : (n_features,) array or None
        The column means with ``center=True``, else None.
    n_components_ : int
        The number of components (chosen from the data for a float `n_components`).
    n_features_in_, feature_names_in_
        As in scikit-learn.

    See Also
    --------
    IncrementalTruncatedSVD : The same model kept current over batches of rows.
    lowrank_la.svd.rsvd : The randomized SVD behind an integer `n_components`.
    lowrank_la.svd.svd_tol : The fixed-accuracy SVD behind a float `n_components`.
    sklearn.decomposition.TruncatedSVD : The scikit-learn estimator with the same interface.

    Notes
    -----
    ``fit`` reads `X` through :func:`~lowrank_la.svd.rsvd`'s block products (about ``2 q + 2`` passes, ``q``
    the Krylov depth it needs) plus two passes for the column statistics; ``fit_transform`` returns
    ``U * s`` from the factorisation (no further pass). Memory ``O((n_samples + n_features) k)`` besides `X`.
    On a dense 20000 x 2000 matrix with 50 components see the benchmark numbers in the documentation page
    "scikit-learn estimators".

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import RandomizedTruncatedSVD
    >>> X = np.random.default_rng(0).standard_normal((200, 8)) @ np.diag([5.0, 3, 1, 1e-3, 1e-3, 1e-3, 0, 0])
    >>> svd = RandomizedTruncatedSVD(n_components=0.99, center=True, random_state=0).fit(X)
    >>> svd.n_components_, bool(svd.explained_variance_ratio_.sum() >= 0.99)
    (3, True)
    >>> svd.transform(X).shape
    (200, 3)
    """

    def __init__(self, n_components=2, *, algorithm="auto", center=False, n_iter="auto", tol=None,
                 n_oversamples=10, power_iteration_normalizer="auto", random_state=None):
        self.n_components = n_components
        self.algorithm = algorithm
        self.center = center
        self.n_iter = n_iter
        self.tol = tol
        self.n_oversamples = n_oversamples
        self.power_iteration_normalizer = power_iteration_normalizer
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def fit(self, X, y=None):
        """Fit the model on `X`.

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            Training data, dense or sparse.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        RandomizedTruncatedSVD
            ``self``, fitted.

        See Also
        --------
        RandomizedTruncatedSVD.fit_transform : Fit and project in one call.
        RandomizedTruncatedSVD.transform : Project new data.
        """
        self._fit(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit on `X` and return its projection.

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            Training data, dense or sparse.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        (n_samples, k) array, k = ``n_components_``
            ``U * s``, the coordinates of `X` in the basis of the components.

        See Also
        --------
        RandomizedTruncatedSVD.fit : Fit only.
        RandomizedTruncatedSVD.transform : Project new data with the fitted model.
        """
        U, s = self._fit(X)
        return U * s

    def _fit(self, X):
        algorithm = check_option(self.algorithm, "algorithm", ("auto", "block_krylov", "subspace"))
        center = check_option(self.center, "center", (False, True))
        normalizer = check_option(self.power_iteration_normalizer, "power_iteration_normalizer",
                                  ("auto", "QR", "LU", "none"))
        fraction = _fraction_or_none(self.n_components)
        X = check_X(self, X, reset=True, method="fit")
        m, n = X.shape
        rng = seed_of(self.random_state)
        if fraction is not None:
            U, s, Vh = svd_tol(X, math.sqrt(1 - fraction), center=center, rng=rng)
        else:
            k = _check_components(self.n_components, m, n)
            U, s, Vh = rsvd(X, k, oversamples=self.n_oversamples, n_iter=self.n_iter, tol=self.tol,
                            normalizer=normalizer.lower(), method=algorithm, center=center, rng=rng)
        mean, total = column_stats(X, ddof=1 if center else 0)
        self._set_components(s, Vh, mean, total, m, center)
        return U, s


class IncrementalTruncatedSVD(_SVDTransformer):
    """Truncated SVD (or PCA with ``center=True``) kept current over batches of rows, dense or sparse.

    scikit-learn's ``IncrementalPCA`` interface over :class:`lowrank_la.svd.TruncatedSVDUpdater`: ``partial_fit``
    takes batches of any size, including batches smaller than `n_components` (which ``IncrementalPCA``
    refuses: the first rows are kept until there are `n_components` of them), and sparse batches stay sparse,
    centred or not.

    Parameters
    ----------
    n_components : int
        Number of components, ``1 <= k <= n_features``; ``fit`` needs at least `k` rows.
    center : bool
        Keep the SVD of the column-centred rows seen so far (PCA), implicitly.
    batch_size : int, optional
        Rows per batch in :meth:`fit`; default ``5 * n_features`` (as ``IncrementalPCA``).
    method : {"zha-simon", "gkl", "rpi"}
        The updater's method (exact Zha-Simon update, or its Golub-Kahan-Lanczos / randomized projections).
    init_iter : int
        Power iterations of the randomized SVD of the first rows (the updater's `init_iter`), for sparse rows
        and the approximate methods. 10 by default (the updater's own default is 4): on the benchmark's first
        batch (1,000 x 500, ``benchmarks/sklearn_layer.py``) 4 left the final captured variance 4e-4 below
        ``IncrementalPCA``'s, which starts from an exact SVD. Dense rows with ``method="zha-simon"`` start
        from the exact SVD of the first batch instead (one LAPACK SVD, as ``IncrementalPCA``).
    random_state : None, int, numpy RandomState or Generator
        Seed of the initial randomized SVD and of the randomized methods.

    Attributes
    ----------
    components_, singular_values_, explained_variance_, explained_variance_ratio_, mean_, n_components_
        As in :class:`RandomizedTruncatedSVD`, for the rows seen so far.
    n_samples_seen_ : int
        Rows seen so far.
    updater_ : TruncatedSVDUpdater
        The state (None until `n_components` rows have been seen).

    See Also
    --------
    RandomizedTruncatedSVD : The model fitted in one go, by the randomized SVD.
    lowrank_la.svd.TruncatedSVDUpdater : The SVD updating behind `partial_fit`.
    sklearn.decomposition.IncrementalPCA : The scikit-learn estimator with the same interface, dense input only.

    Notes
    -----
    Each batch of ``b`` rows costs ``O((t + k)(k + b)^2 + (k + b)^3)`` (``t`` the columns it touches) with the
    sparse-aware update. A dense batch with ``k + b + 1 >= n_features / 3`` and ``method="zha-simon"`` is one
    dense SVD of the stacked ``(k + b + 1) x n_features`` matrix, ``O(n_features (k + b)^2)``, the work of
    ``IncrementalPCA`` per batch (the updater's direct update, see :class:`lowrank_la.svd.TruncatedSVDUpdater`).
    The column statistics behind the explained variances are kept as running sums (float64), so nothing of
    size ``n_samples`` is stored besides the updater's left factor. Every update truncates the previous
    approximation plus the new rows (Zha and Simon), so the result can differ from the batch SVD of all the rows
    by the truncation errors accumulated over the batches.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import IncrementalTruncatedSVD
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 30)) + 2.0   # rank 4 plus an offset
    >>> ipca = IncrementalTruncatedSVD(n_components=4, center=True, random_state=0)
    >>> for batch in np.array_split(X, 100):                                     # batches of 3 rows
    ...     _ = ipca.partial_fit(batch)
    >>> s_ref = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)[:4]
    >>> bool(np.allclose(ipca.singular_values_, s_ref)), ipca.n_samples_seen_
    (True, 300)
    """

    def __init__(self, n_components=2, *, center=False, batch_size=None, method="zha-simon", init_iter=10,
                 random_state=None):
        self.n_components = n_components
        self.center = center
        self.batch_size = batch_size
        self.method = method
        self.init_iter = init_iter
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit on `X` from scratch, `batch_size` rows at a time.

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            Training data, dense or sparse.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        IncrementalTruncatedSVD
            ``self``, fitted.

        See Also
        --------
        IncrementalTruncatedSVD.partial_fit : Add rows to the fitted ones.
        """
        X = check_X(self, X, reset=True, method="fit")
        for name in ("updater_", "n_samples_seen_", "components_"):
            self.__dict__.pop(name, None)
        m, n = X.shape
        _check_components(self.n_components, m, n)
        step = 5 * n if self.batch_size is None else check_int(self.batch_size, "batch_size", low=1)
        for lo in range(0, m, step):  # the components are read from the updater after the last batch only
            self._partial_fit(X[lo:lo + step], publish=lo + step >= m)
        return self

    def partial_fit(self, X, y=None):
        """Add the rows `X` to the fitted ones.

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            New rows, with as many features as the rows fitted before.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        IncrementalTruncatedSVD
            ``self``, updated.

        See Also
        --------
        IncrementalTruncatedSVD.fit : Fit from scratch.
        lowrank_la.svd.TruncatedSVDUpdater.add_rows : The update it applies.
        """
        first = not hasattr(self, "n_samples_seen_")
        self._partial_fit(check_X(self, X, reset=first, method="partial_fit"))
        return self

    def _partial_fit(self, X, publish=True):
        check_option(self.center, "center", (False, True))
        k = check_int(self.n_components, "n_components", low=1, high=X.shape[1], high_text="n_features")
        if not hasattr(self, "n_samples_seen_"):
            self.n_samples_seen_ = 0
            self.updater_ = None
            self._pending = []
            self._sums = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        self.n_samples_seen_ += X.shape[0]
        _add_column_sums(self._sums, X)
        if self.updater_ is None:
            self._pending.append(X)
            if self.n_samples_seen_ < k:
                return
            A0 = sp.vstack(self._pending, format="csr") if is_sparse(X) else np.concatenate(self._pending)
            self._pending = []
            options = dict(method=self.method, init_iter=self.init_iter, rng=seed_of(self.random_state))
            if self.method == "zha-simon" and not is_sparse(A0):  # dense rows: an exact start, as IncrementalPCA
                self.updater_ = TruncatedSVDUpdater._from_dense_svd(A0, k, center=bool(self.center), **options)
            else:
                self.updater_ = TruncatedSVDUpdater(A0, k, center=bool(self.center), **options)
        elif is_sparse(X):
            self.updater_.add_rows(X)
        else:  # validated by check_X: the updater's own checks skipped
            self.updater_._add_rows(np.asarray(X, dtype=self.updater_.dtype))
        if not publish:
            return
        up, m = self.updater_, self.n_samples_seen_
        sums, squares = self._sums
        mean = sums / m
        ddof = 1 if self.center else 0
        total = float(np.sum(np.maximum(squares - m * mean * mean, 0.0))) / max(m - ddof, 1)
        self._set_components(np.array(up.s), np.array(up.Vh), mean.astype(up.dtype), total, m, self.center)

    def transform(self, X):
        self._check_ready()
        return super().transform(X)

    transform.__doc__ = _SVDTransformer.transform.__doc__

    def inverse_transform(self, X):
        self._check_ready()
        return super().inverse_transform(X)

    inverse_transform.__doc__ = _SVDTransformer.inverse_transform.__doc__

    def _check_ready(self):
        if hasattr(self, "n_samples_seen_") and not hasattr(self, "components_"):
            raise NotFittedError(f"this IncrementalTruncatedSVD has seen {self.n_samples_seen_} row(s), fewer than "
                                 f"n_components={self.n_components}: call partial_fit with more rows first")


def _add_column_sums(sums, X):
    """Add the column sums and sums of squares of `X` (float64) to the pair `sums`, in place."""
    total, squares = sums
    if is_sparse(X):
        X64 = X.astype(np.float64)
        total += np.asarray(X64.sum(axis=0)).ravel()
        squares += np.asarray(X64.multiply(X64).sum(axis=0)).ravel()
    else:
        X64 = np.asarray(X, dtype=np.float64)
        total += X64.sum(axis=0)
        squares += np.einsum("ij,ij->j", X64, X64)


def _fraction_or_none(n_components):
    """A float `n_components` as the fraction of variance to keep (checked), an int as None."""
    if isinstance(n_components, numbers.Real) and not isinstance(n_components, (numbers.Integral, np.bool_)):
        return check_real(n_components, "n_components", low=0, high=1, low_inclusive=False, high_inclusive=False)
    return None


def _check_components(k, m, n):
    return check_int(k, "n_components", low=1, high=min(m, n),
                     high_text=f"min(n_samples, n_features) with n_samples = {m}, n_features = {n}")
