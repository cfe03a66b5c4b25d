"""AltMin on dask.distributed in the Spark ALS layout: observation blocks shuffled once, factors broadcast.

The observations ``(rows, cols, vals)`` are partitioned twice, once into row blocks (contiguous row ranges,
balanced by observation count) and once into column blocks, by one shuffle at the start; the blocks then stay
on the workers. A V half-step sends ``U`` (m x k) to every column block, each block solves the regressions of
its columns where it lives and returns its rows of ``V``; the U half-step is the same with the roles swapped.
Only the factors, the offsets and k x k work go through the caller's process.
"""

from __future__ import annotations

import math
import time
import uuid

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._backend import as_rng, working_dtype
from .._kernels.completion import sampled_product
from .._validate import (
    as_matrix,
    check_int,
    check_option,
    check_rank,
    check_real,
    check_tolerance,
    is_dask,
    refuse_random_state,
)
from ..svd._common import pow2_exponent, times_pow2
from ._altmin import (
    CG_MAXITER,
    GROWTH,
    SKETCH_MAXITER,
    SOLVERS,
    STALL,
    _half_step,
    _orthonormalize,
    balance,
    halfstep_costs,
    segment_ridges,
    svd_form,
)
from ._complete import _warn_altmin
from ._observations import Segments, _index_array
from ._offsets import DAMPING
from ._result import CompletionResult

__all__ = ["altmin_distributed"]

BROADCAST_MIN = 2**20  # bytes: smaller arrays travel inside the tasks that use them, larger ones are scattered


# ----------------------------------------------------------------------------- worker side (pure functions)

class _Block:
    """The observations of one row block (``by_row``) or column block, indexed by its local rows (columns).

    ``seg`` holds, per local key ``j`` (row ``start + j``, or column), the other indices and the values, sorted
    by the other index: the order of the single-process :class:`Observations`, so that a block's regressions are
    bit for bit those of :func:`altmin_complete`. ``keys`` is the global key of each observation, in ``seg``
    order. A plain class (not a tuple), so that Dask passes it to tasks as one value.
    """

    def __init__(self, start, stop, by_row, seg, keys):
        self.start, self.stop, self.by_row, self.seg, self.keys = start, stop, by_row, seg, keys

    @property
    def rows(self):
        return self.keys if self.by_row else self.seg.idx

    @property
    def cols(self):
        return self.seg.idx if self.by_row else self.keys

    @property
    def local(self):
        return self.keys - self.start

    @property
    def nnz(self) -> int:
        return int(self.seg.vals.shape[0])


def _check_chunk(rows, cols, vals, m, n):
    """Validate one chunk of coordinates; its row and column counts and ``max |vals|``."""
    rows = _index_array(rows, "rows", m)
    cols = _index_array(cols, "cols", n)
    vals = np.asarray(vals)
    if not rows.shape[0] == cols.shape[0] == vals.shape[0]:
        raise ValueError(f"rows, cols and vals must have the same length, got chunks of {rows.shape[0]}, "
                         f"{cols.shape[0]} and {vals.shape[0]}")
    if vals.size and not np.all(np.isfinite(vals)):
        raise ValueError(f"vals must be finite, but it holds {int(np.sum(~np.isfinite(vals)))} NaN or Inf "
                         "value(s)")
    top = float(np.max(np.abs(vals))) if vals.size else 0.0
    return np.bincount(rows, minlength=m), np.bincount(cols, minlength=n), top


