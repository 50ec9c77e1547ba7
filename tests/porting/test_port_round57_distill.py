"""Round 57, group distill: RepDistiller's distillation losses (KD ... CRD) with its CIFAR models and
train loop, and pytorch_tabnet's fit/predict/explain/save-load, ran with only their imports
changed and matched PyTorch in float64 (to rounding, or to the chaotic growth of rounding that
PyTorch shows against itself); no defect was found. These tests keep the programs' less common
patterns under PyTorch parity in float64:

- TabNet's sparsemax / entmax-1.5 ``autograd.Function``s: an in-place ``input -= max`` on the
  Function's input, sort / cumsum / gather thresholds, ``grad_input[output == 0] = 0`` in backward.
- Ghost batch norm: ``chunk`` (uneven pieces) through one ``BatchNorm1d``, then ``cat``.
- TabNet's unsupervised loss: boolean-mask assignment from another tensor, ``std ** 2``.
- CRD's contrast memory: a graph value written into a buffer element (the buffer then requires
  grad), ``index_select``/``bmm`` scores, ``index_copy_`` memory update under ``no_grad``, and the
  NCE loss through ``select``/``narrow``/``clone().fill_``/``log_``.
- RKD's ``res[range(n), range(n)] = 0`` and masked mean; PKT's ``x[x != x] = 0``; KD's
  ``kl_div(size_average=False)``.
Expected values come from PyTorch 2.13's CPU build.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _sparsemax_fn(lib):
    class Sparsemax(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, dim=-1):
            ctx.dim = dim
            max_val, _ = input.max(dim=dim, keepdim=True)
            input -= max_val
            srt, _ = lib.sort(input, descending=True, dim=dim)
            cumsum = srt.cumsum(dim) - 1
            shape = [1] * input.dim()
            shape[0] = -1
            rho = lib.arange(1, input.size(dim) + 1, dtype=input.dtype).view(shape).transpose(0, dim)
            support = (rho * srt > cumsum).sum(dim=dim).unsqueeze(dim)
            tau = cumsum.gather(dim, support - 1)
            tau /= support.to(input.dtype)
            output = lib.clamp(input - tau, min=0)
            ctx.save_for_backward(support, output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            support, output = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[output == 0] = 0
            v_hat = grad_input.sum(dim=ctx.dim) / support.to(output.dtype).squeeze()
            grad_input = lib.where(output != 0, grad_input - v_hat.unsqueeze(ctx.dim), grad_input)
            return grad_input, None

    return Sparsemax.apply


def _entmax15_fn(lib):
    class Entmax15(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, dim=-1):
            ctx.dim = dim
            max_val, _ = input.max(dim=dim, keepdim=True)
            input = (input - max_val) / 2
            srt, _ = lib.sort(input, descending=True, dim=dim)
            shape = [1] * input.dim()
            shape[0] = -1
            rho = lib.arange(1, input.size(dim) + 1, dtype=input.dtype).view(shape).transpose(0, dim)
            mean = srt.cumsum(dim) / rho
            mean_sq = (srt**2).cumsum(dim) / rho
            delta = (1 - rho * (mean_sq - mean**2)) / rho
            tau = mean - lib.sqrt(lib.clamp(delta, 0))
            support = (tau <= srt).sum(dim).unsqueeze(dim)
            output = lib.clamp(input - tau.gather(dim, support - 1), min=0) ** 2
            ctx.save_for_backward(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            (y,) = ctx.saved_tensors
            gppr = y.sqrt()
            dx = grad_output * gppr
            q = (dx.sum(ctx.dim) / gppr.sum(ctx.dim)).unsqueeze(ctx.dim)
            dx -= q * gppr
            return dx, None

    return Entmax15.apply


@pytest.mark.parametrize("which", ["sparsemax", "entmax15"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_tabnet_sparse_attention_functions_match_pytorch(torch, which, dim):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((5, 7)) * 2
    x0[1, :3] = 0.5  # ties in the sorted row
    w0 = rng.standard_normal((5, 7))
    make = _sparsemax_fn if which == "sparsemax" else _entmax15_fn
    outs = []
    for lib in (torch, gg):
        x = lib.tensor(x0, requires_grad=True)
        y = make(lib)(x * 1.0, dim)
        (y * lib.tensor(w0)).sum().backward()
        outs.append((y.detach().numpy(), x.grad.numpy()))
    (want_y, want_g), (got_y, got_g) = outs
    np.testing.assert_allclose(got_y, want_y, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got_y.sum(axis=dim), 1.0, rtol=1e-12)


def _ghost_bn(lib, bn, x, virtual_batch_size):
    chunks = x.chunk(int(np.ceil(x.shape[0] / virtual_batch_size)), 0)
    return lib.cat([bn(c) for c in chunks], dim=0)


def test_ghost_batch_norm_uneven_chunks_matches_pytorch(torch):
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal((37, 4))
    w0 = rng.standard_normal((37, 4))
    outs = []
    for lib in (torch, gg):
        bn = lib.nn.BatchNorm1d(4, momentum=0.02).double()
        x = lib.tensor(x0, requires_grad=True)
        y = _ghost_bn(lib, bn, x, 16)
        (y * lib.tensor(w0)).sum().backward()
        outs.append([y.detach().numpy(), x.grad.numpy(), bn.weight.grad.numpy(), bn.running_mean.numpy()])
        outs[-1].append(bn.running_var.numpy())
    for got, want in zip(outs[1], outs[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def _unsupervised_loss(lib, y_pred, embedded_x, obf_vars, eps=1e-9):
    errors = y_pred - embedded_x
    reconstruction_errors = lib.mul(errors, obf_vars) ** 2
    batch_means = lib.mean(embedded_x, dim=0)
    batch_means[batch_means == 0] = 1
    batch_stds = lib.std(embedded_x, dim=0) ** 2
    batch_stds[batch_stds == 0] = batch_means[batch_stds == 0]
    features_loss = lib.matmul(reconstruction_errors, 1 / batch_stds)
    features_loss = features_loss / (lib.sum(obf_vars, dim=1) + eps)
    return lib.mean(features_loss)


def test_tabnet_unsupervised_loss_with_constant_columns_matches_pytorch(torch):
    rng = np.random.default_rng(2)
    emb = rng.standard_normal((6, 4))
    emb[:, 1] = 3.0  # std 0: the mean takes its place
    emb[:, 2] = 0.0  # mean 0 and std 0: 1
    pred = rng.standard_normal((6, 4))
    obf = (rng.random((6, 4)) < 0.5).astype(np.float64)
    outs = []
    for lib in (torch, gg):
        p, e = lib.tensor(pred, requires_grad=True), lib.tensor(emb, requires_grad=True)
        loss = _unsupervised_loss(lib, p, e, lib.tensor(obf))
        loss.backward()
        outs.append((loss.item(), p.grad.numpy(), e.grad.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-13)
    for got, want in zip(outs[1][1:], outs[0][1:]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def _crd_step(lib, memory, params, v1, v2, y, idx, n_data):
    """One ContrastMemory forward plus the NCE loss of one side (CRD)."""
    k, t, momentum = int(params[0].item()), params[1].item(), params[4].item()
    bsz, dim = v1.shape
    weight = lib.index_select(memory, 0, idx.view(-1)).detach().view(bsz, k + 1, dim)
    out = lib.exp(lib.div(lib.bmm(weight, v1.view(bsz, dim, 1)), t))
    if params[2].item() < 0:
        params[2] = out.mean() * n_data
    z = params[2].clone().detach().item()
    out = lib.div(out, z).contiguous()
    with lib.no_grad():
        pos = lib.index_select(memory, 0, y.view(-1))
        pos.mul_(momentum)
        pos.add_(lib.mul(v1, 1 - momentum))
        memory.index_copy_(0, y, pos.div(pos.pow(2).sum(1, keepdim=True).pow(0.5)))
    m, pn = out.size(1) - 1, 1 / float(n_data)
    p_pos = out.select(1, 0)
    log_d1 = lib.div(p_pos, p_pos.add(m * pn + 1e-7)).log_()
    p_neg = out.narrow(1, 1, m)
    log_d0 = lib.div(p_neg.clone().fill_(m * pn), p_neg.add(m * pn + 1e-7)).log_()
    return -(log_d1.sum(0) + log_d0.view(-1, 1).sum(0)) / bsz


def test_crd_contrast_memory_and_nce_loss_match_pytorch(torch):
    rng = np.random.default_rng(3)
    n_data, k, dim, bsz = 10, 4, 5, 3
    mem0 = rng.uniform(-0.4, 0.4, (n_data, dim))
    v0 = rng.standard_normal((bsz, dim))
    idx0 = rng.integers(0, n_data, (bsz, k + 1))
    y0 = np.array([2, 7, 4])
    idx0[:, 0] = y0
    outs = []
    for lib in (torch, gg):
        memory = lib.tensor(mem0)
        params = lib.tensor([float(k), 0.07, -1.0, -1.0, 0.5], dtype=lib.float64)
        v = lib.tensor(v0, requires_grad=True)
        v1 = v / v.norm(dim=1, keepdim=True)
        loss = _crd_step(lib, memory, params, v1, None, lib.tensor(y0), lib.tensor(idx0), n_data)
        # the graph value written into the buffer makes the whole buffer require grad
        flags = (params.requires_grad, type(params.grad_fn).__name__, tuple(loss.shape))
        loss.backward()
        outs.append((flags, loss.item(), v.grad.numpy(), memory.numpy(), params.detach().numpy()))
    assert outs[1][0] == outs[0][0] == (True, "CopySlices", (1,))
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-13)
    for got, want in zip(outs[1][2:], outs[0][2:]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def _rkd_pkt_kd(lib, s, t, temperature=4.0):
    f = lib.nn.functional

    def pdist(e, eps=1e-12):
        sq = e.pow(2).sum(dim=1)
        res = (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * e @ e.t()).clamp(min=eps).sqrt().clone()
        res[range(len(e)), range(len(e))] = 0
        return res

    with lib.no_grad():
        t_d = pdist(t)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(s)
    d = d / d[d > 0].mean()
    sd = f.normalize(s.unsqueeze(0) - s.unsqueeze(1), p=2, dim=2)
    td = f.normalize(t.unsqueeze(0) - t.unsqueeze(1), p=2, dim=2)
    s_angle = lib.bmm(sd, sd.transpose(1, 2)).view(-1)
    t_angle = lib.bmm(td, td.transpose(1, 2)).view(-1)
    rkd = 25 * f.smooth_l1_loss(d, t_d) + 50 * f.smooth_l1_loss(s_angle, t_angle)

    def unit(x):
        x = x / (lib.sqrt(lib.sum(x**2, dim=1, keepdim=True)) + 1e-7)
        x[x != x] = 0
        sim = (lib.mm(x, x.transpose(0, 1)) + 1.0) / 2.0
        return sim / lib.sum(sim, dim=1, keepdim=True)

    ms, ts = unit(s), unit(t)
    pkt = lib.mean(ts * lib.log((ts + 1e-7) / (ms + 1e-7)))
    p_s = f.log_softmax(s / temperature, dim=1)
    p_t = f.softmax(t / temperature, dim=1)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        kd = f.kl_div(p_s, p_t, size_average=False) * temperature**2 / s.shape[0]
    return rkd, pkt, kd


def test_rkd_pkt_kd_losses_match_pytorch(torch):
    rng = np.random.default_rng(4)
    s0, t0 = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    outs = []
    for lib in (torch, gg):
        s, t = lib.tensor(s0, requires_grad=True), lib.tensor(t0)
        losses = _rkd_pkt_kd(lib, s, t)
        row = [x.item() for x in losses]
        for loss in losses:
            s.grad = None
            loss.backward(retain_graph=True)
            row.append(s.grad.numpy().copy())
        outs.append(row)
    for got, want in zip(outs[1], outs[0]):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-15)


def test_ghost_batch_norm_one_row_chunk_raises_like_pytorch(torch):
    for lib in (torch, gg):
        bn = lib.nn.BatchNorm1d(3)
        with pytest.raises(ValueError, match="(?i)expected more than 1 value per channel when training"):
            _ghost_bn(lib, bn, lib.ones(3, 3), 1)  # virtual batches of one row
