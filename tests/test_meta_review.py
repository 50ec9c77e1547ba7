"""Meta-device review: a meta index, mask or gradient never reaches CPU values (each case is
PyTorch's error, or its meta result), and meta modules that build state inside (RNN, Transformer)
stay meta."""

import copy

import pytest

import glassgrad as gg
import glassgrad.nn.functional as F


def _meta(*shape, dtype=None):
    return gg.empty(*shape, device="meta", dtype=dtype)


def _idx(*shape):
    return _meta(*shape, dtype=gg.int64)


@pytest.mark.parametrize(
    "op",
    [
        lambda: gg.zeros(2, 3).index_add(0, _idx(2), gg.zeros(2, 3)),
        lambda: gg.zeros(2, 3).index_copy(0, _idx(1), gg.zeros(1, 3)),
        lambda: gg.zeros(2, 3).index_fill(0, _idx(1), 1.0),
        lambda: gg.zeros(2, 3).masked_fill(_meta(2, 3, dtype=gg.bool), 1.0),
        lambda: gg.where(_meta(2, 3, dtype=gg.bool), gg.zeros(2, 3), gg.zeros(2, 3)),
        lambda: gg.gather(gg.zeros(2, 3), 1, _idx(2, 2)),
        lambda: gg.zeros(2, 3).scatter(1, _idx(2, 2), gg.zeros(2, 2)),
        lambda: F.embedding(_idx(3), gg.zeros(10, 4)),
    ],
)
def test_meta_index_into_cpu_data_raises(op):
    # before: the meta index read as zeros and a CPU result came back
    with pytest.raises(RuntimeError, match="device"):
        op()


def test_data_dependent_shapes_raise_as_pytorch(torch):
    for lib in (gg, torch):
        with pytest.raises(NotImplementedError):
            lib.empty(2, 3, device="meta").masked_select(lib.empty(2, 3, device="meta", dtype=lib.bool))
        with pytest.raises(RuntimeError, match="output_size"):
            lib.zeros(3).repeat_interleave(lib.empty(3, device="meta", dtype=lib.int64))


def test_setitem_of_meta_value_into_cpu_raises(torch):
    for lib in (gg, torch):
        y = lib.arange(6.0)
        with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
            y[0:2] = lib.empty(2, device="meta")
    assert gg.arange(6.0).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_meta_index_into_meta_data_is_meta(torch):
    for lib in (gg, torch):
        x = lib.empty(2, 3, device="meta")
        i = lib.empty(2, 2, device="meta", dtype=lib.int64)
        assert lib.gather(x, 1, i).is_meta and lib.gather(x, 1, i).shape == (2, 2)
        assert x.index_fill(0, lib.empty(1, device="meta", dtype=lib.int64), 1.0).is_meta
        out = lib.where(lib.empty(2, 3, device="meta", dtype=lib.bool), 1.0, 2.0)
        assert out.is_meta and out.shape == (2, 3)
    hot = F.one_hot(_idx(3), 4)  # before: a CPU tensor of zeros' one-hots
    assert hot.is_meta and hot.shape == (3, 4) and hot.dtype == gg.int64


def test_gradients_cross_devices_only_as_pytorch(torch):
    for lib in (gg, torch):
        a = lib.tensor(2.0, requires_grad=True)  # a 0-d CPU leaf beside a meta tensor
        with pytest.raises(NotImplementedError, match="Cannot copy out of meta tensor"):
            (a * lib.empty(3, device="meta")).sum().backward()  # before: a.grad == 0 silently
        x = lib.empty(3, device="meta", requires_grad=True)
        with pytest.raises(RuntimeError, match="expected device meta but got cpu"):
            (x * 2).backward(lib.ones(3))
        c = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="expected device cpu but got meta"):
            (c * 2).backward(lib.empty(3, device="meta"))  # before: c.grad == 0 silently
        (g,) = lib.autograd.grad((x * x).sum(), x)  # before: a CPU tensor of zeros here
        assert g.is_meta and g.shape == (3,)


def test_deepcopied_meta_parameter_stays_meta():
    lin = gg.nn.Linear(3, 4, device="meta")
    twin = copy.deepcopy(lin)
    assert twin.weight.is_meta and twin.weight.shape == (4, 3)
    with gg.device("meta"):  # deepcopies its layers, then initialises them
        model = gg.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    assert all(p.is_meta for p in model.parameters())
    assert model(_meta(2, 5, 8), _meta(2, 4, 8)).shape == (2, 4, 8)


def test_rnns_on_meta(torch):
    for lib in (gg, torch):
        lstm = lib.nn.LSTM(4, 5, num_layers=2, device="meta")
        out, (h, c) = lstm(lib.empty(7, 3, 4, device="meta"))
        out.sum().backward()
        assert out.is_meta and h.is_meta and c.is_meta and tuple(h.shape) == (2, 3, 5)
        assert lstm.weight_ih_l0.grad.is_meta
        gru = lib.nn.GRU(4, 5, batch_first=True, bidirectional=True, device="meta")
        out, h = gru(lib.empty(3, 7, 4, device="meta"))
        assert tuple(out.shape) == (3, 7, 10) and h.is_meta
        cell = lib.nn.LSTMCell(4, 5, device="meta")
        assert cell(lib.empty(3, 4, device="meta"))[0].is_meta
    mask = gg.nn.Transformer.generate_square_subsequent_mask(4, device="meta")
    assert mask.is_meta and mask.shape == (4, 4)
