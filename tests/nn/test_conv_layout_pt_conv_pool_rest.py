"""Round 67 (PyTorch's test_convolution.py, ``test_conv_thnn_nhwc``, re-created as differential
cases): a module cast to another dtype keeps its tensors' strides, as PyTorch's ``preserve_format``
(a channels-last depthwise weight ``(O, 1, kh, kw)`` lost the stride of its size-1 dim, so the conv
after ``to(float64, memory_format=channels_last)`` answered contiguous where PyTorch answers
channels-last); ``torch.backends.mkldnn.flags`` exists, as the file's tests use it."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

CASTS = [
    ("to_dtype_and_format", lambda lib, m: m.to(dtype=lib.float64, memory_format=lib.channels_last)),
    ("format_then_double", lambda lib, m: m.to(memory_format=lib.channels_last).double()),
    ("format_then_to", lambda lib, m: m.to(memory_format=lib.channels_last).to(lib.float64)),
    ("format_then_type", lambda lib, m: m.to(memory_format=lib.channels_last).type(lib.float64)),
    ("format_then_half", lambda lib, m: m.to(memory_format=lib.channels_last).half()),
]


@pytest.mark.parametrize(("name", "cast"), CASTS, ids=[c[0] for c in CASTS])
def test_module_cast_keeps_channels_last_strides_as_torch(torch, name, cast):
    for groups, cin in ((8, 8), (1, 1)):  # depthwise (O, 1, 3, 3) and one input channel
        ours = cast(gg, gg.nn.Conv2d(cin, 8, 3, groups=groups)).weight
        theirs = cast(torch, torch.nn.Conv2d(cin, 8, 3, groups=groups)).weight
        assert tuple(ours.stride()) == tuple(theirs.stride()), name
        assert ours.dtype.itemsize == theirs.dtype.itemsize


def test_depthwise_conv_after_cast_answers_channels_last_as_torch(torch):
    x = np.random.default_rng(0).integers(-3, 3, (2, 8, 6, 6)).astype(np.float64)
    outs = {}
    for lib in (torch, gg):
        conv = lib.nn.Conv2d(8, 8, 3, groups=8)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(np.arange(72.0).reshape(8, 1, 3, 3) / 10))
            conv.bias.zero_()
        conv = conv.to(dtype=lib.float64, memory_format=lib.channels_last)
        inp = lib.tensor(x, requires_grad=True)
        out = conv(inp)
        out.sum().backward()
        outs[lib.__name__] = out, inp.grad, conv.weight.grad
    (o_t, gx_t, gw_t), (o_g, gx_g, gw_g) = outs["torch"], outs["glassgrad"]
    assert o_g.is_contiguous(memory_format=gg.channels_last)
    assert tuple(o_g.stride()) == tuple(o_t.stride())
    np.testing.assert_allclose(o_g.detach().numpy(), o_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx_g.numpy(), gx_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gw_g.numpy(), gw_t.numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore:TF32 acceleration:UserWarning")  # PyTorch's own, on its flags()
def test_mkldnn_flags_set_and_restore(torch):
    for lib in (torch, gg):
        mk = lib.backends.mkldnn
        assert (mk.enabled, mk.deterministic) == (True, False)
        with mk.flags(enabled=False, deterministic=True):
            assert (mk.enabled, mk.deterministic) == (False, True)
        assert (mk.enabled, mk.deterministic) == (True, False)
    with pytest.raises(ValueError), gg.backends.mkldnn.flags(enabled=False):
        raise ValueError("restored on the way out")
    assert gg.backends.mkldnn.enabled is True
