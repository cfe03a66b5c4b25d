"""``python -m lowrank_la``: info, list and reproduce, with an empty registry and with a registered experiment."""

import csv
import subprocess
import sys

import pytest

from lowrank_la import __main__ as cli
from lowrank_la import experiments
from lowrank_la.experiments import _registry


@pytest.fixture
def only(monkeypatch):
    """Replace the registry by the experiments a test registers (the real ones are not loaded)."""
    monkeypatch.setattr(_registry, "_REGISTRY", {})
    monkeypatch.setattr(_registry, "_load_all", lambda: None)
    return experiments.register


def _toy(held, *, fail=False, figure=False):
    def run(size="quick", rng=0, progress=None):
        if fail:
            raise RuntimeError("boom")
        rows = [{"n": n, "error": 1.0 / n} for n in progress([1, 2, 4], total=3, desc="toy")]
        fig = None
        if figure:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots()
            ax.plot([r["n"] for r in rows], [r["error"] for r in rows])
        return experiments.ExperimentResult(table=rows, claim_held=held, summary=f"size={size}", figure=fig)

    return run


def test_empty_registry(only, capsys):
    assert cli.main(["list"]) == 0
    assert "No reproductions are registered yet" in capsys.readouterr().out
    assert cli.main(["reproduce"]) == 0
    assert "nothing to run" in capsys.readouterr().out


def test_reproduce_writes_csv_png_and_report(only, tmp_path, capsys):
    only("toy", paper="Toy (2026)", claim="error falls as 1/n")(_toy(True, figure=True))
    assert cli.main(["reproduce", "--size", "smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "held" in out and "toy" in out
    rows = list(csv.DictReader((tmp_path / "toy.csv").open()))
    assert [float(r["error"]) for r in rows] == [1.0, 0.5, 0.25]
    assert (tmp_path / "toy.png").stat().st_size > 1000
    report = (tmp_path / "toy.md").read_text()
    assert "Toy (2026)" in report and "**held**" in report and "size=smoke" in report


def test_a_claim_that_does_not_hold_is_a_result_unless_strict(only, tmp_path, capsys):
    only("nope", paper="P", claim="c")(_toy(False))
    assert cli.main(["reproduce", "--out", str(tmp_path), "--size", "smoke"]) == 0
    assert "NOT held" in capsys.readouterr().out
    assert cli.main(["reproduce", "--out", str(tmp_path), "--size", "smoke", "--strict"]) == 1
    assert "did NOT hold" in (tmp_path / "nope.md").read_text()


def test_an_error_exits_non_zero_and_unknown_names_are_refused(only, tmp_path, capsys):
    only("bad", paper="P", claim="c")(_toy(True, fail=True))
    only("good", paper="P", claim="c")(_toy(True))
    assert cli.main(["reproduce", "--out", str(tmp_path), "--size", "smoke"]) == 1
    out = capsys.readouterr()
    assert "ERROR" in out.out and "boom" in out.err and "held" in out.out  # the others still ran
    assert cli.main(["reproduce", "missing", "--out", str(tmp_path)]) == 2
    assert "unknown reproduction(s): missing" in capsys.readouterr().err


def test_run_validates_its_arguments(only):
    only("toy", paper="P", claim="c")(_toy(True))
    with pytest.raises(ValueError, match=r"^size='huge' must be one of 'smoke', 'quick', 'full'$"):
        experiments.run("toy", size="huge")
    with pytest.raises(ValueError, match=r"^name='nothing' is not a registered reproduction; known: toy$"):
        experiments.run("nothing")
    with pytest.raises(ValueError, match=r"registered already"):
        only("toy", paper="P", claim="c")(_toy(False))


def test_list_shows_paper_and_claim(only, capsys):
    only("toy", paper="Toy (2026)", claim="error falls as 1/n")(_toy(True))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy" in out and "Toy (2026)" in out and "error falls as 1/n" in out


def test_info_reports_the_backends_truthfully(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines()}
    assert "usable" in lines["backend: Numba kernels"]  # numba is a required dependency
    import importlib.util

    cupy_line = lines["backend: CuPy (GPU)"]
    if importlib.util.find_spec("cupy") is None:
        assert "not installed" in cupy_line
    dask_line = lines["backend: Dask"]
    assert ("usable" in dask_line) == (importlib.util.find_spec("dask") is not None)


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "lowrank_la", "--version"], capture_output=True, text=True,
                          check=True)
    assert done.stdout.startswith("lowrank_la ")


@pytest.mark.parametrize("argv", [["--help"], ["reproduce", "--help"]])
def test_help_is_plain_text(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text and ":mod:" not in text  # no reStructuredText
    if argv == ["--help"]:
        assert "python -m lowrank_la: run the paper reproductions" in text
        for command in ("reproduce [NAME ...]", "list\n", "info\n"):
            assert command in text
