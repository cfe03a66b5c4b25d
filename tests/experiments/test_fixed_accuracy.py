"""The fixed-accuracy reproduction at smoke size: what that size can show."""

import numpy as np

from lowrank_la import experiments
from lowrank_la.experiments.fixed_accuracy import optimal_rank, yu_gu_li_spectrum


def test_optimal_rank_and_spectra():
    s = np.array([4.0, 3.0, 0.0])
    assert optimal_rank(s, 0.0) == 2 and optimal_rank(s, 0.6) == 1 and optimal_rank(s, 1.0) == 0
    assert yu_gu_li_spectrum("Matrix 1", 3).tolist() == [1.0, 0.25, 1 / 9]
    cliff = yu_gu_li_spectrum("Matrix 3", 60)
    assert abs(cliff[29] - (1e-4 + 0.5)) < 1e-12  # j = 30 (1-based) is the midpoint of the cliff


def test_fixed_accuracy_smoke(smoke_run):
    assert "fixed-accuracy" in experiments.registered()
    result, tmp_path = smoke_run("fixed-accuracy")
    assert {r["matrix"] for r in result.table} == {"Matrix 1", "Matrix 2", "Matrix 3"}
    for row in result.table:
        assert row["true_rel_error"] <= row["tau"] * (1 + 1e-6)  # the tolerance is met
        assert row["optimal_rank"] <= row["rank"] <= 1.1 * row["optimal_rank"] + 5  # near-optimal rank
        assert row["converged"]
    assert result.claim_held
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Yu, Gu, Li" in (tmp_path / "fixed-accuracy.md").read_text()
