"""The single-pass reproduction at smoke size: what that size can show."""

import math

import numpy as np

from lowrank_la import experiments
from lowrank_la.experiments.single_pass import (
    ALPHA,
    FLOOR,
    METHODS,
    RANK,
    SIZES,
    _judge,
    _three_oracle_pairs,
    _two_oracle_pairs,
)


def test_single_pass_smoke(smoke_run):
    assert "single-pass" in experiments.registered()
    result, tmp_path = smoke_run("single-pass")
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


def test_oracles_sweep_every_k_and_floor_ties_do_not_favour_the_claim():
    m = n = 150
    for T in (14, 24, 48):
        three = _three_oracle_pairs(T * (m + n), m, n)
        two = _two_oracle_pairs(T * (m + n), m, n)
        budget = T * (m + n)
        core = (lambda k, b=budget: math.isqrt(max(b - k * (m + n), 0)), lambda k, b=budget: (b - k * m) // n)
        need = (lambda k: k + ALPHA, lambda k: k + ALPHA + 1)  # the smallest core size s / co-range size l
        for pairs, size, least in zip((three, two), core, need):
            ks = [k for k, _ in pairs]
            assert ks == list(range(RANK + ALPHA + 1, ks[-1] + 1))  # every k, from the smallest
            assert all(s == size(k) >= least(k) for k, s in pairs)  # the largest s (l) the budget leaves
            assert size(ks[-1] + 1) < least(ks[-1] + 1)  # up to the largest k that fits
    # every method at the rounding floor in every cell: ties, so the claim is not shown
    rows = [{"class": cls, "T_over_mn": T, "method": method, "mean_excess_error": 1e-14}
            for cls in ("A", "B") for T in (14, 24) for method in METHODS]
    held, summary = _judge(rows, SIZES["smoke"])
    assert not held and "strictly lowest in 0/4 cells (4 tied at the floor" in summary
    assert "falls from the smallest to the largest T: NO" in summary
    assert FLOOR > 1e-14
