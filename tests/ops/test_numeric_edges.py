"""Edge values where glassgrad once differed from PyTorch silently: atan2's gradient at the
origin, addmm/addmv/baddbmm with a zero factor, div's rounding modes, float16 sums and statistics,
softmax of +inf, maximum/minimum gradients at NaN; and errors that came out of NumPy bare."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

NAN, INF = float("nan"), float("inf")


def _both(torch, fn, *arrays, dtype="float64"):
    """fn on each library's tensors (requiring grad where float): outputs and input gradients."""
    out = []
    for lib in (gg, torch):
        ts = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
        y = fn(lib, *ts)
        y.sum().backward()
        out.append((y.detach().numpy(), [t.grad.numpy() for t in ts]))
    return out


def _same(ours, theirs):
    np.testing.assert_array_equal(ours[0], theirs[0])
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_array_equal(a, b)


def test_atan2_gradient_at_the_origin_is_zero_as_torch(torch):
    _same(*_both(torch, lambda lib, a, b: lib.atan2(a, b), [0.0, 0.0, 1.0, -0.0], [0.0, 1.0, 0.0, 0.0]))


@pytest.mark.parametrize("op", ["addmm", "addmv", "baddbmm"])
@pytest.mark.parametrize(("beta", "alpha"), [(0, 1), (1, 0), (0, 0), (0.5, 2)])
def test_addmm_family_drops_a_term_with_a_zero_factor(torch, op, beta, alpha):
    rng = np.random.default_rng(0)
    shapes = {
        "addmm": [(2, 3), (2, 4), (4, 3)],
        "addmv": [(2,), (2, 4), (4,)],
        "baddbmm": [(2, 2, 3), (2, 2, 4), (2, 4, 3)],
    }[op]
    arrays = [rng.standard_normal(s) for s in shapes]
    arrays[0][0] = NAN if beta == 0 else arrays[0][0]  # ignored with beta = 0 (PyTorch's documented rule)
    if op != "baddbmm":  # PyTorch's baddbmm still multiplies by alpha = 0 (inf * 0 = nan)
        arrays[1][..., 0] = INF if alpha == 0 else arrays[1][..., 0]
    ours, theirs = _both(
        torch, lambda lib, i, m1, m2: getattr(lib, op)(i, m1, m2, beta=beta, alpha=alpha), *arrays
    )
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1][0], theirs[1][0], rtol=1e-12)


@pytest.mark.parametrize("mode", ["floor", "trunc"])
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ([7, -7, 2**40 + 1, 9, -9], [2, 2, 2, -4, -4]),
        ([1.0, -1.0, 7.5, -7.5, 0.0, 3.0], [0.1, 0.1, 2.0, 2.0, 0.0, 0.0]),
        ([5, -5], [2.0, 2.0]),
    ],
)
def test_div_rounding_modes_match_torch(torch, mode, a, b):
    ours = gg.div(gg.tensor(a), gg.tensor(b), rounding_mode=mode)
    theirs = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # 1.0 floor-div 0.1 is 9, 2**40 + 1 exact
    with pytest.raises(ZeroDivisionError):
        gg.div(gg.tensor([1]), gg.tensor([0]), rounding_mode=mode)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.cumsum(0)[-1:],
        lambda lib, x: x.mean().reshape(1),
        lambda lib, x: x.var().reshape(1),
        lambda lib, x: x.std().reshape(1),
        lambda lib, x: lib.softmax(x, 0)[:1],
        lambda lib, x: lib.log_softmax(x, 0)[:1],
    ],
)
def test_float16_reductions_accumulate_in_float32_as_torch(torch, fn):
    # a float16 running sum stalls at 256 + ...; 70,000 elements is past float16's 65504
    data = np.resize(np.array([0.1, 300.0, -300.0, 0.5], dtype=np.float16), 70_000)
    ours, theirs = (fn(lib, lib.tensor(data)) for lib in (gg, torch))
    assert ours.dtype == gg.float16
    np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.numpy().astype(np.float64), rtol=2e-3)


def test_float16_mean_gradient_over_more_than_65504_elements(torch):
    ours, theirs = (lib.ones(70_000, dtype=lib.float16, requires_grad=True) for lib in (gg, torch))
    for t in (ours, theirs):
        t.mean().backward()
    np.testing.assert_allclose(ours.grad.numpy().astype(float), theirs.grad.numpy().astype(float), rtol=1e-3)
    assert ours.grad.numpy()[0] > 0


