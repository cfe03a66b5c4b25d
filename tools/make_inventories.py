"""Write the intersphinx inventories that the documentation build reads from ``docs/_inventories/``.

The documentation build must not reach the network, so ``docs/conf.py`` points intersphinx at small inventory
files kept in the repository instead of the projects' ``objects.inv``. This script writes them: it collects the
external names our documentation references (roles such as ``:func:`numpy.linalg.eigh```, single- and
double-backticked dotted names and the entries of numpydoc "See Also" sections, in the docstrings of
``lowrank_la`` and in ``docs/**/*.rst``), adds the public names of the modules our peers' comparisons use most
(``numpy.linalg``, ``scipy.linalg``, ``scipy.sparse.linalg``, ``sklearn.decomposition``, ``dask.array.linalg``,
so that a new "See Also" entry to one of them links without a rerun), keeps those that import, and writes one
Sphinx inventory (version 2, zlib-compressed) per project, mapping each object to the page the project's own
documentation gives it.

Run from the repository root after adding references to other projects' objects::

    python tools/make_inventories.py            # rewrites docs/_inventories/*.inv
    python tools/make_inventories.py --check    # exit 1 if a referenced name is missing from them

``tests/test_inventories.py`` runs the same check.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import re
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVENTORY_DIR = ROOT / "docs" / "_inventories"

#: Each project: the packages whose names it documents, and the base URL of its documentation (the one that
#: docs/conf.py's intersphinx_mapping gives; the inventories' locations are relative to it).
PROJECTS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "dask": "https://docs.dask.org/en/stable/",
}
ALIASES = {"np": "numpy", "sp": "scipy.sparse", "da": "dask.array"}

#: Modules whose public names are written whether or not a page references them yet: all the names a module
#: defines itself (its ``__all__``, less what it imports from elsewhere), or the ones listed (dask.array.linalg
#: has no ``__all__``; these are the ones dask's API page documents).
SEED_MODULES = {
    "numpy.linalg": None,
    "scipy.linalg": None,
    "scipy.sparse.linalg": None,
    "sklearn.decomposition": None,
    "dask.array.linalg": ("cholesky", "inv", "lstsq", "lu", "norm", "qr", "sfqr", "solve", "solve_triangular",
                          "svd", "svd_compressed", "tsqr"),
}
#: Names written whether or not a page references them yet (the peers the docs compare against).
SEED_NAMES = ("numpy.random.Generator", "numpy.random.default_rng", "numpy.ndarray",
              "scipy.sparse.linalg.LinearOperator", "scipy.sparse.csr_array", "scipy.sparse.csr_matrix",
              "sklearn.utils.extmath.randomized_svd", "dask.array.Array",
              # python: the builtins and standard-library names that numpydoc type lines use
              "int", "float", "complex", "bool", "str", "bytes", "dict", "list", "tuple", "set", "slice",
              "callable", "None", "True", "False", "ValueError", "TypeError", "RuntimeError",
              "NotImplementedError", "MemoryError", "UserWarning", "RuntimeWarning", "collections.abc.Callable",
              "collections.abc.Iterable", "collections.abc.Mapping", "collections.abc.Sequence",
              "concurrent.futures.ThreadPoolExecutor", "os.PathLike", "pathlib.Path", "typing.Any")

# ---------------------------------------------------------------------------------------------------------
# Collecting the referenced names
# ---------------------------------------------------------------------------------------------------------

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_IDENT}(?:\.{_IDENT})*"
# :role:`target`, :role:`~target`, :role:`text <target>`, :py:role:`target`
_ROLE = re.compile(rf":(?:py:)?(func|class|meth|mod|obj|data|attr|exc|const):`(?:[^`<]*<)?[~!]?({_DOTTED})>?`")
# `target` with the default role (autolink); not ``literal`` and not a role's target
_SINGLE = re.compile(rf"(?<![`:\w])`[~!]?({_DOTTED})`(?![`_])")
# ``target`` (literal today; becomes a link if it is written with single backticks)
_LITERAL = re.compile(rf"``({_DOTTED})``")
# a numpydoc "See Also" section: its body runs to the next section header, the docstring's end or the file's
_SEE_ALSO = re.compile(r"^([ \t]*)See Also[ \t]*\n[ \t]*-{3,}[ \t]*\n(.*?)"
                       r"(?=\n\s*\n\s*[A-Z][A-Za-z ]+\n\s*-{3,}|\"\"\"|\Z)", re.S | re.M)
_SEE_ALSO_ENTRY = re.compile(rf"^\s*((?::\w+:`)?[~]?{_DOTTED}`?(?:\s*,\s*(?::\w+:`)?[~]?{_DOTTED}`?)*)\s*(?::|$)")


def source_files(root: Path = ROOT) -> list[Path]:
    """The files whose text is scanned: the package's modules and the documentation's reST pages."""
    files = sorted((root / "lowrank_la").rglob("*.py"))
    for path in sorted((root / "docs").rglob("*.rst")):
        parts = path.relative_to(root / "docs").parts
        if parts[0] in ("_build", "_templates") or parts[:2] == ("reference", "generated"):
            continue
        files.append(path)
    return files


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _expand(name: str) -> str:
    top, _, rest = name.partition(".")
    if top in ALIASES:
        return ALIASES[top] + ("." + rest if rest else "")
    return name


def project_of(name: str) -> str | None:
    """The project that documents `name` (a full dotted name), or None for a name of no known project."""
    top = _top(name)
    if top in ("numpy", "scipy", "dask"):
        return top
    if top == "sklearn":
        return "sklearn"
    if top in sys.stdlib_module_names and top not in ("test", "this", "antigravity"):
        return "python"
    if "." not in name and (isinstance(getattr(builtins, name, None), type | type(len))
                            or name in ("None", "True", "False", "NotImplemented", "Ellipsis")):
        return "python"
    return None


def scan_text(text: str) -> set[str]:
    """The candidate external names in one file's text (not yet checked to import)."""
    found: set[str] = set()
    for _role, target in _ROLE.findall(text):
        found.add(target)
    found.update(name for name in _SINGLE.findall(text) if "." in name)
    found.update(name for name in _LITERAL.findall(text) if "." in name)
    for match in _SEE_ALSO.finditer(text):
        for line in match.group(2).splitlines():
            entry = _SEE_ALSO_ENTRY.match(line)
            # entries sit at the section's indentation; their descriptions are indented further
            if entry and len(line) - len(line.lstrip()) == len(match.group(1)):
                for part in entry.group(1).split(","):
                    part = re.sub(r"^:\w+:`|`$", "", part.strip()).lstrip("~")
                    if part:
                        found.add(part)
    names = set()
    for name in found:
        name = _expand(name)
        if "." in name:
            if project_of(name) is not None:
                names.add(name)
        elif project_of(name) == "python":
            # A bare builtin counts only as a role's target (``:class:`dict```), never as a backticked word.
            if re.search(rf":(?:py:)?(?:func|class|exc|obj|data|const):`[~]?{re.escape(name)}`", text):
                names.add(name)
    return names


