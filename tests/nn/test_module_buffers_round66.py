"""Round 66 (pt_nn, PyTorch's test_nn.py TestNN): buffer assignment, Module.__init__'s
call_super_init, Module.to's positional arguments, and small refusals, each against PyTorch."""

import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F


def _names(pairs):
    return [k for k, _ in pairs]


def _tied_buffers(lib):
    """A module whose second buffer name is assigned the first buffer (``self.b2 = self.b1``)."""

    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.b1 = lib.nn.Buffer(lib.zeros(2, 3), persistent=False)
            self.b2 = self.b1

    return M()


def test_buffer_assigned_to_a_second_name_stays_a_buffer(torch):
    ours, theirs = _tied_buffers(gg), _tied_buffers(torch)
    for remove_duplicate in (True, False):
        assert _names(ours.named_buffers(remove_duplicate=remove_duplicate)) == _names(
            theirs.named_buffers(remove_duplicate=remove_duplicate)
        )
    assert list(ours._buffers) == list(theirs._buffers) == ["b1", "b2"]
    # the persistent flag travels with the tensor, as in PyTorch
    assert sorted(ours._non_persistent_buffers_set) == sorted(theirs._non_persistent_buffers_set)
    # both names are converted by .to(), not only the first
    ours.double()
    assert ours.b2.dtype == gg.float64


def test_buffer_is_the_assigned_tensor(torch):
    for lib in (gg, torch):
        m = lib.nn.Module()
        buf = lib.nn.Buffer(lib.randn(4))
        m.buf = buf
        assert m.buf is buf
        assert type(buf) is lib.Tensor and isinstance(buf, lib.nn.Buffer)
        assert not isinstance(lib.randn(2), lib.nn.Buffer)
        m.buf = None
        assert "buf" not in m.__dict__ and m.buf is None
        m.buf = buf
        assert list(m.state_dict()) == ["buf"]


def test_buffer_over_a_plain_attribute_or_parameter_is_refused(torch):
    for lib in (gg, torch):
        m = lib.nn.Module()
        m.name = 5
        with pytest.raises(KeyError):
            m.name = lib.nn.Buffer(lib.rand(3))
        assert m.name == 5
        m.p = lib.nn.Parameter(lib.rand(2))
        with pytest.raises(TypeError):
            m.p = lib.nn.Buffer(lib.rand(2))
        m.c = lib.nn.Linear(1, 1)
        with pytest.raises(TypeError):
            m.c = lib.nn.Buffer(lib.rand(2))


def test_buffer_assignment_with_a_subclass_register_buffer_without_persistent(torch):
    for lib in (gg, torch):

        class Bad(lib.nn.Linear):
            def __init__(self):
                super().__init__(2, 2)
                self.bar = lib.nn.Buffer(lib.rand(2, 2))

            def register_buffer(self, name, value):  # no ``persistent``
                super().register_buffer(name, value, True)

        assert Bad().bar.shape == (2, 2)
        with pytest.raises(RuntimeError, match="without the persistent"):

            class Bad2(Bad):
                def __init__(self):
                    super().__init__()
                    self.baz = lib.nn.Buffer(lib.rand(2), persistent=False)

            Bad2()


def test_call_super_init(torch):
    for lib in (gg, torch):

        class Mixin:
            def __init__(self, *a, **kw):
                super().__init__(*a, **kw)
                self.mixin_init = True

        class After(lib.nn.Module, Mixin):
            pass

        assert not hasattr(After(), "mixin_init")
        After.call_super_init = True
        assert After().mixin_init
        with pytest.raises(TypeError):
            lib.nn.Module(3)


@pytest.mark.parametrize(
    "args,kwargs",
    [
        (("cpu",), {"copy": True}),
        (("cpu",), {"copy": False}),
        ((gg.float64, False, True), {}),
        (("cpu", gg.float64, False, False), {}),
    ],
)
def test_module_to_copy_argument_raises(torch, args, kwargs):
    t_args = tuple(torch.float64 if a is gg.float64 else a for a in args)
    with pytest.raises(RuntimeError, match="copy"):
        torch.nn.Linear(2, 2).to(*t_args, **kwargs)
    with pytest.raises(RuntimeError, match="copy"):
        nn.Linear(2, 2).to(*args, **kwargs)


def test_module_to_bool_in_the_dtype_place_raises(torch):
    for lib in (gg, torch):
        m = lib.nn.Linear(2, 2)
        for args in [(lib.device("cpu"), True), (None, True), ("cpu", 1), (lib.float64, 1)]:
            with pytest.raises(TypeError):
                m.to(*args)
        # the accepted forms still run
        m.to(lib.float64, True)
        m.to(lib.device("cpu"), lib.float32, True)
        m.to(lib.zeros(1, dtype=lib.float64), True)
        assert m.weight.dtype == lib.float64


def test_sequential_insert_non_module_is_an_assertion_error(torch):
    for lib in (gg, torch):
        with pytest.raises(AssertionError):
            lib.nn.Sequential(lib.nn.ReLU()).insert(0, [lib.nn.ReLU()])


def test_rnn_unknown_nonlinearity_message(torch):
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="Unknown nonlinearity 'garbage'"):
            lib.nn.RNN(1, 2, nonlinearity="garbage")


@pytest.mark.parametrize("cell", ["RNNCell", "GRUCell", "LSTMCell"])
def test_rnn_cell_zero_hidden_size(torch, cell):
    x = gg.randn(3, 4, requires_grad=True)
    m = getattr(nn, cell)(4, 0)
    assert sorted(n for n, _ in m.named_parameters()) == sorted(
        n for n, _ in getattr(torch.nn, cell)(4, 0).named_parameters()
    )
    h = gg.zeros(3, 0)
    out = m(x, (h, h))[0] if cell == "LSTMCell" else m(x, h)
    assert tuple(out.shape) == (3, 0)
    out.sum().backward()
    assert float(x.grad.abs().sum()) == 0.0


def test_gaussian_nll_loss_var_size_message(torch):
    for lib in (gg, torch):
        with pytest.raises(ValueError, match="var is of incorrect size"):
            lib.nn.functional.gaussian_nll_loss(lib.randn(3, 5), lib.randn(3, 5), lib.ones(3, 3))
    assert F.gaussian_nll_loss  # the functional name exists under glassgrad too


def test_multihead_attention_heads_not_dividing_is_an_assertion_error(torch):
    for lib in (gg, torch):
        with pytest.raises(AssertionError):
            lib.nn.MultiheadAttention(8, 3)
        with pytest.raises(AssertionError):
            lib.nn.Transformer(8, 3, 1, 1, 16)
    with pytest.raises(ValueError):  # the kind it had before, for programs that caught it
        nn.MultiheadAttention(8, 3)


@pytest.mark.parametrize("var", ["tensor", "float"])
def test_gaussian_nll_loss_negative_var_message(torch, var):
    for lib in (gg, torch):
        v = -1 * lib.ones(3, 5) if var == "tensor" else -1.0
        with pytest.raises(ValueError, match="var has negative entry/entries"):
            lib.nn.functional.gaussian_nll_loss(lib.randn(3, 5), lib.randn(3, 5), v)
