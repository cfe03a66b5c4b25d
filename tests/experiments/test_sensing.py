"""The scaledgd-lambda reproduction at smoke size: what that size can show."""

from lowrank_la import experiments


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
