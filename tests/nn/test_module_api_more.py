"""Module API paths that once lost state or differed from PyTorch silently: extra state in the
state_dict, ``load_state_dict(assign=True)``, ``nn.Buffer``, ParameterDict's key order and dict
methods, ``Sequential +=`` / ``*``."""

from __future__ import annotations

import pytest

import glassgrad as gg


def _tok(lib):
    class Tok(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(1, 1)
            self.vocab = {"a": 0}

        def get_extra_state(self):
            return {"vocab": self.vocab}

        def set_extra_state(self, state):
            self.vocab = state["vocab"]

    return Tok


def test_extra_state_is_saved_and_loaded_as_torch(torch, tmp_path):
    results = []
    for lib in (gg, torch):
        tok = _tok(lib)
        src = tok()
        src.vocab = {"a": 0, "b": 1}
        dst = tok()
        dst.load_state_dict(src.state_dict())
        results.append((list(src.state_dict()), dst.vocab))
    assert results[0] == results[1] == (["_extra_state", "lin.weight", "lin.bias"], {"a": 0, "b": 1})
    gg.save(_tok(gg)().state_dict(), tmp_path / "tok.gg")  # survives a checkpoint (no pickle)
    dst = _tok(gg)()
    dst.load_state_dict(gg.load(tmp_path / "tok.gg"))
    assert dst.vocab == {"a": 0}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "_extra_state"\. '):
        _tok(gg)().load_state_dict({"lin.weight": gg.zeros(1, 1), "lin.bias": gg.zeros(1)})


def test_load_state_dict_assign_takes_the_tensors_as_torch(torch):
    results = []
    for lib in (gg, torch):
        a, b = lib.nn.Linear(1, 1, bias=False), lib.nn.Linear(1, 1, bias=False)
        b.weight = a.weight  # tied
        model = lib.nn.Sequential(a, b)
        w1, w2 = lib.ones(1, 1), lib.full((1, 1), 2.0)
        model.load_state_dict({"0.weight": w1, "1.weight": w2}, assign=True)
        with lib.no_grad():
            w1.add_(1)
        results.append((a.weight.item(), b.weight.item(), a.weight is b.weight, a.weight.requires_grad))
    assert results[0] == results[1] == (2.0, 2.0, False, True)


def test_buffer_assignment_registers_a_buffer_as_torch(torch):
    results = []
    for lib in (gg, torch):

        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.pe = lib.nn.Buffer(lib.ones(3), persistent=False)
                self.c = lib.nn.Buffer(lib.zeros(2))

        m = M()
        results.append((list(m.state_dict()), [n for n, _ in m.named_buffers()], type(m.pe).__name__))
    assert results[0] == results[1]


def test_parameter_dict_orders_and_methods_as_torch(torch):
    results = []
    for lib in (gg, torch):
        pd = lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.ones(3)), "b": lib.nn.Parameter(lib.zeros(2))})
        pd.update({"z": lib.ones(1), "c": lib.ones(1)})  # a plain dict: sorted, as PyTorch
        order = [n for n, _ in pd.named_parameters()]
        key, _ = pd.popitem()
        pd.setdefault("q", lib.nn.Parameter(lib.ones(1)))
        merged = pd | lib.nn.ParameterDict({"a": lib.ones(1)})
        text = repr(pd).replace("torch.", "LIB.")  # Tensor.type() names the legacy type in both
        results.append((order, key, list(reversed(pd)), list(merged.keys()), text, len(pd.copy())))
        pd.clear()
        results[-1] += (len(pd),)
    assert results[0] == results[1]


def test_sequential_iadd_in_place_and_repetition_as_torch(torch):
    results = []
    for lib in (gg, torch):
        seq = lib.nn.Sequential(lib.nn.ReLU())
        alias = seq
        seq += lib.nn.Sequential(lib.nn.Tanh())
        doubled, rdoubled = seq * 2, 2 * seq
        seq *= 2
        results.append((len(alias), len(doubled), len(rdoubled), len(seq), doubled[0] is doubled[2]))
    assert results[0] == results[1] == (4, 4, 4, 4, True)


