"""The fjlt reproduction at smoke size: what that size can show."""

import numpy as np

from lowrank_la import experiments


def test_fjlt_smoke(smoke_run):
    assert "fjlt" in experiments.registered()
    result, tmp_path = smoke_run("fjlt")
    rules = {r["rule"] for r in result.table}
    assert rules == {"ailon-chazelle", "fhl x2", "fhl", "one per row", "quarter per row"}
    by_rule = {rule: [r for r in result.table if r["rule"] == rule] for rule in rules}
    alpha = result.table[0]["alpha"]
    # FHL's P has alpha times fewer nonzeros than Ailon-Chazelle's (binomial counts: within 10%)
    ratio = np.mean([r["nnz_per_row"] for r in by_rule["ailon-chazelle"]]) / np.mean(
        [r["nnz_per_row"] for r in by_rule["fhl"]])
    assert abs(ratio / alpha - 1) < 0.1
    # far below the threshold the embedding breaks down (smoke: 2 seeds, d = 2^12, n = 100, eps = 0.3)
    worst_ac = max(r["max_distortion"] for r in by_rule["ailon-chazelle"])
    best_quarter = min(r["max_distortion"] for r in by_rule["quarter per row"])
    assert best_quarter > 1.5 * worst_ac
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Fandina" in (tmp_path / "fjlt.md").read_text()
