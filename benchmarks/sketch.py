"""Sketching: the fast Walsh-Hadamard transform, and sketch operators beside scikit-learn and scipy.

``FWHT`` times ``lowrank_la.sketch.fwht`` (the Numba kernel), ``fht_cpu.fht`` (a SIMD C library with OpenMP
over rows) and the NumPy reference butterflies on the same preallocated C-contiguous buffer, all three
*normalised* (scaled by ``1/sqrt(d)``), in place, with the same number of threads:

* ``time_fwht``: one transform of ``rows`` vectors of length ``d``;
* ``track_gbutterflies_per_s``: ``rows * d * log2(d) / 2`` butterflies (one addition and one subtraction
  each) divided by the best of a few ``time.perf_counter`` timings, in 10^9 butterflies per second.

The transform is applied to the same buffer again and again: the normalised transform is an orthogonal
involution, so the values stay bounded and the work per call is the same.

``SketchEmbed`` maps N = 2048 dense float64 rows of dimension d = 2^14 to k = 512 with every lowrank_la
sketch kind, with scikit-learn's ``GaussianRandomProjection`` and ``SparseRandomProjection`` and with
``scipy.linalg.clarkson_woodruff_transform``. A quarter of the rows are spikes (a single 1.0): a spike meets
only the few nonzeros of one column of a sparse sketch, which is what separates the sparse kinds from the
dense and the Hadamard-mixed ones (SRHT, FJLT), whose mixing spreads a spike over all coordinates.

* ``time_embed``: the product with an operator drawn in ``setup`` (scipy draws inside the call; drawing its
  CountSketch is ``d`` random integers, negligible beside the product);
* ``peakmem_embed``: the peak RSS of the process, the 256 MiB input and the cached operator included;
* ``track_max_distortion``: ``max |‖y_i − y_j‖² / ‖x_i − x_j‖² − 1|`` over the pairs of the first 512 rows
  (a fixed sample: the first 512 rows hold 128 spikes).

``SparseEmbed`` maps sparse rows (issue 19): the TF-IDF matrix of the standard library's docstrings
(``tfidf``, 8,582 x 3,146, 114,117 nonzeros) and its transpose (``tfidf_T``, 3,146 x 8,582) to k = 256, with
SRHT, FJLT (FHL density at ``eps = 0.3``), the sparse sign sketch and scikit-learn's two projections.
``srht_mixing`` / ``fjlt_mixing`` are the same operators forced through the transform path (pad, signs,
FWHT, then ``R`` or ``P``: what sparse input took before issue 19, densifying a batch of rows at a time),
so one run shows before and after. ``time_fit_transform`` draws the operator and applies it (the explicit
matrix of SRHT / FJLT is formed inside the timing); ``time_transform`` applies one drawn in ``setup`` (the
explicit matrix is then cached on the operator); ``track_max_distortion`` as above, over the first 300
distinct rows.
"""

import contextlib
import math
import time

import numpy as np

import lowrank_la
from lowrank_la.sketch import FJLT, SKETCH_KINDS, fwht, jl_min_dim

from .common import require

# ----------------------------------------------------------------------------------------------------------
# FWHT
# ----------------------------------------------------------------------------------------------------------


