"""The intersphinx inventories in docs/_inventories/ parse, point where their projects document each object, and
hold every outside name that the docstrings and docs pages reference (tools/make_inventories.py writes them)."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("sphinx")

ROOT = Path(__file__).resolve().parent.parent
INVENTORIES = ROOT / "docs" / "_inventories"


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_inventories", ROOT / "tools" / "make_inventories.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.mark.parametrize("project", sorted(tool.PROJECTS))
def test_inventory_parses(project):
    path = INVENTORIES / f"{project}.inv"
    assert path.read_bytes().startswith(b"# Sphinx inventory version 2\n")
    inventory = tool.load_inventory(path, tool.PROJECTS[project])
    assert inventory, f"{path.name} holds no objects"
    for role, items in inventory.items():
        assert role.startswith("py:"), role
        for name, url in items.items():
            assert url.startswith(tool.PROJECTS[project]), (name, url)
            assert "$" not in url and " " not in url, (name, url)


def test_inventory_urls_follow_each_project():
    """A few objects whose pages are known, one of each URL pattern."""
    expected = {
        ("numpy", "py:function", "numpy.linalg.svd"):
            "https://numpy.org/doc/stable/reference/generated/numpy.linalg.svd.html",
        ("numpy", "py:class", "numpy.random.Generator"):
            "https://numpy.org/doc/stable/reference/random/generator.html#numpy.random.Generator",
        ("scipy", "py:function", "scipy.sparse.linalg.svds"):
            "https://docs.scipy.org/doc/scipy/reference/generated/scipy.sparse.linalg.svds.html",
        ("scipy", "py:class", "scipy.sparse.linalg.LinearOperator"):
            "https://docs.scipy.org/doc/scipy/reference/generated/scipy.sparse.linalg.LinearOperator.html",
        ("sklearn", "py:class", "sklearn.decomposition.TruncatedSVD"):
            "https://scikit-learn.org/stable/modules/generated/sklearn.decomposition.TruncatedSVD.html",
        ("dask", "py:class", "dask.array.Array"): "https://docs.dask.org/en/stable/generated/dask.array.Array.html",
        ("python", "py:exception", "ValueError"): "https://docs.python.org/3/library/exceptions.html#ValueError",
    }
    for (project, role, name), url in expected.items():
        inventory = tool.load_inventory(INVENTORIES / f"{project}.inv", tool.PROJECTS[project])
        assert inventory.get(role, {}).get(name) == url, (project, role, name)


def test_inventories_are_current():
    """Every outside name the sources reference (and that imports here) is in the inventories: after adding a
    reference to another project's object, rerun ``python tools/make_inventories.py``."""
    absent = tool.missing(INVENTORIES, ROOT)
    assert not absent, f"rerun tools/make_inventories.py: missing {absent}"


def test_scan_finds_roles_backticks_and_see_also():
    text = '''
    """Summary, with :func:`numpy.linalg.eigh`, `scipy.linalg.svd`, ``np.kron`` and :class:`dict`.

    See Also
    --------
    numpy.linalg.svd : the dense SVD; mentions sklearn.decomposition.PCA in passing.
    scipy.sparse.linalg.svds, sklearn.decomposition.TruncatedSVD
    rsvd : ours, not an outside name.

    Notes
    -----
    `rsvd` and ``lowrank_la.svd`` are ours; ``dict`` is a literal, not a reference.
    """
    '''
    assert tool.scan_text(text) == {
        "numpy.linalg.eigh", "scipy.linalg.svd", "numpy.kron", "dict", "numpy.linalg.svd",
        "scipy.sparse.linalg.svds", "sklearn.decomposition.TruncatedSVD",
    }


def test_names_that_do_not_import_are_skipped():
    table, skipped = tool.entries({"numpy.linalg.not_a_function", "numpy.linalg.svd"})
    assert skipped == {"numpy.linalg.not_a_function": "does not import"}
    assert table["numpy"] == {"numpy.linalg.svd": ("py:function", "reference/generated/numpy.linalg.svd.html")}