@pytest.mark.parametrize("row", [[INF, 0.0, 1.0], [-INF, -INF], [NAN, 0.0], [-INF, 0.0], [1.0, 2.0]])
def test_softmax_of_infinite_rows_matches_torch(torch, row, recwarn):
    for name in ("softmax", "log_softmax"):
        ours, theirs = getattr(gg, name)(gg.tensor(row), 0), getattr(torch, name)(torch.tensor(row), 0)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert not [w for w in recwarn if w.category is RuntimeWarning]


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_gradients_at_nan_and_ties_match_torch(torch, op):
    a, b = [1.0, 2.0, 3.0, NAN, 1.0, NAN], [2.0, 2.0, 1.0, 0.0, NAN, NAN]
    _same(
        *_both(
            torch, lambda lib, x, y: getattr(lib, op)(x, y) * lib.arange(1.0, 7.0, dtype=lib.float64), a, b
        )
    )


def test_errors_that_were_bare_numpy_errors():
    with pytest.raises(
        ShapeError, match=r"less: expected shapes that broadcast together, got \(2,\) and \(3,\)"
    ):
        _ = gg.tensor([1, 2]) < gg.tensor([1, 2, 3])
    with pytest.raises(ShapeError, match="repeat_interleave: expected repeats of one value or 2 values"):
        gg.repeat_interleave(gg.tensor([1, 2]), gg.tensor([1, 2, 3]), dim=0)


def test_forms_that_now_port(torch):
    x, tx = gg.tensor([3, 1, 2]), torch.tensor([3, 1, 2])
    assert x.tile(2).tolist() == tx.tile(2).tolist() and x.tile((2, 1)).tolist() == tx.tile((2, 1)).tolist()
    assert x.sort(stable=True).indices.tolist() == tx.sort(stable=True).indices.tolist()
    assert x.argsort(stable=True).tolist() == tx.argsort(stable=True).tolist()
    ours, theirs = gg.outer(x, gg.tensor([0.5, 1.0])), torch.outer(tx, torch.tensor([0.5, 1.0]))
    assert ours.dtype == gg.float32 and ours.tolist() == theirs.tolist()
    assert (
        gg.count_nonzero(gg.eye(2), dim=()).tolist()
        == torch.count_nonzero(torch.eye(2), dim=()).tolist()
        == 2
    )


def test_python_ints_outside_an_integer_dtype_wrap_as_torch(torch):
    cases = [
        ("uint8", lambda x: x + (-3)),
        ("int32", lambda x: x + 2**40),
        ("uint8", lambda x: x < -3),
        ("int32", lambda x: x * 2**33),
    ]
    for dtype, fn in cases:
        ours = fn(gg.tensor([1, 2], dtype=getattr(gg, dtype)))
        theirs = fn(torch.tensor([1, 2], dtype=getattr(torch, dtype)))
        assert ours.tolist() == theirs.tolist()
    with pytest.raises(OverflowError, match="expected an integer that fits 64 bits"):
        gg.tensor([1]) + 2**70


def test_two_ellipses_name_the_op():
    with pytest.raises(IndexError, match=r"getitem: expected at most one Ellipsis"):
        gg.zeros(2, 3)[..., 0, ...]


def test_hstack_vstack_of_0d_tensors_as_torch(torch):
    for ours, theirs in [
        (gg.hstack([gg.tensor(1.0), gg.tensor(2.0)]), torch.hstack([torch.tensor(1.0), torch.tensor(2.0)])),
        (gg.vstack([gg.tensor(1.0), gg.tensor(2.0)]), torch.vstack([torch.tensor(1.0), torch.tensor(2.0)])),
    ]:
        assert ours.tolist() == theirs.tolist()


def test_pow_exponent_gradient_at_a_zero_base_as_torch(torch, recwarn):
    # 0 ** b for b < 0 is inf, and its b-gradient inf * log 0 = -inf (it was 0)
    for make in (
        lambda lib: lib.tensor(0.0),
        lambda lib: 0.0,
        lambda lib: 2.0,
        lambda lib: lib.tensor([0.0, 2.0, -1.0]),
    ):
        grads = []
        for lib in (gg, torch):
            b = lib.tensor([-1.0, 0.0, 2.0], requires_grad=True)
            (make(lib) ** b).sum().backward()
            grads.append(b.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert not [w for w in recwarn if w.category is RuntimeWarning]


def test_a_uint8_index_tensor_is_a_mask_as_torch(torch):
    with pytest.warns(UserWarning, match="uint8 tensor reads it as a mask"):
        ours = gg.arange(3.0)[gg.tensor([1, 0, 1], dtype=gg.uint8)]
    with pytest.warns(UserWarning):
        theirs = torch.arange(3.0)[torch.tensor([1, 0, 1], dtype=torch.uint8)]
    assert ours.tolist() == theirs.tolist() == [0.0, 2.0]
    assert gg.arange(3.0)[[1, 0, 1]].tolist() == [1.0, 0.0, 1.0]  # a list is positions, in both