def referenced_names(root: Path = ROOT) -> set[str]:
    """Every external name (of python, numpy, scipy, scikit-learn or dask) that the sources reference."""
    names: set[str] = set()
    for path in source_files(root):
        names |= scan_text(path.read_text(encoding="utf-8"))
    return names


# ---------------------------------------------------------------------------------------------------------
# Resolving a name: the object, its kind, its page
# ---------------------------------------------------------------------------------------------------------

def resolve(name: str):
    """``(module_name, owner, obj)`` for the importable `name`: the longest importable module prefix, the class
    that holds `obj` when `obj` is a class member (else None), and the object; None when it does not import."""
    if "." not in name:
        if hasattr(builtins, name):
            return "builtins", None, getattr(builtins, name)
        try:
            return name, None, importlib.import_module(name)
        except ImportError:
            return None
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        modname = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(modname)
        except Exception:  # noqa: BLE001 - any failure to import means "not this prefix"
            continue
        owner = None
        try:
            for attr in parts[cut:]:
                owner = obj
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        if not isinstance(owner, type):
            owner = None
        return modname, owner, obj
    return None


def role_of(obj, owner) -> str:
    """The py domain role under which the object is written (what :func:, :class:, ... look for)."""
    if inspect.ismodule(obj):
        return "py:module"
    if isinstance(obj, type):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if owner is not None:
        return "py:method" if callable(obj) else "py:attribute"
    if callable(obj):
        return "py:function"
    return "py:data"


