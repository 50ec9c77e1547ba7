"""Round 60's random-expression fuzz of the core (random DAGs of 3 to 10 ops on leaves of random
shapes, backward and double backward), each finding pinned against PyTorch.

``div(a, b, rounding_mode='trunc'|'floor')`` of floats that require grad was computed without a
node: the result did not require grad, so a loss through it alone refused ``backward()`` and a loss
through it and another path lost PyTorch's ``DivBackward2`` (zero gradients). fmod's and
remainder's double backward kept their quotient ``-g * div(a, b, rounding_mode=)`` outside the
graph, so the first gradient with respect to b did not require grad where PyTorch's does.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

A = np.array([[1.5, -2.3, 0.7], [4.1, -0.2, 3.3]])
B = np.array([0.4, 0.6, -0.3])


def _read(t):
    return np.array(t.detach().tolist())


def _pair(lib, b_shape=(3,)):
    a = lib.tensor(A, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(B[: b_shape[0]] if b_shape else B[0], dtype=lib.float64, requires_grad=True)
    return a, b


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("form", ["function", "method", "inplace", "number_divisor", "number_dividend"])
def test_rounded_div_records_zero_gradients(torch, mode, form):
    def run(lib):
        a, b = _pair(lib)
        if form == "function":
            y = lib.div(a, b, rounding_mode=mode)
        elif form == "method":
            y = a.div(b, rounding_mode=mode)
        elif form == "inplace":
            y = (a * 1.0).div_(b, rounding_mode=mode)
        elif form == "number_divisor":
            y = a.divide(0.7, rounding_mode=mode)
        else:
            y = lib.div(lib.full((2, 3), 2.5, dtype=lib.float64), b, rounding_mode=mode)
        loss = (y * lib.tensor(A[::-1].copy(), dtype=lib.float64)).sum()
        ga, gb = lib.autograd.grad(loss, [a, b], allow_unused=True, materialize_grads=True)
        return y, type(y.grad_fn).__name__, ga, gb

    ours, theirs = run(gg), run(torch)
    np.testing.assert_array_equal(_read(ours[0]), _read(theirs[0]))
    assert ours[0].requires_grad and ours[1] == theirs[1] == "DivBackward2"
    for g, t in zip(ours[2:], theirs[2:]):
        np.testing.assert_array_equal(_read(g), _read(t))


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_div_in_a_sum_of_paths(torch, mode):
    # the fuzz's shape: a rounded quotient added to a differentiable path, then backward
    def run(lib):
        a, b = _pair(lib)
        y = lib.div(a.exp(), b, rounding_mode=mode) + a * b
        y.backward(lib.tensor(A, dtype=lib.float64))
        return a.grad, b.grad

    for g, t in zip(run(gg), run(torch)):
        np.testing.assert_allclose(_read(g), _read(t), rtol=1e-12, atol=0)


def test_rounded_div_without_a_graph(torch):
    # integers, no_grad and plain float tensors stay unrecorded, as PyTorch's
    for lib in (gg, torch):
        assert not lib.div(lib.tensor([5, -7]), 2, rounding_mode="floor").requires_grad
        a, b = _pair(lib)
        with lib.no_grad():
            assert not lib.div(a, b, rounding_mode="trunc").requires_grad
        assert not lib.div(a.detach(), b.detach(), rounding_mode="floor").requires_grad
    assert gg.div(gg.tensor([5, -7]), 2, rounding_mode="floor").tolist() == [2, -4]


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_div_forward_mode_tangent_is_zero(torch, mode):
    def run(lib):
        fa = lib.autograd.forward_ad
        with fa.dual_level():
            d = fa.make_dual(lib.tensor(A, dtype=lib.float64), lib.ones(2, 3, dtype=lib.float64))
            return fa.unpack_dual(lib.div(d, lib.tensor(B, dtype=lib.float64), rounding_mode=mode)).tangent

    np.testing.assert_array_equal(_read(run(gg)), _read(run(torch)))


@pytest.mark.parametrize("op", ["fmod", "remainder"])
@pytest.mark.parametrize("b_shape", [(3,), ()])
def test_modulo_double_backward_keeps_the_quotient_in_the_graph(torch, op, b_shape):
    def run(lib):
        a, b = _pair(lib, b_shape)
        w = lib.tensor(A[::-1].copy(), dtype=lib.float64)
        ga, gb = lib.autograd.grad((getattr(lib, op)(a, b) * w).sum(), [a, b], create_graph=True)
        second = lib.autograd.grad((gb * 1.5).sum() + (ga * ga).sum(), [a, b], allow_unused=True)
        return gb, ga, *second

    ours, theirs = run(gg), run(torch)
    assert ours[0].requires_grad == theirs[0].requires_grad is True
    for g, t in zip(ours, theirs):
        if t is None:
            assert g is None
        else:
            np.testing.assert_allclose(_read(g), _read(t), rtol=1e-12, atol=0)


# An empty tensor has no two places sharing memory: in-place ops on an empty expand's view, and on
# an empty repeat/tile of a leaf (a new tensor in PyTorch; NumPy's tile of an empty array is a
# view of it), were refused ("read-only view", "view of a leaf that requires grad").
@pytest.mark.parametrize(
    "case",
    ["expand_add_", "expand_mul_tensor", "expand_iadd", "grad_expand_add_", "tile_addcmul_", "repeat_add_"],
)
def test_inplace_on_empty_expanded_or_tiled(torch, case):
    def run(lib):
        x = lib.zeros(3, 0, 1, dtype=lib.float64, requires_grad=True)
        if case == "expand_add_":
            y = lib.zeros(3, 1, 0, dtype=lib.float64).expand(3, 3, 0)
            return y.add_(1.0), x
        if case == "expand_mul_tensor":
            y = lib.zeros(1, 0, dtype=lib.float64).expand(4, 0)
            return y.mul_(lib.tensor(2.0, dtype=lib.float64)), x
        if case == "expand_iadd":
            y = lib.zeros(1, 0, dtype=lib.float64).expand(2, 0)
            y += lib.ones(2, 0, dtype=lib.float64)
            return y, x
        if case == "grad_expand_add_":
            y = (x * 2.0).expand(3, 0, 4).add_(1.0)
        elif case == "tile_addcmul_":
            y = x.tile((1, 1, 2)).addcmul_(
                lib.ones(3, 0, 2, dtype=lib.float64), lib.ones(3, 0, 2, dtype=lib.float64)
            )
        else:
            y = x.repeat(2, 1, 1).add_(1.0)
        y.sum().backward()
        return y, x.grad

    ours, theirs = run(gg), run(torch)
    for g, t in zip(ours, theirs):
        assert tuple(g.shape) == tuple(t.shape) and g.requires_grad == t.requires_grad
        assert str(g.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]


def test_inplace_on_stretched_expand_still_refused(torch):
    # a non-empty stretched dim shares memory: PyTorch refuses it ("more than one element of the
    # written-to tensor refers to a single memory location"), and so does glassgrad
    for lib in (gg, torch):
        with pytest.raises(RuntimeError):
            lib.ones(1, 3).expand(2, 3).add_(1.0)
    with pytest.raises(RuntimeError, match="read-only view"):
        gg.ones(1, 3).expand(2, 3).add_(1.0)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_rounded_div_strides_of_a_permuted_4d_input(torch, requires_grad):
    # the recorded node lays its result out as PyTorch's iterator does, as the unrecorded path
    a = np.arange(24.0).reshape(2, 1, 3, 4) / 7 - 1.5

    def run(lib):
        x = lib.tensor(a, dtype=lib.float64).permute(0, 3, 1, 2).requires_grad_(requires_grad)
        return lib.div(x, 0.3, rounding_mode="floor")

    ours, theirs = run(gg), run(torch)
    assert ours.stride() == theirs.stride()
    np.testing.assert_array_equal(_read(ours), _read(theirs))


# Tensor.unfold's windows were writable only for step >= size, so a single window (count 1, as
# x.unfold(0, 2, 1) of a dim of size 2) refused an in-place change where PyTorch makes it: the
# rule is now "no two places share memory".
@pytest.mark.parametrize(
    "shape,dim,size,step",
    [((2, 1, 2, 1), 0, 2, 1), ((2, 1, 2, 1), 2, 2, 1), ((4, 3), 0, 2, 2), ((5,), 0, 2, 3), ((4,), 0, 1, 1)],
)
def test_inplace_through_non_overlapping_unfold(torch, shape, dim, size, step):
    a = np.arange(float(np.prod(shape))).reshape(shape) / 3 - 1

    def run(lib):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        y.unfold(dim, size, step).mul_(lib.tensor(-2.0, dtype=lib.float64))
        (y.exp() * lib.tensor(a[::-1].copy(), dtype=lib.float64)).sum().backward()
        return y, x.grad

    for g, t in zip(run(gg), run(torch)):
        np.testing.assert_allclose(_read(g), _read(t), rtol=1e-13, atol=0)


def test_inplace_through_overlapping_unfold_refused():
    # overlapping windows (step < size, several windows): a write through them is ambiguous
    with pytest.raises(RuntimeError, match="read-only view"):
        gg.arange(12.0).reshape(4, 3).unfold(0, 2, 1).mul_(2.0)


# var/std of a constant slice: sum / n sat an ulp off the value (3 copies of -0.7425419134092144),
# so var was 1e-32 and std's gradient O(1) noise (2.449) where PyTorch's is exactly 0.
@pytest.mark.parametrize("op", ["std", "var"])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_var_std_of_constant_slices_are_exact(torch, op, n):
    rng = np.random.default_rng(n)
    base = np.concatenate([[-0.7425419134092144, 0.1, 1 / 3], rng.standard_normal(5)]).reshape(8, 1)

    def run(lib):
        x = lib.tensor(base, dtype=lib.float64, requires_grad=True)
        v = getattr(x.expand(8, n), op)(1)
        (g,) = lib.autograd.grad((v * lib.tensor(np.arange(8.0), dtype=lib.float64)).sum(), [x])
        return v, g

    (v, g), (tv, tg) = run(gg), run(torch)
    np.testing.assert_array_equal(_read(v), _read(tv))
    if op == "std":  # 0 where std is 0, as PyTorch's backward
        np.testing.assert_array_equal(_read(g), _read(tg))
    else:  # PyTorch's var_backward takes x - x.mean(): an ulp of noise either way
        np.testing.assert_allclose(_read(g), _read(tg), rtol=0, atol=1e-15)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_var_std_values_and_gradients_on_random_data(torch, dim):
    a = np.random.default_rng(7).standard_normal((6, 5)) * 3 + 1e3

    def run(lib):
        x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
        s = x.std(dim) if dim is not None else x.std()
        v = x.var(dim, correction=0) if dim is not None else x.var(correction=0)
        (g,) = lib.autograd.grad(s.sum() + v.sum(), [x])
        return s, v, g

    for g, t in zip(run(gg), run(torch)):
        np.testing.assert_allclose(_read(g), _read(t), rtol=1e-12, atol=0)


_WRITES = {
    "mask": lambda L, y: y.__setitem__(y > 2, 0.0),
    "row": lambda L, y: y.__setitem__(1, 7.0),
    "column": lambda L, y: y.__setitem__((slice(None), 0), 1.0),
    "masked_fill_": lambda L, y: y.masked_fill_(y > 2, 0.0),
    "copy_": lambda L, y: y.copy_(L.ones(3, 2, dtype=L.float64)),
    "add_": lambda L, y: y.add_(L.ones(3, 2, dtype=L.float64)),
    "mul_number": lambda L, y: y.mul_(2.0),
}


@pytest.mark.parametrize("name", sorted(_WRITES))
def test_recorded_inplace_keeps_a_transposed_clones_layout(torch, name):
    # fuzz seed 48265: after y[mask] = 0 on a transposed clone y was row-major here, so
    # `v = y.view(-1) if y.is_contiguous() else y.reshape(-1)` made v a view whose writes reached y
    out = []
    for L in (gg, torch):
        leaf = L.tensor(A, dtype=L.float64, requires_grad=True)
        y = (leaf * 1.0).t().clone()  # (3, 2), strides (1, 3)
        _WRITES[name](L, y)
        v = y.view(-1) if y.is_contiguous() else y.reshape(-1)
        v[::2].mul_(3.0)
        y.sum().backward()
        out.append((y.stride(), y.is_contiguous(), _read(y), leaf.grad.numpy()))
    assert out[0][:2] == out[1][:2]
    np.testing.assert_array_equal(out[0][2], out[1][2])
    np.testing.assert_array_equal(out[0][3], out[1][3])
