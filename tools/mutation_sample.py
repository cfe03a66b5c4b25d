"""Sampled mutation testing of the core numerical modules against their own test files (not part of CI).

Each mutant costs one run of the tests of its module, so the script samples: per package, it applies
``--per-package`` mutants (cosmic-ray's core operators, drawn in an order seeded by ``--seed`` and the package name,
so a package gives the same sample alone or with others; a drawn mutant that does not compile is replaced by the
next one) from the lines that the package's CPU tests execute, outside ``raise`` statements and
``warnings.warn(...)`` calls (messages and their formatting), and reports the survivors for review by hand.
Usage, from the repository root::

    python tools/mutation_sample.py --packages svd sketch completion tensor --per-package 50 --out mutation.md

Steps:

1. copy the tracked files (``git ls-files``) into a scratch directory: the working tree is never touched, and
   nothing is byte-compiled there (a stale ``.pyc`` of a same-size mutant would hide it);
2. per module ``lowrank_la/<package>/<name>.py``, its test files are ``tests/<package>/test_<name>*.py`` (the
   leading underscore dropped; ``TESTED_AS`` names the stem for helper modules), else every
   ``tests/<package>/test_*.py``; they run once under coverage, giving
   the executed lines (Numba-compiled bodies are not traced, so their mutants are not drawn) and a baseline time;
3. every mutation of every module whose first line was executed is eligible; the sample is drawn from them;
4. each mutant that compiles is written into the copy, its module's tests run (``pytest -x``, timeout ``10 x``
   baseline plus 60 s), and the module is restored: *killed* when the tests fail or time out, *survived* when they pass;
5. the report (markdown) gives per package the mutants drawn, killed and survived and the survivor rate, and every
   survivor with its operator, place and changed line. A file given by ``--equivalent`` (lines
   ``path:line:operator  reason``) marks survivors judged equivalent by hand: they are listed with the reason
   and left out of the rate.
6. ``--rerun earlier.json`` keeps the sample of an earlier run and runs again only its survivors not judged
   equivalent (after tests were added: a killed mutant stays killed), finding each by its changed line (lines may
   have moved since; of identical changed lines, the one nearest its earlier line); it stops if that line is gone.

Needs the ``bench`` extra (cosmic-ray and coverage).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _operators():
    """(name, instance) of every cosmic-ray operator that takes no arguments."""
    from cosmic_ray.plugins import get_operator, operator_names

    for name in operator_names():
        cls = get_operator(name)
        if not cls.arguments():
            yield name, cls()


def _excluded_lines(source):
    """Lines of ``raise`` statements and ``warnings.warn(...)`` calls: messages are not mutated."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        func = getattr(node, "func", None)
        is_warn = isinstance(node, ast.Call) and getattr(func, "attr", getattr(func, "id", None)) == "warn"
        if isinstance(node, ast.Raise) or is_warn:
            out.update(range(node.lineno, node.end_lineno + 1))
    return out


def _mutations(path, executed):
    """Every (operator name, occurrence, line) of `path` whose line is in `executed` and not excluded."""
    from cosmic_ray.ast import ast_nodes, get_ast

    source = path.read_text()
    excluded = _excluded_lines(source)
    tree = get_ast(source)
    out = []
    for name, operator in _operators():
        positions = [start for node in ast_nodes(tree) for start, _ in operator.mutation_positions(node)]
        for occurrence, (line, _) in enumerate(positions):
            if line in executed and line not in excluded:
                out.append((name, occurrence, line))
    return out


# modules without test files of their own, tested through the module that uses them most (instead of every test file
# of the package, which makes each mutant too slow in svd)
TESTED_AS = {"lowrank_la/svd/_common.py": "rsvd", "lowrank_la/svd/_update_generic.py": "update"}


def _tests_of(module, package, copy):
    stem = TESTED_AS.get(str(module.relative_to(copy)), module.stem.lstrip("_"))
    tests = sorted((copy / "tests" / package).glob(f"test_{stem}*.py"))
    return tests or sorted((copy / "tests" / package).glob("test_*.py"))


def _env(copy, scratch):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               NUMBA_CACHE_DIR=str(scratch / "numba-cache"), PYTHONPATH=str(copy))
    env.pop("PYTHONHASHSEED", None)
    return env


def _pytest(tests, copy, env, timeout, prefix=()):
    """Run the test files; returns (passed, seconds); a timeout counts as failed."""
    cmd = [sys.executable, *prefix, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *map(str, tests)]
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, time.perf_counter() - start
    return done.returncode == 0, time.perf_counter() - start


def _executed(module, tests, copy, env, scratch):
    """Lines of `module` that its tests execute (coverage), and the time the tests took."""
    import coverage

    data = scratch / f".coverage.{module.stem}"
    ok, seconds = _pytest(tests, copy, env, None, prefix=("-m", "coverage", "run", f"--data-file={data}",
                                                           f"--include={module}"))
    if not ok:
        raise RuntimeError(f"the tests of {module} fail before any mutation: {tests}")
    cov = coverage.Coverage(data_file=str(data))
    cov.load()
    return set(cov.get_data().lines(str(module)) or ()), seconds


