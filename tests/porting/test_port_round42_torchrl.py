"""Round 42, group torchrl: pytorch/tensordict and pytorch/rl (TorchRL).

Importing tensordict and torchrl reaches PyTorch's private helpers: ``torch.nn.parameter``'s
``UninitializedTensorMixin`` and ``_ParameterMeta``, ``torch.utils.data._utils.worker._generate_state``,
the quantized dtypes (listed in a tuple), ``torch.utils._contextlib``'s decorator context managers,
``torch.utils._pytree``'s ``Context``/``_list_flatten_with_keys``, ``torch._utils``'s device lookups,
``torch.nn.utils._named_member_accessor.swap_tensor`` and ``torch.SymInt``. Each test compares with
PyTorch's CPU build where PyTorch decides.
"""

from __future__ import annotations

import copy
import pickle
from typing import ClassVar

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.parameter as gparam
import glassgrad.utils._contextlib as gctx
import glassgrad.utils._pytree as gpt
import glassgrad.utils._pytree_serialize as ser
from glassgrad import _utils as gutils
from glassgrad.data._utils.worker import _generate_state
from glassgrad.errors import DTypeError
from glassgrad.nn.utils import _named_member_accessor as gnma

_QUANT = ["qint8", "quint8", "qint32", "quint4x2", "quint2x4"]


# --- torch.nn.parameter: UninitializedTensorMixin and _ParameterMeta ---------------------------


def test_uninitialized_tensor_mixin_marks_the_lazy_placeholders(torch):
    tp = torch.nn.parameter
    for lib, mod in ((gg, gparam), (torch, tp)):
        assert isinstance(mod.UninitializedParameter(), mod.UninitializedTensorMixin)
        assert isinstance(mod.UninitializedBuffer(), mod.UninitializedTensorMixin)
        assert not isinstance(mod.Parameter(lib.zeros(2)), mod.UninitializedTensorMixin)
        assert not isinstance(lib.zeros(2), mod.UninitializedTensorMixin)


def test_parameter_meta_counts_flagged_tensors_as_parameters(torch):
    tp = torch.nn.parameter
    for lib, mod in ((gg, gparam), (torch, tp)):
        assert type(mod.Parameter) is mod._ParameterMeta
        t = lib.zeros(3)
        assert not isinstance(t, mod.Parameter)
        t._is_param = True
        assert isinstance(t, mod.Parameter)
        # the flag makes it a Parameter only, not a Parameter subclass
        assert not isinstance(t, mod.UninitializedParameter)
        assert isinstance(mod.UninitializedParameter(), mod.Parameter)
        assert issubclass(mod.UninitializedParameter, mod.Parameter)
        assert not issubclass(type(t), mod.Parameter)


def test_module_still_registers_parameters_under_the_metaclass():
    lin = gg.nn.Linear(2, 3)
    lin.extra = gparam.Parameter(gg.ones(1))
    assert sorted(n for n, _ in lin.named_parameters()) == ["bias", "extra", "weight"]
    assert type(copy.deepcopy(lin.extra)) is gparam.Parameter


# --- torch.utils.data._utils.worker._generate_state ----------------------------------------------


@pytest.mark.parametrize(
    ("seed", "worker"), [(0, 0), (1, 1), (123456789012345, 3), (2**63 - 1, 7), (2**32, 2**20)]
)
def test_generate_state_matches_pytorch(torch, seed, worker):
    from torch.utils.data._utils.worker import _generate_state as ref

    got = _generate_state(seed, worker)
    assert got == ref(seed, worker)
    assert len(got) == 4 and all(0 <= w < 2**32 for w in got)
    np.random.default_rng(got)  # seeds a NumPy generator, as tensordict does


# --- the quantized dtypes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", _QUANT)
def test_quantized_dtypes_exist_as_names(torch, name):
    g, t = getattr(gg, name), getattr(torch, name)
    assert g.itemsize == t.itemsize
    assert g.is_floating_point is t.is_floating_point is False
    assert g.is_complex is t.is_complex is False
    assert repr(g) == f"glassgrad.{name}"
    with pytest.raises(RuntimeError, match="quantized"):
        g.is_signed  # noqa: B018
    with pytest.raises(RuntimeError, match="quantized"):
        t.is_signed  # noqa: B018
    assert g == g and g != gg.int8 and g != gg.uint8 and g != gg.int32
    assert pickle.loads(pickle.dumps(g)) is g and copy.deepcopy(g) is g


