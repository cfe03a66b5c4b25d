"""Reproduction ``mlmc-matmul`` at smoke size: the table holds every experiment and its numbers make sense."""

import math

import pytest

from lowrank_la.experiments import run


@pytest.fixture(scope="module")
def result():
    return run("mlmc-matmul", size="smoke")


def test_table_has_every_experiment(result):
    rows = result.table
    assert {r["experiment"] for r in rows} == {"E1", "E2", "E3"}
    assert len({tuple(r) for r in rows}) == 1  # every row has the same keys (one CSV)


def test_single_level_errors_decay_like_inverse_square_root(result):
    e1 = [r for r in result.table if r["experiment"] == "E1" and r["rel_rmse_exact"] != ""]
    for r in e1:
        assert 0.3 < r["rel_rmse"] / r["rel_rmse_exact"] < 2.0  # 3 runs: a loose band around the closed form
    by = {}
    for r in e1:
        by.setdefault((r["problem"], r["method"]), []).append(r)
    for pts in by.values():
        c0, c1 = pts[0]["c"], pts[-1]["c"]
        slope = math.log(pts[-1]["rel_rmse_exact"] / pts[0]["rel_rmse_exact"]) / math.log(c1 / c0)
        assert abs(slope + 0.5) < 0.02


def test_mlmc_rows_are_accurate_and_report_rates(result):
    ml = [r for r in result.table if r["experiment"] in ("E2", "E3")]
    assert len(ml) == 4
    for r in ml:
        assert r["error"] <= 3 * r["eps"]
        assert r["levels"] >= 3 and r["mlmc_cost"] > 0 and r["single_level_cost"] > 0
        assert 0.6 < r["alpha"] < 1.4 and 1.4 < r["beta"] < 2.8


def test_verdict_is_stated_with_numbers(result):
    assert "single/MLMC" in result.summary and "R1" in result.summary
    assert isinstance(result.claim_held, bool)
