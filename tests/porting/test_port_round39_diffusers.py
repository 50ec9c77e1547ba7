"""Round 39, group diffusers: Hugging Face diffusers' UNets, VAE, schedulers and DDPM pipeline.

Importing diffusers builds per-backend tables (``torch.mps.empty_cache``,
``torch.cuda.reset_peak_memory_stats``), lists the sub-byte dtypes ``torch.uint1..uint7``,
registers its output dataclasses as pytree nodes with PyTorch's private
``_pytree._dict_flatten``/``_dict_unflatten``, annotates with ``torch.Stream`` and asks
``torch._dynamo.eval_frame.OptimizedModule`` whether a model is compiled. Each test compares
with PyTorch's CPU build where PyTorch decides.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict, deque

import pytest

import glassgrad as gg
import glassgrad._dynamo
import glassgrad.utils._pytree as gpt
from glassgrad.errors import DTypeError

_SUB_BYTE = [f"{k}{b}" for k in ("uint", "int") for b in range(1, 8)]


# --- torch.mps: every name exists; the CPU build answers or raises as PyTorch's does --------


def test_mps_answers_as_a_build_without_mps(torch):
    assert gg.mps.is_available() is torch.mps.is_available() is False
    assert gg.mps.device_count() == torch.mps.device_count() == 0
    assert gg.mps.manual_seed(3) is None and torch.mps.manual_seed(3) is None


@pytest.mark.parametrize(
    "name", ["empty_cache", "synchronize", "seed", "get_rng_state", "current_allocated_memory",
             "driver_allocated_memory", "recommended_max_memory"],
)  # fmt: skip
def test_mps_device_calls_raise_runtime_error(torch, name):
    with pytest.raises(RuntimeError):
        getattr(torch.mps, name)()
    with pytest.raises(RuntimeError, match=f"mps.{name}"):
        getattr(gg.mps, name)()


def test_mps_is_reachable_as_torch_attribute_and_import():
    import glassgrad.mps as m

    assert m is gg.mps and "mps" in dir(gg)


def test_cuda_memory_resets_exist_and_leave_counters_at_zero():
    for name in ("reset_peak_memory_stats", "reset_max_memory_allocated", "reset_accumulated_memory_stats"):
        assert getattr(gg.cuda, name)() is None
        assert name in gg.cuda.__all__
    assert gg.cuda.max_memory_allocated() == 0


# --- torch.uint1..uint7 / int1..int7 -----------------------------------------------------------


@pytest.mark.parametrize("name", _SUB_BYTE)
def test_sub_byte_dtypes_match_pytorch(torch, name):
    ours, theirs = getattr(gg, name), getattr(torch, name)
    assert ours.is_signed == theirs.is_signed
    assert ours.is_floating_point == theirs.is_floating_point is False
    assert ours.is_complex == theirs.is_complex is False
    assert ours.itemsize == theirs.itemsize
    assert str(theirs) == f"torch.{name}"


def test_sub_byte_dtypes_are_distinct_names_without_tensors():
    dts = [getattr(gg, n) for n in _SUB_BYTE]
    assert len(set(dts)) == 14 and all(d == d for d in dts)
    assert gg.uint4 != gg.uint8 and gg.int4 != gg.int8
    assert {gg.uint4: "a"}[gg.uint4] == "a"
    with pytest.raises(DTypeError, match="uint4"):
        gg.zeros(2, dtype=gg.uint4)


# --- torch.utils._pytree's private per-container helpers ----------------------------------------


_CASES = [
    ("_dict", {"b": 1, "a": 2}),
    ("_ordereddict", OrderedDict([("x", 3), ("y", 4)])),
    ("_list", [1, 2, 3]),
    ("_tuple", (1, 2)),
    ("_deque", deque([1, 2], maxlen=5)),
    ("_defaultdict", defaultdict(list, {"k": 1})),
]


@pytest.mark.parametrize(("prefix", "node"), _CASES)
def test_pytree_private_helpers_match_pytorch(torch, prefix, node):
    import torch.utils._pytree as tpt

    ours = getattr(gpt, prefix + "_flatten")(node)
    theirs = getattr(tpt, prefix + "_flatten")(node)
    assert list(ours[0]) == list(theirs[0]) and ours[1] == theirs[1]
    back_ours = getattr(gpt, prefix + "_unflatten")(ours[0], ours[1])
    back_theirs = getattr(tpt, prefix + "_unflatten")(theirs[0], theirs[1])
    assert type(back_ours) is type(back_theirs) and back_ours == back_theirs


def test_pytree_dict_unflatten_rejects_mismatched_lengths(torch):
    import torch.utils._pytree as tpt

    with pytest.raises(ValueError):
        tpt._dict_unflatten([1], ["a", "b"])
    with pytest.raises(ValueError):
        gpt._dict_unflatten([1], ["a", "b"])


def _output_class(pytree):
    """diffusers' BaseOutput: an OrderedDict subclass registered with the private dict helpers."""

    class Output(OrderedDict):
        def __init__(self, **kw):
            super().__init__(**kw)

    pytree.register_pytree_node(
        Output,
        pytree._dict_flatten,
        lambda values, context: Output(**pytree._dict_unflatten(values, context)),
        serialized_type_name="tests.Output",
    )
    return Output


