"""Measurement operators of matrix sensing: linear maps ``A: R^(n1 x n2) -> R^m`` with their adjoints."""

from __future__ import annotations

import math
import os

import numpy as np

from .._backend import array_namespace, as_rng, device_of, is_cupy_namespace, is_numpy_namespace, working_dtype
from .._validate import (
    as_matrix,
    check_dtype,
    check_int,
    check_option,
    check_shape_agrees,
    refuse_random_state,
)

__all__ = ["GaussianSensing", "LinearMapSensing", "SamplingOperator", "SensingOperator"]

#: Bytes of one block of measurement matrices generated at a time by ``GaussianSensing(storage="blocks")``.
BLOCK_BYTES = 8 << 20


def memory_limit() -> int:
    """Bytes a stored design may take: half the physical memory (4 GiB where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 4 << 30


def _check_shape(n, name="n"):
    """``n`` (square) or ``(n1, n2)`` as a pair of positive ints."""
    if isinstance(n, (tuple, list)):
        if len(n) != 2:
            raise ValueError(f"{name}={n!r} must be an int or a pair (n1, n2)")
        return check_int(n[0], f"{name}[0]", low=1), check_int(n[1], f"{name}[1]", low=1)
    n = check_int(n, name, low=1)
    return n, n


class SensingOperator:
    """A linear measurement map ``A: R^(n1 x n2) -> R^m``, ``A(X)_i = <A_i, X>``, and its adjoint.

    Every operator of :mod:`lowrank_la.sensing` has this interface:

    * ``op.forward(X)``: ``X`` of shape ``(n1, n2)`` gives the ``m`` measurements; a batch ``(b, n1, n2)``
      gives ``(b, m)`` in one matrix-matrix product;
    * ``op.adjoint(z)``: ``A*(z) = sum_i z_i A_i``, ``(m,) -> (n1, n2)`` and ``(b, m) -> (b, n1, n2)``;
    * ``op.shape`` ``(n1, n2)``, ``op.n_measurements`` ``m``, ``op.symmetric`` (every ``A_i`` is symmetric);
    * ``op.adjoint_error(rng)``: the mismatch of the identity ``<A(X), z> = <X, A*(z)>`` on random data.

    Inputs may be NumPy, CuPy or other array-API arrays; lists, tuples, ``numpy.matrix`` and pandas
    DataFrames or Series are read as NumPy arrays (the library's input rule). Results come back in the input's
    namespace and floating dtype (float32 stays float32). Inputs are never modified. A wrongly shaped input
    raises ``ValueError`` naming it (``X`` or ``z``), as does NaN or Inf; complex, non-numeric or
    scipy.sparse input raises ``TypeError`` (pass ``X.toarray()``: the maps read every entry).

    Parameters
    ----------
    shape : tuple of two ints
        The shape ``(n1, n2)`` of the sensed matrices, both ``>= 1``.
    n_measurements : int
        The number ``m >= 1`` of measurements.

    See Also
    --------
    GaussianSensing : Gaussian measurement matrices.
    SamplingOperator : Entry sampling, matrix completion as sensing.
    LinearMapSensing : A user-supplied map and adjoint behind this interface.
    scaled_gd_lambda : A solver that reads the measurements through this interface.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import SamplingOperator, SensingOperator
    >>> op = SamplingOperator([0, 2], [1, 0], 3, normalize=False)
    >>> isinstance(op, SensingOperator), op.shape, op.n_measurements
    (True, (3, 3), 2)
    >>> op.forward(np.arange(18.0).reshape(2, 3, 3)).tolist()       # a batch of two matrices
    [[1.0, 6.0], [10.0, 15.0]]
    """

    symmetric = False

    def __init__(self, shape, n_measurements):
        self._shape = _check_shape(shape, "shape")
        self._m = check_int(n_measurements, "n_measurements", low=1)
        if self.symmetric and self._shape[0] != self._shape[1]:
            raise ValueError(f"symmetric=True needs square matrices, got shape={self._shape}; pass symmetric=False "
                             "for rectangular ones")

    @property
    def shape(self) -> tuple[int, int]:
        """``(n1, n2)``: the shape of the matrices measured.

        See Also
        --------
        SensingOperator.n_measurements : The number of measurements.
        """
        return self._shape

    @property
    def n_measurements(self) -> int:
        """``m``: the number of measurements.

        See Also
        --------
        SensingOperator.shape : The shape of the matrices measured.
        """
        return self._m

    def __repr__(self) -> str:
        n1, n2 = self._shape
        sym = ", symmetric" if self.symmetric else ""
        return f"<{type(self).__name__} {n1}x{n2} -> {self._m}{sym}>"

    # ---------------------------------------------------------------- public maps
    def forward(self, X):
        """Measure `X`: ``A(X)``.

        Parameters
        ----------
        X : (n1, n2) or (b, n1, n2) array_like
            A matrix, or a batch of ``b`` matrices, real and finite.

        Returns
        -------
        (m,) or (b, m) array
            The measurements ``<A_i, X>``, in the input's namespace and floating dtype.

        See Also
        --------
        SensingOperator.adjoint : The adjoint map ``A*(z)``.
        """
        xp, X = _prepare(X, "X", self._shape, trailing=2)
        single = X.ndim == 2
        V = xp.reshape(X, (1 if single else X.shape[0], self._shape[0] * self._shape[1]))
        out = self._forward_rows(V, xp)  # (b, m)
        return out[0, ...] if single else out

    def adjoint(self, z):
        """Apply the adjoint: ``A*(z) = sum_i z_i A_i``.

        Parameters
        ----------
        z : (m,) or (b, m) array_like
            A vector of measurements, or a batch of ``b``, real and finite.

        Returns
        -------
        (n1, n2) or (b, n1, n2) array
            ``sum_i z_i A_i``, in the input's namespace and floating dtype.

        See Also
        --------
        SensingOperator.forward : The measurement map ``A(X)``.
        SensingOperator.adjoint_error : A check that the two are adjoint.
        """
        xp, z = _prepare(z, "z", (self._m,), trailing=1)
        single = z.ndim == 1
        Z = xp.reshape(z, (1, self._m)) if single else z
        out = xp.reshape(self._adjoint_rows(Z, xp), (Z.shape[0], *self._shape))
        return out[0, ...] if single else out

    @refuse_random_state
    def adjoint_error(self, rng=None, dtype="float64") -> float:
        """Relative mismatch of the adjoint identity on one random pair ``(X, z)``.

        Parameters
        ----------
        rng : None, int or numpy.random.Generator
            Seed or generator of the random pair.
        dtype : {"float64", "float32"}
            Precision of the pair and of the products.

        Returns
        -------
        float
            ``|<A(X), z> - <X, A*(z)>| / (||A(X)|| ||z||)`` for Gaussian ``X`` and ``z`` (the numerator alone
            when ``A(X) = 0``): about the unit roundoff for a correct adjoint, of order one for a wrong one.

        See Also
        --------
        SensingOperator.forward : The measurement map.
        SensingOperator.adjoint : Its adjoint, which this checks.

        Examples
        --------
        >>> from lowrank_la.sensing import GaussianSensing
        >>> GaussianSensing(10, 50, rng=0).adjoint_error(rng=1) < 1e-13
        True
        """
        gen = as_rng(rng)
        dt = check_dtype(dtype)
        X = gen.standard_normal(self._shape).astype(dt)
        z = gen.standard_normal(self._m).astype(dt)
        AX = np.asarray(self.forward(X), dtype=np.float64)
        Az = np.asarray(self.adjoint(z), dtype=np.float64)
        lhs, rhs = float(AX @ z.astype(np.float64)), float(np.sum(X.astype(np.float64) * Az))
        scale = float(np.linalg.norm(AX) * np.linalg.norm(z))
        return abs(lhs - rhs) / scale if scale > 0 else abs(lhs - rhs)

    # ---------------------------------------------------------------- what a subclass provides
    def _forward_rows(self, V, xp):
        """``(b, n1 n2)`` vectorised matrices (row-major) -> ``(b, m)`` measurements."""
        raise NotImplementedError

    def _adjoint_rows(self, Z, xp):
        """``(b, m)`` -> ``(b, n1 n2)`` vectorised adjoints."""
        raise NotImplementedError


def _prepare(X, name, shape, trailing):
    """Validate an input of trailing shape `shape` (with an optional batch axis) by the input rule (dense only)
    and cast it to its working dtype."""
    X = as_matrix(X, name, ndim=(trailing, trailing + 1), sparse=False, allow_empty=True)
    if tuple(X.shape[-trailing:]) != tuple(shape):
        allowed = f"{tuple(shape)} or (b, {', '.join(str(s) for s in shape)})"
        raise ValueError(f"{name} must have shape {allowed}, got {tuple(X.shape)}")
    xp = array_namespace(X)
    dtype = working_dtype(X.dtype, xp, name=name)
    return xp, (X if X.dtype == dtype else xp.astype(X, dtype))


def _symmetrize_rows(V, n, xp):
    """``vec((X + X^T) / 2)`` for each row ``vec(X)`` of `V` (row-major vectorisation)."""
    B = xp.reshape(V, (V.shape[0], n, n))
    return xp.reshape((B + xp.permute_dims(B, (0, 2, 1))) / 2, (V.shape[0], n * n))


class _Cache:
    """Host arrays converted once per (namespace, device, dtype)."""

    def __init__(self):
        self._store = {}

    def get(self, key, array, xp, like, dtype=None):
        """`array` in namespace `xp`, on the device of `like`, in `dtype` (by default the dtype of `like`)."""
        dtype = like.dtype if dtype is None else dtype
        full = (key, xp.__name__, str(device_of(like)), str(dtype))
        if full not in self._store:
            if is_numpy_namespace(xp):
                self._store[full] = np.ascontiguousarray(array, dtype=dtype)
            else:
                self._store[full] = xp.asarray(np.asarray(array), dtype=dtype, device=device_of(like))
        return self._store[full]


class GaussianSensing(SensingOperator):
    r"""Gaussian measurements ``y_i = <A_i, X>`` with i.i.d. ``N(0, 1/m)`` entries in every ``A_i``.

    With this scaling ``E ||A(X)||^2 = ||X||_F^2`` (the normalisation of Tong, Ma and Chi's code), and ``A``
    has the restricted isometry property of rank ``r`` once ``m`` is a few times ``(n1 + n2) r``.

    Parameters
    ----------
    n : int or (int, int)
        Shape ``(n1, n2)`` of the measured matrices (an int: square).
    m : int
        Number of measurements, ``m >= 1``.
    symmetric : bool
        Measure with the symmetric parts ``(G_i + G_i^T) / 2`` of Gaussian ``G_i`` (square shapes only):
        ``A(X) = A((X + X^T) / 2)`` and ``A*(z)`` is symmetric, the model of PSD sensing. For symmetric ``X``
        the measurements are the same as with ``G_i``. Only the upper triangles are stored and multiplied
        (``n (n + 1) / 2`` entries per ``A_i``), which halves the memory and the cost of the products.
    storage : {"dense", "blocks"}
        (A dense design above half the physical memory is refused with a ``ValueError`` that suggests
        ``"blocks"``.) ``"dense"`` stores the ``m x (n1 n2)`` design (``8 m n1 n2`` bytes in float64, about half with
        `symmetric`) and applies it by one
        BLAS matrix product; ``"blocks"`` stores only a key and regenerates the design block by block (about
        8 MiB at a time) from counter-based Philox streams at every application, so that ``m n1 n2`` need
        not fit in memory, at the price of drawing the normals again each time. Both give the same operator
        for the same `rng` (bit for bit in the design; the products agree to rounding).
    dtype : {"float32", "float64"}
        dtype of the stored design. Products run in the dtype of their input.
    rng : None, int or numpy.random.Generator
        Source of the key of the streams.

    See Also
    --------
    SamplingOperator : Entry sampling instead of dense Gaussian designs.
    LinearMapSensing : A user's own measurement map.
    scaled_gd_lambda : Recovery of a PSD low-rank matrix from these measurements.

    Notes
    -----
    Block ``b`` of the design (rows ``b * block_rows`` onwards) is drawn by
    ``Generator(Philox(key=key, counter=[0, 0, 0, b]))``: any block can be regenerated on its own and in any
    order. On CuPy the dense design is copied to the device once and cached; the blocks are drawn on the host
    and copied at each application. A forward map or an adjoint costs ``2 m n1 n2`` flops (``m n (n + 1)``
    when symmetric): one GEMV, or one GEMM for a batch of matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import GaussianSensing
    >>> op = GaussianSensing(20, 400, rng=0)
    >>> X = np.random.default_rng(1).standard_normal((20, 3))
    >>> M = X @ X.T
    >>> y = op.forward(M)
    >>> y.shape, bool(abs(np.linalg.norm(y) / np.linalg.norm(M) - 1) < 0.2)
    ((400,), True)
    >>> blocks = GaussianSensing(20, 400, storage="blocks", rng=0)
    >>> bool(np.allclose(blocks.forward(M), y))
    True
    """

    @refuse_random_state
    def __init__(self, n, m, *, symmetric=True, storage="dense", dtype="float64", rng=None):
        self.symmetric = bool(check_option(symmetric, "symmetric", [True, False]))
        super().__init__(_check_shape(n), check_int(m, "m", low=1))
        self.storage = check_option(storage, "storage", ["dense", "blocks"])
        self.dtype = check_dtype(dtype)
        n1, n2 = self._shape
        row = n1 * (n1 + 1) // 2 if self.symmetric else n1 * n2
        limit = memory_limit()
        need = (self._m if self.storage == "dense" else 1) * row * self.dtype.itemsize
        if need > limit:
            hint = (f"pass storage='blocks' to regenerate the design {BLOCK_BYTES >> 20} MiB at a time"
                    if self.storage == "dense" and row * self.dtype.itemsize <= limit
                    else "reduce n (one measurement matrix alone does not fit)")
            raise ValueError(f"GaussianSensing(n={n!r}, m={m}, storage={storage!r}) would store {need / 2**30:.3g} GiB "
                             f"of design ({row} entries per measurement x {need // (row * self.dtype.itemsize)} in "
                             f"{self.dtype}), above the limit {limit / 2**30:.3g} GiB (half the memory); {hint}")
        self._key = as_rng(rng).integers(0, 2**63, size=2, dtype=np.uint64)
        self.block_rows = max(1, min(self._m, BLOCK_BYTES // (self.dtype.itemsize * n1 * n2)))
        self._n_blocks = math.ceil(self._m / self.block_rows)
        self._cache = _Cache()
        if self.symmetric:  # packed upper triangles: (j, k), j <= k, and where each full entry sits in them
            up_i, up_j = np.triu_indices(n1)
            self._upper, self._lower = up_i * n1 + up_j, up_j * n1 + up_i
            self._halve = np.where(up_i == up_j, 0.5, 1.0)  # X_jj + X_jj counted once, X_jk + X_kj for j < k
            where = np.empty((n1, n1), dtype=np.int64)
            where[up_i, up_j] = where[up_j, up_i] = np.arange(up_i.shape[0])
            self._unpack = where.reshape(-1)
        self._design = self._draw_all() if self.storage == "dense" else None

    def _block(self, b):
        """Rows ``[b * block_rows, ...)`` of the design, drawn from stream ``b`` (symmetric: packed upper parts)."""
        n1, n2 = self._shape
        rows = min(self.block_rows, self._m - b * self.block_rows)
        gen = np.random.Generator(np.random.Philox(key=self._key, counter=np.array([0, 0, 0, b], dtype=np.uint64)))
        G = gen.standard_normal((rows, n1 * n2), dtype=self.dtype)
        G *= self.dtype.type(1.0 / math.sqrt(self._m))
        if self.symmetric:
            G = (G[:, self._upper] + G[:, self._lower]) * self.dtype.type(0.5)
        return G

    def _draw_all(self):
        return np.concatenate([self._block(b) for b in range(self._n_blocks)], axis=0)

    def todense(self):
        """Form the design matrix.

        Returns
        -------
        (m, n1 n2) numpy.ndarray
            Row ``i`` is ``vec(A_i)`` (row-major).

        See Also
        --------
        GaussianSensing.forward : The measurements without forming the design.
        """
        G = self._design if self._design is not None else self._draw_all()
        return G[:, self._unpack] if self.symmetric else G.copy()

    def _designs(self, xp, like):
        """The design, as ``(first row, block)`` pairs in namespace `xp` and the dtype of `like`."""
        if self._design is not None:
            yield 0, self._cache.get("design", self._design, xp, like)
            return
        for b in range(self._n_blocks):
            G = self._block(b)
            G = G.astype(like.dtype, copy=False) if is_numpy_namespace(xp) else xp.asarray(
                G, dtype=like.dtype, device=device_of(like))
            yield b * self.block_rows, G

    def _forward_rows(self, V, xp):
        if self.symmetric:  # <A_i, X> = sum_{j <= k} (A_i)_jk (X_jk + X_kj) (halved on the diagonal)
            upper = self._cache.get("upper", self._upper, xp, V, xp.int64)
            lower = self._cache.get("lower", self._lower, xp, V, xp.int64)
            V = (xp.take(V, upper, axis=1) + xp.take(V, lower, axis=1)) * self._cache.get("halve", self._halve, xp, V)
        parts = [xp.matmul(V, G.T) for _, G in self._designs(xp, V)]
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=1)

    def _adjoint_rows(self, Z, xp):
        out = None
        for start, G in self._designs(xp, Z):
            term = xp.matmul(Z[:, start:start + G.shape[0]], G)
            out = term if out is None else out + term
        if self.symmetric:  # unpack the upper triangles into full symmetric matrices
            out = xp.take(out, self._cache.get("unpack", self._unpack, xp, out, xp.int64), axis=1)
        return out


class SamplingOperator(SensingOperator):
    r"""Entry sampling ``A(X) = s X[rows, cols]`` (matrix completion as a sensing problem).

    Parameters
    ----------
    rows, cols : (m,) int arrays
        The sampled entries, distinct, ``0 <= rows < n1``, ``0 <= cols < n2``.
    shape : int or (int, int)
        ``(n1, n2)``.
    normalize : bool
        Scale by ``s = sqrt(n1 n2 / m)`` (otherwise ``s = 1``), so that ``E ||A(X)||^2 = ||X||_F^2`` under
        uniform sampling and the step sizes of the Gaussian case carry over; with ``p = m / (n1 n2)``,
        ``A* A = P_Omega / p``, the scaled gradient of Tong, Ma and Chi's completion code.
    symmetric : bool
        Measure the symmetric part, ``A(X) = A((X + X^T) / 2)`` (square shapes only).

    See Also
    --------
    lowrank_la.completion.altmin_complete : Matrix completion by alternating minimization, for the same entries.
    GaussianSensing : Gaussian measurements.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import SamplingOperator
    >>> op = SamplingOperator([0, 1], [1, 2], 3, normalize=False)
    >>> op.forward(np.arange(9.0).reshape(3, 3)).tolist()
    [1.0, 5.0]
    >>> op.adjoint(np.array([1.0, 2.0])).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, rows, cols, shape, *, normalize=True, symmetric=False):
        self.symmetric = bool(check_option(symmetric, "symmetric", [True, False]))
        n1, n2 = _check_shape(shape, "shape")
        rows, cols = _indices(rows, "rows", n1), _indices(cols, "cols", n2)
        check_shape_agrees("len(cols)", cols.shape[0], rows.shape[0], "len(rows)")
        super().__init__((n1, n2), rows.shape[0])
        linear = rows * n2 + cols
        if np.unique(linear).shape[0] != linear.shape[0]:
            raise ValueError("rows and cols must name distinct entries; some (row, col) pair is repeated")
        self.rows, self.cols, self._linear = rows, cols, linear
        self.normalize = bool(check_option(normalize, "normalize", [True, False]))
        self.scale = math.sqrt(n1 * n2 / self._m) if self.normalize else 1.0
        self._cache = _Cache()

    def _forward_rows(self, V, xp):
        if self.symmetric:
            V = _symmetrize_rows(V, self._shape[0], xp)
        idx = self._cache.get("linear", self._linear, xp, V, xp.int64)
        return xp.take(V, idx, axis=1) * self.scale

    def _adjoint_rows(self, Z, xp):
        size = self._shape[0] * self._shape[1]
        if is_numpy_namespace(xp) or is_cupy_namespace(xp):
            out = xp.zeros((Z.shape[0], size), dtype=Z.dtype, device=device_of(Z))
            idx = self._cache.get("linear", self._linear, xp, Z, xp.int64)
            out[:, idx] = Z * self.scale  # the entries are distinct: assignment is the scatter-add
        else:  # namespaces without integer-array assignment: scatter on the host
            host = np.zeros((Z.shape[0], size), dtype=np.dtype(str(Z.dtype).split(".")[-1]))
            host[:, self._linear] = np.asarray(Z) * self.scale
            out = xp.asarray(host, device=device_of(Z))
        return _symmetrize_rows(out, self._shape[0], xp) if self.symmetric else out


def _indices(x, name, size):
    x = np.asarray(x)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of indices, got shape {x.shape}")
    if x.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices, got dtype {x.dtype}")
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi >= size:
        raise ValueError(f"{name} holds the index {lo if lo < 0 else hi}, out of range: 0 <= {name}[i] < {size}")
    return x.astype(np.int64)


class LinearMapSensing(SensingOperator):
    """A user-supplied linear map and its adjoint, behind the :class:`SensingOperator` interface.

    Parameters
    ----------
    forward : callable
        ``forward(X) -> (m,)`` for one ``(n1, n2)`` matrix.
    adjoint : callable
        ``adjoint(z) -> (n1, n2)`` for one ``(m,)`` vector; it must be the adjoint of `forward` (check with
        :meth:`adjoint_error`).
    shape : int or (int, int)
        ``(n1, n2)``.
    n_measurements : int
        ``m``.
    symmetric : bool
        Declare that every ``A_i`` is symmetric (the solvers symmetrise ``A*(z)`` in any case).

    See Also
    --------
    SensingOperator : The interface it implements.
    GaussianSensing : The built-in Gaussian measurements.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.sensing import LinearMapSensing
    >>> op = LinearMapSensing(lambda X: np.diag(X).copy(), np.diag, 4, 4)
    >>> op.forward(np.eye(4) * 2).tolist()
    [2.0, 2.0, 2.0, 2.0]
    >>> op.adjoint_error(rng=0) < 1e-14
    True
    """

    def __init__(self, forward, adjoint, shape, n_measurements, *, symmetric=False):
        if not callable(forward) or not callable(adjoint):
            raise TypeError("forward and adjoint must be callables: forward(X) -> (m,), adjoint(z) -> (n1, n2)")
        self.symmetric = bool(check_option(symmetric, "symmetric", [True, False]))
        super().__init__(shape, n_measurements)
        self._f, self._a = forward, adjoint

    def _forward_rows(self, V, xp):
        n1, n2 = self._shape
        rows = [self._checked(self._f(xp.reshape(V[i, ...], (n1, n2))), (self._m,), "forward", xp, V)
                for i in range(V.shape[0])]
        return xp.stack(rows, axis=0)

    def _adjoint_rows(self, Z, xp):
        n1, n2 = self._shape
        rows = [xp.reshape(self._checked(self._a(Z[i, ...]), (n1, n2), "adjoint", xp, Z), (n1 * n2,))
                for i in range(Z.shape[0])]
        return xp.stack(rows, axis=0)

    @staticmethod
    def _checked(out, shape, what, xp, like):
        if not hasattr(out, "shape"):
            out = np.asarray(out)
        if tuple(out.shape) != shape:
            raise ValueError(f"the user's {what} map returned shape {tuple(out.shape)}, expected {shape}")
        return xp.asarray(out, dtype=like.dtype, device=device_of(like))
