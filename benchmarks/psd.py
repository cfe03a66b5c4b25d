"""lowrank_la.psd beside its peers: randomized eigh, Nystrom / RPCholesky, Nystrom PCG, Hutch++.

``EighDecaying``: a dense symmetric n x n float64 matrix ``H diag(lambda) H``, ``lambda_j = (j + 1)^-1`` and ``H``
a product of two random Householder reflections (n = ``LOWRANK_LA_BENCH_EIGH_N``, default 10,000), top k = 50:

* ``lowrank_la``: ``psd.eigh(A, 50, tol=1e-2)`` (block Krylov + Rayleigh-Ritz, stops at an estimated relative
  eigenvalue error of 1e-2);
* ``scipy_eigsh``: ``scipy.sparse.linalg.eigsh(A, 50, tol=1e-3)`` (ARPACK, Lanczos).

``EighGraph``: the normalized adjacency ``D^-1/2 W D^-1/2`` of the symmetrized 10-nearest-neighbour graph of
points uniform in the unit cube (n = ``LOWRANK_LA_BENCH_GRAPH_N``, default 50,000; sparse), whose top spectrum is
flat (eigenvalues just below 1), top k = 50, same two implementations; the ratio is reported, no target.

``KernelNystrom``: the RBF kernel matrix ``exp(-gamma |x - y|^2)`` of the handwritten digits (scikit-learn's 1797 x
64 images, gamma = 1 / (64 var)), and of the "outliers" point set of the rpcholesky reproduction (n = 3000), at
k in {50, 100, 200} kernel columns:

* ``sklearn_nystroem``: ``sklearn.kernel_approximation.Nystroem(n_components=k)`` (k uniform landmarks);
* ``rpcholesky``: ``psd.rpcholesky(kernel, k, points=X)`` (k columns chosen by RPCholesky, accelerated; the same
  number of kernel columns, plus ``b^2`` entries per block);
* ``nystrom``: ``psd.nystrom(K, k)`` (a Gaussian sketch: it reads the whole matrix, for reference).

``NystromPCG``: kernel ridge regression ``(K + mu I) x = y``, RBF kernel (bandwidth 0.2) of n points uniform in
``[0, 1]^3`` (n = ``LOWRANK_LA_BENCH_KRR_N``, default 20,000; ``K`` formed), ``mu = 1e-4 ||K||_2``, to relative
residual 1e-8: ``psd.nystrom_pcg`` (adaptive rank) against ``scipy.sparse.linalg.cg``.

``TraceHutchpp``: the trace of a dense PSD 3000 x 3000 ``H diag(j^-2) H`` with 300 matvecs: ``psd.hutchpp``,
``psd.xtrace`` and PyLops' ``trace_hutchpp`` (skipped where PyLops is not installed); the relative error is the
root-mean-square over 20 seeds.

Metrics: ``time_*``, ``peakmem_*`` and ``track_*`` accuracy (relative eigenvalue error, relative Frobenius and
trace-norm errors, iterations and final residual, relative trace error).
Run: ``asv run --python=same --quick --bench psd`` and compare the implementations within one run. The numbers of
the last run (shared two-core machine) are on the docs page ``docs/algorithms/psd.rst``.
"""

import os

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from lowrank_la import psd

from .common import require

EIGH_N = int(os.environ.get("LOWRANK_LA_BENCH_EIGH_N", 10000))
GRAPH_N = int(os.environ.get("LOWRANK_LA_BENCH_GRAPH_N", 50000))
KRR_N = int(os.environ.get("LOWRANK_LA_BENCH_KRR_N", 20000))
K_EIG = 50

_CACHE = {}


def householder_matrix(lam, seed):
    """``H diag(lam) H`` with ``H = H_1 H_2`` two random Householder reflections (dense, exactly symmetric)."""
    gen = np.random.default_rng(seed)
    A = np.diag(lam)
    for _ in range(2):
        v = gen.standard_normal(lam.size)
        v /= np.linalg.norm(v)
        Av = A @ v
        A -= 2 * np.outer(v, Av)   # (I - 2 v v^T) A
        A -= 2 * np.outer(A @ v, v)  # ... (I - 2 v v^T)
    return (A + A.T) / 2