def _split(rows, cols, vals, row_edges, col_edges, dtype, scale_exp):
    """One chunk's observations cut by destination: ``(row_pieces, col_pieces)``, one ``(r, c, v)`` per block."""
    vals = np.ldexp(np.asarray(vals).astype(dtype), scale_exp)
    index = np.int32 if max(row_edges[-1], col_edges[-1]) < 2**31 - 1 else np.int64
    rows, cols = np.asarray(rows).astype(index), np.asarray(cols).astype(index)

    def cut(keys, edges):
        dest = np.searchsorted(edges, keys, side="right") - 1
        order = np.argsort(dest, kind="stable")
        bounds = np.searchsorted(dest[order], np.arange(len(edges)))
        return [(rows[order[a:b]], cols[order[a:b]], vals[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]

    return cut(rows, row_edges), cut(cols, col_edges)


def _build_block(start, stop, by_row, *pieces):
    """A :class:`_Block` from its pieces of every chunk: sorted, duplicates merged (or refused if they differ)."""
    rows, cols, vals = (np.concatenate([p[t] for p in pieces]) for t in range(3))
    keys, others = (rows, cols) if by_row else (cols, rows)
    order = np.lexsort((others, keys))
    keys, others, vals = keys[order], others[order], vals[order]
    same = (keys[1:] == keys[:-1]) & (others[1:] == others[:-1])
    if same.any():
        clash = same & (vals[1:] != vals[:-1])
        if clash.any():
            t = int(np.flatnonzero(clash)[0])
            i, j = (keys[t], others[t]) if by_row else (others[t], keys[t])
            raise ValueError(f"the entry (rows, cols) = ({int(i)}, {int(j)}) is observed twice with different values "
                             f"{vals[t]!r} and {vals[t + 1]!r}; duplicates must agree")
        keep = np.concatenate([[True], ~same])
        keys, others, vals = keys[keep], others[keep], vals[keep]
    indptr = np.zeros(stop - start + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys - start, minlength=stop - start), out=indptr[1:])
    return _Block(start, stop, by_row, Segments(indptr, np.ascontiguousarray(others), np.ascontiguousarray(vals)),
                  np.ascontiguousarray(keys))


def _stats(block):
    """Per-key counts, ``sum(vals)`` and ``sum(vals^2)`` (float64) of a block."""
    v = block.seg.vals.astype(np.float64)
    return block.seg.counts, float(np.sum(v)), float(v @ v)


def _targets(block, off):
    """The block's values minus the offsets ``off = (mean, row, col)`` (or the values, with ``off=None``)."""
    vals = block.seg.vals
    if off is None:
        return vals
    mean, row, col = off
    return (vals - (mean + row[block.rows] + col[block.cols])).astype(vals.dtype)


def _target_sumsq(block, off):
    t = _targets(block, off).astype(np.float64)
    return float(t @ t)


def _product(block, X, off, scale):
    """``(P_Omega(M - offsets) * scale)[keys of the block] @ X``: the block's rows of a product (its transpose's,
    for a column block)."""
    vals = _targets(block, off)
    vals = vals / vals.dtype.type(scale)
    n_other = X.shape[0]
    S = sp.csr_array((vals, block.seg.idx, block.seg.indptr), shape=(block.stop - block.start, n_other))
    return S @ X


def _solve(block, design, warm, off, solver, tol, maxiter, lam, seed):
    """The block's regressions of one half-step (see :func:`~lowrank_la.completion.half_step`)."""
    k = design.shape[1]
    seg = Segments(block.seg.indptr, block.seg.idx, _targets(block, off))
    ridge = segment_ridges(seg, k, design.shape[0], 0.0) if lam == 0 else np.full(seg.counts.shape[0], lam)
    return _half_step(design, seg, warm, solver, tol, maxiter, ridge, seed)


def _model(block, U, V):
    if U is None:
        return 0.0
    return sampled_product(U, V, block.rows, block.cols).astype(np.float64)


def _col_offsets(block, U, V, mean, row):
    """One column sweep of :meth:`Offsets.fit` on a column block: its columns' new offsets."""
    rest = block.seg.vals.astype(np.float64) - mean - _model(block, U, V)
    return np.bincount(block.local, rest - row[block.rows], minlength=block.stop - block.start) / \
        (block.seg.counts + DAMPING)


def _row_offsets(block, U, V, mean, col):
    """One row sweep of :meth:`Offsets.fit` on a row block: its rows' new offsets and ``||model - vals||^2``."""
    vals = block.seg.vals.astype(np.float64)
    model = _model(block, U, V)
    row = np.bincount(block.local, vals - mean - model - col[block.cols], minlength=block.stop - block.start) / \
        (block.seg.counts + DAMPING)
    diff = (model + (mean + row[block.local] + col[block.cols])) - block.seg.vals
    return row, float(diff @ diff)


def _sumsq_residual(block, U, V):
    diff = _model(block, U, V) - block.seg.vals
    return float(diff @ diff)


# ----------------------------------------------------------------------------- the caller's side

class _Runner:
    """Runs block tasks on a ``distributed.Client`` (blocks kept there as futures) or on local threads."""

    def __init__(self, client):
        self.client = client

    def keep(self, tasks):
        """Compute Dask delayed `tasks` and keep the results where they are (futures, or local objects)."""
        if self.client is not None:
            from distributed import wait

            futures = self.client.compute(tasks)
            wait(futures)
            for f in futures:  # a failed check or block raises its error here (its data stay on the workers)
                if f.status == "error":
                    f.result()
            return futures
        import dask

        return list(dask.compute(*tasks, scheduler="threads"))

    def put(self, x):
        """Broadcast a factor or the offsets to every worker (under 1 MiB: sent with each task instead, which
        saves the round trip of a scatter)."""
        if self.client is None or x is None or x.nbytes <= BROADCAST_MIN:
            return x
        return self.client.scatter(x, broadcast=True, hash=False)

    def map(self, fn, blocks, *args, each=None):
        """``[fn(block, *args, *each[b]) for each block]``, run where the blocks are."""
        each = each or [()] * len(blocks)
        if self.client is not None:
            return self.client.gather([self.client.submit(fn, b, *args, *e, pure=False)
                                       for b, e in zip(blocks, each)])
        import dask

        return list(dask.compute(*[dask.delayed(fn, pure=False)(b, *args, *e) for b, e in zip(blocks, each)],
                                 scheduler="threads"))


def _edges(counts, n_blocks):
    """Contiguous ranges of keys with about equal observation counts: ``n_blocks + 1`` increasing edges."""
    size = counts.shape[0]
    cum = np.cumsum(counts, dtype=np.float64)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_blocks) / n_blocks, side="right")
    edges = np.unique(np.concatenate([[0], cuts, [size]]))
    return edges.astype(np.int64)


