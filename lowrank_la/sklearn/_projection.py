"""Random projection estimators over the sketch operators of :mod:`lowrank_la.sketch`."""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import DataDimensionalityWarning
from sklearn.utils.validation import check_is_fitted

from .._backend import array_namespace, device_of, is_numpy_namespace
from .._validate import check_int, check_option, check_real, is_sparse
from ..sketch import jl_min_dim, make_sketch
from ._base import check_X, check_Y, seed_of

__all__ = ["CountSketchProjection", "FJLTProjection", "SRHTProjection", "SparseSignProjection"]


class _SketchProjection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """A random projection ``X -> X S^T`` by one sketch kind (`_kind`); subclasses add the kind's options."""

    _kind = ""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = True
        return tags

    @property
    def _n_features_out(self):
        return self.n_components_

    def _options(self, k, n_samples):
        """The kind's own options for :func:`~lowrank_la.sketch.make_sketch`, given `k` and `n_samples`."""
        return {}

    def fit(self, X, y=None):
        """Draw the projection for the n_features of `X` (and, for ``n_components="auto"``, its n_samples).

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            Training data; only its shape is used.
        y : None
            Ignored; present for scikit-learn's API.

        Returns
        -------
        object
            ``self``, fitted.

        See Also
        --------
        transform : Project the rows with the drawn map.
        lowrank_la.sketch.jl_min_dim : The dimension ``n_components="auto"`` chooses.
        """
        X = check_X(self, X, reset=True, method="fit")
        n_samples, d = X.shape
        eps = check_real(self.eps, "eps", low=0, high=1, low_inclusive=False, high_inclusive=False)
        if isinstance(self.n_components, str) and check_option(self.n_components, "n_components", ("auto",)):
            k = jl_min_dim(n_samples, eps)
            if k > d:
                raise ValueError(f"eps={eps} and n_samples={n_samples} lead to a target dimension of {k}, larger "
                                 f"than the original space with n_features={d}: raise eps or pass n_components")
        else:
            k = check_int(self.n_components, "n_components", low=1)
            if k > d:
                warnings.warn(f"n_components={k} is larger than n_features={d}: the projection does not reduce the "
                              "dimension", DataDimensionalityWarning, stacklevel=2)
        check_option(self.compute_inverse_components, "compute_inverse_components", (False, True))
        self.operator_ = make_sketch(self._kind, k, d, rng=seed_of(self.random_state), **self._options(k, n_samples))
        self.n_components_ = k
        if self.compute_inverse_components:
            self.inverse_components_ = self._pseudo_inverse()
        return self

    def transform(self, X):
        """Project the rows of `X`: ``(n_samples, n_features) -> (n_samples, n_components_)``.

        Sparse `X` gives a sparse result where the sketch is a sparse matrix (:class:`SparseSignProjection`,
        :class:`CountSketchProjection`), unless ``dense_output``; a dense result otherwise.

        Parameters
        ----------
        X : (n_samples, n_features) array_like or sparse matrix
            The rows to project.

        Returns
        -------
        (n_samples, n_components_) array or sparse matrix
            ``X @ S.T``.

        See Also
        --------
        inverse_transform : Map the projection back.
        """
        check_is_fitted(self, "operator_")
        X = check_X(self, X, reset=False, method="transform")
        if is_sparse(X) and not getattr(self, "dense_output", True):
            return sp.csr_matrix(X @ _sparse_matrix(self.operator_, X.dtype).T)
        return self.operator_.apply(X, axis=-1)

    def inverse_transform(self, X):
        """Map projected data `X` back with the pseudo-inverse of the projection: ``X @ pinv(S).T``.

        As scikit-learn's random projections (``compute_inverse_components``): the minimum-norm preimage,
        computed at fit with ``compute_inverse_components=True`` (stored in ``inverse_components_``, n_features x
        n_components, dense), else at each call.

        Parameters
        ----------
        X : (n_samples, n_components_) array_like or sparse matrix
            Projected data.

        Returns
        -------
        (n_samples, n_features) array
            ``X @ pinv(S).T``, the minimum-norm preimage of each row.

        See Also
        --------
        transform : The projection this maps back.
        """
        check_is_fitted(self, "operator_")
        Y = check_Y(X, self.n_components_)
        inverse = self.inverse_components_ if self.compute_inverse_components else self._pseudo_inverse()
        if is_sparse(Y):
            return np.asarray(Y @ inverse.T.astype(Y.dtype, copy=False))
        xp = array_namespace(Y)
        if is_numpy_namespace(xp):
            return Y @ inverse.T.astype(Y.dtype, copy=False)
        return Y @ xp.asarray(inverse.T, dtype=Y.dtype, device=device_of(Y))

    def _pseudo_inverse(self):
        """``pinv(S) = S^T pinv(S S^T)`` (d x k, float64) from products with ``S.T``: the k x k Gram matrix."""
        St = self.operator_.T @ np.eye(self.n_components_)
        gram = self.operator_ @ St
        return St @ scipy.linalg.pinvh(gram)


