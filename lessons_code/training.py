"""Core: one training loop, and the gradient monitors the chapter uses to look inside it.

- ``states``: run a recurrent core one step at a time so that every hidden state h_t is a tensor of its
  own (the monitors differentiate with respect to them);
- ``monitor``: ||dL/dh_t|| for every step t, and the gradient norm of every parameter;
- ``clip``: norm clipping that returns the norm before clipping, for one model or for stacked models;
- ``train``: the loop every figure, exercise and the cheat-sheet recipe trains with: optional norm
  clipping (Pascanu, Mikolov & Bengio 2013), a gradient-norm log at every step, evaluation with early
  stopping, and a choice of what to do when the loss or the gradient stops being finite.

Pages embed these sections and notebooks include them; they need torch only.
"""

from __future__ import annotations

# --8<-- [start:imports]
import math
from dataclasses import dataclass, field

import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:states]
def hidden_states(core: nn.RNNBase, x: torch.Tensor) -> list[torch.Tensor]:
    """Hidden states h_1..h_T of a batch_first nn.RNN, nn.LSTM or nn.GRU for inputs x (batch, T, features),
    one tensor per step, shaped (layers, batch, hidden) as the core carries them ([-1]: the top layer).
    Stepping one step at a time makes each h_t a node of the graph that autograd can differentiate with
    respect to; the fused whole-sequence call keeps them inside."""
    carry, states = None, []
    for t in range(x.shape[1]):
        _, carry = core(x[:, t : t + 1], carry)
        states.append(carry[0] if isinstance(carry, tuple) else carry)  # an LSTM carries (h, c)
    return states
    # --8<-- [end:states]


# --8<-- [start:monitor]
def hidden_gradient_norms(core: nn.RNNBase, x: torch.Tensor, loss_fn) -> torch.Tensor:
    """||dL/dh_t|| for every step t = 1..T and every sequence: shape (T, batch).

    loss_fn maps the last hidden state of the top layer (batch, hidden) to a scalar loss. Parameters'
    .grad are left untouched. A profile that falls by many decades towards t = 1 (or hits exact zeros in
    float32) means the gradient vanishes before it reaches the early steps; one that grows means it explodes.
    """
    states = hidden_states(core, x)
    grads = torch.autograd.grad(loss_fn(states[-1][-1]), states)
    return torch.stack([g[-1].norm(dim=-1) for g in grads])


def gradient_ratio_by_lag(core: nn.RNNBase, x: torch.Tensor, readout: torch.Tensor):
    """Median over the batch of ||dL/dh_{T-k}|| / ||dL/dh_T|| for lags k = 0..T-1, where L is the sum over
    the batch of readout . h_T: how much of the signal at the last step reaches k steps back."""
    norms = hidden_gradient_norms(core, x, lambda h: (h @ readout).sum()).detach()
    return (norms / norms[-1]).median(dim=1).values.flip(0).numpy()


def parameter_gradient_norms(model: nn.Module) -> dict[str, float]:
    """The norm of each parameter's gradient after loss.backward(): which weights the loss pulls hardest."""
    return {
        name: p.grad.norm().item() for name, p in model.named_parameters() if p.grad is not None
    }
    # --8<-- [end:monitor]


# --8<-- [start:clip]
def clip_gradients_(parameters, max_norm, per_model=False):
    """Rescale the gradients, in place, to norm at most max_norm (None: leave them); return the norm *before*
    clipping, the number that explodes and the one to log.

    One model: torch.nn.utils.clip_grad_norm_ over all parameters. Stacked models (per_model=True: every
    parameter has the model on axis 0): each model's gradient on its own, and max_norm may be a tensor with
    one threshold per model (inf for a model that is not clipped).
    """
    if max_norm is not None:
        thresholds = torch.as_tensor(max_norm, dtype=torch.float64)
        if isinstance(max_norm, bool) or not bool((thresholds > 0).all()):  # NaN > 0 is False too
            raise ValueError(
                f"max_norm must be a number > 0 (inf: never clip) or None, got {max_norm!r}"
            )
    parameters = [p for p in parameters if p.grad is not None]
    if not per_model:
        return nn.utils.clip_grad_norm_(parameters, math.inf if max_norm is None else max_norm)
    norms = torch.sqrt(sum(p.grad.pow(2).flatten(1).sum(1) for p in parameters))
    if max_norm is not None:
        # the same 1e-6 guard as clip_grad_norm_
        scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
        for p in parameters:
            p.grad.mul_(scale.view(-1, *[1] * (p.grad.dim() - 1)))
    return norms
    # --8<-- [end:clip]


# --8<-- [start:train]
@dataclass
class TrainingLog:
    # training loss at each step (one per model if stacked)
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)  # gradient norm at each step, before clipping
    evals: list = field(default_factory=list)  # (step, value) of every evaluation
    stopped_at: int | None = None  # the step at which `stop` said the task was done
    diverged_at: int | None = None  # the first step whose loss or gradient was NaN or infinite


def train(
    model,
    next_batch,
    loss_fn,
    optimiser,
    steps,
    max_norm=None,
    per_model=False,
    evaluate=None,
    eval_every=50,
    stop=None,
    on_nonfinite="stop",
):
    """Train `model` for up to `steps` optimiser steps and return a TrainingLog.

    next_batch() returns (x, y); loss_fn(model, x, y) returns the loss (one per model for stacked models,
    per_model=True, whose gradients are clipped and logged model by model). max_norm: clip the gradient
    norm to this, or None for no clipping; the norm before clipping is logged either way. evaluate(model),
    if given, runs at step 0, every `eval_every` steps and at the end; training stops early once
    stop(value) is true. A non-finite loss or gradient: "stop" ends training, "skip" drops that update
    (the weights stay finite), "continue" applies it anyway (stacked models: one bad model must not stop
    the others).
    """
    if on_nonfinite not in ("stop", "skip", "continue"):
        raise ValueError(f"on_nonfinite must be 'stop', 'skip' or 'continue', got {on_nonfinite!r}")
    log = TrainingLog()
    for step in range(steps + 1):
        if evaluate is not None and (step % eval_every == 0 or step == steps):
            with torch.no_grad():
                value = evaluate(model)
            log.evals.append((step, value))
            if stop is not None and stop(value):
                log.stopped_at = step
                break
        if step == steps:
            break
        x, y = next_batch()
        loss = loss_fn(model, x, y)
        optimiser.zero_grad()
        loss.sum().backward()
        norm = clip_gradients_(model.parameters(), max_norm, per_model)
        log.loss.append(loss.detach().double().numpy() if per_model else loss.item())
        log.grad_norm.append(norm.detach().double().numpy() if per_model else norm.item())
        finite = bool(torch.isfinite(loss).all() and torch.isfinite(norm).all())
        if not finite and log.diverged_at is None:
            log.diverged_at = step
        if not finite and on_nonfinite == "stop":
            break
        if finite or on_nonfinite == "continue":
            optimiser.step()
    return log
    # --8<-- [end:train]
