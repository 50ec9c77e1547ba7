"""Round 60's differential battery of the autograd API's options and errors: each program runs in
glassgrad and in PyTorch, and both raise the same class (with PyTorch's words), or both give the
same values, gradients, warnings and object identities.

Found by the battery: anomaly mode raised at a forward output holding NaN or Inf (a ``-inf``
attention mask before a softmax, ``where(x > 0, x.log(), 0)``, anything under ``no_grad``) where
PyTorch checks backward gradients only, and an op run inside a custom Function's backward was
blamed for that Function's NaN gradient; a real gradient given for a complex output was taken
(PyTorch refuses either mix), and ``create_graph=True`` checked neither; ``autograd.grad`` took no
dict of inputs, accepted none (``inputs=[]``), said ``AttributeError`` for a non-tensor input or
output, gave an input listed twice two gradient objects and warned nothing for ``only_inputs``;
``autograd.backward`` warned nothing for ``grad_variables`` and took it with ``grad_tensors``;
a leaf's ``AccumulateGrad`` was not named as PyTorch names it.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest

import glassgrad as gg

A = np.arange(1.0, 7.0).reshape(2, 3)


def _leaf(lib, a=A, dtype=None):
    return lib.tensor(a, dtype=dtype or lib.float64, requires_grad=True)


def _read(t):
    return None if t is None else np.array(t.detach().tolist())


def _outcome(lib, program):
    """What ``program(lib)`` gave: ("ok", value) or ("raise", exception), with the warnings said."""
    with warnings.catch_warnings(record=True) as said, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            got = ("ok", program(lib))
        except Exception as e:  # the exception is what is compared
            got = ("raise", e)
    return got, [(w.category, str(w.message).split("\n")[0]) for w in said]


# -- anomaly mode: backward gradients only, PyTorch's words ------------------------------------


def _masked_softmax(lib):
    x = _leaf(lib)
    mask = lib.tensor([[False, True, False], [False, False, True]])
    with lib.autograd.detect_anomaly():
        y = x.masked_fill(mask, float("-inf")).softmax(-1)  # an attention mask: -inf in forward
        (y * y).sum().backward()
    return _read(x.grad)


def _where_log(lib):
    x = _leaf(lib, np.array([-1.0, 2.0]))
    with lib.autograd.detect_anomaly():
        y = lib.where(x > 0, x.log(), lib.zeros(2, dtype=lib.float64))  # log(-1) is NaN, discarded
        y.sum().backward()
    return _read(x.grad)


def _no_grad_nan(lib):
    x = _leaf(lib, np.array([-1.0, 2.0]))
    lib.autograd.set_detect_anomaly(True)
    try:
        with lib.no_grad():
            return _read(x.log())
    finally:
        lib.autograd.set_detect_anomaly(False)


def _exp_overflow(lib):
    x = _leaf(lib, np.array([1000.0, 0.0]))
    with lib.autograd.detect_anomaly():
        y = x.exp()  # Inf in forward; backward gives Inf, not NaN
        y.sum().backward()
    return _read(x.grad)


FORWARD_NOT_CHECKED = {
    "masked_fill_inf_softmax": _masked_softmax,
    "where_discards_log_nan": _where_log,
    "no_grad_nan": _no_grad_nan,
    "exp_overflow_inf": _exp_overflow,
}


@pytest.mark.parametrize("case", list(FORWARD_NOT_CHECKED))
def test_anomaly_mode_lets_nan_and_inf_forward_outputs_through(torch, case):
    # was: AnomalyError "masked_fill: forward produced Inf" (PyTorch checks gradients only)
    (ours, our_warn), (theirs, their_warn) = (_outcome(lib, FORWARD_NOT_CHECKED[case]) for lib in (gg, torch))
    assert theirs[0] == "ok" and ours[0] == "ok", ours
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=0, equal_nan=True)
    assert our_warn == their_warn


def _sqrt_at_zero(lib):
    x = _leaf(lib, np.array([0.0, 1.0]))
    with lib.autograd.detect_anomaly():
        (x.sqrt() * 0.0).sum().backward()  # sqrt'(0) = inf, times 0: NaN


def _div_second_input(lib):
    x = _leaf(lib, np.array([0.0, 1.0]))
    with lib.autograd.detect_anomaly():
        (x / x).sum().backward()  # NaN in the forward is allowed; DivBackward0's 1th output is NaN


def _custom_function(lib):
    class Nan(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")  # the op inside is not blamed: the Function's node is

    x = _leaf(lib)
    with lib.autograd.detect_anomaly():
        Nan.apply(x).sum().backward()


NAN_GRADIENTS = {
    "sqrt_at_zero": _sqrt_at_zero,
    "div_second_input": _div_second_input,
    "custom": _custom_function,
}


@pytest.mark.parametrize("case", list(NAN_GRADIENTS))
def test_anomaly_mode_names_the_node_as_pytorch(torch, case):
    # was: "div: forward produced NaN", "mul: forward produced NaN" (an op inside the backward)
    (ours, our_warn), (theirs, their_warn) = (_outcome(lib, NAN_GRADIENTS[case]) for lib in (gg, torch))
    assert theirs[0] == "raise" and ours[0] == "raise"
    assert isinstance(ours[1], RuntimeError) and isinstance(theirs[1], RuntimeError)
    assert str(ours[1]).split("\n")[0] == str(theirs[1])
    # "Anomaly Detection has been enabled ...", then "Error detected in <node>. Traceback ..."
    assert our_warn == their_warn and len(their_warn) == 2


def test_anomaly_mode_check_nan_off_and_the_decorator_warn_once():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled") as said:

        @gg.autograd.detect_anomaly(check_nan=False)
        def f(x):
            return gg.autograd.grad((x.sqrt() * 0.0).sum(), x)[0]

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning per call
        got = f(_leaf(gg, np.array([0.0, 1.0])))
    assert len(said) == 1 and np.isnan(got.numpy()[0]) and not gg.is_anomaly_enabled()


# -- gradients given for outputs: complex for real and real for complex -------------------------


def _seed_programs():
    def backward(lib, out_dtype, seed_dtype, create_graph):
        x = _leaf(lib, dtype=out_dtype)
        (x * 2).backward(lib.ones(2, 3, dtype=seed_dtype), create_graph=create_graph)
        return _read(x.grad)

    def grad(lib, out_dtype, seed_dtype, create_graph):
        x = _leaf(lib, dtype=out_dtype)
        return _read(
            lib.autograd.grad(x * 2, x, lib.ones(2, 3, dtype=seed_dtype), create_graph=create_graph)[0]
        )

    def autograd_backward(lib, out_dtype, seed_dtype, create_graph):
        x = _leaf(lib, dtype=out_dtype)
        lib.autograd.backward([x * 2], [lib.ones(2, 3, dtype=seed_dtype)], create_graph=create_graph)
        return _read(x.grad)

    return {"backward": backward, "grad": grad, "autograd.backward": autograd_backward}


SEEDS = _seed_programs()
DTYPES = [
    ("complex128", "float64"),
    ("float64", "complex128"),
    ("complex64", "float32"),
    ("complex128", "int64"),
]


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("dtypes", DTYPES, ids=["/".join(d) for d in DTYPES])
@pytest.mark.parametrize("entry", list(SEEDS))
def test_a_gradient_mixing_complex_and_real_is_refused(torch, entry, dtypes, create_graph):
    # was: a float64 gradient for a complex128 output taken as a complex one (PyTorch refuses)
    def program(lib):
        out_dtype, seed_dtype = (getattr(lib, d) for d in dtypes)
        return SEEDS[entry](lib, out_dtype, seed_dtype, create_graph)

    (ours, _), (theirs, _) = (_outcome(lib, program) for lib in (gg, torch))
    assert theirs[0] == "raise" and ours[0] == "raise", ours
    assert isinstance(theirs[1], RuntimeError) and isinstance(ours[1], RuntimeError)
    words = "both grad_output and output are required to have the same dtype"
    assert words in str(theirs[1]) and words in str(ours[1])


@pytest.mark.parametrize("entry", list(SEEDS))
def test_a_gradient_of_the_same_complex_kind_is_taken(torch, entry):
    def program(lib):
        return SEEDS[entry](lib, lib.complex128, lib.complex64, False)

    (ours, _), (theirs, _) = (_outcome(lib, program) for lib in (gg, torch))
    assert theirs[0] == "ok" and ours[0] == "ok", ours
    np.testing.assert_array_equal(ours[1], theirs[1])


# -- autograd.grad's and autograd.backward's arguments ------------------------------------------


def _grad_dict(lib):
    x, w = _leaf(lib), _leaf(lib)
    got = lib.autograd.grad((x * w * w).sum(), {"x": x, "w": w, "again": x})
    return {k: _read(v) for k, v in got.items()}, got["x"] is got["again"]


def _grad_duplicates(lib, create_graph=False):
    x, w = _leaf(lib), _leaf(lib)
    got = lib.autograd.grad((x * x * w).sum(), [x, w, x], create_graph=create_graph)
    return [_read(g) for g in got], got[0] is got[2], got[0] is not got[1]


def _grad_only_inputs(lib):
    x = _leaf(lib)
    return _read(lib.autograd.grad((x * x).sum(), x, None, None, False, False)[0])


def _backward_grad_variables(lib):
    x = _leaf(lib)
    lib.autograd.backward(x * 2, grad_variables=lib.ones(2, 3, dtype=lib.float64))
    return _read(x.grad)


VALUES = {
    "grad_dict_inputs": _grad_dict,
    "grad_duplicate_inputs": _grad_duplicates,
    "grad_duplicate_inputs_create_graph": lambda lib: _grad_duplicates(lib, create_graph=True),
    "grad_only_inputs_false": _grad_only_inputs,
    "backward_grad_variables": _backward_grad_variables,
}


@pytest.mark.parametrize("case", list(VALUES))
def test_arguments_give_pytorchs_values_identities_and_warnings(torch, case):
    # was: AttributeError for a dict; two objects for x twice; no FutureWarning
    (ours, our_warn), (theirs, their_warn) = (_outcome(lib, VALUES[case]) for lib in (gg, torch))
    assert theirs[0] == "ok" and ours[0] == "ok", ours
    np.testing.assert_equal(ours[1], theirs[1])
    assert our_warn == their_warn


def _inputs_of(lib, inputs):
    x = _leaf(lib)
    return lib.autograd.grad((x * x).sum(), inputs(lib, x))


REFUSALS = {
    "grad_no_inputs": (lambda lib: _inputs_of(lib, lambda lib, x: []), RuntimeError, "cannot be empty"),
    "grad_empty_dict": (lambda lib: _inputs_of(lib, lambda lib, x: {}), RuntimeError, "cannot be empty"),
    "grad_mapping_not_dict": (
        lambda lib: _inputs_of(lib, lambda lib, x: types.MappingProxyType({"x": x})),
        TypeError,
        "must be a dict, not mappingproxy",
    ),
    "grad_number_input": (
        lambda lib: _inputs_of(lib, lambda lib, x: [x, 3.0]),
        RuntimeError,
        "all inputs have to be Tensors or GradientEdges, but got float",
    ),
    "backward_number_input": (
        lambda lib: (lambda x: (x * 2).sum().backward(inputs=[x, 1.0]))(_leaf(lib)),
        RuntimeError,
        "all inputs have to be Tensors or GradientEdges, but got float",
    ),
    "grad_number_output": (
        lambda lib: lib.autograd.grad([1.0], _leaf(lib)),
        AssertionError,
        "Expected output to be a torch.Tensor",
    ),
    "backward_number_output": (lambda lib: lib.autograd.backward([1.0]), AssertionError, "Expected output"),
    "backward_both_gradient_names": (
        lambda lib: (
            lambda x: lib.autograd.backward((x * 2).sum(), grad_tensors=[None], grad_variables=[None])
        )(_leaf(lib)),
        RuntimeError,
        "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to `backward()`",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_arguments_refused_as_pytorch(torch, case):
    # was: an empty tuple back for inputs=[]; AttributeError for a number
    program, cls, words = REFUSALS[case]
    for lib in (gg, torch):
        (got, _) = _outcome(lib, program)
        assert got[0] == "raise", (lib.__name__, got)
        assert isinstance(got[1], cls) and words in str(got[1]), (lib.__name__, got[1])


# -- graph nodes ---------------------------------------------------------------------------------


def test_a_leafs_node_is_named_as_pytorch(torch):
    # was: "AccumulateGrad" (PyTorch's name() is the C++ class's qualified name)
    for lib in (gg, torch):
        x = _leaf(lib)
        acc = (x * 2).grad_fn.next_functions[0][0]
        edge = lib.autograd.graph.get_gradient_edge(x)
        assert acc.name() == edge.node.name() == "torch::autograd::AccumulateGrad"
        assert type(acc).__name__ == "AccumulateGrad"


def _handles(lib):
    x = _leaf(lib)
    y = x * 2
    return {
        "tensor": x.register_hook(lambda g: g),
        "post_accumulate": x.register_post_accumulate_grad_hook(lambda t: None),
        "node": y.grad_fn.register_hook(lambda gi, go: None),
        "node_pre": y.grad_fn.register_prehook(lambda go: None),
        "leaf_node": y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: None),
        "multi": lib.autograd.graph.register_multi_grad_hook((x,), lambda gs: None),
        "module": lib.nn.Linear(2, 2).register_forward_hook(lambda *a: None),
    }


def test_every_hook_handle_is_a_removable_handle(torch):
    # was: a tensor's or a node's handle was another class than torch.utils.hooks.RemovableHandle
    for lib in (gg, torch):
        for where, h in _handles(lib).items():
            assert isinstance(h, lib.utils.hooks.RemovableHandle), (lib.__name__, where)
            assert type(h).__name__ == ("_MultiHandle" if where == "multi" else "RemovableHandle")
            assert hasattr(h, "id") is (where != "multi"), (lib.__name__, where)


def test_a_removed_tensor_and_node_hook_no_longer_runs(torch):
    def program(lib):
        x, seen = _leaf(lib), []
        y = x * 2
        handles = [
            x.register_hook(lambda g: seen.append("tensor")),
            y.grad_fn.register_prehook(lambda go: seen.append("pre")),
            lib.autograd.graph.register_multi_grad_hook((x,), lambda gs: seen.append("multi")),
        ]
        y.sum().backward(retain_graph=True)
        for h in handles:
            h.remove()
        y.sum().backward()
        return seen, _read(x.grad)

    ours, theirs = program(gg), program(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1], theirs[1])
