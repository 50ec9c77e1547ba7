"""Round 53, group fairseq: what fairseq's modules and models needed under the import change.

``fairseq/modules/sinusoidal_positional_embedding.py`` does ``import torch.onnx.operators`` at
import time and calls ``torch.onnx.operators.shape_as_tensor(input)`` in every forward, then uses
the 0-d entries of that tensor as sizes (``view(bsz, seq_len, -1)``) and in arithmetic; glassgrad's
``onnx`` was a plain module, so every fairseq model failed to import.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


@pytest.fixture
def torch(torch):
    """PyTorch with ``torch.onnx.operators`` imported, as fairseq's ``import torch.onnx.operators``."""
    importlib.import_module("torch.onnx.operators")
    return torch


def test_onnx_operators_imports_as_a_submodule(torch):
    mod = importlib.import_module("glassgrad.onnx.operators")
    assert gg.onnx.operators is mod
    for name in ("shape_as_tensor", "reshape_from_tensor_shape"):
        assert hasattr(torch.onnx.operators, name)
        assert callable(getattr(mod, name))
    x = gg.arange(6.0)
    np.testing.assert_array_equal(mod.shape_as_tensor(x).numpy(), [6])
    np.testing.assert_array_equal(
        mod.reshape_from_tensor_shape(x, gg.tensor([2, 3])).numpy(), x.view(2, 3).numpy()
    )


@pytest.mark.parametrize("shape", [(), (0,), (2, 3), (4, 1, 5)])
def test_shape_as_tensor_matches_pytorch(torch, shape):
    want = torch.onnx.operators.shape_as_tensor(torch.zeros(shape))
    got = gg.onnx.operators.shape_as_tensor(gg.zeros(shape))
    assert got.dtype == gg.int64 and want.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert tuple(got.shape) == tuple(want.shape)


