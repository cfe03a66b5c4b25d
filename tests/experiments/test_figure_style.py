"""Every reproduction's figure, drawn at smoke size, is readable at the docs page's width.

The font sizes are read from the matplotlib artists of the figure each reproduction returns: tick labels, axis
labels, titles, legend texts, shrunk by the factor the docs page shrinks the saved (``bbox_inches="tight"``)
figure by, must be at least 9 points; no two tick labels of an axis overlap; legend entries are named and distinct.
"""

import matplotlib
import numpy as np
import pytest

from lowrank_la import experiments
from lowrank_la.experiments._style import DOCS_WIDTH, docs_scale, finish

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIN_POINTS = 9.0
NAMES = sorted(experiments.registered())


def _texts(fig):
    """(what, text artist) for every visible, non-empty text a reader has to read (in a drawn figure)."""
    out = []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            out += [(f"{name} tick label", tick.label1) for tick in axis._update_ticks()]  # the ticks drawn
            out.append((f"{name} axis label", axis.label))
        out.append(("title", ax.title))
        if ax.get_legend() is not None:
            out += [("legend text", t) for t in ax.get_legend().get_texts()]
    for legend in fig.legends:
        out += [("legend text", t) for t in legend.get_texts()]
    if fig._suptitle is not None:
        out.append(("suptitle", fig._suptitle))
    return [(what, t) for what, t in out if t.get_visible() and t.get_text().strip()]


def _overlapping_tick_labels(fig):
    """Pairs of neighbouring tick labels of one axis whose boxes overlap (in a drawn figure)."""
    renderer = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        for axis, coordinate in ((ax.xaxis, "x0"), (ax.yaxis, "y0")):
            labels = [tick.label1 for tick in axis._update_ticks()
                      if tick.label1.get_visible() and tick.label1.get_text().strip()]
            boxes = sorted(((label.get_window_extent(renderer), label.get_text()) for label in labels),
                           key=lambda item: getattr(item[0], coordinate))
            out += [(a[1], b[1]) for a, b in zip(boxes, boxes[1:]) if a[0].overlaps(b[0])]
    return out


def _check(fig):
    fig.canvas.draw()
    scale = max(1.0, fig.get_tightbbox(fig.canvas.get_renderer()).width / DOCS_WIDTH)
    small = [f"{what} {t.get_text()!r} at {t.get_fontsize() / scale:.1f} pt" for what, t in _texts(fig)
             if t.get_fontsize() / scale < MIN_POINTS - 1e-9]
    assert not small, f"text below {MIN_POINTS} pt at docs width (figure shrunk {scale:.2f}x): {small}"
    crowded = _overlapping_tick_labels(fig)
    assert not crowded, f"tick labels run into each other: {crowded}"
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    assert legends, "a reproduction's figure has a legend"
    for legend in legends:
        labels = [t.get_text() for t in legend.get_texts()]
        assert all(label.strip() for label in labels), labels
        assert len(set(labels)) == len(labels), f"duplicated legend entries: {labels}"


@pytest.mark.parametrize("name", NAMES)
def test_reproduction_figure_is_readable_at_docs_width(name, smoke_run):
    _check(smoke_run(name)[0].figure)


def test_finish_scales_text_with_width_and_moves_a_covering_legend_below():
    fig, ax = plt.subplots(figsize=(2 * DOCS_WIDTH, 6))  # room for the legend under the x label
    for shift in range(6):  # lines over the whole axes: no place inside for the legend
        ax.plot([0, 1], [shift, shift + 5], label=f"line {shift}")
        ax.plot([0, 1], [shift + 5, shift], label=f"line {shift + 6}")
    ax.legend(fontsize=5)
    ax.set_title("a title", fontsize=5)
    ax.set_xlabel("an x label", fontsize=5)
    finish(fig)
    try:
        _check(fig)
        assert docs_scale(fig) >= 1.9  # a figure twice the docs width stays about that wide: text scaled 2x
        renderer = fig.canvas.get_renderer()
        assert ax.get_legend().get_window_extent(renderer).y1 <= ax.get_window_extent(renderer).y0
        # and under the tick and axis labels, after the layout has resized the axes
        assert ax.get_legend().get_window_extent(renderer).y1 <= ax.xaxis.get_tightbbox(renderer).y0
    finally:
        plt.close(fig)


def test_finish_thins_crowded_tick_labels_and_keeps_ticks_a_figure_set():
    # the altmin figure's time axis on a fast run: 0.0000 to 0.0175 in steps of 0.0025 ran together on its panel
    fig, axes = plt.subplots(2, 2, figsize=(11, 9), layout="constrained")
    for ax in axes.ravel():
        ax.semilogy(np.linspace(0.0, 0.0175, 20), np.logspace(0, -10, 20), label="run")
        ax.legend()
    axes[1, 1].set_xticks([0.0, 0.01])
    finish(fig)
    assert not _overlapping_tick_labels(fig)
    assert [t.get_position()[0] for t in axes[1, 1].get_xticklabels()] == [0.0, 0.01]
