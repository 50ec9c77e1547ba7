"""Round 66 (PyTorch's test_autograd.py, ``TestAutograd``): calling a node, ``grad_fn(grad)``,
runs that node's backward alone, as PyTorch's ``Node.__call__``; a post-accumulate-grad hook that
returns a value raises PyTorch's class; ``saved_variables`` warns in PyTorch's words; a dense
gradient accumulated under ``create_graph`` into a sparse ``.grad`` gives PyTorch's dense sum."""

import numpy as np
import pytest

import glassgrad as gg


def _pair(torch, lib, shape_a, shape_b, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    return lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)


def _np(x):
    return None if x is None else x.detach().numpy()


@pytest.mark.parametrize("op", ["mul", "div", "add"])
def test_binary_node_call_matches_torch(torch, op):
    # broadcasting operands: PyTorch's node returns the op's own (unreduced) gradients
    outs = []
    for lib in (torch, gg):
        a, b = _pair(torch, lib, (3, 1), (1, 4))
        y = getattr(lib, op)(a, b)
        g = lib.tensor(np.arange(12.0).reshape(3, 4))
        outs.append(y.grad_fn(g))
    assert len(outs[0]) == len(outs[1]) == 2
    for t, ours in zip(*outs):
        assert tuple(t.shape) == tuple(ours.shape)
        np.testing.assert_allclose(_np(ours), _np(t), rtol=1e-12, atol=1e-12)


def test_node_call_records_under_grad_mode(torch):
    # with grad mode on the result is differentiable (PyTorch: grad_fn=<MulBackward0>); no_grad: plain
    for lib in (torch, gg):
        x = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
        y = x.sin()
        g = y.grad_fn(lib.ones(2, dtype=lib.float64))
        g = g[0] if isinstance(g, tuple) else g
        assert g.requires_grad
        (gg_x,) = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(_np(gg_x), -np.sin([1.5, -2.0]), rtol=1e-12)
        with lib.no_grad():
            h = y.grad_fn(lib.ones(2, dtype=lib.float64))
        h = h[0] if isinstance(h, tuple) else h
        assert not h.requires_grad
        np.testing.assert_allclose(_np(h), np.cos([1.5, -2.0]), rtol=1e-12)


def test_custom_function_node_is_not_callable(torch):
    # PyTorch's custom Function nodes (BackwardCFunction) are not callable: TypeError in both
    for lib in (torch, gg):

        class Triple(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return g * 3

        y = Triple.apply(lib.ones(3, requires_grad=True))
        with pytest.raises(TypeError, match="not callable"):
            y.grad_fn(lib.ones(3))


def test_node_call_argument_count_and_freed(torch):
    for lib in (torch, gg):
        x = lib.ones(2, requires_grad=True)
        y = x * x
        with pytest.raises(TypeError, match=r"expected 1 arguments, got 0 instead"):
            y.grad_fn()
        with pytest.raises(TypeError, match=r"expected 1 arguments, got 2 instead"):
            y.grad_fn(lib.ones(2), lib.ones(2))
        y.sum().backward()  # frees the saved operands
        with pytest.raises(RuntimeError):
            y.grad_fn(lib.ones(2))


def test_node_call_sees_inplace_change(torch):
    for lib in (torch, gg):
        x = lib.ones(2, requires_grad=True).clone()
        y = x * x
        x.add_(1)
        with pytest.raises(RuntimeError):
            y.grad_fn(lib.ones(2))


def test_node_call_multi_output_refused():
    x = gg.ones(4, requires_grad=True)
    piece = x.split(2)[0]
    with pytest.raises(NotImplementedError, match="several outputs"):
        piece.grad_fn(gg.ones(2))


def test_post_accumulate_hook_returning_value_raises_as_torch(torch):
    # a Tensor returned (its own .grad): RuntimeError in both; a number: TypeError in both
    for lib in (torch, gg):
        t = lib.ones(2, 3, requires_grad=True)
        t.register_post_accumulate_grad_hook(lambda p: p.grad)
        with pytest.raises(RuntimeError):
            t.sum().backward()
        t = lib.ones(2, 3, requires_grad=True)
        t.register_post_accumulate_grad_hook(lambda p: 5)
        with pytest.raises(TypeError):
            t.sum().backward()


def test_saved_variables_warning_reads_as_pytorch(torch):
    # scripts filter this DeprecationWarning by PyTorch's text: "'saved_variables' is deprecated"
    import warnings

    for lib in (torch, gg):

        class Add(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a + b

            @staticmethod
            def backward(ctx, g):
                _ = ctx.saved_variables
                return g, g

        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="'saved_variables' is deprecated")
            with pytest.raises(DeprecationWarning):
                Add.apply(x, x).sum().backward()


@pytest.mark.parametrize("create_graph", [False, True])
def test_dense_gradient_into_sparse_grad(torch, create_graph):
    # PyTorch: .grad (sparse COO) + incoming dense gradient -> a new dense .grad
    results = []
    for lib in (torch, gg):
        p = lib.tensor([1.5, -0.5, 2.0], dtype=lib.float64, requires_grad=True)
        p.grad = lib.sparse_coo_tensor(
            lib.tensor([[0, 2, 2]]), lib.tensor([1.0, 0.25, 0.5], dtype=lib.float64)
        )
        old = p.grad
        seed = lib.tensor([0.5, 1.0, -2.0], dtype=lib.float64)
        with pytest.warns(UserWarning) if create_graph else _nothing():
            p.backward(seed, create_graph=create_graph)
        assert p.grad is not old and not p.grad.is_sparse
        results.append(p.grad.detach().numpy())
        p.grad = None  # (create_graph: break the leaf <-> gradient cycle)
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=0)
    np.testing.assert_allclose(results[1], [1.5, 1.0, -1.25], rtol=0, atol=0)


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_next_functions_without_number_operand_edges(torch):
    # PyTorch's PowBackward0/2, RsubBackward1 and WhereBackward0 have no edge for a Python number
    # (nor for where's condition); AddBackward0 / MulBackward0 keep a (None, 0) pair for theirs
    def layout(lib):
        x = lib.ones(2, requires_grad=True)
        ys = [x**2, 2**x, 2 - x, lib.where(x > 0, x, 0.0), lib.where(x > 0, 0.0, x), x + 2, x * 2]
        return [
            (
                type(y.grad_fn).__name__,
                tuple(None if n is None else type(n).__name__ for n, _ in y.grad_fn.next_functions),
            )
            for y in ys
        ]

    assert layout(gg) == layout(torch)


def test_node_call_returns_one_entry_per_next_function(torch):
    for lib in (torch, gg):
        x = lib.tensor([1.0, 3.0], dtype=lib.float64, requires_grad=True)
        g = (x**3).grad_fn(lib.ones(2, dtype=lib.float64))  # a Tensor, not a pair
        np.testing.assert_allclose(g.detach().numpy(), [3.0, 27.0], rtol=1e-15)
        ga, gb = lib.where(x > 2, x, 0.0 * x).grad_fn(lib.ones(2, dtype=lib.float64))
        np.testing.assert_allclose(ga.detach().numpy(), [0.0, 1.0])
        np.testing.assert_allclose(gb.detach().numpy(), [1.0, 0.0])
