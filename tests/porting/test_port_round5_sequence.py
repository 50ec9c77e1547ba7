"""What the fifth round's sequence scripts needed (docs/porting.md, "Real scripts ported"):
``torch.nn.attention``'s
``SDPBackend``/``sdpa_kernel`` and ``bias.causal_upper_left``/``causal_lower_right``, the memory
layout of ``F.scaled_dot_product_attention``'s output that lets ``y.transpose(1, 2).view(...)``
work as in PyTorch, and ``torch.profiler`` (profile with activities, schedule, step) from the
scaled-dot-product-attention tutorial. Each script runs on glassgrad and on PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck

from .helpers import assert_same


def _fixed(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------- sdpa_kernel and SDPBackend
def test_sdp_backend_names_and_values_match(torch):
    from torch.nn.attention import SDPBackend as TorchSDPBackend

    from glassgrad.nn.attention import SDPBackend

    assert {b.name: int(b) for b in SDPBackend} == {n: int(b) for n, b in TorchSDPBackend.__members__.items()}
    assert repr(SDPBackend.MATH) == repr(TorchSDPBackend.MATH)


def script_sdpa_kernel(torch):
    import importlib

    F = torch.nn.functional
    attn = importlib.import_module(f"{torch.__name__}.nn.attention")
    q, k, v = (torch.tensor(a) for a in (Q, K, V))
    out = [F.scaled_dot_product_attention(q, k, v)]
    with attn.sdpa_kernel(attn.SDPBackend.MATH):
        out.append(F.scaled_dot_product_attention(q, k, v))
        out.append([torch.backends.cuda.math_sdp_enabled(), torch.backends.cuda.flash_sdp_enabled()])
    with attn.sdpa_kernel([attn.SDPBackend.MATH, attn.SDPBackend.FLASH_ATTENTION]):
        out.append(F.scaled_dot_product_attention(q, k, v, is_causal=True))
    try:  # neither library has a memory-efficient kernel on the CPU
        with attn.sdpa_kernel([attn.SDPBackend.EFFICIENT_ATTENTION]):
            F.scaled_dot_product_attention(q, k, v)
        out.append("ran")
    except RuntimeError:
        out.append("RuntimeError")
    try:
        with attn.sdpa_kernel(attn.SDPBackend.CUDNN_ATTENTION):
            raise KeyError("inside")
    except KeyError:
        pass
    out.append([torch.backends.cuda.math_sdp_enabled(), torch.backends.cuda.cudnn_sdp_enabled()])
    return out


Q, K, V = _fixed(2, 3, 4, 8, seed=5), _fixed(2, 3, 5, 8, seed=6), _fixed(2, 3, 5, 6, seed=7)


def test_sdpa_kernel_port(torch):
    assert_same(script_sdpa_kernel(glassgrad), script_sdpa_kernel(torch), rtol=1e-10, atol=1e-12)


def test_sdpa_kernel_without_math_raises_and_restores():
    import glassgrad.nn.functional as F
    from glassgrad.nn.attention import SDPBackend, sdpa_kernel

    q = glassgrad.tensor(Q[0])  # 3-D: PyTorch's CPU flash kernel (FLASH's stand-in) wants 4-D
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        with pytest.raises(RuntimeError, match=r"got only \[SDPBackend.FLASH_ATTENTION\] enabled"):
            F.scaled_dot_product_attention(q, q, q)
        with sdpa_kernel(SDPBackend.MATH):  # nested: the inner block wins, then the outer returns
            F.scaled_dot_product_attention(q, q, q)
        with pytest.raises(RuntimeError):
            F.scaled_dot_product_attention(q, q, q)
    F.scaled_dot_product_attention(q, q, q)
    with (
        pytest.raises(TypeError, match="expected an SDPBackend or a list of them, got str"),
        sdpa_kernel("math"),
    ):
        pass
    with pytest.raises(TypeError, match="got int"), sdpa_kernel([0]):
        pass
    with pytest.raises(ValueError, match="SDPBackend.ERROR"), sdpa_kernel(SDPBackend.ERROR):
        pass
    assert glassgrad.backends.cuda.math_sdp_enabled()
    glassgrad.backends.cuda.enable_math_sdp(False)
    try:
        with pytest.raises(RuntimeError):
            F.scaled_dot_product_attention(q, q, q)
    finally:
        glassgrad.backends.cuda.enable_math_sdp(True)


# --------------------------------------------------------------- torch.nn.attention.bias
def script_causal_bias(torch, lq, lkv):
    import importlib

    bias = importlib.import_module(f"{torch.__name__}.nn.attention.bias")
    F = torch.nn.functional
    q = torch.tensor(_fixed(2, 3, lq, 4), requires_grad=True)
    k = torch.tensor(_fixed(2, 3, lkv, 4, seed=1), requires_grad=True)
    v = torch.tensor(_fixed(2, 3, lkv, 5, seed=2), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ul, lr = bias.causal_upper_left(lq, lkv), bias.causal_lower_right(lq, lkv)
    out_ul = F.scaled_dot_product_attention(q, k, v, ul)
    out_lr = F.scaled_dot_product_attention(q, k, v, lr)
    (out_ul.sum() + (out_lr * out_lr).sum()).backward()
    return [
        type(ul).__name__,
        isinstance(ul, torch.Tensor),
        ul._materialize(),
        lr._materialize(),
        str(ul),
        [int(ul.variant), ul.seq_len_q, ul.seq_len_kv, int(lr.variant)],
        out_ul,
        out_lr,
        F.scaled_dot_product_attention(q, k, v, is_causal=True),
        q.grad,
        k.grad,
        v.grad,
    ]


@pytest.mark.parametrize("lq, lkv", [(2, 10), (4, 4), (5, 3)])
def test_causal_bias_port(torch, lq, lkv):
    assert_same(script_causal_bias(glassgrad, lq, lkv), script_causal_bias(torch, lq, lkv), 1e-10, 1e-12)


def test_causal_bias_gradcheck_and_errors():
    from glassgrad.nn.attention.bias import CausalBias, CausalVariant, causal_lower_right, causal_upper_left

    import glassgrad.nn.functional as F

    mask = causal_lower_right(3, 5)
    q, k, v = (
        glassgrad.tensor(_fixed(1, 3, n, 2, seed=s), requires_grad=True) for s, n in ((0, 3), (1, 5), (2, 5))
    )
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), (q, k, v))
    with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
        F.scaled_dot_product_attention(q, k, v, mask, is_causal=True)
    with pytest.raises(ValueError, match=r"expected 2 sizes \(seq_len_q, seq_len_kv\), got 3"):
        causal_upper_left(2, 3, 4)
    with pytest.raises(ValueError, match="seq_len_kv to be an int >= 0, got -1"):
        CausalBias(CausalVariant.UPPER_LEFT, 2, -1)
    with pytest.raises(TypeError, match="expected a CausalVariant, got int"):
        CausalBias(1, 2, 2)
    with pytest.warns(UserWarning, match="the first 2 queries attend to no key"):
        causal_lower_right(5, 3)
    assert type(mask).__module__ == "glassgrad.nn.attention.bias" and mask.dtype == glassgrad.bool


# ------------------------------------------------------------------ SDPA's output layout
def _strides(t):
    s = t.stride() if callable(getattr(t, "stride", None)) else None
    return tuple(s) if s is not None else tuple(b // t._data.itemsize for b in t._data.strides)


def script_sdpa_layouts(torch):
    import importlib

    attn = importlib.import_module(f"{torch.__name__}.nn.attention")
    F = torch.nn.functional
    n, L, h, e = 2, 5, 4, 3
    x = torch.tensor(_fixed(n, L, 3 * h * e))
    q, k, v = (t.view(n, L, h, e).transpose(1, 2) for t in x.chunk(3, -1))
    cases = {
        "chunk-view-transpose": (q, k, v, {}),
        "causal": (q, k, v, {"is_causal": True}),
        "bool mask": (q, k, v, {"attn_mask": torch.tensor(np.tri(L, L, dtype=bool))}),
        "dropout": (q, k, v, {"dropout_p": 0.5}),
        "value dim differs": (q, k, v[..., :2], {}),
        "contiguous": (q.contiguous(), k, v, {}),
        "time outermost": (torch.tensor(_fixed(L, n, h, e)).permute(1, 2, 0, 3), k, v, {}),
        "dense transposed": (torch.tensor(_fixed(n, L, h, e)).transpose(1, 2), k, v, {}),
        "expanded batch": (q[:1].expand(n, h, L, e), k, v, {}),
        "3-D": (q[0], k[0], v[0], {}),
    }
    out = {
        name: _strides(F.scaled_dot_product_attention(a, b, c, **kw)) for name, (a, b, c, kw) in cases.items()
    }
    with attn.sdpa_kernel(attn.SDPBackend.MATH):
        out["math only"] = _strides(F.scaled_dot_product_attention(q, k, v))
    y = F.scaled_dot_product_attention(q, k, v)
    out["tutorial view"] = y.transpose(1, 2).view(n, -1, h * e)
    return out


def test_sdpa_output_layout_follows_pytorch_port(torch):
    assert_same(script_sdpa_layouts(glassgrad), script_sdpa_layouts(torch), 1e-10, 1e-12)


def script_causal_self_attention(torch):
    """The tutorial's CausalSelfAttention (training mode, no dropout): output and gradients."""
    F = torch.nn.functional

    class CausalSelfAttention(torch.nn.Module):
        def __init__(self, num_heads, embed_dimension):
            super().__init__()
            self.c_attn = torch.nn.Linear(embed_dimension, 3 * embed_dimension, bias=False)
            self.c_proj = torch.nn.Linear(embed_dimension, embed_dimension, bias=False)
            self.num_heads = num_heads

        def forward(self, x):
            qp = self.c_attn(x)
            b, head_dim = qp.size(0), qp.size(2) // (self.num_heads * 3)
            q, k, v = qp.chunk(3, -1)
            q = q.view(b, -1, self.num_heads, head_dim).transpose(1, 2)
            k = k.view(b, -1, self.num_heads, head_dim).transpose(1, 2)
            v = v.view(b, -1, self.num_heads, head_dim).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
            y = y.transpose(1, 2).view(b, -1, self.num_heads * head_dim)
            return self.c_proj(y)

    m = CausalSelfAttention(4, 8).double()
    m.load_state_dict(
        {"c_attn.weight": torch.tensor(_fixed(24, 8)), "c_proj.weight": torch.tensor(_fixed(8, 8, seed=3))}
    )
    x = torch.tensor(_fixed(2, 6, 8, seed=4), requires_grad=True)
    y = m(x)
    (y * y).sum().backward()
    return [y, x.grad, m.c_attn.weight.grad, m.c_proj.weight.grad]


