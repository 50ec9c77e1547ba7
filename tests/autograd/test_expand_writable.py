"""An ``expand`` that stretches nothing (new leading dims of size 1, every size kept) is a plain,
writable view of its input, as in PyTorch, whose in-place ops refuse only a tensor whose elements
overlap in memory. A stretching one stays read-only and is refused with a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError

NON_STRETCHING = {
    "same sizes": lambda t: t.expand(3, 4),
    "-1 sizes": lambda t: t.expand(-1, -1),
    "a leading 1": lambda t: t.expand(1, 3, 4),
    "expand_as": lambda t: t.expand_as(t),
    "broadcast_to": lambda t: t.broadcast_to((1, 3, 4)),
}


@pytest.mark.parametrize("name", list(NON_STRETCHING))
def test_writes_reach_the_base(name):
    x = gg.zeros(3, 4)
    e = NON_STRETCHING[name](x)
    e.add_(1.0)
    e[..., 0, 1] = 5.0
    assert e._base is x
    np.testing.assert_array_equal(x.numpy(), np.where(np.arange(12).reshape(3, 4) == 1, 5.0, 1.0))


def _recorded(lib, w_np, u_np, make):
    w = lib.tensor(w_np, requires_grad=True)
    u = lib.tensor(u_np, requires_grad=True)
    h = w * 2.0
    e = make(h)
    e.mul_(u)  # recorded through the view: h's graph is rebased
    e[..., 1, :] = u[0] * 3.0
    loss = (h * h.exp()).sum() + e.sum()
    loss.backward()
    return h.detach().numpy(), w.grad.numpy(), u.grad.numpy()


@pytest.mark.parametrize("name", list(NON_STRETCHING))
def test_recorded_inplace_gradients_match_torch(torch, name):
    rng = np.random.default_rng(0)
    w_np, u_np = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ours = _recorded(gg, w_np, u_np, NON_STRETCHING[name])
    theirs = _recorded(torch, w_np, u_np, NON_STRETCHING[name])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [lambda t: t[:1].expand(3, 4), lambda t: t.expand(2, 3, 4)])
def test_a_stretching_expand_is_still_refused(torch, make):
    with pytest.raises(RuntimeError, match="more than one element"):
        make(torch.zeros(3, 4)).add_(1.0)
    with pytest.raises(ShapeError, match="read-only view"):
        make(gg.zeros(3, 4)).add_(1.0)