def test_dict_subclass_registered_as_diffusers_does_round_trips(torch):
    import torch.utils._pytree as tpt

    results = []
    for pytree, lib in ((gpt, gg), (tpt, torch)):
        cls = _output_class(pytree)
        tree = cls(sample=lib.ones(2), extra=[lib.zeros(1), 3])
        leaves, spec = pytree.tree_flatten(tree)
        back = pytree.tree_unflatten([x * 2 if hasattr(x, "shape") else x for x in leaves], spec)
        assert type(back) is cls and list(back) == ["sample", "extra"]
        results.append((len(leaves), back["sample"].tolist(), back["extra"][1]))
    assert results[0] == results[1]


# --- torch.Stream / torch.Event on the CPU -------------------------------------------------------


def test_stream_on_cpu_matches_pytorch(torch):
    ours, theirs = gg.Stream(), torch.Stream()
    assert gg.Stream(device="meta").device_type == torch.Stream(device="meta").device_type
    assert repr(ours) == repr(theirs)
    assert str(ours.device) == str(theirs.device) == "cpu"
    assert (ours.device_type, ours.device_index, ours.stream_id) == (
        theirs.device_type, theirs.device_index, theirs.stream_id,
    )  # fmt: skip
    assert ours.query() is theirs.query() is True
    assert ours.synchronize() is None and ours.is_capturing() is theirs.is_capturing() is False
    assert gg.Stream("cpu", priority=-1) == ours and hash(gg.Stream(device="cpu")) == hash(ours)
    with ours as s:
        assert s is ours


def test_stream_and_event_errors_match_pytorch(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError):
            lib.Stream(device="cuda")
        with pytest.raises(RuntimeError):
            lib.Event(device="cuda")
        e = lib.Event(enable_timing=True)
        assert e.query() is True and str(e.device) == "cpu"
        with pytest.raises(RuntimeError, match="doesn't support events"):
            e.record()
        with pytest.raises(RuntimeError, match="doesn't support events"):
            lib.Stream().record_event()
        with pytest.raises(ValueError, match="enable_timing"):
            lib.Event().elapsed_time(lib.Event())
    assert repr(gg.Event(enable_timing=True)) == repr(torch.Event(enable_timing=True))


def test_stream_in_an_annotation_union():
    assert gg.cuda.Stream | gg.Stream | None is not None


# --- torch._dynamo.eval_frame -------------------------------------------------------------------


