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

``RealData`` is the issue-17 panel: the default call ``altmin_complete(X_with_nan)`` (nothing hand-set) against
the baselines a user would otherwise pick, on data where the answer is known:

* two scikit-image pictures (``coffee`` 400 x 600, ``moon`` 512 x 512, grey levels in [0, 1]) and scikit-learn's
  digits (1797 x 64), each with 70% of its entries hidden at random (seed 0); the error is
  ``||(filled - X)_hidden|| / ||X_hidden||``;
* the synthetic recommender ``la.datasets.ratings_matrix(50000, 10000, 1_000_000)`` (power-law degrees, noise
  0.5), 10% of its ratings held out; the error is the RMSE on them.

Implementations: ``default``; ``softimpute_best``, soft-impute (dense SVDs for the pictures and digits, scipy
``svds`` on a sparse-plus-low-rank LinearOperator for the recommender), warm-started along a 16-point lambda
grid, converged at each lambda, keeping the lambda with the smallest hidden-entry error (an oracle: it looks
at the answer); ``iterative_imputer``, scikit-learn's ``IterativeImputer`` at its defaults (digits only: on the
pictures it had not finished after 5 minutes); ``als_best``, AltMin with offsets at hand-set rank and ``reg``
(rank 5 to 20, reg 0.005 to 0.08), the best by the held-out RMSE (recommender only; also an oracle).
``track_error``, ``time_complete`` and ``peakmem_complete`` record them side by side;
``track_softimpute_time_to_default_error`` the seconds the straightforward ``svds`` soft-impute path needs to
reach the default call's held-out RMSE (inf if it never does).

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
                      stall_tol=0.0, solver_tol=1e-8, reg=0.0, rng=0)

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
                      solver_tol=lambda t: max(1e-12, 1e-2 * 0.3**t), reg=0.0, rng=0)

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
                     n_iter=20, tol=0.0, stall_tol=0.0, rng=0)
        return res.U @ res.V.T

    def time_inpaint(self, impl):
        self.run(impl)

    def track_relative_error(self, impl):
        out = self.run(impl)
        return float(np.linalg.norm(out - self.image) / np.linalg.norm(self.image))


# --------------------------------------------------------------------------- issue 17: the real-data panel

PANEL_DATA = ["coffee", "moon", "digits", "recommender"]
PANEL_IMPLS = ["default", "softimpute_best", "iterative_imputer", "als_best"]
LAMBDA_GRID = np.geomspace(0.3, 1e-3, 16)  # fractions of sigma_1 of the zero-filled observations


def panel_problem(name):
    """``(X, observed)``: a dense panel matrix, 70% hidden; or ``(train, (rows, cols, vals))``: the recommender."""
    import lowrank_la as la

    if name == "recommender":
        import scipy.sparse as sp

        R = la.datasets.ratings_matrix(50_000, 10_000, 1_000_000, rng=0).tocoo()
        test = np.random.default_rng(1).random(R.nnz) < 0.1
        train = sp.csr_array((R.data[~test], (R.row[~test], R.col[~test])), shape=R.shape)
        return train, (R.row[test], R.col[test], R.data[test])
    X = la.datasets.digits_matrix() if name == "digits" else la.datasets.image_matrix(name)
    return X, np.random.default_rng(0).random(X.shape) >= 0.7


def hidden_error(name, problem, completed):
    """Relative error on the hidden entries (dense panel), or RMSE on the held-out ratings (recommender)."""
    if name == "recommender":
        rows, cols, vals = problem[1]
        pred = completed(rows, cols)
        return float(np.sqrt(np.mean((pred - vals) ** 2)))
    X, observed = problem
    return float(np.linalg.norm((completed - X)[~observed]) / np.linalg.norm(X[~observed]))


def dense_softimpute_path(X, observed, lams, *, tol=1e-6, max_iter=500):
    """Soft-impute with dense SVDs along `lams` (warm-started), converged at each: ``[(lam, Z), ...]``."""
    Z = np.zeros_like(X)
    out = []
    for lam in lams:
        for _ in range(max_iter):
            U, s, Vt = np.linalg.svd(np.where(observed, X, Z), full_matrices=False)
            r = int(np.sum(s > lam))
            Z_new = (U[:, :r] * (s[:r] - lam)) @ Vt[:r]
            done = np.linalg.norm(Z_new - Z) <= tol * max(np.linalg.norm(Z_new), 1e-300)
            Z = Z_new
            if done:
                break
        out.append((lam, Z.copy()))
    return out


def _sparse_plus_low_rank(S, Us, V):
    """The LinearOperator ``S + Us V^T`` (sparse plus low rank), never formed."""
    from scipy.sparse.linalg import LinearOperator

    St = S.T.tocsr()
    return LinearOperator(S.shape, matvec=lambda x: S @ x + Us @ (V.T @ x),
                          rmatvec=lambda y: St @ y + V @ (Us.T @ y), dtype=np.float64)


