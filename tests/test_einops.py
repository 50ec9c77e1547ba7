"""einops on glassgrad tensors (``glassgrad/einops.py``): the functions through the registered
backend, checked against einops on NumPy arrays and by gradcheck; the layers in a model, against
``einops.layers.torch`` with PyTorch's weights. Each test skips alone without einops (or PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(0)


@pytest.fixture
def einops():
    return pytest.importorskip("einops")


CASES = [
    ("rearrange", "b c (h w) -> b (c h) w", {"h": 2}),
    ("rearrange", "b c n -> n (b c)", {}),
    ("repeat", "b c n -> b k c n", {"k": 3}),
    ("reduce", "b c n -> b n", {"reduction": "max"}),
    ("reduce", "b c n -> c", {"reduction": "mean"}),
    ("reduce", "b c (n two) -> b c n", {"reduction": "sum", "two": 2}),
    ("reduce", "b c n -> b", {"reduction": "prod"}),
    ("reduce", "b c n -> b 1 n", {"reduction": "min"}),
]


@pytest.mark.parametrize(("fn", "pattern", "kw"), CASES)
def test_functions_match_einops_on_numpy_and_gradcheck(einops, fn, pattern, kw):
    a = RNG.standard_normal((2, 3, 4))
    want = getattr(einops, fn)(a, pattern, **kw)
    got = getattr(einops, fn)(gg.tensor(a), pattern, **kw)
    assert isinstance(got, gg.Tensor)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    x = gg.tensor(a, requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: getattr(einops, fn)(t, pattern, **kw), (x,))


def test_pack_unpack_and_einsum(einops):
    a, b = gg.randn(2, 3, 4), gg.randn(2, 5)
    packed, shapes = einops.pack([a, b], "b *")
    assert packed.shape == (2, 17)
    back = einops.unpack(packed, shapes, "b *")
    assert all(gg.equal(x, y) for x, y in zip(back, [a, b]))
    m = einops.einsum(a, gg.randn(4, 6), "b c n, n k -> b c k")
    assert m.shape == (2, 3, 6)


def test_layers_in_a_model_match_einops_layers_torch(einops, torch):
    from einops.layers.torch import Rearrange as TorchRearrange
    from einops.layers.torch import Reduce as TorchReduce

    from glassgrad.einops import Rearrange, Reduce

    patch = "b c (h p1) (w p2) -> b (h w) (p1 p2 c)"
    ours = gg.nn.Sequential(Rearrange(patch, p1=2, p2=2), gg.nn.Linear(12, 5), Reduce("b n d -> b d", "mean"))
    theirs = torch.nn.Sequential(
        TorchRearrange(patch, p1=2, p2=2), torch.nn.Linear(12, 5), TorchReduce("b n d -> b d", "mean")
    )
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["1.weight", "1.bias"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((2, 3, 4, 6)).astype(np.float32)
    xg, xt = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yg, yt = ours(xg), theirs(xt)
    np.testing.assert_allclose(yg.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    yg.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        ours[1].weight.grad.numpy(), theirs[1].weight.grad.numpy(), rtol=1e-5, atol=1e-6
    )
