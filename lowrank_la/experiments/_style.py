"""The figure style shared by the reproductions: every figure is readable at the width of the docs page.

The docs show a figure (saved with ``bbox_inches="tight"``) at most :data:`DOCS_WIDTH` inches wide (about 700 px at
96 dpi), so a figure drawn wider is shrunk by ``width / DOCS_WIDTH``. :func:`finish` sets every font size so that,
after that shrinking, tick labels and legend text are :data:`TEXT_POINTS` points, axis labels
:data:`LABEL_POINTS` and titles :data:`TITLE_POINTS`, moves a legend that covers data outside its axes, and thins
the tick labels of an axis where they run into each other.
"""

import numpy as np
from matplotlib.ticker import MaxNLocator, NullFormatter
from matplotlib.transforms import offset_copy

__all__ = ["DOCS_WIDTH", "TEXT_POINTS", "LABEL_POINTS", "TITLE_POINTS", "docs_scale", "finish", "legend_under_panels",
           "spaced_ticks"]

DOCS_WIDTH = 7.3
TEXT_POINTS = 9.0
LABEL_POINTS = 10.0
TITLE_POINTS = 11.0


def docs_scale(fig) -> float:
    """The factor by which `fig`, saved with ``bbox_inches="tight"``, is shrunk to fit the docs width (>= 1)."""
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width
    return max(1.0, width / DOCS_WIDTH)


def spaced_ticks(values, ratio=1.5):
    """The values among the sorted `values` at least `ratio` apart on a log axis (the first one always): tick
    positions whose labels do not run into each other (20, 60, 100, ..., 300 in steps of 40 crowd from 100 on)."""
    ticks = [values[0]]
    for value in values[1:]:
        if value >= ratio * ticks[-1]:
            ticks.append(value)
    return ticks


def legend_under_panels(ax, ncols):
    """One legend for all the panels of ``ax``'s figure, under them, with ``ax``'s entries: where the panels share
    their curves, per-panel legends repeat each other and cover data, and one under a panel pushes the rows apart."""
    return ax.figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=ncols)


def finish(fig):
    """Apply the shared style to `fig` (font sizes for the docs width, legends off the data, tight layout)."""
    scale = max(1.0, fig.get_figwidth() / DOCS_WIDTH)
    _set_sizes(fig, scale)
    fig.set_layout_engine("constrained")
    fig.canvas.draw()
    _move_covering_legends(fig)
    for _ in range(3):  # text reaching past the figure's edge widens the saved figure: size for that width
        fig.canvas.draw()
        if docs_scale(fig) <= scale * (1 + 1e-3):
            break
        scale = docs_scale(fig) * 1.01
        _set_sizes(fig, scale)
    _thin_crowded_tick_labels(fig)
    return fig


