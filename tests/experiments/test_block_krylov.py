"""The block-krylov reproduction at smoke size: what that size can show."""

import numpy as np

from lowrank_la import experiments


def test_block_krylov_smoke(tmp_path):
    assert "block-krylov" in experiments.registered()
    result = experiments.run("block-krylov", size="smoke", out=tmp_path)
    assert {r["method"] for r in result.table} == {"simultaneous iteration", "block Krylov"}
    for row in result.table:
        # Eckart-Young: no rank-k basis beats the optimal errors (up to rounding)
        assert row["spectral"] >= -1e-8 and row["frobenius"] >= -1e-8
        assert row["matvecs"] > 0
    for matrix in {r["matrix"] for r in result.table}:
        for method in ("simultaneous iteration", "block Krylov"):
            rows = [r for r in result.table if r["matrix"] == matrix and r["method"] == method]
            iters = sorted({r["n_iter"] for r in rows})
            per_vector = {q: np.median([r["per_vector"] for r in rows if r["n_iter"] == q]) for q in iters}
            matvecs = {q: np.median([r["matvecs"] for r in rows if r["n_iter"] == q]) for q in iters}
            # more iterations cost more products and give a smaller per-vector error
            assert matvecs[iters[-1]] > matvecs[iters[0]]
            assert per_vector[iters[-1]] < per_vector[iters[0]]
        # block Krylov gets the per-vector error below 0.1 within its small grid (smoke: k = 10, <= 6 steps)
        bk = [r for r in result.table if r["matrix"] == matrix and r["method"] == "block Krylov"]
        iters = {r["n_iter"] for r in bk}
        assert min(np.median([r["per_vector"] for r in bk if r["n_iter"] == q]) for q in iters) < 0.1
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Musco" in (tmp_path / "block-krylov.md").read_text()
