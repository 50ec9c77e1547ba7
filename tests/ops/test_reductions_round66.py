"""Round 66 (pt_reductions): differences found by running PyTorch's test/test_reductions.py cases
against glassgrad: all/any into a uint8 out, std/var of complex input into a complex out, histc at
the dtype's extremes, histogramdd of points with no coordinates, histogram's argument check order."""

import math

import numpy as np
import pytest

import glassgrad as gg

DTYPES = ["bool", "uint8", "int64", "float32"]


@pytest.mark.parametrize("op", ["all", "any"])
@pytest.mark.parametrize("in_dtype", DTYPES)
@pytest.mark.parametrize("out_dtype", ["bool", "uint8", "float32", "int8"])
@pytest.mark.parametrize("dim", [None, 0])
def test_all_any_out_dtypes_match_pytorch(torch, op, in_dtype, out_dtype, dim):
    data = np.array([[1, 0, 2], [3, 4, 5]])
    kw = {} if dim is None else {"dim": dim}
    theirs_out = torch.empty(0, dtype=getattr(torch, out_dtype))
    ours_out = gg.empty(0, dtype=getattr(gg, out_dtype))
    try:
        expected = getattr(torch, op)(torch.tensor(data).to(getattr(torch, in_dtype)), **kw, out=theirs_out)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            getattr(gg, op)(gg.tensor(data).to(getattr(gg, in_dtype)), **kw, out=ours_out)
        return
    got = getattr(gg, op)(gg.tensor(data).to(getattr(gg, in_dtype)), **kw, out=ours_out)
    assert got is ours_out
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("out_dtype", ["complex64", "complex128", "float64", "float16"])
@pytest.mark.parametrize("dim", [None, 0])
def test_std_var_of_complex_write_a_complex_out_as_pytorch(torch, op, out_dtype, dim):
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((4, 5)) + 1j * rng.standard_normal((4, 5))).astype(np.complex64)
    args = () if dim is None else (dim,)
    theirs = torch.empty(0, dtype=getattr(torch, out_dtype))
    ours = gg.empty(0, dtype=getattr(gg, out_dtype))
    getattr(torch, op)(torch.tensor(data), *args, out=theirs)
    got = getattr(gg, op)(gg.tensor(data), *args, out=ours)
    assert got is ours and ours.dtype == getattr(gg, out_dtype)
    tol = 1e-3 if out_dtype == "float16" else 1e-5
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("op", ["var", "std"])
def test_std_var_of_real_input_still_refuse_a_complex_out(torch, op):
    with pytest.raises(RuntimeError):  # PyTorch: "std_cpu" not implemented for 'ComplexFloat'
        getattr(torch, op)(torch.ones(3, 2), 0, out=torch.empty(0, dtype=torch.complex64))
    with pytest.raises(RuntimeError):
        getattr(gg, op)(gg.ones(3, 2), 0, out=gg.empty(0, dtype=gg.complex64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("which", ["min", "max"])
def test_histc_of_the_dtypes_extremes_counts_every_value(torch, dtype, which):
    # PyTorch's test_histc_value_corner_cases: widening equal bounds by 1 changes nothing there,
    # so the range is empty; every value is still counted (NumPy's bincount raised on NaN indices)
    value = getattr(np.finfo(dtype), which)
    theirs = torch.histc(torch.tensor([value] * 3, dtype=getattr(torch, dtype)), bins=4)
    ours = gg.histc(gg.tensor([value] * 3, dtype=getattr(gg, dtype)), bins=4)
    assert ours.sum().item() == theirs.sum().item() == 3.0
    assert ours.dtype == getattr(gg, dtype)


def test_histc_over_a_range_wider_than_the_dtype_puts_the_ends_in_the_end_bins():
    # max - min overflows float32 (inf): the positions are computed in float64 instead
    lo, hi = float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)
    ours = gg.histc(gg.tensor([lo, -1e38, hi]), bins=4)  # -1e38: 1.41 bins above lo
    assert ours.tolist() == [1.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("density", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_histogramdd_of_points_with_no_coordinates_matches_pytorch(torch, density, weighted):
    kw = {"density": density}
    theirs = torch.histogramdd(torch.ones(5, 0), [], weight=torch.ones(5) if weighted else None, **kw)
    ours = gg.histogramdd(gg.ones(5, 0), [], weight=gg.ones(5) if weighted else None, **kw)
    assert tuple(ours.hist.shape) == tuple(theirs.hist.shape) == ()
    assert len(ours.bin_edges) == len(theirs.bin_edges) == 0
    expected = theirs.hist.item()
    assert math.isnan(ours.hist.item()) if math.isnan(expected) else ours.hist.item() == expected


def test_histogram_refuses_range_with_tensor_bins_before_checking_them(torch):
    with pytest.raises(TypeError):
        torch.histogram(torch.tensor(3.0), torch.tensor(3.0), range=(0, 1))
    with pytest.raises(TypeError):
        gg.histogram(gg.tensor(3.0), gg.tensor(3.0), range=(0, 1))


@pytest.mark.parametrize("op", ["std", "var", "std_mean", "var_mean"])
@pytest.mark.parametrize("dim", [(), []])
def test_std_var_over_no_dims_have_the_full_reductions_gradient(torch, op, dim):
    # dim=() reduces every dim (values as dim=None in both libraries); PyTorch's backward of that
    # form gives +-inf (kept: glassgrad's is the gradient of the value it returns, dim=None's)
    data = np.random.default_rng(0).standard_normal((3, 4))
    theirs = torch.tensor(data, requires_grad=True)
    out = getattr(torch, op)(theirs, dim=None)
    (out[0] if isinstance(out, tuple) else out).mul(0.7).backward()
    ours = gg.tensor(data, requires_grad=True)
    got = getattr(gg, op)(ours, dim=dim)
    (got[0] if isinstance(got, tuple) else got).mul(0.7).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_histc_of_float16_over_a_range_wider_than_float16_holds():
    # hi - lo = 1.2e5 overflows float16: every value landed in bin 0 (PyTorch's float16 kernel
    # counts none of them); the bins are those of the same values in float32
    data = [-1000.0, 0.0, 1000.0, 25000.0]
    ours = gg.histc(gg.tensor(data, dtype=gg.float16), bins=4, min=-60000, max=60000)
    wide = gg.histc(gg.tensor(data, dtype=gg.float32), bins=4, min=-60000, max=60000)
    assert ours.dtype == gg.float16
    assert ours.tolist() == wide.tolist() == [0.0, 1.0, 3.0, 0.0]