def svds_softimpute_path(train, fractions, *, max_rank=60, tol=1e-4, max_iter=100):
    """Straightforward soft-impute on sparse data: each step ``svds`` of the sparse-plus-low-rank operator.

    Centres by the global mean of the ratings; ``lam = fraction * sigma_1`` of the centred observations, warm-
    started along `fractions`. Yields ``(lam, predict, seconds since the start)`` after each lambda converges.
    """
    import time

    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    start = time.perf_counter()
    C = train.tocoo()
    rows, cols = C.row, C.col
    mean = float(C.data.mean())
    vals = C.data - mean
    m, n = train.shape
    sigma1 = float(svds(sp.csr_array((vals, (rows, cols)), shape=(m, n)), k=1, return_singular_vectors=False)[0])
    U, s, V = np.zeros((m, 0)), np.zeros(0), np.zeros((n, 0))
    for lam in sigma1 * np.asarray(fractions):
        for _ in range(max_iter):
            model = np.einsum("tk,tk->t", U[rows] * s, V[cols]) if s.size else 0.0
            S = sp.csr_array((vals - model, (rows, cols)), shape=(m, n))
            U1, s1, Vt1 = svds(_sparse_plus_low_rank(S, U * s, V), k=min(max_rank, s.size + 5, min(m, n) - 1),
                               random_state=0)
            s1 = np.maximum(s1 - lam, 0)
            keep = s1 > 0
            U1, s1, V1 = U1[:, keep], s1[keep], Vt1[keep].T
            old = float(np.sum(s**2))
            cross = float(np.sum((s[:, None] * (U.T @ U1)) * ((V.T @ V1) * s1[None, :]))) if s.size and s1.size \
                else 0.0
            change = np.sqrt(max(old + float(np.sum(s1**2)) - 2 * cross, 0.0) / max(old, 1e-300))
            U, s, V = U1, s1, V1
            if change < tol:
                break
        yield lam, (lambda r, c, Uf=U, sf=s, Vf=V: mean + np.einsum("tk,tk->t", Uf[r] * sf, Vf[c])), \
            time.perf_counter() - start


class RealData:
    params = (PANEL_DATA, PANEL_IMPLS)
    param_names = ["data", "impl"]
    timeout = 3600
    number = 1
    repeat = 1

    def setup(self, data, impl):
        if impl == "iterative_imputer" and data != "digits":
            raise NotImplementedError("IterativeImputer did not finish within 5 minutes on the pictures")
        if impl == "als_best" and data != "recommender":
            raise NotImplementedError("hand-tuned ALS is the recommender's baseline")
        if data != "recommender" or impl == "iterative_imputer":
            require("sklearn")
        if data in ("coffee", "moon"):
            require("skimage")
        self.problem = panel_problem(data)

    def run(self, data, impl):
        """The completed matrix (dense panel) or a predictor ``f(rows, cols)`` (recommender)."""
        problem = self.problem
        if impl == "default":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # users without a training rating
                if data == "recommender":
                    return altmin_complete(problem[0], rng=0).predict
                X, observed = problem
                Xn = np.where(observed, X, np.nan)
                return altmin_complete(Xn, rng=0).fill(Xn)
        if impl == "iterative_imputer":
            require("sklearn.experimental.enable_iterative_imputer")
            impute = require("sklearn.impute")
            X, observed = problem
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return impute.IterativeImputer(random_state=0).fit_transform(np.where(observed, X, np.nan))
        if impl == "als_best":
            best = None
            for rank in (5, 10, 15, 20):
                for reg in (0.005, 0.01, 0.02, 0.04, 0.08):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = altmin_complete(problem[0], rank=rank, reg=reg, offsets=True, method="altmin", rng=0)
                    err = hidden_error(data, problem, res.predict)
                    if best is None or err < best[0]:
                        best = (err, res.predict)
            return best[1]
        # softimpute_best: the oracle lambda of a converged, warm-started path
        if data == "recommender":
            return min(((hidden_error(data, problem, f), f) for _, f, _ in
                        svds_softimpute_path(problem[0], LAMBDA_GRID)), key=lambda t: t[0])[1]
        X, observed = problem
        s1 = np.linalg.norm(np.where(observed, X, 0.0), 2)
        path = dense_softimpute_path(X, observed, s1 * LAMBDA_GRID)
        return min(((hidden_error(data, problem, Z), Z) for _, Z in path), key=lambda t: t[0])[1]

    def time_complete(self, data, impl):
        self.run(data, impl)

    def peakmem_complete(self, data, impl):
        self.run(data, impl)

    def track_error(self, data, impl):
        return hidden_error(data, self.problem, self.run(data, impl))

    track_error.unit = "relative error (pictures, digits) or RMSE (recommender)"


class RecommenderSoftImputeTime:
    """Seconds the straightforward soft-impute path (``svds`` per step) needs to reach the default's RMSE."""

    timeout = 3600
    number = 1
    repeat = 1

    def setup(self):
        self.problem = panel_problem("recommender")

    def track_softimpute_time_to_default_error(self):
        import time

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            target = hidden_error("recommender", self.problem, altmin_complete(self.problem[0], rng=0).predict)
        default_seconds = time.perf_counter() - start
        for _, f, seconds in svds_softimpute_path(self.problem[0], LAMBDA_GRID):
            if hidden_error("recommender", self.problem, f) <= target:
                return seconds / default_seconds
        return float("inf")

    track_softimpute_time_to_default_error.unit = "soft-impute seconds / default seconds"
