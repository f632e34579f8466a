"""VENDOR PATCH of mkdocs-material 9.8.1: one rule removed from its palette stylesheet.

Material's palette stylesheet has ``[data-md-color-switching] *{transition-duration:0s!important}``. Its
script sets and removes that attribute on ``<body>`` when every page starts, and each time the rule makes the
browser restyle the whole page (two full style recalculations of a lesson's ~3,000 elements, ~90 ms of main
thread on this machine, four times that on Lighthouse's phone). Without it, a palette switch lets the few
colour transitions play (0.25 s at most).

Why a patch of the built file: no extension point serves. A rule of our own cannot undo a selector (the
restyle comes from the selector matching, whatever it sets), the stylesheet's hashed name is written into
Material's ``styles`` block (overriding it would copy the hash, which changes with every release), and the
attribute is set by Material's bundled script.

UPGRADE WARNING: written against mkdocs-material 9.8.1. After an upgrade the build warns (and the strict
build fails) if the rule is gone or changed: look again at what the palette script does on start, then
update or delete this patch.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.vendor_patch_material")

PATCHED_VERSION = "9.8.1"
PALETTE_SWITCHING_RULE = (
    "[data-md-color-switching] *,[data-md-color-switching] :after,[data-md-color-switching] :before"
    "{transition-duration:0s!important}"
)


@event_priority(-100)  # after the theme's files have been copied
def on_post_build(config, **_):
    from material import __version__ as material_version

    if material_version != PATCHED_VERSION:
        log.warning(
            "vendor_patch_material: written for mkdocs-material %s, running %s: check the patch",
            PATCHED_VERSION,
            material_version,
        )
    site = Path(config["site_dir"])
    for theme_dir in config["theme"].dirs:
        for source in (Path(theme_dir) / "assets" / "stylesheets").glob("palette.*.min.css"):
            # Checked in the theme, not the built copy, which a `mkdocs serve --dirty` rebuild may not recopy.
            if PALETTE_SWITCHING_RULE not in source.read_text(encoding="utf-8"):
                log.warning(
                    "vendor_patch_material: %s no longer has the rule %s",
                    source.name,
                    PALETTE_SWITCHING_RULE,
                )
            built = site / "assets" / "stylesheets" / source.name
            if built.is_file():
                css = built.read_text(encoding="utf-8")
                built.write_text(css.replace(PALETTE_SWITCHING_RULE, ""), encoding="utf-8")
