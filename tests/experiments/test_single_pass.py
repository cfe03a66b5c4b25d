"""The single-pass reproduction at smoke size: what that size can show."""

import numpy as np

from lowrank_la import experiments
from lowrank_la.experiments.single_pass import METHODS


def test_single_pass_smoke(tmp_path):
    assert "single-pass" in experiments.registered()
    result = experiments.run("single-pass", size="smoke", out=tmp_path)
    assert isinstance(result.claim_held, bool)  # smoke (n = 150, one trial) is too small to decide the claim
    rows = result.table
    assert {r["method"] for r in rows} == set(METHODS)
    for row in rows:
        # nothing beats the best rank-r approximation; every storage budget is respected
        assert row["min_excess_error"] >= -1e-9
        T = row["T_over_mn"] * 2 * row["n"]
        if row["method"].startswith("three"):
            assert row["k"] * 2 * row["n"] + row["s_or_l"] ** 2 <= T
        elif row["method"].startswith("two"):
            assert row["k"] * row["n"] + row["s_or_l"] * row["n"] <= T
    # what smoke can show: the three-sketch error falls as the storage grows, in every class
    for cls in {r["class"] for r in rows}:
        series = [r["mean_excess_error"] for r in sorted(rows, key=lambda r: r["T_over_mn"])
                  if r["class"] == cls and r["method"] == "three (oracle)"]
        assert len(series) >= 2 and series[-1] < series[0]
    # sparse sign test matrices are about as good as Gaussian ones (smoke: within a factor 2)
    ratio = [a["mean_excess_error"] / b["mean_excess_error"] for a in rows for b in rows
             if a["method"] == "three sparse (s=2k+1)" and b["method"] == "three (s=2k+1)"
             and (a["class"], a["T_over_mn"]) == (b["class"], b["T_over_mn"])]
    assert ratio and 0.5 <= np.median(ratio) <= 2.0
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Tropp" in (tmp_path / "single-pass.md").read_text()
