"""The level hierarchy of the MLMC product estimator: coupled column-row sampled products at ``c_l = c0 M^l``."""

from __future__ import annotations

import numpy as np

from .._backend import array_namespace, as_rng, is_cupy_namespace, is_numpy_namespace, to_numpy, working_dtype
from .._validate import as_matrix, check_int, check_option, check_shape_agrees
from ._common import PROBS_KINDS, ColumnRowSampler, Operands, scale_pow2

__all__ = ["MatmulLevels"]

_CHUNK_BYTES = 32 << 20  # work arrays of one batch of samples stay below this


class MatmulLevels:
    """Coupled level sampler for ``E[f(C_l R_l)]``, ``C_l R_l`` a DKM estimate of ``A @ B`` with ``c0 M^l`` pairs.

    Level ``l`` draws ``c_l = c0 M^l`` indices, splits them into ``M`` blocks of ``c_{l-1}`` and forms the
    block estimates ``Q_1..Q_M`` (each rescaled as a ``c_{l-1}``-sample estimator). The fine estimate is
    ``P_l = f(mean_j Q_j)`` (the ``c_l``-sample estimator); the coarse one is ``P_{l-1} = mean_j f(Q_j)``
    (``coupling="antithetic"``) or ``f(Q_1)`` (``"nested"``). Both have the law of the level-``l-1`` estimator,
    so the corrections telescope. Samples are batched into one batched GEMM per chunk of samples.

    Parameters
    ----------
    A, B : arrays
        ``(m, n)`` and ``(n, p)`` as for :func:`mlmc_matmul`, or stacks ``(K, m, n)`` and ``(K, n, p)`` of random
        data (NumPy or CuPy): the target is then ``mean_k f(A[k] @ B[k])``, and each sample draws its ``k``
        uniformly, shared by fine and coarse (per-``k`` norm probabilities, one alias table each).
    f : callable or None
        Entrywise function applied to the sampled product (vectorised: it is called on stacks of shape
        ``(N, m, p)``); None for the product itself.
    c0, M : int
        Samples on level 0 and refinement factor.
    sampler : {"norm", "uniform"} or (n,) array
        Column-row probabilities, as `probs` of :func:`sampled_matmul`.
    coupling : {"antithetic", "nested"}

    See Also
    --------
    mlmc_matmul : The front end that builds this sampler and runs the driver.
    mlmc : The adaptive driver that draws from the levels.
    sampled_matmul : The single-level sampled product.

    Notes
    -----
    Callable as the `level_sampler` of :func:`mlmc`: ``levels(l, N, rng)`` returns the entrywise sums of
    ``dP_l`` and ``dP_l^2`` in float64, the cost of the N samples, and the sums of ``P_l`` and ``P_l^2``.
    The cost of a sample is counted in multiply-adds, ``c_l (m p + m + p)`` for the gathers and the product
    plus ``m p`` per evaluation of `f`, a deterministic model (wall time on a shared machine is not).
    For ``f = None`` with antithetic coupling the coarse estimate equals the fine one: ``dP_l = 0`` exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from lowrank_la.matmul import MatmulLevels, mlmc
    >>> A = np.random.default_rng(0).standard_normal((3, 500)) / 20
    >>> levels = MatmulLevels(A, A.T, f=np.tanh, c0=4)
    >>> fine, coarse = levels.draw(2, 1000, rng=0)  # 1000 coupled samples of level 2: 16 and 2 x 8 pairs
    >>> fine.shape, bool(np.abs((fine - coarse).mean(axis=0)).max() < 0.05)
    ((1000, 3, 3), True)
    >>> F, info = mlmc(levels, 1e-2, L_max=levels.default_L_max, rng=0)
    >>> bool(np.linalg.norm(F - np.tanh(A @ A.T)) < 3e-2)
    True
    """

    def __init__(self, A, B, *, f=None, c0=8, M=2, sampler="norm", coupling="antithetic"):
        if _ndim(A) == 3 or _ndim(B) == 3:
            if _ndim(A) != _ndim(B):  # name both: either may be the wrong one
                raise ValueError(f"A and B must both be 2-D (one product) or both 3-D (a stack of products); got "
                                 f"A of shape {_shape(A)} and B of shape {_shape(B)}")
            self.ops = _Stack(A, B, sampler)
            self.sampler = self.ops
        else:
            self.ops = Operands(A, B)
            self.sampler = ColumnRowSampler(self.ops, sampler)
        if f is not None and not callable(f):
            raise TypeError(f"f must be None or a callable, got {type(f).__name__}")
        self.f = f
        self.c0 = check_int(c0, "c0", low=1)
        self.M = check_int(M, "M", low=2)
        self.coupling = check_option(coupling, "coupling", ("antithetic", "nested"))
        self.shift = (0, 0)  # (ea, eb): the sampled columns of A are scaled by 2^-ea, the rows of B by 2^-eb

    @property
    def exact_cost(self) -> float:
        """Multiply-adds of the exact product ``A @ B`` (``K m n p`` for stacks of K products).

        See Also
        --------
        MatmulLevels.cost : The cost of one sample, to compare with.
        """
        ops = self.ops
        return float(getattr(ops, "K", 1)) * ops.m * ops.n * ops.p

    @property
    def default_L_max(self) -> int:
        """The largest L with ``c0 M^L <= n`` (at least 0).

        See Also
        --------
        MatmulLevels.cost : The cost of a sample at each level.
        """
        n, L = self.ops.n, 0
        while self.c0 * self.M ** (L + 1) <= n:
            L += 1
        return L

    def cost(self, l):
        """Count the multiply-adds of one sample of ``dP_l``.

        Parameters
        ----------
        l : int
            Level, ``l >= 0``.

        Returns
        -------
        float
            The multiply-adds of one coupled sample of level `l` (fine and coarse estimates, and `f`).

        See Also
        --------
        MatmulLevels.exact_cost : The cost of the exact product.
        MatmulLevels.draw : Draw the samples.
        """
        ops = self.ops
        c = self.c0 * self.M**l
        n_f = 0 if self.f is None else (1 if l == 0 else (self.M + 1 if self.coupling == "antithetic" else 2))
        return float(c * (ops.m * ops.p + ops.m + ops.p) + n_f * ops.m * ops.p)

    def draw(self, l, N, rng):
        """Draw `N` coupled samples of level `l`.

        Parameters
        ----------
        l : int
            Level, ``l >= 0``.
        N : int
            Number of samples, ``N >= 1``.
        rng : None, int or Generator
            Seed or generator (a CuPy generator for CuPy operands), as in scipy.

        Returns
        -------
        fine : (N, m, p) array
            The fine estimates, in the working dtype.
        coarse : (N, m, p) array or None
            The coupled coarse estimates (None for ``l = 0``).

        See Also
        --------
        MatmulLevels.cost : The multiply-adds of one such sample.
        """
        l = check_int(l, "l", low=0)
        N = check_int(N, "N", low=1)
        gen = self.ops.host_rng(rng)
        return self._draw(l, N, gen)

    def _draw(self, l, N, gen):
        xp = self.ops.xp
        blocks = 1 if l == 0 else self.M
        c_block = self.c0 * self.M ** max(l - 1, 0)
        Ag, Bg = self._weighted_pairs((N, blocks, c_block), gen)
        Q = xp.matmul(Ag, Bg)  # (N, blocks, m, p): block estimates with c_block pairs each
        f = self.f if self.f is not None else (lambda x: x)
        if l == 0:
            return f(Q[:, 0, ...]), None
        fine = f(xp.mean(Q, axis=1))
        if self.f is None and self.coupling == "antithetic":
            return fine, fine
        coarse = xp.mean(f(Q), axis=1) if self.coupling == "antithetic" else f(Q[:, 0, ...])
        return fine, coarse

    def _weighted_pairs(self, shape, gen):
        """Sampled columns of A, rescaled by ``1 / (c p_i)``, as ``(N, blocks, m, c)``, and rows of B as
        ``(N, blocks, c, p)``: their product is a stack of ``c``-sample DKM estimates."""
        if isinstance(self.ops, _Stack):
            Ag, Bg = self.ops.weighted_pairs(shape, gen)
        else:
            ops, xp = self.ops, self.ops.xp
            N, blocks, c = shape
            idx = self.sampler.draw(shape, gen)
            Ag, Bg = ops.gather(idx)  # (m, N, blocks, c), (N, blocks, c, p)
            Ag = xp.permute_dims(Ag, (1, 2, 0, 3))
            inv = self.sampler.inverse_probs(idx)
            Ag = Ag * (ops.n / c) if inv is None else Ag * xp.reshape(inv * (1.0 / c), (N, blocks, 1, c))
        return scale_pow2(Ag, -self.shift[0]), scale_pow2(Bg, -self.shift[1])

    def __call__(self, l, N, rng):
        ops, xp = self.ops, self.ops.xp
        c_l = self.c0 * self.M**l
        per_sample = 8 * max(ops.m * c_l, 2 * self.M * ops.m * ops.p, c_l * ops.p)
        chunk = max(1, min(N, _CHUNK_BYTES // per_sample))
        sums = None
        gen = self.ops.host_rng(rng)
        for start in range(0, N, chunk):
            fine, coarse = self._draw(l, min(chunk, N - start), gen)
            fine = xp.astype(fine, xp.float64)
            d = fine if coarse is None else fine - xp.astype(coarse, xp.float64)
            part = [xp.sum(d, axis=0), xp.sum(d * d, axis=0), xp.sum(fine, axis=0), xp.sum(fine * fine, axis=0)]
            sums = part if sums is None else [a + b for a, b in zip(sums, part)]
        return sums[0], sums[1], N * self.cost(l), sums[2], sums[3]


def _ndim(X) -> int:
    """Number of dimensions of an array, or of a nested list read as one (2 when it cannot be read)."""
    if hasattr(X, "ndim"):
        return X.ndim
    try:
        return np.ndim(X)
    except ValueError:  # ragged: as_matrix names the problem
        return 2


def _shape(X) -> tuple:
    """The shape of an array, or of a nested list read as one (for messages; ragged lists give ``()``)."""
    if hasattr(X, "shape"):
        return tuple(X.shape)
    try:
        return np.shape(X)
    except ValueError:
        return ()


class _Stack:
    """Random data: a stack of K products ``A[k] @ B[k]`` (NumPy or CuPy), each sample drawing k uniformly.

    The target is ``mean_k f(A[k] @ B[k])``, the expectation over the empirical law of the data; a sample of
    level l draws k, then its column-row pairs from the probabilities of ``A[k] @ B[k]`` (one alias table per
    k), and fine and coarse share both.
    """

    def __init__(self, A, B, probs):
        A = as_matrix(A, "A", ndim=3, sparse=False)
        B = as_matrix(B, "B", ndim=3, sparse=False)
        check_shape_agrees("B.shape[0]", B.shape[0], A.shape[0], "A.shape[0]")
        check_shape_agrees("B.shape[1]", B.shape[1], A.shape[2], "A.shape[2]")
        self.xp = array_namespace(A, B)
        if not (is_numpy_namespace(self.xp) or is_cupy_namespace(self.xp)):
            raise TypeError("stacks of random data (3-D A and B) need NumPy or CuPy arrays")
        self.dtype = working_dtype(self.xp.result_type(A.dtype, B.dtype), self.xp)
        self.A, self.B = A, B
        self.K, self.m, self.n = (int(s) for s in A.shape)
        self.p = int(B.shape[2])
        if not isinstance(probs, str):
            raise TypeError("sampler must be 'norm' or 'uniform' for stacks of random data")
        self.uniform = check_option(probs, "sampler", PROBS_KINDS) == "uniform"
        self.dask = False
        if not self.uniform:
            from .._kernels.alias import alias_table

            xp = self.xp
            A64, B64 = xp.astype(A, xp.float64), xp.astype(B, xp.float64)
            w = to_numpy(xp.linalg.vector_norm(A64, axis=1) * xp.linalg.vector_norm(B64, axis=2))  # (K, n)
            w = np.where(w.sum(axis=1, keepdims=True) > 0, w, 1.0)
            tables = [alias_table(row) for row in w]
            dev = xp if is_cupy_namespace(xp) else np
            self.prob = dev.asarray(np.stack([t[0] for t in tables]))
            self.alias = dev.asarray(np.stack([t[1] for t in tables]))
            self.inv = dev.asarray(np.divide(w.sum(axis=1, keepdims=True), w, out=np.zeros_like(w), where=w > 0))

    def host_rng(self, rng):
        return as_rng(rng, self.xp if is_cupy_namespace(self.xp) else None)

    def weighted_pairs(self, shape, gen):
        N, blocks, c = shape
        dev = self.xp if is_cupy_namespace(self.xp) else np
        k = gen.integers(0, self.K, size=N)[:, None, None]
        if self.uniform:
            idx = gen.integers(0, self.n, size=shape)
        else:
            u = gen.random(shape) * self.n
            col = dev.minimum(u.astype(dev.int64), self.n - 1)
            idx = dev.where(u - col < self.prob[k, col], col, self.alias[k, col])
        Ag = dev.moveaxis(self.A[k, :, idx], -1, -2).astype(self.dtype, copy=False)  # (N, blocks, m, c)
        Bg = self.B[k, idx, :].astype(self.dtype, copy=False)  # (N, blocks, c, p)
        w = self.n / c if self.uniform else (self.inv[k, idx] / c).astype(self.dtype)[:, :, None, :]
        return Ag * w, Bg
