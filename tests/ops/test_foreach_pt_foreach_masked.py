"""``torch._foreach_*`` against PyTorch's ``test/test_foreach.py`` checks (round 67): maximum/minimum
split a tie's gradient evenly, as PyTorch's foreach derivatives do, for tensor and number operands
(clamp_min/clamp_max keep theirs), and an empty second list is read as a scalar list, as PyTorch's
parser does."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _pair(lib, inplace, name, a, b):
    """Run ``_foreach_<name>`` (in place on clones when ``inplace``) on [a], [b]; return the grads."""
    x = lib.tensor(a, dtype=lib.float64, requires_grad=True)
    y = lib.tensor(b, dtype=lib.float64, requires_grad=True)
    if inplace:
        out = [x.clone()]
        getattr(lib, f"_foreach_{name}_")(out, [y])
    else:
        out = getattr(lib, f"_foreach_{name}")([x], [y])
    weights = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)
    (out[0] * weights).sum().backward()
    return out[0].detach().numpy(), x.grad.numpy(), y.grad.numpy()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_tensor_list_extremes_split_tied_gradient_as_pytorch(torch, name, inplace):
    a, b = [1.0, 2.0, 5.0], [1.0, 3.0, 4.0]  # a tie at index 0
    got = _pair(gg, inplace, name, a, b)
    want = _pair(torch, inplace, name, a, b)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=0)
    assert got[1][0] == 0.5 and got[2][0] == 0.5


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_tensor_list_extremes_promote_out_of_place_and_refuse_a_narrowing_in_place(torch, name):
    def run(lib):
        out = getattr(lib, f"_foreach_{name}")([lib.tensor([1, 2])], [lib.tensor([1.5, 1.0])])
        return out[0].dtype, out[0].tolist()

    got, want = run(gg), run(torch)
    assert str(got[0]).rsplit(".", 1)[-1] == str(want[0]).rsplit(".", 1)[-1] and got[1] == want[1]
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.__dict__[f"_foreach_{name}_"]([torch.tensor([1, 2])], [torch.tensor([1.5, 1.0])])
    with pytest.raises(RuntimeError, match="can't be cast"):
        getattr(gg, f"_foreach_{name}_")([gg.tensor([1, 2])], [gg.tensor([1.5, 1.0])])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("other", [1.0, [1.0], 1])
@pytest.mark.parametrize("name", ["maximum", "minimum", "clamp_min", "clamp_max"])
def test_number_operands_tie_gradient_as_pytorch(torch, name, other, dtype):
    def run(lib):
        x = lib.tensor([0.5, 1.0, 2.0], dtype=getattr(lib, dtype), requires_grad=True)
        (out,) = getattr(lib, f"_foreach_{name}")([x], other)
        (out * lib.tensor([1.0, 2.0, 3.0], dtype=out.dtype)).sum().backward()
        return str(out.dtype).rsplit(".", 1)[-1], out.tolist(), x.grad.tolist()

    assert run(gg) == run(torch)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("data,other", [([1, 2, 3], 2), ([1, 2, 3], True), ([0.5, float("nan"), 2.0], 1.0)])
def test_number_operands_values_in_place_and_out_of_place(torch, name, data, other):
    def run(lib, inplace):
        x = lib.tensor(data)
        if inplace:
            getattr(lib, f"_foreach_{name}_")([x], other)
            return str(x.dtype).rsplit(".", 1)[-1], x.tolist()
        (out,) = getattr(lib, f"_foreach_{name}")([x], other)
        return str(out.dtype).rsplit(".", 1)[-1], out.tolist()

    for inplace in (False, True):
        got, want = run(gg, inplace), run(torch, inplace)
        assert got[0] == want[0]
        np.testing.assert_array_equal(np.array(got[1], dtype=float), np.array(want[1], dtype=float))


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "clamp_min", "pow"])
@pytest.mark.parametrize("suffix", ["", "_"])
def test_empty_second_list_is_a_scalar_list_length_error(torch, name, suffix):
    op = f"_foreach_{name}{suffix}"
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        getattr(torch, op)([torch.tensor([1.0])], [])
    with pytest.raises(RuntimeError, match="same number of elements as scalar list"):
        getattr(gg, op)([gg.tensor([1.0])], [])
