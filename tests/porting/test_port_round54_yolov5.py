"""Round 54, Ultralytics YOLOv5 (train.py, models/yolo.py, utils/general.py): float64 into float16.

``train.py`` pre-rounds its anchors with ``model.half().float()`` and saves its checkpoints as
``deepcopy(model).half()``. PyTorch converts a double into a half through a float (``c10::Half``
is built from a ``float``), so the value is rounded twice, to float32 and then to float16;
glassgrad rounded once (NumPy's ``astype(float16)``). The two differ by one float16 ulp where the
float32 rounding lands on a float16 tie: 107 of YOLOv5n's 1.78 M weights, which moved every loss of
a float64 training run by 1e-5 against PyTorch's. Every conversion of float64 values into float16
now goes through float32 (``glassgrad/half_rounding.py``).

Found beside it: a float16 tensor times or over a 0-dim tensor of another dtype (``x * stride[i]``)
is computed by PyTorch's CPU kernels with the 0-dim value at float32, rounded once; glassgrad's
promotion rounded that value to float16 first (a quarter of the products one ulp off).
"""

from __future__ import annotations

import numpy as np

import glassgrad

# 1 + 2**-11 is the tie between the float16 neighbours 1 and 1 + 2**-10. Just above it, a single
# rounding goes up to 1 + 2**-10; rounding to float32 first drops the 2**-40 (below half a float32
# ulp at 1, 2**-24) and lands on the tie, which rounds to even: 1. By hand, PyTorch's value is 1.
ABOVE_TIE = 1.0 + 2.0**-11 + 2.0**-40
# Just below the tie between 1 + 2**-10 and 1 + 2**-9: one rounding goes down, float32 lands on the
# tie and rounds to the even 1 + 2**-9.
BELOW_TIE = 1.0 + 3 * 2.0**-11 - 2.0**-40


def _conversions(lib, data):
    """Each way a program turns float64 values into a float16 tensor."""
    src = lib.tensor(np.asarray(data, dtype=np.float64))
    f16 = lib.float16

    def copied():
        z = lib.zeros(len(data), dtype=f16)
        z.copy_(src)
        return z

    def set_slice():
        z = lib.zeros(len(data), dtype=f16)
        z[:] = src
        return z

    def module_half():
        m = lib.nn.Linear(len(data), 1, bias=False).double()
        with lib.no_grad():
            m.weight.copy_(src[None])
        return m.half().weight.detach()[0]

    def module_to():
        m = lib.nn.Linear(len(data), 1, bias=False).double()
        with lib.no_grad():
            m.weight.copy_(src[None])
        return m.to(f16).weight.detach()[0]

    return {
        "half": src.half(),
        "to": src.to(f16),
        "type": src.type(f16),
        "tensor_ndarray": lib.tensor(np.asarray(data), dtype=f16),
        "tensor_list": lib.tensor([float(v) for v in data], dtype=f16),
        "as_tensor": lib.as_tensor(np.asarray(data), dtype=f16),
        "asarray": lib.asarray(np.asarray(data), dtype=f16),
        "copy_": copied(),
        "setitem_slice": set_slice(),
        "module_half": module_half(),
        "module_to": module_to(),
        "fill_": lib.stack([lib.zeros(1, dtype=f16).fill_(float(v))[0] for v in data]),
        "full": lib.stack([lib.full((), float(v), dtype=f16) for v in data]),
        "setitem_number": lib.stack([_set_number(lib, float(v)) for v in data]),
        "masked_fill": lib.stack(
            [lib.zeros(1, dtype=f16).masked_fill(lib.tensor([True]), float(v))[0] for v in data]
        ),
    }


def _set_number(lib, v):
    z = lib.zeros(1, dtype=lib.float16)
    z[0] = v
    return z[0]


def _values(t):
    return np.asarray(t.detach().double().numpy() if hasattr(t, "detach") else t, dtype=np.float64)


def test_float64_to_float16_rounds_through_float32_by_hand():
    out = _conversions(glassgrad, [ABOVE_TIE, BELOW_TIE, 0.5, -ABOVE_TIE])
    want = np.array([1.0, 1.0 + 2.0**-9, 0.5, -1.0])
    assert np.float16(ABOVE_TIE) != want[0]  # NumPy's one rounding would differ
    for name, t in out.items():
        assert t.dtype == glassgrad.float16, name
        np.testing.assert_array_equal(_values(t), want, err_msg=name)


