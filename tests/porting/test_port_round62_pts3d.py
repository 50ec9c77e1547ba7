"""Round 62, 3-D and point clouds: nerfstudio-project/gsplat (90d7b4b3, the pure-PyTorch reference
rasterizer and the densification strategy), yanx27/Pointnet_Pointnet2_pytorch (eb64fe0),
WangYueFt/dgcnn (f765b46) and POSTECH-CVLab/point-transformer (10d43ab).

gsplat's ``cuda/_wrapper.py`` asks ``torch._C._dispatch_find_schema_or_throw`` at import whether its
compiled operators are registered before attaching their autograd, so every pure-PyTorch path of
gsplat failed to import; glassgrad now answers as PyTorch does. The other tests are fresh programs
of the patterns these models are built from, pinned against PyTorch in float64: 3DGS projection
with its Jacobian and the 2DGS in-place normal flip on a view, masked row writes of a rotation to
quaternion conversion, PointNet++'s farthest point sampling and ball query, DGCNN's EdgeConv
features from a ``topk`` kNN graph, Point Transformer's vector attention over grouped neighbours,
and gsplat's swap of a parameter inside its Adam state during densification.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(62)


def _libs(torch):
    return [("glassgrad", gg), ("torch", torch)]


def _np(t):
    return t.detach().numpy()


def _both(torch, program, *arrays):
    """Run ``program(lib, *leaves)`` in both libraries on float64 leaves made from ``arrays``; the
    outputs, and the gradients of a fixed random projection of the first output, must agree."""
    got = {}
    for name, lib in _libs(torch):
        leaves = [lib.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        outs = program(lib, *leaves)
        outs = outs if isinstance(outs, tuple) else (outs,)
        w = np.random.default_rng(0).standard_normal(tuple(outs[0].shape))
        (outs[0] * lib.tensor(w)).sum().backward()
        got[name] = ([_np(o) for o in outs], [_np(x.grad) for x in leaves if x.requires_grad])
    for a, b in zip(got["glassgrad"][0] + got["glassgrad"][1], got["torch"][0] + got["torch"][1]):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ---- torch._C._dispatch_find_schema_or_throw: gsplat's import-time probe -------------------------


def test_find_schema_of_a_missing_operator_raises_as_torch(torch):
    for qualname, overload in (("gsplat::spherical_harmonics_fwd", ""), ("pts3d_r62::none", "out")):
        errors = []
        for _, lib in _libs(torch):
            with pytest.raises(RuntimeError) as info:
                lib._C._dispatch_find_schema_or_throw(qualname, overload)
            errors.append((type(info.value), str(info.value)))
        assert errors[0][1] == errors[1][1] == f"Could not find schema for {qualname}.{overload}"
        assert issubclass(errors[0][0], RuntimeError)


def _has_schema(lib, op_name):
    # gsplat's cuda/_wrapper.py, verbatim in substance
    try:
        lib._C._dispatch_find_schema_or_throw(f"gsplat::{op_name}", "")
    except RuntimeError:
        return False
    return True


def test_gsplat_has_schema_probe_without_its_extension(torch):
    for _, lib in _libs(torch):
        assert _has_schema(lib, "rasterize_to_pixels_3dgs_fwd") is False


def test_find_schema_of_defined_operators_as_torch(torch):
    found = {}
    for name, lib in _libs(torch):
        ns = f"pts3d_r62_{name}"
        lib.library.define(f"{ns}::plain", "(Tensor x) -> Tensor")
        lib.library.define(f"{ns}::plain.scaled", "(Tensor x, float s) -> Tensor")

        # an explicit schema: this module's annotations are strings naming a local
        @lib.library.custom_op(f"{ns}::made", mutates_args=(), schema="(Tensor x) -> Tensor")
        def made(x):
            return x.clone()

        def probe(q, o):
            try:
                return lib._C._dispatch_find_schema_or_throw(q, o) is not None
            except RuntimeError as e:
                return str(e).replace(ns, "NS")

        found[name] = [
            probe(f"{ns}::plain", ""),
            probe(f"{ns}::plain", "scaled"),
            probe(f"{ns}::plain", "default"),  # the unnamed overload is not called "default" here
            probe(f"{ns}::plain", "other"),
            probe(f"{ns}::made", ""),
            probe(f"{ns}::made", "default"),
        ]
    assert found["glassgrad"] == found["torch"]
    assert found["torch"][:2] == [True, True] and found["torch"][4] is True


def test_find_schema_refuses_non_string_arguments():
    with pytest.raises(TypeError, match="incompatible function arguments"):
        gg._C._dispatch_find_schema_or_throw(3, "")
    with pytest.raises(TypeError, match="incompatible function arguments"):
        gg._C._dispatch_find_schema_or_throw("gsplat::x", None)


# ---- gsplat: 3DGS perspective projection (EWA Jacobian) and the 2DGS normal flip -----------------


def _persp(lib, means, covars, Ks):
    # gsplat's _persp_proj for one camera: means (N, 3) in camera space, covars (N, 3, 3)
    tx, ty, tz = lib.unbind(means, dim=-1)
    fx, fy, cx, cy = Ks[0, 0], Ks[1, 1], Ks[0, 2], Ks[1, 2]
    width, height = 16, 12
    tan_x, tan_y = 0.5 * width / fx, 0.5 * height / fy
    tx = tz * lib.clamp(tx / tz, min=-(cx / fx + 0.3 * tan_x), max=(width - cx) / fx + 0.3 * tan_x)
    ty = tz * lib.clamp(ty / tz, min=-(cy / fy + 0.3 * tan_y), max=(height - cy) / fy + 0.3 * tan_y)
    zero = lib.zeros(tz.shape, dtype=means.dtype)
    J = lib.stack([fx / tz, zero, -fx * tx / tz**2, zero, fy / tz, -fy * ty / tz**2], -1).reshape(-1, 2, 3)
    cov2d = lib.einsum("...ij,...jk,...kl->...il", J, covars, J.transpose(-1, -2))
    cov2d = cov2d + lib.eye(2, dtype=means.dtype) * 0.3
    det = (cov2d[..., 0, 0] * cov2d[..., 1, 1] - cov2d[..., 0, 1] * cov2d[..., 1, 0]).clamp(min=1e-10)
    conics = lib.stack([cov2d[..., 1, 1] / det, -(cov2d[..., 0, 1] + cov2d[..., 1, 0]) / 2.0 / det], -1)
    means2d = lib.einsum("ij,nj->ni", Ks[:2, :3], means) / tz[..., None]
    radius = lib.ceil(3.33 * lib.sqrt(cov2d[..., 0, 0]))
    return lib.cat([conics, means2d], -1), radius.int()


def test_gsplat_perspective_projection_as_torch(torch):
    means = _R.standard_normal((6, 3)) + [0, 0, 4]
    A = _R.standard_normal((6, 3, 3)) * 0.2
    Ks = np.array([[12.0, 0, 8], [0, 11.0, 6], [0, 0, 1]])
    _both(torch, _persp, means, A @ A.transpose(0, 2, 1), Ks)


def _flip_normals(lib, RS, means_c):
    # gsplat's 2DGS projection: the normal is a view of RS, flipped in place toward the camera,
    # and RS's first two columns are read after the flip
    normals = RS[..., 2]
    cos = -normals.reshape((-1, 1, 3)) @ means_c.reshape((-1, 3, 1))
    multiplier = lib.where(cos.reshape(-1, 1) > 0, lib.tensor(1.0), lib.tensor(-1.0))
    normals *= multiplier
    T = lib.cat([RS[..., :2], means_c[..., None]], dim=-1)
    return T, normals


def test_gsplat_2dgs_in_place_normal_flip_on_a_view_as_torch(torch):
    def program(lib, R, scales, means_c):
        RS = lib.einsum("nij,nj->nij", R, scales)  # a fresh (non-leaf) tensor, as gsplat's einsum
        return _flip_normals(lib, RS, means_c)

    _both(
        torch, program, _R.standard_normal((5, 3, 3)), _R.uniform(0.1, 1, (5, 3)), _R.standard_normal((5, 3))
    )


def _rotmat_to_quat(lib, R):
    # gsplat's _rotmat_to_quat, two of its four branches: rows written through boolean masks
    w2 = R[:, 0, 0] + R[:, 1, 1] + R[:, 2, 2]
    x2 = R[:, 0, 0] - R[:, 1, 1] - R[:, 2, 2]
    big = lib.argmax(lib.stack([w2, x2], 1), dim=1)
    val = lib.sqrt(lib.stack([w2, x2], 1).gather(1, big.unsqueeze(1)).squeeze(1) + 1.0) * 0.5
    mult = 0.25 / val
    quat = lib.zeros((R.shape[0], 4), dtype=R.dtype)
    m = big == 0
    quat[m, 0] = val[m]
    quat[m, 1] = (R[m, 2, 1] - R[m, 1, 2]) * mult[m]
    quat[m, 3] = (R[m, 1, 0] - R[m, 0, 1]) * mult[m]
    m = big == 1
    quat[m, 0] = (R[m, 2, 1] - R[m, 1, 2]) * mult[m]
    quat[m, 1] = val[m]
    quat[m, 2] = (R[m, 1, 0] + R[m, 0, 1]) * mult[m]
    return quat


def test_gsplat_rotmat_to_quat_masked_row_writes_as_torch(torch):
    R = np.stack([np.linalg.qr(_R.standard_normal((3, 3)))[0] for _ in range(8)])
    R[:, :, 0] *= np.sign(np.linalg.det(R))[:, None]
    R[0] = np.diag([1.0, -1.0, -1.0])  # x biggest
    _both(torch, _rotmat_to_quat, R)


# ---- PointNet++: farthest point sampling and ball query ------------------------------------------


def _fps_ball(lib, xyz, start):
    B, N, _ = xyz.shape
    cent = lib.zeros(B, 6, dtype=lib.long)
    distance = lib.ones(B, N) * 1e10  # float32, as the program's buffer, written from float64
    distance = distance.to(xyz.dtype) if xyz.dtype == lib.float32 else distance
    far, rows = start, lib.arange(B)
    for i in range(6):
        cent[:, i] = far
        dist = lib.sum((xyz - xyz[rows, far, :].view(B, 1, 3)) ** 2, -1).to(distance.dtype)
        mask = dist < distance
        distance[mask] = dist[mask]
        far = lib.max(distance, -1)[1]
    new = xyz[rows.view(B, 1).repeat(1, 6), cent, :]
    sq = -2 * lib.matmul(new, xyz.permute(0, 2, 1))
    sq += lib.sum(new**2, -1).view(B, 6, 1)
    sq += lib.sum(xyz**2, -1).view(B, 1, N)
    group = lib.arange(N).view(1, 1, N).repeat([B, 6, 1])
    group[sq > 0.6**2] = N
    group = group.sort(dim=-1)[0][:, :, :4]
    first = group[:, :, 0].view(B, 6, 1).repeat([1, 1, 4])
    group[group == N] = first[group == N]
    return cent, group


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pointnet2_fps_and_ball_query_as_torch(torch, dtype):
    xyz = _R.uniform(-1, 1, (2, 40, 3)).astype(dtype)
    got = []
    for _, lib in _libs(torch):
        cent, group = _fps_ball(lib, lib.tensor(xyz), lib.tensor([3, 17]))
        got.append((_np(cent), _np(group), str(group.dtype).split(".")[-1]))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    assert got[0][2] == got[1][2] == "int64"


# ---- DGCNN: EdgeConv features from a topk kNN graph ----------------------------------------------


def _edge_features(lib, x, k=4):
    B, C, N = x.shape
    inner = -2 * lib.matmul(x.transpose(2, 1), x)
    xx = lib.sum(x**2, dim=1, keepdim=True)
    idx = (-xx - inner - xx.transpose(2, 1)).topk(k=k, dim=-1)[1]
    idx = (idx + lib.arange(0, B).view(-1, 1, 1) * N).view(-1)
    x = x.transpose(2, 1).contiguous()
    feature = x.view(B * N, -1)[idx, :].view(B, N, k, C)
    x = x.view(B, N, 1, C).repeat(1, 1, k, 1)
    feature = lib.cat((feature - x, x), dim=3).permute(0, 3, 1, 2).contiguous()
    return lib.nn.functional.leaky_relu(feature, 0.2).max(dim=-1, keepdim=False)[0], idx


def test_dgcnn_edgeconv_features_as_torch(torch):
    _both(torch, _edge_features, _R.standard_normal((2, 5, 12)))


# ---- Point Transformer: vector attention over grouped neighbours --------------------------------


def _vector_attention(lib, p, xk, xq, xv, wp, idx):
    # PointTransformerLayer with the grouping of pointops.queryandgroup: relative positions come
    # from an in-place subtraction on the indexed copy; share_planes=2 over 4 channels
    m, ns = idx.shape
    grouped = p[idx.view(-1), :].view(m, ns, 3)
    grouped -= p.unsqueeze(1)
    p_r = grouped @ wp  # (m, ns, 4)
    w = (xk[idx.view(-1), :].view(m, ns, 4) - xq.unsqueeze(1) + p_r).softmax(dim=1)
    v = xv[idx.view(-1), :].view(m, ns, 4)
    out = ((v + p_r).view(m, ns, 2, 2) * w[:, :, :2].unsqueeze(2)).sum(1).view(m, 4)
    return out


def test_point_transformer_vector_attention_as_torch(torch):
    n = 9
    idx = np.argsort(((_R.uniform(size=(n, 1, 3)) - _R.uniform(size=(1, n, 3))) ** 2).sum(-1), 1)[:, :5]
    _both(
        torch,
        _vector_attention,
        _R.standard_normal((n, 3)),
        *(_R.standard_normal((n, 4)) for _ in range(3)),
        _R.standard_normal((3, 4)),
        idx.astype(np.int64),
    )


# ---- gsplat strategy: a parameter replaced inside its optimizer's state --------------------------


def _densify_run(lib):
    # gsplat's _update_param_with_optimizer via duplicate(): the new Parameter takes the old one's
    # Adam state (moments grown with zeros, step kept) and its place in the param group
    p = lib.nn.Parameter(lib.tensor(np.linspace(-1.0, 1.0, 12).reshape(6, 2)))
    opt = lib.optim.Adam([p], lr=0.1, eps=1e-15)
    for _ in range(2):
        opt.zero_grad()
        ((p**3).sum() + p[:, 0].exp().sum()).backward()
        opt.step()
    with lib.no_grad():
        sel = lib.where(p[:, 0] > 0)[0]
        new = lib.nn.Parameter(lib.cat([p, p[sel]]))
        state = opt.state[p]
        del opt.state[p]
        for key in list(state.keys()):
            if key != "step":
                v = state[key]
                state[key] = lib.cat([v, lib.zeros((len(sel), *v.shape[1:]), dtype=v.dtype)])
        opt.param_groups[0]["params"] = [new]
        opt.state[new] = state
    for _ in range(2):
        opt.zero_grad()
        ((new**3).sum() + new[:, 1].sin().sum()).backward()
        opt.step()
    s = opt.state[new]
    return _np(new), _np(s["exp_avg"]), _np(s["exp_avg_sq"]), float(s["step"])


def test_gsplat_parameter_swap_in_adam_state_as_torch(torch):
    a, b = _densify_run(gg), _densify_run(torch)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15)
    assert a[3] == b[3] == 4.0
