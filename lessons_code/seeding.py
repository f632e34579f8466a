"""The one place where random state is seeded and torch's threads are set."""

from __future__ import annotations

import os
import random

import numpy as np

#: Two cores on our machines and in CI; more threads than cores only adds contention.
DEFAULT_TORCH_THREADS = 2


def configure_torch(threads: int | None = None) -> None:
    """Pin torch to the CPU thread count we budget for (env ``GTT_TORCH_THREADS`` overrides)."""
    import torch

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
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
