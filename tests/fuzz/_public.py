"""Enumerate the public callables of lowrank_la: each subpackage's ``__all__``, the top-level names, and the
public methods of the public classes (result types and warnings count as one name each)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect

SUBPACKAGES = ("svd", "sketch", "factor", "completion", "sensing", "tensor", "matmul", "projection", "datasets")
TOP_LEVEL = ("as_operator", "MatrixOperator", "SVDResult", "SolverResult", "ConvergenceWarning", "thread_limit")


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
    import lowrank_la

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
