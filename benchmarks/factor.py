"""Meta-factorization instances beside their peers: generalized Nystrom, CUR and ID against scipy and rsvd.

``LowRank``: a dense 2000 x 1000 float64 matrix ``U diag(s) V^T`` with Haar-random factors and the spectrum
``s_j = (j + 1)^{-1}`` (``datasets.spectrum("polynomial", power=1)``), at k in {10, 50, 100}. Every implementation
builds a rank-k approximation of the same input in the same run:

* ``generalized_nystrom``: ``lowrank_la.factor.generalized_nystrom(A, k)`` (Gaussian sketches, ``l = 1.5 k``,
  QR-stabilised core; two passes over A, no power iteration);
* ``cur_deim``: ``lowrank_la.factor.cur(A, k, select="deim")`` (optimal core; the selection runs ``rsvd``);
* ``cur_qr``: ``cur(A, k, select="qr")`` (pivoted QR of a sketch, optimal core);
* ``interpolative``: ``lowrank_la.factor.interpolative(A, k)`` (randomized, ``k + 10`` sketch rows);
* ``interpolative_power``: the same with ``n_iter=2`` power iterations of the sketch;
* ``scipy_interpolative``: ``scipy.linalg.interpolative.interp_decomp(A, k, rand=True)`` and
  ``reconstruct_matrix_from_id``: the peer of ``interpolative``;
* ``rsvd``: ``lowrank_la.svd.rsvd(A, k)`` (the default: power iterations, oversampling 10): the accuracy yardstick.

``SymmetricNystrom``: the RBF kernel matrix ``K_ij = exp(-gamma ||x_i - x_j||^2)`` of 2000 Gaussian points in 8
dimensions (gamma = 1/8), at k in {50, 100, 200}:

* ``sklearn_nystroem``: ``sklearn.kernel_approximation.Nystroem(kernel="rbf", gamma, n_components=k)`` fitted and
  applied to the points, ``K ~ Phi Phi^T`` (it evaluates the 2000 x k kernel block itself; the others get ``K``);
* ``cur_cross_symmetric``: ``cur_from_indices(K, idx, idx, core="cross")`` with k uniform landmarks ``idx``: the same
  estimator ``K[:, idx] K[idx, idx]^+ K[idx, :]`` (the B = D = selector instance);
* ``generalized_nystrom``: ``generalized_nystrom(K, k)``.

Metrics: ``time_factorize`` (one factorization, without forming the dense approximation),
``peakmem_factorize``, and ``track_relative_error`` ``||A - A_hat||_F / ||A||_F`` with ``track_error_vs_best`` its
ratio to the best rank-k error (1 is optimal).
Threads: ``LOWRANK_LA_BENCH_THREADS`` (default: all cores) for every implementation.

Run: ``asv run --python=same --quick --bench factor`` and compare the implementations within one run.
"""

import contextlib
import os

import numpy as np

import lowrank_la

from .common import require

THREADS = int(os.environ.get("LOWRANK_LA_BENCH_THREADS", os.cpu_count() or 1))
SHAPE = (2000, 1000)
LOWRANK_IMPLS = ["generalized_nystrom", "cur_deim", "cur_qr", "interpolative", "interpolative_power",
                 "scipy_interpolative", "rsvd"]
KERNEL_IMPLS = ["sklearn_nystroem", "cur_cross_symmetric", "generalized_nystrom"]
N_POINTS, DIM = 2000, 8

_CACHE = {}


def lowrank_problem():
    """The 2000 x 1000 test matrix, its norm and its singular values."""
    if "lowrank" not in _CACHE:
        from lowrank_la import datasets

        s = datasets.spectrum("polynomial", SHAPE[1], power=1.0)
        A = datasets.matrix_with_spectrum(*SHAPE, s, rng=20240611)
        _CACHE["lowrank"] = {"A": A, "s": s}
    return _CACHE["lowrank"]


def kernel_problem():
    """RBF kernel matrix of Gaussian points, and its singular values."""
    if "kernel" not in _CACHE:
        X = np.random.default_rng(20240611).standard_normal((N_POINTS, DIM))
        gamma = 1.0 / DIM
        sq = np.sum(X**2, axis=1)
        K = np.exp(-gamma * np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0))
        _CACHE["kernel"] = {"X": X, "K": K, "gamma": gamma, "s": np.linalg.svd(K, compute_uv=False)}
    return _CACHE["kernel"]


def best_error(s, k):
    return float(np.sqrt(np.sum(s[k:] ** 2) / np.sum(s**2)))


