"""Round 40, group speechbrain: SpeechBrain's nnet, processing and lobes building blocks.

Importing SpeechBrain turns TorchScript's profiling off (``torch._C._jit_set_profiling_executor``
and ``_jit_set_profiling_mode``) and imports the loader's recursive pinning
(``torch.utils.data._utils.pin_memory``); its LiGRU broadcasts the initial state with unpacked
sizes (``h_init.broadcast_to(n, h)``), and its ``LSTMCell``/``GRUCell`` wrappers pass the input size
as a 0-d integer tensor (``torch.prod(torch.tensor(input_shape[1:]))``). Each test compares with
PyTorch's CPU build where PyTorch decides.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

# --- torch._C's TorchScript profiling switches ---------------------------------------------


def test_jit_profiling_switches_return_the_previous_flag(torch):
    for name in ("_jit_set_profiling_executor", "_jit_set_profiling_mode"):
        ours, theirs = getattr(gg._C, name), getattr(torch._C, name)
        try:
            assert ours(False) is theirs(False)
            assert ours(False) is theirs(False) is False
            assert ours(True) is theirs(True) is False
            assert ours(True) is theirs(True) is True
        finally:
            theirs(True)


@pytest.mark.parametrize("name", ["_jit_set_profiling_executor", "_jit_set_profiling_mode"])
def test_jit_profiling_switch_takes_only_a_bool(torch, name):
    with pytest.raises(TypeError):
        getattr(torch._C, name)("no")
    with pytest.raises(TypeError, match=rf"_C\.{name}: expected a bool, got str"):
        getattr(gg._C, name)("no")


# --- torch.utils.data._utils.pin_memory ----------------------------------------------------


def test_pin_memory_module_imports_as_pytorch_path():
    import glassgrad.utils.data._utils as u
    from glassgrad.utils.data._utils.pin_memory import pin_memory

    assert u.pin_memory.pin_memory is pin_memory


class _Batch:
    def __init__(self, x):
        self.x = x
        self.pinned = False

    def pin_memory(self):
        self.pinned = True
        return self


def test_pin_memory_keeps_the_structure_of_the_batch():
    from glassgrad.utils.data._utils.pin_memory import pin_memory

    point = collections.namedtuple("Point", "a b")
    t = gg.arange(3.0)
    data = {"t": t, "l": [t, "s", 1], "p": point(t, b"x"), "tup": (t, 2.0), "batch": _Batch(t)}
    out = pin_memory(data)
    assert type(out) is dict and out["t"] is t and out["l"] == [t, "s", 1]
    assert type(out["p"]) is point and out["p"].a is t and out["p"].b == b"x"
    assert type(out["tup"]) is tuple and out["tup"][0] is t
    assert out["batch"] is data["batch"] and data["batch"].pinned
    assert pin_memory(range(3)) == [0, 1, 2]  # a sequence that cannot be rebuilt gives a list
    od = collections.OrderedDict(a=t)
    assert type(pin_memory(od)) is collections.OrderedDict


def test_pin_memory_recurses_as_pytorch_over_plain_data(torch):
    from glassgrad.utils.data._utils.pin_memory import pin_memory as ours
    from torch.utils.data._utils.pin_memory import pin_memory as theirs

    data = {"a": [1, "x", (2.5, b"y")], "b": range(2), "c": None}
    assert ours(data) == theirs(data)


# --- Tensor methods taking their list of ints unpacked ---------------------------------------


@pytest.mark.parametrize(
    "call",
    ["broadcast_to(2, 2, 4, 3)", "broadcast_to((2, 2, 4, 3))", "broadcast_to(size=(2, 2, 4, 3))",
     "broadcast_to(5, -1, 2, 1, 3)", "flip(0, 2)", "flip((0, 2))", "flip(dims=(1,))", "flip(1)",
     "squeeze(0, 2)", "squeeze((0, 2))", "squeeze(dim=(0, 2))", "squeeze(2)", "squeeze()",
     "count_nonzero(0, 1)", "count_nonzero((0, 2))", "count_nonzero(dim=(0, 1))", "count_nonzero()"],
)  # fmt: skip
def test_methods_take_unpacked_sizes_and_dims_as_pytorch(torch, call):
    a = np.arange(6.0).reshape(1, 2, 1, 3) - 2.0
    ours = eval(f"x.{call}", {"x": gg.tensor(a)})
    theirs = eval(f"x.{call}", {"x": torch.tensor(a)})
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_broadcast_to_with_unpacked_sizes_has_expands_gradient(torch):
    rng = np.random.default_rng(0)
    for shape, sizes in [((3,), (2, 4, 3)), ((2, 1), (3, 2, 5)), ((1, 4, 1), (2, 4, 3))]:
        a = rng.standard_normal(shape)
        x = gg.tensor(a, requires_grad=True)
        assert gradcheck(lambda t, s=sizes: t.broadcast_to(*s), (x,))
        assert gradcheck(
            lambda t: t.flip(0, -1) * 2.0, (gg.tensor(rng.standard_normal(sizes), requires_grad=True),)
        )
        w = rng.standard_normal(sizes)
        (gg.tensor(w) * x.broadcast_to(*sizes)).sum().backward()
        tx = torch.tensor(a, requires_grad=True)
        (torch.tensor(w) * tx.broadcast_to(*sizes)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-13, atol=1e-13)


def test_ligru_style_initial_state_broadcast(torch):
    """SpeechBrain's LiGRU: ``self.h_init.broadcast_to(w.shape[0], self.h_init.shape[1])``."""
    h = np.random.default_rng(1).standard_normal((1, 5))
    ours = gg.tensor(h).broadcast_to(gg.ones(3, 4).shape[0], 5)
    theirs = torch.tensor(h).broadcast_to(torch.ones(3, 4).shape[0], 5)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# --- recurrent cells and layers: sizes ------------------------------------------------------


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_take_a_zero_d_integer_tensor_as_size(torch, cls):
    ours = getattr(gg.nn, cls)(gg.tensor(4), gg.tensor(6))
    theirs = getattr(torch.nn, cls)(torch.tensor(4), torch.tensor(6))
    assert tuple(ours.weight_ih.shape) == tuple(theirs.weight_ih.shape)
    assert tuple(ours.weight_hh.shape) == tuple(theirs.weight_hh.shape)
    assert ours.input_size == 4 and type(ours.input_size) is int
    with torch.no_grad(), gg.no_grad():
        for name, p in theirs.named_parameters():
            getattr(ours, name).copy_(gg.tensor(p.numpy()))
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    out, ref = ours(gg.tensor(x)), theirs(torch.tensor(x))
    out, ref = (out[0], ref[0]) if cls == "LSTMCell" else (out, ref)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bad", [4.0, "4", None])
