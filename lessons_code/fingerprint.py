"""Cheap checks that need neither numpy nor torch, so the MkDocs hook can skip a no-op rebuild fast.

After a complete, successful ``figures`` run the CLI writes ``stamp.json``: a hash of every source
file in the package, the package versions and preset, and the SHA-256 of every key file. If all of
that still matches, nothing can be stale and the hook need not start a Python process at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path

from lessons_code.paths import PACKAGE_DIR

VERSIONED_PACKAGES = ("numpy", "torch", "matplotlib")
STAMP = "stamp.json"


def versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Python's version and each package's installed version (without importing any of them)."""
    found = {"python": platform.python_version()}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


#: CPU features that decide which vector kernels numpy, OpenBLAS/MKL and torch's ATen dispatch to, and the
#: environment variables that override that choice. Different kernels round differently.
CPU_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512dq",
    "avx512cd",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "asimd",
    "sve",
)
CPU_ENV = (
    "ATEN_CPU_CAPABILITY",
    "MKL_ENABLE_INSTRUCTIONS",
    "MKL_CBWR",
    "NPY_DISABLE_CPU_FEATURES",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def cpu_signature() -> dict[str, object]:
    """The machine's kernel-relevant CPU features and overrides, read without importing numpy or torch."""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[1].split())
                break
    except OSError:  # not Linux: the machine type stands in for the flags
        pass
    return {
        "machine": platform.machine(),
        "flags": sorted(flags.intersection(CPU_FLAGS)),
        "env": {name: os.environ[name] for name in CPU_ENV if name in os.environ},
    }


def package_sources_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(
            str(path.relative_to(PACKAGE_DIR)).encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return digest.hexdigest()


def _current(out_dir: Path, preset: str) -> dict:
    keys = {
        p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out_dir.glob("*.key"))
    }
    return {
        "preset": preset,
        "sources": package_sources_hash(),
        "versions": versions(),
        "keys": keys,
        "cpu": cpu_signature(),
        "threads": os.environ.get("GTT_TORCH_THREADS", ""),
    }


def write_stamp(out_dir: Path, preset: str) -> None:
    (out_dir / STAMP).write_text(json.dumps(_current(out_dir, preset), indent=1, sort_keys=True))


def stamp_matches(out_dir: Path, preset: str) -> bool:
    """True if the last complete run used exactly these sources, versions, preset and cache entries.

    Key files vouch for their SVG and JSON by hash; checking those hashes here as well means a
    hand-edited or truncated figure file is still caught without starting Python.
    """
    try:
        stamp = json.loads((out_dir / STAMP).read_text())
        if stamp != _current(out_dir, preset):
            return False
        for name in stamp["keys"]:
            record = json.loads((out_dir / f"{name}.key").read_text())
            for suffix in ("svg", "json"):
                data = (out_dir / f"{name}.{suffix}").read_bytes()
                if hashlib.sha256(data).hexdigest() != record[f"{suffix}_sha256"]:
                    return False
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return False


def clear_stamp(out_dir: Path) -> None:
    (out_dir / STAMP).unlink(missing_ok=True)
