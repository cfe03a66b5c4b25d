"""The altmin reproduction at smoke size: what that size can show."""

from lowrank_la import experiments


def test_altmin_smoke(tmp_path):
    assert "altmin" in experiments.registered()
    result = experiments.run("altmin", size="smoke", out=tmp_path)
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