def _shuffle(rows, cols, vals, row_edges, col_edges, dtype, scale_exp):
    """The Dask graph of the shuffle: (row block tasks, column block tasks) from 1-D Dask coordinates.

    Each input chunk is cut by destination in one task; a block's task receives its pieces of every chunk.
    """
    import dask

    pieces = []
    edges = dask.delayed(row_edges, pure=True), dask.delayed(col_edges, pure=True)  # one copy in the graph
    for r, c, v in zip(*(x.to_delayed().ravel() for x in (rows, cols, vals))):
        cut = dask.delayed(_split, nout=2, pure=True)(r, c, v, *edges, dtype, scale_exp)
        pieces.append(cut)
    blocks = []
    for side, edges in ((0, row_edges), (1, col_edges)):
        blocks.append([dask.delayed(_build_block, pure=True)(int(a), int(b), side == 0, *(p[side][t] for p in pieces))
                       for t, (a, b) in enumerate(zip(edges[:-1], edges[1:]))])
    return blocks[0], blocks[1]


def _coordinates(X, cols, vals, shape, n_blocks):
    """The input as three 1-D Dask arrays with equal chunks, and the shape."""
    import dask.array as da

    if sp.issparse(X):
        if cols is not None or vals is not None or shape is not None:
            raise TypeError("with a sparse matrix of observations, pass neither cols, vals nor shape")
        S = as_matrix(X, "X", ndim=2).tocoo()
        X, cols, vals, shape = S.row, S.col, S.data, S.shape
    elif cols is None or vals is None or shape is None:
        raise TypeError("altmin_distributed needs coordinates (rows, cols, vals, shape), as 1-D Dask or NumPy "
                        "arrays, or a scipy.sparse matrix of observations")
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise ValueError(f"shape={shape!r} must be a pair (m, n)")
    m, n = check_int(shape[0], "shape[0]", low=1), check_int(shape[1], "shape[1]", low=1)
    arrays = [as_matrix(x, name, ndim=1, finite=False, sparse=False) for x, name in ((X, "rows"), (cols, "cols"),
                                                                                     (vals, "vals"))]
    lazy = [is_dask(x) for x in arrays]
    if any(lazy):
        if not all(lazy):
            raise TypeError("rows, cols and vals must all be Dask arrays or all be in-memory arrays, got "
                            f"{['Dask' if z else 'in-memory' for z in lazy]}")
        if not arrays[0].chunks == arrays[1].chunks == arrays[2].chunks:
            raise ValueError(f"rows, cols and vals must have the same chunks, got {arrays[0].chunks[0]}, "
                             f"{arrays[1].chunks[0]} and {arrays[2].chunks[0]}; rechunk them alike")
    else:
        length = arrays[0].shape[0]
        if not length == arrays[1].shape[0] == arrays[2].shape[0]:
            raise ValueError(f"rows, cols and vals must have the same length, got {arrays[0].shape[0]}, "
                             f"{arrays[1].shape[0]} and {arrays[2].shape[0]}")
        chunk = max(1, -(-length // n_blocks))
        arrays = [da.from_array(np.asarray(x), chunks=chunk) for x in arrays]
    if arrays[2].dtype.kind not in "fiub":
        raise TypeError(f"vals must be real, got dtype {arrays[2].dtype}")
    return arrays, (m, n)


class _Problem:
    """The persisted blocks of one call, and the distributed operations the AltMin loop needs."""

    def __init__(self, runner, row_blocks, col_blocks, row_edges, col_edges, shape, dtype):
        self.run, self.rb, self.cb = runner, row_blocks, col_blocks
        self.row_edges, self.col_edges, self.shape, self.dtype = row_edges, col_edges, shape, dtype

    def offsets_sweep(self, U, V, off):
        """One sweep of the offsets (columns, then rows) given the model; returns the new offsets and the squared
        residual on the observed entries."""
        mean, row, _ = off
        col = np.concatenate(self.run.map(_col_offsets, self.cb, U, V, mean, self.run.put(row)))
        parts = self.run.map(_row_offsets, self.rb, U, V, mean, self.run.put(col))
        return (mean, np.concatenate([p[0] for p in parts]), col), sum(p[1] for p in parts)

    def operator(self, off, scale):
        """``P_Omega(M - offsets) / scale`` as a LinearOperator whose products run on the blocks."""
        put = self.run.put

        def matmat(X):
            return np.vstack(self.run.map(_product, self.rb, put(np.asarray(X)), off, scale))

        def rmatmat(Y):
            return np.vstack(self.run.map(_product, self.cb, put(np.asarray(Y)), off, scale))

        return LinearOperator(self.shape, matvec=matmat, rmatvec=rmatmat, matmat=matmat, rmatmat=rmatmat,
                              dtype=self.dtype)

    def svd(self, off, k, gen, p_hat):
        """Top-k SVD of the observations (minus `off`) divided by `p_hat`: :func:`altmin_complete`'s start."""
        from ..svd import rsvd

        U, s, Vh = rsvd(self.operator(off, p_hat), k, rng=gen)
        return np.asarray(U, dtype=self.dtype), np.asarray(s, dtype=np.float64), Vh.T.astype(self.dtype)

    def half_step(self, design, warm, off, blocks, edges, solver, tol, maxiter, lam, seed):
        """Every regression of one half-step, each block on its worker; returns the solved factor, inner steps."""
        each = [((np.ascontiguousarray(warm[a:b]) if solver == "cg" else None),) for a, b in zip(edges[:-1],
                                                                                             edges[1:])]
        parts = self.run.map(_solve, blocks, design, each=[(e[0], off, solver, tol, maxiter, lam, seed)
                                                         for e in each])
        sizes = np.diff(edges)
        return np.ascontiguousarray(np.vstack([p[0] for p in parts])), \
            float(np.dot([p[1] for p in parts], sizes) / sizes.sum())


@refuse_random_state
def altmin_distributed(X, cols=None, vals=None, shape=None, rank=None, *, reg=0.0, offsets=False, client=None,
                       n_blocks=None, solver="auto", n_iter=50, tol=1e-9, stall_tol=STALL, solver_tol=1e-10,
                       solver_maxiter=None, rng=None):
    r"""AltMin matrix completion on a Dask cluster, in the Spark ALS layout: the observations never meet in one place.

    The same iteration as :func:`altmin_complete` with a given `rank` and `reg` (same start, same ridge, same
    offsets, same stopping rules), with its half-steps partitioned across workers: the observations are
    shuffled once into row blocks and column blocks that stay on the workers, each half-step broadcasts the
    fixed factor (``U``, m x k, or ``V``, n x k) and every block solves its own rows' (columns') regressions
    where it lives. The factors come back as Dask arrays, blocked like the rows (columns).

    Parameters
    ----------
    X : (n_obs,) int array or Dask array, or scipy.sparse matrix
        The row indices ``rows`` of coordinate observations ``(rows, cols, vals, shape)``, ``0 <= rows < m``; or
        a scipy.sparse matrix whose stored entries are the observations (then `cols`, `vals` and `shape` are not
        given). Dask arrays are read chunk by chunk; NumPy arrays (lists, ...) are cut into `n_blocks` chunks.
    cols : (n_obs,) int array or Dask array
        Column indices, ``0 <= cols < n``; a Dask array with the chunks of `rows` when `rows` is one.
    vals : (n_obs,) array or Dask array
        The observed values: real and finite (checked chunk by chunk). Duplicate coordinates with equal values
        are merged; float32 stays float32, integers become float64.
    shape : (int, int)
        ``(m, n)``.
    rank : int
        The rank ``k``, ``1 <= k <= min(m, n)``. Required: the held-out selection of :func:`altmin_complete`
        (rank and ``reg`` chosen from the data) is not distributed; run it on a sample to choose them.
    reg : float
        The ridge as a fraction of ``sigma_1`` of the observations (after the offsets), ``reg >= 0``, as in
        :func:`altmin_complete` (``sigma_1`` is computed here by a distributed randomized SVD).
    offsets : bool
        Fit ``mean + row_offsets[i] + col_offsets[j] + (U V^T)[i, j]`` (True) or ``(U V^T)[i, j]`` (False, the
        default of :func:`altmin_complete` with `rank` and `reg` given).
    client : distributed.Client, optional
        The cluster to run on. None: the default client of ``dask.distributed`` when there is one, else the
        threads of this process (Dask's threaded scheduler; no ``distributed`` needed).
    n_blocks : int, optional
        The number of row blocks and of column blocks, ``n_blocks >= 1``; default: twice the cluster's threads
        (the chunks of a Dask `rows` for the threaded scheduler), at most ``min(m, n)``. The block edges are
        contiguous ranges with about equal observation counts.
    solver : {"auto", "exact", "sketch", "cg"}
        As in :func:`altmin_complete` (``"auto"`` by its cost model on the global counts).
    n_iter : int
        As in :func:`altmin_complete`.
    tol : float
        As in :func:`altmin_complete`.
    stall_tol : float
        As in :func:`altmin_complete`.
    solver_tol : float
        As in :func:`altmin_complete`, a number only (no callable).
    solver_maxiter : int, optional
        As in :func:`altmin_complete`.
    rng : None, int or numpy.random.Generator
        Randomness of the start and the sketches; drawn in the order of :func:`altmin_complete`.

    Returns
    -------
    CompletionResult
        As from :func:`altmin_complete` (``method="altmin"``, no ``selection``), except that ``U`` (m, r) and
        ``V`` (n, r) are Dask arrays chunked like the row and column blocks (on the workers of `client`);
        ``result.predict(rows, cols)`` and ``result.to_dense()`` compute them.

    Raises
    ------
    ValueError
        Indices out of range, duplicates with different values, NaN or Inf in `vals`, Dask inputs of different
        chunks or of unknown chunk sizes, or an argument out of range (chunk-wise checks raise from the shuffle,
        inside this call).
    TypeError
        A missing or mixed (Dask and in-memory) input, non-integer indices, complex values.

    Warns
    -----
    ConvergenceWarning
        As :func:`altmin_complete` (not converged within `n_iter`, or diverged).
    UserWarning
        If a row or a column has no observation (its factor row is set to zero).

    See Also
    --------
    altmin_complete : The single-machine version, with soft-impute and the choice of rank and regularisation.
    CompletionResult : The returned model.

    Notes
    -----
    **Layout** (Spark's ALS [1]_). One pass validates the chunks and counts the observations per row and
    column; the block edges split those counts evenly. A second pass (the shuffle) cuts each chunk by
    destination block and builds every row block and column block from its pieces; the ``2 |Omega|``
    observations then stay on the workers. A task never receives more than one input chunk or one block.

    **Cost per iteration** (B blocks per side, W workers). Compute: that of :func:`altmin_complete`, spread
    over the blocks. Bytes moved: the broadcast factors, about ``2 (m + n) k`` values to every worker, and the
    solved factor rows back, ``(m + n) k``; with offsets, ``2 (m + n)`` more. The observations never move again.
    The caller's process holds the factors and does the ``O((m + n) k^2)`` QRs (or balancing) between the
    half-steps, as the single-process fit does.

    **Agreement with** :func:`altmin_complete`: with ``solver="exact"`` (or ``"cg"``) every regression is the
    one the single-process fit solves, on the same values in the same order; the randomized SVD start draws the
    same Gaussian matrices (its products are distributed), so the two fits differ only by the order of a few
    reductions (rounding). ``solver="sketch"`` draws each regression's sketch from its index inside its block,
    so its sketches differ from the single-process ones (same distribution).

    References
    ----------
    .. [1] Y. Koren, R. Bell, C. Volinsky, "Matrix Factorization Techniques for Recommender Systems", IEEE
           Computer 42(8), 2009; Spark MLlib's ``ALS`` (block-partitioned in/out links).

    Examples
    --------
    On this process's threads (a ``distributed.Client`` is used the same way, with ``client=``):

    >>> import numpy as np
    >>> import dask.array as da
    >>> from lowrank_la.completion import altmin_complete, altmin_distributed
    >>> from lowrank_la.datasets import incoherent_low_rank
    >>> M = incoherent_low_rank(200, 150, 3, rng=0)
    >>> rows, cols = np.nonzero(np.random.default_rng(1).random(M.shape) < 0.3)
    >>> vals = M[rows, cols]
    >>> args = [da.from_array(x, chunks=2000) for x in (rows, cols, vals)]
    >>> res = altmin_distributed(*args, M.shape, 3, solver="exact", rng=0)
    >>> type(res.U).__name__, bool(res.converged)
    ('Array', True)
    >>> bool(np.linalg.norm(res.to_dense() - M) < 1e-8 * np.linalg.norm(M))
    True
    >>> one = altmin_complete(rows, cols, vals, M.shape, 3, reg=0.0, solver="exact", rng=0)
    >>> bool(np.allclose(res.s, one.s))
    True
    """

    start_time = time.perf_counter()
    client = _client(client)
    runner = _Runner(client)
    threads = sum(client.nthreads().values()) if client is not None else None
    if n_blocks is not None:
        n_blocks = check_int(n_blocks, "n_blocks", low=1)
    arrays, (m, n) = _coordinates(X, cols, vals, shape, n_blocks or 2 * (threads or 2))
    if rank is None:
        raise TypeError("rank must be given: the held-out choice of the rank (altmin_complete's rank='auto') is not "
                        "distributed; choose it with altmin_complete on a sample")
    k = check_rank(rank, (m, n), "rank")
    reg = check_real(reg, "reg", low=0)
    offsets = check_option(offsets, "offsets", (True, False))
    check_option(solver, "solver", SOLVERS)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_real(tol, "tol", low=0)
    stall_tol = check_real(stall_tol, "stall_tol", low=0, high=1)
    solver_tol = check_tolerance(solver_tol, "solver_tol", high=1)
    if solver_maxiter is not None:
        solver_maxiter = check_int(solver_maxiter, "solver_maxiter", low=1)
    gen = as_rng(rng)
    dtype = working_dtype(arrays[2].dtype, np, name="vals")
    if n_blocks is None:
        n_blocks = 2 * threads if threads is not None else arrays[0].numblocks[0]
    n_blocks = max(1, min(n_blocks, m, n))

    # pass 1: checks and counts (per chunk); pass 2: the shuffle into blocks, kept on the workers
    import dask

    checked = [dask.delayed(_check_chunk, pure=True)(r, c, v, m, n)
               for r, c, v in zip(*(x.to_delayed().ravel() for x in arrays))]
    counted = runner.keep(checked)
    counted = client.gather(counted) if client is not None else counted
    row_counts, col_counts = sum(c[0] for c in counted), sum(c[1] for c in counted)
    scale_exp = pow2_exponent(max(c[2] for c in counted))
    del counted
    row_edges, col_edges = _edges(row_counts, n_blocks), _edges(col_counts, n_blocks)
    row_tasks, col_tasks = _shuffle(*arrays, row_edges, col_edges, dtype, scale_exp)
    blocks = runner.keep(row_tasks + col_tasks)
    prob = _Problem(runner, blocks[:len(row_tasks)], blocks[len(row_tasks):], row_edges, col_edges, (m, n), dtype)
    row_stats, col_stats = prob.run.map(_stats, prob.rb), prob.run.map(_stats, prob.cb)
    row_counts = np.concatenate([s[0] for s in row_stats])
    col_counts = np.concatenate([s[0] for s in col_stats])
    nnz = int(row_counts.sum())
    if nnz == 0:
        raise ValueError("vals must hold at least one observation, got none")
    norm_vals = math.sqrt(sum(s[2] for s in row_stats)) or 1.0
    _warn_empty(row_counts, col_counts)

    off = None
    if offsets:  # the start offsets: 4 sweeps with no low-rank part
        off = (sum(s[1] for s in row_stats) / nnz, np.zeros(m), np.zeros(n))
        for _ in range(4):
            off, _ = prob.offsets_sweep(None, None, off)
    off_f = _put_offsets(runner, off)
    sigma1 = float(prob.svd(off_f, 1, gen, 1.0)[1][0]) if reg > 0 else 0.0
    lam = reg * sigma1
    p_hat = nnz / (m * n)
    bound = GROWTH * math.sqrt(sum(runner.map(_target_sumsq, prob.rb, off_f))) / math.sqrt(p_hat)
    U, s0, Vs = prob.svd(off_f, k, gen, p_hat)
    V = np.ascontiguousarray((Vs * s0).astype(dtype))
    U = np.ascontiguousarray(U)

    solvers, maxiter = {}, {}
    for axis, counts in (("V", col_counts), ("U", row_counts)):
        if solver == "auto":
            costs = halfstep_costs(counts, k, solver_tol, solver_maxiter or CG_MAXITER)
            solvers[axis] = min(costs, key=costs.get)
        else:
            solvers[axis] = solver
        maxiter[axis] = solver_maxiter or {"cg": CG_MAXITER, "sketch": SKETCH_MAXITER}.get(solvers[axis], 0)
    seeds = gen.integers(0, 2**63 - 1, size=2 * n_iter, dtype=np.int64)

    fit = _fit(prob, runner, k, lam, U, V, off, solvers=solvers, maxiter=maxiter, solver_tol=solver_tol,
               n_iter=n_iter, tol=tol, seeds=seeds, bound=bound, norm_vals=norm_vals, stall_tol=stall_tol)
    _warn_altmin(fit, tol, k, reg)
    U, s, V = svd_form(fit["U"], fit["V"])
    V = times_pow2(V, -scale_exp)
    U[row_counts == 0] = 0
    V[col_counts == 0] = 0
    off = fit["offsets"]
    mean, row_off, col_off = off if off is not None else (0.0, np.zeros(m), np.zeros(n))
    U, V = (np.asarray(x, dtype=dtype) for x in (U, V))
    row_off, col_off = (np.ldexp(x, -scale_exp).astype(dtype) for x in (row_off, col_off))
    U, V = _to_dask(runner, U, row_edges), _to_dask(runner, V, col_edges)
    fit["history"]["setup_time"] = fit.pop("setup_done") - start_time
    row_off, col_off = _to_dask(runner, row_off, row_edges), _to_dask(runner, col_off, col_edges)
    return CompletionResult(U=U, V=V, s=np.ldexp(np.asarray(s, dtype=np.float64), -scale_exp),
                            mean=math.ldexp(mean, -scale_exp), row_offsets=row_off, col_offsets=col_off, shape=(m, n),
                            converged=fit["converged"], n_iter=fit["n_iter"], history=fit["history"],
                            stop=fit["stop"], method="altmin", rank=int(s.shape[0]), reg=reg, offsets=bool(offsets),
                            solver=(solvers["V"], solvers["U"]), holdout_error=None, selection=None,
                            blocks=(row_edges, col_edges))


def _client(client):
    """The ``distributed.Client`` to use: `client`, else the default one if any, else None (local threads)."""
    if client is not None:
        if not hasattr(client, "submit") or not hasattr(client, "scatter"):
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
        return client
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _put_offsets(runner, off):
    if off is None:
        return None
    return off[0], runner.put(off[1]), runner.put(off[2])


def _warn_empty(row_counts, col_counts):
    import warnings

    empty_rows, empty_cols = int(np.sum(row_counts == 0)), int(np.sum(col_counts == 0))
    if empty_rows or empty_cols:
        warnings.warn(f"{empty_rows} row(s) and {empty_cols} column(s) have no observation: their factor rows "
                      "are set to zero, so those entries are completed by the offsets alone (0 without offsets)",
                      UserWarning, stacklevel=4)


def _to_dask(runner, F, edges):
    """The factor (or offsets) `F` as a Dask array blocked by `edges`, its blocks on the workers of the client."""
    import dask.array as da

    chunks = (tuple(int(c) for c in np.diff(edges)),) + tuple((d,) for d in F.shape[1:])
    if runner.client is None:
        return da.from_array(F, chunks=chunks)
    futures = runner.client.scatter([F[a:b] for a, b in zip(edges[:-1], edges[1:])], hash=False)
    name = f"altmin-factor-{uuid.uuid4().hex}"
    return da.concatenate([da.from_delayed(f, shape=(int(b - a),) + F.shape[1:], dtype=F.dtype, name=f"{name}-{i}")
                           for i, (f, a, b) in enumerate(zip(futures, edges[:-1], edges[1:]))])


def _fit(prob, runner, k, lam, U, V, off, *, solvers, maxiter, solver_tol, n_iter, tol, seeds, bound, norm_vals,
         stall_tol):
    """The AltMin loop of :func:`~lowrank_la.completion._altmin.als_fit` (no held-out entries), half-steps on the
    blocks."""
    history = {"residual": [], "time": [], "inner_steps": []}
    if lam > 0:
        U, V, s = balance(U, V)
    setup_done = time.perf_counter()
    m, n = prob.shape

    def model_norm(U, V, s):
        return float(np.linalg.norm(s)) if lam > 0 else float(np.linalg.norm(V.astype(np.float64)))

    converged, stop, it = False, "n_iter", 0
    objective, flat, growing = math.inf, 0, 0
    safe = (U, V, off)
    off_f = _put_offsets(runner, off)
    for it in range(1, n_iter + 1):
        V_raw, steps_v = prob.half_step(runner.put(U), V, off_f, prob.cb, prob.col_edges, solvers["V"], solver_tol,
                                        maxiter["V"], lam, int(seeds[2 * it - 2]))
        if lam > 0:
            V = V_raw
        else:
            V, R_v = _orthonormalize(V_raw)
            U, V = np.ascontiguousarray(U @ R_v.T), np.ascontiguousarray(V)
        U_raw, steps_u = prob.half_step(runner.put(V), U, off_f, prob.rb, prob.row_edges, solvers["U"], solver_tol,
                                        maxiter["U"], lam, int(seeds[2 * it - 1]))
        if lam > 0:
            U, V, s = balance(U_raw, V)
        else:
            U, R_u = _orthonormalize(U_raw)
            U, V, s = np.ascontiguousarray(U), np.ascontiguousarray(V @ R_u.T), None
        U_f, V_f = runner.put(U), runner.put(V)
        if off is not None:
            off, sumsq = prob.offsets_sweep(U_f, V_f, off)
            off_f = _put_offsets(runner, off)
        else:
            sumsq = sum(runner.map(_sumsq_residual, prob.rb, U_f, V_f))
        residual = math.sqrt(sumsq) / norm_vals
        history["residual"].append(residual)
        history["time"].append(time.perf_counter() - setup_done)
        history["inner_steps"].append((steps_v, steps_u))
        if not math.isfinite(residual):
            stop = "nonfinite"
            U, V, off = safe
            break
        if residual <= tol:
            converged, stop = True, "tol"
            break
        if model_norm(U, V, s) > bound:
            growing += 1
            if growing >= 3:
                stop = "diverged"
                U, V, off = safe
                break
        else:
            growing, safe = 0, (U, V, off)
        value = sumsq + (2 * lam * float(np.sum(s)) if lam > 0 else 0.0)
        if off is not None:
            value += DAMPING * float(off[1] @ off[1] + off[2] @ off[2])
        flat = flat + 1 if value > objective * (1 - stall_tol) else 0
        objective = value
        if flat >= 2:
            converged, stop = True, "stationary"
            break
    return {"U": U, "V": V, "offsets": off, "converged": converged, "n_iter": it, "history": history, "stop": stop,
            "setup_done": setup_done}
