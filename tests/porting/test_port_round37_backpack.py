"""Round 37, group backpack: what BackPACK (``extend`` + ``backpack(...)`` extensions, its
Hessian-free products) and curvlinops (Hessian/GGN/EF/KFAC linear operators) needed.

BackPACK imports ``torch.fx``'s ``Graph``/``GraphModule``/``Node``/``Tracer`` (it subclasses
``Tracer``) and keys what it propagates between modules by ``data_ptr()`` of a module's output and
of the next module's input, as seen by its forward hooks: with full backward hooks those are
PyTorch's hooked views, sharing storage; glassgrad's stand-ins are copies and had their own
addresses, so every second-order extension found nothing (``expects a backpropagation quantity
but it is None``). Its Hessian-vector products differentiate twice through hooked modules, which
the hook plumbing refused (``hookunpack: create_graph=True needs a differentiable backward``).
curvlinops imports ``torch.fx.experimental.proxy_tensor.make_fx`` and names
``torch.ops.aten.{view,_unsafe_view,t,mm,addmm,add,convolution}`` as keys; its Hessian-vector
product is ``jvp(jacrev(loss))`` (forward-over-reverse), which glassgrad's jvp refused; einconv
builds its index patterns with an int32 ``conv1d``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck, gradgradcheck


def _np(t):
    return t.detach().numpy()


# ---- torch.fx / make_fx names --------------------------------------------------------------


def test_fx_tracer_subclass_traces_and_make_fx_refuses():
    """BackPACK subclasses ``Tracer`` (every module a leaf); round 38 made ``torch.fx`` a real tracer
    (tests/porting/test_port_round38_fx.py), ``make_fx`` still refuses."""
    from glassgrad.fx import Graph, GraphModule, Node, Proxy, Tracer
    from glassgrad.fx.experimental.proxy_tensor import make_fx

    class LeafTracer(Tracer):  # BackPACK's BackpackTracer
        def is_leaf_module(self, m, name):
            return True

    model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ReLU())
    graph = LeafTracer().trace(model)
    assert isinstance(graph, Graph) and all(isinstance(n, Node) for n in graph.nodes)
    assert [(n.op, n.target) for n in graph.nodes] == [
        ("placeholder", "input"),
        ("call_module", "0"),
        ("call_module", "1"),
        ("output", "output"),
    ]
    gm = GraphModule(model, graph)
    x = gg.randn(4, 2)
    np.testing.assert_array_equal(_np(gm(x)), _np(model(x)))
    assert issubclass(Proxy, object)
    with pytest.raises(NotImplementedError, match=r"make_fx\(f\): glassgrad has no graph tracer"):

        def f(x):
            return x

        make_fx(f)


def test_fx_names_exist_in_pytorch(torch):
    import torch.fx
    import torch.fx.experimental.proxy_tensor as pt

    for name in ("Graph", "GraphModule", "Node", "Proxy", "Tracer"):
        assert isinstance(getattr(torch.fx, name), type)
    assert callable(pt.make_fx)


# ---- torch.ops.aten ------------------------------------------------------------------------


def _aten_cases(lib, rng):
    a = lib.tensor(rng.standard_normal((3, 4)))
    b = lib.tensor(rng.standard_normal((4, 2)))
    c = lib.tensor(rng.standard_normal(2))
    x = lib.tensor(rng.standard_normal((2, 3, 7)))
    w = lib.tensor(rng.standard_normal((4, 3, 3)))
    wt = lib.tensor(rng.standard_normal((3, 2, 3)))
    x2 = lib.tensor(rng.standard_normal((1, 2, 5, 6)))
    w2 = lib.tensor(rng.standard_normal((4, 1, 3, 2)))
    aten = lib.ops.aten
    return [
        aten.view.default(a, [4, 3]),
        aten._unsafe_view.default(a, [2, 6]),
        aten.t.default(a),
        aten.mm.default(a, b),
        aten.addmm.default(c, a, b),
        aten.addmm.default(c, a, b, beta=0.5, alpha=-2.0),
        aten.add.Tensor(a, a.t().t(), alpha=3),
        aten.add.Tensor(a, c[:1]),
        aten.convolution.default(x, w, c.repeat(2), [2], [1], [1], False, [0], 1),
        aten.convolution.default(x, wt, None, [2], [1], [1], True, [1], 1),
        aten.convolution.default(x2, w2, None, [1, 2], [1, 0], [2, 1], False, [0, 0], 2),
    ]


def test_aten_operators_match_torch(torch):
    ours = _aten_cases(gg, np.random.default_rng(0))
    theirs = _aten_cases(torch, np.random.default_rng(0))
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(_np(o), t.numpy(), rtol=1e-12, atol=1e-12)


def test_aten_overload_spellings_are_the_function():
    aten = gg.ops.aten
    for name in ("view", "_unsafe_view", "t", "mm", "addmm", "add", "convolution", "slice"):
        op = getattr(aten, name)
        assert op.default is op and op.Tensor is op
    with pytest.raises(AttributeError, match="no operator 'sigmoid_backward'"):
        aten.sigmoid_backward  # noqa: B018


@pytest.mark.parametrize("seed", range(3))
def test_aten_gradcheck_with_broadcasting(seed):
    rng = np.random.default_rng(seed)
    m, k, n = rng.integers(1, 4, 3)
    bias_shape = [(int(n),), (1, int(n)), (int(m), 1), ()][seed]
    a = gg.tensor(rng.standard_normal((m, k)), requires_grad=True)
    b = gg.tensor(rng.standard_normal((k, n)), requires_grad=True)
    c = gg.tensor(rng.standard_normal(bias_shape), requires_grad=True)
    aten = gg.ops.aten
    assert gradcheck(lambda c, a, b: aten.addmm.default(c, a, b, beta=0.7, alpha=1.3), (c, a, b))
    d = gg.tensor(rng.standard_normal((m, n)), requires_grad=True)
    assert gradcheck(lambda x, y: aten.add.Tensor(x, y, alpha=-2), (d, c))
    assert gradcheck(lambda x, y: aten.mm.default(aten.t.default(x), y), (a, d))
    x = gg.tensor(rng.standard_normal((2, 2, 6)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    bias = gg.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(
        lambda x, w, bias: aten.convolution.default(x, w, bias, [2], [1], [1], False, [0], 1),
        (x, w, bias),
    )
    assert gradcheck(lambda x: aten._unsafe_view.default(x, [6, 4]) * 2, (x,))


# ---- full backward hooks: data_ptr of the stand-ins, create_graph through them -------------


def _hooked_chain(lib, record):
    nn = lib.nn
    lin, act, loss = nn.Linear(3, 2).double(), nn.Sigmoid(), nn.MSELoss()
    for name, m in (("lin", lin), ("act", act), ("loss", loss)):
        m.register_forward_hook(lambda m, i, o, name=name: record.__setitem__(name, (i, o)))
        m.register_full_backward_hook(lambda m, gi, go: None)
    return lin, act, loss


def test_hooked_module_io_share_data_ptr_as_torch(torch):
    """BackPACK's key: a module's output (forward hook) and the next module's input share data_ptr."""
    for lib in (gg, torch):
        rec = {}
        lin, act, loss = _hooked_chain(lib, rec)
        x = lib.tensor(np.ones((4, 3)), requires_grad=True)
        h = lin(x)
        y = act(h)
        loss(y, lib.zeros(4, 2, dtype=lib.float64))
        assert rec["lin"][1].data_ptr() == h.data_ptr() == rec["act"][0][0].data_ptr()
        assert rec["act"][1].data_ptr() == y.data_ptr() == rec["loss"][0][0].data_ptr()
        assert rec["lin"][0][0].data_ptr() == x.data_ptr()