def test_quantized_dtypes_key_a_table_and_refuse_tensors():
    table = {str(d): d for d in (gg.float32, gg.int8, gg.qint8, gg.quint8, gg.qint32, gg.quint4x2)}
    assert len(table) == 6 and table["glassgrad.qint8"] is gg.qint8
    assert len({gg.qint8, gg.quint8, gg.qint32, gg.quint4x2, gg.quint2x4, gg.int8, gg.uint8}) == 7
    with pytest.raises(DTypeError, match="qint8"):
        gg.zeros(2, dtype=gg.qint8)


# --- torch.utils._contextlib --------------------------------------------------------------------


def _recorder(base):
    class Rec(base):
        log: ClassVar[list] = []

        def __enter__(self):
            Rec.log.append("enter")

        def __exit__(self, *exc):
            Rec.log.append("exit")

    return Rec


def _exercise(mod):
    rec = _recorder(mod._DecoratorContextManager)

    @rec()
    def f(x):
        rec.log.append(f"f{x}")
        return x + 1

    @rec()
    def gen(n):
        for i in range(n):
            got = yield i
            rec.log.append(f"got{got}")
        return "done"

    out = [f(1)]
    g = gen(2)
    out.append(next(g))
    out.append(g.send("a"))
    try:
        g.send("b")
    except StopIteration as stop:
        out.append(stop.value)
    with rec():
        rec.log.append("body")
    out.append(f.__name__)
    nop = _recorder(mod._NoParamDecoratorContextManager)

    @nop
    def h():
        nop.log.append("h")
        return 5

    out.append(h())
    out.append(isinstance(nop(), nop))
    return out, list(rec.log), list(nop.log)


def test_decorator_context_managers_match_pytorch(torch):
    import torch.utils._contextlib as tctx

    got, want = _exercise(gctx), _exercise(tctx)
    assert got == want
    assert got[0] == [2, 0, 1, "done", "f", 5, True]


def test_context_decorator_refuses_classes_and_ambiguous_contexts():
    rec = _recorder(gctx._DecoratorContextManager)
    with pytest.raises(RuntimeError, match="Cannot decorate classes"):
        gctx.context_decorator(lambda: rec(), type("C", (), {}))
    # a context manager that is also callable is ambiguous (PyTorch asserts against it)
    with pytest.raises(TypeError, match="context_decorator: got _CallableCtx"):
        gctx.context_decorator(_CallableCtx(), lambda: 1)
    # one context manager object (not callable) is reused for every call
    once = rec()
    wrapped = gctx.context_decorator(_PlainCtx(rec.log), lambda: 7)
    assert wrapped() == 7 and rec.log[-2:] == ["plain-enter", "plain-exit"] and once is not None
    with pytest.warns(FutureWarning, match="Decorating classes"):
        made = rec()(type("C", (), {}))
    assert made() is not None


class _PlainCtx:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.log.append("plain-enter")

    def __exit__(self, *exc):
        self.log.append("plain-exit")


class _CallableCtx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self):
        return self


# --- torch.utils._pytree -------------------------------------------------------------------------


def test_list_and_tuple_flatten_with_keys_match_pytorch(torch):
    import torch.utils._pytree as tpt

    for fn in ("_list_flatten_with_keys", "_tuple_flatten_with_keys"):
        data = [3, "a", None] if fn.startswith("_list") else (1, 2)
        (gk, gctx_), (tk, tctx_) = getattr(gpt, fn)(data), getattr(tpt, fn)(data)
        assert [(str(k), v) for k, v in gk] == [(str(k), v) for k, v in tk]
        assert [k.idx for k, _ in gk] == [k.idx for k, _ in tk]
        assert gctx_ == tctx_
    assert gpt.SequenceKey(1).get(["x", "y"]) == tpt.SequenceKey(1).get(["x", "y"]) == "y"
    assert gpt.Context is tpt.Context


def test_register_with_list_flatten_with_keys_like_tensordict():
    class Linked(list):
        pass

    gpt.register_pytree_node(
        Linked,
        gpt._list_flatten,
        gpt._list_unflatten,
        serialized_type_name="builtins.list",
        flatten_with_keys_fn=gpt._list_flatten_with_keys,
    )
    try:
        leaves, spec = gpt.tree_flatten(Linked([1, (2, 3)]))
        assert leaves == [1, 2, 3]
        assert gpt.tree_unflatten([4, 5, 6], spec) == [4, (5, 6)]
    finally:  # both registries, as PyTorch's _deregister_pytree_node: "builtins.list" names list again
        gpt.SUPPORTED_NODES.pop(Linked)
        ser.SUPPORTED_SERIALIZED_TYPES.pop(Linked, None)
        ser.SERIALIZED_TYPE_TO_PYTHON_TYPE["builtins.list"] = list


