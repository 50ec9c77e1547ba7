"""Round 52 (rnnhooks): ``nn.RNN``/``nn.LSTM``/``nn.GRU``'s forward calls ``permute_hidden`` and
``check_forward_args`` at PyTorch's points, so a subclass's override takes effect, and refuses a bad
state with PyTorch's messages and exception classes."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

KINDS = ["RNN", "GRU", "LSTM"]


def _shapes(v):
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return tuple(_shapes(t) for t in v)
    return tuple(v.shape)


def _recorder(m, kind):
    """A subclass that logs each call of the two hooks, then runs the base's."""

    class Rec(getattr(m.nn, kind)):
        def check_forward_args(self, input, hidden, batch_sizes):
            self.log.append(
                (
                    "check",
                    _shapes(input),
                    _shapes(hidden),
                    None if batch_sizes is None else batch_sizes.tolist(),
                )
            )
            return super().check_forward_args(input, hidden, batch_sizes)

        def permute_hidden(self, hx, permutation):
            self.log.append(("permute", _shapes(hx), None if permutation is None else permutation.tolist()))
            return super().permute_hidden(hx, permutation)

    return Rec


def _copy(t_layer, g_layer):
    for name, value in t_layer.state_dict().items():
        getattr(g_layer, name).data = gg.from_numpy(value.detach().numpy().copy())


def _state(m, kind, shape, cell=None, rng=None):
    h = m.from_numpy(rng.standard_normal(shape))
    if kind != "LSTM":
        return h
    return h, m.from_numpy(rng.standard_normal(cell or shape))


def _inputs(m, x, lengths):
    """Padded, batch of 3; packed unsorted (sorted_indices not None); unbatched."""
    padded = m.from_numpy(x)
    packed = m.nn.utils.rnn.pack_padded_sequence(padded, m.tensor(lengths), enforce_sorted=False)
    return padded, packed, m.from_numpy(x[:, 0])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_state", [False, True], ids=["zeros", "given"])
def test_hooks_are_called_as_pytorch(torch, kind, with_state):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 2))
    kw = {"num_layers": 2, "bidirectional": True}
    if kind == "LSTM":
        kw["proj_size"] = 2
    t_layer = _recorder(torch, kind)(2, 4, **kw).double()
    g_layer = _recorder(gg, kind)(2, 4, **kw).double()
    _copy(t_layer, g_layer)
    width = 2 if kind == "LSTM" else 4
    h = rng.standard_normal((4, 3, width)), rng.standard_normal((4, 3, 4))
    for i, (t_in, g_in) in enumerate(
        zip(_inputs(torch, x, [5, 2, 4]), _inputs(gg, x, [5, 2, 4]), strict=True)
    ):
        t_layer.log, g_layer.log = [], []
        pick = (slice(None), 0) if i == 2 else (slice(None),)
        states = [None, None]
        if with_state:
            for j, m in enumerate((torch, gg)):
                hs = [m.from_numpy(a[pick].copy()) for a in h]
                states[j] = tuple(hs) if kind == "LSTM" else hs[0]
        t_out, t_hid = t_layer(t_in, states[0])
        g_out, g_hid = g_layer(g_in, states[1])
        assert g_layer.log == t_layer.log
        t_out = t_out.data if i == 1 else t_out
        g_out = g_out.data if i == 1 else g_out
        np.testing.assert_allclose(g_out.detach().numpy(), t_out.detach().numpy(), rtol=0, atol=1e-12)
        t_hid = t_hid if kind == "LSTM" else (t_hid,)
        g_hid = g_hid if kind == "LSTM" else (g_hid,)
        for a, b in zip(g_hid, t_hid, strict=True):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=0, atol=1e-12)


