"""The registry of reproduced paper experiments, and the runner the CLI and the tests share."""

from __future__ import annotations

import csv
import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validate import check_option

__all__ = ["SIZES", "Experiment", "ExperimentResult", "best_time", "get", "pyplot", "register", "registered",
           "run"]

SIZES = ("smoke", "quick", "full")

_REGISTRY: dict[str, Experiment] = {}


@dataclass
class ExperimentResult:
    """What a reproduction returns.

    Attributes
    ----------
    table : list of dict
        One row per measured case (the CSV); every row has the same keys.
    claim_held : bool
        Whether the paper's claim held on these numbers, judged honestly by the experiment's own rule.
    summary : str
        One or two sentences: what was measured and what it showed.
    figure : matplotlib.figure.Figure or None
        The reproduction's figure (written as PNG).
    """

    table: list[dict[str, Any]]
    claim_held: bool
    summary: str
    figure: Any = None
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Experiment:
    """A registered reproduction: its name, the paper, the claim it checks, and the function that runs it."""

    name: str
    paper: str
    claim: str
    func: Callable[..., ExperimentResult]


def register(name: str, *, paper: str, claim: str):
    """Decorator that registers ``func(size, rng, progress)`` as the reproduction `name`.

    Examples
    --------
    >>> @register("doc-example", paper="Nobody (2026)", claim="1 + 1 == 2")
    ... def run_example(size="quick", rng=0, progress=None):
    ...     return ExperimentResult(table=[{"sum": 1 + 1}], claim_held=1 + 1 == 2, summary="arithmetic holds")
    >>> run("doc-example", size="smoke").claim_held
    True
    >>> _ = _REGISTRY.pop("doc-example")
    """

    def decorate(func):
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"a reproduction named {name!r} is registered already")
        _REGISTRY[name] = Experiment(name=name, paper=paper, claim=claim, func=func)
        return func

    return decorate


def _load_all() -> None:
    """Import every experiment module of this package, so that each registers itself."""
    package = importlib.import_module(__package__)
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__package__}.{info.name}")


def registered() -> dict[str, Experiment]:
    """All registered reproductions, by name (sorted)."""
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def get(name: str) -> Experiment:
    """The registered reproduction `name`; ``ValueError`` naming the known ones otherwise."""
    experiments = registered()
    if name not in experiments:
        known = ", ".join(experiments) or "none are registered yet"
        raise ValueError(f"name={name!r} is not a registered reproduction; known: {known}")
    return experiments[name]


def best_time(func, repeats: int) -> float:
    """The shortest of `repeats` timings of ``func()``, in seconds (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend, or None when matplotlib is not installed
    (a reproduction then returns no figure; its numbers and verdict do not depend on it)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _no_progress(iterable: Iterable, **_: Any) -> Iterable:
    return iterable


def run(name: str, size: str = "quick", *, rng=0, out=None, progress=None) -> ExperimentResult:
    """Run the reproduction `name` at `size`; when `out` is given, write its CSV, PNG and markdown report there.

    Parameters
    ----------
    name : str
        A registered reproduction (see :func:`registered`).
    size : {"smoke", "quick", "full"}
        ``smoke`` takes seconds (the tests), ``quick`` a minute or less (the CLI's default), ``full`` the
        paper's sizes.
    rng : None, int or numpy.random.Generator
        Seed of the experiment.
    out : str or Path, optional
        Folder for ``<name>.csv``, ``<name>.png`` and ``<name>.md``.
    progress : callable, optional
        ``progress(iterable, total=..., desc=...)`` wrapping the experiment's main loop (tqdm in the CLI).
    """
    experiment = get(name)
    check_option(size, "size", SIZES)
    start = time.perf_counter()
    result = experiment.func(size=size, rng=rng, progress=progress or _no_progress)
    result.seconds = time.perf_counter() - start
    if out is not None:
        result.files = _write(experiment, result, Path(out), size)
    return result


def _write(experiment: Experiment, result: ExperimentResult, out: Path, size: str) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"csv": out / f"{experiment.name}.csv", "md": out / f"{experiment.name}.md"}
    columns = list(dict.fromkeys(key for row in result.table for key in row))
    with files["csv"].open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(result.table)
    if result.figure is not None:
        files["png"] = out / f"{experiment.name}.png"
        result.figure.savefig(files["png"], dpi=120, bbox_inches="tight")
    verdict = "held" if result.claim_held else "did NOT hold"
    lines = [
        f"# {experiment.name}",
        "",
        f"- Paper: {experiment.paper}",
        f"- Claim: {experiment.claim}",
        f"- Size: {size}; time: {result.seconds:.1f} s",
        f"- Verdict: the claim **{verdict}** at this size.",
        "",
        result.summary,
        "",
    ]
    if "png" in files:
        lines += [f"![{experiment.name}]({files['png'].name})", ""]
    if columns:
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in result.table]
    files["md"].write_text("\n".join(lines) + "\n")
    return files


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
