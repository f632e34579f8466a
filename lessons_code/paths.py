"""Where generated files live: always relative to this package, never the working directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

#: Figures, facts and cache keys. Overridable so tests can build into a temporary directory.
FIGURES_ENV = "GTT_FIGURES_DIR"


def figures_dir(preset: str = "publish") -> Path:
    """Where one preset's figures go; each preset has its own directory so switching recomputes nothing."""
    override = os.environ.get(FIGURES_ENV)
    return Path(override).resolve() if override else REPO_ROOT / "build" / "figures" / preset


PRESET_ENV = "GTT_PRESET"
PRESETS = ("publish", "fast")


def build_preset() -> str:
    """The preset the site build uses: GTT_PRESET=fast for tests and quick previews, else publish."""
    value = os.environ.get(PRESET_ENV, "publish")
    if value not in PRESETS:
        raise ValueError(f"{PRESET_ENV} must be one of {', '.join(PRESETS)}, got {value!r}")
    return value