_LEADING_PARAMETERS = """
    n_components : int or "auto"
        Target dimension ``k``; "auto": scikit-learn's ``johnson_lindenstrauss_min_dim(n_samples, eps)``
        (:func:`~lowrank_la.sketch.jl_min_dim`), refused where it exceeds n_features.
    eps : float
        Distortion for ``n_components="auto"``, ``0 < eps < 1``."""

_TRAILING_PARAMETERS = """
    compute_inverse_components : bool
        Compute the pseudo-inverse at fit (``inverse_components_``) for :meth:`inverse_transform`.
    random_state : None, int, numpy RandomState or Generator
        Seed (an int draws the same operator as the sketch class with ``rng=int``)."""

_COMMON_ATTRIBUTES = """
    operator_ : SketchOperator
        The drawn sketch (``operator_ @ x``, ``operator_.T``, ``operator_.todense()``).
    n_components_ : int
        Target dimension.
    inverse_components_ : (n_features, k) array, k = ``n_components_``
        ``pinv(S)``, with ``compute_inverse_components=True``.
    n_features_in_, feature_names_in_
        As in scikit-learn."""


def _common_docs(cls):
    """Fill the parameters and attributes that every projection shares into the docstring of `cls`."""
    cls.__doc__ = cls.__doc__ % {"leading_parameters": _LEADING_PARAMETERS, "common_attributes": _COMMON_ATTRIBUTES,
                                 "trailing_parameters": _TRAILING_PARAMETERS}
    return cls


