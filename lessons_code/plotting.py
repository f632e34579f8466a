"""One look for every figure: palette, fonts and a figure factory. Lessons set no colours of their own.

Figures are drawn on an opaque, near-white card so that they read the same in the light and the
dark palette of the site (the page frames the card; see ``docs/stylesheets/extra.css``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # headless, and the same backend on every machine

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Okabe & Ito's colour-blind-safe palette, darkened where needed for contrast on the card.
COLORS = {
    "blue": "#0072B2",
    "orange": "#D55E00",
    "green": "#009E73",
    "purple": "#8E4585",
    "sky": "#3A8FC4",
    "yellow": "#B8860B",
    "grey": "#555555",
    "black": "#1A1A1A",
}
#: Order for series that have no meaning of their own (e.g. a sweep over a parameter).
CYCLE = [COLORS[c] for c in ("blue", "orange", "green", "purple", "yellow", "sky", "grey")]
CARD = "#FCFCFC"
INK = "#1A1A1A"
GRID = "#DDDDDD"


def sequential(n: int, cmap: str = "viridis") -> list[str]:
    """n colours along a perceptually uniform map (for ordered sweeps such as spectral radii)."""
    # Stop short of the pale end of the map: those colours vanish on the near-white card.
    values = np.linspace(0.0, 0.75, n) if n > 1 else [0.4]
    cm = matplotlib.colormaps[cmap]
    return [matplotlib.colors.to_hex(cm(v)) for v in values]


STYLE = {
    "figure.facecolor": CARD,
    "axes.facecolor": CARD,
    "savefig.facecolor": CARD,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"],
    "text.color": INK,
    # Text stays text: smaller files, selectable labels, and no font-dependent glyph paths.
    "svg.fonttype": "none",
    # A fixed salt makes the ids in the SVG (clip paths, markers) identical across runs.
    "svg.hashsalt": "gradients-through-time",
    "mathtext.fontset": "dejavusans",
}


def new_figure(
    size: tuple[float, float], panels: tuple[int, int] = (1, 1)
) -> tuple[Figure, Axes | tuple[Axes, ...]]:
    """A styled figure with rows x cols axes: a single Axes, or a flat tuple of them."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(*panels, figsize=size, layout="constrained", squeeze=False)
    flat = tuple(axes.ravel())
    return fig, flat[0] if len(flat) == 1 else flat


CARD_PX = (1200, 630)  # the link-preview image that chat and social sites show (Open Graph)


def render_card_png(fig: Figure) -> bytes:
    """The figure as large as fits, centred on a 1200x630 card of its own background colour, as PNG bytes
    with no software version (PNG has no date) so identical inputs give identical bytes."""
    from PIL import Image

    width, height = fig.get_size_inches()
    margin = 30
    dpi = min((CARD_PX[0] - 2 * margin) / width, (CARD_PX[1] - 2 * margin) / height)
    buf = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    image = Image.open(buf).convert("RGB")
    card = Image.new("RGB", CARD_PX, CARD)
    card.paste(image, ((CARD_PX[0] - image.width) // 2, (CARD_PX[1] - image.height) // 2))
    out = io.BytesIO()
    card.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(fig: Figure) -> bytes:
    """The figure as SVG bytes, with no date or tool version so identical inputs give identical bytes."""
    buf = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


def log_axis(ax: Axes, axis: str = "y") -> None:
    """Log scale with decade ticks only (avoids crowded minor labels)."""
    getattr(ax, f"set_{axis}scale")("log")
    locator = matplotlib.ticker.LogLocator(base=10, numticks=8)
    getattr(ax, f"{axis}axis").set_major_locator(locator)


def annotate_points(
    ax: Axes, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str], color: str = INK
) -> None:
    """Mark and label a few points (values quoted in the prose)."""
    ax.scatter(xs, ys, s=22, color=color, zorder=3)
    for x, y, label in zip(xs, ys, labels):
        ax.annotate(
            label, (x, y), textcoords="offset points", xytext=(6, 6), fontsize=9, color=color
        )