def test_hooked_stand_in_changed_in_place_has_its_own_data_ptr():
    m = gg.nn.Identity()
    m.register_full_backward_hook(lambda m, gi, go: None)
    x = gg.ones(3, requires_grad=True) * 1
    seen = []
    m.register_forward_hook(lambda m, i, o: seen.append(i[0]))
    m(x)
    (inp,) = seen
    assert inp.data_ptr() == x.data_ptr()
    inp.mul_(2.0)  # changed in place: its values are no longer the source's
    assert inp.data_ptr() != x.data_ptr() and x.tolist() == [1.0, 1.0, 1.0]


def _hvp_through_hooks(lib, scale_grad_input):
    rng = np.random.default_rng(3)
    nn = lib.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    calls = []

    def hook(m, gi, go):
        calls.append(type(m).__name__)
        if scale_grad_input and isinstance(m, nn.Tanh):
            return (gi[0] * 2,)
        return None

    for m in model:
        m.register_full_backward_hook(hook)
    x = lib.tensor(rng.standard_normal((5, 3)))
    params = list(model.parameters())
    v = [lib.tensor(rng.standard_normal(tuple(p.shape))) for p in params]
    loss = (model(x) ** 2).sum()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the first Linear's input does not require grad (both warn)
        g = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(g, v))
        hv = lib.autograd.grad(dot, params)
    return [_np(t) for t in g], [_np(t) for t in hv], calls


