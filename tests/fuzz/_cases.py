"""The cases of the sweep: every registered callable x every array argument x every mutation that applies."""

from __future__ import annotations

from ._mutations import mutation_names
from ._registry import REGISTRY


def cases_for(name: str, seed: int = 0) -> list[tuple]:
    """``(name, argument, mutation, seed)`` for every mutation of every array argument of `name`."""
    spec = REGISTRY[name]
    return [(name, a.name, m, seed) for a in spec.args for m in mutation_names(a.kind, a.ndims, a.sparse)]


def all_cases(seed: int = 0) -> list[tuple]:
    """The deterministic sweep."""
    return [case for name in sorted(REGISTRY) if not name.startswith("_") for case in cases_for(name, seed)]


def format_failures(cases, records) -> list[str]:
    """One line per failing case: ``callable(arg <- mutation): category: detail``."""
    return [f"{name}({arg} <- {mutation}, seed={seed}): {r['category']}: {r['detail']}"
            for (name, arg, mutation, seed), r in zip(cases, records) if r["status"] != "pass"]
