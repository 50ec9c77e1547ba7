"""Module and Parameter: registration, weight tying, modes, hooks, printing, dtypes (state dicts are in
``test_module_state_dict.py``)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import DTypeError
from glassgrad.nn.module import register_module_forward_hook, register_module_forward_pre_hook
from tests.nn.small_modules import Net, Scale


# ------------------------------------------------------------------ Parameter
def test_parameter_shares_data_and_requires_grad():
    t = gg.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, gg.Tensor) and p.requires_grad and p.is_leaf
    t._data[0] = 5.0
    assert p.tolist() == [5.0, 2.0]  # shares t's array
    a = np.zeros(3, dtype=np.float32)
    q = nn.Parameter(a)
    a[1] = 4.0
    assert q.tolist() == [0.0, 4.0, 0.0]
    assert not nn.Parameter(gg.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(DTypeError):
        nn.Parameter(gg.tensor([1, 2]))  # integers cannot require grad


def test_parameter_repr_and_ops_return_plain_tensors():
    p = nn.Parameter(gg.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    y = p * 2.0
    assert type(y) is gg.Tensor and not isinstance(y, nn.Parameter)
    assert type(p.detach()) is gg.Tensor


def test_tensors_and_parameters_take_user_attributes_as_torch(torch):
    """S4 sets ``p._optim``, mamba ``p._no_weight_decay`` (porting round 26): PyTorch's tensors take
    any attribute; deepcopy keeps a tensor's, not a Parameter's; clone/detach start without."""
    import copy

    for lib in (gg, torch):
        t = lib.ones(2)
        t.note = {"lr": 0.1}
        p = lib.nn.Parameter(lib.ones(2))
        p._no_weight_decay = True
        m = lib.nn.Linear(2, 2)
        m.weight._optim = {"weight_decay": 0.0}
        m.double()  # converts in place: the Parameter object, with its attributes, stays
        got = (
            copy.deepcopy(t).note, hasattr(t.clone(), "note"), hasattr(t.detach(), "note"),
            p._no_weight_decay, hasattr(copy.deepcopy(p), "_no_weight_decay"), m.weight._optim,
        )  # fmt: skip
        assert got == ({"lr": 0.1}, False, False, True, False, {"weight_decay": 0.0}), lib.__name__


# ------------------------------------------------------------------ registration
def test_registration_of_parameters_buffers_and_modules():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["first", "second"]
    assert [n for n, _ in net.named_parameters()] == ["scale", "first.w", "first.b", "second.w", "second.b"]
    assert [n for n, _ in net.named_buffers()] == [
        "first.count",
        "first.scratch",
        "second.count",
        "second.scratch",
    ]
    assert [n for n, _ in net.named_children()] == ["first", "second"]
    assert [n for n, _ in net.named_modules()] == ["", "first", "second"]
    assert [type(m).__name__ for m in net.modules()] == ["Net", "Scale", "Scale"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][:2] == ["model.scale", "model.first.w"]
    assert len(list(net.parameters())) == 5 and len(list(net.buffers())) == 4
    assert net.first.w is net._modules["first"]._parameters["w"]


def test_assigning_none_keeps_the_slot_and_reassignment_moves_between_stores():
    m = Scale()
    m.w = None
    assert "w" in m._parameters and m.w is None
    assert [n for n, _ in m.named_parameters()] == ["b"]
    m.count = None
    assert "count" in m._buffers and "count" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'b'"):
        m.b = gg.zeros(3)
    m.count = gg.ones(1)  # a Tensor into a buffer slot stays a buffer
    assert m.count.tolist() == [1.0] and "count" in m._buffers
    m.plain = 3
    m.plain = nn.Parameter(gg.zeros(1))  # a plain attribute becomes a parameter
    assert "plain" in m._parameters and "plain" not in m.__dict__
    with pytest.raises(TypeError, match="cannot assign 'tests.nn.small_modules.Scale' as parameter 'plain'"):
        m.plain = Scale(1)  # as PyTorch: a parameter slot takes only Parameters or None
    del m.plain
    m.plain = Scale(1)
    assert "plain" in m._modules and "plain" not in m._parameters
    del m.plain
    assert "plain" not in m._modules
    with pytest.raises(AttributeError):
        _ = m.plain


def test_unknown_attribute_raises_attribute_error_naming_the_class():
    lin = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'foo'"):
        _ = lin.foo
    assert not hasattr(lin, "foo")
    assert getattr(lin, "foo", None) is None


def test_assigning_before_init_is_an_error():
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(gg.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Broken()


def test_register_validation():
    m = Scale()
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", gg.zeros(1))
    with pytest.raises(KeyError, match='parameter name can.*t contain "."'):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="cannot assign 'ndarray' object to buffer 'x'"):
        m.register_buffer("x", np.zeros(2))
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("x", gg.zeros(2))
    with pytest.raises(TypeError):
        m.add_module("y", 3)
    m.register_parameter("extra", None)
    assert "extra" in m._parameters and m.extra is None
    with pytest.raises(NotImplementedError, match=r"Module \[Module\] is missing"):
        nn.Module()(1)


def test_add_module_names_a_pytorch_module_as_one(torch):
    # what a ported script meets when a library (einops.layers.torch) hands it a torch layer
    with pytest.raises(
        TypeError, match=r"torch\.nn\.modules\.activation\.ReLU is not a Module subclass \(a PyTorch module"
    ):
        nn.Sequential(torch.nn.ReLU())
    with pytest.raises(TypeError, match=r"^int is not a Module subclass$"):
        Scale().add_module("y", 3)


def test_register_refuses_a_name_taken_by_another_kind_of_member():
    # As PyTorch: a buffer named like a parameter (or a module like a buffer ...) would make two
    # state_dict entries share one key, the second silently overwriting the first.
    m = Scale()
    m.sub = Scale()
    for register, name in [
        (lambda n: m.register_buffer(n, gg.zeros(3)), "w"),
        (lambda n: m.register_buffer(n, gg.zeros(3)), "sub"),
        (lambda n: m.register_parameter(n, nn.Parameter(gg.zeros(1))), "count"),
        (lambda n: m.register_parameter(n, nn.Parameter(gg.zeros(1))), "sub"),
        (lambda n: m.add_module(n, nn.ReLU()), "w"),
        (lambda n: m.add_module(n, nn.ReLU()), "scratch"),
    ]:
        with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
            register(name)
    assert list(m.state_dict()) == ["w", "b", "count", "sub.w", "sub.b", "sub.count"]
    assert m.state_dict()["w"].tolist() == [1.0, 1.0, 1.0]
    # re-registering under the same kind still replaces, as in PyTorch
    m.register_buffer("count", gg.ones(1))
    m.register_parameter("w", nn.Parameter(gg.zeros(3)))
    m.add_module("sub", nn.ReLU())
    assert m.count.tolist() == [1.0] and m.w.tolist() == [0.0] * 3 and isinstance(m.sub, nn.ReLU)


def test_weight_tying_yields_the_parameter_once_and_gradients_add():
    enc, dec = nn.Module(), nn.Module()
    enc.weight = nn.Parameter(gg.tensor([2.0]))
    dec.weight = enc.weight
    model = nn.Module()
    model.encoder, model.decoder = enc, dec
    assert dec.weight is enc.weight
    assert [n for n, _ in model.named_parameters()] == ["encoder.weight"]
    assert len(list(model.named_parameters(remove_duplicate=False))) == 2
    assert list(model.state_dict()) == ["encoder.weight", "decoder.weight"]  # both names, as PyTorch
    x = gg.tensor([3.0])
    (x * enc.weight * dec.weight).sum().backward()
    assert enc.weight.grad.tolist() == [12.0]  # d(w^2 x)/dw = 2 w x


def test_shared_submodule_is_visited_once():
    shared = Scale()
    model = nn.Module()
    model.a, model.b = shared, shared
    assert [n for n, _ in model.named_modules()] == ["", "a"]
    assert [n for n, _ in model.named_children()] == ["a"]
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "a", "b"]
    assert list(model.modules(remove_duplicate=False)) == [model, shared, shared]  # torch's signature


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("first") is net.first
    assert net.get_submodule("") is net
    assert net.get_parameter("second.w") is net.second.w
    assert net.get_buffer("first.count") is net.first.count
    with pytest.raises(AttributeError, match="Net has no attribute `third`"):
        net.get_submodule("third")
    with pytest.raises(AttributeError, match="Scale has no attribute `zz`"):
        net.get_parameter("first.zz")


def test_dir_lists_registered_names():
    names = dir(Net())
    assert {"first", "second", "scale", "forward", "training"} <= set(names)


# ------------------------------------------------------------------ modes, grads, apply
def test_train_eval_propagate():
    net = Net()
    assert net.training and net.first.training
    assert net.eval() is net
    assert not net.training and not net.first.training and not net.second.training
    net.train()
    assert all(m.training for m in net.modules())
    net.first.train(False)
    assert net.training and not net.first.training
    with pytest.raises(ValueError, match="expected a bool"):
        net.train("yes")


def test_zero_grad_and_requires_grad_():
    net = Net()
    net(gg.ones(3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.scale.grad
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad._data.any() for p in net.parameters())
    assert net.scale.grad is grad  # zeroed in place
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first_and_returns_self():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Scale", "Scale", "Net"]

    def init_weights(m):
        if isinstance(m, Scale):
            gg.nn.init.constant_(m.w, 0.5)

    net.apply(init_weights)
    assert net.first.w.tolist() == [0.5] * 3 and net.second.w.tolist() == [0.5] * 3


# ------------------------------------------------------------------ hooks
def test_forward_hooks_and_pre_hooks_modify_and_remove():
    m = Scale()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: calls.append(("pre", args[0].tolist())))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(("post", out.tolist())))
    m(gg.tensor([1.0, 2.0, 3.0]))
    assert calls == [("pre", [1.0, 2.0, 3.0]), ("post", [1.0, 2.0, 3.0])]
    h1.remove()
    h2.remove()
    calls.clear()
    m(gg.ones(3))
    assert calls == []
    # a pre-hook may replace the input, a forward hook the output
    with (
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2.0),
        m.register_forward_hook(lambda mod, args, out: out + 1.0),
    ):
        assert m(gg.ones(3)).tolist() == [3.0] * 3
    assert m(gg.ones(3)).tolist() == [1.0] * 3  # removed by the with-blocks


def test_hook_order_prepend_kwargs_and_always_call():
    m = Scale()
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"), prepend=True)
    m(gg.ones(3))
    assert order == ["b", "a"]

    seen = {}

    def kw_pre(mod, args, kwargs):
        seen["kwargs"] = dict(kwargs)
        return args, kwargs

    class KW(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    k = KW()
    k.register_forward_pre_hook(kw_pre, with_kwargs=True)
    k.register_forward_hook(lambda mod, args, kwargs, out: out * 10.0, with_kwargs=True)
    assert k(gg.ones(1), scale=2.0).tolist() == [20.0]
    assert seen["kwargs"] == {"scale": 2.0}

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    b = Boom()
    flags = []
    b.register_forward_hook(lambda mod, args, out: flags.append(out), always_call=True)
    b.register_forward_hook(lambda mod, args, out: flags.append("never"))
    with pytest.raises(ValueError, match="boom"):
        b(gg.ones(1))
    assert flags == [None]


def test_global_hooks_see_every_module():
    net = Net()
    names = []
    h1 = register_module_forward_pre_hook(lambda mod, args: names.append("pre " + type(mod).__name__))
    h2 = register_module_forward_hook(lambda mod, args, out: names.append("post " + type(mod).__name__))
    try:
        net(gg.ones(3))
    finally:
        h1.remove()
        h2.remove()
    assert names == ["pre Net", "pre Scale", "post Scale", "pre Scale", "post Scale", "post Net"]
    names.clear()
    net(gg.ones(3))
    assert names == []


# ------------------------------------------------------------------ dtypes, copies
def test_dtype_conversion_in_place_keeps_integer_buffers():
    bn = nn.BatchNorm1d(3)
    w = bn.weight
    assert bn.double() is bn
    assert bn.weight is w and bn.weight.dtype == gg.float64 and bn.running_mean.dtype == gg.float64
    assert bn.num_batches_tracked.dtype == gg.int64
    bn.to(gg.float32)
    assert bn.weight.dtype == gg.float32 and bn.running_var.dtype == gg.float32
    bn.half()
    assert bn.weight.dtype == gg.float16
    bn.float().to("cpu")
    assert bn.weight.dtype == gg.float32 and bn.cpu() is bn
    with pytest.raises(RuntimeError, match="Module.to: glassgrad computes on the CPU only"):
        bn.to("cuda")
    lin = nn.Linear(2, 2)
    lin.weight.grad = gg.zeros(2, 2)
    lin.double()
    assert lin.weight.grad.dtype == gg.float64


def test_deepcopy_and_pickle_keep_structure_and_tying():
    model = nn.Module()
    model.enc = nn.Linear(3, 3)
    model.dec = nn.Linear(3, 3)
    model.dec.weight = model.enc.weight
    clone = copy.deepcopy(model)
    assert clone.dec.weight is clone.enc.weight and clone.enc.weight is not model.enc.weight
    np.testing.assert_array_equal(clone.enc.weight._data, model.enc.weight._data)
    assert isinstance(clone.enc.weight, nn.Parameter) and clone.enc.weight.requires_grad
    back = pickle.loads(pickle.dumps(model))
    assert back.dec.weight is back.enc.weight
    assert list(back.state_dict()) == list(model.state_dict())


def test_repr_of_custom_nested_module_matches_pytorch():
    torch = pytest.importorskip("torch")

    def build(lib):
        class Block(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc = lib.Linear(4, 8)
                self.act = lib.GELU()
                self.drop = lib.Dropout(0.1)

        class Model(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                self.emb = lib.Embedding(10, 4, padding_idx=0)
                self.blocks = lib.ModuleList([Block() for _ in range(3)])
                self.norm = lib.LayerNorm(8)
                self.head = lib.Sequential(lib.Linear(8, 8), lib.ReLU(), lib.Linear(8, 2))
                self.bn = lib.BatchNorm1d(8, momentum=None, affine=False)

        return Model()

    assert repr(build(nn)) == repr(build(torch.nn))
