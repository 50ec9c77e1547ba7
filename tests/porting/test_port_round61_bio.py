"""Round 61, biology: facebookresearch/esm (2b36991) and aqlaboratory/openfold (ce0029e).

ESM-2 (rotary attention, contact head, masked-LM steps), ESM-1/ESM-1b, the MSA Transformer's axial
attention, ESMFold's folding trunk, and OpenFold's whole AlphaFold (monomer and multimer, templates,
extra MSA, recycling, the full training loss) ran unchanged on glassgrad and agreed with PyTorch in
float64. The tests below are fresh programs of the patterns those models are built from, pinned
against PyTorch: rotary attention with a float32 softmax inside a float64 model, ESM's contact head,
OpenFold's attention (in-place scaling of a transposed view, biases added in place), quaternion
frames and FAPE with float32-forced rotations, the distogram's mixed-dtype binning, chunked in-place
updates, half-precision transformer layers, reentrant checkpointing of inputs that need no
gradient, and an ``_LRScheduler`` subclass as OpenFold writes it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(61)


def _libs(torch):
    return [("glassgrad", gg), ("torch", torch)]


def _np(t):
    return t.detach().numpy()


# ---- ESM-2: rotary self-attention with key padding, softmax in float32 inside a float64 model ---

_T, _B, _H, _D = 5, 2, 2, 4
_QKV = _R.standard_normal((3, _B * _H, _T, _D))
_PAD = np.array([[0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], dtype=bool)


def _rotary_attention(lib):
    q, k, v = (lib.tensor(a, requires_grad=True) for a in _QKV)
    inv_freq = 1.0 / (10000 ** (lib.arange(0, _D, 2).float() / _D))
    t = lib.arange(_T).type_as(inv_freq)
    freqs = lib.einsum("i,j->ij", t, inv_freq)
    emb = lib.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None], emb.sin()[None]

    def rotate_half(x):
        x1, x2 = x.chunk(2, dim=-1)
        return lib.cat((-x2, x1), dim=-1)

    qr = q * cos + rotate_half(q) * sin
    kr = k * cos + rotate_half(k) * sin
    w = lib.bmm(qr, kr.transpose(1, 2)).view(_B, _H, _T, _T)
    w = w.masked_fill(lib.tensor(_PAD).unsqueeze(1).unsqueeze(2), float("-inf"))
    w = w.view(_B * _H, _T, _T)
    probs32 = lib.nn.functional.softmax(w, dim=-1, dtype=lib.float32)
    out = lib.bmm(probs32.type_as(w), v)
    (out * lib.tensor(_QKV[0])).sum().backward()
    return probs32, out, (q.grad, k.grad, v.grad)


def test_rotary_attention_with_float32_softmax_matches_torch(torch):
    (p_g, o_g, g_g), (p_t, o_t, g_t) = (_rotary_attention(lib) for _, lib in _libs(torch))
    assert str(p_g.dtype).split(".")[-1] == str(p_t.dtype).split(".")[-1] == "float32"
    assert str(o_g.dtype).split(".")[-1] == "float64"
    # to float32 rounding: the probabilities within an ulp, what is built from them within a few
    np.testing.assert_allclose(_np(p_g), _np(p_t), rtol=2.4e-7, atol=6e-8)
    # the softmax's backward runs in float32 too (summed in another order): a few float32 ulps
    for a, b in zip((o_g, *g_g), (o_t, *g_t)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=0, atol=2e-6 * np.abs(_np(b)).max())


# ---- ESM's contact head: symmetrize, average product correction, logistic regression ----------

_ATT = _R.random((2, 6, 7, 7))
_WREG = _R.standard_normal((1, 6))


def _contacts(lib):
    att = lib.tensor(_ATT, requires_grad=True)
    reg = lib.nn.Linear(6, 1).double()
    with lib.no_grad():
        reg.weight.copy_(lib.tensor(_WREG))
        reg.bias.fill_(0.25)
    x = att + att.transpose(-1, -2)
    a1 = x.sum(-1, keepdims=True)
    a2 = x.sum(-2, keepdims=True)
    a12 = x.sum((-1, -2), keepdims=True)
    x = x - a1 * a2 / a12
    out = lib.sigmoid(reg(x.permute(0, 2, 3, 1)).squeeze(3))
    out.square().sum().backward()
    return out, att.grad, reg.weight.grad


def test_contact_head_apc_matches_torch(torch):
    got, want = _contacts(gg), _contacts(torch)
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-14)


# ---- OpenFold's Attention: q /= sqrt(c) on a transposed view, biases added in place ------------

_QX = _R.standard_normal((2, 5, 8))
_B1 = _R.standard_normal((2, 1, 1, 5))
_B2 = _R.standard_normal((1, 2, 5, 5))
_WQ, _WK, _WV, _WG = (_R.standard_normal((8, 8)) * 0.3 for _ in range(4))


def _openfold_attention(lib):
    qx = lib.tensor(_QX, requires_grad=True)
    b2 = lib.tensor(_B2, requires_grad=True)
    wq, wk, wv, wg = (lib.tensor(w, requires_grad=True) for w in (_WQ, _WK, _WV, _WG))
    lin = lib.nn.functional.linear
    q, k, v = (lin(qx, w).view(2, 5, 2, 4).transpose(-2, -3) for w in (wq, wk, wv))
    q /= math.sqrt(4)
    a = lib.matmul(q, k.transpose(-1, -2))
    for b in (lib.tensor(_B1), b2):
        a += b
    a = lib.nn.functional.softmax(a, dim=-1)
    o = lib.matmul(a, v).transpose(-2, -3)
    g = lib.sigmoid(lin(qx, wg)).view(2, 5, 2, 4)
    o = (o * g).reshape(2, 5, 8)
    o.square().sum().backward()
    return o, qx.grad, b2.grad, wq.grad, wk.grad, wv.grad, wg.grad


def test_openfold_attention_inplace_scaling_and_biases_match_torch(torch):
    got, want = _openfold_attention(gg), _openfold_attention(torch)
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-12, atol=1e-13)


# ---- quaternion frames and FAPE, rotations forced to float32 inside a float64 program ----------

_QTR = np.zeros((4, 4, 3, 3))
for (i, j), (r, c), s in [
    ((0, 0), (0, 0), 1), ((1, 1), (0, 0), 1), ((2, 2), (0, 0), -1), ((3, 3), (0, 0), -1),
    ((1, 2), (0, 1), 2), ((0, 3), (0, 1), -2), ((1, 3), (0, 2), 2), ((0, 2), (0, 2), 2),
    ((1, 2), (1, 0), 2), ((0, 3), (1, 0), 2), ((0, 0), (1, 1), 1), ((1, 1), (1, 1), -1),
    ((2, 2), (1, 1), 1), ((3, 3), (1, 1), -1), ((2, 3), (1, 2), 2), ((0, 1), (1, 2), -2),
    ((1, 3), (2, 0), 2), ((0, 2), (2, 0), -2), ((2, 3), (2, 1), 2), ((0, 1), (2, 1), 2),
    ((0, 0), (2, 2), 1), ((1, 1), (2, 2), -1), ((2, 2), (2, 2), -1), ((3, 3), (2, 2), 1),
]:  # fmt: skip
    _QTR[i, j, r, c] = s
_QUAT = _R.standard_normal((6, 4))
_TRANS = _R.standard_normal((6, 3)) * 5
_GT_POS = _R.standard_normal((6, 3)) * 5
_MASK = np.array([1, 1, 1, 1, 1, 0.0])


def _fape(lib, rot_dtype):
    quat = lib.tensor(_QUAT, requires_grad=True)
    trans = lib.tensor(_TRANS, requires_grad=True)
    qn = quat / quat.norm(dim=-1, keepdim=True)
    qq = (qn[..., None] * qn[..., None, :]).to(rot_dtype)
    mat = lib.tensor(_QTR, dtype=rot_dtype).view(1, 4, 4, 3, 3)
    rot = lib.sum(qq[..., None, None] * mat, dim=(-3, -4))
    # invert_apply of every frame to every point: [N_frames, N_pts, 3]
    inv = rot.transpose(-1, -2)
    rel = trans[None, :, :] - trans[:, None, :]
    local = lib.sum(inv[:, None] * rel[..., None, :], dim=-1)
    target = lib.tensor(_GT_POS)
    local_t = target[None] - target[:, None]
    err = lib.sqrt(lib.sum((local - local_t) ** 2, dim=-1) + 1e-4)
    err = lib.clamp(err, min=0, max=10.0) / 10.0
    m = lib.tensor(_MASK)
    err = err * m[..., None] * m[None, :]
    loss = lib.sum(err, dim=-1) / (1e-4 + m.sum())
    loss = lib.sum(loss) / (1e-4 + m.sum())
    loss.backward()
    return rot, local, loss, quat.grad, trans.grad


@pytest.mark.parametrize("rot_dtype", ["float64", "float32"])
def test_quaternion_frames_and_fape_match_torch(torch, rot_dtype):
    got = _fape(gg, getattr(gg, rot_dtype))
    want = _fape(torch, getattr(torch, rot_dtype))
    # float32 rotations promote back to float64 with the float64 translations, as in PyTorch
    assert [str(t.dtype).split(".")[-1] for t in got[:3]] == [rot_dtype, "float64", "float64"]
    assert [str(t.dtype).split(".")[-1] for t in want[:3]] == [rot_dtype, "float64", "float64"]
    tol = 1e-12 if rot_dtype == "float64" else 3e-6
    for a, b in zip(got, want):
        np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol * 1e-2)


# ---- distogram binning: float64 distances against float32 linspace boundaries ----------------

_PB = _R.standard_normal((7, 3)) * 8
_LOGITS = _R.standard_normal((7, 7, 16))


def _distogram(lib):
    logits = lib.tensor(_LOGITS, requires_grad=True)
    pb = lib.tensor(_PB)
    boundaries = lib.linspace(2.3125, 21.6875, 15) ** 2  # float32, the default dtype
    dists = lib.sum((pb[..., None, :] - pb[..., None, :, :]) ** 2, dim=-1, keepdims=True)
    true_bins = lib.sum(dists > boundaries, dim=-1)
    onehot = lib.nn.functional.one_hot(true_bins, 16)
    errors = -lib.sum(onehot * lib.nn.functional.log_softmax(logits, dim=-1), dim=-1)
    loss = errors.mean()
    loss.backward()
    score = errors.detach().clone()  # OpenFold's lddt score: a fill tensor must not require grad
    score[2, 3] = float("nan")
    filled = lib.nan_to_num(score, nan=lib.nanmean(score))
    return true_bins, loss, logits.grad, filled


def test_distogram_mixed_dtype_binning_matches_torch(torch):
    got, want = _distogram(gg), _distogram(torch)
    assert str(got[0].dtype) == "glassgrad.int64" and str(want[0].dtype) == "torch.int64"
    np.testing.assert_array_equal(_np(got[0]), _np(want[0]))
    for a, b in zip(got[1:], want[1:]):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_nan_to_num_fill_values_parse_as_torch(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    x = lib.tensor([1.0, float("nan"), float("inf"), -float("inf")], requires_grad=True)
    out = lib.nan_to_num(x, nan=None, posinf=lib.tensor(5.0), neginf=np.float32(-2))
    np.testing.assert_array_equal(_np(out), [1.0, 0.0, 5.0, -2.0])
    out.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [1.0, 0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="argument 'nan' must be float, not"):
        lib.nan_to_num(x, nan=lib.nanmean(x))  # it requires grad: no gradient into a fill value
    with pytest.raises(TypeError, match="argument 'posinf' must be float, not"):
        lib.nan_to_num(x.detach(), posinf=lib.ones(4))  # not filled element by element
    with pytest.raises(TypeError, match="argument 'neginf' must be float, not"):
        x.detach().clone().nan_to_num_(neginf="-1")


# ---- ESMFold's token surgery: rows indexed by a range object ------------------------------------


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_index_put_with_range_rows(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    toks = lib.tensor([[0, 5, 6, 1, 1], [0, 7, 8, 9, 1]])
    toks[range(2), (toks != 1).sum(1)] = 2
    np.testing.assert_array_equal(_np(toks), [[0, 5, 6, 2, 1], [0, 7, 8, 9, 2]])


# ---- OpenFold's chunked inference: z[slices] += chunk under no_grad ---------------------------

_Z = _R.standard_normal((6, 6, 3))
_W = _R.standard_normal((3, 3))


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_chunked_inplace_slice_add_equals_whole(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    z = lib.tensor(_Z)
    whole = z + z @ lib.tensor(_W)
    with lib.no_grad():
        for start in range(0, 6, 4):
            sl = (slice(None), slice(start, start + 4))
            z[sl] += z[sl] @ lib.tensor(_W)
    np.testing.assert_allclose(_np(z), _np(whole), rtol=1e-14, atol=1e-14)


def test_list_of_slices_index_reads_as_tuple_and_warns(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    key = [slice(None), slice(1, 3)]
    with pytest.warns(UserWarning):
        got = gg.tensor(x)[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.tensor(x)[key]
    np.testing.assert_array_equal(_np(got), _np(want))


# ---- ESMFold's half-precision language model: a float16 transformer block ----------------------

_XH = _R.standard_normal((3, 5, 16))
_W1, _W2 = _R.standard_normal((32, 16)) * 0.25, _R.standard_normal((16, 32)) * 0.25


def _half_block(lib):
    h = lib.float16
    x = lib.tensor(_XH).to(h)
    ln = lib.nn.LayerNorm(16).to(h)
    y = ln(x)
    y = lib.nn.functional.linear(y, lib.tensor(_W1).to(h))
    y = y * 0.5 * (1.0 + lib.erf(y / math.sqrt(2.0)))
    y = lib.nn.functional.linear(y, lib.tensor(_W2).to(h))
    s = lib.nn.functional.softmax(y @ y.transpose(-1, -2), dim=-1, dtype=lib.float32).type_as(y)
    return x + s @ y


def test_float16_transformer_block_within_an_ulp_of_torch(torch):
    got, want = _half_block(gg), _half_block(torch)
    assert str(got.dtype) == "glassgrad.float16" and str(want.dtype) == "torch.float16"
    a, b = _np(got).astype(np.float64), _np(want).astype(np.float64)
    # one float16 ulp at the output's scale (small entries inherit their rounding from larger terms)
    assert np.abs(a - b).max() <= float(np.spacing(np.float16(np.abs(b).max())))


# ---- reentrant checkpointing of inputs that need no gradient (OpenFold's checkpoint_blocks) -----


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_reentrant_checkpoint_without_grad_inputs_leaves_no_grads(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    lib.manual_seed(0)
    block = lib.nn.Linear(3, 3).double()
    x = lib.tensor(_W)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = lib.utils.checkpoint.checkpoint(block, x, use_reentrant=True)
    assert not y.requires_grad
    assert block.weight.grad is None


# ---- OpenFold's AlphaFoldLRScheduler pattern: an _LRScheduler subclass -------------------------


def _scheduler_class(lib):
    class Warmup(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, last_epoch=-1, warmup=3, max_lr=1e-3):
            self.warmup, self.max_lr = warmup, max_lr
            super().__init__(optimizer, last_epoch=last_epoch)

        def state_dict(self):
            return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

        def get_lr(self):
            if not self._get_lr_called_within_step:
                raise RuntimeError("use get_last_lr()")
            step = self.last_epoch
            lr = self.max_lr * min(1.0, step / self.warmup) * (0.5 ** max(0, step - 4))
            return [lr for _ in self.optimizer.param_groups]

    return Warmup


def _schedule(lib):
    p = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    opt = lib.optim.Adam([p], lr=1.0)
    sch = _scheduler_class(lib)(opt)
    lrs = [sch.get_last_lr()[0]]
    for _ in range(7):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
        sch.step()
        lrs.append(sch.get_last_lr()[0])
    with pytest.raises(RuntimeError, match="get_last_lr"):
        sch.get_lr()
    return lrs, sorted(sch.state_dict()), _np(p)


def test_lr_scheduler_subclass_matches_torch(torch):
    got, want = _schedule(gg), _schedule(torch)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
    assert got[1] == want[1]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-13)


@pytest.mark.parametrize("lib_name", ["glassgrad", "torch"])
def test_lr_scheduler_refuses_verbose_keyword(torch, lib_name):
    lib = gg if lib_name == "glassgrad" else torch
    opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
    with pytest.raises(TypeError, match="verbose"):
        lib.optim.lr_scheduler._LRScheduler(opt, last_epoch=-1, verbose=False)