def test_causal_self_attention_port(torch):
    assert_same(script_causal_self_attention(glassgrad), script_causal_self_attention(torch), 1e-9, 1e-11)


def test_sdpa_in_query_layout_gradcheck():
    import glassgrad.nn.functional as F

    x = glassgrad.tensor(_fixed(1, 3, 12), requires_grad=True)

    def f(x):
        q, k, v = (t.view(1, 3, 2, 2).transpose(1, 2) for t in x.chunk(3, -1))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert not y._data.flags.c_contiguous  # the query-layout path is the one checked
        return y.transpose(1, 2).view(1, 3, 4)

    assert gradcheck(f, (x,))


# ------------------------------------------------------------------------- torch.profiler
def test_profiler_schedule_matches(torch):
    from glassgrad.profiler import schedule

    for kw in (
        {"wait": 1, "warmup": 1, "active": 2, "repeat": 2, "skip_first": 1},
        {"wait": 2, "warmup": 1, "active": 2, "skip_first_wait": 1},
        {"wait": 0, "warmup": 0, "active": 1, "repeat": 3},
        {"wait": 2, "warmup": 1, "active": 3, "repeat": 1, "skip_first": 2, "skip_first_wait": 1},
    ):
        ours, theirs = schedule(**kw), torch.profiler.schedule(**kw)
        assert [ours(i).name for i in range(20)] == [theirs(i).name for i in range(20)], kw