@pytest.mark.parametrize("scale", [False, True])
def test_hessian_vector_product_through_hooked_modules_matches_torch(torch, scale):
    g1, hv1, calls1 = _hvp_through_hooks(gg, scale)
    g2, hv2, calls2 = _hvp_through_hooks(torch, scale)
    assert sorted(calls1) == sorted(calls2)
    for a, b in zip(g1 + hv1, g2 + hv2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_gradgradcheck_through_a_hooked_module():
    rng = np.random.default_rng(0)
    lin = gg.nn.Linear(3, 2).double()
    act = gg.nn.Softplus()
    for m in (lin, act):
        m.register_full_backward_hook(lambda m, gi, go: None)
    x = gg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradgradcheck(lambda x: act(lin(x)) ** 2, (x,))
    cat_in = gg.tensor(rng.standard_normal((2, 2)), requires_grad=True)

    class Two(gg.nn.Module):  # two inputs: one packed node, pieces sliced back out
        def forward(self, a, b):
            return a * b.sin()

    two = Two()
    two.register_full_backward_hook(lambda m, gi, go: None)
    assert gradgradcheck(lambda a, b: two(a, b), (cat_in, cat_in.detach().clone().requires_grad_()))


# ---- integer convolutions (einconv's index patterns) ---------------------------------------


@pytest.mark.parametrize("dtype", ["int32", "int64", "int16", "uint8"])
def test_integer_convolutions_match_torch(torch, dtype):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 5, (2, 2, 7))
    W = rng.integers(0, 3, (3, 2, 3))
    out = []
    for lib in (gg, torch):
        F, dt = lib.nn.functional, getattr(lib, dtype)
        x, w = lib.tensor(X).to(dt), lib.tensor(W).to(dt)
        res = [
            F.conv1d(x, w, stride=2, padding=1),
            F.conv2d(x.reshape(2, 2, 7, 1), w.reshape(3, 2, 3, 1), bias=lib.ones(3).to(dt)),
            F.conv3d(x.reshape(2, 2, 7, 1, 1), w.reshape(3, 2, 3, 1, 1), padding=(1, 0, 0)),
            F.conv1d(x, w[:2, :1], groups=2),
        ]
        out.append([(str(r.dtype).split(".")[-1], r.numpy() if lib is torch else _np(r)) for r in res])
    for (d1, a), (d2, b) in zip(*out):
        assert d1 == d2 == dtype
        np.testing.assert_array_equal(a, b)


def test_integer_convolution_refusals_name_the_op(torch):
    x = gg.ones(1, 1, 6, dtype=gg.int32)
    w = gg.ones(1, 1, 3, dtype=gg.int32)
    with pytest.raises(
        gg.errors.DTypeError, match=r"conv1d: expected a floating-point input for dilation \(2,\)"
    ):
        gg.nn.functional.conv1d(x, w, dilation=2)
    with pytest.raises(NotImplementedError):  # PyTorch's CPU kernels have no dilated int conv either
        torch.nn.functional.conv1d(
            torch.ones(1, 1, 6, dtype=torch.int32), torch.ones(1, 1, 3, dtype=torch.int32), dilation=2
        )
    with pytest.raises(
        gg.errors.DTypeError, match="conv1d: expected a floating-point, complex or integer input, got .*bool"
    ):
        gg.nn.functional.conv1d(x.bool(), w.bool())
    with pytest.raises(gg.errors.DTypeError, match="conv1d: expected input, weight and bias of one dtype"):
        gg.nn.functional.conv1d(x, w.long())


# ---- jvp nested with reverse-mode transforms (curvlinops' Hessian-vector product) ----------