def rbf(X, Y, gamma):
    sq = np.sum(X**2, 1)[:, None] + np.sum(Y**2, 1)[None, :] - 2 * X @ Y.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


def _decaying():
    if "decaying" not in _CACHE:
        lam = 1.0 / np.arange(1, EIGH_N + 1)
        _CACHE["decaying"] = (householder_matrix(lam, 0), lam[:K_EIG])
    return _CACHE["decaying"]


def _graph():
    if "graph" not in _CACHE:
        neighbors = require("sklearn.neighbors")
        X = np.random.default_rng(1).uniform(0, 1, (GRAPH_N, 3))
        W = neighbors.kneighbors_graph(X, 10, mode="connectivity", include_self=False)
        W = ((W + W.T) > 0).astype(np.float64).tocsr()
        d = 1 / np.sqrt(np.asarray(W.sum(axis=1)).ravel())
        A = scipy.sparse.diags_array(d) @ W @ scipy.sparse.diags_array(d)
        A = scipy.sparse.csr_matrix(A)
        exact = scipy.sparse.linalg.eigsh(A, K_EIG, which="LA", tol=1e-10, return_eigenvectors=False)
        _CACHE["graph"] = (A, np.sort(exact)[::-1])
    return _CACHE["graph"]


def _eigh(impl, A, which):
    if impl == "lowrank_la":
        return psd.eigh(A, K_EIG, which=which, tol=1e-2, rng=0).w
    w = scipy.sparse.linalg.eigsh(A, K_EIG, which=which, tol=1e-3, return_eigenvectors=False)
    return np.sort(w)[::-1]


class EighDecaying:
    params = [["lowrank_la", "scipy_eigsh"]]
    param_names = ["impl"]
    timeout = 1200

    def setup(self, impl):
        self.A, self.exact = _decaying()

    def time_eigh(self, impl):
        _eigh(impl, self.A, "LM")

    def peakmem_eigh(self, impl):
        _eigh(impl, self.A, "LM")

    def track_max_relative_eigenvalue_error(self, impl):
        return float(np.max(np.abs(_eigh(impl, self.A, "LM") - self.exact) / self.exact))


class EighGraph:
    params = [["lowrank_la", "scipy_eigsh"]]
    param_names = ["impl"]
    timeout = 1800

    def setup(self, impl):
        self.A, self.exact = _graph()

    def time_eigh(self, impl):
        _eigh(impl, self.A, "LA")

    def track_max_relative_eigenvalue_error(self, impl):
        return float(np.max(np.abs(_eigh(impl, self.A, "LA") - self.exact) / np.abs(self.exact)))


def _kernel_data(name):
    if name not in _CACHE:
        if name == "digits":
            X = require("sklearn.datasets").load_digits().data.astype(np.float64)
        else:
            gen = np.random.default_rng(2)
            X = 0.5 * gen.standard_normal((3000, 20)) / np.sqrt(20)
            X[gen.choice(3000, 50, replace=False)] += 100 * gen.standard_normal((50, 20))
        gamma = 1.0 / (X.shape[1] * X.var()) if name == "digits" else 0.5
        K = rbf(X, X, gamma)
        _CACHE[name] = (X, gamma, K)
    return _CACHE[name]


