"""The kron-projection reproduction at smoke size: what that size can show."""

from lowrank_la import experiments
from lowrank_la.experiments.kron_projection import SIZES, SPEEDUP, _judge


def test_kron_projection_smoke(smoke_run):
    assert "kron-projection" in experiments.registered()
    result, tmp_path = smoke_run("kron-projection")
    e1 = [r for r in result.table if r["experiment"] == "E1"]
    e2 = [r for r in result.table if r["experiment"] == "E2"]
    # smoke: n = 8, m in {8, 18}, k in {1, 4}, T = 10 steps; E2: n = 8, m = 18, s = 8, T_max = 40
    assert {r["method"] for r in e1} == {"rebuild", "woodbury", "lazy_pcg"}
    assert {(r["n"], r["m"], r["k"]) for r in e1} == {(8, 8, 1), (8, 8, 4), (8, 18, 1), (8, 18, 4), (64, 512, 1)}
    # the speed case: lazy_pcg against rebuild per update + query, at n = 64, m = 512, k = 1 (measured 5.4x to
    # 5.6x here, 5.9x to 6.3x at quick size, 2026-12-06). Speed is measured in asv (benchmarks/projection.py) and
    # judged by the reproduction; here the verdict must follow the ratio, on the run's own table timed both ways
    step = {r["method"]: r["s_per_step"] for r in e1 if r["n"] == 64}
    assert "lazy_pcg is" in result.summary and "Speed NOT shown" not in result.summary
    assert result.claim_held == (step["rebuild"] >= SPEEDUP * step["lazy_pcg"])
    for ratio, speed_held in ((SPEEDUP * 1.02, True), (SPEEDUP * 0.98, False)):
        timed = [dict(r, s_per_step=step["rebuild"] / ratio) if r.get("method") == "lazy_pcg" and r["n"] == 64
                 else r for r in result.table]
        assert _judge(timed, SIZES["smoke"])[0] == speed_held
    assert all(r["max_rel_error"] <= 1e-8 for r in e1)
    assert all(r["factorisations"] == 11 for r in e1 if r["method"] == "rebuild")
    # without the speed case the verdict fails (it had counted as passed)
    held, summary = _judge([r for r in result.table if r["experiment"] != "E1" or r["n"] != 64], SIZES["smoke"])
    assert not held and "Speed NOT shown" in summary
    assert all(r["pcg_products"] > 0 for r in e1 if r["method"] == "lazy_pcg")
    assert len(e2) == 40 and e2[0]["pool_size"] > e2[0]["T_max"]
    late = sum(r["fixed_error"] for r in e2[-10:]) / 10
    assert late > 1.5  # the adversary has learned the fixed sketch's error functional
    assert all(r["robust_error"] <= r["robust_bound"] for r in e2)
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Song, Yang, Yang, Zhang" in (tmp_path / "kron-projection.md").read_text()
