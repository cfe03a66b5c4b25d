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

Run: ``asv run --python=same --quick --bench sensing`` and compare the solvers within one run as ratios.
"""

import warnings

import numpy as np

from lowrank_la._backend import ConvergenceWarning
from lowrank_la.sensing import GaussianSensing, gd, precgd, scaled_gd, scaled_gd_lambda, subgradient_l1

R_STAR = 3
CAPS = {"scaled_gd_lambda": 1000, "scaled_gd": 1000, "gd": 2000, "precgd": 1000, "subgradient_l1": 1000}


def _problem(n, kappa, seed=0):
    gen = np.random.default_rng(seed)
    U = np.linalg.qr(gen.standard_normal((n, R_STAR)))[0]
    M = (U * np.linspace(1.0, 1.0 / kappa, R_STAR)) @ U.T
    op = GaussianSensing(n, 10 * n * R_STAR, rng=seed + 1)
    return op, op.forward(M), M


def _solve(solver, op, y, M):
    func = {"scaled_gd_lambda": scaled_gd_lambda, "scaled_gd": scaled_gd, "gd": gd, "precgd": precgd,
            "subgradient_l1": subgradient_l1}[solver]
    kw = {"asymmetric": False} if solver == "scaled_gd" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(op, y, R_STAR, n_iter=CAPS[solver], truth=M, rng=0, **kw)


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