@_common_docs
class FJLTProjection(_SketchProjection):
    """Fast Johnson-Lindenstrauss random projection (:class:`lowrank_la.sketch.FJLT`).

    ``O(d log d + k ln^2 n / alpha)`` per row instead of ``O(d k)`` for a Gaussian projection: random signs, a
    Walsh-Hadamard transform, then a sparse k x d' matrix. Sparse input is never densified: where ``nnz(X) k``
    is below the cost of the transform, the map is applied as an explicit k x d matrix (formed from the rows of
    the sparse matrix by ``k`` transforms, kept on the operator), ``O(nnz(X) k)``; the result is dense.

    Parameters
    ----------%(leading_parameters)s
    q : {"fhl", "ailon-chazelle"} or float
        Density rule of the sparse step (see :class:`~lowrank_la.sketch.FJLT`).%(trailing_parameters)s

    Attributes
    ----------%(common_attributes)s

    See Also
    --------
    SRHTProjection : Row subsampling in place of the FJLT's sparse matrix.
    lowrank_la.sketch.FJLT : The sketch operator behind it.
    sklearn.random_projection.SparseRandomProjection : The sparse random projection of scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import FJLTProjection
    >>> from lowrank_la.sketch import max_distortion
    >>> X = np.random.default_rng(0).standard_normal((100, 4096))
    >>> proj = FJLTProjection(eps=0.5, random_state=0).fit(X)
    >>> Y = proj.transform(X)
    >>> Y.shape, bool(max_distortion(X, Y) < 0.5)
    ((100, 221), True)
    """

    _kind = "fjlt"

    def __init__(self, n_components="auto", *, eps=0.1, q="fhl", compute_inverse_components=False,
                 random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.q = q
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state

    def _options(self, k, n_samples):
        return {"q": self.q, "eps": self.eps, "n_samples": max(n_samples, 2)}


@_common_docs
class SRHTProjection(_SketchProjection):
    """Subsampled randomized Hadamard (or DCT) transform projection (:class:`lowrank_la.sketch.SRHT`).

    ``O(d log d)`` per row whatever ``k``: random signs, an orthogonal fast transform, then ``k`` of its
    coordinates rescaled. ``k`` is at most the padded n_features (``next_pow2(d)``; ``d`` with ``mixing="dct"``).
    Sparse input is never densified: it is multiplied by the ``k`` sampled rows of the transform as an explicit
    k x d matrix (formed once, kept on the operator), ``O(nnz(X) k)``. The result is dense.

    Parameters
    ----------%(leading_parameters)s
    mixing : {"hadamard", "dct"}
        The orthogonal transform.%(trailing_parameters)s

    Attributes
    ----------%(common_attributes)s

    See Also
    --------
    FJLTProjection : A sparse random matrix in place of the row subsampling.
    lowrank_la.sketch.SRHT : The sketch operator behind it.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import SRHTProjection
    >>> X = np.random.default_rng(0).standard_normal((50, 1000))
    >>> proj = SRHTProjection(200, compute_inverse_components=True, random_state=0).fit(X)
    >>> Y = proj.transform(X)
    >>> Y.shape, np.allclose(proj.transform(proj.inverse_transform(Y)), Y)
    ((50, 200), True)
    """

    _kind = "srht"

    def __init__(self, n_components="auto", *, eps=0.1, mixing="hadamard", compute_inverse_components=False,
                 random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.mixing = mixing
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state

    def _options(self, k, n_samples):
        return {"mixing": self.mixing}


@_common_docs
class SparseSignProjection(_SketchProjection):
    """Sparse sign random projection (Kane-Nelson; :class:`lowrank_la.sketch.SparseSign`).

    Each input coordinate goes to `nnz_per_col` output coordinates with random signs: ``O(s nnz(x))`` per row,
    the projection of choice for sparse data. Sparse input gives a sparse result unless `dense_output`.

    Parameters
    ----------%(leading_parameters)s
    nnz_per_col : int
        Nonzeros per column of the sketch, ``s >= 1`` (``min(s, k)`` is used).
    dense_output : bool
        Return a dense array for sparse input too.%(trailing_parameters)s

    Attributes
    ----------%(common_attributes)s

    See Also
    --------
    CountSketchProjection : One nonzero per column, the cheapest.
    lowrank_la.sketch.SparseSign : The sketch operator behind it.
    sklearn.random_projection.SparseRandomProjection : The sparse random projection of scikit-learn.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from lowrank_la.sklearn import SparseSignProjection
    >>> X = sp.random(100, 5000, density=0.001, format="csr", random_state=0)
    >>> Y = SparseSignProjection(300, nnz_per_col=4, random_state=0).fit_transform(X)
    >>> Y.shape, sp.issparse(Y)
    ((100, 300), True)
    """

    _kind = "sparse_sign"

    def __init__(self, n_components="auto", *, eps=0.1, nnz_per_col=8, dense_output=False,
                 compute_inverse_components=False, random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.nnz_per_col = nnz_per_col
        self.dense_output = dense_output
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state

    def _options(self, k, n_samples):
        s = check_int(self.nnz_per_col, "nnz_per_col", low=1)
        return {"nnz_per_col": min(s, k)}


@_common_docs
class CountSketchProjection(_SketchProjection):
    """CountSketch random projection (:class:`lowrank_la.sketch.CountSketch`).

    Each input coordinate is hashed to one output coordinate with a random sign: ``O(nnz(x))`` per row, the
    cheapest projection; sparse input gives a sparse result unless `dense_output`.

    Parameters
    ----------%(leading_parameters)s
    dense_output : bool
        Return a dense array for sparse input too.%(trailing_parameters)s

    Attributes
    ----------%(common_attributes)s

    See Also
    --------
    SparseSignProjection : More nonzeros per column, a better embedding at the same size.
    lowrank_la.sketch.CountSketch : The sketch operator behind it.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sklearn import CountSketchProjection
    >>> X = np.eye(4)
    >>> Y = CountSketchProjection(2, random_state=0).fit_transform(X)
    >>> sorted(np.abs(Y).sum(axis=1).tolist())
    [1.0, 1.0, 1.0, 1.0]
    """

    _kind = "countsketch"

    def __init__(self, n_components="auto", *, eps=0.1, dense_output=False, compute_inverse_components=False,
                 random_state=None):
        self.n_components = n_components
        self.eps = eps
        self.dense_output = dense_output
        self.compute_inverse_components = compute_inverse_components
        self.random_state = random_state


def _sparse_matrix(operator, dtype):
    """The k x d CSR matrix of a sparse sketch (SparseSign, CountSketch) in `dtype`, from its cached cast."""
    return operator._cast(dtype)