def _jvp_cases(lib, rng):
    func = lib.func
    W = lib.tensor(rng.standard_normal((3, 4)))
    x = lib.tensor(rng.standard_normal(4))
    v = lib.tensor(rng.standard_normal(4))

    def f(z):
        return (lib.tanh(W @ z) ** 2).sum()

    def g(z):
        return lib.sin(W @ z)

    params = {"w": lib.tensor(rng.standard_normal((2, 3))), "b": lib.tensor(rng.standard_normal(2))}
    vs = {k: lib.tensor(rng.standard_normal(tuple(p.shape))) for k, p in params.items()}
    X = lib.tensor(rng.standard_normal((5, 3)))

    def loss(p):  # curvlinops' make_batch_hessian_vector_product: jvp(jacrev(loss), (p,), (v,))
        return ((X @ p["w"].T + p["b"]).exp() ** 0.5).sum()

    out, hvp = func.jvp(func.jacrev(loss), (params,), (vs,))
    y, aux_t, aux = func.jvp(lambda z: (func.grad(f)(z), z.sum()), (x,), (v,), has_aux=True)
    return [
        func.jvp(func.jacrev(f), (x,), (v,))[1],
        func.jvp(func.grad(f), (x,), (v,))[0],
        func.jvp(func.grad(f), (x,), (v,))[1],
        func.jacrev(lambda z: func.jvp(g, (z,), (v,))[1])(x),
        func.jacrev(lambda z: func.jvp(g, (z,), (v,))[0])(x),
        out["w"],
        out["b"],
        hvp["w"],
        hvp["b"],
        y,
        aux_t,
        aux,
        func.jvp(lambda z: func.jvp(f, (z,), (v,))[1], (x,), (v,))[1],  # jvp of a jvp
    ]


def test_jvp_nested_with_reverse_transforms_matches_torch_func(torch):
    ours = _jvp_cases(gg, np.random.default_rng(0))
    theirs = _jvp_cases(torch, np.random.default_rng(0))
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        assert not o.requires_grad
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_nested_jvp_strict_refuses_an_independent_output_as_torch(torch):
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64)

        def f(z, lib=lib):
            return (lib.func.grad(lambda q: (q**2).sum())(z), lib.ones(2, dtype=lib.float64))

        with pytest.raises(RuntimeError):
            lib.func.jvp(f, (x,), (x,), strict=True)
        _, (t1, t2) = lib.func.jvp(f, (x,), (x,))
        assert t1.tolist() == [2.0, 4.0] and t2.tolist() == [0.0, 0.0]


def test_nested_jvp_replays_random_draws():
    gg.manual_seed(0)
    x = gg.tensor([0.5, -1.0, 2.0], dtype=gg.float64)

    def f(z):
        noise = gg.rand(3, dtype=gg.float64)
        return gg.func.grad(lambda q: (q**3 * noise).sum())(z)

    gg.manual_seed(0)
    noise = gg.rand(3, dtype=gg.float64)
    after = gg.rand(1).item()
    gg.manual_seed(0)
    _, t = gg.func.jvp(f, (x,), (gg.ones(3, dtype=gg.float64),))
    np.testing.assert_allclose(_np(t), _np(6 * x * noise), rtol=1e-12)  # d/dz (3 z^2 n) = 6 z n
    assert gg.rand(1).item() == after  # f ran once as far as the generator is concerned


# ---- func transforms use register_pytree_node's nodes (curvlinops' UserDict inputs) ---------


class _Bag:
    """A container that is not a dict: a pytree node only once registered."""

    def __init__(self, **items):
        self.items = items

    def __getitem__(self, key):
        return self.items[key]


def _register_bag(lib):
    from importlib import import_module

    pytree = import_module(f"{lib.__name__}.utils._pytree")
    if _Bag not in pytree.SUPPORTED_NODES:
        pytree.register_pytree_node(
            _Bag, lambda b: (list(b.items.values()), list(b.items)), lambda v, k: _Bag(**dict(zip(k, v)))
        )


def _bag_transforms(lib):
    _register_bag(lib)
    func = lib.func
    rng = np.random.default_rng(5)
    bag = _Bag(x=lib.tensor(rng.standard_normal((3, 2))), y=lib.tensor(rng.standard_normal(3)))
    mapped = func.vmap(lambda b: (b["x"] ** 2).sum() * b["y"])(bag)
    g = func.grad(lambda b: (b["x"].sin() * b["y"][:, None]).sum())(bag)
    out = func.vmap(lambda x: _Bag(a=x * 2, b=x.sum()))(bag["x"])
    return [mapped, g["x"], g["y"], out["a"], out["b"]], type(g), type(out)


