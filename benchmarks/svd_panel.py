"""Randomized SVD on the real-data panel: every implementation at its defaults, k in {10, 20, 50}.

The inputs are ``lowrank_la.datasets.real_panel``: the TF-IDF matrix of the standard library's docstrings
(sparse, flat spectrum), scikit-learn's digits (1797 x 64), two scikit-image pictures (coffee 400 x 600, grass
512 x 512) and a power-law sparse matrix. Each implementation is called as a user would call it, with nothing
but the matrix, k and a seed:

* ``lowrank_la``: ``lowrank_la.rsvd(A, k, rng=seed)``;
* ``sklearn``: ``sklearn.utils.extmath.randomized_svd(A, k, random_state=seed)``;
* ``fbpca``: ``fbpca.pca(A, k, raw=True)`` after ``numpy.random.seed(seed)`` (fbpca draws from the global
  generator);
* ``svds``: ``scipy.sparse.linalg.svds(A, k, rng=numpy.random.default_rng(seed))`` (ARPACK, ``tol=0``).

``PanelSVD`` runs the whole panel with the 20,000 x 2,000 power-law matrix (200,000 non-zeros;
``real_panel("small")``) and ``PanelSVDLarge`` the 200,000 x 20,000 one (2,000,000 non-zeros;
``real_panel("large")``, the ``SparseRSVD`` input of ``benchmarks/svd.py``).

Metrics, per matrix, k and implementation:

* ``time_svd``: one rank-k SVD (seed 0); ``peakmem_svd``: the peak RSS of the process (the input included);
* ``track_max_rel_sv_error``: ``max_i |s_i - sigma_i| / sigma_i`` over the k singular values, the median over
  the seeds 0 to 4 (``svds``: seed 0 only; it converges to machine precision from any start). The exact
  ``sigma_i`` come from ``setup_cache``: the dense LAPACK SVD (``numpy.linalg.svd``) of each ``PanelSVD``
  matrix, and ``svds(A, 60, tol=0)`` for the large power-law matrix, which is too large to densify.

Inputs and references are built once per run in ``setup_cache``. Every implementation runs on ``THREADS``
threads (``benchmarks/svd.py``; set ``LOWRANK_LA_BENCH_THREADS=1`` on a shared machine).
"""

import numpy as np

import lowrank_la

from .common import require
from .svd import THREADS, _pin_threads, _release, max_rel_sv_error

K_VALUES = [10, 20, 50]
IMPLS = ["lowrank_la", "sklearn", "fbpca", "svds"]
SEEDS = range(5)
REFERENCE_K = max(K_VALUES)


def small_problem():
    """The small panel and, per matrix, its top ``REFERENCE_K`` singular values by dense LAPACK."""
    from lowrank_la import datasets

    with lowrank_la.thread_limit(THREADS):
        panel = datasets.real_panel("small")
        sigma = {name: np.linalg.svd(A.toarray() if hasattr(A, "toarray") else A, compute_uv=False)[:REFERENCE_K]
                 for name, A in panel.items()}
    return {"panel": panel, "sigma": sigma}


def large_problem():
    """The large power-law matrix and its top ``REFERENCE_K`` singular values by ``svds(tol=0)``."""
    import scipy.sparse.linalg

    from lowrank_la import datasets

    with lowrank_la.thread_limit(THREADS):
        A = datasets.real_panel("large")["power_law"]
        sigma = scipy.sparse.linalg.svds(A, k=REFERENCE_K + 10, tol=0, return_singular_vectors=False,
                                         rng=np.random.default_rng(1))
    return {"panel": {"power_law": A}, "sigma": {"power_law": np.sort(sigma)[::-1][:REFERENCE_K]}}


def implementation(impl):
    """A callable ``(A, k, seed) -> (U, s, Vh)`` running `impl` at its defaults."""
    if impl == "lowrank_la":
        return lambda A, k, seed: lowrank_la.rsvd(A, k, rng=seed)
    if impl == "sklearn":
        extmath = require("sklearn.utils.extmath")
        return lambda A, k, seed: extmath.randomized_svd(A, k, random_state=seed)
    if impl == "fbpca":
        fbpca = require("fbpca")

        def run(A, k, seed):
            np.random.seed(seed)  # noqa: NPY002 (fbpca draws from the global NumPy generator)
            return fbpca.pca(A, k, raw=True)

        return run
    sla = require("scipy.sparse.linalg")
    return lambda A, k, seed: sla.svds(A, k=k, rng=np.random.default_rng(seed))


class PanelSVD:
    params = (list(lowrank_la.datasets.PANEL), K_VALUES, IMPLS)
    param_names = ["matrix", "k", "impl"]
    timeout = 900

    def setup_cache(self):
        return small_problem()

    def setup(self, problem, matrix, k, impl):
        self.run = implementation(impl)
        self.A = problem["panel"][matrix]
        self.sigma = problem["sigma"][matrix][:k]
        self.seeds = [0] if impl == "svds" else SEEDS
        self._limits = _pin_threads()

    def teardown(self, problem, matrix, k, impl):
        _release(self)

    def time_svd(self, problem, matrix, k, impl):
        self.run(self.A, k, 0)

    def peakmem_svd(self, problem, matrix, k, impl):
        self.run(self.A, k, 0)

    def track_max_rel_sv_error(self, problem, matrix, k, impl):
        return float(np.median([max_rel_sv_error(self.run(self.A, k, seed)[1], self.sigma) for seed in self.seeds]))

    track_max_rel_sv_error.unit = "relative"


class PanelSVDLarge(PanelSVD):
    params = (["power_law"], K_VALUES, IMPLS)

    def setup_cache(self):
        return large_problem()
