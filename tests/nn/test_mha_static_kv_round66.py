"""Round 66 (PyTorch's test/nn test_multihead_attention, test_embedding, test_packed_sequence):
``F.multi_head_attention_forward``'s ``static_k``/``static_v`` (it raised NotImplementedError), and
the exception classes PyTorch's own tests expect (its asserts, its RuntimeErrors)."""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.nn.utils import rnn as rnn_utils


def _rand(seed, *shape):
    return np.random.RandomState(seed).randn(*shape)


def _mha_call(lib, *, same, zero, kpm, static, mask, avg):
    """One call of multi_head_attention_forward in ``lib`` (torch or glassgrad) on fixed arrays;
    returns the output, weights and every gradient of (output.sum() + weights.sum())."""
    N, L, S, H, hd = 3, 2, 4, 2, 3
    E = H * hd
    kd = E if same else 5
    t = lambda a, grad=True: lib.tensor(a, dtype=lib.float64, requires_grad=grad)  # noqa: E731
    q, k, v = t(_rand(1, L, N, E)), t(_rand(2, S, N, kd)), t(_rand(3, S, N, kd))
    w_in = t(_rand(4, 3 * E, E) * 0.4) if same else None
    qw, kw, vw = t(_rand(5, E, E) * 0.4), t(_rand(6, E, kd) * 0.4), t(_rand(7, E, kd) * 0.4)
    b_in, w_out, b_out = t(_rand(8, 3 * E) * 0.4), t(_rand(9, E, E) * 0.4), t(_rand(10, E) * 0.4)
    sk = t(_rand(11, N * H, static, hd)) if static else None
    sv = t(_rand(12, N * H, static, hd)) if static else None
    src = static or S
    keep = lib.tensor(np.where(np.random.RandomState(13).rand(N, src) < 0.3, -1e4, 0.0)) if kpm else None
    am = lib.tensor(_rand(14, L, src)) if mask else None
    out, w = lib.nn.functional.multi_head_attention_forward(
        q, k, v, E, H, w_in, b_in, None, None, zero, 0.0, w_out, b_out,
        training=False, key_padding_mask=keep, need_weights=True, attn_mask=am,
        use_separate_proj_weight=not same, q_proj_weight=qw, k_proj_weight=kw, v_proj_weight=vw,
        static_k=sk, static_v=sv, average_attn_weights=avg,
    )  # fmt: skip
    (out.sum() + w.sum()).backward()
    leaves = [q, k, v, w_in, qw, kw, vw, b_in, w_out, b_out, sk, sv]
    grads = [None if x is None or x.grad is None else x.grad.detach().numpy() for x in leaves]
    return [out.detach().numpy(), w.detach().numpy()] + grads


@pytest.mark.parametrize("same", [True, False])
@pytest.mark.parametrize("zero", [False, True])
@pytest.mark.parametrize("kpm", [False, True])
@pytest.mark.parametrize("avg", [True, False])
@pytest.mark.parametrize("static,mask", [(4, False), (4, True), (5, False)])
def test_static_kv_matches_pytorch(torch, same, zero, kpm, avg, static, mask):
    kw = dict(same=same, zero=zero, kpm=kpm, static=static, mask=mask, avg=avg)
    want, got = _mha_call(torch, **kw), _mha_call(gg, **kw)
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        if a is None:
            assert b is None, i
        else:
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=str(i))


def _args(E=6, H=2):
    w = gg.randn(3 * E, E, dtype=gg.float64)
    return w, gg.zeros(3 * E, dtype=gg.float64), gg.randn(E, E, dtype=gg.float64)


def test_static_kv_refusals_are_assertions():
    w_in, b_in, w_out = _args()
    q = gg.randn(2, 3, 6, dtype=gg.float64)
    bias = gg.randn(1, 1, 6, dtype=gg.float64)
    sk = gg.randn(6, 4, 3, dtype=gg.float64)
    call = lambda **k: F.multi_head_attention_forward(q, q, q, 6, 2, w_in, b_in, **k)  # noqa: E731
    rest = dict(add_zero_attn=False, dropout_p=0.0, out_proj_weight=w_out, out_proj_bias=None)
    # PyTorch: AssertionError "bias cannot be added to static key."
    with pytest.raises(AssertionError, match="bias cannot be added to static key"):
        call(bias_k=bias, bias_v=bias, static_k=sk, **rest)
    for bad in (gg.randn(5, 4, 3, dtype=gg.float64), gg.randn(6, 4, 2, dtype=gg.float64)):
        with pytest.raises(AssertionError, match="static_k"):
            call(bias_k=None, bias_v=None, static_k=bad, **rest)


def test_module_never_sees_static_kv(torch):
    # the module's forward has no static_k: the holder's attribute must not leak into it
    m = gg.nn.MultiheadAttention(6, 2)
    x = gg.randn(3, 2, 6)
    assert m(x, x, x)[0].shape == (3, 2, 6)


def test_pytorch_assert_classes(torch):
    # PyTorch checks these with `assert`; glassgrad's errors are AssertionErrors too (and ValueErrors)
    mha = gg.nn.MultiheadAttention(4, 4)
    q3, q2 = gg.randn(4, 4, 4), gg.randn(4, 4)
    for call in (lambda: mha(q3, gg.randn(4, 4), q3), lambda: mha(q2, q2, gg.randn(4, 4, 4))):
        with pytest.raises(AssertionError, match="3-D|2-D"):
            call()
        with pytest.raises(AssertionError):
            torch.nn.MultiheadAttention(4, 4)(*[torch.randn(*x.shape) for x in (q3, q3[0], q3)])
    for make in (lambda lib: lib.nn.MultiheadAttention(7, 2), lambda lib: lib.nn.Embedding(4, 3, padding_idx=4),
                 lambda lib: lib.nn.EmbeddingBag(4, 3, padding_idx=-5),
                 lambda lib: lib.nn.functional.embedding(lib.tensor([0]), lib.ones(4, 3), padding_idx=7)):  # fmt: skip
        with pytest.raises(AssertionError):
            make(torch)
        with pytest.raises(AssertionError):
            make(gg)
        with pytest.raises(ValueError):  # as glassgrad raised before
            make(gg)


def test_packing_errors_are_pytorchs_runtime_errors(torch):
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
            lib.nn.utils.rnn.pad_sequence(5)
        with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
            lib.nn.utils.rnn.pack_padded_sequence(lib.randn(0, 0), [])
        with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
            lib.nn.utils.rnn.pack_padded_sequence(lib.randn(0, 1, 10), lib.randn(11, 14, 14, 2), True)
    with pytest.raises(TypeError):  # as glassgrad raised before
        rnn_utils.pad_sequence(5)
