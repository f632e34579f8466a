"""The one place where random state is seeded and torch's threads are set."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

#: Figures always compute with one torch thread. A float32 reduction split over more threads may add in
#: another order and round differently, so a fixed count keeps results independent of the machine's cores
#: and of how many figures run side by side; the figures CLI uses the cores by running two figures at once
#: in separate processes. GTT_TORCH_THREADS overrides it (and is part of every figure's cache key).
DEFAULT_TORCH_THREADS = 1


def torch_threads() -> int:
    raw = os.environ.get("GTT_TORCH_THREADS", "").strip()
    if raw and (not raw.isdigit() or int(raw) < 1):
        raise ValueError(f"GTT_TORCH_THREADS must be a whole number >= 1, got {raw!r}")
    return int(raw) if raw else DEFAULT_TORCH_THREADS


def _torch():
    """torch if some lesson has imported it, else None: figures made with numpy alone skip its slow import.

    Lessons that use torch import it at module level, so by the time the runner seeds, it is loaded.
    """
    return sys.modules.get("torch")


def configure_torch(threads: int | None = None) -> None:
    """Pin torch to the CPU thread count we budget for (env ``GTT_TORCH_THREADS`` overrides)."""
    torch = _torch()
    if torch is None:
        return

    n = threads or torch_threads()
    torch.set_num_threads(n)
    # Inter-op threads can only be set once per process, before any parallel work has run.
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy's legacy global state and torch; return a fresh numpy Generator.

    Compute functions receive the returned generator explicitly; torch code relies on the
    global torch seed set here (``nn.Module`` initialisers draw from it).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch = _torch()
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)
