"""Round 58 functree hunt: the transforms of ``glassgrad.func`` flatten their inputs and outputs
with ``glassgrad.utils._pytree`` (PyTorch's rules: None is a leaf), give an empty container an
empty derivative, and raise the error classes PyTorch's do; ``TreeSpec`` prints and hashes as
PyTorch's."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.utils._pytree as gpt

Pair = collections.namedtuple("Pair", "a b")

XA = np.array([0.3, -1.2, 2.0])
WA = np.arange(6.0).reshape(2, 3) / 7 - 0.4


def libs(torch):
    return [(gg, gpt), (torch, torch.utils._pytree)]


def t(lib, a, rg=False):
    x = lib.tensor(np.asarray(a, dtype=np.float64))
    return x.requires_grad_() if rg else x


def close(ours, theirs, rtol=1e-10):
    """Same structure (container types, dict key order) and values."""
    if isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            close(ours[k], theirs[k], rtol)
    elif isinstance(theirs, tuple | list):
        assert type(ours).__name__ == type(theirs).__name__ and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            close(a, b, rtol)
    else:
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-12)


def nested_loss(p, w):
    return ((w @ p["x"][0].sin()) * p["pair"].a).sum() + (p["x"][1] * p["pair"].b).sum() ** 2


def nested_args(lib):
    p = {"x": [t(lib, XA), t(lib, XA[::-1].copy())], "pair": Pair(t(lib, [0.5, -2.0]), t(lib, 1.5))}
    return p, t(lib, WA)


TRANSFORMS = {
    "grad": lambda F: F.grad(nested_loss, argnums=(0, 1)),
    "grad_and_value": lambda F: F.grad_and_value(nested_loss),
    "jacrev": lambda F: F.jacrev(nested_loss, argnums=(1, 0)),
    "jacfwd": lambda F: F.jacfwd(nested_loss, argnums=(1, 0)),
    "hessian": lambda F: F.hessian(nested_loss),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_nested_pytree_inputs_keep_structure_and_values(torch, name):
    ours = TRANSFORMS[name](gg.func)(*nested_args(gg))
    theirs = TRANSFORMS[name](torch.func)(*nested_args(torch))
    close(ours, theirs)


def test_vjp_jvp_linearize_on_nested_pytrees(torch):
    def f(p, w):
        return {"y": w @ p["x"][0].exp(), "s": Pair(p["pair"].a * p["x"][1].sum(), p["pair"].b.sin())}

    res = {}
    for lib, _ in libs(torch):
        p, w = nested_args(lib)
        out, fn = lib.func.vjp(f, p, w)
        ct = {"y": t(lib, [1.0, -0.5]), "s": Pair(t(lib, [0.25, 2.0]), t(lib, 3.0))}
        tangents = (nested_args(lib)[0], t(lib, WA * 2))
        lin_out, lin_fn = lib.func.linearize(f, p, w)
        res[lib] = (out, fn(ct), fn(ct), lib.func.jvp(f, (p, w), tangents), lin_out, lin_fn(*tangents))
    close(res[gg], res[torch])


def test_jacfwd_negative_argnums_against_pytorchs_jacrev(torch):
    # PyTorch 2.13's jacfwd gives zeros for a negative argnums (a bug of its own); its jacrev,
    # and the derivative, count from the end
    ours = gg.func.jacfwd(nested_loss, argnums=(-2, -1))(*nested_args(gg))
    close(ours, torch.func.jacrev(nested_loss, argnums=(-2, -1))(*nested_args(torch)))


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x: F.grad(lambda p: p[0].sum())((x, None)),
        lambda F, x: F.grad(lambda p: p["a"].sum())({"a": x, "b": None}),
        lambda F, x: F.vjp(lambda p: p[0].exp(), (x, None)),
        lambda F, x: F.jacrev(lambda p: p[0].sin())((x, None)),
        lambda F, x: F.grad(lambda p: p[0].sum())((x, 2)),
    ],
    ids=["grad-tuple", "grad-dict", "vjp", "jacrev", "grad-int"],
)
def test_none_in_a_differentiated_input_is_a_leaf_and_refused(torch, call):
    # PyTorch's pytree makes None a leaf, and a leaf that is not a Tensor a ValueError
    for lib, _ in libs(torch):
        with pytest.raises(ValueError):
            call(lib.func, t(lib, XA))
    with pytest.raises(TypeError, match="got NoneType|got int"):  # glassgrad's class before, kept
        call(gg.func, t(gg, XA))


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x: F.vjp(lambda x: (x.exp(), None), x),
        lambda F, x: F.jacrev(lambda x: (x.sin(), None))(x),
        lambda F, x: F.jvp(lambda x: (x * 2, None), (x,), (x,)),
        lambda F, x: F.jacfwd(lambda x: (x.sin(), None))(x),
        lambda F, x: F.jvp(lambda p: p[0] * 2, ((x, None),), ((x, None),)),
        lambda F, x: F.vjp(lambda x: (x.exp(), 3), x),
        lambda F, x: F.grad(lambda x: 3.0)(x),
    ],
    ids=["vjp-out", "jacrev-out", "jvp-out", "jacfwd-out", "jvp-primal", "vjp-int-out", "grad-float-out"],
)
def test_none_or_a_number_among_outputs_or_jvp_primals_is_a_runtime_error(torch, call):
    for lib, _ in libs(torch):
        with pytest.raises(RuntimeError):
            call(lib.func, t(lib, XA))


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x: F.grad(lambda p, x: (x.sin() * x).sum(), argnums=(0, 1))((), x),
        lambda F, x: F.grad(lambda p: (x * 2).sum())({}),
        lambda F, x: F.jacrev(lambda p, x: x.sin(), argnums=(0, 1))((), x),
        lambda F, x: F.vjp(lambda p, x: x.sin(), (), x)[1](x * 3),
        lambda F, x: F.hessian(lambda p, x: x.sin().sum(), argnums=(0, 1))([], x),
        lambda F, x: F.jvp(lambda p, x: x.sin(), ((), x), ((), x)),
    ],
    ids=["grad", "grad-only-empty", "jacrev", "vjp", "hessian", "jvp"],
)
def test_an_empty_container_gets_an_empty_derivative(torch, call):
    close(call(gg.func, t(gg, XA)), call(torch.func, t(torch, XA)))


def test_empty_container_beside_a_closure_weight_that_requires_grad(torch):
    res = {}
    for lib, _ in libs(torch):
        w = t(lib, XA, rg=True)
        res[lib] = lib.func.grad(lambda p, x: (x * w).sum(), argnums=(0, 1))((), t(lib, XA))
    close(res[gg], res[torch])


@pytest.mark.parametrize(
    "argnums,exc",
    [
        (2, RuntimeError),
        ((0, 0), RuntimeError),
        ((), RuntimeError),
        ([0, 1], RuntimeError),
        (((0, 1),), RuntimeError),
        (0.0, RuntimeError),
    ],
    ids=["out-of-range", "repeated", "empty", "list", "nested", "float"],
)
def test_bad_argnums_raise_runtime_error_as_pytorch(torch, argnums, exc):
    for lib, _ in libs(torch):
        with pytest.raises(exc):
            lib.func.grad(lambda x, y: (x * y).sum(), argnums=argnums)(t(lib, XA), t(lib, XA))


def test_argnums_true_is_argument_one(torch):
    res = {}
    for lib, _ in libs(torch):
        res[lib] = lib.func.grad(lambda x, y: (x * y.sin()).sum(), argnums=True)(t(lib, XA), t(lib, XA * 2))
    close(res[gg], res[torch])


@pytest.mark.parametrize(
    "call",
    [
        lambda F, x: F.vjp(lambda x: (x.exp(), x), x)[1](x),
        lambda F, x: F.vjp(lambda x: {"a": x.exp(), "b": x}, x)[1]({"b": x, "a": x}),
        lambda F, x: F.vjp(lambda x: Pair(x.exp(), x), x)[1]((x, x)),
        lambda F, x: F.jvp(lambda p: p[0] * p[1], ((x, x),), ([x, x],)),
        lambda F, x: F.jvp(lambda x, y: x * y, (x, x), (x,)),
        lambda F, x: F.jvp(lambda x: x * 2, [x], [x]),
        lambda F, x: F.linearize(lambda x: x.sin(), x)[1](x, x),
        lambda F, x: F.linearize(lambda x: x.sin(), x)[1](x.float()),
        lambda F, x: F.grad(lambda x: [x.sum(), x], has_aux=True)(x),
    ],
    ids=[
        "vjp-ct-tensor-for-tuple",
        "vjp-ct-key-order",
        "vjp-ct-tuple-for-namedtuple",
        "jvp-list-for-tuple",
        "jvp-tangent-count",
        "jvp-primals-list",
        "linearize-count",
        "linearize-dtype",
        "grad-aux-list",
    ],
)
def test_structure_and_dtype_mismatches_are_runtime_errors(torch, call):
    for lib, _ in libs(torch):
        with pytest.raises(RuntimeError):
            call(lib.func, t(lib, XA))


def test_jacrev_aux_is_a_constant_where_the_jacobian_is(torch):
    seen = {}
    for lib, _ in libs(torch):
        x = t(lib, XA, rg=True)
        with lib.no_grad():
            j0, aux0 = lib.func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(x)
        j1, aux1 = lib.func.jacrev(lambda x: (x.sin(), x.cos()), has_aux=True)(t(lib, XA))
        j2, aux2 = lib.func.jacrev(lambda x: (x.sin(), {"c": x.cos()}), has_aux=True)(x)
        seen[lib] = [(j.requires_grad, a.requires_grad) for j, a in ((j0, aux0), (j1, aux1), (j2, aux2["c"]))]
        close(aux2["c"], t(torch, np.cos(XA)) if lib is torch else t(gg, np.cos(XA)))
    assert seen[gg] == seen[torch]


def test_jacrev_aux_stays_in_the_callers_graph_when_the_input_requires_grad(torch):
    grads = {}
    for lib, _ in libs(torch):
        x = t(lib, XA, rg=True)
        _, aux = lib.func.jacrev(lambda x: (x.sin(), x.cos() * x), has_aux=True)(x)
        grads[lib] = lib.autograd.grad(aux.sum(), x)[0]
    close(grads[gg], grads[torch])


SPECS = [
    (1, None, [2, {"b": None, "a": 3}]),
    Pair(1, (2,)),
    collections.OrderedDict(b=1, a=[2]),
    collections.defaultdict(list, {"b": 1}),
    collections.deque([1, 2], maxlen=3),
    {2: "a", 1: "b"},
    (),
    5,
]


@pytest.mark.parametrize("tree", SPECS, ids=[f"spec{i}" for i in range(len(SPECS))])
def test_treespec_repr_and_hash_as_pytorch(torch, tree):
    ours, theirs = gpt.tree_structure(tree), torch.utils._pytree.tree_structure(tree)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert gpt.tree_flatten(tree)[0] == torch.utils._pytree.tree_flatten(tree)[0]
    assert hash(ours) == hash(gpt.tree_structure(gpt.tree_map(lambda v: v, tree)))


def test_treespec_as_a_dict_key(torch):
    for _, P in libs(torch):
        cache = {P.tree_structure((1, [2])): "seen", P.tree_structure({"a": 1, "b": 2}): "dict"}
        assert cache[P.tree_structure((5, [6]))] == "seen"
        assert cache[P.tree_structure({"a": 0, "b": 0})] == "dict"
        assert P.tree_structure({"b": 1, "a": 2}) not in cache  # key order is structure
        assert P.tree_structure((1,)) != P.tree_structure([1])


def test_treespec_hash_of_a_registered_type_with_an_unhashable_context():
    class Box:
        def __init__(self, v: object) -> None:
            self.v = v

    gpt.register_pytree_node(Box, lambda b: ([b.v], ["ctx"]), lambda c, _: Box(c[0]))
    try:
        a, b = gpt.tree_structure(Box(1)), gpt.tree_structure(Box(2))
        assert a == b and hash(a) == hash(b)
        assert repr(a) == "TreeSpec(Box, ['ctx'], [*])"
    finally:
        del gpt.SUPPORTED_NODES[Box], gpt.FLATTEN_WITH_KEYS[Box]
