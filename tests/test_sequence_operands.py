"""A list or tuple where a tensor operand belongs is refused, as PyTorch's functions and methods
refuse it. Read as a tensor it broadcast silently: ``y.clamp((-0.99, 0.99))`` (a program's own
bug, round 53) bounded the first column below by -0.99 and the second by +0.99; ``t.add([1])``,
``torch.where(c, t, [0, 0])``, ``torch.cat([t, [1.0]])`` or a loss's list target computed where
the same program fails in PyTorch. A NumPy array stays accepted beside a tensor (the operators
take one, as PyTorch's do), and so do numbers, NumPy scalars and tensors.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

# (name, call(lib, F, t) with a list or tuple operand): PyTorch raises TypeError on each
CASES = [
    ("add", lambda m, f, t: m.add(t, [1.0, 2.0])),
    ("add_method", lambda m, f, t: t.add([1.0, 2.0])),
    ("sub", lambda m, f, t: m.sub(t, (1.0, 2.0))),
    ("mul_", lambda m, f, t: t.clone().mul_([1.0, 2.0])),
    ("div", lambda m, f, t: m.div(t, [1.0, 2.0])),
    ("true_divide", lambda m, f, t: m.true_divide(t, [1.0, 2.0])),
    ("pow", lambda m, f, t: t.pow([1.0, 2.0])),
    ("maximum", lambda m, f, t: m.maximum(t, [1.0, 2.0])),
    ("minimum", lambda m, f, t: m.minimum([1.0, 2.0], t)),
    ("fmax", lambda m, f, t: m.fmax(t, [1.0, 2.0])),
    ("atan2", lambda m, f, t: m.atan2(t, [1.0, 2.0])),
    ("hypot", lambda m, f, t: m.hypot(t, [1.0, 2.0])),
    ("copysign", lambda m, f, t: m.copysign(t, [1.0, -1.0])),
    ("xlogy", lambda m, f, t: m.xlogy(t, [1.0, 2.0])),
    ("fmod", lambda m, f, t: m.fmod(t, [1.0, 2.0])),
    ("remainder", lambda m, f, t: m.remainder(t, [1.0, 2.0])),
    ("floor_divide", lambda m, f, t: m.floor_divide(t, [1.0, 2.0])),
    ("eq", lambda m, f, t: t.eq([1.0, 2.0])),
    ("lt", lambda m, f, t: m.lt(t, (1.0, 2.0))),
    ("logical_and", lambda m, f, t: m.logical_and(t, [1, 0])),
    ("bitwise_and", lambda m, f, t: m.bitwise_and(t.long(), [1, 2])),
    ("where", lambda m, f, t: m.where(t > 1, t, [0.0, 0.0])),
    ("clamp", lambda m, f, t: t.clamp((-0.5, 0.5))),
    ("masked_fill", lambda m, f, t: t.masked_fill(t > 1, [5.0])),
    ("fill_", lambda m, f, t: t.clone().fill_([1.0])),
    ("index_fill", lambda m, f, t: t.index_fill(0, m.tensor([0]), [2.0])),
    ("full", lambda m, f, t: m.full((2,), [1.0])),
    ("setitem", lambda m, f, t: t.clone().__setitem__(slice(0, 2), [1.0, 2.0])),
    ("cat", lambda m, f, t: m.cat([t, [1.0, 2.0]])),
    ("stack", lambda m, f, t: m.stack([t, (1.0, 2.0)])),
    ("lerp", lambda m, f, t: m.lerp(t, t, [0.5, 0.5])),
    ("addcmul", lambda m, f, t: m.addcmul(t, t, [1.0, 2.0])),
    ("addcdiv", lambda m, f, t: m.addcdiv(t, [1.0, 2.0], t)),
    ("isclose", lambda m, f, t: m.isclose(t, [1.0, 2.0])),
    ("ldexp", lambda m, f, t: m.ldexp(t, [1, 2])),
    ("copy_", lambda m, f, t: t.clone().copy_([1.0, 2.0])),
    ("expand_as", lambda m, f, t: t.expand_as([1.0, 2.0])),
    ("outer", lambda m, f, t: m.outer(t, [1.0, 2.0])),
    ("matmul", lambda m, f, t: m.matmul(t, [1.0, 2.0])),
    ("einsum", lambda m, f, t: m.einsum("i,i->", t, [1.0, 2.0])),
    ("cross_entropy", lambda m, f, t: f.cross_entropy(t[None], [1])),
    ("nll_loss", lambda m, f, t: f.nll_loss(t[None], [1])),
    ("binary_cross_entropy", lambda m, f, t: f.binary_cross_entropy(t.sigmoid(), [1.0, 0.0])),
    ("multi_margin_loss", lambda m, f, t: f.multi_margin_loss(t[None], [1])),
]
# the op's name each of glassgrad's messages carries (PyTorch's names: eq, not NumPy's equal)
NAMED = {
    "add_method": "add",
    "mul_": "mul",
    "true_divide": "div",
    "binary_cross_entropy": "binary_cross_entropy",
}


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_a_sequence_operand_is_refused_naming_the_op(name, call):
    t = gg.tensor([1.0, 2.0])
    with pytest.raises(TypeError) as err:
        call(gg, F, t)
    assert NAMED.get(name, name) in str(err.value)


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_pytorch_refuses_the_same_calls(torch, name, call):
    t = torch.tensor([1.0, 2.0])
    with pytest.raises((TypeError, AttributeError)):  # (mse_loss-like paths fail at .size())
        call(torch, torch.nn.functional, t)


def test_clamp_with_a_pair_no_longer_bounds_each_column():
    # the round-53 program: a (lo, hi) pair given as one bound, on 2-dim actions
    y = gg.tensor([[0.5, -0.999], [0.995, 0.2]])
    with pytest.raises(TypeError, match="clamp"):
        y.clamp((-0.99, 0.99))
    np.testing.assert_allclose(y.clamp(-0.99, 0.99).numpy(), [[0.5, -0.99], [0.99, 0.2]], rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, t, a: m.add(t, a),
        lambda m, t, a: t + a,
        lambda m, t, a: m.where(t > 1, t, a),
        lambda m, t, a: t.mul(2.0),
        lambda m, t, a: m.maximum(t, m.tensor(1.5)),
        lambda m, t, a: t.masked_fill(t > 1, m.tensor(5.0)),
        lambda m, t, a: t.clone().fill_(np.float32(3.0)),
        lambda m, t, a: m.lerp(t, t * 2, 0.25),
        lambda m, t, a: t.clone().copy_(m.tensor([7.0, 8.0])),
    ],
)
def test_arrays_numbers_and_tensors_still_pass(torch, call):
    ours = call(gg, gg.tensor([1.0, 2.0]), np.array([3.0, 4.0], dtype=np.float32))
    theirs = call(torch, torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_sequence_beside_a_tensor_names_its_shape_and_dtype():
    with pytest.raises(
        TypeError, match=r"add\(\): expected a Tensor or a number beside the \(2, 3\) float64"
    ):
        gg.zeros(2, 3, dtype=gg.float64).add([1.0])
