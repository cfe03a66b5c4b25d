"""The kron-projection reproduction at smoke size: what that size can show."""

from lowrank_la import experiments


def test_kron_projection_smoke(tmp_path):
    assert "kron-projection" in experiments.registered()
    result = experiments.run("kron-projection", size="smoke", out=tmp_path)
    e1 = [r for r in result.table if r["experiment"] == "E1"]
    e2 = [r for r in result.table if r["experiment"] == "E2"]
    # smoke: n = 8, m in {8, 18}, k in {1, 4}, T = 10 steps; E2: n = 8, m = 18, s = 8, T_max = 40
    assert {r["method"] for r in e1} == {"rebuild", "woodbury", "lazy_pcg"}
    assert {(r["m"], r["k"]) for r in e1} == {(8, 1), (8, 4), (18, 1), (18, 4)}
    assert all(r["max_rel_error"] <= 1e-8 for r in e1)
    assert all(r["factorisations"] == 11 for r in e1 if r["method"] == "rebuild")
    assert all(r["pcg_products"] > 0 for r in e1 if r["method"] == "lazy_pcg")
    assert len(e2) == 40 and e2[0]["pool_size"] > e2[0]["T_max"]
    late = sum(r["fixed_error"] for r in e2[-10:]) / 10
    assert late > 1.5  # the adversary has learned the fixed sketch's error functional
    assert all(r["robust_error"] <= r["robust_bound"] for r in e2)
    assert result.claim_held
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Song, Yang, Yang, Zhang" in (tmp_path / "kron-projection.md").read_text()
