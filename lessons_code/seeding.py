"""The one place where random state is seeded and torch's threads are set."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

#: Two cores on our machines and in CI; more threads than cores only adds contention.
DEFAULT_TORCH_THREADS = 2


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

    n = threads or int(os.environ.get("GTT_TORCH_THREADS", DEFAULT_TORCH_THREADS))
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