def test_eval_frame_optimized_module_is_dynamos(torch):
    import torch._dynamo.eval_frame

    assert torch._dynamo.eval_frame.OptimizedModule is torch._dynamo.OptimizedModule
    assert gg._dynamo.eval_frame.OptimizedModule is gg._dynamo.OptimizedModule
    assert not isinstance(gg.nn.Linear(2, 2), gg._dynamo.eval_frame.OptimizedModule)
    # torch.compile(module) returns PyTorch's wrapper (tests/test_compile_wrapper.py), as there
    assert isinstance(gg.compile(gg.nn.Linear(2, 2)), gg._dynamo.eval_frame.OptimizedModule)
    assert isinstance(torch.compile(torch.nn.Linear(2, 2)), torch._dynamo.eval_frame.OptimizedModule)


# --- torch.library.custom_op ----------------------------------------------------------------


def _sin_op(lib, name, **kw):
    def op(x, k=2.0):
        return x.sin() * k

    # real annotations (PyTorch infers the schema from them; this module's are strings)
    op.__annotations__ = {"x": lib.Tensor, "k": float, "return": lib.Tensor}
    return lib.library.custom_op(name, op, mutates_args=(), **kw)


def test_custom_op_forward_and_ops_namespace_match_pytorch(torch):
    import numpy as np

    a = np.random.default_rng(0).standard_normal((2, 3))
    ours, theirs = _sin_op(gg, "r39gg::fwd"), _sin_op(torch, "r39t::fwd")
    assert np.allclose(ours(gg.tensor(a)).numpy(), theirs(torch.tensor(a)).numpy(), rtol=0, atol=1e-15)
    assert np.allclose(gg.ops.r39gg.fwd(gg.tensor(a), k=3.0).numpy(), (np.sin(a) * 3.0), rtol=0, atol=1e-15)
    assert repr(ours).replace("r39gg", "r39t") == repr(theirs) == "<CustomOpDef(r39t::fwd)>"
    assert not hasattr(gg.ops.r39gg, "missing") and not hasattr(torch.ops.r39t, "missing")


def test_custom_op_backward_without_formula_raises_as_pytorch(torch):
    for lib, ns in ((gg, "r39gg"), (torch, "r39t")):
        op = _sin_op(lib, f"{ns}::nograd")
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = op(x)
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="no autograd formula was registered"):
            y.sum().backward()
        with lib.no_grad():
            assert not op(x).requires_grad


def test_custom_op_register_autograd_matches_pytorch_and_gradchecks(torch):
    import numpy as np

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.k = inputs[1]

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos() * ctx.k, None

    rng = np.random.default_rng(1)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 4))
    grads = []
    for lib, ns in ((gg, "r39gg"), (torch, "r39t")):
        op = _sin_op(lib, f"{ns}::withgrad")
        lib.library.register_autograd(f"{ns}::withgrad", backward, setup_context=setup_context)
        x = lib.tensor(a, requires_grad=True)
        (op(x, 1.5) * lib.tensor(w)).sum().backward()  # broadcast (3, 4) against (2, 3, 4)
        grads.append(x.grad.numpy())
    assert np.allclose(grads[0], grads[1], rtol=0, atol=1e-14)
    x = gg.tensor(a, requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: gg.ops.r39gg.withgrad(t, 0.7) * gg.tensor(w), (x,))


def test_custom_op_for_another_device_and_fake_registration(torch):
    for lib, ns in ((gg, "r39gg"), (torch, "r39t")):
        op = _sin_op(lib, f"{ns}::cudaonly", device_types="cuda")
        with pytest.raises(NotImplementedError):
            op(lib.ones(2))

        @lib.library.register_fake(f"{ns}::cudaonly")
        def _(x, k=2.0):
            return lib.empty_like(x)

        op.register_kernel("cpu", lambda x, k=2.0: x + k)
        assert op(lib.ones(2)).tolist() == [3.0, 3.0]
        with pytest.raises(RuntimeError, match="does not exist"):
            lib.library.register_fake(f"{ns}::never_defined", lambda x: x)
    with pytest.raises(ValueError, match="namespace::op_name"):
        gg.library.custom_op("nonamespace", lambda x: x, mutates_args=())
