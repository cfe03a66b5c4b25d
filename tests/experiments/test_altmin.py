"""The altmin reproduction at smoke size: what that size can show."""

import pytest

from lowrank_la import experiments
from lowrank_la.experiments.altmin import SIZES, _judge


@pytest.fixture(scope="module")
def smoke(smoke_run):
    return smoke_run("altmin")


def test_altmin_smoke(smoke):
    assert "altmin" in experiments.registered()
    result, tmp_path = smoke
    e1 = [r for r in result.table if r["experiment"] == "E1"]

    def lowest(solver, tol):
        return min(r["error"] for r in e1 if r["solver"] == solver and r["solver_tol"] == tol)

    # smoke: m = n = 120, k = 3, kappa = 5, p = 0.35, 15 iterations
    assert lowest("exact", "exact") < 1e-7
    assert 1e-4 < lowest("cg", 1e-2) < 1  # loose CG: a floor set by its tolerance
    assert lowest("cg", "geometric") < 10 * max(lowest("exact", "exact"), 1e-9)  # tightened: converges
    assert lowest("sketch", "geometric") < 10 * max(lowest("exact", "exact"), 1e-9)
    e2 = {(r["rho"], r["split"]): r["success_rate"] for r in result.table if r["experiment"] == "E2"}
    assert e2[(5, False)] >= e2[(5, True)]
    assert {r["solver"] for r in result.table if r["experiment"] == "E3"} == {"exact", "sketch", "cg"}
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Gu, Song, Yin, Zhang" in (tmp_path / "altmin.md").read_text()


def test_altmin_verdict_judges_every_problem_and_lists_the_misses(smoke):
    result = smoke[0]
    assert "all 1 problems judged; exact AltMin missed 1e-8 on 0" in result.summary
    # the same table where exact AltMin stalls at 1e-3 and the scheduled sketch run at 0.5: that problem was
    # left out of the verdict before; now it is judged (0.5 > 10 x 1e-3) and the miss is listed
    rows = []
    for r in result.table:
        if r["experiment"] == "E1" and r["solver"] == "exact":
            r = dict(r, error=max(r["error"], 1e-3))
        elif r["experiment"] == "E1" and (r["solver"], r["solver_tol"]) == ("sketch", "geometric"):
            r = dict(r, error=0.5)
        rows.append(r)
    held, summary = _judge(rows, SIZES["smoke"])
    assert not held
    assert "exact AltMin missed 1e-8 on 1" in summary and "sketch@geometric 5.0e-01 > 1.0e-02" in summary