def test_reshape_from_tensor_shape_matches_pytorch(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    for shape in ([4, 6], [3, -1], [-1], [2, 2, 2, 3]):
        want = torch._reshape_from_tensor(torch.tensor(x).transpose(0, 2), torch.tensor(shape))
        got = gg._reshape_from_tensor(gg.tensor(x).transpose(0, 2), gg.tensor(shape))
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_reshape_from_tensor_gradient_matches_pytorch(torch):
    x = np.random.default_rng(1).standard_normal((3, 4))
    g = np.random.default_rng(2).standard_normal((2, 6))
    tx = torch.tensor(x, requires_grad=True)
    torch._reshape_from_tensor(tx, torch.tensor([2, 6])).backward(torch.tensor(g))
    gx = gg.tensor(x, requires_grad=True)
    gg._reshape_from_tensor(gx, gg.tensor([2, 6])).backward(gg.tensor(g))
    np.testing.assert_array_equal(gx.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("seed", range(4))
def test_reshape_from_tensor_gradcheck(seed):
    rng = np.random.default_rng(seed)
    dims = [int(d) for d in rng.integers(1, 4, size=int(rng.integers(1, 4)))]
    x = gg.tensor(rng.standard_normal(dims), dtype=gg.float64, requires_grad=True)
    target = gg.tensor([-1, int(np.prod(dims[:1]))])
    assert gradcheck(lambda t: gg._reshape_from_tensor(t, target), (x,))


@pytest.mark.parametrize(
    "bad, exc",
    [
        (lambda lib: lib._reshape_from_tensor(lib.arange(6.0), lib.tensor([2.0, 3.0])), RuntimeError),
        (lambda lib: lib._reshape_from_tensor(lib.arange(6.0), lib.tensor([[2, 3]])), RuntimeError),
        (lambda lib: lib._reshape_from_tensor(lib.arange(6.0), [2, 3]), TypeError),
        (lambda lib: lib._reshape_from_tensor(lib.arange(6.0), lib.tensor([4, 3])), RuntimeError),
        (lambda lib: lib._shape_as_tensor([1, 2]), TypeError),
    ],
)
def test_bad_calls_refused_as_pytorch(torch, bad, exc):
    with pytest.raises(exc):
        bad(torch)
    with pytest.raises(exc) as info:
        bad(gg)
    assert (
        "_reshape_from_tensor" in str(info.value)
        or "_shape_as_tensor" in str(info.value)
        or ("reshape" in str(info.value))
    )


def _sinusoidal_forward(lib, tokens, padding_idx, dim):
    """fairseq's SinusoidalPositionalEmbedding.forward (non-incremental), with the table built in
    the input's float dtype: sizes read through ``onnx.operators.shape_as_tensor``."""
    bspair = lib.onnx.operators.shape_as_tensor(tokens)
    bsz, seq_len = bspair[0], bspair[1]
    max_pos = padding_idx + 1 + seq_len
    half = dim // 2
    freq = lib.exp(lib.arange(half, dtype=lib.float64) * -(math.log(10000) / (half - 1)))
    ang = lib.arange(int(max_pos), dtype=lib.float64).unsqueeze(1) * freq.unsqueeze(0)
    table = lib.cat([lib.sin(ang), lib.cos(ang)], dim=1)
    table[padding_idx, :] = 0
    mask = tokens.ne(padding_idx).int()
    positions = (lib.cumsum(mask, dim=1).type_as(mask) * mask).long() + padding_idx
    return table.index_select(0, positions.view(-1)).view(bsz, seq_len, -1)


def test_fairseq_sinusoidal_forward_reads_sizes_from_a_shape_tensor(torch):
    tokens = [[5, 6, 7, 1, 1], [1, 4, 5, 6, 7]]
    want = _sinusoidal_forward(torch, torch.tensor(tokens), 1, 8)
    got = _sinusoidal_forward(gg, gg.tensor(tokens), 1, 8)
    assert tuple(got.shape) == tuple(want.shape) == (2, 5, 8)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-15)


def _logging_subclass(lib, seen):
    class Logged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    return Logged


def test_shape_helpers_ask_torch_function_as_pytorch(torch):
    results = {}
    for lib in (torch, gg):
        seen = []
        x = lib.arange(6.0).as_subclass(_logging_subclass(lib, seen))
        shape = lib.onnx.operators.shape_as_tensor(x)
        out = lib._reshape_from_tensor(x, lib.tensor([2, 3]))
        results[lib.__name__] = (
            seen,
            type(shape).__name__,
            type(out).__name__,
            out.as_subclass(lib.Tensor).tolist(),
        )
    assert results["glassgrad"] == results["torch"]


# fairseq's NAG step does ``p.add_(d_p, alpha=-(1 + momentum) * lr)`` with a float64 parameter and
# ``d_p = p.grad.float()``: glassgrad scaled the float32 operand in float32 and promoted afterwards
# (6e-8 off after one step); PyTorch reads every operand in the result's dtype before it scales or
# multiplies (add/sub/rsub with alpha, addcmul/addcdiv, their in-place and foreach forms).

_MIXED = [
    ("float64", "float32", "float32"),
    ("float32", "float64", "float64"),
    ("float32", "float16", "float16"),
    ("float16", "float32", "float16"),
    ("float64", "int64", "float32"),
    ("float32", "int32", "int64"),
]


def _mixed_results(lib, dt_a, dt_b, dt_c, shape_b):
    rng = np.random.default_rng(7)
    a = lib.tensor(rng.standard_normal((3, 4)), dtype=getattr(lib, dt_a))
    if dt_b.startswith("int"):
        b = lib.tensor(rng.integers(-9, 9, shape_b), dtype=getattr(lib, dt_b))
    else:
        b = lib.tensor(rng.standard_normal(shape_b) / 3, dtype=getattr(lib, dt_b))
    c = (
        lib.tensor(rng.uniform(0.5, 2.0, (4,)), dtype=getattr(lib, dt_c))
        if not dt_c.startswith("int")
        else None
    )
    out = {
        "add": lib.add(a, b, alpha=0.81),
        "sub": lib.sub(a, b, alpha=-1.7),
        "method": a.add(b, alpha=0.37),
        "inplace": a.clone().add_(b, alpha=0.29),
        "sub_": a.clone().sub_(b, alpha=1.3),
        "rsub": lib.rsub(b, a, alpha=0.7),
        "foreach": lib._foreach_add([a], [b], alpha=0.45)[0],
    }
    if c is not None and not dt_b.startswith("int"):
        out["addcmul"] = lib.addcmul(a, b, c, value=0.7)
        out["addcmul1"] = lib.addcmul(a, b, c)
        out["addcdiv"] = lib.addcdiv(a, b, c, value=0.3)
        out["addcmul_"] = a.clone().addcmul_(b, c, value=-0.6)
        out["addcdiv_"] = a.clone().addcdiv_(b, c, value=1.1)
    return out


@pytest.mark.parametrize("dt_a, dt_b, dt_c", _MIXED)
@pytest.mark.parametrize("shape_b", [(3, 4), (4,), ()])
def test_scaled_operand_computed_in_the_result_dtype_as_pytorch(torch, dt_a, dt_b, dt_c, shape_b):
    want = _mixed_results(torch, dt_a, dt_b, dt_c, shape_b)
    got = _mixed_results(gg, dt_a, dt_b, dt_c, shape_b)
    assert sorted(got) == sorted(want)
    for name, w in want.items():
        g = got[name]
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1], name
        # the same products in the result's dtype; PyTorch fuses the multiply-add (a settled last-bit
        # difference: half an ulp of the terms, at most 3 here, where the terms are below 6 in size),
        # while a product taken in a narrower dtype is off by that dtype's rounding (6e-8 for float32)
        wn, gn = w.numpy(), g.numpy()
        assert np.max(np.abs(gn - wn)) <= 3 * np.spacing(wn.dtype.type(6)), (name, np.max(np.abs(gn - wn)))


