"""Round 54 (timm's layers and models): the autocast state functions PyTorch 2.13 still has at the
top level were missing.

timm's ``layers/fast_norm.py`` falls back to ``torch.get_autocast_gpu_dtype()``,
``torch.get_autocast_cpu_dtype()`` and ``torch.is_autocast_cpu_enabled()`` where
``get_autocast_dtype`` is absent (timm before 1.0 calls them unconditionally); glassgrad had none of
the per-device spellings (``get/set_autocast_{cpu,gpu,ipu,xla}_dtype``,
``is/set_autocast_{cpu,ipu,xla}_enabled``), nor ``torch.is_autocast_cache_enabled``,
``set_autocast_cache_enabled``, ``clear_autocast_cache``, ``autocast_increment_nesting`` and
``autocast_decrement_nesting`` at the top level, and ``set_autocast_enabled(True)`` (PyTorch's
one-argument form, CUDA's) raised a TypeError; ``get_autocast_dtype`` said float16 on 'xla', 'hpu'
and 'maia' (PyTorch: bfloat16). Expected values come from PyTorch 2.13 or a hand derivation (the
eval batch-norm backward guard at the end, where PyTorch's CPU kernel is the one that is wrong).
"""

import warnings

import numpy as np
import pytest

import glassgrad as gg

PER_DEVICE = [("cpu", "cpu"), ("ipu", "ipu"), ("xla", "xla")]


@pytest.fixture
def restore(torch):
    """Both libraries' autocast state put back after a test that changes it."""
    devices = ("cpu", "cuda", "ipu", "xla")
    saved = [
        (lib, {d: (lib.is_autocast_enabled(d), lib.get_autocast_dtype(d)) for d in devices}, lib.is_autocast_cache_enabled())
        for lib in (torch, gg)
    ]  # fmt: skip
    yield
    for lib, state, cache in saved:
        for d, (enabled, dtype) in state.items():
            lib.set_autocast_enabled(d, enabled)
            lib.set_autocast_dtype(d, dtype)
        lib.set_autocast_cache_enabled(cache)


def _name(dtype):
    return str(dtype).split(".")[-1]


