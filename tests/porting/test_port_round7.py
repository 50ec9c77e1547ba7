"""What the seventh round's scripts needed (docs/porting.md, "Real scripts ported"): the
numpy_extensions tutorial's legacy ``Function`` instance call (refused with PyTorch's
``RuntimeError``) and ``input.new(ndarray)``; the layer-dimensions recipe's
``except RuntimeError`` around a shape mismatch; the profiler recipe's ``record_shapes=True`` with
``key_averages(group_by_input_shape=True)`` and ``torch.xpu.is_available()``. Each is run on
glassgrad and PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.errors import ShapeError

from .helpers import assert_same


def script_legacy_function(torch):
    class Legacy(torch.autograd.Function):
        def forward(self, x):
            return x

        def backward(self, g):
            return g

    class Modern(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy, modern = Legacy(), Modern()
    categories = [w.category.__name__ for w in caught]
    raised = []
    for fn in (legacy, modern):
        with pytest.raises(RuntimeError) as info:
            fn(torch.ones(2))
        raised.append(type(info.value).__name__)
    return [categories, raised, Modern.apply(torch.ones(2))]


def test_legacy_function_instances_refused_as_pytorch(torch):
    assert_same(script_legacy_function(glassgrad), script_legacy_function(torch))


def test_legacy_function_error_says_what_to_do():
    class BadFFT(glassgrad.autograd.Function):
        def forward(self, x):
            return x

    with pytest.warns(DeprecationWarning, match="BadFFT"):
        fn = BadFFT()
    with pytest.raises(RuntimeError, match=r"BadFFT: .*static.*BadFFT\.apply"):
        fn(glassgrad.ones(2))


def script_tensor_new(torch):
    x = torch.zeros(2)
    xi = torch.tensor([1, 2])
    forms = [x.new(), x.new(2, 3), x.new((2, 3)), x.new([1, 2]), x.new(np.array([1.5, 2.5])),
             x.new(np.array([1, 2])), x.new(torch.Size([2, 3])), x.new(3),
             xi.new([1.5, 2.0]), xi.new(np.array([1.5]))]  # fmt: skip
    out = [(tuple(t.shape), t.dtype, t.requires_grad) for t in forms]
    out.append([forms[3], forms[4], forms[5], forms[8]])
    other = torch.ones(2, requires_grad=True)
    out.append(x.new(other).requires_grad)
    with pytest.raises(TypeError):
        x.new(torch.ones(2, dtype=torch.int64))
    return out


def test_tensor_new_legacy_constructor(torch):
    assert_same(script_tensor_new(glassgrad), script_tensor_new(torch))


def script_numpy_extension(torch):
    from numpy.fft import irfft2, rfft2

    class BadFFTFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            return input.new(abs(rfft2(input.detach().numpy())))

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.new(irfft2(grad_output.numpy()))

    x = torch.tensor(np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8), requires_grad=True)
    y = BadFFTFunction.apply(x)
    y.backward(torch.ones(y.size()))
    return [y, x.grad]


def test_numpy_extension_function_matches(torch):
    assert_same(script_numpy_extension(glassgrad), script_numpy_extension(torch), atol=1e-5)


def script_shape_mismatch_caught(torch):
    layer = torch.nn.Linear(6400, 4)
    try:
        layer(torch.ones(1, 9216))
    except RuntimeError:
        return "caught"
    return "not caught"


def test_shape_mismatch_is_a_runtime_error(torch):
    assert script_shape_mismatch_caught(glassgrad) == script_shape_mismatch_caught(torch) == "caught"


def test_shape_error_is_still_a_value_error():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, RuntimeError)
    with pytest.raises(ValueError):
        glassgrad.nn.Linear(3, 2)(glassgrad.ones(1, 4))


def script_profile_shapes(torch):
    x, y = torch.ones(3, 2), torch.ones(4)
    cpu = [torch.profiler.ProfilerActivity.CPU]
    with (
        torch.profiler.profile(activities=cpu, record_shapes=True) as p,
        torch.profiler.record_function("block"),
    ):
        _ = x * 2, y * 2, x * 2, x * x
    rows = p.key_averages(group_by_input_shape=True)
    muls = [(r.input_shapes, r.count) for r in rows if r.key.split("::")[-1] == "mul"]
    block = [r.input_shapes for r in rows if r.key == "block"]
    table = rows.table(sort_by="cpu_time_total", row_limit=10)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as plain:
        _ = x * 2
    plain_table = plain.key_averages(group_by_input_shape=True).table()
    return [muls, block, "Input Shapes" in table, "[[3, 2], [3, 2]]" in table, "Input Shapes" in plain_table]


def test_profile_groups_by_input_shape(torch):
    assert_same(script_profile_shapes(glassgrad), script_profile_shapes(torch))


def script_xpu(torch):
    return [torch.xpu.is_available(), torch.xpu.device_count()]


def test_xpu_reports_no_device(torch):
    assert_same(script_xpu(glassgrad), script_xpu(torch))
