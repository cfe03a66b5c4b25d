"""The top-level namespace: lazy subpackages and re-exported names."""

import subprocess
import sys

import pytest

import lowrank_la as la


def test_subpackages_and_reexports_resolve():
    assert la.fwht is la.sketch.fwht and la.make_sketch is la.sketch.make_sketch
    assert la.jl_min_dim(100, 0.5) == la.sketch.jl_min_dim(100, 0.5)
    assert {"sketch", "datasets", "experiments", "fwht", "as_operator"} <= set(dir(la))
    assert set(la.__all__) <= set(dir(la))
    for name in la._SUBPACKAGES:
        assert getattr(la, name).__name__ == f"lowrank_la.{name}"
    for name, sub in la._REEXPORTED.items():
        assert getattr(la, name) is getattr(getattr(la, sub), name)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = la.nope


def test_import_does_not_load_numba_kernels():
    code = "import sys, lowrank_la; print('lowrank_la.sketch' in sys.modules, 'numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_typed_marker_is_installed_with_the_package():
    from importlib.resources import files

    assert files("lowrank_la").joinpath("py.typed").is_file()  # PEP 561: type checkers read our annotations