_NUMPY_RANDOM_PAGES = {
    "numpy.random": "reference/random/index.html#module-numpy.random",
    "numpy.random.Generator": "reference/random/generator.html#numpy.random.Generator",
    "numpy.random.default_rng": "reference/random/generator.html#numpy.random.default_rng",
    "numpy.random.RandomState": "reference/random/legacy.html#numpy.random.RandomState",
    "numpy.random.SeedSequence": "reference/random/bit_generators/generated/numpy.random.SeedSequence.html",
    "numpy.random.BitGenerator": "reference/random/bit_generators/generated/numpy.random.BitGenerator.html",
    "numpy.random.PCG64": "reference/random/bit_generators/pcg64.html#numpy.random.PCG64",
}
_MODULE_PAGES = {
    "numpy": "reference/index.html#module-numpy",
    "numpy.linalg": "reference/routines.linalg.html#module-numpy.linalg",
    "dask": "index.html",
    "dask.array": "array.html",
    "dask.array.linalg": "array-api.html#linear-algebra",
    "dask.delayed": "delayed.html",
    "dask.dataframe": "dataframe.html",
}
_PYTHON_BUILTIN_TYPE_PAGES = {"dict": "stdtypes", "list": "stdtypes", "tuple": "stdtypes", "set": "stdtypes",
                              "frozenset": "stdtypes", "str": "stdtypes", "range": "stdtypes",
                              "memoryview": "stdtypes", "bytearray": "stdtypes"}


def location_of(name: str, modname: str, owner, obj) -> str | None:
    """The object's page relative to its project's base URL, or None when the project gives it no page we know
    (then the name is left out)."""
    project = project_of(name)
    kind = role_of(obj, owner)
    if project == "python":
        if modname == "builtins":
            if isinstance(obj, type) and issubclass(obj, BaseException):
                return f"library/exceptions.html#{name}"
            if name in ("None", "True", "False", "NotImplemented", "Ellipsis"):
                return f"library/constants.html#{name}"
            return f"library/{_PYTHON_BUILTIN_TYPE_PAGES.get(name, 'functions')}.html#{name}"
        page = name if kind == "py:module" else modname
        anchor = f"module-{name}" if kind == "py:module" else name
        return f"library/{page}.html#{anchor}"
    if project == "numpy":
        if name in _NUMPY_RANDOM_PAGES:
            return _NUMPY_RANDOM_PAGES[name]
        if kind == "py:module":
            return _MODULE_PAGES.get(name)
        if name.startswith("numpy.random."):
            return f"reference/random/generated/{name}.html"
        if kind == "py:data":
            return f"reference/constants.html#{name}"
        return f"reference/generated/{name}.html"
    if project == "scipy":
        if kind == "py:module":
            return f"reference/{name.removeprefix('scipy.') or 'index'}.html#module-{name}"
        return f"reference/generated/{name}.html"
    if project == "sklearn":
        if kind == "py:module":
            return f"api/{name}.html"
        if owner is not None:  # scikit-learn writes a class's methods on the class's page
            return f"modules/generated/{name.rsplit('.', 1)[0]}.html#{name}"
        return f"modules/generated/{name}.html"
    if project == "dask":
        if kind == "py:module":
            return _MODULE_PAGES.get(name)
        return f"generated/{name}.html"
    return None


# ---------------------------------------------------------------------------------------------------------
# The inventories
# ---------------------------------------------------------------------------------------------------------

