"""Recurrent layers: RNN, LSTM (with proj_size), GRU (num_layers, bidirectional, batch_first, dropout
between layers) and RNNCell, LSTMCell, GRUCell.

Parameter names, shapes, gate order (LSTM: i, f, g, o; GRU: r, z, n) and initialisation
U(-1/sqrt(hidden), 1/sqrt(hidden)) are PyTorch's, so state_dicts interchange. The input projection of
every time step is one batched matmul per layer and direction; only the recurrence loops over time.
"""

from __future__ import annotations

import math

import ember
from ember.nn import LayerSample, Module, Parameter, init
from ember.nn import functional as F

from ._checks import RankError, expect_tensor

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _rnn_step(activation):
    def step(x_proj, h, w_hh, b_hh):
        return activation(x_proj + F.linear(h, w_hh, b_hh))
    return step


def _gru_step(x_proj, h, w_hh, b_hh):
    i_r, i_z, i_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


def _lstm_step(x_proj, state, w_hh, b_hh, w_hr=None):
    h, c = state
    i, f, g, o = (x_proj + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU: parameters per layer and direction, shape checks, the
    time loop."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in [0, 1], got {dropout}")
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{name}: hidden_size and num_layers must be positive, got {hidden_size}, {num_layers}")
        if proj_size < 0 or (proj_size and mode != "LSTM") or proj_size >= hidden_size > 0 and proj_size:
            raise ValueError(f"{name}: proj_size must be 0, or (LSTM only) positive and smaller than hidden_size "
                             f"({hidden_size}); got {proj_size}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{suffix}", (gate_size,)), (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    shapes.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname, Parameter(ember.empty(*shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(pname)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _weights(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"), get(f"weight_hr_l{layer}{suffix}"))

    def _check_input(self, input):
        expect_tensor(self, input)
        if input.dim() not in (2, 3):
            raise RankError(f"{self._get_name()}({self.extra_repr()}): expected 2-D (unbatched) or 3-D "
                                       f"(batched) input, got {input.dim()}-D input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input with last dimension "
                                       f"{self.input_size} (input_size), got shape {tuple(input.shape)}")

    def _check_hidden(self, hx, expected, what):
        if tuple(hx.shape) != expected:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected {what} of shape "
                                       f"{expected}, got {tuple(hx.shape)}")

    def _step(self):
        if self.mode == "GRU":
            return _gru_step
        return _rnn_step(F.relu if self.mode == "RNN_RELU" else F.tanh)

    def flatten_parameters(self) -> None:
        """A cuDNN memory-layout step in PyTorch; ember's weights need none, so nothing to do."""

    def _forward_packed(self, packed, hx):
        """A PackedSequence runs sequence by sequence (each at its own length), so padded steps never touch
        the state: outputs and final states are those PyTorch gives for packed input."""
        from ember.nn.utils.rnn import PackedSequence, pad_packed_sequence
        padded, lengths = pad_packed_sequence(packed)  # (T, B, *) in the caller's batch order
        outputs, finals = [], []
        for b, length in enumerate(lengths.tolist()):
            seq = padded[:length, b:b + 1]
            if self.batch_first:
                seq = seq.transpose(0, 1)
            h_b = None if hx is None else (tuple(h[:, b:b + 1] for h in hx) if isinstance(hx, tuple) else hx[:, b:b + 1])
            out, state = self.forward(seq, h_b)
            outputs.append(out.transpose(0, 1) if self.batch_first else out)
            finals.append(state)
        longest = padded.shape[0]
        width = outputs[0].shape[-1]
        cols = [ember.cat([o, o.new_zeros((longest - o.shape[0], 1, width))], 0) if o.shape[0] < longest else o
                for o in outputs]
        out = ember.cat(cols, 1)
        order = packed.sorted_indices
        if order is not None:
            out = out.index_select(1, order.to(out.device))
        sizes = [int(n) for n in packed.batch_sizes.tolist()]
        data = ember.cat([out[t, :n] for t, n in enumerate(sizes)], 0)
        if isinstance(finals[0], tuple):
            state = tuple(ember.cat([f[i] for f in finals], 1) for i in range(len(finals[0])))
        else:
            state = ember.cat(finals, 1)
        return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), state

    def forward(self, input, hx=None):
        if isinstance(input, tuple) and hasattr(input, "batch_sizes"):
            return self._forward_packed(input, hx)
        self._check_input(input)
        unbatched = input.dim() == 2
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        batch = input.shape[1]
        directions = 2 if self.bidirectional else 1
        out_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        is_lstm = self.mode == "LSTM"
        h_shape = (self.num_layers * directions, batch, out_hidden)
        if hx is None:
            h0 = ember.zeros(*h_shape, dtype=input.dtype, device=input.device)
            c0 = ember.zeros(self.num_layers * directions, batch, self.hidden_size, dtype=input.dtype,
                             device=input.device) if is_lstm else None
        elif is_lstm:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(f"{self._get_name()}: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = hx
            self._check_hidden(h0, h_shape, "h_0")
            self._check_hidden(c0, (h_shape[0], batch, self.hidden_size), "c_0")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, h_shape, "hx")
        step = None if is_lstm else self._step()
        h_n, c_n = [], []
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                index = layer * directions + direction
                steps = F.linear(layer_input, w_ih, b_ih).unbind(0)
                order = range(len(steps) - 1, -1, -1) if direction == 1 else range(len(steps))
                seq = [None] * len(steps)
                if is_lstm:
                    state = (h0[index], c0[index])
                    for t in order:
                        state = _lstm_step(steps[t], state, w_hh, b_hh, w_hr)
                        seq[t] = state[0]
                    h_n.append(state[0])
                    c_n.append(state[1])
                else:
                    h = h0[index]
                    for t in order:
                        h = seq[t] = step(steps[t], h, w_hh, b_hh)
                    h_n.append(h)
                outputs.append(ember.stack(seq, 0) if seq else ember.zeros(0, batch, out_hidden, dtype=input.dtype))
            layer_input = outputs[0] if directions == 1 else ember.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        h_n = ember.stack(h_n, 0)
        hidden = (h_n, ember.stack(c_n, 0)) if is_lstm else h_n
        if unbatched:
            output = output.squeeze(1)
            hidden = tuple(h.squeeze(1) for h in hidden) if is_lstm else hidden.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, hidden


class RNN(RNNBase):
    """Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu) (``torch.nn.RNN``); returns ``output, h_n``.

    Shape:
        - input: ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or unbatched ``(L, H_in)``, H_in =
          ``input_size``; floating point.
        - hx: ``(D * num_layers, N, H_out)`` (``(D * num_layers, H_out)`` unbatched); zeros when omitted.
        - output: ``(L, N, D * H_out)`` (batch first or unbatched as ``input``), D = 2 if ``bidirectional`` else 1,
          H_out = ``hidden_size``.
        - h_n: the shape of ``hx``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ValueError: ``hidden_size`` or ``num_layers`` is not positive, ``dropout`` is outside [0, 1], or
            ``nonlinearity`` is not 'tanh' or 'relu' (at construction).
        ShapeError: ``input`` is not 2-D or 3-D, its last dim is not ``input_size``, or the initial state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.RNN``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(5, 2, 3),)),
                LayerSample((3, 4), {"num_layers": 2, "nonlinearity": "relu", "bidirectional": True, "batch_first": True},
                            inputs=(make(2, 4, 3), make(4, 2, 4)), name="2 layers, relu, bidirectional, batch_first"),
                LayerSample((3, 2), {"bias": False, "num_layers": 2, "dropout": 0.5}, inputs=(make(4, 3),),
                            name="unbatched, dropout, no bias")]


class LSTM(RNNBase):
    """Long short-term memory (``torch.nn.LSTM``); returns ``output, (h_n, c_n)``.

    Shape:
        - input: ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or unbatched ``(L, H_in)``, H_in =
          ``input_size``; floating point.
        - hx: ``(h_0, c_0)``, ``h_0`` of ``(D * num_layers, N, H_out)`` and ``c_0`` of ``(D * num_layers, N,
          hidden_size)`` (no N when unbatched); zeros when omitted.
        - output: ``(L, N, D * H_out)`` (batch first or unbatched as ``input``), D = 2 if ``bidirectional`` else 1,
          H_out = ``proj_size`` or ``hidden_size``.
        - h_n, c_n: the shapes of ``h_0`` and ``c_0``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ValueError: ``hidden_size`` or ``num_layers`` is not positive, ``dropout`` is outside [0, 1], or
            ``proj_size`` is negative or not below ``hidden_size`` (at construction).
        TypeError: ``hx`` is not a tuple ``(h_0, c_0)``.
        ShapeError: ``input`` is not 2-D or 3-D, its last dim is not ``input_size``, or the initial state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.LSTM``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(5, 2, 3),)),
                LayerSample((3, 4), {"num_layers": 2, "bidirectional": True, "batch_first": True},
                            inputs=(make(2, 4, 3), (make(4, 2, 4), make(4, 2, 4))),
                            name="2 layers, bidirectional, batch_first, hx"),
                LayerSample((3, 4), {"proj_size": 2, "dropout": 0.3, "num_layers": 2}, inputs=(make(4, 3),),
                            name="proj_size, unbatched, dropout")]