def _call(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    return out, [(w.category, str(w.message).split(" (Triggered internally")[0]) for w in caught]


@pytest.mark.parametrize("kind, device", [*PER_DEVICE, ("gpu", "cuda")])
def test_per_device_dtype_functions_as_pytorchs(torch, restore, kind, device):
    for lib in (torch, gg):
        got, warned = _call(getattr(lib, f"get_autocast_{kind}_dtype"))
        want = {"cpu": "bfloat16", "xla": "bfloat16"}.get(kind, "float16")
        assert _name(got) == want
        assert warned == [
            (DeprecationWarning, f"torch.get_autocast_{kind}_dtype() is deprecated. Please use torch.get_autocast_dtype('{device}') instead.")
        ]  # fmt: skip
        _, warned = _call(
            getattr(lib, f"set_autocast_{kind}_dtype"), lib.float16 if want == "bfloat16" else lib.float32
        )
        assert [c for c, _ in warned] == [DeprecationWarning]
        assert "set_autocast_dtype('" + device + "', dtype)" in warned[0][1]
        assert _name(lib.get_autocast_dtype(device)) == ("float16" if want == "bfloat16" else "float32")


@pytest.mark.parametrize("kind, device", PER_DEVICE)
def test_per_device_enabled_functions_as_pytorchs(torch, restore, kind, device):
    for lib in (torch, gg):
        got, warned = _call(getattr(lib, f"is_autocast_{kind}_enabled"))
        assert got is False
        assert warned == [
            (DeprecationWarning, f"torch.is_autocast_{kind}_enabled() is deprecated. Please use torch.is_autocast_enabled('{device}') instead.")
        ]  # fmt: skip
        _call(getattr(lib, f"set_autocast_{kind}_enabled"), True)
        assert lib.is_autocast_enabled(device) is True
        assert _call(getattr(lib, f"is_autocast_{kind}_enabled"))[0] is True


def test_the_legacy_functions_see_an_autocast_region(torch):
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autocast("cpu", dtype=lib.float16):
                inside = (lib.is_autocast_cpu_enabled(), _name(lib.get_autocast_cpu_dtype()))
            after = (lib.is_autocast_cpu_enabled(), _name(lib.get_autocast_cpu_dtype()))
        assert inside == (True, "float16")
        assert after == (False, "bfloat16")


@pytest.mark.parametrize(
    "call",
    [
        "set_autocast_cpu_enabled(1)",
        "set_autocast_cpu_enabled('yes')",
        "set_autocast_xla_enabled(None)",
        "set_autocast_cpu_dtype('float16')",
        "set_autocast_gpu_dtype(None)",
        "set_autocast_cache_enabled(1)",
    ],
)
def test_arguments_pytorch_refuses_are_refused(torch, restore, call):
    name = call.split("(")[0]
    for lib in (torch, gg):
        with pytest.raises(TypeError) as info:
            eval("lib." + call, {"lib": lib})
    assert name in str(info.value)  # ours names the function


def test_nesting_counter_as_pytorchs(torch):
    for lib in (torch, gg):
        seen = [lib.autocast_increment_nesting(), lib.autocast_increment_nesting()]
        seen += [lib.autocast_decrement_nesting(), lib.autocast_decrement_nesting()]
        seen += [lib.autocast_decrement_nesting(), lib.autocast_increment_nesting()]  # below 0 and back
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autocast("cpu"):
                seen += [lib.autocast_increment_nesting(), lib.autocast_decrement_nesting()]
        seen.append(lib.autocast_increment_nesting() - 1)
        lib.autocast_decrement_nesting()
        assert seen == [1, 2, 1, 0, -1, 0, 2, 1, 0]


def test_cache_switch_and_one_argument_set_autocast_enabled(torch, restore):
    for lib in (torch, gg):
        assert lib.is_autocast_cache_enabled() is True
        lib.set_autocast_cache_enabled(False)
        assert lib.is_autocast_cache_enabled() is False
        lib.set_autocast_cache_enabled(True)
        assert lib.clear_autocast_cache() is None
        lib.set_autocast_enabled(True)  # the older form: CUDA's
        assert (
            lib.is_autocast_enabled(),
            lib.is_autocast_enabled("cuda"),
            lib.is_autocast_enabled("cpu"),
        ) == (True, True, False)
        lib.set_autocast_enabled(False)
        assert lib.is_autocast_enabled("cuda") is False
        with pytest.raises(TypeError):
            lib.set_autocast_enabled("cpu")


def test_the_names_are_public():
    for name in (
        "get_autocast_gpu_dtype",
        "is_autocast_cpu_enabled",
        "autocast_increment_nesting",
        "clear_autocast_cache",
    ):
        assert name in gg.__all__
        assert getattr(gg, name).__name__ == name


@pytest.mark.parametrize(
    "device", ["cpu", "cuda", "ipu", "xpu", "maia", "xla", "mps", "hpu", "mtia", "privateuseone"]
)
def test_default_autocast_dtype_of_each_device_as_pytorchs(torch, device):
    # bfloat16 on 'xla', 'hpu' and 'maia' too (glassgrad said float16 there)
    assert _name(gg.get_autocast_dtype(device)) == _name(torch.get_autocast_dtype(device))


@pytest.mark.parametrize("shape", [(1, 6, 3, 3), (2, 6, 3, 3), (1, 6, 5)])
def test_eval_batch_norm_backward_with_a_transposed_incoming_gradient(shape):
    # EfficientFormer's Flat (``x.flatten(2).transpose(1, 2)``) after a BatchNorm2d in eval mode
    # hands batch norm a channels-last-strided gradient; glassgrad's input and weight gradients are
    # the hand-derived ones (PyTorch 2.13's CPU kernel is wrong there for a batch of one: 5.5 off)
    rng = np.random.default_rng(0)
    C = shape[1]
    x = rng.standard_normal(shape)
    mean, var, gamma, beta = (
        rng.standard_normal(C),
        rng.random(C) + 0.5,
        rng.standard_normal(C),
        rng.standard_normal(C),
    )
    w = rng.standard_normal((shape[0], int(np.prod(shape[2:])), C))
    t, g = gg.tensor(x, requires_grad=True), gg.tensor(gamma, requires_grad=True)
    y = gg.nn.functional.batch_norm(
        t, gg.tensor(mean), gg.tensor(var), g, gg.tensor(beta), training=False, eps=1e-5
    )
    (y.flatten(2).transpose(1, 2) * gg.tensor(w)).sum().backward()
    up = np.transpose(w, (0, 2, 1)).reshape(shape)  # dL/dy
    bshape = (1, C) + (1,) * (len(shape) - 2)
    inv = 1.0 / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(t.grad.numpy(), up * (gamma * inv).reshape(bshape), rtol=1e-13, atol=1e-14)
    axes = tuple(i for i in range(len(shape)) if i != 1)
    want = (up * (x - mean.reshape(bshape)) * inv.reshape(bshape)).sum(axes)
    np.testing.assert_allclose(g.grad.numpy(), want, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("enabled", [1, "yes", None])
def test_a_non_bool_enabled_is_refused_by_the_setter_and_the_region(torch, restore, enabled):
    # PyTorch's parser refuses it in set_autocast_enabled, so ``with autocast(enabled=1)`` stops at
    # its __enter__ too (glassgrad read it by truth value and opened the region)
    for lib in (torch, gg):
        with pytest.raises(TypeError, match="enabled"):
            lib.set_autocast_enabled("cpu", enabled)
        with pytest.raises(TypeError, match="enabled"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autocast("cpu", enabled=enabled):
                pass
        assert lib.is_autocast_enabled("cpu") is False
        assert lib.autocast_increment_nesting() == 1  # the failed region left no count behind
        assert lib.autocast_decrement_nesting() == 0