def test_func_transforms_flatten_registered_pytree_nodes_as_torch(torch):
    ours, g_type, out_type = _bag_transforms(gg)
    theirs, *_ = _bag_transforms(torch)
    assert g_type is _Bag and out_type is _Bag
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-12, atol=1e-15)


# ---- an operand that iterates like a sequence of tensors: its reflected operator runs -------


class _Blocks:
    """curvlinops' block-diagonal operator: indexable and iterable (its blocks are tensors), with
    ``__rmatmul__``/``__radd__`` of its own."""

    def __init__(self, *blocks):
        self.blocks = list(blocks)

    def __len__(self):
        return len(self.blocks)

    def __getitem__(self, i):
        return self.blocks[i]

    def __iter__(self):
        return iter(self.blocks)

    def __rmatmul__(self, x):
        return ("rmatmul", x.shape[-1])

    def __radd__(self, x):
        return ("radd", x.shape[-1])


def test_sequence_like_operand_gets_its_reflected_operator_as_torch(torch):
    for lib in (gg, torch):
        blocks = _Blocks(lib.ones(2, 2), lib.ones(3, 2))
        x = lib.ones(4, 3)
        assert x @ blocks == ("rmatmul", 3)
        assert x + blocks == ("radd", 3)
        with pytest.raises(TypeError):
            x - blocks  # no __rsub__: Python's "unsupported operand type(s)"


# ---- torch.nn.utils submodule paths (BackPACK's tests import parameters_to_vector so) -------


def test_nn_utils_submodule_paths_as_torch(torch):
    import torch.nn.utils.clip_grad as tc
    import torch.nn.utils.convert_parameters as tp

    from glassgrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_
    from glassgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

    for name in ("parameters_to_vector", "vector_to_parameters"):
        assert hasattr(tp, name)
    for name in (
        "clip_grad_norm_",
        "clip_grad_norm",
        "clip_grad_value_",
        "_get_total_norm",
        "_clip_grads_with_norm_",
    ):
        assert hasattr(tc, name)
        assert hasattr(gg.nn.utils.clip_grad, name)
    rng = np.random.default_rng(2)
    shapes = [(2, 3), (4,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    out = []
    for lib, p2v, v2p in (
        (gg, parameters_to_vector, vector_to_parameters),
        (torch, tp.parameters_to_vector, tp.vector_to_parameters),
    ):
        ps = [lib.nn.Parameter(lib.tensor(a)) for a in arrays]
        vec = p2v(ps)
        v2p(vec * 2, ps)
        for p in ps:
            p.grad = p.detach() * 3
        norm = (clip_grad_norm_ if lib is gg else tc.clip_grad_norm_)(ps, 1.0)
        (clip_grad_value_ if lib is gg else tc.clip_grad_value_)(ps, 0.1)
        out.append([_np(vec), *[_np(p) for p in ps], *[_np(p.grad) for p in ps], np.asarray(float(norm))])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_materialized_gradients_require_grad_under_create_graph(torch):
    """BackPACK's R_op: ``grad(..., materialize_grads=True, create_graph=True)`` gives zeros that
    require grad for an unused input, so a second ``grad`` through them runs (PyTorch's)."""

    def run(lib):
        x = lib.zeros(1, requires_grad=True, dtype=lib.float64)
        f = lib.nn.Linear(1, 1).double()
        (dy_dx,) = lib.autograd.grad(f(x), x, create_graph=True)
        params = list(f.parameters())
        ws = lib.zeros_like(dy_dx).requires_grad_(True)
        out = []
        for create in (True, False):
            grads = lib.autograd.grad(
                dy_dx, params, ws, create_graph=create, retain_graph=True, materialize_grads=True
            )
            out.append([g.requires_grad for g in grads])
        gs = lib.autograd.grad(
            dy_dx, params, ws, create_graph=True, retain_graph=True, materialize_grads=True
        )
        (jv,) = lib.autograd.grad(gs, ws, [lib.ones_like(p) for p in params], materialize_grads=True)
        out.append(jv.tolist())
        return out

    assert run(gg) == run(torch)