def seed_names() -> set[str]:
    """The names written whether or not a page references them yet."""
    names = set(SEED_NAMES)
    for modname, listed in SEED_MODULES.items():
        try:
            module = importlib.import_module(modname)
        except ImportError:
            continue
        public = listed or getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for attr in public:
            obj = getattr(module, attr, None)
            if obj is None or inspect.ismodule(obj):
                continue
            # a name the module imports from elsewhere is documented there, not under this module
            if listed is None and not (getattr(obj, "__module__", None) or "").startswith(modname):
                continue
            names.add(f"{modname}.{attr}")
    return names


def entries(names) -> tuple[dict[str, dict[str, tuple[str, str]]], dict[str, str]]:
    """``({project: {name: (role, location)}}, {skipped name: why})`` for `names`."""
    table: dict[str, dict[str, tuple[str, str]]] = {project: {} for project in PROJECTS}
    skipped: dict[str, str] = {}
    for name in sorted(names):
        resolved = resolve(name)
        if resolved is None:
            skipped[name] = "does not import"
            continue
        modname, owner, obj = resolved
        location = location_of(name, modname, owner, obj)
        if location is None:
            skipped[name] = "no known page in its project's documentation"
            continue
        table[project_of(name)][name] = (role_of(obj, owner), location)
    return table, skipped


def inventory_bytes(project: str, version: str, items: dict[str, tuple[str, str]]) -> bytes:
    """A Sphinx inventory (version 2): four header lines, then the zlib-compressed entries."""
    header = ("# Sphinx inventory version 2\n"
              f"# Project: {project}\n"
              f"# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    lines = []
    for name, (role, location) in sorted(items.items()):
        if location.endswith(name):  # Sphinx expands a location's trailing "$" into the name
            location = location[: -len(name)] + "$"
        lines.append(f"{name} {role} 1 {location} -\n")
    return header + zlib.compress("".join(lines).encode(), 9)


def _version(project: str) -> str:
    if project == "python":
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        version = importlib.import_module(project).__version__
    except (ImportError, AttributeError):
        return ""
    return ".".join(version.split(".")[:2])


def load_inventory(path: Path, uri: str) -> dict[str, dict[str, str]]:
    """``{role: {name: full URL}}`` of the inventory file at `path`, read by Sphinx's own parser."""
    import io
    import posixpath

    from sphinx.util.inventory import InventoryFile

    if hasattr(InventoryFile, "loads"):  # Sphinx >= 8.2
        data = InventoryFile.loads(path.read_bytes(), uri=uri).data
        return {role: {name: item.uri for name, item in items.items()} for role, items in data.items()}
    data = InventoryFile.load(io.BytesIO(path.read_bytes()), uri, posixpath.join)
    return {role: {name: item[2] for name, item in items.items()} for role, items in data.items()}


def missing(inventory_dir: Path = INVENTORY_DIR, root: Path = ROOT) -> list[str]:
    """The referenced names that import and have a page but are absent from the inventories on disk."""
    table, _ = entries(referenced_names(root))
    absent = []
    for project, items in table.items():
        path = inventory_dir / f"{project}.inv"
        known = set()
        if path.exists():
            known = {name for names in load_inventory(path, PROJECTS[project]).values() for name in names}
        absent.extend(name for name in sorted(items) if name not in known)
    return absent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a referenced name is missing")
    parser.add_argument("--out", type=Path, default=INVENTORY_DIR, help="folder of the .inv files")
    args = parser.parse_args(argv)
    if args.check:
        absent = missing(args.out)
        for name in absent:
            print(f"missing: {name}")
        print(f"{len(absent)} referenced name(s) missing from {args.out}")
        return 1 if absent else 0
    referenced = referenced_names()
    table, skipped = entries(referenced | seed_names())
    args.out.mkdir(parents=True, exist_ok=True)
    for project, items in table.items():
        path = args.out / f"{project}.inv"
        path.write_bytes(inventory_bytes(project, _version(project), items))
        n_ref = sum(name in referenced for name in items)
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(items)} objects "
              f"({n_ref} referenced by the docs), {path.stat().st_size} bytes")
    for name, why in sorted(skipped.items()):
        if name in referenced:
            print(f"skipped {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