class KernelNystrom:
    params = [["sklearn_nystroem", "rpcholesky", "nystrom"], ["digits", "outliers"], [50, 100, 200]]
    param_names = ["impl", "data", "k"]

    def setup(self, impl, data, k):
        self.X, self.gamma, self.K = _kernel_data(data)
        if impl == "sklearn_nystroem":
            require("sklearn.kernel_approximation")

    def _approx(self, impl, k, seed=0):
        """A factor ``F`` with ``K ~ F F^T``."""
        if impl == "sklearn_nystroem":
            from sklearn.kernel_approximation import Nystroem

            return Nystroem(kernel="rbf", gamma=self.gamma, n_components=k, random_state=seed).fit_transform(self.X)
        if impl == "rpcholesky":
            return psd.rpcholesky(lambda P, Q: rbf(P, Q, self.gamma), k, points=self.X, rng=seed).F
        w, V = psd.nystrom(self.K, k, rng=seed)
        return V * np.sqrt(w)

    def time_approximate(self, impl, data, k):
        self._approx(impl, k)

    def track_relative_frobenius_error(self, impl, data, k):
        """``||K - F F^T||_F / ||K||_F``, the mean over 5 seeds."""
        errs = [np.linalg.norm(self.K - F @ F.T) / np.linalg.norm(self.K)
                for F in (self._approx(impl, k, s) for s in range(5))]
        return float(np.mean(errs))

    def track_relative_trace_error(self, impl, data, k):
        """``tr(K - F F^T) / tr(K)`` (the trace-norm error for a Nystrom approximation), the mean over 5 seeds."""
        trace = np.trace(self.K)
        errs = [(trace - np.sum(F**2)) / trace for F in (self._approx(impl, k, s) for s in range(5))]
        return float(np.mean(errs))


def _krr():
    if "krr" not in _CACHE:
        gen = np.random.default_rng(3)
        X = gen.uniform(0, 1, (KRR_N, 3))
        y = np.sin(4 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * gen.standard_normal(KRR_N)
        K = rbf(X, X, 1 / (2 * 0.2**2))
        mu = 1e-4 * float(scipy.sparse.linalg.eigsh(K, 1, return_eigenvectors=False)[0])
        _CACHE["krr"] = (K, y, mu)
    return _CACHE["krr"]


class NystromPCG:
    params = [["nystrom_pcg", "scipy_cg"]]
    param_names = ["impl"]
    timeout = 3600
    number = 1
    repeat = 1

    def setup(self, impl):
        self.K, self.y, self.mu = _krr()

    def _solve(self, impl):
        if impl == "nystrom_pcg":
            res = psd.nystrom_pcg(self.K, self.y, self.mu, tol=1e-8, rng=0)
            return res.x, res.n_iter
        count = [0]
        op = scipy.sparse.linalg.LinearOperator(self.K.shape, matvec=lambda v: self.K @ v + self.mu * v,
                                                dtype=np.float64)
        x, _ = scipy.sparse.linalg.cg(op, self.y, rtol=1e-8, maxiter=100000,
                                      callback=lambda _: count.__setitem__(0, count[0] + 1))
        return x, count[0]

    def time_solve(self, impl):
        self._solve(impl)

    def track_iterations(self, impl):
        return self._solve(impl)[1]

    def track_relative_residual(self, impl):
        x = self._solve(impl)[0]
        return float(np.linalg.norm(self.y - self.K @ x - self.mu * x) / np.linalg.norm(self.y))


def _trace_problem():
    if "trace" not in _CACHE:
        lam = 1.0 / np.arange(1, 3001) ** 2
        _CACHE["trace"] = (householder_matrix(lam, 4), lam.sum())
    return _CACHE["trace"]


class TraceHutchpp:
    params = [["hutchpp", "xtrace", "pylops_hutchpp"]]
    param_names = ["impl"]
    timeout = 600

    def setup(self, impl):
        self.A, self.trace = _trace_problem()
        if impl == "pylops_hutchpp":
            self.pylops = require("pylops")
            self.op = self.pylops.MatrixMult(self.A)

    def _estimate(self, impl, seed):
        if impl == "hutchpp":
            return psd.hutchpp(self.A, 300, rng=seed).estimate
        if impl == "xtrace":
            return psd.xtrace(self.A, 300, rng=seed).estimate
        from pylops.utils import trace_hutchpp

        np.random.seed(seed)  # noqa: NPY002 (PyLops draws from NumPy's global generator)
        return trace_hutchpp(self.op, neval=300)

    def time_trace(self, impl):
        self._estimate(impl, 0)

    def track_rms_relative_error(self, impl):
        errs = [(self._estimate(impl, s) - self.trace) / self.trace for s in range(20)]
        return float(np.sqrt(np.mean(np.square(errs))))