def test_cells_reject_a_size_that_is_not_an_integer(torch, cls, bad):
    with pytest.raises(TypeError):
        getattr(torch.nn, cls)(bad, 6)
    with pytest.raises(TypeError, match=f"{cls}: expected input_size to be an int"):
        getattr(gg.nn, cls)(bad, 6)


def test_cells_reject_a_float_tensor_or_a_negative_size():
    with pytest.raises(TypeError, match="LSTMCell: expected hidden_size to be an int"):
        gg.nn.LSTMCell(4, gg.tensor(6.0))
    with pytest.raises(ValueError, match="GRUCell: expected input_size to be a non-negative int, got -1"):
        gg.nn.GRUCell(-1, 6)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_sequence_layers_reject_a_tensor_size_with_pytorchs_type_error(torch, cls):
    with pytest.raises(TypeError, match="input_size should be of type int, got: Tensor"):
        getattr(torch.nn, cls)(torch.tensor(4), 6)
    with pytest.raises(TypeError, match=f"{cls}: input_size should be of type int, got: Tensor"):
        getattr(gg.nn, cls)(gg.tensor(4), 6)
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        getattr(gg.nn, cls)(4, 6.0)
    with pytest.raises(ValueError):
        getattr(torch.nn, cls)(0, 6)
    with pytest.raises(ValueError, match=f"{cls}: expected input_size to be an int >= 1, got 0"):
        getattr(gg.nn, cls)(0, 6)


# --- average pooling: the window sum divided by its count, rounded as PyTorch's kernels ----------


_AVG_CASES = [
    ("avg_pool1d", (2, 3, 13), dict(kernel_size=3)),
    ("avg_pool1d", (2, 3, 13), dict(kernel_size=6, stride=2, padding=3, count_include_pad=False)),
    ("avg_pool1d", (3, 11), dict(kernel_size=7, stride=3, ceil_mode=True)),
    ("avg_pool2d", (1, 4, 2, 3), dict(kernel_size=(2, 3))),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, ceil_mode=True, divisor_override=7)),
    ("avg_pool3d", (1, 2, 5, 6, 7), dict(kernel_size=(2, 3, 3), stride=(1, 2, 2), padding=1)),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "shape", "kw"), _AVG_CASES)
def test_float32_average_pooling_rounds_as_pytorch(torch, fn, shape, kw):
    """SpeechBrain's QPooling2d test compares avg pooling with ``mean`` exactly: 10 / 6 and
    10 * (1 / 6) are one float32 ulp apart, and PyTorch divides (forward and backward)."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape).astype(np.float32)
    x, tx = gg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = getattr(gg.nn.functional, fn)(x, **kw), getattr(torch.nn.functional, fn)(tx, **kw)
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    w = rng.standard_normal(tuple(ref.shape)).astype(np.float32)
    (out * gg.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_avg_pool_of_a_whole_window_equals_the_mean_exactly():
    x = gg.tensor([[[0.0, 0.0, 0.0, 4.0], [3.0, 3.0, 0.0, 0.0], [0.0, 5.0, 0.0, 0.0]]]).reshape(1, 1, 3, 4)
    assert gg.nn.functional.avg_pool2d(x, (3, 4)).item() == x.mean().item()
    assert gg.nn.functional.avg_pool2d(x[..., 1:], (3, 3)).item() == float(np.float32(12.0) / np.float32(9.0))


@pytest.mark.parametrize(("fn", "shape", "kw"), _AVG_CASES[1::2])
def test_average_pooling_gradcheck(fn, shape, kw):
    a = np.random.default_rng(4).standard_normal(shape)
    x = gg.tensor(a, requires_grad=True)
    assert gradcheck(lambda t: getattr(gg.nn.functional, fn)(t, **kw) * 1.5, (x,))
