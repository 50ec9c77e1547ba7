"""Round 65, published programs (mistralai/mistral-inference, meta-llama/llama-models,
rasbt/reasoning-from-scratch, HazyResearch/zoology, jzhang38/TinyLlama). The first four ran
unchanged and matched PyTorch; TinyLlama's ``lit_gpt`` stopped at import, in its ``utils.py``:
``import torch.utils._device`` (no such module) and then ``from torch.serialization import
normalize_storage_type``. Pinned here, written fresh: the ``_device`` module's names as the
lit-llama/lit-gpt family reads them, its ``DeviceContext``/``set_device`` against PyTorch's, and
``normalize_storage_type``; plus the fused-rope pattern TinyLlama runs once imported (a custom
Function writing its result into views of ``empty_like`` through an out-argument helper).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 65


def _lib(name, torch):
    return torch if name == "torch" else gg


def _device_module(lib):
    return importlib.import_module(lib.__name__ + ".utils._device")


# --- torch.utils._device ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["torch", "glassgrad"])
def test_utils_device_module_imports_with_its_names(name, torch):
    lib = _lib(name, torch)
    mod = _device_module(lib)
    for attr in ("CURRENT_DEVICE", "DeviceContext", "device_decorator", "set_device", "_device_constructors"):
        assert hasattr(mod, attr), attr
    assert mod.CURRENT_DEVICE is None
    # lit-llama's EmptyInitOnDevice asks `func in _device_constructors()` of the functions a mode sees
    ctors = mod._device_constructors()
    assert lib.empty in ctors and lib.zeros in ctors and lib.arange in ctors and lib.tensor in ctors
    assert lib.fft.rfftfreq in ctors
    assert lib.zeros_like not in ctors and lib.empty_like not in ctors and lib.exp not in ctors
    assert mod._device_constructors() is ctors  # cached, as PyTorch's lru_cache(1)


def test_utils_device_constructors_cover_pytorchs_that_glassgrad_has(torch):
    mine = _device_module(gg)._device_constructors()
    for fn in _device_module(torch)._device_constructors():
        name = fn.__name__
        owner = gg.fft if name.startswith("fft_") else gg
        ours = getattr(owner, name.removeprefix("fft_"), None)
        if ours is not None:
            assert ours in mine, name


@pytest.mark.parametrize("name", ["torch", "glassgrad"])
def test_device_context_makes_factories_meta_and_restores(name, torch):
    lib = _lib(name, torch)
    mod = _device_module(lib)
    context = mod.DeviceContext("meta")
    with context as entered:
        assert mod.CURRENT_DEVICE is not None and mod.CURRENT_DEVICE.type == "meta"
        x = lib.ones(2, 3)
        lin = lib.nn.Linear(3, 4)
        explicit = lib.zeros(2, device="cpu")
    assert entered is None and context.device == lib.device("meta")
    assert x.device.type == "meta" and tuple(x.shape) == (2, 3)
    assert lin.weight.device.type == "meta"
    assert explicit.device.type == "cpu"
    assert mod.CURRENT_DEVICE is None
    assert lib.ones(2).device.type == "cpu"


@pytest.mark.parametrize("name", ["torch", "glassgrad"])
def test_set_device_decorator_applies_per_call(name, torch):
    lib = _lib(name, torch)
    mod = _device_module(lib)

    @mod.set_device("meta")
    def build(n):
        return lib.empty(n), lib.arange(n)

    a, b = build(3)
    assert a.device.type == "meta" and b.device.type == "meta" and tuple(b.shape) == (3,)
    assert lib.empty(1).device.type == "cpu"
    c = mod.device_decorator(lib.device("meta"), lambda: lib.randn(2))()
    assert c.device.type == "meta"


def test_device_context_refuses_a_device_glassgrad_lacks():
    from glassgrad.errors import DeviceError

    mod = _device_module(gg)
    with pytest.raises(DeviceError, match="CPU only"), mod.DeviceContext("cuda"):
        pass
    assert mod.CURRENT_DEVICE is None


# --- torch.serialization.normalize_storage_type -------------------------------------------------


@pytest.mark.parametrize("name", ["torch", "glassgrad"])
@pytest.mark.parametrize("storage", ["FloatStorage", "DoubleStorage", "LongStorage", "UntypedStorage"])
def test_normalize_storage_type_gives_the_top_level_class(name, storage, torch):
    lib = _lib(name, torch)
    from_import = importlib.import_module(lib.__name__ + ".serialization").normalize_storage_type
    cls = getattr(lib, storage)
    assert from_import(cls) is cls
    # the class a storage object has (lit-gpt passes type(obj))
    made = lib.ones(3, dtype=lib.float64).untyped_storage()
    assert from_import(type(made)) is lib.UntypedStorage


# --- TinyLlama's fused rope, written through out-arguments into views of empty_like -------------


def _apply_rotary(x1, x2, cos, sin, out1, out2, conj):
    s = -sin if conj else sin
    o1, o2 = x1 * cos - x2 * s, x1 * s + x2 * cos
    out1.copy_(o1)
    out2.copy_(o2)


def _rope_function(lib):
    class ApplyRotary(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, cos, sin):
            rot = cos.shape[-1] * 2
            x1, x2 = x[..., :rot].chunk(2, dim=-1)
            out = lib.empty_like(x)
            o1, o2 = out[..., :rot].chunk(2, dim=-1)
            seq = x.shape[1]
            _apply_rotary(x1, x2, cos[:seq, None, :], sin[:seq, None, :], o1, o2, False)
            if rot < x.shape[-1]:
                out[..., rot:].copy_(x[..., rot:])
            ctx.save_for_backward(cos, sin)
            return out

        @staticmethod
        def backward(ctx, do):
            cos, sin = ctx.saved_tensors
            rot = cos.shape[-1] * 2
            d1, d2 = do[..., :rot].chunk(2, dim=-1)
            dx = lib.empty_like(do)
            g1, g2 = dx[..., :rot].chunk(2, dim=-1)
            seq = do.shape[1]
            _apply_rotary(d1, d2, cos[:seq, None, :], sin[:seq, None, :], g1, g2, True)
            if rot < do.shape[-1]:
                dx[..., rot:].copy_(do[..., rot:])
            return dx, None, None

    return ApplyRotary


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rot_fraction", [1.0, 0.5])
def test_fused_rope_function_through_out_views_matches_torch(dtype, rot_fraction, torch):
    rng = np.random.default_rng(RNG_SEED)
    b, t, h, d = 2, 5, 3, 8
    rot = int(d * rot_fraction)
    x_np = rng.standard_normal((b, t, h, d))
    theta = 1.0 / (10000 ** (np.arange(0, rot, 2) / rot))
    ang = np.outer(np.arange(7), theta)
    g_np = rng.standard_normal((b, t, h, d))
    got = {}
    for lib in (torch, gg):
        dt = getattr(lib, dtype)
        x = lib.tensor(x_np, dtype=dt, requires_grad=True)
        cos, sin = lib.tensor(np.cos(ang), dtype=dt), lib.tensor(np.sin(ang), dtype=dt)
        y = _rope_function(lib).apply(x * 1.0, cos, sin)
        (y * lib.tensor(g_np, dtype=dt)).sum().backward()
        got[lib.__name__] = (y.detach().numpy(), x.grad.numpy())
    tol = 1e-12 if dtype == "float64" else 1e-6
    for a, c in zip(got["torch"], got["glassgrad"]):
        np.testing.assert_allclose(c, a, rtol=tol, atol=tol)
    # the rotation is orthogonal: the gradient is the inverse rotation of the upstream one
    y, gx = got["glassgrad"]
    assert np.allclose((gx**2).sum(), (g_np**2).sum(), rtol=1e-5)
