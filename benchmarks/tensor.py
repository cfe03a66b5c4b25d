"""Tucker decompositions and core-shape search: lowrank_la beside TensorLy, and the search methods beside the
true-loss greedy of Ghadiri et al. (ICML 2023).

Inputs: synthetic Tucker-plus-noise tensors ``n x n x n`` of multilinear rank (4, 8, 16) with 10% Gaussian noise
(``datasets.tucker_tensor``, the authors' synthetic setting), n in {100, 200}, built once per process.

``Spectrum``: the squared singular values of every unfolding, shared by every budget of a search:

* ``lowrank_la_gram``: ``hosvd_spectrum(X)`` (Gram matrix + eigvalsh per mode);
* ``lowrank_la_svd``: ``hosvd_spectrum(X, method="svd")``;
* ``numpy_svd``: ``numpy.linalg.svd(unfold(X, n), compute_uv=False)`` per mode (what the official code does).

``CoreShapeSearch``: the search alone, the spectrum precomputed (as the paper reports it), per budget:

* ``auto``: ``core_shape_search(spectrum=..., method="auto")`` (exact pruned enumeration here);
* ``milp``: ``method="milp", refine=False``: the paper's method (brute force of small shapes + one HiGHS program
  per budget split on the grid of ratio 1.5);
* ``milp_refined``: ``method="milp"`` (the library's default refinement);
* ``rre_greedy``: ``method="rre_greedy"``: one HOOI fit (HOSVD start, 20 sweeps) per candidate; it needs no
  spectrum. At n = 200 it is run at the smallest budget only (several hundred fits of an 8e6-entry tensor at the
  larger budgets: tens of minutes).

``track_rre``: the squared relative error ``||X - X_hat||^2 / ||X||^2`` of a HOOI fit (HOSVD start, 20 sweeps) of
the chosen shape; ``track_n_params``: its parameter count. Ratios to quote: ``time(rre_greedy) / time(auto)``
and ``/ time(milp)``, and ``rre(method) / rre(rre_greedy)``, within one run.

``TuckerFit``: a Tucker decomposition at equal ranks and equal iterations:

* ``lowrank_la_hooi``: ``hooi(X, ranks, init="svd", n_iter_max=10, tol=0)``;
* ``tensorly_tucker``: ``tensorly.decomposition.tucker(X, ranks, init="svd", n_iter_max=10, tol=0)`` (tol=0:
  no early stop, the same 10 sweeps);
* ``lowrank_la_hosvd`` and ``lowrank_la_st_hosvd``: the one-pass truncations, for reference.

Run ``LOWRANK_LA_BENCH_THREADS=1 asv run --python=same --quick --bench tensor`` on a busy machine (oversubscribed
BLAS threads spin-wait).
"""

import os

import numpy as np

from lowrank_la import datasets, thread_limit
from lowrank_la.tensor import core_shape_search, hooi, hosvd, hosvd_spectrum, st_hosvd, unfold

from .common import require

THREADS = int(os.environ.get("LOWRANK_LA_BENCH_THREADS", os.cpu_count() or 1))
RANKS = (4, 8, 16)
BUDGETS = [3000, 10000, 30000]
_CACHE = {}


def tensor(n):
    if n not in _CACHE:
        _CACHE[n] = datasets.tucker_tensor((n, n, n), RANKS, noise=0.1, rng=20230203)
    return _CACHE[n]


def spectrum(n):
    key = ("spectrum", n)
    if key not in _CACHE:
        _CACHE[key] = hosvd_spectrum(tensor(n))
    return _CACHE[key]


def rre(X, ranks):
    return hooi(X, ranks, init="svd", n_iter_max=20, tol=0).history["error"][-1] ** 2


class _Threads:
    def teardown(self, *args):
        self._threads.__exit__(None, None, None)

    def _limit(self):
        self._threads = thread_limit(THREADS)
        self._threads.__enter__()


