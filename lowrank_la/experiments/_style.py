"""The figure style shared by the reproductions: every figure is readable at the width of the docs page.

The docs show a figure (saved with ``bbox_inches="tight"``) at most :data:`DOCS_WIDTH` inches wide (about 700 px at
96 dpi), so a figure drawn wider is shrunk by ``width / DOCS_WIDTH``. :func:`finish` sets every font size so that,
after that shrinking, tick labels and legend text are :data:`TEXT_POINTS` points, axis labels
:data:`LABEL_POINTS` and titles :data:`TITLE_POINTS`, and moves a legend that covers data outside its axes.
"""

import numpy as np

__all__ = ["DOCS_WIDTH", "TEXT_POINTS", "LABEL_POINTS", "TITLE_POINTS", "docs_scale", "finish"]

DOCS_WIDTH = 7.3
TEXT_POINTS = 9.0
LABEL_POINTS = 10.0
TITLE_POINTS = 11.0


def docs_scale(fig) -> float:
    """The factor by which `fig`, saved with ``bbox_inches="tight"``, is shrunk to fit the docs width (>= 1)."""
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width
    return max(1.0, width / DOCS_WIDTH)


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
    return fig


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
    """Redraw `legend` at font `size`, keeping its entries, columns and placement (anchor in axes coordinates)."""
    labels = [text.get_text() for text in legend.get_texts()]
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
        size = legend.get_texts()[0].get_fontsize()
        width = ax.get_window_extent(renderer).width
        under_labels = ax.transAxes.inverted().transform((0.0, ax.get_tightbbox(renderer).y0))[1]
        for ncols in range(len(labels), 0, -1):
            legend = ax.legend(legend.legend_handles, labels, fontsize=size, ncols=ncols, loc="upper center",
                               bbox_to_anchor=(0.5, under_labels - 0.02), bbox_transform=ax.transAxes, borderaxespad=0)
            if ncols == 1 or legend.get_window_extent(renderer).width <= width:
                break


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
