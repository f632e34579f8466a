"""Core: the recurrent models of the chapter and their initialisations, each defined once.

- ``inits``: orthogonal recurrent weights (Saxe, McClelland & Ganguli 2014), the identity initialisation
  of a ReLU RNN, the IRNN (Le, Jaitly & Hinton 2015), and a chosen forget-gate bias for an LSTM
  (Gers, Schmidhuber & Cummins 2000; Jozefowicz, Zaremba & Sutskever 2015 recommend 1);
- ``cores``: the four contestants as torch.nn modules: tanh RNN, IRNN, LSTM, GRU (Cho et al. 2014);
- ``regressor``: a recurrent core with a linear readout at the last step;
- ``stacked``: many small RNNs of the same shape, one per seed or setting, stepped together.

Every lesson, exercise, cheat-sheet recipe and notebook uses these: pages embed the sections, notebooks
include them. They need torch only.
"""

from __future__ import annotations

# --8<-- [start:imports]
import torch
from torch import nn
# --8<-- [end:imports]


# --8<-- [start:inits]
IRNN_INPUT_STD = 1e-3  # Le et al.'s input weights: N(0, 0.001^2)


def init_orthogonal(rnn: nn.RNNBase) -> None:
    """Make every recurrent weight block orthogonal (Saxe et al., 2014): all its singular values are 1.

    nn.RNN has one (hidden x hidden) block in weight_hh, nn.GRU three and nn.LSTM four (one per gate and
    the candidate); each block is made orthogonal on its own. Input weights and biases keep PyTorch's defaults.
    """
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("weight_hh"):
                for block in param.split(rnn.hidden_size, dim=0):
                    nn.init.orthogonal_(block)


def init_identity(rnn: nn.RNN, input_std: float = IRNN_INPUT_STD) -> None:
    """The IRNN of Le, Jaitly & Hinton (2015): a ReLU RNN whose recurrent matrix starts as the identity,
    with zero biases and input weights drawn from N(0, input_std^2)."""
    if rnn.nonlinearity != "relu":
        raise ValueError("identity initialisation is meant for nn.RNN(..., nonlinearity='relu')")
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("weight_hh"):
                nn.init.eye_(param)
            elif name.startswith("weight_ih"):
                nn.init.normal_(param, std=input_std)
            else:
                nn.init.zeros_(param)


def set_forget_bias(lstm: nn.LSTM, value: float = 1.0) -> None:
    """Start every forget gate at total bias `value`. PyTorch orders an LSTM's gates (input, forget, cell,
    output) and adds two biases, bias_ih and bias_hh: the first gets `value`, the second 0."""
    h = lstm.hidden_size
    with torch.no_grad():
        for name, param in lstm.named_parameters():
            if name.startswith("bias_ih"):
                param[h : 2 * h] = value
            elif name.startswith("bias_hh"):
                param[h : 2 * h] = 0.0
    # --8<-- [end:inits]


# --8<-- [start:cores]
def tanh_rnn(inputs: int, hidden: int) -> nn.RNN:
    """PyTorch's own initialisation: every weight and bias uniform in (-1/sqrt(hidden), 1/sqrt(hidden))."""
    return nn.RNN(inputs, hidden, nonlinearity="tanh", batch_first=True)


def irnn(inputs: int, hidden: int) -> nn.RNN:
    rnn = nn.RNN(inputs, hidden, nonlinearity="relu", batch_first=True)
    init_identity(rnn)
    return rnn


def lstm(inputs: int, hidden: int, forget_bias: float | None = None) -> nn.LSTM:
    """An nn.LSTM; with forget_bias, its forget gates start at that bias (else PyTorch's random biases)."""
    cell = nn.LSTM(inputs, hidden, batch_first=True)
    if forget_bias is not None:
        set_forget_bias(cell, forget_bias)
    return cell


def gru(inputs: int, hidden: int) -> nn.GRU:
    return nn.GRU(inputs, hidden, batch_first=True)


CORES = {"tanh_rnn": tanh_rnn, "irnn": irnn, "lstm": lstm, "gru": gru}
# --8<-- [end:cores]


# --8<-- [start:regressor]
class LastStepRegressor(nn.Module):
    """Run a recurrent core over the whole sequence, then read one number off the last hidden state."""

    def __init__(self, core: nn.RNNBase):
        super().__init__()
        self.core = core
        self.head = nn.Linear(core.hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.core(x)  # (batch, T, hidden): the hidden state after every step
        return self.head(outputs[:, -1]).squeeze(-1)
        # --8<-- [end:regressor]


# --8<-- [start:stacked]
class StackedRNN(nn.Module):
    """Many one-layer RNNs of the same shape, each with its own linear readout, stepped together.

    Model g computes h_t = phi(W_ih[g] x_t + W_hh[g] h_{t-1} + b[g]), the recurrence of nn.RNN, and reads
    out W_out[g] h_t + b_out[g]. The models start as copies of the nn.RNN cores they are built from (so
    tanh_rnn or irnn above decide the initialisation) and each gets a fresh nn.Linear readout. Stacking
    them on a leading axis lets one training loop train many seeds or settings at once; no model sees
    another's weights or data, and a model that diverges leaves the others alone.
    """

    def __init__(self, cores: list[nn.RNN], outputs: int):
        super().__init__()
        self.phi = {"tanh": torch.tanh, "relu": torch.relu}[cores[0].nonlinearity]
        heads = [nn.Linear(core.hidden_size, outputs) for core in cores]

        def stack(tensors):
            return nn.Parameter(torch.stack([t.detach().clone() for t in tensors]))

        self.W_ih = stack(c.weight_ih_l0 for c in cores)
        self.W_hh = stack(c.weight_hh_l0 for c in cores)
        self.b = stack((c.bias_ih_l0 + c.bias_hh_l0)[None] for c in cores)
        self.W_out = stack(h.weight for h in heads)
        self.b_out = stack(h.bias[None] for h in heads)

    def states(self, x, truncate_every=None):
        """Hidden states h_1..h_T, shape (models, batch, T, hidden), for inputs x of shape (models, batch, T, in).

        truncate_every: one truncation length k per model (a tensor), or None for full backpropagation
        through time. For model g the gradient is cut before every step t that is a multiple of k[g], as
        truncated BPTT over chunks of k steps does (the state is carried on, its gradient is not)."""
        drive = torch.einsum("gbti,ghi->gbth", x, self.W_ih) + self.b[:, None]
        h = torch.zeros(x.shape[0], x.shape[1], self.W_hh.shape[1], dtype=x.dtype)
        states = []
        # unbind: its backward is one stack, not T copies
        for t, drive_t in enumerate(drive.unbind(2)):
            if truncate_every is not None and t > 0:
                cut = (t % truncate_every) == 0
                if bool(cut.any()):
                    h = torch.where(cut[:, None, None], h.detach(), h)
            h = self.phi(torch.baddbmm(drive_t, h, self.W_hh.transpose(1, 2)))
            states.append(h)
        return torch.stack(states, 2)

    def forward(self, x, every_step=False, truncate_every=None):
        """Readout at the last step, (models, batch, out); with every_step=True at every step,
        (models, batch, T, out)."""
        states = self.states(x, truncate_every)
        if every_step:
            return torch.einsum("gbth,goh->gbto", states, self.W_out) + self.b_out[:, None]
        return torch.baddbmm(self.b_out, states[:, :, -1], self.W_out.transpose(1, 2))
        # --8<-- [end:stacked]
