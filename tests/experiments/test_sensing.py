"""The scaledgd-lambda reproduction at smoke size: what that size can show."""

import warnings

import numpy as np

from lowrank_la import experiments
from lowrank_la.experiments import sensing as reproduction
from lowrank_la.sensing import gd, scaled_gd_lambda


def test_scaledgd_lambda_smoke(smoke_run):
    assert "scaledgd-lambda" in experiments.registered()
    result, tmp_path = smoke_run("scaledgd-lambda")
    rows = result.table
    # smoke: n = 12, r* = 2, r = 4, m = 240, kappa in {1, 100}; fixed lam in {0.3, 3, 30} sigma_min; one noisy run
    default = {row["kappa"]: row for row in rows if row["part"] == "noiseless"
               and row["method"] == "ScaledGD(lambda) default"}
    gd = {row["kappa"]: row for row in rows if row["method"] == "GD default"}
    best = {k: min(row["iterations_to_1e-10"] for row in rows if row["method"] == "ScaledGD(lambda) fixed lam"
                   and row["kappa"] == k) for k in (1, 100)}
    assert set(default) == {1, 100} and all(row["reached"] for row in default.values())
    for k in (1, 100):
        assert default[k]["iterations_to_1e-10"] <= 1.5 * best[k]
    # the default is insensitive to kappa; GD (exact rank, spectral start) slows about kappa-fold
    assert default[100]["iterations_to_1e-10"] <= 1.5 * default[1]["iterations_to_1e-10"]
    assert gd[100]["iterations_to_1e-10"] >= 4 * gd[1]["iterations_to_1e-10"]
    (noisy,) = [row for row in rows if row["part"] == "noisy"]
    assert noisy["final_error"] <= 1.5 * noisy["ls_error"]
    assert noisy["n_iter"] <= 1.2 * noisy["iterations_to_1.1x_final"]
    assert result.claim_held
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Xu, Shen, Chi, Ma" in (tmp_path / "scaledgd-lambda.md").read_text()


def test_runs_in_lockstep_are_the_runs_alone():
    op, y, M = reproduction._problem(12, 2, 100, 5)
    calls = [(scaled_gd_lambda, (y, 4), {"truth": M, "rng": 8}),  # stops by its own rule, first
             (gd, (y, 2), {"truth": M, "n_iter": 300}),  # its spectral start: one product more, out of step
             (scaled_gd_lambda, (y, 4), {"lam": 0.03, "truth": M, "n_iter": 600, "rng": 8,
                                         "callback": reproduction._at_target})]
    products = []  # the operator's products, counted on the instance

    def counting(apply):
        def counted(V, xp):
            products.append(V.shape[0])
            return apply(V, xp)
        return counted

    op._forward_rows, op._adjoint_rows = counting(op._forward_rows), counting(op._adjoint_rows)
    together = reproduction._in_lockstep(op, calls)
    batched = len(products)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone, alone_products = [], []
        for func, args, kwargs in calls:
            products.clear()
            alone.append(func(op, *args, **kwargs))
            alone_products.append(len(products))
    assert [res.n_iter for res in together] == [res.n_iter for res in alone]
    # one product per round for all runs: about as many as the longest run alone (620 against 615 measured)
    assert batched <= max(alone_products) + 10
    assert together[0].n_iter < together[1].n_iter == 300 < together[2].n_iter < 600
    for a, b in zip(together, alone):  # the same errors, up to the rounding of differences of O(1) terms
        np.testing.assert_allclose(a.history["error"], b.history["error"], rtol=1e-6, atol=1e-13)
    errors = together[2].history["error"]  # stopped by the callback once below 1e-10
    assert errors[-1] <= reproduction.TARGET < errors[-2]


def test_problems_in_processes_are_the_problems_in_turn():
    cfg = {**reproduction.SIZES["smoke"], "grid": [3.0]}
    jobs = [("noiseless", 12, 2, 1, 5, None), ("noisy", 12, 2, 1, 5, 1e-2)]
    in_turn = reproduction._run_jobs(jobs, cfg, lambda jobs, **_: jobs)
    in_processes = reproduction._run_jobs(jobs, {**cfg, "processes": 2}, lambda jobs, **_: jobs)
    assert [rows for rows, _ in in_processes] == [rows for rows, _ in in_turn]


def test_scaledgd_smoke(smoke_run):
    result, tmp_path = smoke_run("scaledgd")
    its = {(row["method"], row["kappa"]): row["iterations_to_1e-10"] for row in result.table}
    # smoke: n = 20, r = 2, m = 5 n r, kappa in {1, 10}: ScaledGD's count barely moves, GD's grows about kappa-fold
    assert all(row["reached"] for row in result.table if row["method"] == "ScaledGD")
    assert its[("ScaledGD", 10)] <= 1.5 * its[("ScaledGD", 1)]
    assert its[("GD", 10)] >= 4 * its[("GD", 1)]
    assert result.claim_held
    assert "Tong, Ma, Chi" in (tmp_path / "scaledgd.md").read_text()


def test_subgradient_l1_smoke(smoke_run):
    result, tmp_path = smoke_run("subgradient-l1")
    err = {(row["method"], row["outlier_fraction"]): row["final_error"] for row in result.table}
    # smoke: n = 16, r* = 2, m = 20 n r*, kappa = 1; 20% outliers of size 10 ||M||_F
    assert err[("l1 subgradient", 0.0)] < 1e-9 and err[("l1 subgradient", 0.2)] < 1e-8
    assert err[("ScaledGD(lambda) (l2)", 0.0)] < 1e-9  # without outliers the l2 methods recover M too
    assert err[("ScaledGD(lambda) (l2)", 0.2)] > 1e-2 and err[("PrecGD (l2)", 0.2)] > 1e-2
    assert result.claim_held
