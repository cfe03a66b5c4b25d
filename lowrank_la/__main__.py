"""``python -m lowrank_la``: run the paper reproductions, list them, or report which backends are usable.

Commands
--------
reproduce [NAME ...] [--size smoke|quick|full] [--out DIR] [--strict] [--seed N]
    Run the named reproductions (all by default) and write ``NAME.csv``, ``NAME.png`` and ``NAME.md`` under
    ``DIR``; print a table of which claims held. Exit status 1 when an experiment raised; with ``--strict``,
    also when a claim did not hold (otherwise an honest non-reproduction is a result, not a failure).
list
    The registered reproductions with their paper and claim.
info
    Versions, and which backends are usable on this machine.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import shutil
import sys
import traceback
from importlib import metadata

from . import __version__, experiments


def _progress_factory(enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None

    def progress(iterable, total=None, desc=None):
        return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)

    return progress


def _reproduce(args) -> int:
    available = experiments.registered()
    if not available:
        print("No reproductions are registered yet: nothing to run.")
        return 0
    names = args.names or list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"error: unknown reproduction(s): {', '.join(unknown)}; known: {', '.join(available)}",
              file=sys.stderr)
        return 2
    progress = _progress_factory(not args.no_progress)
    rows, errors, failed_claims = [], 0, 0
    for name in names:
        print(f"[{name}] {available[name].claim}", flush=True)
        try:
            result = experiments.run(name, args.size, rng=args.seed, out=args.out, progress=progress)
        except Exception:
            errors += 1
            traceback.print_exc()
            rows.append((name, "ERROR", "-", "the experiment raised (traceback above)"))
            continue
        failed_claims += not result.claim_held
        verdict = "held" if result.claim_held else "NOT held"
        rows.append((name, verdict, f"{result.seconds:.1f}", result.summary))
        print(f"[{name}] claim {verdict} in {result.seconds:.1f} s; wrote {', '.join(map(str, result.files.values()))}",
              flush=True)
    _print_table(("reproduction", "claim", "seconds", "summary"), rows)
    if errors:
        return 1
    if args.strict and failed_claims:
        return 1
    return 0


def _print_table(header, rows) -> None:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    print()
    for row in (header, *rows):
        cells = [str(c).ljust(w) for c, w in zip(row, widths)] + [str(row[-1])]
        print("  ".join(cells))


def _list(_args) -> int:
    available = experiments.registered()
    if not available:
        print("No reproductions are registered yet.")
        return 0
    for name, exp in available.items():
        print(f"{name}\n    paper: {exp.paper}\n    claim: {exp.claim}")
    return 0


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _probe(module: str, check=None) -> str:
    """'usable (version)' when `module` imports and `check(module)` passes, else why not."""
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install raising something else
        return f"not installed ({type(exc).__name__})"
    version = getattr(mod, "__version__", "") or _version(module.split(".")[0]) or ""
    if check is not None:
        try:
            problem = check(mod)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if problem:
            return f"installed {version}, not usable: {problem}"
    return f"usable ({version})" if version else "usable"


def _check_numba(numba) -> str | None:
    numba.njit(lambda x: x + 1)(1)  # compiles: proves LLVM works here
    return None


def _check_cupy(cupy) -> str | None:
    count = cupy.cuda.runtime.getDeviceCount()
    if count < 1:
        return "no GPU visible"
    (cupy.arange(3) + 1).sum().item()
    return None


def _info(_args) -> int:
    lines = [
        ("lowrank_la", __version__),
        ("python", platform.python_version()),
        ("platform", f"{platform.system()} {platform.machine()}"),
    ]
    for dist in ("numpy", "scipy", "array-api-compat", "threadpoolctl"):
        lines.append((dist, _version(dist) or "missing"))
    lines += [
        ("backend: NumPy", "usable (reference)"),
        ("backend: Numba kernels", _probe("numba", _check_numba)),
        ("backend: CuPy (GPU)", _probe("cupy", _check_cupy)),
        ("backend: Dask", _probe("dask.array")),
        ("backend: distributed", _probe("distributed")),
        ("backend: array-api-strict", _probe("array_api_strict")),
        ("nvcc (CUDA kernels compile check)", shutil.which("nvcc") or "not on PATH"),
        ("experiments: matplotlib", _probe("matplotlib")),
        ("experiments: tqdm", _probe("tqdm")),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")
    return 0


def _plain(rst: str) -> str:
    """Terminal text from the module docstring's reStructuredText: inline literals lose their backquotes."""
    return rst.replace("``", "").strip() + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m lowrank_la``."""
    summary, commands = __doc__.split("\n\nCommands\n--------\n")
    parser = argparse.ArgumentParser(prog="python -m lowrank_la", description=_plain(summary),
                                     epilog="commands:\n" + _plain(commands),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"lowrank_la {__version__}")
    sub = parser.add_subparsers(dest="command")
    rep = sub.add_parser("reproduce", help="run paper reproductions (all by default)")
    rep.add_argument("names", nargs="*", metavar="NAME", help="reproductions to run (see `list`)")
    rep.add_argument("--size", choices=experiments.SIZES, default="quick",
                     help="smoke (seconds), quick (about a minute each; default) or full (the paper's sizes)")
    rep.add_argument("--full", dest="size", action="store_const", const="full", help="same as --size full")
    rep.add_argument("--out", default="reproductions", help="folder for CSV, PNG and markdown (default: %(default)s)")
    rep.add_argument("--strict", action="store_true", help="exit non-zero when a claim does not hold")
    rep.add_argument("--seed", type=int, default=0, help="seed of the experiments (default: %(default)s)")
    rep.add_argument("--no-progress", action="store_true", help="no progress bars")
    rep.set_defaults(func=_reproduce)
    sub.add_parser("list", help="list the registered reproductions").set_defaults(func=_list)
    sub.add_parser("info", help="versions and usable backends").set_defaults(func=_info)
    return parser


def main(argv=None) -> int:
    """Entry point of ``python -m lowrank_la`` and of the ``lowrank-la`` script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
