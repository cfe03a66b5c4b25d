"""Matrix sensing: the solvers of ``lowrank_la.sensing`` beside each other, and the cost of the operator.

No Python peer exists for this family (the reference codes are MATLAB), so the solvers are compared with each
other on the same inputs in one run.

``Solvers`` recovers ``M = U diag(linspace(1, 1/kappa, r*)) U^T`` (Haar U, r* = 3) from ``m = 10 n r*`` symmetric
Gaussian measurements (dense design, packed upper triangles: 120 MB at n = 100), for n in {50, 100} and kappa in
{1, 10, 100}, with each solver at the exact rank ``r = r*`` and its default parameters (``scaled_gd_lambda``:
small random start, ``lam="auto"``; ``scaled_gd`` (PSD form), ``gd`` and ``precgd``: spectral start;
``subgradient_l1``: small start, geometric steps), stopped at a relative residual of 1e-12 or at the iteration
cap (``gd``: 2000 iterations, the others 1000):

* ``time_solve``: the whole solve;
* ``track_iterations_to_1e-10``: iterations until ``||X X^T - M||_F / ||M||_F <= 1e-10`` (the cap + 1 when never);
* ``track_final_error``: that relative error at the end;
* ``peakmem_solve``: peak memory (the design dominates).

``Operator`` times one forward map and one adjoint with the dense and the block-regenerated design.

``Streamed`` is the large problem: n = 500, r* = 2, m = 10 n r* = 10000 symmetric Gaussian measurements whose
design (10000 x 125250, 10 GB in float64) is never stored but regenerated block by block from counter-based
streams at every application of ``A`` or ``A*`` (1.25e9 normals each, about 200 s on one core of the
development machine). ``time_iteration`` is one call with ``n_iter=1`` from a given small start: the initial
residual (one ``A``) and one iteration (one ``A*``, one ``A``); ``gd`` also applies ``A*`` once to ``y`` for its
step ``eta / sigma_hat_1``. ``track_iterations_to_1e_10`` counts, beside it, the iterations each solver needs
with its defaults at the exact rank on the same kind of problem with the design stored (n = 100, m = 2000; the
count does not depend on the storage, which gives the same design bit for bit).

Run: ``asv run --python=same --quick --bench sensing`` and compare the solvers within one run as ratios.
"""

import warnings

import numpy as np

from lowrank_la._backend import ConvergenceWarning
from lowrank_la.sensing import GaussianSensing, gd, precgd, scaled_gd, scaled_gd_lambda, subgradient_l1

R_STAR = 3
CAPS = {"scaled_gd_lambda": 1000, "scaled_gd": 1000, "gd": 2000, "precgd": 1000, "subgradient_l1": 1000}


def _problem(n, kappa, seed=0):
    M = _psd(n, R_STAR, kappa, seed)
    op = GaussianSensing(n, 10 * n * R_STAR, rng=seed + 1)
    return op, op.forward(M), M


def _psd(n, r_star, kappa, seed):
    gen = np.random.default_rng(seed)
    U = np.linalg.qr(gen.standard_normal((n, r_star)))[0]
    return (U * np.linspace(1.0, 1.0 / kappa, r_star)) @ U.T


def _solve(solver, op, y, M):
    return _one_call(solver, op, y, R_STAR, M=M, n_iter=CAPS[solver])


class Solvers:
    params = ([50, 100], [1, 10, 100], list(CAPS))
    param_names = ["n", "kappa", "solver"]
    timeout = 900
    number = 1
    repeat = 1

    def setup(self, n, kappa, solver):
        self.op, self.y, self.M = _problem(n, kappa)

    def time_solve(self, n, kappa, solver):
        _solve(solver, self.op, self.y, self.M)

    def peakmem_solve(self, n, kappa, solver):
        _solve(solver, self.op, self.y, self.M)

    def track_iterations_to_1e_10(self, n, kappa, solver):
        errors = np.asarray(_solve(solver, self.op, self.y, self.M).history["error"])
        hit = np.flatnonzero(errors <= 1e-10)
        return int(hit[0]) if hit.size else CAPS[solver] + 1

    def track_final_error(self, n, kappa, solver):
        return float(_solve(solver, self.op, self.y, self.M).history["error"][-1])


class Operator:
    params = ([50, 100], ["dense", "blocks"])
    param_names = ["n", "storage"]
    timeout = 300

    def setup(self, n, storage):
        self.op = GaussianSensing(n, 10 * n * R_STAR, storage=storage, rng=0)
        gen = np.random.default_rng(1)
        self.X = gen.standard_normal((n, n))
        self.z = gen.standard_normal(self.op.n_measurements)

    def time_forward(self, n, storage):
        self.op.forward(self.X)

    def time_adjoint(self, n, storage):
        self.op.adjoint(self.z)


SOLVERS = {"scaled_gd_lambda": scaled_gd_lambda, "scaled_gd": scaled_gd, "gd": gd, "precgd": precgd,
           "subgradient_l1": subgradient_l1}
STREAMED = {"n": 500, "r_star": 2, "kappa": 10, "twin_n": 100}


def _one_call(solver, op, y, r, M=None, x0=None, n_iter=1):
    """``solver`` from the start `x0` (its default start when None) with PSD factors and `n_iter` iterations."""
    func = SOLVERS[solver]
    kw = {"truth": M, "n_iter": n_iter}
    if x0 is not None:
        kw["x0" if solver in ("scaled_gd_lambda", "subgradient_l1") else "init"] = x0
    if solver == "scaled_gd":
        kw["asymmetric"] = False
    if solver in ("scaled_gd_lambda", "subgradient_l1"):
        kw["rng"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(op, y, r, **kw)


class Streamed:
    params = [list(SOLVERS)]
    param_names = ["solver"]
    timeout = 3600  # one timed call applies the regenerated design three or four times (about 200 s each)
    number = 1
    repeat = 1
    warmup_time = 0

    def setup_cache(self):
        n, r_star = STREAMED["n"], STREAMED["r_star"]
        op = GaussianSensing(n, 10 * n * r_star, storage="blocks", rng=1)
        y = op.forward(_psd(n, r_star, STREAMED["kappa"], 0))
        x0 = 1e-3 * np.random.default_rng(2).standard_normal((n, r_star)) / np.sqrt(n)
        twin_n = STREAMED["twin_n"]
        twin = GaussianSensing(twin_n, 10 * twin_n * r_star, rng=3)
        M_twin = _psd(twin_n, r_star, STREAMED["kappa"], 4)
        return op, y, x0, twin, twin.forward(M_twin), M_twin

    def time_iteration(self, cache, solver):
        op, y, x0 = cache[:3]
        _one_call(solver, op, y, STREAMED["r_star"], x0=x0)

    def track_iterations_to_1e_10(self, cache, solver):
        twin, y, M = cache[3:]
        errors = np.asarray(_one_call(solver, twin, y, STREAMED["r_star"], M=M, n_iter=CAPS[solver]).history["error"])
        hit = np.flatnonzero(errors <= 1e-10)
        return int(hit[0]) if hit.size else CAPS[solver] + 1

    track_iterations_to_1e_10.unit = "iterations"