class Spectrum(_Threads):
    params = (["lowrank_la_gram", "lowrank_la_svd", "numpy_svd"], [100, 200])
    param_names = ["impl", "n"]
    timeout = 600
    number = 1
    repeat = 3

    def setup(self, impl, n):
        self.X = tensor(n)
        self.run = {"lowrank_la_gram": lambda: hosvd_spectrum(self.X),
                    "lowrank_la_svd": lambda: hosvd_spectrum(self.X, method="svd"),
                    "numpy_svd": lambda: [np.linalg.svd(unfold(self.X, k), compute_uv=False) ** 2
                                          for k in range(3)]}[impl]
        self._limit()

    def time_spectrum(self, impl, n):
        self.run()

    def peakmem_spectrum(self, impl, n):
        self.run()


class CoreShapeSearch(_Threads):
    params = (["auto", "milp", "milp_refined", "rre_greedy"], [100, 200], BUDGETS)
    param_names = ["impl", "n", "budget"]
    timeout = 1800
    number = 1
    repeat = 1
    warmup_time = 0

    def setup(self, impl, n, budget):
        if impl == "rre_greedy" and n == 200 and budget != BUDGETS[0]:
            raise NotImplementedError("rre_greedy at n = 200 runs at the smallest budget only (too long)")
        self.X, self.spec = tensor(n), spectrum(n)
        method, extra = {"auto": ("auto", {}), "milp": ("milp", {"refine": False}), "milp_refined": ("milp", {}),
                         "rre_greedy": ("rre_greedy", {})}[impl]
        if method == "rre_greedy":
            self.run = lambda: core_shape_search(self.X, budget, method=method)
        else:
            self.run = lambda: core_shape_search(spectrum=self.spec, budget=budget, method=method, **extra)
        self._limit()

    def result(self, impl, n, budget):
        """The search's result, computed once per process for the track_ methods (rre_greedy takes minutes)."""
        key = ("result", impl, n, budget)
        if key not in _CACHE:
            _CACHE[key] = self.run()
        return _CACHE[key]

    def time_search(self, impl, n, budget):
        self.run()

    def track_rre(self, impl, n, budget):
        return rre(self.X, self.result(impl, n, budget).ranks)

    def track_n_params(self, impl, n, budget):
        return self.result(impl, n, budget).n_params


class TuckerFit(_Threads):
    params = (["lowrank_la_hooi", "tensorly_tucker", "lowrank_la_hosvd", "lowrank_la_st_hosvd"], [100, 200],
              ["4x8x16", "20x20x20"])
    param_names = ["impl", "n", "ranks"]
    timeout = 600
    number = 1
    repeat = 3

    def setup(self, impl, n, ranks):
        self.X = X = tensor(n)
        r = tuple(int(v) for v in ranks.split("x"))
        if impl == "tensorly_tucker":
            tucker = require("tensorly.decomposition").tucker
            self.run = lambda: tucker(X, r, init="svd", n_iter_max=10, tol=0)
        else:
            self.run = {"lowrank_la_hooi": lambda: hooi(X, r, init="svd", n_iter_max=10, tol=0),
                        "lowrank_la_hosvd": lambda: hosvd(X, r),
                        "lowrank_la_st_hosvd": lambda: st_hosvd(X, r)}[impl]
        self._limit()

    def time_fit(self, impl, n, ranks):
        self.run()

    def peakmem_fit(self, impl, n, ranks):
        self.run()

    def track_rre(self, impl, n, ranks):
        out = self.run()
        core, factors = (out.core, out.factors) if hasattr(out, "core") else (out[0], out[1])
        full = core
        for k, U in enumerate(factors):
            full = np.moveaxis(np.tensordot(U, full, axes=(1, k)), 0, k)
        return float(np.linalg.norm(self.X - full) ** 2 / np.linalg.norm(self.X) ** 2)
