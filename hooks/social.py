"""Link previews: the image that a chat or a social site shows when someone shares a page.

overrides/main.html writes the ``og:`` and ``twitter:`` tags of every page (absolute addresses from
site_url); this hook chooses each page's image and makes the site's own card:

- a page with figures is shown by its first figure, as the 1200x630 PNG card that the figure runner
  writes beside the SVG (``NAME.png``; lessons_code/runner.py), added to the site here;
- a page without a figure (the home page, the glossary, a notebook) is shown by the site card,
  ``assets/images/social-card.png``: the site's name and description on the figures' card colour,
  drawn with matplotlib at build time (no font or image from another host, and byte-identical
  between builds: PNG metadata without date or software version).

Material's own social plugin makes cards too, but it downloads its fonts from Google Fonts while
building, and the build has no network.
"""

from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

from mkdocs.structure.files import File

from lessons_code import paths

SITE_CARD = "assets/images/social-card.png"
CARD_PX = (1200, 630)
FIGURE = re.compile(r'<figure class="gtt-figure" id="fig-(l\d\d_[a-z0-9_]+)"')
_cards: dict[str, Path] = {}


def on_files(files, config, **_):
    _cards.clear()
    figures = paths.figures_dir(paths.build_preset())
    for png in sorted(figures.glob("l[0-9][0-9]_*.png")):
        uri = f"figures/{png.name}"
        _cards[png.stem] = png
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, abs_src_path=str(png)))
    files.append(
        File.generated(
            config, SITE_CARD, content=site_card(config.site_name, config.site_description)
        )
    )
    return files


def on_page_content(html, page, **_):
    match = next((m for m in FIGURE.finditer(html) if m.group(1) in _cards), None)
    page.meta["social_card"] = f"figures/{match.group(1)}.png" if match else SITE_CARD
    return html


def site_card(title: str, description: str) -> bytes:
    """The site's name and description, 1200x630 PNG, the same bytes for the same text."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from lessons_code import plotting

    dpi = 100
    fig = Figure(figsize=(CARD_PX[0] / dpi, CARD_PX[1] / dpi), dpi=dpi, facecolor=plotting.CARD)
    fig.text(0.07, 0.70, title, fontsize=54, fontweight="bold", color=plotting.INK, va="center")
    wrapped = "\n".join(textwrap.wrap(" ".join(description.split()), 58))
    fig.text(0.07, 0.52, wrapped, fontsize=24, color=plotting.INK, va="top", linespacing=1.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor=plotting.CARD, metadata={"Software": None})
    return buf.getvalue()