def test_transformer_layers_print_as_torch(torch):
    for make in (
        lambda nn: nn.MultiheadAttention(4, 2),
        lambda nn: nn.TransformerEncoderLayer(4, 2, 8),
        lambda nn: nn.TransformerDecoderLayer(4, 2, 8, norm_first=True),
    ):
        assert repr(make(gg.nn)) == repr(make(torch.nn))  # out_proj: NonDynamicallyQuantizableLinear


def test_set_submodule_and_the_accepted_no_ops_as_torch(torch):
    results = []
    for lib in (gg, torch):
        m = lib.nn.Sequential(lib.nn.Linear(1, 1, bias=False), lib.nn.Sequential(lib.nn.ReLU()))
        m.set_submodule("1.0", lib.nn.Tanh())
        m.set_submodule("1.new", lib.nn.ReLU())
        errors = []
        for target in ("2.x", "0.weight", ""):
            try:
                m.set_submodule(target, lib.nn.Tanh())
            except (AttributeError, ValueError) as e:
                errors.append(type(e).__name__)
        try:
            m.get_parameter("0.bias")
        except AttributeError as e:
            errors.append(type(e).__name__)
        results.append((repr(m), errors, m.share_memory() is m, m.to_empty(device="cpu") is m))
    assert results[0] == results[1]


def test_deepcopy_drops_grads_and_keeps_ties_as_torch(torch):
    import copy

    results = []
    for lib in (gg, torch):
        m = lib.nn.Linear(2, 2)
        m.tied = m.weight
        m(lib.ones(1, 2)).sum().backward()
        c = copy.deepcopy(m)
        same = bool((c.weight == m.weight).all())
        results.append(
            (c.weight.grad is None, c.tied is c.weight, c.weight is m.weight, same, c.weight.requires_grad)
        )
    assert results[0] == results[1] == (True, True, False, True, True)


def test_module_compile_returns_none_and_keeps_the_module_working(torch):
    """``model.compile()`` (PyTorch >= 2.2; NYU-DLSP20 06-convnet prints dir(model)): None, and the
    module computes as before."""
    results = []
    for lib in (gg, torch):
        m = lib.nn.Linear(2, 1)
        with lib.no_grad():
            m.weight.fill_(0.5)
            m.bias.fill_(1.0)
        results.append((m.compile(), m(lib.ones(1, 2)).item(), "compile" in dir(m), "bfloat16" in dir(m)))
    assert results[0] == results[1] == (None, 2.0, True, True)


def test_module_bfloat16_is_refused_as_the_tensor_method():
    m = gg.nn.Linear(2, 1)
    with pytest.raises(gg.errors.DTypeError, match="bfloat16"):
        m.bfloat16()
    with pytest.raises(gg.errors.DTypeError, match="bfloat16"):
        gg.ones(2).bfloat16()
    assert m.weight.dtype == gg.float32


def test_module_apply_casts_parameters_gradients_and_buffers_as_pytorch(torch):
    got = []
    for lib in (gg, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        w = m[0].weight
        w.grad = lib.ones(2, 2)
        assert m._apply(lambda t: t.double()) is m
        got.append(
            (m[0].weight is w, str(w.dtype), str(w.grad.dtype), str(m[1].running_mean.dtype), w.requires_grad)
        )
    assert [g[0] for g in got] == [True, True] and got[0][4] and got[1][4]
    assert (
        [d.split(".")[-1] for d in got[0][1:4]] == [d.split(".")[-1] for d in got[1][1:4]] == ["float64"] * 3
    )


@pytest.mark.parametrize("name", ["xpu", "ipu", "mtia"])
def test_other_accelerators_are_refused_as_pytorch(torch, name):
    with pytest.raises((AssertionError, RuntimeError)):
        getattr(torch.nn.Linear(1, 1), name)()
    with pytest.raises(gg.errors.DeviceError):
        getattr(gg.nn.Linear(1, 1), name)()