def _batch_first_state(m, kind):
    """A subclass whose state is given and returned batch-major, ``(N, L*D, H)``: its
    ``permute_hidden`` transposes (after PyTorch's own reordering)."""

    class BatchFirstState(getattr(m.nn, kind)):
        def check_forward_args(self, input, hidden, batch_sizes):
            if isinstance(hidden, tuple):  # LSTM checks before permute_hidden: still batch-major
                hidden = tuple(t.transpose(0, 1) for t in hidden)
            super().check_forward_args(input, hidden, batch_sizes)

        def permute_hidden(self, hx, permutation):
            if isinstance(hx, tuple):
                return tuple(self.permute_hidden(t, permutation) for t in hx)
            if hx.shape[0] == self.num_layers * (2 if self.bidirectional else 1) and permutation is None:
                return hx.transpose(0, 1).contiguous()  # the layer's (L*D, N, H) out as (N, L*D, H)
            hx = hx.transpose(0, 1).contiguous()  # the caller's (N, L*D, H) in as (L*D, N, H)
            return hx if permutation is None else hx.index_select(1, permutation)

    return BatchFirstState


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_permute_hidden_override_takes_effect_with_gradients(torch, kind, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    h = rng.standard_normal((3, 2, 5)).astype(dtype)  # (N, L, H): batch-major
    tol = 1e-12 if dtype == "float64" else 1e-5
    results = []
    layers = [_batch_first_state(m, kind)(2, 5, num_layers=2).to(getattr(m, dtype)) for m in (torch, gg)]
    _copy(*layers)
    for m, layer in zip((torch, gg), layers, strict=True):
        xin = m.from_numpy(x.copy()).requires_grad_()
        hin = m.from_numpy(h.copy()).requires_grad_()
        state = (hin, hin * 2) if kind == "LSTM" else hin
        out, hid = layer(xin, state)
        hid = hid[0] if kind == "LSTM" else hid
        (out.sum() + (hid * hid).sum()).backward()
        results.append([out, hid, xin.grad, hin.grad, *(p.grad for p in layer.parameters())])
    for a, b in zip(results[1], results[0], strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", KINDS)
def test_a_check_forward_args_override_takes_effect(torch, kind):
    class Refusing(getattr(gg.nn, kind)):
        def check_forward_args(self, input, hidden, batch_sizes):
            raise KeyError("refused by the subclass")

    layer = Refusing(2, 3)
    with pytest.raises(KeyError, match="refused by the subclass"):
        layer(gg.zeros(4, 1, 2))  # called with the zero state too (LSTM's padded path)

    class CheckInput(getattr(gg.nn, kind)):  # a helper the base check_forward_args calls
        def check_input(self, input, batch_sizes):
            raise LookupError(f"input {tuple(input.shape)}")

    with pytest.raises(LookupError, match=r"input \(4, 1, 2\)"):
        CheckInput(2, 3)(gg.zeros(4, 2))  # unbatched: checked as (T, 1, I), as PyTorch

    class Quiet(getattr(gg.nn, kind)):  # checks nothing: glassgrad's own checks still refuse a bad state
        def check_forward_args(self, input, hidden, batch_sizes):
            pass

    bad = gg.zeros(1, 2, 3)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 1, 3\), got \[1, 2, 3\]"):
        Quiet(2, 3)(gg.zeros(4, 1, 2), (bad, bad) if kind == "LSTM" else bad)


def _error(fn):
    try:
        fn()
    except Exception as e:  # the class is what is compared
        return e
    raise AssertionError("no error raised")


def _bad_calls(m, kind):
    """Calls PyTorch refuses in its forward (not in its kernels): (label, thunk)."""
    layer = getattr(m.nn, kind)(3, 4)
    x = m.zeros(5, 2, 3)
    lstm = kind == "LSTM"

    def st(*shape, cell=None):
        return (m.zeros(*shape), m.zeros(*(cell or shape))) if lstm else m.zeros(*shape)

    calls = [
        ("4-D input", lambda: layer(m.zeros(5, 2, 3, 1))),
        ("feature size", lambda: layer(m.zeros(5, 2, 2))),
        ("hidden size", lambda: layer(x, st(2, 2, 4))),
        ("batch of the state", lambda: layer(x, st(1, 3, 4))),
        ("batched input, 2-D state", lambda: layer(x, st(1, 4))),
        ("unbatched input, 3-D state", lambda: layer(m.zeros(5, 3), st(1, 1, 4))),
        ("unbatched, wrong state", lambda: layer(m.zeros(5, 3), st(2, 4))),
        ("input dtype", lambda: layer(m.zeros(5, 2, 3, dtype=m.float64))),
    ]
    if lstm:
        calls += [
            ("cell size", lambda: layer(x, st(1, 2, 4, cell=(1, 2, 3)))),
            ("bare tensor state", lambda: layer(x, m.zeros(1, 2, 4))),
        ]
    else:
        packed = m.nn.utils.rnn.pack_padded_sequence(x, m.tensor([5, 3]))
        calls.append(("packed, batch of the state", lambda: layer(packed, m.zeros(1, 3, 4))))
    return calls


@pytest.mark.parametrize("kind", KINDS)
def test_refusals_have_pytorchs_messages_and_classes(torch, kind):
    for (label, t_call), (_, g_call) in zip(_bad_calls(torch, kind), _bad_calls(gg, kind), strict=True):
        t_err, g_err = _error(t_call), _error(g_call)
        assert isinstance(g_err, type(t_err)), (label, t_err, g_err)
        if label not in ("bare tensor state",):  # PyTorch's words from its tensor indexing
            want = str(t_err).replace("torch.", "glassgrad.")
            assert want in str(g_err), (label, want, str(g_err))


def test_lstm_with_proj_size_refuses_a_state_of_the_cell_width(torch):
    msgs = []
    for m in (torch, gg):
        layer = m.nn.LSTM(3, 4, proj_size=2)
        err = _error(lambda: layer(m.zeros(5, 2, 3), (m.zeros(1, 2, 4), m.zeros(1, 2, 4))))
        assert isinstance(err, RuntimeError)
        msgs.append(str(err))
    assert "Expected hidden[0] size (1, 2, 2), got [1, 2, 4]" in msgs[0]
    assert "Expected hidden[0] size (1, 2, 2), got [1, 2, 4]" in msgs[1]
