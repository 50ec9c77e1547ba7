"""Round 27 (yenchenlin/nerf-pytorch, vsitzmann/siren, lucidrains/siren-pytorch,
yashbhalgat/HashNeRF-pytorch): each program's tensor work, distilled, against PyTorch in float64.

NeRF: volume rendering (``raw2outputs``: cumprod of transmittance, ``torch.Tensor([1e10]).expand``)
and hierarchical sampling (``sample_pdf``: ``searchsorted(right=True)``, ``gather`` on an expanded
cdf, ``where``). SIREN: gradient / Laplacian / Hessian of the network output by
``autograd.grad(create_graph=True)``, the Hessian written into a zeros tensor slice by slice.
HashNeRF: integer hashing (int64 products that wrap, ``^=``, ``&``), trilinear interpolation of
``nn.Embedding`` rows, spherical-harmonics features written into ``torch.empty``, the TV loss's
``randint`` with a tensor bound, and RAdam's deprecated ``addcmul_(v, g, g)`` overloads, which
PyTorch warns about once per process (glassgrad warned once per op and call site).
"""

from __future__ import annotations

import warnings

import numpy as np

import glassgrad as gg
from glassgrad.ops import composite

from .helpers import assert_same


def _inputs():
    rng = np.random.RandomState(0)
    return {
        "raw": rng.randn(4, 8, 4),
        "z": np.sort(rng.rand(4, 8) * 4 + 2, -1),
        "rays_d": rng.randn(4, 3),
        "u": rng.rand(4, 9),
        "coords": rng.randn(6, 2) * 0.5,
        "w1": rng.randn(16, 2),
        "w2": rng.randn(1, 16) * 0.2,
        "xyz": rng.rand(10, 3) * 2 - 1,
        "table": rng.randn(64, 2) * 1e-2,
    }


def nerf_render(torch, d):
    """raw2outputs + sample_pdf as nerf-pytorch's run_nerf.py/run_nerf_helpers.py write them."""
    raw = torch.tensor(d["raw"], requires_grad=True)
    z_vals, rays_d = torch.tensor(d["z"]), torch.tensor(d["rays_d"])
    dists = z_vals[..., 1:] - z_vals[..., :-1]
    dists = torch.cat([dists, torch.tensor([1e10], dtype=torch.float64).expand(dists[..., :1].shape)], -1)
    dists = dists * torch.norm(rays_d[..., None, :], dim=-1)
    rgb = torch.sigmoid(raw[..., :3])
    alpha = 1.0 - torch.exp(-torch.nn.functional.relu(raw[..., 3]) * dists)
    ones = torch.ones((alpha.shape[0], 1), dtype=torch.float64)
    weights = alpha * torch.cumprod(torch.cat([ones, 1.0 - alpha + 1e-10], -1), -1)[:, :-1]
    rgb_map = torch.sum(weights[..., None] * rgb, -2)
    depth = torch.sum(weights * z_vals, -1)
    disp = 1.0 / torch.max(1e-10 * torch.ones_like(depth), depth / torch.sum(weights, -1))
    # sample_pdf on the mid-points with the inner weights
    bins = 0.5 * (z_vals[..., 1:] + z_vals[..., :-1])
    w = weights[..., 1:-1] + 1e-5
    pdf = w / torch.sum(w, -1, keepdim=True)
    cdf = torch.cumsum(pdf, -1)
    cdf = torch.cat([torch.zeros_like(cdf[..., :1]), cdf], -1)
    u = torch.tensor(d["u"]).contiguous()
    inds = torch.searchsorted(cdf, u, right=True)
    below = torch.max(torch.zeros_like(inds - 1), inds - 1)
    above = torch.min((cdf.shape[-1] - 1) * torch.ones_like(inds), inds)
    inds_g = torch.stack([below, above], -1)
    shape = [inds_g.shape[0], inds_g.shape[1], cdf.shape[-1]]
    cdf_g = torch.gather(cdf.unsqueeze(1).expand(shape), 2, inds_g)
    bins_g = torch.gather(bins.unsqueeze(1).expand(shape), 2, inds_g)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < 1e-5, torch.ones_like(denom), denom)
    samples = bins_g[..., 0] + (u - cdf_g[..., 0]) / denom * (bins_g[..., 1] - bins_g[..., 0])
    z_all, _ = torch.sort(torch.cat([z_vals, samples.detach()], -1), -1)
    loss = (rgb_map**2).sum() + disp.sum() + (samples**2).sum()
    loss.backward()
    std = torch.std(samples, dim=-1, unbiased=False)
    return [rgb_map, disp, weights, inds, samples, z_all, std, raw.grad]