def _butterflies(x):
    """The unnormalised Walsh-Hadamard transform of the rows of the 2-D `x` (``x @ scipy.linalg.hadamard(d)``),
    in ``log2(d)`` vectorised NumPy radix-2 passes: the plain-NumPy baseline, a new array."""
    rows, d = x.shape
    h = 1
    while h < d:
        v = x.reshape(rows, d // (2 * h), 2, h)
        x = np.stack((v[:, :, 0, :] + v[:, :, 1, :], v[:, :, 0, :] - v[:, :, 1, :]), axis=2).reshape(rows, d)
        h *= 2
    return x


def _best_time(run, *, repeats=5, budget_s=1.0):
    """The smallest wall time of `run()` over up to `repeats` calls (at least 2), within about `budget_s`."""
    best = math.inf
    spent = 0.0
    for i in range(repeats):
        t0 = time.perf_counter()
        run()
        elapsed = time.perf_counter() - t0
        best = min(best, elapsed)
        spent += elapsed
        if i >= 1 and spent > budget_s:
            break
    return best


class FWHT:
    params = (
        ["lowrank_la", "fht_cpu", "numpy_reference"],
        [1, 2],
        [2**10, 2**13, 2**16],
        [1, 1024],
        ["float32", "float64"],
    )
    param_names = ["impl", "threads", "d", "rows", "dtype"]
    timeout = 180

    def setup(self, impl, threads, d, rows, dtype):
        if impl == "numpy_reference":
            if rows > 1 and d > 2**13:
                raise NotImplementedError("the NumPy reference is too slow for a batch of long rows")
            if threads != 1:
                raise NotImplementedError("the NumPy reference is single-threaded: threads=2 repeats 1")
        rng = np.random.default_rng(0)
        # rows == 1 is a single vector (1-D), so that fht_cpu takes its 1-D path as lowrank_la does
        shape = (d,) if rows == 1 else (rows, d)
        self.x = rng.standard_normal(shape).astype(dtype)  # C-contiguous
        scale = np.dtype(dtype).type(1.0 / math.sqrt(d))
        x = self.x

        if impl == "lowrank_la":
            def run():
                # the Numba kernel under the thread bound set below; like fht_cpu, no finiteness pass
                fwht(x, overwrite_x=True, check_finite=False)

        elif impl == "fht_cpu":
            fht_cpu = require("fht_cpu")

            def run():
                # fht_cpu is unnormalised and has no scale argument: the 1/sqrt(d) is one more pass over the
                # buffer (a streaming multiply; out of cache for 1024 x 2^13 and beyond, where it costs
                # about one extra read and write of the whole buffer). num_threads is its own OpenMP
                # bound (0/1: no OpenMP); it is ignored for 1-D input, which runs on one thread.
                fht_cpu.fht(x, inplace=True, num_threads=threads)
                np.multiply(x, scale, out=x)

        else:
            def run():
                # a copy per call (the reference is not in place), then the scaled copy back
                np.multiply(_butterflies(x.reshape(-1, d)).reshape(x.shape), scale, out=x)

        self.run = run
        # The thread bound is entered here and left in teardown: entering lowrank_la.thread_limit costs
        # about 1.5 ms (threadpoolctl scans the loaded libraries), which would swamp the small transforms.
        self._limits = contextlib.ExitStack()
        if impl == "lowrank_la":
            self._limits.enter_context(lowrank_la.thread_limit(threads))
        run()  # compiles (or loads) the Numba kernel for this dtype and threading path outside the timing

    def teardown(self, impl, threads, d, rows, dtype):
        limits = getattr(self, "_limits", None)
        if limits is not None:
            limits.close()

    def time_fwht(self, impl, threads, d, rows, dtype):
        self.run()

    def track_gbutterflies_per_s(self, impl, threads, d, rows, dtype):
        best = _best_time(self.run)
        return rows * d * math.log2(d) / 2 / best / 1e9

    track_gbutterflies_per_s.unit = "Gbutterfly/s"


# ----------------------------------------------------------------------------------------------------------
# Sketch embeddings
# ----------------------------------------------------------------------------------------------------------

N_ROWS, N_FEATURES, N_COMPONENTS = 2048, 2**14, 512
N_DISTORTION = 512  # rows whose pairwise distances are checked
SPIKE_EVERY = 4  # rows 3, 7, 11, ... are spikes

_CACHE = {}


def embed_data():
    """The fixed-seed (2048, 2^14) float64 input, built once per process (256 MiB).

    Gaussian rows scaled to about unit norm, and every fourth row a spike: a single 1.0 at a coordinate
    drawn without replacement (so that no two spikes coincide and no pairwise distance is 0).
    """
    if "X" not in _CACHE:
        rng = np.random.default_rng(20240601)
        X = rng.standard_normal((N_ROWS, N_FEATURES))
        X *= 1.0 / math.sqrt(N_FEATURES)
        spikes = np.arange(SPIKE_EVERY - 1, N_ROWS, SPIKE_EVERY)
        X[spikes] = 0.0
        X[spikes, rng.choice(N_FEATURES, size=spikes.size, replace=False)] = 1.0
        _CACHE["X"] = X
        _CACHE["sq_dist"] = _pairwise_sq_distances(X[:N_DISTORTION])
    return _CACHE["X"], _CACHE["sq_dist"]


def _pairwise_sq_distances(Y):
    """Squared distances of the rows of `Y` by the Gram trick, in float64: ``G_ii + G_jj - 2 G_ij``."""
    Y = np.asarray(Y, dtype=np.float64)
    G = Y @ Y.T
    g = np.diag(G)
    return g[:, None] + g[None, :] - 2.0 * G


def max_distortion(Y, sq_dist):
    """``max |‖y_i − y_j‖² / ‖x_i − x_j‖² − 1|`` over the pairs ``i < j`` of the rows `sq_dist` covers."""
    n = sq_dist.shape[0]
    iu = np.triu_indices(n, k=1)
    ratio = _pairwise_sq_distances(Y[:n])[iu] / sq_dist[iu]
    return float(np.max(np.abs(ratio - 1.0)))


def _fjlt_eps():
    """The distortion for which ``jl_min_dim(N_ROWS, eps) == N_COMPONENTS`` (FJLT's density rule takes it)."""
    lo, hi = 0.01, 0.99
    for _ in range(60):
        mid = (lo + hi) / 2
        if jl_min_dim(N_ROWS, mid) > N_COMPONENTS:
            lo = mid
        else:
            hi = mid
    return hi


LOWRANK_KINDS = list(SKETCH_KINDS)  # gaussian, sparse_sign, countsketch, srht, fjlt, very_sparse, achlioptas
PEERS = ["fjlt_ailon_chazelle", "sklearn_gaussian", "sklearn_sparse", "scipy_cwt"]


class SketchEmbed:
    params = (LOWRANK_KINDS + PEERS,)
    param_names = ["impl"]
    timeout = 300

    def setup(self, impl):
        X, self.sq_dist = embed_data()
        self.X = X
        k, d = N_COMPONENTS, N_FEATURES
        if impl in SKETCH_KINDS or impl == "fjlt_ailon_chazelle":
            if impl == "fjlt":  # the FHL density (the default rule), set for these N points at matching eps
                S = FJLT(k, d, q="fhl", eps=_fjlt_eps(), n_samples=N_ROWS, rng=0)
            elif impl == "fjlt_ailon_chazelle":
                S = FJLT(k, d, q="ailon-chazelle", eps=_fjlt_eps(), n_samples=N_ROWS, rng=0)
            else:  # each kind's defaults (sparse_sign: 8 per column; very_sparse: density 1/sqrt(d))
                S = SKETCH_KINDS[impl](k, d, rng=0)
            self.run = S.transform
        elif impl in ("sklearn_gaussian", "sklearn_sparse"):
            rp = require("sklearn.random_projection")
            if impl == "sklearn_gaussian":
                T = rp.GaussianRandomProjection(n_components=k, random_state=0,
                                                compute_inverse_components=False)
            else:  # density "auto" = 1/sqrt(d), as lowrank_la's VerySparse
                T = rp.SparseRandomProjection(n_components=k, random_state=0, dense_output=True,
                                              compute_inverse_components=False)
            T.fit(X[:1])  # fit only reads the shape (n_components is given): the components are drawn here
            self.run = T.transform
        elif impl == "scipy_cwt":
            linalg = require("scipy.linalg")
            cwt = linalg.clarkson_woodruff_transform

            def run(X):
                # it sketches the rows of an (n, d) matrix into (sketch_size, d): our points are the rows of
                # X, so sketch the columns of X.T (its d-dimensional axis) and transpose back
                return cwt(X.T, k, rng=0).T

            self.run = run
        else:
            raise ValueError(f"impl={impl!r}")
        # A first call on a few rows loads the Numba kernels (from the on-disk cache, or compiles them) and
        # fills the operators' per-dtype caches, so that a single timed call (asv --quick) measures the
        # product and not one-off start-up costs.
        self.run(X[:16])

    def time_embed(self, impl):
        self.run(self.X)

    def peakmem_embed(self, impl):
        self.run(self.X)

    def track_max_distortion(self, impl):
        return max_distortion(self.run(self.X[:N_DISTORTION]), self.sq_dist)

    track_max_distortion.unit = "relative"


# ----------------------------------------------------------------------------------------------------------
# Sparse rows: SRHT and FJLT without densifying (issue 19)
# ----------------------------------------------------------------------------------------------------------

SPARSE_K = 256


def sparse_data(name):
    """The TF-IDF matrix (``tfidf``) or its transpose (``tfidf_T``), CSR, and the indices of its first 300
    pairwise distinct rows (the matrix repeats some documents), built once per process."""
    if name not in _CACHE:
        sp = require("scipy.sparse")
        from lowrank_la.datasets import stdlib_tfidf

        X = sp.csr_matrix(stdlib_tfidf())
        X = X if name == "tfidf" else sp.csr_matrix(X.T)
        head = X[:2000].toarray()
        rows = np.sort(np.unique(head, axis=0, return_index=True)[1])[:300]
        _CACHE[name] = X, rows
    return _CACHE[name]


def _sparse_projection(impl, n_samples):
    """An unfitted transformer for `impl` (``fit`` draws the map, ``transform`` applies it)."""
    from lowrank_la.sketch import SRHT, SparseSign

    k = SPARSE_K
    if impl.startswith("srht"):
        S = SRHT(k, rng=0)
    elif impl.startswith("fjlt"):
        S = FJLT(k, eps=0.3, n_samples=n_samples, rng=0)
    elif impl == "sparse_sign":
        S = SparseSign(k, rng=0)
    else:
        rp = require("sklearn.random_projection")
        if impl == "sklearn_gaussian":
            return rp.GaussianRandomProjection(k, random_state=0)
        return rp.SparseRandomProjection(k, random_state=0)  # its defaults: density 1/sqrt(d), sparse output
    if impl.endswith("_mixing"):  # the transform path, as before issue 19 (a private switch, for this benchmark)
        S._explicit_pays = lambda X: False
    return S


class SparseEmbed:
    params = (["srht", "srht_mixing", "fjlt", "fjlt_mixing", "sparse_sign", "sklearn_gaussian",
               "sklearn_sparse"], ["tfidf", "tfidf_T"])
    param_names = ["impl", "data"]
    timeout = 300

    def setup(self, impl, data):
        self.X, self.rows = sparse_data(data)
        self.T = _sparse_projection(impl, self.X.shape[0]).fit(self.X)
        self.T.transform(self.X[:16])  # loads the Numba kernels and fills the operator's caches

    def time_fit_transform(self, impl, data):
        _sparse_projection(impl, self.X.shape[0]).fit(self.X).transform(self.X)

    def time_transform(self, impl, data):
        self.T.transform(self.X)

    def track_max_distortion(self, impl, data):
        from lowrank_la.sketch import max_distortion as lowrank_max_distortion

        return lowrank_max_distortion(self.X[self.rows], self.T.transform(self.X[self.rows]))

    track_max_distortion.unit = "relative"
