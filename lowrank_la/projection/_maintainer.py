r"""``KroneckerProjectionMaintainer``: the projection ``P = B^T (B B^T)^-1 B`` kept up to date while ``W`` receives
low-rank updates, with exact, sketched and DP-robust queries."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import scipy.linalg

from .._backend import array_namespace, as_rng, is_numpy_namespace, solve, to_numpy, working_dtype
from .._backend.storage import ArrayField, ConfigField, generator_state, read_state
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_real,
    check_shape_agrees,
    check_tolerance,
    refuse_random_state,
)
from ..sketch import make_sketch
from ..svd._common import pow2_exponent, times_pow2
from ._kron import (
    FORMS,
    VECS,
    _check_stack,
    _check_weight,
    _namespace_and_dtype,
    _sqrt_from_eig,
    as_canonical_matrix,
    canonical_stack,
    gather,
    gather_packed,
    is_symmetric_stack,
    normal_matrix,
    pack_upper,
    pair,
    pair_packed,
    transform,
    user_matrix,
    vec_f,
)
from ._normal import NormalFactor, lu_rcond, pcg, pinv_rtol
from ._private import SketchPool, composed_epsilon, per_answer_epsilon, pool_size, private_median

__all__ = ["METHODS", "KroneckerProjectionMaintainer", "coordinate_estimate_std", "default_sketch_size"]

#: How :class:`KroneckerProjectionMaintainer` absorbs an update (`method`).
METHODS = ("lazy_pcg", "woodbury", "rebuild")
SKETCH_EPS = 0.25  # default sketch size ceil(ln(n^2 / SKETCH_DELTA) / SKETCH_EPS^2), capped at n^2
SKETCH_DELTA = 1e-6
_STATE_VERSION = 1


def default_sketch_size(dim: int) -> int:
    """``min(dim, ceil(ln(dim / 1e-6) / 0.25^2))``: the JL size for one coordinate at distortion 0.25.

    Parameters
    ----------
    dim : int
        Dimension of the sketched vectors (``n^2`` for the projection's queries), ``dim >= 1``.

    Returns
    -------
    int
        The sketch size ``s``, ``1 <= s <= dim``.

    Raises
    ------
    ValueError
        If ``dim < 1``.

    See Also
    --------
    coordinate_estimate_std : The standard deviation of an estimate at a given sketch size.
    lowrank_la.sketch.jl_min_dim : The Johnson-Lindenstrauss dimension for many points.

    Examples
    --------
    >>> default_sketch_size(4096)
    355
    """
    dim = check_int(dim, "dim", low=1)
    return min(dim, math.ceil(math.log(dim / SKETCH_DELTA) / SKETCH_EPS**2))


def coordinate_estimate_std(v, idx, sketch_size, kind="gaussian"):
    r"""Standard deviation of the sketched coordinate estimates ``(R^T R v)_i``, ``i`` in `idx`.

    * ``"gaussian"`` (entries ``N(0, 1/s)``): ``sqrt((||v||^2 + v_i^2) / s)``;
    * ``"countsketch"`` (one ``+-1`` per column in a uniform row): ``sqrt((||v||^2 - v_i^2) / s)``.

    Both estimates are unbiased. They are computed from `v` rescaled by a power of two, so that they scale
    with `v` over the whole float range (``c v`` gives ``c`` times the answer, down to subnormal entries).

    Parameters
    ----------
    v : (d,) array
        The sketched vector (``P h`` for the projection's queries); finite, real.
    idx : int or sequence of int
        Coordinates, ``0 <= i < d``.
    sketch_size : int
        Rows ``s >= 1`` of the sketch ``R``.
    kind : {"gaussian", "countsketch"}
        The kind of ``R``.

    Returns
    -------
    (len(idx),) numpy array
        The standard deviations, in the working dtype of `v` (float32 stays float32; computed in float64).

    Raises
    ------
    ValueError
        If `v` is not 1-D or holds NaN or Inf, an index is out of range, ``sketch_size < 1`` or `kind` unknown.
    TypeError
        If `idx` does not hold integers, `v` is not numeric, or `sketch_size` is not an integer.

    See Also
    --------
    KroneckerProjectionMaintainer : The maintainer whose ``query_sketched`` estimates this spread describes.
    default_sketch_size : The default sketch size.

    Examples
    --------
    >>> import numpy as np
    >>> coordinate_estimate_std(np.array([3.0, 4.0]), [0], 25).round(3).tolist()
    [1.166]
    """
    check_option(kind, "kind", ("gaussian", "countsketch"))
    s = check_int(sketch_size, "sketch_size", low=1)
    v = to_numpy(as_matrix(v, "v", ndim=1, sparse=False))
    dtype = _host_dtype(working_dtype(v.dtype, np, name="v"))
    idx = _check_coordinates(idx, v.shape[0], "v.shape[0]")
    v = v.astype(np.float64)
    e = pow2_exponent(float(np.max(np.abs(v))))  # v 2^e has max |entry| in [0.5, 1): its squares neither
    v = times_pow2(v, e)                          # overflow nor underflow, and the scaling is exact
    vi = v[idx]
    sign = 1.0 if kind == "gaussian" else -1.0
    return times_pow2(np.sqrt(np.clip(float(v @ v) + sign * vi**2, 0.0, None) / s), -e).astype(dtype)


def _check_coordinates(idx, d, d_text):
    """`idx` (an int or a non-empty 1-D sequence of ints) as an int64 array with ``0 <= idx < d``."""
    arr = np.atleast_1d(np.asarray(idx))
    if arr.ndim != 1 or arr.shape[0] == 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"idx must be an int or a non-empty 1-D sequence of ints, got {idx!r}")
    if arr.min() < 0 or arr.max() >= d:
        raise ValueError(f"idx must satisfy 0 <= idx < {d_text} = {d}, got values in [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


class KroneckerProjectionMaintainer:
    r"""Maintain the projection ``P = B^T (B B^T)^-1 B`` under low-rank changes of ``W``, and answer ``P h``.

    Here ``B = A (W^1/2 kron W^1/2)`` or ``A (W kron I)`` (Song, Yang, Yang, Zhang, ICML 2023).

    Parameters
    ----------
    A_mats : (m, n, n) array
        Constraint matrices ``A_i``; row ``i`` of ``A`` is ``vec(A_i)^T``. Copied.
    W : (n, n) array
        Symmetric positive definite weight.
    form : {"sqrt", "identity"}
        ``"sqrt"``: ``B = A (W^1/2 kron W^1/2)`` (``B B^T`` is the SDP Schur complement
        ``tr(A_i W A_j W)``); ``"identity"``: ``B = A (W kron I)``.
    vec : {"F", "C"}
        Column-major (default) or row-major ``vec``; see :func:`kron_apply_B`.
    method : {"lazy_pcg", "woodbury", "rebuild"}
        How an update is absorbed:

        * ``"lazy_pcg"``: keep the factorisation of ``M~ = M(W~)`` at a stale ``W~`` and answer queries by
          conjugate gradients on ``M(W) y = B h`` preconditioned with it; refactorise at ``W~ <- W`` when the
          drift ``max |eig(W~^-1/2 W W~^-1/2) - 1|`` exceeds `eps_mp` (on ``W^2`` for the identity form), or
          when PCG needs more than `max_pcg_iter` products;
        * ``"woodbury"``: update the explicit ``M^-1`` exactly by the Woodbury identity with the rank-``r``
          change of ``M`` (``r = nk`` for symmetric ``A_i`` in the sqrt form, ``2nk`` otherwise); a full
          refactorisation every `refactor_every` updates bounds the rounding drift. A change whose Woodbury step
          would cost more flops than a rebuild (``r`` near ``m`` or above) refactorises instead (the step took
          3x a rebuild at n = 64, m = 1040, k = 16);
        * ``"rebuild"``: recompute ``M`` and its Cholesky factor at every update (the reference).
    eps_mp : float
        Drift threshold of ``lazy_pcg``, ``0 < eps_mp < 1``.
    ridge : float >= 0 or "pinv"
        ``0`` (default): ``M`` must be nonsingular: a normal matrix whose reciprocal condition number (LAPACK's
        1-norm estimate from the Cholesky factor, ``O(m^2)``) is below ``max(1e-10, 10 m eps)``, for example
        from a repeated constraint matrix, is refused with a ValueError, so that every answer is a projection.
        ``ridge > 0``: answers ``B^T (B B^T + ridge I)^-1 B h``, a
        shrunk projection (symmetric, contracting, *not* idempotent). ``"pinv"``: answers
        ``B^T (B B^T)^+ B h``, the orthogonal projection onto the row space of ``B``, also when ``M`` is singular
        (symmetric ``A_i`` with ``m > n(n+1)/2``, or dependent ``A_i``); eigenvalues of ``M`` below
        ``max(1e-10, 10 m eps) lambda_max`` count as zero.
    max_pcg_iter : int
        PCG products per query before ``lazy_pcg`` refactorises.
    pcg_tol : float
        Relative accuracy of the PCG answer (in the energy norm, i.e. of ``P h``); raised to ``100 eps`` of the
        working dtype if smaller.
    refactor_every : int
        Woodbury updates between full refactorisations.
    rng : None, int or numpy.random.Generator
        Randomness of the sketched and robust queries.

    Attributes
    ----------
    m, n : int
    dtype : dtype
        Working dtype (float32 stays float32).
    diagnostics : dict
        ``n_updates``, ``n_queries``, ``n_rebuilds``, ``n_woodbury``, ``pcg_iterations`` (last query),
        ``pcg_iterations_total``, ``drift`` (lazy_pcg), ``robust_answers``, ``privacy_spent``.

    Raises
    ------
    ValueError
        If shapes do not fit, ``W`` is not symmetric positive definite, an option is out of range, or ``M`` is
        singular with ``ridge=0``.
    TypeError
        If `A_mats` or `W` is not an array, or has a complex or non-numeric dtype.

    See Also
    --------
    kron_apply_B : The matrix-free product with ``B``.
    kron_normal_matrix : The normal matrix the maintainer factorizes.
    coordinate_estimate_std : The accuracy of the sketched queries.

    Notes
    -----
    Costs (``m`` constraints, rank-``k`` updates): building ``M`` is ``2 m n^3 + m^2 n^2`` flops (the second
    term halved for symmetric ``A_i`` in the sqrt form) plus an ``m^3/3`` Cholesky; a query is
    ``O(n^3 + m n^2 + m^2)`` (times the PCG count for ``lazy_pcg``), reading symmetric ``A_i`` from a packed copy
    of their upper triangles (half the stack's memory, half the memory traffic of these products); a Woodbury
    update is ``O(m^2 r + m r^2 + r^3)`` with ``r = nk``, which beats a rebuild when ``nk << m``. With
    ``(1 - eps) W~ <= W <= (1 + eps) W~``, ``M(W)`` lies within ``(1 +- eps)^2`` of ``M~`` (sqrt form), so the
    preconditioned condition number is at most ``((1 + eps) / (1 - eps))^2``. Dense work runs in the inputs'
    namespace (NumPy, CuPy, array-api-strict); the sketched and robust layers run on the host.

    References
    ----------
    .. [1] Z. Song, X. Yang, Y. Yang, L. Zhang, "Sketching meets differential privacy: fast algorithm for dynamic
       Kronecker projection maintenance", ICML 2023, arXiv:2210.11542.
    .. [2] M. B. Cohen, Y. T. Lee, Z. Song, "Solving linear programs in the current matrix multiplication time",
       STOC 2019 (the lazy, drift-triggered projection maintenance in the diagonal case).

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.projection import KroneckerProjectionMaintainer
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((6, 4, 4)); A = A + A.transpose(0, 2, 1)
    >>> W = np.eye(4) + 0.1 * np.ones((4, 4))
    >>> pm = KroneckerProjectionMaintainer(A, W, method="woodbury")
    >>> pm.update(rng.standard_normal((4, 1)), np.array([[0.05]]))
    >>> h = rng.standard_normal(16)
    >>> p = pm.query(h)
    >>> bool(np.allclose(pm.query(p), p))            # idempotent
    True
    """

    @refuse_random_state
    def __init__(self, A_mats, W, *, form="sqrt", vec="F", method="lazy_pcg", eps_mp=0.1, ridge=0.0,
                 max_pcg_iter=50, pcg_tol=1e-10, refactor_every=50, rng=None):
        self.form = check_option(form, "form", FORMS)
        self.vec = check_option(vec, "vec", VECS)
        self.method = check_option(method, "method", METHODS)
        self.eps_mp = check_real(eps_mp, "eps_mp", low=0, high=1, low_inclusive=False, high_inclusive=False)
        if isinstance(ridge, str):
            check_option(ridge, "ridge", ("pinv",))
        else:
            ridge = check_real(ridge, "ridge", low=0)
        self.ridge = ridge
        self.max_pcg_iter = check_int(max_pcg_iter, "max_pcg_iter", low=1)
        self.refactor_every = check_int(refactor_every, "refactor_every", low=1)
        A_mats, self.m, self.n = _check_stack(A_mats)
        W = as_matrix(W, "W", sparse=False)
        xp, self.dtype = _namespace_and_dtype((A_mats, "A_mats"), (W, "W"))
        self.pcg_tol = max(check_tolerance(pcg_tol, "pcg_tol"), 100 * float(xp.finfo(self.dtype).eps))
        self._xp = xp
        self._A = xp.asarray(canonical_stack(xp.astype(A_mats, self.dtype, copy=False), self.vec), copy=True)
        self._symmetric = is_symmetric_stack(self._A, xp)
        self._A_upper = pack_upper(self._A) if self._symmetric else None
        self._weight = _Weight.of(W, self.n, xp, self.dtype, self.form)
        self._gen = as_rng(rng)
        self.diagnostics = {"n_updates": 0, "n_queries": 0, "n_rebuilds": 0, "n_woodbury": 0,
                            "pcg_iterations": 0, "pcg_iterations_total": 0, "drift": 0.0, "robust_answers": 0,
                            "privacy_spent": 0.0}
        self._pool = None
        self._robust = None
        self._commit(self._rebuilt(self._weight))

    # ------------------------------------------------------------------ views
    @property
    def W(self):
        """The current weight (a copy).

        See Also
        --------
        KroneckerProjectionMaintainer.update : Change the weight.
        """
        return self._xp.asarray(self._weight.W, copy=True)

    def normal_matrix(self):
        """Form the normal matrix ``M = B B^T`` at the current ``W``, afresh and without the ridge.

        Returns
        -------
        (m, m) array
            ``B B^T``, symmetric positive semidefinite.

        See Also
        --------
        kron_normal_matrix : The same matrix for any weight.
        KroneckerProjectionMaintainer.projector_dense : The dense projector, for small sizes.
        """
        return self._normal(self._weight)

    def projector_dense(self):
        """Form the dense projector, column by column through :meth:`query` (small ``n`` only).

        Returns
        -------
        (n^2, n^2) array
            The matrix ``P``, acting on flat vectors of length ``n^2``.

        See Also
        --------
        KroneckerProjectionMaintainer.query : One product ``P h``, without forming ``P``.
        """
        xp, d = self._xp, self.n * self.n
        eye = xp.eye(d, dtype=self.dtype)
        cols = [self._project(xp.reshape(eye[:, j], (self.n, self.n)).T) for j in range(d)]
        return xp.stack([vec_f(c) for c in cols], axis=1)

    # ------------------------------------------------------------------ updates
    def update(self, U=None, C=None, *, W_new=None):
        """Apply ``W <- W + U C U^T`` (``U`` (n, k), ``C`` (k, k) symmetric or (k,) diagonal), or ``W <- W_new``.

        Parameters
        ----------
        U : (n, k) array, optional
            Directions of the change (never modified).
        C : (k, k) or (k,) array, optional
            Symmetric coefficients, or the diagonal of diagonal ones.
        W_new : (n, n) array, optional
            The new weight, symmetric positive definite, instead of `U` and `C`.

        Raises
        ------
        ValueError
            If a shape does not fit, an input holds NaN or Inf, the new ``W`` is not positive definite, or the
            new normal matrix is singular (with ``ridge=0``). The maintainer's state is then unchanged.

        See Also
        --------
        KroneckerProjectionMaintainer.query : Answer ``P h`` at the updated weight.
        KroneckerProjectionMaintainer.W : The current weight.

        Examples
        --------
        >>> import numpy as np
        >>> A = np.random.default_rng(0).standard_normal((5, 3, 3))
        >>> pm = KroneckerProjectionMaintainer(A, np.eye(3), method="woodbury")
        >>> pm.update(np.ones((3, 1)) / 3, np.array([0.9]))
        >>> bool(np.allclose(pm.W, np.eye(3) + 0.1))
        True
        """
        xp = self._xp
        if (W_new is None) == (U is None):
            raise ValueError("pass either U and C (W <- W + U C U^T) or W_new, not both and not neither")
        if W_new is not None:
            weight = _Weight.of(W_new, self.n, xp, self.dtype, self.form, name="W_new")
            low_rank = None
        else:
            U, C = self._check_low_rank(U, C)
            W_next = self._weight.W + U @ C @ U.T
            try:
                weight = _Weight.of(W_next, self.n, xp, self.dtype, self.form, name="W + U C U^T")
            except ValueError as exc:
                raise ValueError(f"the update would leave W indefinite or invalid: {exc}") from None
            low_rank = (U, C)
        if self.method == "rebuild":
            state = self._rebuilt(weight)
        elif self.method == "woodbury":
            due = (low_rank is None or self._n_woodbury_since + 1 >= self.refactor_every
                   or not self._woodbury_pays(low_rank[0].shape[1]))
            state = self._rebuilt(weight) if due else self._woodbury(weight, *low_rank)
        else:
            drift = self._drift(weight)
            state = self._rebuilt(weight) if drift > self.eps_mp else {"weight": weight, "drift": drift}
        self._commit(state)
        self.diagnostics["n_updates"] += 1

    def _check_low_rank(self, U, C):
        xp, n = self._xp, self.n
        U = as_matrix(U, "U", sparse=False)
        check_shape_agrees("U.shape[0]", U.shape[0], n, "n")
        k = int(U.shape[1])
        C = as_matrix(C, "C", ndim=(1, 2), sparse=False)
        if C.ndim == 1:
            check_shape_agrees("C.shape[0]", C.shape[0], k, "U.shape[1]")
            C = xp.eye(k, dtype=self.dtype) * xp.astype(C, self.dtype)[None, :]  # diag(C)
        else:
            check_shape_agrees("C.shape[0]", C.shape[0], k, "U.shape[1]")
            check_shape_agrees("C.shape[1]", C.shape[1], k, "U.shape[1]")
            C = xp.astype(C, self.dtype)
            scale = max(float(xp.max(xp.abs(C))), 1e-300)
            if float(xp.max(xp.abs(C - C.T))) > 1e-8 * scale:
                raise ValueError("C must be symmetric (so that W + U C U^T stays symmetric)")
            C = (C + C.T) / 2
        return xp.astype(U, self.dtype), C

    def _drift(self, weight):
        """``max |eig(W~^-1/2 W W~^-1/2) - 1|`` (sqrt form) or ``max |sqrt(eig(W~^-1 W^2 W~^-1)) - 1|``."""
        xp = self._xp
        R = self._ref_isqrt
        if self.form == "sqrt":
            lam = xp.linalg.eigvalsh(R @ weight.W @ R)
        else:
            lam = xp.sqrt(xp.clip(xp.linalg.eigvalsh(R @ (weight.W @ weight.W) @ R), 0.0, None))
        return float(xp.max(xp.abs(lam - 1.0)))

    def _normal(self, weight):
        """``M = B B^T`` at `weight`."""
        return normal_matrix(self._A, weight.factor, self.form, symmetric=self._symmetric)

    def _pair(self, X):
        """``[<A_i, X>]_i``; from the packed upper triangles (half the memory traffic) when the ``A_i`` are
        symmetric."""
        return pair(self._A, X) if self._A_upper is None else pair_packed(self._A_upper, X)

    def _gather(self, y):
        """``sum_i y_i A_i``, like :meth:`_pair`."""
        return gather(self._A, y) if self._A_upper is None else gather_packed(self._A_upper, y, self.n)

    def _rebuilt(self, weight):
        """A fresh factorisation at `weight` (not yet committed)."""
        factor = NormalFactor(self._normal(weight), self.ridge)
        state = {"weight": weight, "factor": factor, "rebuilt": True, "drift": 0.0}
        if self.method == "woodbury":
            state["inverse"] = factor.inverse()
        if self.method == "lazy_pcg":
            state["ref_isqrt"] = weight.inverse_root(self.form)
        return state

    def _woodbury(self, weight, U, C):
        """``M^-1`` after ``M <- M + Z K Z^T``: ``M^-1 - Y (I + K Z^T Y)^-1 K Y^T`` with ``Y = M^-1 Z``."""
        xp = self._xp
        Z, K = self._change_factor(weight, U, C)
        inv = self._inverse
        Y = inv @ Z
        small = xp.eye(K.shape[0], dtype=self.dtype) + K @ (Z.T @ Y)
        lu, rcond = lu_rcond(to_numpy(small))
        if not rcond >= pinv_rtol(self.m, float(xp.finfo(self.dtype).eps)):
            return self._rebuilt(weight)  # an ill-conditioned correction: refactorise (which refuses a singular M)
        rhs = K @ Y.T
        X = scipy.linalg.lu_solve(lu, rhs, check_finite=False) if is_numpy_namespace(xp) else solve(small, rhs, xp)
        new = inv - Y @ X
        if not bool(xp.all(xp.isfinite(new))):
            raise ValueError("the Woodbury update is numerically singular (the new normal matrix is singular)")
        return {"weight": weight, "inverse": (new + new.T) / 2, "woodbury": True}

    def _woodbury_pays(self, k):
        """Whether a Woodbury step for a rank-`k` change of ``W`` costs fewer multiply-adds than a rebuild.

        With ``r`` the rank of the change of ``M`` (``nk`` for symmetric ``A_i`` in the sqrt form, ``2nk``
        otherwise) and ``d`` the width of the Gram product (``n(n+1)/2`` packed, ``n^2``): the step costs
        ``2 m^2 r + 3 m r^2 + 4 r^3 / 3``, a rebuild with its explicit inverse ``2 m n^3 + m^2 d / 2 + m^3 / 2``.
        The model's ratio matched the measured one at (n, m, k) = (64, 1040, 16) (3.1 against 3.0) and
        (128, 4128, 16) (1.1 against 1.2).
        """
        m, n = self.m, self.n
        packed = self.form == "sqrt" and self._symmetric
        r, d = (n * k, n * (n + 1) // 2) if packed else (2 * n * k, n * n)
        return 2 * m * m * r + 3 * m * r * r + 4 * r**3 / 3 < 2 * m * n**3 + m * m * d / 2 + m**3 / 2

    def _change_factor(self, weight, U, C):
        """``(Z, K)`` with ``M(W + U C U^T) - M(W) = Z K Z^T``; ``Z`` is (m, r) (row i: ``A_i U`` flattened)."""
        xp, m, n = self._xp, self.m, self.n
        k = U.shape[1]
        if self.form == "sqrt":
            # M_ij changes by <A_i U, G A_j U C> + <A_i^T U, G A_j^T U C> with G = W + U C U^T / 2
            G = (self._weight.W + weight.W) / 2
            K = _kron_small(G, C, xp)
            Z = xp.reshape(self._A @ U, (m, n * k))
            if self._symmetric:
                return Z, 2 * K
            Zt = xp.reshape(xp.permute_dims(self._A, (0, 2, 1)) @ U, (m, n * k))
            zeros = xp.zeros_like(K)
            return xp.concat([Z, Zt], axis=1), xp.concat([xp.concat([K, zeros], axis=1),
                                                          xp.concat([zeros, K], axis=1)], axis=0)
        # identity form: W^2 changes by V D V^T with V = [W U, U], D = [[0, C], [C, C U^T U C]]
        V = xp.concat([self._weight.W @ U, U], axis=1)
        zero = xp.zeros_like(C)
        D = xp.concat([xp.concat([zero, C], axis=1), xp.concat([C, C @ (U.T @ U) @ C], axis=1)], axis=0)
        Z = xp.reshape(self._A @ V, (m, n * 2 * k))
        return Z, _kron_small(xp.eye(n, dtype=self.dtype), D, xp)

    def _commit(self, state):
        self._weight = state["weight"]
        if "factor" in state:
            self._factor = state["factor"]
        if "inverse" in state:
            self._inverse = state["inverse"]
        if "ref_isqrt" in state:
            self._ref_isqrt = state["ref_isqrt"]
        if state.get("rebuilt"):
            self.diagnostics["n_rebuilds"] += 1
            self._n_woodbury_since = 0
        if state.get("woodbury"):
            self.diagnostics["n_woodbury"] += 1
            self._n_woodbury_since += 1
        if "drift" in state:
            self.diagnostics["drift"] = state["drift"]

    # ------------------------------------------------------------------ queries
    def query(self, h):
        """``P h`` to the solver's accuracy.

        Parameters
        ----------
        h : (n*n,) or (n, n) array
            The vector, or its n x n matrix (read with the `vec` convention).

        Returns
        -------
        (n*n,) or (n, n) array
            ``P h``, shaped like `h`, in the working dtype.

        Raises
        ------
        ValueError
            If `h` has the wrong shape or holds NaN or Inf.

        See Also
        --------
        KroneckerProjectionMaintainer.query_sketched : A cheaper sketched estimate of selected coordinates.
        KroneckerProjectionMaintainer.robust_query : Estimates robust to adaptively chosen queries.
        """
        H, given_as_matrix = as_canonical_matrix(h, self.n, self.vec, self._xp, self.dtype, name="h")
        X = self._project(H)
        return user_matrix(X, self.vec) if given_as_matrix else vec_f(X)

    def _project(self, H):
        self.diagnostics["n_queries"] += 1
        weight = self._weight
        g = self._pair(transform(H, weight.factor, self.form))
        y = self._solve(g)
        return transform(self._gather(y), weight.factor, self.form)

    def _solve(self, g):
        if self.method == "rebuild":
            return self._factor.solve(g)
        if self.method == "woodbury":
            return self._inverse @ g
        y, iters, ok = pcg(self._normal_matvec, self._factor.solve_in_loop, g, tol=self.pcg_tol,
                           maxiter=self.max_pcg_iter)
        self.diagnostics["pcg_iterations"] = iters
        self.diagnostics["pcg_iterations_total"] += iters
        if ok:
            return y
        self._commit(self._rebuilt(self._weight))  # too stale: refactorise at the current W and solve directly
        return self._factor.solve(g)

    def _normal_matvec(self, v):
        """``(M + ridge I) v = [<A_i, T^2(sum_j v_j A_j)>] (+ ridge v)`` in ``O(m n^2 + n^3)``."""
        X = self._gather(v)
        W = self._weight.W
        X = W @ X @ W if self.form == "sqrt" else X @ self._weight.squared
        out = self._pair(X)
        return out + self.ridge * v if self.ridge not in ("pinv", 0.0) else out

    @refuse_random_state
    def query_sketched(self, h, idx=None, *, sketch_size=None, kind="gaussian", rng=None):
        """Sketched estimate ``(R^T R P h)[idx]`` of selected coordinates of ``P h``.

        ``R`` (``s x n^2``) is drawn by :func:`lowrank_la.sketch.make_sketch`; the estimate is unbiased with
        standard deviation :func:`coordinate_estimate_std` (for ``"gaussian"`` and ``"countsketch"``). ``P h`` is
        computed exactly and then sketched: this is the estimator whose statistics (and whose weakness against
        adaptive queries) the robust layer is about, not a faster query.

        Parameters
        ----------
        h : (n*n,) or (n, n) array
            The vector to project, or its n x n matrix (read with the `vec` convention).
        idx : int, sequence of int or None
            Coordinates of the flat ``P h`` (``0 <= i < n^2``); all of them when None.
        sketch_size : int, optional
            ``s``; :func:`default_sketch_size` when None.
        kind : str
            Any kind of :func:`lowrank_la.sketch.make_sketch`.
        rng : None, int or numpy.random.Generator
            Randomness of ``R``; None draws from the maintainer's own generator. The same int gives the same
            sketch, i.e. a fixed sketch reused across queries.

        Returns
        -------
        (len(idx),) numpy array
            In the working dtype (float32 stays float32).

        See Also
        --------
        KroneckerProjectionMaintainer.query : The exact product ``P h``.
        KroneckerProjectionMaintainer.robust_query : The variant for adaptively chosen queries.
        coordinate_estimate_std : The standard deviation of these estimates.
        default_sketch_size : The default `sketch_size`.

        Examples
        --------
        >>> import numpy as np
        >>> A = np.random.default_rng(0).standard_normal((5, 3, 3))
        >>> pm = KroneckerProjectionMaintainer(A, np.eye(3), rng=0)
        >>> h = np.arange(9.0)
        >>> est = pm.query_sketched(h, [0, 4], sketch_size=9, rng=1)   # estimates (P h)[[0, 4]], unbiased
        >>> est.shape, est.dtype
        ((2,), dtype('float64'))
        """
        d = self.n * self.n
        idx = self._check_idx(idx)
        s = default_sketch_size(d) if sketch_size is None else check_int(sketch_size, "sketch_size", low=1)
        v = to_numpy(self.query(_flat(h, self.n, self.vec, self._xp)))  # validates h before anything is drawn
        R = make_sketch(kind, s, d, rng=self._gen if rng is None else as_rng(rng))
        E = np.zeros((d, idx.shape[0]))
        E[idx, np.arange(idx.shape[0])] = 1.0
        return np.asarray((R @ E).T @ (R @ v), dtype=_host_dtype(self.dtype))

    def robust_query(self, h, idx, T_max, *, delta=1e-6, eps_dp=1.0, sketch_size=None, n_sketches=None,
                     n_bins=4096):
        """DP-robust estimate of ``(P h)[idx]`` for up to `T_max` adaptively chosen queries (experimental).

        Each coordinate is answered by an ``eps0``-DP median (exponential mechanism over `n_bins` bins on the
        public range ``[-||h||, ||h||]``, which holds every coordinate of ``P h``) of the estimates of a pool of
        ``K`` CountSketches. The pool is drawn at the first call for ``N = T_max len(idx)`` answers:
        ``eps0`` makes ``N`` answers ``(eps_dp, delta)``-DP by advanced composition and
        ``K = ceil(8 ln(n_bins N / 1e-3) / eps0)`` (``O(sqrt(N) log N)``) unless `n_sketches` is given. Every
        answered coordinate is counted; when the budget of ``N`` is spent the call is refused
        (:meth:`reset_robust` draws a fresh pool).

        Parameters
        ----------
        h : (n*n,) or (n, n) array
            The vector to project, or its n x n matrix (read with the `vec` convention).
        idx : int or sequence of int
            Coordinates of the flat ``P h``.
        T_max : int
            Number of queries the pool must serve (fixed at the first call).
        delta, eps_dp : float
            Total privacy budget ``(eps_dp, delta)`` of the answers about the sketches' randomness.
        sketch_size : int, optional
            Rows ``s`` of each CountSketch; :func:`default_sketch_size` when None.
        n_sketches : int, optional
            Pool size ``K``; the formula above when None (the privacy accounting does not depend on it).
        n_bins : int
            Resolution of the private median's grid.

        Returns
        -------
        (len(idx),) numpy array
            In the working dtype (float32 stays float32).

        Raises
        ------
        ValueError
            If the settings differ from the first call's.
        RuntimeError
            If the privacy budget is spent.

        See Also
        --------
        KroneckerProjectionMaintainer.query_sketched : The sketched estimate for queries chosen in advance.
        KroneckerProjectionMaintainer.robust_settings : The settings of the robust layer.
        KroneckerProjectionMaintainer.reset_robust : Draw a fresh sketch pool.

        Examples
        --------
        >>> import numpy as np
        >>> A = np.random.default_rng(0).standard_normal((5, 3, 3))
        >>> pm = KroneckerProjectionMaintainer(A, np.eye(3), rng=0)
        >>> out = pm.robust_query(np.arange(9.0), [0, 4], 10, n_sketches=50)
        >>> out.shape, pm.diagnostics["robust_answers"], pm.robust_settings["budget"]
        ((2,), 2, 20)
        """
        idx = self._check_idx(idx)
        config = {"T_max": check_int(T_max, "T_max", low=1),
                  "delta": check_real(delta, "delta", low=0, high=1, low_inclusive=False, high_inclusive=False),
                  "eps_dp": check_real(eps_dp, "eps_dp", low=0, low_inclusive=False),
                  "sketch_size": None if sketch_size is None else check_int(sketch_size, "sketch_size", low=1),
                  "n_sketches": None if n_sketches is None else check_int(n_sketches, "n_sketches", low=1),
                  "n_bins": check_int(n_bins, "n_bins", low=2)}
        flat = _flat(h, self.n, self.vec, self._xp)
        H, _ = as_canonical_matrix(flat, self.n, self.vec, self._xp, self.dtype, name="h")  # validate before drawing
        if self._robust is None:
            self._setup_pool(config, idx.shape[0])
        elif any(self._robust[key] != value for key, value in config.items()):
            raise ValueError(f"robust_query was set up with {_settings(self._robust)}; call reset_robust() to "
                             "change its settings")
        used, budget = self.diagnostics["robust_answers"], self._robust["budget"]
        if used + idx.shape[0] > budget:
            raise RuntimeError(f"the privacy budget of robust_query is spent: {used} of {budget} answers given "
                               f"(T_max={self._robust['T_max']}); call reset_robust() for a fresh pool")
        v = to_numpy(vec_f(self._project(H)))
        radius = float(np.linalg.norm(to_numpy(flat)))
        z = self._pool.estimates(v, idx)
        eps0 = self._robust["eps0"]
        out = np.empty(idx.shape[0], dtype=_host_dtype(self.dtype))
        for j in range(idx.shape[0]):
            out[j] = private_median(z[:, j], -radius, radius, eps0, self._robust["n_bins"], self._gen)
            self.diagnostics["robust_answers"] += 1
        self.diagnostics["privacy_spent"] = composed_epsilon(eps0, self.diagnostics["robust_answers"],
                                                             self._robust["delta"])
        return out

    def _setup_pool(self, config, n_idx):
        budget = config["T_max"] * n_idx
        eps0 = per_answer_epsilon(config["eps_dp"], budget, config["delta"])
        d = self.n * self.n
        s = config["sketch_size"] or default_sketch_size(d)
        K = config["n_sketches"] or pool_size(eps0, config["n_bins"], budget)
        self._pool = SketchPool.draw(K, s, d, self._gen)
        self._robust = dict(config, budget=budget, eps0=eps0, pool_size=K, pool_sketch_size=s)

    @property
    def robust_settings(self):
        """The robust layer's settings (``eps0``, ``pool_size``, ``budget``, ...), or None before its first use.

        See Also
        --------
        KroneckerProjectionMaintainer.robust_query : The queries these settings govern.
        """
        return None if self._robust is None else dict(self._robust)

    def reset_robust(self):
        """Forget the sketch pool and its privacy accounting (the next :meth:`robust_query` draws a fresh pool).

        See Also
        --------
        KroneckerProjectionMaintainer.robust_query : The queries whose pool and accounting this resets.
        """
        self._pool = self._robust = None
        self.diagnostics["robust_answers"] = 0
        self.diagnostics["privacy_spent"] = 0.0

    def _check_idx(self, idx):
        d = self.n * self.n
        if idx is None:
            return np.arange(d)
        return _check_coordinates(idx, d, "n^2")

    # ------------------------------------------------------------------ save / load
    _CONFIG = ("form", "vec", "method", "eps_mp", "ridge", "max_pcg_iter", "pcg_tol", "refactor_every", "m", "n",
               "diagnostics")

    def save(self, path):
        """Write the whole state (matrices, factorisation, counters, sketch pool, random state) to ``.npz``.

        :meth:`load` returns a maintainer that continues bit-identically (on NumPy).

        Parameters
        ----------
        path : str or os.PathLike
            File to write (overwritten if it exists).

        See Also
        --------
        KroneckerProjectionMaintainer.load : Restore a saved maintainer.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> A = np.random.default_rng(0).standard_normal((5, 3, 3))
        >>> pm = KroneckerProjectionMaintainer(A, np.eye(3), method="lazy_pcg")
        >>> path = os.path.join(tempfile.mkdtemp(), "pm.npz")
        >>> pm.save(path)
        >>> twin = KroneckerProjectionMaintainer.load(path)
        >>> h = np.arange(9.0)
        >>> bool((pm.query(h) == twin.query(h)).all())
        True
        """
        config = {name: getattr(self, name) for name in self._CONFIG}
        config.update(version=_STATE_VERSION, dtype=str(np.dtype(_host_dtype(self.dtype))),
                      rng=generator_state(self._gen), symmetric=self._symmetric,
                      n_woodbury_since=self._n_woodbury_since, robust=self._robust)
        arrays = {"A": self._A, "W": self._weight.W, "lam": self._weight.lam, "Q": self._weight.Q,
                  "factor_W": self._weight.factor}
        arrays.update({f"nf_{k}": v for k, v in self._factor.state().items()})
        if self.method == "woodbury":
            arrays["inverse"] = self._inverse
        if self.method == "lazy_pcg":
            arrays["ref_isqrt"] = self._ref_isqrt
        if self._pool is not None:
            arrays.update(pool_hashes=self._pool.hashes, pool_signs=self._pool.signs)
        arrays = {k: to_numpy(v) for k, v in arrays.items()}
        with open(os.fspath(path), "wb") as fh:
            np.savez(fh, config=np.array(json.dumps(config)), **arrays)

    @classmethod
    def load(cls, path):
        """A maintainer restored from a file written by :meth:`save` (on NumPy).

        Every field is checked against the schema of the format (:data:`_CONFIG_SCHEMA`, :func:`_array_schema`)
        before the maintainer is built: settings, counters and the robust layer's accounting (known option
        names, ranges), the random state (a bit generator from a fixed table), dtypes and shapes of the matrices
        and factorisations, finiteness, positive eigenvalues and Cholesky diagonal, the sketch pool's hashes and
        signs in range, and the symmetry flag against ``A``.

        Parameters
        ----------
        path : str or os.PathLike
            File written by :meth:`save`.

        Returns
        -------
        KroneckerProjectionMaintainer
            The restored maintainer, on NumPy.

        Raises
        ------
        ValueError
            If the file is not a readable ``.npz`` archive, or a field does not fit the format; the message
            names the file and the field.

        See Also
        --------
        KroneckerProjectionMaintainer.save : Write the file this reads.
        """
        f = read_state(path, "config")
        config = f.config(_CONFIG_SCHEMA)
        m, n, robust = config["m"], config["n"], config["robust"]
        if config["n_woodbury_since"] >= config["refactor_every"]:
            raise f.error("n_woodbury_since", f"must be below refactor_every = {config['refactor_every']}, got "
                                              f"{config['n_woodbury_since']}")
        dims = {"m": m, "n": n, "n2": n * n}
        if robust is not None:
            dims.update(pool=robust["pool_size"], pool_sketch_size=robust["pool_sketch_size"])
            if config["diagnostics"]["robust_answers"] > robust["budget"]:
                raise f.error("diagnostics.robust_answers", f"must be at most robust.budget = {robust['budget']}, "
                                                            f"got {config['diagnostics']['robust_answers']}")
        schema, required = _array_schema(config["method"], config["ridge"], robust is not None)
        arrays = f.arrays(schema, dims, required=required, dtype=np.dtype(config["dtype"]))
        A = arrays["A"]
        if is_symmetric_stack(A, np) != config["symmetric"]:
            raise f.error("symmetric", f"must say whether the A_i are symmetric ({not config['symmetric']}), got "
                                       f"{config['symmetric']}")
        if "nf_chol" in arrays and not (np.diagonal(arrays["nf_chol"]) > 0).all():
            raise f.error("nf_chol", "must be a Cholesky factor, with a positive diagonal")
        self = cls.__new__(cls)
        for name in cls._CONFIG:
            setattr(self, name, config[name])
        self._xp = array_namespace(A)
        self.dtype = np.dtype(config["dtype"])
        self._symmetric = config["symmetric"]
        self._A_upper = pack_upper(A) if self._symmetric else None
        self._n_woodbury_since = config["n_woodbury_since"]
        self._robust = robust
        self._gen = config["rng"]
        self._A = A
        W = arrays["W"]
        self._weight = _Weight(W, arrays["lam"], arrays["Q"], arrays["factor_W"],
                               W @ W if self.form == "identity" else None)
        self._factor = NormalFactor.from_state(self.ridge, {k[3:]: v for k, v in arrays.items()
                                                            if k.startswith("nf_")})
        if "inverse" in arrays:
            self._inverse = arrays["inverse"]
        if "ref_isqrt" in arrays:
            self._ref_isqrt = arrays["ref_isqrt"]
        self._pool = None
        if robust is not None:
            self._pool = SketchPool(arrays["pool_hashes"], arrays["pool_signs"], robust["pool_sketch_size"])
        return self

    def __repr__(self):
        return (f"KroneckerProjectionMaintainer(m={self.m}, n={self.n}, form={self.form!r}, vec={self.vec!r}, "
                f"method={self.method!r}, n_updates={self.diagnostics['n_updates']})")


_COUNT = ConfigField("int", low=0)

#: The configuration of a saved maintainer.
_CONFIG_SCHEMA = {
    "form": ConfigField("option", options=FORMS),
    "vec": ConfigField("option", options=VECS),
    "method": ConfigField("option", options=METHODS),
    "eps_mp": ConfigField("real", low=0, high=1, open=(True, True)),
    "ridge": ConfigField("real", low=0, options=("pinv",)),
    "max_pcg_iter": ConfigField("int", low=1),
    "pcg_tol": ConfigField("real", low=0, open=(True, False)),
    "refactor_every": ConfigField("int", low=1),
    "m": ConfigField("int", low=1),
    "n": ConfigField("int", low=1),
    "diagnostics": ConfigField("dict", fields={
        "n_updates": _COUNT, "n_queries": _COUNT, "n_rebuilds": _COUNT, "n_woodbury": _COUNT,
        "pcg_iterations": _COUNT, "pcg_iterations_total": _COUNT, "drift": ConfigField("real", low=0),
        "robust_answers": _COUNT, "privacy_spent": ConfigField("real", low=0)}),
    "version": ConfigField("const", options=(_STATE_VERSION,)),
    "dtype": ConfigField("option", options=("float32", "float64")),
    "rng": ConfigField("rng"),
    "symmetric": ConfigField("bool"),
    "n_woodbury_since": _COUNT,
    "robust": ConfigField("dict", optional=True, fields={
        "T_max": ConfigField("int", low=1), "delta": ConfigField("real", low=0, high=1, open=(True, True)),
        "eps_dp": ConfigField("real", low=0, open=(True, False)),
        "sketch_size": ConfigField("int", low=1, optional=True), "n_sketches": ConfigField("int", low=1, optional=True),
        "n_bins": ConfigField("int", low=2), "budget": ConfigField("int", low=1),
        "eps0": ConfigField("real", low=0, open=(True, False)), "pool_size": ConfigField("int", low=1),
        "pool_sketch_size": ConfigField("int", low=1)}),
}


def _array_schema(method, ridge, robust):
    """The arrays of a saved maintainer (all kinds), and those a state with these settings holds."""
    schema = {
        "A": ArrayField(("m", "n", "n")), "W": ArrayField(("n", "n")),
        "lam": ArrayField(("n",), low=0, open=(True, False)),
        "Q": ArrayField(("n", "n")), "factor_W": ArrayField(("n", "n")), "nf_chol": ArrayField(("m", "m")),
        "nf_V": ArrayField(("m", "rank")), "nf_inv_lam": ArrayField(("rank",), low=0, open=(True, False)),
        "inverse": ArrayField(("m", "m")), "ref_isqrt": ArrayField(("n", "n")),
        "pool_hashes": ArrayField(("pool", "n2"), ("int32",), low=0, high="pool_sketch_size", open=(False, True)),
        "pool_signs": ArrayField(("pool", "n2"), ("int8",), values=(-1, 1)),
    }
    required = ["A", "W", "lam", "Q", "factor_W"] + (["nf_V", "nf_inv_lam"] if ridge == "pinv" else ["nf_chol"])
    required += {"woodbury": ["inverse"], "lazy_pcg": ["ref_isqrt"], "rebuild": []}[method]
    required += ["pool_hashes", "pool_signs"] if robust else []
    return schema, required


class _Weight:
    """``W`` with its eigendecomposition, the factor of ``T`` (``W^1/2`` or ``W``) and, for the identity form,
    ``W^2``."""

    def __init__(self, W, lam, Q, factor, squared):
        self.W, self.lam, self.Q, self.factor, self.squared = W, lam, Q, factor, squared

    @classmethod
    def of(cls, W, n, xp, dtype, form, *, name="W"):
        W, lam, Q = _check_weight(W, n, xp, dtype, name=name, definite=True)
        factor = _sqrt_from_eig(lam, Q, xp) if form == "sqrt" else W
        return cls(W, lam, Q, factor, W @ W if form == "identity" else None)

    def inverse_root(self, form):
        """``W^-1/2`` (sqrt form) or ``W^-1`` (identity form: the drift is measured on ``W^2``)."""
        power = 0.5 if form == "sqrt" else 1.0
        return (self.Q * self.lam ** (-power)) @ self.Q.T


def _kron_small(G, C, xp):
    """``kron(G, C)`` of two small matrices (``n k x n k``): the kernel on row-major flattened ``n x k`` blocks."""
    n, k = G.shape[0], C.shape[0]
    return xp.reshape(G[:, None, :, None] * C[None, :, None, :], (n * k, n * k))


def _flat(h, n, vec, xp):
    """`h` as a flat vector of length ``n^2`` (an n x n matrix is vectorised with the `vec` convention)."""
    ndim = getattr(h, "ndim", None)
    if ndim == 2 and tuple(h.shape) == (n, n):
        return xp.reshape(h.T if vec == "F" else h, (n * n,))
    return h


def _host_dtype(dtype):
    return np.float32 if "32" in str(dtype) else np.float64


def _settings(config):
    return ", ".join(f"{k}={v}" for k, v in config.items() if k in ("T_max", "delta", "eps_dp", "sketch_size",
                                                                   "n_sketches", "n_bins"))
