"""Sphinx configuration for the lowrank_la documentation.

Build from a checkout with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: intersphinx reads the inventories kept in docs/_inventories/ (written by
tools/make_inventories.py), and the theme's external links are not fetched.
"""

import sys
from pathlib import Path

# Build from a checkout without installing: the repository root goes first on sys.path.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lowrank_la  # noqa: E402

# -- Project -------------------------------------------------------------------------------------------------

project = "lowrank_la"
author = "the lowrank_la developers"
copyright = "the lowrank_la developers"
release = lowrank_la.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = []
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "autolink"
nitpicky = False

# autosummary writes one page per documented name into reference/generated/ (gitignored).
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"

# numpydoc renders the docstrings; class members are not listed automatically (each public class documents
# its attributes and methods in its own docstring).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# numpydoc validation (issue 23): "all" checks but the ones named after it. Excluded: ES01 (an extended summary
# on every method and property is noise), EX01 (every public function and class has runnable examples; methods
# and properties need not) and GL01 (the summary starts on the line of the opening quotes, as in scipy). SA01 is
# enforced: every validated docstring, methods and properties included, has a See Also section.
numpydoc_validation_checks = {"all", "ES01", "EX01", "GL01"}


def _validation_exclusions():
    """Names whose docstrings numpydoc must not validate, each for a reason given below."""
    import dataclasses
    import importlib
    import inspect
    import re

    names = []
    for sub in ("", ".svd", ".psd", ".tensor", ".matmul", ".completion", ".sensing", ".factor", ".sketch",
                ".projection", ".sklearn"):
        mod = importlib.import_module("lowrank_la" + sub)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if not isinstance(obj, type):
                continue
            full = re.escape(f"lowrank_la{sub}.{name}")
            # Result types (named tuples, tuple subclasses, dataclasses) are built by the library, not by users:
            # their fields are documented under Attributes, and their generated constructor's parameters are
            # those same fields (PR01 would ask for each twice); the named tuples' generated field accessors
            # carry Python's "Alias for field number i".
            if issubclass(obj, tuple) or dataclasses.is_dataclass(obj):
                names.append(rf"{full}(\.__init__)?")
                names.extend(rf"{full}\.{field}" for field in getattr(obj, "_fields", ()))
            # A constructor inherited from a builtin (dict's, for SolverResult) carries the builtin's docstring.
            elif not inspect.isfunction(obj.__init__):
                names.append(rf"{full}\.__init__")
            # Members inherited unchanged from scikit-learn's base classes carry scikit-learn's docstrings.
            for attr in dir(obj):
                member = getattr(obj, attr, None)
                if not attr.startswith("_") and (getattr(member, "__module__", None) or "").startswith("sklearn."):
                    names.append(rf"{full}\.{attr}")
    return {f"^{n}$" for n in names}


numpydoc_validation_exclude = _validation_exclusions()

# -- intersphinx ---------------------------------------------------------------------------------------------
# Links to other projects' objects (numpy.linalg.svd, scipy.sparse.linalg.LinearOperator, ...) come from the small
# inventories kept in _inventories/, never from the network: each entry is (base URL of the links, local file).
# After referencing a new outside object, rerun ``python tools/make_inventories.py`` (tests/test_inventories.py
# fails until then).
intersphinx_mapping = {
    project: (url, f"_inventories/{project}.inv")
    for project, url in {
        "python": "https://docs.python.org/3/",
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "sklearn": "https://scikit-learn.org/stable/",
        "dask": "https://docs.dask.org/en/stable/",
    }.items()
}
intersphinx_disabled_reftypes = ["std:*"]  # only Python objects link out, never another project's pages or labels
intersphinx_timeout = 1  # the inventories are local files; a remote one would fail fast instead of hanging

# -- HTML ----------------------------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"lowrank_la {release}"
html_static_path = ["_static"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "use_edit_page_button": False,
}
html_context = {"default_mode": "auto"}
html_show_sourcelink = False


# -- Hide the methods that the result types inherit from dict and tuple (clear, copy, count, ...) ---------

def _skip_builtin_member(app, what, name, obj, skip, options):
    """Skip members inherited unchanged from ``dict`` or ``tuple`` (SolverResult, SVDResult)."""
    if name.startswith("__"):
        return None
    for base in (dict, tuple):
        inherited = getattr(base, name, None)
        if inherited is not None and getattr(obj, "__doc__", None) == inherited.__doc__:
            return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_builtin_member)
