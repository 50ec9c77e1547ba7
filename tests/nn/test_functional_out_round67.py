"""``out=`` on the ``F`` functions that are PyTorch builtins taking one (``F.linear``, ``F.gelu`` ...).

PyTorch 2.13 takes a keyword-only ``out`` on eight of them; each of its kernels refuses an ``out``
of another dtype and a call whose input requires grad. A program written against PyTorch
(``F.linear(x, w, b, out=buf)``) raised TypeError here before.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

# name -> (input shape, the other positional arguments as NumPy arrays or numbers)
CASES = {
    "linear": ((4, 3), (np.arange(15.0).reshape(5, 3) / 7 - 1, np.linspace(-1, 1, 5))),
    "gelu": ((4, 3), ()),
    "hardshrink": ((4, 3), (0.3,)),
    "softshrink": ((4, 3), (0.3,)),
    "softplus": ((4, 3), (2.0, 1.5)),
    "logsigmoid": ((4, 3), ()),
    "avg_pool2d": ((2, 3, 6, 6), (2,)),
    "avg_pool3d": ((1, 2, 4, 4, 4), (2,)),
}


def _args(lib, name, dtype=np.float32):
    shape, rest = CASES[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    conv = [lib.tensor(a.astype(dtype)) if isinstance(a, np.ndarray) else a for a in rest]
    return lib.tensor(x), conv


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_written_and_returned_as_pytorch(name, torch):
    x, rest = _args(gg, name)
    tx, trest = _args(torch, name)
    out = gg.empty(0)
    got = getattr(F, name)(x, *rest, out=out)
    tout = torch.empty(0)
    getattr(torch.nn.functional, name)(tx, *trest, out=tout)
    assert got is out
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(out.numpy(), getattr(F, name)(x, *rest).numpy())


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [gg.float64, gg.int64])
def test_out_of_another_dtype_refused(name, dtype):
    x, rest = _args(gg, name)
    out = gg.zeros(1, dtype=dtype)
    with pytest.raises(RuntimeError, match=name):
        getattr(F, name)(x, *rest, out=out)
    assert out.tolist() == [0]  # nothing written


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_refused_when_the_input_requires_grad(name):
    x, rest = _args(gg, name, np.float64)
    x.requires_grad_()
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        getattr(F, name)(x, *rest, out=gg.empty(0, dtype=gg.float64))


def test_signature_shows_out_keyword_only():
    import inspect

    p = inspect.signature(F.linear).parameters["out"]
    assert p.kind is p.KEYWORD_ONLY and p.default is None