class GRU(RNNBase):
    """Gated recurrent unit (``torch.nn.GRU``); returns ``output, h_n``.

    Shape:
        - input: ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``) or unbatched ``(L, H_in)``, H_in =
          ``input_size``; floating point.
        - hx: ``(D * num_layers, N, H_out)`` (``(D * num_layers, H_out)`` unbatched); zeros when omitted.
        - output: ``(L, N, D * H_out)`` (batch first or unbatched as ``input``), D = 2 if ``bidirectional`` else 1,
          H_out = ``hidden_size``.
        - h_n: the shape of ``hx``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ValueError: ``hidden_size`` or ``num_layers`` is not positive, ``dropout`` is outside [0, 1] (at
            construction).
        ShapeError: ``input`` is not 2-D or 3-D, its last dim is not ``input_size``, or the initial state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.GRU``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(5, 2, 3),)),
                LayerSample((3, 4), {"num_layers": 2, "bidirectional": True, "batch_first": True},
                            inputs=(make(2, 4, 3), make(4, 2, 4)), name="2 layers, bidirectional, batch_first"),
                LayerSample((3, 2), {"bias": False}, inputs=(make(4, 3),), name="unbatched, no bias")]


class RNNCellBase(Module):
    """One step of a recurrent layer: parameters ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(ember.empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(ember.empty(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, states):
        """Check shapes, add the batch dim to unbatched input; zero states when none are given."""
        expect_tensor(self, input)
        if input.dim() not in (1, 2):
            raise RankError(f"{self._get_name()}({self.extra_repr()}): expected 1-D (unbatched) or 2-D "
                                       f"(batched) input, got {input.dim()}-D input of shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected input with last dimension "
                                       f"{self.input_size} (input_size), got shape {tuple(input.shape)}")
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
        if hx is None:
            hx = tuple(ember.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
                       for _ in range(states))
        else:
            hx = hx if isinstance(hx, tuple) else (hx,)
            hx = tuple(h.unsqueeze(0) for h in hx) if unbatched else hx
            for h in hx:
                if tuple(h.shape) != (input.shape[0], self.hidden_size):
                    raise ember.ops.ShapeError(f"{self._get_name()}({self.extra_repr()}): expected hidden state of "
                                               f"shape {(input.shape[0], self.hidden_size)}, got {tuple(h.shape)}")
        return input, hx, unbatched


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu) (``torch.nn.RNNCell``).

    Shape:
        - input: ``(N, input_size)`` or unbatched ``(input_size,)``, floating point.
        - hx: ``(N, hidden_size)`` (``(hidden_size,)`` unbatched); zeros when omitted.
        - output: ``h'``, ``(N, hidden_size)`` or ``(hidden_size,)``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ValueError: ``nonlinearity`` is not 'tanh' or 'relu' (at construction).
        ShapeError: ``input`` is not 1-D or 2-D, its last dim is not ``input_size``, or the hidden state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.RNNCell``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r} (expected 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        step = _rnn_step(F.relu if self.nonlinearity == "relu" else F.tanh)
        h = step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(2, 3),)),
                LayerSample((3, 4), {"nonlinearity": "relu"}, inputs=(make(2, 3), make(2, 4)), name="relu, hx"),
                LayerSample((3, 2), {"bias": False}, inputs=(make(3),), name="unbatched, no bias")]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')`` (``torch.nn.LSTMCell``).

    Shape:
        - input: ``(N, input_size)`` or unbatched ``(input_size,)``, floating point.
        - hx: ``(h, c)``, each ``(N, hidden_size)`` (``(hidden_size,)`` unbatched); zeros when omitted.
        - output: ``(h', c')``, each of the shape of ``h``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ShapeError: ``input`` is not 1-D or 2-D, its last dim is not ``input_size``, or the hidden state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.LSTMCell``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        input, state, unbatched = self._prepare(input, hx, 2)
        h, c = _lstm_step(F.linear(input, self.weight_ih, self.bias_ih), state, self.weight_hh, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(2, 3),)),
                LayerSample((3, 4), inputs=(make(2, 3), (make(2, 4), make(2, 4))), name="hx"),
                LayerSample((3, 2), {"bias": False}, inputs=(make(3),), name="unbatched, no bias")]


class GRUCell(RNNCellBase):
    """One GRU step (``torch.nn.GRUCell``).

    Shape:
        - input: ``(N, input_size)`` or unbatched ``(input_size,)``, floating point.
        - hx: ``(N, hidden_size)`` (``(hidden_size,)`` unbatched); zeros when omitted.
        - output: ``h'``, ``(N, hidden_size)`` or ``(hidden_size,)``.

    Raises:
        TypeError: ``input`` is not a Tensor.
        ShapeError: ``input`` is not 1-D or 2-D, its last dim is not ``input_size``, or the hidden state has the
            wrong shape.
        DTypeError: ``input``'s dtype is not the parameters'.

    PyTorch: ``torch.nn.GRUCell``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        input, (h,), unbatched = self._prepare(input, hx, 1)
        h = _gru_step(F.linear(input, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h.squeeze(0) if unbatched else h

    @staticmethod
    def samples(make):
        return [LayerSample((3, 4), inputs=(make(2, 3),)),
                LayerSample((3, 4), inputs=(make(2, 3), make(2, 4)), name="hx"),
                LayerSample((3, 2), {"bias": False}, inputs=(make(3),), name="unbatched, no bias")]