def test_fairseq_nag_update_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    p0, g0, b0 = (rng.standard_normal((5, 6)) for _ in range(3))
    results = []
    for lib in (torch, gg):
        p = lib.tensor(p0)
        d_p, buf = lib.tensor(g0).float(), lib.tensor(b0).float()
        p.mul_(1 - 0.05 * 0.01)
        p.add_(buf, alpha=0.81)
        p.add_(d_p, alpha=-(1 + 0.9) * 0.05)
        results.append(p.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=0, atol=1e-15)


def test_mixed_dtype_scaled_gradients_match_pytorch(torch):
    rng = np.random.default_rng(5)
    a0, b0, c0 = rng.standard_normal((3, 4)), rng.standard_normal((4,)), rng.uniform(0.5, 2, (3, 1))
    grads = []
    for lib in (torch, gg):
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, dtype=lib.float32, requires_grad=True)
        c = lib.tensor(c0, dtype=lib.float32, requires_grad=True)
        y = lib.add(a, b, alpha=0.3) * lib.addcmul(a, b, c, value=0.7) + lib.addcdiv(a, b, c, value=-1.5)
        y.sum().backward()
        grads.append([t.grad.numpy() for t in (a, b, c)])
    for g, w in zip(grads[1], grads[0], strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=0)


@pytest.mark.parametrize("seed", range(3))
def test_scaled_ops_gradcheck_with_broadcasting(seed):
    rng = np.random.default_rng(seed)
    a = gg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    b = gg.tensor(rng.standard_normal((3, 1)), requires_grad=True)
    c = gg.tensor(rng.uniform(0.5, 2.0, (4,)), requires_grad=True)
    assert gradcheck(lambda x, y, z: gg.add(x, y, alpha=0.7) + gg.rsub(y, x, alpha=1.3), (a, b, c[:1]))
    assert gradcheck(
        lambda x, y, z: gg.addcmul(x, y, z, value=-0.4) + gg.addcdiv(x, y, z, value=0.6), (a, b, c)
    )


# fairseq's ``checkpoint_activations.CheckpointFunction.backward`` asks
# ``torch.autograd._is_checkpoint_valid()`` first: the name was missing, so every transformer built
# with ``checkpoint_activations=True`` failed in backward.


