"""Sphinx configuration for the lowrank_la documentation.

Build from a checkout with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build needs no network: intersphinx is not configured, and the theme's external links are not fetched.
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
numpydoc_validation_checks = set()

# No intersphinx: the build must not reach the network.

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