def _run_mutant(module, name, occurrence, tests, copy, env, timeout):
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    original = module.read_text()
    mutated = mutate_code(original, get_operator(name)(), occurrence)
    if mutated is None:
        return None, ""
    try:
        compile(mutated, str(module), "exec")
    except SyntaxError:
        return "invalid", ""  # e.g. '*' of a keyword-only marker turned into '>>': not a mutant of the code
    changed = next((b for a, b in zip(original.splitlines(), mutated.splitlines()) if a != b), "")
    try:
        module.write_text(mutated)
        passed, _ = _pytest(tests, copy, env, timeout)
    finally:
        module.write_text(original)
    return ("survived" if passed else "killed"), changed.strip()


def _find_occurrence(module, name, changed, line):
    """The occurrence of operator `name` in `module` that changes a line into `changed` (lines may have moved):
    of several (the same statement in two places), the one nearest the earlier `line`."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    original = module.read_text()
    occurrence, found = 0, []
    while (mutated := mutate_code(original, get_operator(name)(), occurrence)) is not None:
        lines = zip(original.splitlines(), mutated.splitlines())
        at, new = next(((i + 1, b) for i, (a, b) in enumerate(lines) if a != b), (0, ""))
        if new.strip() == changed:
            found.append((abs(at - line), occurrence))
        occurrence += 1
    if not found:
        raise RuntimeError(f"{module}: no {name} mutant gives {changed!r} any more: run the whole sample again")
    return min(found)[1]


def _copy_tracked(dest):
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _equivalent(path):
    out = {}
    if path:
        for line in Path(path).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, reason = line.partition("  ")
                out[key.strip()] = reason.strip()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=["svd", "sketch", "completion", "tensor"])
    parser.add_argument("--per-package", type=int, default=50)
    parser.add_argument("--modules", nargs="*", help="restrict to these module paths (lowrank_la/<package>/x.py)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--equivalent", help="file of survivors judged equivalent: 'path:line:operator  reason'")
    parser.add_argument("--out", default="mutation-report.md")
    parser.add_argument("--rerun", help="results (.json) of an earlier run: its sample is kept, and only its survivors "
                                        "not judged equivalent run again (after tests were added)")
    args = parser.parse_args(argv)
    equivalent = _equivalent(args.equivalent)
    previous = json.loads(Path(args.rerun).read_text()) if args.rerun else None
    report, results = [], []
    with tempfile.TemporaryDirectory(prefix="lowrank-mutants-") as tmp:
        scratch = Path(tmp)
        copy = scratch / "repo"
        _copy_tracked(copy)
        env = _env(copy, scratch)
        for package in args.packages:
            modules = sorted((copy / "lowrank_la" / package).glob("*.py"))
            if args.modules:
                modules = [m for m in modules if str(m.relative_to(copy)) in args.modules]
            eligible, plan = [], {}
            for module in modules:
                tests = _tests_of(module, package, copy)
                executed, seconds = _executed(module, tests, copy, env, scratch)
                plan[module] = (tests, seconds)
                eligible += [(module, *m) for m in _mutations(module, executed)]
            order = random.Random(f"{args.seed}:{package}").sample(eligible, len(eligible))
            if previous is not None:
                order = [(copy / r["where"].split(":")[0], r["where"].split(":", 2)[2], r["occurrence"],
                          int(r["where"].split(":")[1]), r) for r in previous if r["package"] == package
                         and copy / r["where"].split(":")[0] in plan]
            else:
                order = [(*m, None) for m in order]
            applied = 0
            for module, name, occurrence, line, before in order:
                if applied == args.per_package:
                    break
                rel = f"{module.relative_to(copy)}:{line}:{name}"
                if before is not None and (before["outcome"] != "survived" or rel in equivalent):
                    outcome, changed = before["outcome"], before["changed"]  # tests were only added: kept
                else:
                    tests, seconds = plan[module]
                    if before is not None:
                        occurrence = _find_occurrence(module, name, before["changed"], line)
                    outcome, changed = _run_mutant(module, name, occurrence, tests, copy, env, 10 * seconds + 60)
                results.append({"package": package, "where": rel, "occurrence": occurrence, "outcome": outcome,
                                "changed": changed, "equivalent": equivalent.get(rel, "")})
                applied += outcome not in (None, "invalid")
                print(f"[{package} {applied}/{args.per_package}] {outcome}: {rel}  {changed}", flush=True)
            rows = [r for r in results if r["package"] == package and r["outcome"] not in (None, "invalid")]
            invalid = sum(r["package"] == package and r["outcome"] == "invalid" for r in results)
            judged = [r for r in rows if not r["equivalent"]]
            survived = [r for r in judged if r["outcome"] == "survived"]
            rate = len(survived) / len(judged) if judged else float("nan")
            report.append(f"## {package}\n\n{len(eligible)} eligible mutants, {len(rows)} drawn and applied ({invalid} "
                          f"more drawn did not compile: left out), "
                          f"{len(rows) - len(judged)} judged equivalent; of the rest {len(judged) - len(survived)} "
                          f"killed, {len(survived)} survived: survivor rate {rate:.1%}.\n")
            for r in rows:
                if r["outcome"] == "survived":
                    note = f" (equivalent: {r['equivalent']})" if r["equivalent"] else ""
                    report.append(f"- survived: `{r['where']}` -> `{r['changed']}`{note}")
            report.append("")
    Path(args.out).write_text(f"# Sampled mutation testing (seed {args.seed})\n\n" + "\n".join(report) + "\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