def _validity_seen(lib):
    seen = []

    class Probe(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(lib.autograd._is_checkpoint_valid())
            return g * 2

    x = lib.ones(3, requires_grad=True)
    seen.append(lib.autograd._is_checkpoint_valid())
    Probe.apply(x).sum().backward()
    Probe.apply(x).sum().backward(inputs=[x])
    lib.autograd.grad(Probe.apply(x).sum(), x)
    lib.autograd.grad(Probe.apply(x).sum(), x, create_graph=True)
    Probe.apply(x * 1).sum().backward(retain_graph=True)
    seen.append(lib.autograd._is_checkpoint_valid())
    return seen


def test_is_checkpoint_valid_as_pytorch(torch):
    assert _validity_seen(gg) == _validity_seen(torch) == [True, True, False, False, False, True, True]


def test_reentrant_checkpoint_as_fairseq_runs_it(torch):
    """fairseq's CheckpointFunction in short: forward without grad, backward re-runs the forward
    under grad and refuses when the checkpoint is not valid."""

    def run(lib):
        class Ckpt(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                ctx.save_for_backward(x, w)
                with lib.no_grad():
                    return lib.tanh(x @ w)

            @staticmethod
            def backward(ctx, g):
                if not lib.autograd._is_checkpoint_valid():
                    raise RuntimeError("Checkpointing is not compatible with .grad()")
                x, w = (t.detach().requires_grad_(True) for t in ctx.saved_tensors)
                with lib.enable_grad():
                    out = lib.tanh(x @ w)
                lib.autograd.backward(out, g)
                return x.grad, w.grad

        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((4, 3)), requires_grad=True)
        w = lib.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        Ckpt.apply(x, w).pow(2).sum().backward()
        with pytest.raises(RuntimeError, match="not compatible"):
            lib.autograd.grad(Ckpt.apply(x, w).sum(), w)
        return x.grad.numpy(), w.grad.numpy()

    for got, want in zip(run(gg), run(torch), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)


def test_half_addcdiv_addcmul_with_a_0d_float32_divisor_as_pytorch(torch):
    """A 0-d float32 operand beside float16 tensors: the result is float16 (the 0-d tier does not
    widen it), every operand is read as float16 and the kernel computes in float32, as PyTorch's;
    glassgrad's addcdiv gave a float32 result and addcmul multiplied in float32."""
    out = {}
    for lib in (torch, gg):
        a = lib.tensor([0.1, 0.2, -1.3], dtype=lib.float16)
        t1 = lib.tensor([0.3, 0.7, 2.1], dtype=lib.float16)
        t2 = lib.tensor(0.7, dtype=lib.float32)
        out[lib.__name__] = [
            (str(r.dtype).split(".")[-1], r.tolist())
            for r in (lib.addcdiv(a, t1, t2, value=0.3), lib.addcmul(a, t1, t2, value=0.3))
        ]
    assert out["glassgrad"] == out["torch"]


# A legacy constructor given a 0-d integer tensor among its sizes (fairseq's noising:
# ``LongTensor(lengths.max(), n)``) was refused; PyTorch's size parser reads it.


def test_legacy_constructor_takes_integer_tensors_among_sizes(torch):
    for make in (
        lambda lib: lib.LongTensor(lib.tensor(5), 3),
        lambda lib: lib.Tensor(lib.tensor(2), lib.tensor(3)),
        lambda lib: lib.LongTensor(lib.tensor([4]), 2),
        lambda lib: lib.zeros(3).new(lib.tensor(2), 3),
    ):
        assert tuple(make(gg).shape) == tuple(make(torch).shape)
    for bad in (
        lambda lib: lib.LongTensor(lib.tensor(5.0), 3),
        lambda lib: lib.LongTensor(lib.tensor([5, 2]), 3),
    ):
        with pytest.raises(TypeError):
            bad(torch)
        with pytest.raises(TypeError):
            bad(gg)
