"""Matrix completion: AltMin half-steps (exact, sketched, warm-started CG), full AltMin, and SoftImpute.

``HalfStep`` times one V half-step (one regression per column) at the issue's size, m = n = 3000 and
|Omega| = 600,000 (about 200 observations per column), for k in {32, 128}, from a state near the solution (the
design is the truth's column space perturbed by 1e-3, the warm start is the previous solution rotated into it):

* ``time_half_step``: the half-step, each solver at ``solver_tol = 1e-8``; ``cg`` runs its default 8 steps per
  column, ``sketch`` falls back to the exact solve for columns with ``N_j <= 4k`` (all of them at k = 128: the
  cost model says sketching pays only where ``N_j >> k``);
* ``track_relative_error_vs_exact``: ``||X - X_exact||_F / ||X_exact||_F`` of the half-step's solution.

``AltMin`` runs the whole iteration (10 iterations, from the SVD initialisation) on the same sizes and records
the final relative error ``||U V^T - M||_F / ||M||_F`` (factored form) next to the time. At k = 128,
``|Omega| = 600,000 < k (m + n - k) = 751,616``: the problem is under-determined and no method can recover M;
the error is recorded to compare the solvers with each other, not with the truth. k = 32 (rho = 3.2) is
recoverable.

``SoftImputePeer`` completes m = n = 1000, k = 10, p = 0.1 (the E1 setting) with AltMin (exact and CG) and with
SoftImpute (fancyimpute's when it installs; otherwise the same iteration written here on scikit-learn's
``randomized_svd``, with fancyimpute's defaults: shrinkage sigma_max / 50, 100 iterations, convergence
threshold 1e-3), recording the time and the final error.

``Inpainting`` fills in ``skimage.data.camera()`` (512 x 512, float in [0, 1]) from 20% of its pixels with rank
30 AltMin (reg 1e-3) and SoftImpute, recording the relative error on all pixels.

Run: ``asv run --python=same --quick --bench completion`` and compare the solvers within one run as ratios.
"""

import warnings

import numpy as np

from lowrank_la._backend import ConvergenceWarning
from lowrank_la.completion import (
    altmin_complete,
    completion_error,
    half_step,
    parse_observations,
    sampled_product,
    segment_ridges,
)

from .common import require

SOLVERS = ["exact", "cg", "sketch"]
MAXITER = {"exact": 0, "cg": 8, "sketch": 100}


def _problem(m, n, k, n_obs, seed=0):
    gen = np.random.default_rng(seed)
    L = np.linalg.qr(gen.standard_normal((m, k)))[0]
    R = np.linalg.qr(gen.standard_normal((n, k)))[0] * np.sqrt(m * n / k)  # entries of order 1
    lin = gen.choice(m * n, n_obs, replace=False)
    rows, cols = np.divmod(lin, n)
    return rows, cols, sampled_product(L, R, rows, cols), (L, R)


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return altmin_complete(*args, **kwargs)


class HalfStep:
    params = ([32, 128], SOLVERS)
    param_names = ["k", "solver"]
    timeout = 600
    number = 1
    repeat = 3

    def setup(self, k, solver):
        m = n = 3000
        rows, cols, vals, (L, R) = _problem(m, n, k, 600_000)
        self.obs = parse_observations(rows, cols, vals, (m, n))
        gen = np.random.default_rng(1)
        self.U = np.ascontiguousarray(np.linalg.qr(L + 1e-3 * gen.standard_normal(L.shape) / np.sqrt(m))[0])
        self.warm = np.ascontiguousarray(R @ (L.T @ self.U))
        self.ridge = segment_ridges(self.obs.by_col, k, m)
        self.solver = solver
        self.run()  # compile, warm the caches

    def run(self):
        return half_step(self.U, self.obs.by_col, solver=self.solver, warm=self.warm, tol=1e-8,
                         maxiter=MAXITER[self.solver], ridge=self.ridge, seed=1)[0]

    def time_half_step(self, k, solver):
        self.run()

    def track_relative_error_vs_exact(self, k, solver):
        exact = half_step(self.U, self.obs.by_col, warm=self.warm, tol=0.0, ridge=self.ridge)[0]
        return float(np.linalg.norm(self.run() - exact) / np.linalg.norm(exact))


