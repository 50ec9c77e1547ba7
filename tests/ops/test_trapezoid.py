"""ops/trapezoid.py against PyTorch: ``trapezoid``/``trapz``/``cumulative_trapezoid`` with sample
points (1-D and broadcast) or a spacing, along any dim; integer and empty inputs; gradients to
``y`` and ``x``; errors. (Found porting aladdinpersson's mean_avg_precision.py: ``torch.trapz``.)"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import IndexOutOfRangeError, ShapeError

_rng = np.random.default_rng(0)
Y = _rng.standard_normal((3, 4, 5))
X1 = np.cumsum(_rng.uniform(0.1, 1.0, 5))  # increasing sample points along the last dim
XB = np.cumsum(_rng.uniform(0.1, 1.0, (4, 5)), -1)  # broadcast against Y


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("form", ["default", "dx", "x1", "xb", "dim0"])
def test_values_and_gradients_match_torch(torch, name, dtype, form):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    out = {}
    for lib in (gg, torch):
        y = lib.tensor(Y.astype(dtype), requires_grad=True)
        x = None
        if form in ("x1", "xb"):
            x = lib.tensor((X1 if form == "x1" else XB).astype(dtype), requires_grad=True)
        kw = {"dx": 0.25} if form == "dx" else {"dim": 0} if form == "dim0" else {}
        r = getattr(lib, name)(y, x, **kw) if x is not None else getattr(lib, name)(y, **kw)
        (r * r).sum().backward()
        out[lib] = [r, y.grad] + ([x.grad] if x is not None else [])
    for a, b in zip(out[gg], out[torch]):
        assert a.shape == tuple(b.shape) and str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol)


def test_integer_empty_and_single_sample_inputs(torch):
    for lib in (gg, torch):
        i = lib.tensor([1, 2, 4])
        assert lib.trapezoid(i).item() == 4.5 and lib.trapz(i, dx=2).item() == 9.0
        assert lib.trapezoid(i, lib.tensor([0, 1, 3])).item() == 7.5
        assert lib.trapezoid(i).dtype == lib.float32
        assert lib.cumulative_trapezoid(i).tolist() == [1.5, 4.5]
        assert lib.trapezoid(lib.zeros(2, 0)).tolist() == [0.0, 0.0]
        assert lib.trapezoid(lib.zeros(2, 1)).tolist() == [0.0, 0.0]


def test_errors_name_the_op():
    y = gg.ones(2, 3)
    with pytest.raises(TypeError, match="trapezoid: expected x to be a Tensor"):
        gg.trapezoid(y, 2.0)  # PyTorch: TypeError too (a spacing goes by dx=)
    with pytest.raises(ShapeError, match="one x value for each sample point"):
        gg.trapezoid(y, gg.tensor([0.0, 1.0]))
    with pytest.raises(IndexOutOfRangeError, match="at least one dimension"):
        gg.trapezoid(gg.tensor(1.0))
    with pytest.raises(TypeError, match="not both"):
        gg.cumulative_trapezoid(y, gg.ones(3), dx=1.0)


def test_an_empty_dim_gives_zeros_of_the_input_dtype_outside_the_graph(torch):
    # PyTorch's trapezoid returns fresh zeros for an empty dim: the input's dtype (int64 and bool
    # too) and no grad_fn; glassgrad's gave the default float dtype, recorded in the graph
    for name in ("int64", "float32", "float64", "bool"):
        for kw in ({}, {"dx": 2}, {"x": "arange"}):

            def run(m, name=name, kw=kw):
                y = m.zeros(4, 0, 3, dtype=getattr(m, name))
                if name.startswith("float"):
                    y.requires_grad_(True)
                args = {"x": m.arange(0.0)} if "x" in kw else kw
                r = m.trapezoid(y, dim=1, **args)
                return str(r.dtype).split(".")[-1], r.requires_grad, tuple(r.shape), r.tolist()

            assert run(gg) == run(torch)
