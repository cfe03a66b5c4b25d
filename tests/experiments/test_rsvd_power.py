"""The rsvd-power reproduction at smoke size: what that size can show."""

import numpy as np

from lowrank_la import experiments


def test_rsvd_power_smoke(smoke_run):
    assert "rsvd-power" in experiments.registered()
    result, tmp_path = smoke_run("rsvd-power")
    spectra = {r["spectrum"] for r in result.table}
    assert len(spectra) == 2
    for name in spectra:
        rows = [r for r in result.table if r["spectrum"] == name]
        # no rank-l basis beats sigma_{l+1} (Eckart-Young), whatever q and the seed
        assert all(r["error"] >= r["sigma_l1"] * (1 - 1e-8) for r in rows)
        qs = sorted({r["q"] for r in rows})
        median = {q: np.median([r["ratio"] for r in rows if r["q"] == q]) for q in qs}
        # power iterations help: the error falls from q = 0 to the largest q
        assert median[qs[-1]] < median[qs[0]]
        # HMT's Corollary 10.10 bound on the mean error holds at every q (loose; 5% slack for 3 seeds)
        for q in qs:
            cell = [r for r in rows if r["q"] == q]
            assert np.mean([r["error"] for r in cell]) <= 1.05 * cell[0]["hmt_bound"]
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Halko" in (tmp_path / "rsvd-power.md").read_text()