def relative_error(A, A_hat):
    return float(np.linalg.norm(A - A_hat) / np.linalg.norm(A))


def lowrank_impl(impl, k):
    """``(factorize, reconstruct)``: ``factorize(A)`` computes the rank-k factors, ``reconstruct(factors)`` forms
    the dense approximation (outside the timing)."""
    from lowrank_la.factor import cur, generalized_nystrom, interpolative

    if impl == "scipy_interpolative":
        sli = require("scipy.linalg.interpolative")

        def factorize(A):
            idx, proj = sli.interp_decomp(A, k, rand=True, rng=np.random.default_rng(0))
            return A, idx, proj

        return factorize, lambda f: sli.reconstruct_matrix_from_id(f[0][:, f[1][:k]], f[1], f[2])
    if impl == "rsvd":
        return (lambda A: lowrank_la.svd.rsvd(A, k, rng=0)), (lambda f: (f.U * f.s) @ f.Vh)
    factorize = {"generalized_nystrom": lambda A: generalized_nystrom(A, k, rng=0),
                 "cur_deim": lambda A: cur(A, k, select="deim", rng=0),
                 "cur_qr": lambda A: cur(A, k, select="qr", rng=0),
                 "interpolative": lambda A: interpolative(A, k, rng=0),
                 "interpolative_power": lambda A: interpolative(A, k, n_iter=2, rng=0)}[impl]
    return factorize, lambda f: f.reconstruct()


def kernel_impl(impl, k, problem):
    """``(factorize, reconstruct)`` for the kernel suite."""
    from lowrank_la.factor import cur_from_indices, generalized_nystrom

    if impl == "sklearn_nystroem":
        kernel_approximation = require("sklearn.kernel_approximation")

        def factorize(K):
            return kernel_approximation.Nystroem(kernel="rbf", gamma=problem["gamma"], n_components=k,
                                                 random_state=0).fit_transform(problem["X"])

        return factorize, lambda features: features @ features.T
    if impl == "cur_cross_symmetric":
        def factorize(K):
            idx = np.sort(np.random.default_rng(0).choice(K.shape[0], k, replace=False))
            return cur_from_indices(K, idx, idx, core="cross")

        return factorize, lambda f: f.reconstruct()
    return (lambda K: generalized_nystrom(K, k, rng=0)), (lambda f: f.reconstruct())


def _pin_threads():
    limits = contextlib.ExitStack()
    limits.enter_context(lowrank_la.thread_limit(THREADS))
    return limits


class LowRank:
    params = (LOWRANK_IMPLS, [10, 50, 100])
    param_names = ["impl", "k"]
    timeout = 600

    def setup_cache(self):
        return lowrank_problem()

    def setup(self, problem, impl, k):
        self.A, self.s = problem["A"], problem["s"]
        self.factorize, self.reconstruct = lowrank_impl(impl, k)
        self._limits = _pin_threads()

    def teardown(self, problem, impl, k):
        self._limits.close()

    def time_factorize(self, problem, impl, k):
        self.factorize(self.A)

    def peakmem_factorize(self, problem, impl, k):
        self.factorize(self.A)

    def track_relative_error(self, problem, impl, k):
        return relative_error(self.A, self.reconstruct(self.factorize(self.A)))

    track_relative_error.unit = "relative"

    def track_error_vs_best(self, problem, impl, k):
        return relative_error(self.A, self.reconstruct(self.factorize(self.A))) / best_error(self.s, k)

    track_error_vs_best.unit = "x optimal"


class SymmetricNystrom:
    params = (KERNEL_IMPLS, [50, 100, 200])
    param_names = ["impl", "k"]
    timeout = 600

    def setup_cache(self):
        return kernel_problem()

    def setup(self, problem, impl, k):
        self.K, self.s = problem["K"], problem["s"]
        self.factorize, self.reconstruct = kernel_impl(impl, k, problem)
        self._limits = _pin_threads()

    def teardown(self, problem, impl, k):
        self._limits.close()

    def time_factorize(self, problem, impl, k):
        self.factorize(self.K)

    def peakmem_factorize(self, problem, impl, k):
        self.factorize(self.K)

    def track_relative_error(self, problem, impl, k):
        return relative_error(self.K, self.reconstruct(self.factorize(self.K)))

    track_relative_error.unit = "relative"

    def track_error_vs_best(self, problem, impl, k):
        return relative_error(self.K, self.reconstruct(self.factorize(self.K))) / best_error(self.s, k)

    track_error_vs_best.unit = "x optimal"