class AltMin:
    params = ([32, 128], SOLVERS)
    param_names = ["k", "solver"]
    timeout = 1200
    number = 1
    repeat = 1

    def setup(self, k, solver):
        self.rows, self.cols, self.vals, self.truth = _problem(3000, 3000, k, 600_000)

    def run(self, k, solver):
        return _quiet(self.rows, self.cols, self.vals, (3000, 3000), k, solver=solver, n_iter=10, tol=0.0,
                      solver_tol=1e-8, rng=0)

    def time_altmin(self, k, solver):
        self.run(k, solver)

    def track_final_error(self, k, solver):
        res = self.run(k, solver)
        return completion_error(res.U, res.V, self.truth)


def _soft_impute(rows, cols, vals, shape, rank, *, max_iters=100, threshold=1e-3, rng=0):
    """fancyimpute's SoftImpute iteration (zero fill, shrinkage sigma_max / 50), on sklearn's randomized_svd."""
    fancy = None
    try:
        fancy = require("fancyimpute")
    except NotImplementedError:
        pass
    if fancy is not None:
        X = np.full(shape, np.nan)
        X[rows, cols] = vals
        return fancy.SoftImpute(max_rank=rank, verbose=False).fit_transform(X)
    randomized_svd = require("sklearn.utils.extmath").randomized_svd
    X = np.zeros(shape)
    X[rows, cols] = vals
    observed = np.zeros(shape, dtype=bool)
    observed[rows, cols] = True
    shrink = np.linalg.norm(X, 2) / 50
    Z = X.copy()
    for _ in range(max_iters):
        U, s, Vt = randomized_svd(X, rank, n_iter=1, random_state=rng)
        s = np.maximum(s - shrink, 0)
        Z_new = (U * s) @ Vt
        change = np.linalg.norm(Z_new - Z) ** 2 / max(np.linalg.norm(Z) ** 2, 1e-300)
        Z = Z_new
        X = np.where(observed, X, Z)
        if change < threshold:
            break
    return Z


class SoftImputePeer:
    params = (["altmin_exact", "altmin_cg", "softimpute"],)
    param_names = ["impl"]
    timeout = 600
    number = 1
    repeat = 2

    def setup(self, impl):
        n, k = 1000, 10
        gen = np.random.default_rng(0)
        L = np.linalg.qr(gen.standard_normal((n, k)))[0] * np.linspace(1, 0.2, k)
        R = np.linalg.qr(gen.standard_normal((n, k)))[0]
        lin = gen.choice(n * n, n * n // 10, replace=False)
        self.rows, self.cols = np.divmod(lin, n)
        self.vals = sampled_product(L, R, self.rows, self.cols)
        self.truth, self.k, self.shape = (L, R), k, (n, n)
        if impl == "softimpute":
            require("sklearn")

    def run(self, impl):
        if impl == "softimpute":
            return _soft_impute(self.rows, self.cols, self.vals, self.shape, self.k)
        return _quiet(self.rows, self.cols, self.vals, self.shape, self.k, solver=impl.split("_")[1], tol=1e-10,
                      solver_tol=lambda t: max(1e-12, 1e-2 * 0.3**t), rng=0)

    def time_complete(self, impl):
        self.run(impl)

    def track_final_error(self, impl):
        out = self.run(impl)
        if impl == "softimpute":
            L, R = self.truth
            M = L @ R.T
            return float(np.linalg.norm(out - M) / np.linalg.norm(M))
        return completion_error(out.U, out.V, self.truth)


class Inpainting:
    params = (["altmin_exact", "altmin_cg", "softimpute"],)
    param_names = ["impl"]
    timeout = 600
    number = 1
    repeat = 1

    def setup(self, impl):
        data = require("skimage.data")
        self.image = data.camera().astype(np.float64) / 255.0
        m, n = self.image.shape
        lin = np.random.default_rng(0).choice(m * n, m * n // 5, replace=False)
        self.rows, self.cols = np.divmod(lin, n)
        self.vals = self.image[self.rows, self.cols]

    def run(self, impl):
        if impl == "softimpute":
            return _soft_impute(self.rows, self.cols, self.vals, self.image.shape, 30)
        res = _quiet(self.rows, self.cols, self.vals, self.image.shape, 30, solver=impl.split("_")[1], reg=1e-3,
                     n_iter=20, tol=0.0, rng=0)
        return res.U @ res.V.T

    def time_inpaint(self, impl):
        self.run(impl)

    def track_relative_error(self, impl):
        out = self.run(impl)
        return float(np.linalg.norm(out - self.image) / np.linalg.norm(self.image))
