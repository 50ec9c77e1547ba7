"""Round 33, nmt group: joeynmt (joeynmt/joeynmt) model, XentLoss, search and builders; OpenNMT-py
(OpenNMT/OpenNMT-py) Embeddings, RNNEncoder, GlobalAttention and CopyGenerator.

OpenNMT-py builds its embedding tables and attention projections with ``nn.utils.skip_init`` (it was
missing: importing ``onmt.modules`` failed).

joeynmt's label-smoothed XentLoss builds its smoothed target distribution with ``.float()``
(float32) and feeds it to ``nn.KLDivLoss(reduction="sum")`` with float64 log-probabilities when the
model is in double precision. PyTorch forms t * log(t) in the target's float32 before subtracting
t * input in float64; glassgrad promoted first, so the summed loss differed by ~4e-7.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn


def _smoothed(lib, targets, vocab, smoothing=0.1, pad=1):
    # XentLoss._smooth_targets, distilled
    t = lib.tensor(targets)
    dist = t.new_zeros((t.size(0), vocab)).float()
    dist.fill_(smoothing / (vocab - 2))
    dist.scatter_(1, t.unsqueeze(1), 1.0 - smoothing)
    dist[:, pad] = 0
    pads = lib.nonzero(t == pad, as_tuple=False)
    if len(pads) > 0:
        dist.index_fill_(0, pads.squeeze(), 0.0)
    return dist


def test_kl_div_float32_target_float64_input_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    vocab = 15
    logits = rng.standard_normal((12, vocab))
    targets = np.array([4, 5, 1, 7, 3, 1, 9, 10, 2, 14, 1, 6])
    theirs_in = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.KLDivLoss(reduction="sum")(
        torch.log_softmax(theirs_in, -1), _smoothed(torch, targets, vocab)
    )
    theirs.backward()
    ours_in = gg.tensor(logits, requires_grad=True)
    ours = nn.KLDivLoss(reduction="sum")(gg.log_softmax(ours_in, -1), _smoothed(gg, targets, vocab))
    ours.backward()
    assert ours.dtype == gg.float64
    # the float32 t*log(t) term is rounded as PyTorch rounds it: agreement to float64 rounding
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(ours_in.grad.numpy(), theirs_in.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_kl_div_none_mixed_dtypes_elementwise(torch):
    rng = np.random.default_rng(1)
    x = np.log(rng.dirichlet(np.ones(5), size=3))
    t = np.full((3, 5), 0.1 / 7, dtype=np.float32)
    t[:, 1] = 0
    t[0, 2] = 0.9
    theirs = torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t), reduction="none")
    ours = gg.nn.functional.kl_div(gg.tensor(x), gg.tensor(t), reduction="none")
    assert ours.dtype == gg.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15, atol=0)
    # zero targets contribute exactly 0, not nan
    assert np.all(ours.numpy()[:, 1] == 0)


def test_skip_init_builds_uninitialised_modules_like_onmt(torch):
    from glassgrad.nn.utils import skip_init
    from glassgrad.nn.utils.init import skip_init as at_torch_path

    assert at_torch_path is skip_init
    # onmt/modules/embeddings.py and multi_headed_attn.py, distilled
    emb = skip_init(nn.Embedding, num_embeddings=7, embedding_dim=4, padding_idx=1, sparse=False)
    lin = skip_init(nn.Linear, in_features=4, out_features=3, bias=False)
    # (PyTorch's own skip_init spends seconds on its first meta-device build: compare with the
    # ordinary modules, whose parameter names, shapes and dtypes skip_init must keep)
    ref_emb = torch.nn.Embedding(num_embeddings=7, embedding_dim=4, padding_idx=1)
    ref_lin = torch.nn.Linear(in_features=4, out_features=3, bias=False)
    for ours, theirs in ((emb, ref_emb), (lin, ref_lin)):
        assert type(ours).__name__ == type(theirs).__name__
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for name, p in ours.named_parameters():
            ref = dict(theirs.named_parameters())[name]
            assert tuple(p.shape) == tuple(ref.shape) and p.requires_grad and str(p.device) == "cpu"
            assert str(p.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
    assert lin.bias is None and emb.padding_idx == 1
    # the values are whatever the storage held; loading weights then gives PyTorch's outputs
    torch.nn.init.normal_(ref_lin.weight)
    lin.load_state_dict({k: gg.tensor(v.numpy()) for k, v in ref_lin.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(
        lin(gg.tensor(x)).detach().numpy(), ref_lin(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6
    )
    ln = skip_init(nn.LayerNorm, 5, device="cpu", dtype=gg.float64)
    assert ln.weight.dtype == gg.float64 and tuple(ln.weight.shape) == (5,)


def test_skip_init_refuses_what_pytorch_refuses():
    from glassgrad.nn.utils import skip_init

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="NoDevice.*'device'"):
        skip_init(NoDevice, 3)
    with pytest.raises(RuntimeError, match="Module subclass.*int"):
        skip_init(int, 3)
