"""Round 60, dtypes meeting inside ``nn``: a differential battery (outside the repository) ran every
``nn`` layer and ``F`` function both libraries have with float32 modules fed float64, float16,
integer and bool inputs, float64 modules fed float32, mixed-dtype targets, weights and masks,
optimizers across ``double()`` and ``load_state_dict``, ``clip_grad_norm_``, ``GradScaler`` and
``set_default_dtype``. Pinned here, each against PyTorch:

- ``LPPool1d/2d/3d`` on an integer input truncated every window's mean (the module passed an int
  ``norm_type`` on; PyTorch's module passes ``float(norm_type)``, so ``x ** 2.0`` is a float).
- ``conv_tbc`` refused a bias of another dtype; PyTorch adds it cast to the input's dtype (its
  transposed convolutions do so only for a batch of one, and refuse it batched: kept refused).
- ``cosine_similarity`` refused an integer or bool input beside a float one; PyTorch casts it to
  the common dtype (two integer inputs: a RuntimeError).
- ``soft_margin_loss`` of a float32 input and a float64 target answered float64; PyTorch's kernel
  writes ``-input * target`` into a tensor like the input: float32.
- ``interpolate`` of a uint8 image in bilinear or bicubic mode (torchvision's ``Resize`` of uint8
  tensors) was refused; it now gives PyTorch's fixed-point result, pixel for pixel.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

LIBS = ["glassgrad", "torch"]


def _lib(name, torch):
    return gg if name == "glassgrad" else torch


def _dt(t):
    return str(t.dtype).split(".")[-1]


# ---- LPPool modules on integer inputs --------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_lp_pool_module_on_integer_input_matches_pytorch(torch, nd, dtype):
    x = np.random.default_rng(nd).integers(0, 5, (1, 2) + (4,) * nd).astype(dtype)
    if dtype != "uint8":
        x = x - 2  # negative entries too: the sign of the window sum is kept, as PyTorch
    outs = []
    for lib in (gg, torch):
        pool = getattr(lib.nn, f"LPPool{nd}d")(2, 2)
        y = pool(lib.tensor(x))
        outs.append((_dt(y), y.numpy()))
    assert outs[0][0] == outs[1][0] == "float32"
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6, atol=1e-6)


def test_functional_lp_pool_with_an_int_power_keeps_pytorchs_integer_mean(torch):
    # F.lp_pool2d(x, 2, ...) of an int64 x averages x ** 2 in int64 (a truncated mean), as PyTorch
    x = np.array([[[[1, -2, 3, 0], [2, 1, -1, 4], [0, 0, 1, 1], [3, -3, 2, 2]]]])
    a = gg.nn.functional.lp_pool2d(gg.tensor(x), 2, 2)
    b = torch.nn.functional.lp_pool2d(torch.tensor(x), 2, 2)
    assert _dt(a) == _dt(b)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


# ---- a bias of another dtype -------------------------------------------------------------------


@pytest.mark.parametrize("lib_name", LIBS)
def test_batched_conv_transpose_refuses_a_bias_of_another_dtype_as_pytorch(torch, lib_name):
    # PyTorch adds such a bias (cast) only on its batch-of-one slow path; its batched (oneDNN) path
    # refuses it, and glassgrad refuses it at any batch size
    lib = _lib(lib_name, torch)
    x, w = lib.ones(2, 3, 4, 4), lib.ones(3, 2, 2, 2)
    with pytest.raises(RuntimeError):
        lib.nn.functional.conv_transpose2d(x, w, lib.ones(2, dtype=lib.float64), stride=2)


@pytest.mark.parametrize("bias_dtype", ["float64", "float16", "int64"])
def test_conv_tbc_casts_the_bias_as_pytorch(torch, bias_dtype):
    rng = np.random.default_rng(1)
    x, w = (
        rng.standard_normal((5, 2, 3)).astype(np.float32),
        rng.standard_normal((2, 3, 4)).astype(np.float32),
    )
    b = (np.arange(4) - 1.5 if bias_dtype != "int64" else np.arange(4) - 1).astype(bias_dtype)
    outs = []
    for lib in (gg, torch):
        bt = lib.tensor(b, requires_grad=bias_dtype != "int64")
        y = lib.conv_tbc(lib.tensor(x), lib.tensor(w), bt, 1)
        y.sum().backward() if bt.requires_grad else None
        outs.append(
            (_dt(y), y.detach().numpy(), None if bt.grad is None else (_dt(bt.grad), bt.grad.numpy()))
        )
    assert outs[0][0] == outs[1][0] == "float32"
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6, atol=1e-6)
    if outs[1][2] is not None:
        assert outs[0][2][0] == outs[1][2][0] == bias_dtype
        np.testing.assert_allclose(outs[0][2][1], outs[1][2][1], rtol=1e-6)


# ---- cosine_similarity of integer and float inputs -------------------------------------------


@pytest.mark.parametrize(
    "dtypes", [("int64", "float32"), ("float64", "int32"), ("bool", "float32"), ("uint8", "float64")]
)
def test_cosine_similarity_casts_an_integer_input_as_pytorch(torch, dtypes):
    rng = np.random.default_rng(2)
    a = rng.integers(0, 3, (3, 4)).astype(dtypes[0])
    b = rng.standard_normal((3, 4)).astype(dtypes[1])
    if dtypes[1] == "int32":
        a, b = rng.standard_normal((3, 4)).astype(dtypes[0]), rng.integers(-2, 3, (3, 4)).astype(dtypes[1])
    outs = []
    for lib in (gg, torch):
        fl = [t for t in (lib.tensor(a), lib.tensor(b))]
        for t in fl:
            if t.is_floating_point():
                t.requires_grad_(True)
        y = lib.nn.functional.cosine_similarity(*fl, dim=1)
        y.sum().backward()
        grad = next(t.grad for t in fl if t.requires_grad)
        outs.append((_dt(y), _dt(grad), y.detach().numpy(), grad.numpy()))
    assert outs[0][:2] == outs[1][:2]
    tol = 1e-12 if outs[1][0] == "float64" else 1e-6
    np.testing.assert_allclose(outs[0][2], outs[1][2], rtol=tol, atol=tol)
    np.testing.assert_allclose(outs[0][3], outs[1][3], rtol=tol, atol=tol)


@pytest.mark.parametrize("lib_name", LIBS)
def test_cosine_similarity_of_two_integer_inputs_raises_as_pytorch(torch, lib_name):
    lib = _lib(lib_name, torch)
    with pytest.raises(RuntimeError, match="common dtype to be floating point.*Long"):
        lib.nn.functional.cosine_similarity(lib.tensor([[1, 2, 3]]), lib.tensor([[1, 0, 1]]))


# ---- soft_margin_loss answers in the input's dtype -------------------------------------------


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"), ("float32", "int64")])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_soft_margin_loss_answers_in_the_inputs_dtype_as_pytorch(torch, dtypes, reduction):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(dtypes[0])
    y = np.sign(rng.standard_normal((4, 3))).astype(dtypes[1]) * (1.0 if dtypes[1] != "int64" else 1)
    outs = []
    for lib in (gg, torch):
        xt = lib.tensor(x, requires_grad=True)
        loss = lib.nn.SoftMarginLoss(reduction=reduction)(xt, lib.tensor(y))
        loss.sum().backward()
        outs.append((_dt(loss), _dt(xt.grad), loss.detach().numpy(), xt.grad.numpy()))
    assert outs[0][:2] == outs[1][:2] == (dtypes[0], dtypes[0])
    tol = 1e-12 if dtypes[0] == "float64" else 1e-6
    np.testing.assert_allclose(outs[0][2], outs[1][2], rtol=tol, atol=tol)
    np.testing.assert_allclose(outs[0][3], outs[1][3], rtol=tol, atol=tol)


# ---- interpolate of uint8 images in bilinear and bicubic modes --------------------------------

_RESIZES = [
    dict(size=(5, 7), mode="bilinear"),
    dict(size=(13, 4), mode="bilinear", align_corners=True),
    dict(scale_factor=2, mode="bilinear"),
    dict(scale_factor=(0.75, 1.5), mode="bilinear"),
    dict(size=(4, 5), mode="bilinear", antialias=True),
    dict(size=(11, 3), mode="bilinear", antialias=True, align_corners=True),
    dict(size=(6, 7), mode="bicubic"),
    dict(scale_factor=2, mode="bicubic", align_corners=True),
    dict(size=(4, 5), mode="bicubic", antialias=True),
    dict(scale_factor=(0.5, 1.7), mode="bicubic", antialias=True, recompute_scale_factor=True),
    dict(size=(9, 12), mode="bicubic", antialias=True),
]


@pytest.mark.parametrize("kw", _RESIZES, ids=[f"{k['mode']}{i}" for i, k in enumerate(_RESIZES)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_interpolate_uint8_bilinear_bicubic_matches_pytorch_pixel_for_pixel(torch, kw, channels_last):
    rng = np.random.default_rng(4)
    img = rng.integers(0, 256, (2, 3, 8, 9)).astype(np.uint8)
    img[0, 0, :4] = 255 * (rng.random((4, 9)) > 0.5)  # hard edges: bicubic overshoots, clamped
    outs = []
    for lib in (gg, torch):
        t = lib.tensor(img)
        if channels_last:
            t = t.contiguous(memory_format=lib.channels_last)
        y = lib.nn.functional.interpolate(t, **kw)
        outs.append((_dt(y), y.is_contiguous(), y.numpy()))
    assert outs[0][:2] == outs[1][:2]
    assert outs[0][0] == "uint8"
    np.testing.assert_array_equal(outs[0][2], outs[1][2])


def test_interpolate_uint8_keeps_refusing_the_modes_pytorch_refuses():
    img = gg.zeros(1, 1, 4, dtype=gg.uint8)
    with pytest.raises(
        NotImplementedError, match="interpolate: \"compute_indices_weights_linear\" .* 'Byte'"
    ):
        gg.nn.functional.interpolate(img, scale_factor=2, mode="linear")
