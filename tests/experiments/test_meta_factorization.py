"""The meta-factorization reproduction at smoke size: what that size can show."""

import math

from lowrank_la import experiments
from lowrank_la.experiments.meta_factorization import network_example


def test_meta_factorization_smoke(smoke_run):
    assert "meta-factorization" in experiments.registered()
    result, tmp_path = smoke_run("meta-factorization")
    rows = result.table
    rec = [r for r in rows if r["part"] == "reconstruction"]
    assert {r["matrix"] for r in rec} == {"randsvd", "cycol", "circul", "camera"}
    # exact at full rank: SVD, CPQR, UTV and the general solution on every matrix (mft.m prints ~1e-14)
    for r in rec:
        if r["level"] == "100%" and r["method"] in ("svd", "cpqr", "utv-svd", "utv-cpqr", "utv-lu",
                                                     "meta general (random B, D, W)"):
            assert r["relative_error"] < 1e-10, r
    general = [r for r in rec if r["method"].startswith("meta general")]
    assert all(r["projector_residual"] < 1e-12 for r in general)
    # Eckart-Young below full rank, and the optimal CUR core never loses to the cross core
    assert all(r["ratio_to_svd"] >= 1 - 1e-9 for r in rec if r["level"] != "100%")
    by_key = {(r["matrix"], r["level"], r["method"]): r["relative_error"] for r in rec}
    for (matrix, level, method), error in by_key.items():
        if method == "cur optimal (uniform)":
            assert error <= by_key[(matrix, level, "cur cross (uniform)")] * (1 + 1e-9) + 1e-14
    pinv = [r for r in rows if r["part"] == "pinv"]
    assert all(r["relative_error"] < 1e-10 for r in pinv if r["method"] == "rank factorization")
    assert all(r["relative_error"] > 1e-2 for r in pinv if r["method"].endswith("lost"))
    assert {p.suffix for p in result.files.values()} == {".csv", ".png", ".md"}
    assert "Karpowicz" in (tmp_path / "meta-factorization.md").read_text()


def test_network_example_prints_the_papers_lines():
    lines = network_example()
    assert [line[0] for line in lines] == [4, 3, 5, 4]
    assert [round(abs(line[3]), 3) for line in lines] == [1.0, 0.0, 1.0, 0.0]
    assert math.isclose(lines[1][1], math.sqrt(390) / 6, rel_tol=1e-12)
    assert math.isclose(lines[1][2], math.sqrt(105) / 3, rel_tol=1e-12)
    assert all(lines[i][1] < 1e-12 and lines[i][2] < 1e-12 for i in (0, 2, 3))