def _thin_crowded_tick_labels(fig):
    """Where an axis's tick labels run into each other: unlabel the minor ticks of a log axis (one spanning about
    a decade labels ``2 x 10^1``, ``3 x 10^1``, ...), and give an automatically ticked linear axis fewer ticks
    (a narrow panel of timings such as 0.0000 to 0.0175 in steps of 0.0025). Ticks a figure set itself stay."""
    for _ in range(4):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        crowded = [axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) if _labels_overlap(ax, axis, renderer)]
        if not crowded:
            return
        for axis in crowded:
            if axis.get_scale() == "log":
                axis.set_minor_formatter(NullFormatter())
            elif isinstance(axis.get_major_locator(), MaxNLocator):  # AutoLocator included
                shown = len([t for t in axis.get_major_ticks() if t.label1.get_visible() and t.label1.get_text()])
                axis.set_major_locator(MaxNLocator(nbins=max(2, shown // 2)))


def _labels_overlap(ax, axis, renderer) -> bool:
    labels = [tick.label1 for tick in axis.get_major_ticks() + axis.get_minor_ticks()]
    boxes = [label.get_window_extent(renderer) for label in labels if label.get_visible() and label.get_text()]
    boxes.sort(key=lambda box: box.x0 if axis is ax.xaxis else box.y0)
    return any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


def _set_sizes(fig, scale):
    for ax in fig.axes:
        ax.tick_params(axis="both", which="both", labelsize=TEXT_POINTS * scale)
        ax.xaxis.label.set_fontsize(LABEL_POINTS * scale)
        ax.yaxis.label.set_fontsize(LABEL_POINTS * scale)
        ax.title.set_fontsize(TITLE_POINTS * scale)
        for text in ax.texts:
            text.set_fontsize(TEXT_POINTS * scale)
        legend = ax.get_legend()
        if legend is not None:
            _resize_legend(ax, legend, TEXT_POINTS * scale)
    if fig._suptitle is not None:
        fig._suptitle.set_fontsize(TITLE_POINTS * scale)
    for legend in fig.legends:
        for text in legend.get_texts():
            text.set_fontsize(TEXT_POINTS * scale)


def _resize_legend(ax, legend, size):
    """Redraw `legend` at font `size`, keeping its entries, columns and placement (anchor in axes coordinates; a
    legend moved below its axes is placed there again, under the axis's labels at their new size)."""
    labels = [text.get_text() for text in legend.get_texts()]
    if getattr(legend, "_below_axes", False):
        _place_below(ax, legend.legend_handles, labels, size)
        return
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted()).bounds
    ax.legend(legend.legend_handles, labels, fontsize=size, ncols=legend._ncols, loc=legend._loc,
              bbox_to_anchor=anchor, bbox_transform=ax.transAxes)


def _move_covering_legends(fig):
    """Move a legend that covers data below its axes, in as many columns as fit the axes' width.

    Below, not beside: constrained layout then takes the room from the axes' height, and the figure keeps its
    width, so the docs do not shrink it (and its text) further.
    """
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or not _covers_data(ax, legend, renderer):
            continue
        labels = [text.get_text() for text in legend.get_texts()]
        _place_below(ax, legend.legend_handles, labels, legend.get_texts()[0].get_fontsize())


def _place_below(ax, handles, labels, size):
    """A legend under the x axis's tick and axis labels, in as many columns as fit the axes' width.

    Its anchor is the axes' bottom edge offset by the depth of those labels in points, which does not change when
    the layout engine resizes the axes (an anchor in axes fractions moved onto the labels as the axes shrank).
    """
    fig = ax.figure
    if ax.get_legend() is not None:  # measured without it: the layout then fits the axes as they will be
        ax.get_legend().remove()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    labels_box = ax.xaxis.get_tightbbox(renderer)
    depth = max(0.0, box.y0 - labels_box.y0) if labels_box is not None else 0.0
    below = offset_copy(ax.transAxes, fig=fig, y=-(depth * 72.0 / fig.dpi + 0.4 * size), units="points")
    for ncols in range(len(labels), 0, -1):
        legend = ax.legend(handles, labels, fontsize=size, ncols=ncols, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                           bbox_transform=below, borderaxespad=0)
        if ncols == 1 or legend.get_window_extent(renderer).width <= box.width:
            break
    legend._below_axes = True


def _covers_data(ax, legend, renderer) -> bool:
    """Whether `legend` is drawn over a point, a line, a filled band or a bar of `ax`."""
    box = legend.get_window_extent(renderer)
    for line in ax.get_lines():
        xy = line.get_transform().transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            t = np.linspace(0.0, 1.0, 32)[:, None, None]
            xy = (xy[:-1] * (1 - t) + xy[1:] * t).reshape(-1, 2)
        if box.count_contains(xy[np.isfinite(xy).all(axis=1)]):
            return True
    for collection in ax.collections:
        for path in collection.get_paths():
            if path.get_extents(collection.get_transform()).overlaps(box):
                return True
    return any(patch.get_window_extent(renderer).overlaps(box) for patch in ax.patches)
