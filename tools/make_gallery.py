"""Write docs/gallery.rst, the gallery of the reproductions, from one run of ``python -m lowrank_la reproduce``.

Run the reproductions once, then this script on the folder they wrote::

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m lowrank_la reproduce --size quick --out /tmp/gallery_run
    python tools/make_gallery.py --run-dir /tmp/gallery_run

The page gets one section per reproduction registered in ``lowrank_la.experiments``: the paper and the claim (from
the registry), the verdict, size, time and summary (copied from the run's ``<name>.md`` report, never typed by
hand), the figure (the run's ``<name>.png``, copied into ``docs/_static/gallery/`` and made smaller when it is
over ``--max-bytes``) and the command that reproduces it. A reproduction without a report or a figure in the run
is listed as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FIGURES = DOCS / "_static" / "gallery"
PAGE = DOCS / "gallery.rst"
DEFAULT_COMMAND = ("NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m lowrank_la reproduce --size quick "
                   "--out {run_dir}")


def parse_report(path: Path) -> dict[str, str]:
    """The fields of a report written by ``lowrank_la.experiments.run``: paper, claim, size, time, verdict
    ("held" or "did NOT hold") and summary."""
    lines = path.read_text(encoding="utf-8").splitlines()
    report: dict[str, str] = {}
    body_start = None
    for i, line in enumerate(lines):
        if line.startswith("- Paper: "):
            report["paper"] = line.removeprefix("- Paper: ")
        elif line.startswith("- Claim: "):
            report["claim"] = line.removeprefix("- Claim: ")
        elif line.startswith("- Size: "):
            match = re.fullmatch(r"- Size: (\w+); time: ([0-9.]+) s", line)
            if match:
                report["size"], report["time"] = match.groups()
        elif line.startswith("- Verdict: "):
            match = re.fullmatch(r"- Verdict: the claim \*\*(.+?)\*\* at this size\.", line)
            if not match:
                raise ValueError(f"{path}: unreadable verdict line {line!r}")
            report["verdict"] = match.group(1)
            body_start = i + 1
    if body_start is None:
        raise ValueError(f"{path}: no verdict line")
    summary = []
    for line in lines[body_start:]:
        if line.startswith(("![", "| ")):
            break
        summary.append(line)
    report["summary"] = "\n".join(summary).strip()
    return report


def rst_text(text: str) -> str:
    """`text` as plain reST inline text: the inline-markup characters escaped (``|Omega|`` is no substitution,
    ``a_i`` no reference)."""
    return re.sub(r"([\\`*|_])", r"\\\1", text)


def rst_blocks(markdown: str) -> list[str]:
    """A report's summary (paragraphs and ``- `` bullet lines) as reST lines: bullets stay bullets, every other
    line is escaped text, and a blank line separates a paragraph from a list."""
    out: list[str] = []
    previous = None
    for line in markdown.splitlines():
        if not line.strip():
            kind = "blank"
            out.append("")
        elif re.match(r"\s*[-*] ", line):
            kind = "item"
            if previous == "text":
                out.append("")
            out.append("- " + rst_text(line.strip()[2:].strip()))
        else:
            kind = "text"
            if previous == "item":
                out.append("")
            text = rst_text(line.strip())
            out.append(re.sub(r"^(\.\.|[-+#]|\d+\.)(\s)", r"\\\1\2", text))  # never opens a list
        previous = kind
    return out


def shrink_png(source: Path, target: Path, max_bytes: int) -> str:
    """Copy the PNG `source` to `target` as 256 colours when that saves a third or more (matplotlib's line plots
    lose nothing visible), and scale it down until it is at most `max_bytes`. Returns what was done."""
    from PIL import Image

    size = source.stat().st_size
    with Image.open(source) as image:
        image = image.convert("RGB")
        scale = 1.0
        while True:
            resized = image if scale == 1.0 else image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
            resized.quantize(colors=256).save(target, optimize=True)
            new = target.stat().st_size
            if scale == 1.0 and new > 2 * size / 3 and size <= max_bytes:
                shutil.copyfile(source, target)  # quantizing gains little: keep the original
                return f"copied ({size // 1024} KB)"
            if new <= max_bytes or scale < 0.3:
                return (f"{size // 1024} KB -> {new // 1024} KB (256 colours"
                        + (f", scaled to {resized.width}x{resized.height})" if scale < 1 else ")"))
            scale *= 0.85


def section(name: str, experiment, report: dict[str, str] | None, figure: str | None) -> list[str]:
    title = f"``{name}``"
    lines = [f".. _gallery-{name}:", "", title, "-" * len(title), ""]
    lines += [f":Paper: {rst_text(experiment.paper)}", f":Claim: {rst_text(experiment.claim)}"]
    if report is None:
        lines += [":Verdict: not in this run (no report was found for it).", ""]
    else:
        verdict = "held" if report["verdict"] == "held" else "did NOT hold"
        lines += [f":Verdict: the claim **{verdict}** at size ``{report['size']}`` "
                  f"(run time {report['time']} s)."]
        if report.get("claim") and report["claim"] != experiment.claim:
            lines += [":Note: the registry's claim was reworded after this run; the run judged: "
                      f"{rst_text(report['claim'])}"]
        lines += [""] + (rst_blocks(report["summary"]) or ["(The report gives no summary.)"]) + [""]
    if figure is not None:
        lines += [f".. figure:: _static/gallery/{figure}", f"   :alt: figure of the {name} reproduction",
                  "   :width: 100%", "", f"   The figure of ``{name}`` from this run.", ""]
    elif report is not None:
        lines += ["*No figure: this reproduction wrote none in this run.*", ""]
    lines += ["Reproduce it with:", "", ".. code-block:: bash", "",
              f"   python -m lowrank_la reproduce {name} --size quick", ""]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="the folder `reproduce --out` wrote")
    parser.add_argument("--command", default=None,
                        help="the command that produced the run (default: the quick-size run into --run-dir)")
    parser.add_argument("--machine", default=f"a {os.cpu_count()}-core machine",
                        help="the machine the run was on, as the page says it (default: this one's core count)")
    parser.add_argument("--max-bytes", type=int, default=200_000, help="largest figure kept as it is")
    parser.add_argument("--page", type=Path, default=PAGE)
    parser.add_argument("--figures", type=Path, default=FIGURES)
    raw_args = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(raw_args)

    sys.path.insert(0, str(ROOT))
    from lowrank_la.experiments import registered

    run_dir = args.run_dir
    if not run_dir.is_dir():
        parser.error(f"--run-dir {run_dir} is not a folder")
    command = args.command or DEFAULT_COMMAND.format(run_dir=run_dir)
    experiments = registered()
    reports = {name: parse_report(run_dir / f"{name}.md") for name in experiments
               if (run_dir / f"{name}.md").exists()}
    if not reports:
        parser.error(f"no report of a registered reproduction in {run_dir}")
    stamps = [dt.datetime.fromtimestamp((run_dir / f"{name}.md").stat().st_mtime, dt.UTC) for name in reports]
    run_date = min(stamps).strftime("%Y-%m-%d")
    sizes = sorted({report["size"] for report in reports.values()})

    args.figures.mkdir(parents=True, exist_ok=True)
    for old in args.figures.glob("*.png"):
        old.unlink()
    figures = {}
    for name in experiments:
        png = run_dir / f"{name}.png"
        if name in reports and png.exists():
            figures[name] = png.name
            print(f"{png.name}: {shrink_png(png, args.figures / png.name, args.max_bytes)}")

    n_held = sum(report["verdict"] == "held" for report in reports.values())
    page = [
        f".. This page is generated by ``{shlex.join(['python', 'tools/make_gallery.py', *raw_args])}`` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"   from the reports of ``{command}``",
        f"   (run on {run_date}). Do not edit it by hand: rerun both commands.",
        "",
        "Gallery of the reproductions",
        "============================",
        "",
        "Every paper implemented in ``lowrank_la`` comes with a reproduction of its experiment that checks the "
        "paper's claim (see :doc:`reproduce`). This page shows each one: the paper, the claim, the verdict, the "
        "figure and the command that reproduces it.",
        "",
        ".. note::",
        "",
        f"   The verdicts, times and figures below come from one run at size ``{', '.join(sizes)}`` on "
        f"{args.machine} (shared with other work) on {run_date}: ``{command}``. They are copied from that "
        "run's reports by ``tools/make_gallery.py``, not typed by hand. A quick run uses smaller problems than "
        "the papers; ``--size full`` uses the papers' sizes and can judge differently.",
        "",
        f"Of {len(experiments)} registered reproductions, {len(reports)} ran: the claim held in {n_held} and did "
        f"not hold in {len(reports) - n_held}.",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 20 15 10",
        "",
        "   * - Reproduction",
        "     - Verdict",
        "     - Time (s)",
        "     - Figure",
    ]
    for name in experiments:
        report = reports.get(name)
        verdict = "not run" if report is None else ("held" if report["verdict"] == "held" else "did NOT hold")
        page += [f"   * - :ref:`{name} <gallery-{name}>`", f"     - {verdict}",
                 f"     - {report['time'] if report else '-'}", f"     - {'yes' if name in figures else 'none'}"]
    page.append("")
    for name, experiment in experiments.items():
        page += section(name, experiment, reports.get(name), figures.get(name))
    args.page.write_text("\n".join(page).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {args.page}: {len(experiments)} reproductions, {len(reports)} reports, {len(figures)} figures")
    for name in experiments:
        report = reports.get(name)
        print(f"  {name}: {'not run' if report is None else report['verdict']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