def test_nerf_volume_rendering_and_pdf_sampling_match_pytorch(torch):
    d = _inputs()
    assert_same(nerf_render(gg, d), nerf_render(torch, d), rtol=1e-11, atol=1e-13)


def siren_derivatives(torch, d):
    """diff_operators.gradient/laplace/hessian on a two-layer sine network (sin(30 x))."""
    x = torch.tensor(d["coords"])[None].clone().detach().requires_grad_(True)
    w1 = torch.tensor(d["w1"], requires_grad=True)
    w2 = torch.tensor(d["w2"], requires_grad=True)
    b2 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    y = torch.sin(30 * x.matmul(w1.permute(-1, -2))).matmul(w2.permute(-1, -2)) + b2
    grad = torch.autograd.grad(y, [x], grad_outputs=torch.ones_like(y), create_graph=True)[0]
    div = 0.0
    for i in range(grad.shape[-1]):
        g_i = torch.ones_like(grad[..., i])
        div += torch.autograd.grad(grad[..., i], x, g_i, create_graph=True)[0][..., i : i + 1]
    h = torch.zeros(1, x.shape[1], 1, 2, 2, dtype=torch.float64)
    dydx = torch.autograd.grad(y[..., 0], x, torch.ones_like(y[..., 0]), create_graph=True)[0]
    for j in range(2):
        h[..., 0, j, :] = torch.autograd.grad(dydx[..., j], x, torch.ones_like(y[..., 0]), create_graph=True)[
            0
        ]
    loss = (grad**2).sum() + (div**2).mean() + h.sum()
    loss.backward()
    return [grad, div, h, w1.grad, w2.grad, b2.grad is None, x.grad]


def test_siren_gradient_laplace_hessian_match_pytorch(torch):
    d = _inputs()
    assert_same(siren_derivatives(gg, d), siren_derivatives(torch, d), rtol=1e-11, atol=1e-12)


def hash_grid(torch, d):
    """HashNeRF's utils.hash / get_voxel_vertices / trilinear_interp and SHEncoder (degree 3)."""
    box_min, box_max = torch.tensor([-1.0, -1.0, -1.0]), torch.tensor([1.0, 1.0, 1.0])
    box_min, box_max = box_min.double(), box_max.double()
    resolution = torch.floor(torch.tensor(4) * torch.tensor(1.26, dtype=torch.float64) ** 3)
    xyz = torch.tensor(d["xyz"], requires_grad=True)
    offsets = torch.tensor([[[i, j, k] for i in [0, 1] for j in [0, 1] for k in [0, 1]]])
    grid_size = (box_max - box_min) / resolution
    bottom_left = torch.floor((xyz - box_min) / grid_size).int()
    vmin = bottom_left * grid_size + box_min
    vmax = vmin + torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64) * grid_size
    coords = bottom_left.unsqueeze(1) + offsets
    primes = [1, 2654435761, 805459861]
    xor = torch.zeros_like(coords)[..., 0]
    for i in range(coords.shape[-1]):
        xor ^= coords[..., i] * primes[i]
    hashed = torch.tensor((1 << 6) - 1) & xor
    emb = torch.nn.Embedding(64, 2).double()
    with torch.no_grad():
        emb.weight.copy_(torch.tensor(d["table"]))
    e = emb(hashed)
    w = (xyz - vmin) / (vmax - vmin)
    c00 = e[:, 0] * (1 - w[:, 0][:, None]) + e[:, 4] * w[:, 0][:, None]
    c01 = e[:, 1] * (1 - w[:, 0][:, None]) + e[:, 5] * w[:, 0][:, None]
    c10 = e[:, 2] * (1 - w[:, 0][:, None]) + e[:, 6] * w[:, 0][:, None]
    c11 = e[:, 3] * (1 - w[:, 0][:, None]) + e[:, 7] * w[:, 0][:, None]
    c0 = c00 * (1 - w[:, 1][:, None]) + c10 * w[:, 1][:, None]
    c1 = c01 * (1 - w[:, 1][:, None]) + c11 * w[:, 1][:, None]
    c = c0 * (1 - w[:, 2][:, None]) + c1 * w[:, 2][:, None]
    sh = torch.empty((*xyz.shape[:-1], 9), dtype=xyz.dtype)
    x, y, z = xyz.unbind(-1)
    sh[..., 0] = 0.28209479177387814
    sh[..., 1], sh[..., 2], sh[..., 3] = -0.48860251 * y, 0.48860251 * z, -0.48860251 * x
    sh[..., 4], sh[..., 5] = 1.0925484305920792 * x * y, -1.0925484305920792 * y * z
    sh[..., 6] = 0.31539156525252005 * (2.0 * z * z - x * x - y * y)
    sh[..., 7], sh[..., 8] = -1.0925484305920792 * x * z, 0.5462742152960396 * (x * x - y * y)
    keep = xyz == torch.max(torch.min(xyz, box_max), box_min)
    ((c**2).sum() + (sh**2).sum()).backward()
    return [bottom_left, coords, xor, hashed, c, sh, keep.sum(dim=-1) == 3, xyz.grad, emb.weight.grad]


