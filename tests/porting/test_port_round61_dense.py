"""Round 61, dense prediction never ported before: DepthAnything/Depth-Anything-V2,
facebookresearch/co-tracker (CoTracker3) and naver/dust3r (with CroCo). The patterns below are
written fresh here and compared with PyTorch in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to as _close
from .helpers import tensor_of as _t

RNG_SEED = 61


# ---- Depth-Anything-V2 / DPT: residual sums through nn.quantized.FloatFunctional -----------------
# The DPT head's ResidualConvUnit and FeatureFusionBlock hold ``self.skip_add =
# nn.quantized.FloatFunctional()`` and sum with ``self.skip_add.add(out, x)``; glassgrad had no
# ``nn.quantized`` and the model failed at construction.


def _fusion(lib, seed):
    nn = lib.nn

    class Unit(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)
            self.skip_add = nn.quantized.FloatFunctional()

        def forward(self, x, y):
            out = self.conv(nn.functional.relu(x))
            out = self.skip_add.add(out, y)
            out = self.skip_add.add_relu(out, x)
            out = self.skip_add.mul(out, y) + self.skip_add.add_scalar(out, 0.5)
            out = self.skip_add.mul_scalar(out, 2.0)
            out = self.skip_add.cat([out, x], dim=1)
            out = self.skip_add.matmul(out, out.transpose(-1, -2))
            return nn.functional.interpolate(out, scale_factor=2, mode="bilinear", align_corners=True)

    m = Unit().double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(_t(lib, rng.standard_normal(tuple(p.shape))))
    return m


def test_float_functional_ops_in_a_fusion_block_match_pytorch(torch):
    rng = np.random.default_rng(RNG_SEED)
    x, y = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 5, 5))
    runs = []
    for lib in (torch, gg):
        m = _fusion(lib, RNG_SEED)
        xs, ys = _t(lib, x, True), _t(lib, y, True)
        out = m(xs, ys)
        (out * out).sum().backward()
        runs.append((out, xs.grad, ys.grad, m.conv.weight.grad, list(m.state_dict()), repr(m.skip_add)))
    for a, b in zip(runs[0][:4], runs[1][:4]):
        _close(a, b)
    assert runs[0][4:] == runs[1][4:]


@pytest.mark.parametrize("name", ["FloatFunctional", "FXFloatFunctional"])
def test_float_functional_forward_is_refused_as_pytorch(name, torch):
    for lib, err in ((torch, RuntimeError), (gg, RuntimeError)):
        f = getattr(lib.nn.quantized, name)()
        with pytest.raises(err, match="FloatFunctional is not intended to use the 'forward'"):
            f(lib.ones(2))
        assert f.add(lib.ones(2), lib.ones(2)).tolist() == [2.0, 2.0]
    assert list(gg.nn.quantized.FXFloatFunctional().state_dict()) == []


# ---- dust3r: a view made in no_grad mode reads its base's requires_grad ------------------------
# dust3r's init_from_pts3d runs under no_grad and asks
# ``torch.tensor([not p.requires_grad for p in self.im_poses])`` where ``im_poses`` is one
# (n_imgs, 7) Parameter: PyTorch's rows read True, so no pose counts as known. glassgrad's read
# False, every pose counted as known and the aligner took the "align known poses" branch: other
# poses, depths and focals, silently.

_VIEWS = {
    "iter": lambda t: list(t)[1],
    "unbind": lambda t: t.unbind(0)[0],
    "getitem": lambda t: t[0],
    "slice": lambda t: t[1:],
    "select": lambda t: t.select(1, 0),
    "view": lambda t: t.view(-1),
    "reshape": lambda t: t.reshape(6),
    "split": lambda t: t.split(1)[2],
    "chunk": lambda t: t.chunk(3)[0],
    "transpose": lambda t: t.T,
    "narrow": lambda t: t.narrow(0, 0, 1),
    "expand": lambda t: t.expand(2, 3, 2),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "diagonal": lambda t: t.diagonal(),
    "view of a view": lambda t: t[1:][0],
    "detach then view": lambda t: t.detach()[0],
    "data then view": lambda t: t.data[0],
    "fancy index (a copy)": lambda t: t[[0, 2]],
    "mask (a copy)": lambda t: t[t > -1],
    "arithmetic (a copy)": lambda t: t * 2,
}


@pytest.mark.parametrize("name", sorted(_VIEWS))
@pytest.mark.parametrize("base", ["parameter", "non-leaf"])
def test_requires_grad_of_views_made_in_no_grad_mode_matches_pytorch(name, base, torch):
    got = []
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.zeros(3, 2, dtype=lib.float64))
        t = p if base == "parameter" else p * 1
        with lib.no_grad():
            v = _VIEWS[name](t)
        got.append((v.requires_grad, v.is_leaf, v.grad_fn is None))
        with lib.inference_mode():
            got.append(_VIEWS[name](t).requires_grad)
    assert got[:2] == got[2:]


def test_no_grad_view_of_an_integer_or_plain_tensor_does_not_require_grad(torch):
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.zeros(3, 2))
        with lib.no_grad():
            assert not p.view(lib.int32).requires_grad
            assert not lib.zeros(3, 2)[0].requires_grad


def _aligner(lib, rows):
    """dust3r's pattern: one stacked Parameter of poses; under no_grad count the known ones, write
    the unknown ones through ``.data``; then a few Adam steps reach the whole stack."""
    poses = lib.nn.Parameter(_t(lib, rows))
    with lib.no_grad():
        known = lib.tensor([not q.requires_grad for q in poses])
        n_known = int(known.sum())
        for i, q in enumerate(poses):
            if q.requires_grad:  # only a pose still being optimised is (re)initialised
                q.data[0:2] = lib.tensor([1.0 + i, -1.0], dtype=lib.float64)
    opt = lib.optim.Adam([poses], lr=0.1, betas=(0.9, 0.9))
    for _ in range(3):
        opt.zero_grad()
        loss = (poses[:, :2].exp() * poses[:, 2:]).sum() + poses.square().mean()
        loss.backward()
        opt.step()
    return n_known, poses


def test_dust3r_known_pose_count_and_steps_match_pytorch(torch):
    rows = np.random.default_rng(RNG_SEED).standard_normal((3, 4))
    n_t, p_t = _aligner(torch, rows)
    n_g, p_g = _aligner(gg, rows)
    assert n_t == n_g == 0
    _close(p_t, p_g)


def test_no_grad_view_used_with_grad_mode_on_gets_no_gradient_as_pytorch(torch):
    """A target cut from a parameter under no_grad acts as a constant in PyTorch: the backward
    fills neither the view's .grad nor its base's, and the other leaves get theirs."""
    got = []
    for lib in (torch, gg):
        z = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([4.0, 5.0], dtype=lib.float64, requires_grad=True)
        with lib.no_grad():
            u = z[:2]
        assert u.requires_grad and u.is_leaf and u.grad_fn is None
        (u * w).sum().backward()
        assert z.grad is None and u.grad is None
        got.append(w.grad.tolist())
        with pytest.raises(RuntimeError):  # an in-place change with grad mode on: refused in both
            u.mul_(2)
        with lib.no_grad():
            u.mul_(2)  # and allowed inside no_grad, writing the base
        assert z.detach().tolist() == [2.0, 4.0, 3.0]
    assert got[0] == got[1] == [1.0, 2.0]


def test_no_grad_view_of_a_plain_tensor_then_requires_grad_gets_its_gradient(torch):
    grads = []
    for lib in (torch, gg):
        z = lib.zeros(3, dtype=lib.float64)
        with lib.no_grad():
            u = z[:2]
        u.requires_grad_()
        (u * 2).sum().backward()
        grads.append(u.grad.tolist())
    assert grads[0] == grads[1] == [2.0, 2.0]