# --- torch._utils --------------------------------------------------------------------------------


def test_device_lookups_answer_as_a_cpu_build(torch):
    import torch._utils as tu

    assert gutils._get_available_device_type() is tu._get_available_device_type() is None
    assert gutils._get_device_module("cuda") is gg.cuda
    assert gutils._get_device_module("cpu") is gg.cpu
    with pytest.raises(RuntimeError, match="nodev"):
        gutils._get_device_module("nodev")
    with pytest.raises(RuntimeError, match="nodev"):
        tu._get_device_module("nodev")


# --- torch.nn.utils._named_member_accessor -----------------------------------------------------------


def test_swap_tensor_matches_pytorch(torch):
    import torch.nn.utils._named_member_accessor as tnma

    for lib, mod in ((gg, gnma), (torch, tnma)):
        lin = lib.nn.Linear(2, 3)
        lin.register_buffer("buf", lib.zeros(1))
        w_old, w_new = lin.weight, lib.ones(3, 2)
        assert mod.swap_tensor(lin, "weight", w_new) is w_old
        assert lin.weight is w_new and "weight" in lin._parameters
        assert mod.swap_tensor(lin, "buf", lib.ones(2)).shape == (1,)
        assert lin.buf.shape == (2,)
        gone = mod.swap_tensor(lin, "bias", mod._MISSING)
        assert gone.shape == (3,) and "bias" not in lin._parameters
        assert mod.swap_tensor(lin, "extra", lib.ones(1), allow_missing=True) is mod._MISSING
        assert lin.extra.shape == (1,)
        with pytest.raises(AttributeError, match="no attribute `nope`"):
            mod.swap_tensor(lin, "nope", lib.ones(1))
        with pytest.raises(KeyError):
            mod.swap_tensor(lin, "a.b", lib.ones(1))
        with pytest.raises(TypeError):
            mod.swap_tensor(lin, "weight", 3.0)
        with pytest.raises(TypeError):
            mod.swap_tensor(object(), "weight", lib.ones(1))
        mod.set_tensor(lin, "weight", lib.zeros(3, 2))
        assert float(lin.weight.sum()) == 0.0


def test_named_member_accessor_walks_dotted_paths(torch):
    import torch.nn.utils._named_member_accessor as tnma

    for lib, mod in ((gg, gnma), (torch, tnma)):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
        acc = mod.NamedMemberAccessor(net)
        assert acc.get_submodule("1.0") is net[1][0]
        assert acc.get_tensor("1.0.bias") is net[1][0].bias
        new = lib.ones(1, 2)
        old = acc.swap_tensors(["1.0.weight"], [new])[0]
        assert old.shape == (1, 2) and net[1][0].weight is new
        acc.set_tensors(["0.bias"], [lib.zeros(2)])
        assert float(net[0].bias.abs().sum()) == 0.0
        acc.del_tensor("0.bias")
        assert "bias" not in net[0]._parameters
        old_child = acc.swap_submodule("1.0", lib.nn.Identity())
        assert isinstance(old_child, lib.nn.Linear) and isinstance(net[1][0], lib.nn.Identity)
        with pytest.raises(AttributeError, match="no attribute"):
            acc.get_submodule("7")
        with pytest.raises(KeyError):
            mod.swap_submodule(net, "9", lib.nn.Identity())


# --- torch.SymInt and the sym_* helpers ---------------------------------------------------------------


def test_symbolic_number_types_have_no_eager_instances(torch):
    for name in ("SymInt", "SymFloat", "SymBool"):
        g, t = getattr(gg, name), getattr(torch, name)
        for v in (3, 2.5, True, gg.tensor(1)):
            assert isinstance(v, g) is isinstance(v, t) is False
    assert isinstance(4, (int, gg.SymInt))
    with pytest.raises(TypeError, match="SymInt"):
        gg.SymInt(None)


@pytest.mark.parametrize(
    ("fn", "args"),
    [("sym_int", (2.7,)), ("sym_int", (-2.7,)), ("sym_int", (5,)), ("sym_float", (3,)),
     ("sym_max", (2, 5)), ("sym_max", (2.5, 1)), ("sym_min", (2, 5)), ("sym_not", (True,)), ("sym_not", (0,))],
)  # fmt: skip
def test_sym_helpers_match_pytorch_on_plain_numbers(torch, fn, args):
    got, want = getattr(gg, fn)(*args), getattr(torch, fn)(*args)
    assert got == want and type(got) is type(want)
