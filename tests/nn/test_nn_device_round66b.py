"""Round 66 (pt_nn2, PyTorch's TestNNDeviceType): warnings and errors in PyTorch's words.

PyTorch programs (and PyTorch's own tests) match these texts: the total-norm error of
``clip_grad_norm_(error_if_nonfinite=True)``, its empty-generator warning, the negative-slope
in-place backward error, the ``label_smoothing`` range error and ``Module.to(complex)``'s warning.
``clip_grad_norm_`` with a negative order over zero gradient entries is silent, as PyTorch.
"""

import math
import re
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn


def _raised(fn):
    try:
        fn()
    except Exception as e:  # the exception is the result compared
        return e
    return None


def _grad_param(lib, scale, one):
    p = lib.ones(10, dtype=lib.float64, requires_grad=True)
    (p[1] if one else p).mul(scale).sum().backward()
    return p


@pytest.mark.parametrize("norm_type", [0.1, 2.0, 3.5, math.inf])
@pytest.mark.parametrize("scale", [math.inf, math.nan])
def test_clip_nonfinite_error_text(torch, norm_type, scale):
    errs = []
    for lib in (torch, gg):
        p = _grad_param(lib, scale, one=True)
        before = p.grad.clone()
        e = _raised(
            lambda lib=lib, p=p: lib.nn.utils.clip_grad_norm_(
                [p], 1, norm_type=norm_type, error_if_nonfinite=True
            )
        )
        errs.append(e)
        np.testing.assert_array_equal(p.grad.numpy(), before.numpy())  # untouched on error
    assert isinstance(errs[0], RuntimeError) and isinstance(errs[1], RuntimeError)
    want = f"The total norm of order {float(norm_type)} for gradients from `parameters` is non-finite"
    assert want in str(errs[0]) and want in str(errs[1])


@pytest.mark.parametrize("norm_type", [-0.1, -1, -2, -3.5, 0, 0.1, 3.5])
@pytest.mark.parametrize("scale", [math.inf, 2e22, 2e200, math.nan])
@pytest.mark.parametrize("one", [False, True])
def test_clip_negative_orders_silent_and_equal(torch, norm_type, scale, one):
    res = []
    for lib in (torch, gg):
        p = _grad_param(lib, scale, one)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PyTorch warns of nothing here; nor may NumPy
            n = lib.nn.utils.clip_grad_norm_([p], 1, norm_type=norm_type)
        res.append((n.numpy(), p.grad.numpy()))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-12, equal_nan=True)


def test_clip_empty_generator_warning_text(torch):
    texts = []
    for lib in (torch, gg):
        params = lib.nn.Linear(3, 3).parameters()
        for _ in params:
            pass
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.utils.clip_grad_norm_(params, 2.0)
        texts.append([str(x.message) for x in w])
    assert texts[1] == texts[0] == ["`parameters` is an empty generator, no gradient clipping will occur."]


@pytest.mark.parametrize("op", ["elu_", "celu_", "leaky_relu_"])
def test_inplace_negative_slope_backward_text(torch, op):
    for lib in (torch, gg):
        a = lib.tensor([-1.0, 1.0], requires_grad=True)
        fn = getattr(lib.nn.functional, op)
        b = fn(a.clone(), -2.0) if op == "leaky_relu_" else fn(a.clone(), alpha=-2.0)
        with pytest.raises(RuntimeError, match="call out-of-place version"):
            b.backward(lib.ones(2))


@pytest.mark.parametrize("probs", [False, True])
def test_label_smoothing_range_text(torch, probs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    t = rng.dirichlet(np.ones(4), 3) if probs else np.array([0, 1, 2])
    for lib in (torch, gg):
        with pytest.raises(
            RuntimeError, match=re.escape("label_smoothing must be between 0.0 and 1.0. Got: 1.2")
        ):
            lib.nn.CrossEntropyLoss(label_smoothing=1.2)(lib.tensor(x), lib.tensor(t))


def test_module_to_complex_warns(torch):
    got = []
    for lib in (torch, gg):
        m = lib.nn.Linear(3, 5)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.to(lib.cdouble)
            m.to(dtype=lib.cfloat)
            m.to(lib.zeros(1, dtype=lib.cdouble))
        got.append(["Complex modules are a new feature" in str(x.message) for x in w])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.to(lib.float64)  # complex -> real: PyTorch's casting warning (once per process), not this one
        assert not any("Complex modules are a new feature" in str(x.message) for x in w)
        assert m.weight.dtype == lib.float64
    assert got[1] == got[0] == [True, True, True]


def test_module_to_real_does_not_warn():
    m = nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.to(gg.float64)
        m.double().float()


def test_softshrink_negative_is_a_runtime_error(torch):
    # built and refused at forward by PyTorch; refused when built here (design.md), in its class
    x = np.random.default_rng(1).standard_normal(5)
    with pytest.raises(RuntimeError):
        torch.nn.Softshrink(-1)(torch.tensor(x))
    with pytest.raises(RuntimeError, match="Softshrink: expected lambd >= 0"):
        nn.Softshrink(-1)
    with pytest.raises(ValueError):  # and a ValueError, as before
        nn.Softshrink(-0.5)
