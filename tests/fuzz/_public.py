"""Enumerate the public callables of lowrank_la: each subpackage's ``__all__``, the top-level names, and the
public methods of the public classes (result types and warnings count as one name each)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

import lowrank_la

# every subpackage but the reproduction registry, and the top-level names that are not re-exports
SUBPACKAGES = tuple(sub for sub in lowrank_la._SUBPACKAGES if sub != "experiments")
TOP_LEVEL = tuple(name for name in lowrank_la.__all__ if name != "__version__"
                  and name not in lowrank_la._SUBPACKAGES and name not in lowrank_la._REEXPORTED)


def _is_record(cls) -> bool:
    """Result types (named tuples, dicts, dataclasses) and warnings: no methods of their own to fuzz."""
    return issubclass(cls, (tuple, dict, Warning)) or dataclasses.is_dataclass(cls)


def _methods(cls):
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), property):
            continue
        if callable(member):
            yield name


def public_callables() -> list[str]:
    """Sorted names ``module.name`` and ``module.Class.method`` (top-level names have no module prefix)."""
    found = []
    places = [("", lowrank_la, TOP_LEVEL)]
    for sub in SUBPACKAGES:
        mod = importlib.import_module(f"lowrank_la.{sub}")
        places.append((f"{sub}.", mod, mod.__all__))
    for prefix, mod, names in places:
        for name in names:
            obj = getattr(mod, name)
            if not callable(obj):
                continue  # constants (SKETCH_KINDS, METHODS, ...)
            found.append(prefix + name)
            if inspect.isclass(obj) and not _is_record(obj):
                found += [f"{prefix}{name}.{meth}" for meth in _methods(obj)]
    return sorted(found)