def script_profiler_steps(torch):
    import importlib

    prof_mod = importlib.import_module(f"{torch.__name__}.profiler")
    calls = []

    def ready(p):
        calls.append((p.step_num, sorted({e.key.split("::")[-1] for e in p.key_averages()} & {"mul", "add"})))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with prof_mod.profile(
            activities=[prof_mod.ProfilerActivity.CPU],
            schedule=prof_mod.schedule(wait=1, warmup=1, active=2, repeat=2),
            on_trace_ready=ready,
            record_shapes=True,
        ) as p:
            x = torch.ones(3)
            for i in range(10):
                y = x * i if i % 2 else x + i
                p.step()
        with prof_mod.profile(on_trace_ready=ready) as p, prof_mod.record_function("block"):
            y = x * 2
    keys = [e.key for e in p.key_averages()]
    return [calls, keys[0], y]


def test_profiler_steps_port(torch):
    assert_same(script_profiler_steps(glassgrad), script_profiler_steps(torch))


def test_profiler_table_and_errors():
    from glassgrad.profiler import ProfilerActivity, profile, record_function, tensorboard_trace_handler

    x = glassgrad.ones(4)
    with (
        profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof,
        record_function("attention"),
    ):
        for _ in range(3):
            (x * 2).sum()
    rows = {e.key: e.count for e in prof.key_averages()}
    assert rows == {"attention": 1, "mul": 3, "sum": 3}
    table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=10)
    assert "attention" in table and "# of Calls" in table
    with profile(activities=[ProfilerActivity.CUDA]) as prof:  # no CPU: nothing is recorded
        (x * 2).sum()
    assert list(prof.key_averages()) == []
    with pytest.raises(TypeError, match="expected ProfilerActivity values, got str"):
        profile(activities=["cpu"])
    with pytest.raises(NotImplementedError, match="TensorBoard"):
        tensorboard_trace_handler("./log")
    with pytest.raises(ValueError, match="active > 0"):
        glassgrad.profiler.schedule(wait=1, warmup=1, active=0)


# ------------------------------------------------------------ set_float32_matmul_precision
def script_matmul_precision(torch):
    out = [torch.get_float32_matmul_precision()]
    try:
        for p in ("high", "medium", "low", "HIGH"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                torch.set_float32_matmul_precision(p)
            out.append([torch.get_float32_matmul_precision(), len(caught) > 0])
        try:
            torch.set_float32_matmul_precision(3)
        except (TypeError, RuntimeError):
            out.append("refused")
    finally:
        torch.set_float32_matmul_precision("highest")
    return out


def test_float32_matmul_precision_port(torch):
    assert_same(script_matmul_precision(glassgrad), script_matmul_precision(torch))