def test_float64_to_float16_matches_pytorch_bitwise(torch):
    rng = np.random.default_rng(54)
    data = np.concatenate([rng.standard_normal(4000) * 0.1, [ABOVE_TIE, BELOW_TIE, 65500.0, -1e-9, 6e-8]])
    # a normal draw meets the double rounding about once in 15,000 values: add ties at other scales
    data = np.concatenate([data, ABOVE_TIE * rng.choice([1, -1, 2, 0.5, 2.0**-6, -(2.0**8)], 40)])
    ours, theirs = _conversions(glassgrad, data), _conversions(torch, data)
    for name in ours:
        np.testing.assert_array_equal(_values(ours[name]), _values(theirs[name]), err_msg=name)


def test_yolov5_anchor_prerounding_matches_pytorch(torch):
    """``model.half().float()`` on float64 weights, then a forward: the same numbers as PyTorch."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((8, 3, 3, 3)) * 0.2
    x = rng.standard_normal((2, 3, 9, 9))
    out = []
    for lib in (glassgrad, torch):
        conv = lib.nn.Conv2d(3, 8, 3, bias=False).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(w))
        conv.half().float().double()
        out.append(conv(lib.tensor(x)).detach().numpy())
        assert conv.weight.dtype == lib.float64
    np.testing.assert_allclose(out[0], out[1], rtol=0, atol=1e-13)


def test_half_cast_gradient_and_other_sources_unchanged(torch):
    """The gradient of the cast is unchanged (float16 to float64 is exact); float32 and integer
    sources keep their one rounding, and float16 to float64 gives the same values back."""
    x = glassgrad.tensor([ABOVE_TIE, 0.3, -2.5], dtype=glassgrad.float64, requires_grad=True)
    y = x.half()
    y.float().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
    f32 = np.array([1.0009766, 0.1, 3.3e-5], dtype=np.float32)
    ints = np.array([2049, 4097, 65519, -3], dtype=np.int64)
    for src in (f32, ints):
        np.testing.assert_array_equal(
            glassgrad.tensor(src).half().numpy(), torch.tensor(src).half().numpy(), err_msg=str(src.dtype)
        )


# ---------------------------------------------------------------- float16 by a 0-dim tensor
# PyTorch's CPU mul/div kernels read a 0-dim second operand at its own precision (is_cpu_scalar,
# original_scalar_value<float>): a float16 x times tensor(s) is float16(float(x) * float32(s)),
# one rounding. Glassgrad's promotion cast s to float16 first, one ulp off on a quarter of x.


def test_half_times_zero_dim_tensor_by_hand():
    x = glassgrad.tensor([3.0, 5.0, 7.0], dtype=glassgrad.float16)
    s = 0.1  # float16(0.1) = 0.0999755859375; float32(0.1) = 0.100000001490116...
    for dt in (glassgrad.float64, glassgrad.float32):
        got = (x * glassgrad.tensor(s, dtype=dt)).double().numpy()
        want = (np.array([3.0, 5.0, 7.0], dtype=np.float32) * np.float32(s)).astype(np.float16)
        np.testing.assert_array_equal(got, want.astype(np.float64), err_msg=str(dt))
        assert (x * glassgrad.tensor(s, dtype=dt)).dtype == glassgrad.float16


def test_half_by_zero_dim_tensor_matches_pytorch(torch):
    rng = np.random.default_rng(540)
    x = rng.standard_normal((40, 30)).astype(np.float16)
    values = rng.standard_normal(12) * 0.37

    def forms(lib, v, dt):
        s = lib.tensor(v, dtype=dt)
        a = lib.tensor(x)
        g = lib.tensor(x).requires_grad_()
        (g * s).sum().backward()
        return [
            a * s,
            a / s,
            lib.mul(a, s),
            lib.div(a, s),
            a.clone().mul_(s),
            a.clone().div_(s),
            s * a,  # a 0-dim first operand is cast to float16 in both
            a * lib.tensor(int(v * 100)),
            g.grad,
        ]

    for dt in ("float64", "float32", "float16"):
        for v in values:
            ours = forms(glassgrad, v, getattr(glassgrad, dt))
            theirs = forms(torch, v, getattr(torch, dt))
            for i, (o, t) in enumerate(zip(ours, theirs)):
                assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], (dt, i)
                np.testing.assert_array_equal(_values(o), _values(t), err_msg=f"{dt} form {i}")


def test_half_by_zero_dim_tensor_keeps_promotion():
    """Only a float16 tensor with dims takes the number path; the result dtypes stay PyTorch's."""
    h0 = glassgrad.tensor(1.5, dtype=glassgrad.float16)
    d0 = glassgrad.tensor(0.1, dtype=glassgrad.float64)
    assert (h0 * d0).dtype == glassgrad.float64  # both 0-dim: the higher dtype
    f = glassgrad.ones(3)
    assert (f * d0).dtype == glassgrad.float32
    np.testing.assert_array_equal((f * d0).numpy(), np.float32(0.1) * np.ones(3, dtype=np.float32))