def test_hash_grid_encoding_matches_pytorch(torch):
    d = _inputs()
    assert_same(hash_grid(gg, d), hash_grid(torch, d), rtol=1e-11, atol=1e-13)


def test_hash_bbox_and_tv_loss_tensor_bounds_match_pytorch(torch):
    """get_bbox3d_for_blenderobj: ``torch.tensor`` of a list of ints and 0-d tensors; the TV loss:
    ``randint(0, tensor, (3,))``, ``arange(0-d int tensor + 1)``, ``clip(...).int()``."""

    def run(lib):
        pt = lib.tensor([0.5, -2.0, 3.25])
        bound = [100, pt[1], pt[2]]
        bbox = lib.tensor(bound) - lib.tensor([1.0, 1.0, 1.0])
        resolution = lib.tensor(20)
        cube = lib.floor(lib.clip(resolution / 10.0, 15, 50)).int()
        low = lib.randint(0, resolution - cube, (3,))
        idx = lib.stack([lib.arange(cube + 1) for _ in range(3)], dim=-1)
        return [bbox, cube, low.dtype, tuple(low.shape), bool((low >= 0).all() and (low < 5).all()), idx]

    assert_same(run(gg), run(torch))


def test_deprecated_number_first_overloads_warn_once_per_process():
    """RAdam's ``exp_avg_sq.mul_(b2).addcmul_(1 - b2, g, g)`` then ``exp_avg.mul_(b1).add_(1 - b1, g)``:
    PyTorch (TORCH_WARN_ONCE in its argument parser) prints one warning for the whole process,
    whichever deprecated overload comes first; glassgrad printed one per op."""
    composite._number_first_warned[0] = False
    g = gg.ones(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            gg.zeros(3).addcmul_(0.5, g, g)
            gg.zeros(3).add_(0.5, g)
            gg.addcdiv(g, 0.5, g, g)
            g.sub(2, g)
    # the op called, as PyTorch names it (addcmul_, not addcmul)
    assert [str(w.message).split(" is deprecated")[0] for w in caught] == ["This overload of addcmul_"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = gg.zeros(3).add_(0.5, g)  # still computed, silently
    np.testing.assert_array_equal(got.numpy(), [0.5, 0.5, 0.5])


def test_radam_legacy_step_matches_pytorch(torch):
    """radam.py's update on ``p.data.float()`` with the deprecated overloads, in float32."""

    def run(lib):
        p = lib.nn.Parameter(lib.tensor([0.5, -1.0, 2.0]))
        exp_avg, exp_avg_sq = lib.zeros(3), lib.zeros(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            for step in range(1, 4):
                grad = (p.data * step).float()
                exp_avg_sq.mul_(0.99).addcmul_(1 - 0.99, grad, grad)
                exp_avg.mul_(0.9).add_(1 - 0.9, grad)
                p_fp32 = p.data.float()
                p_fp32.add_(-1e-6 * 0.01, p_fp32)
                p_fp32.addcdiv_(-0.1, exp_avg, exp_avg_sq.sqrt().add_(1e-15))
                p.data.copy_(p_fp32)
        return [p, exp_avg, exp_avg_sq]

    assert_same(run(gg), run(torch), rtol=1e-6, atol=1e-7)
