"""Round 63, nlpmix: DeBERTa (disentangled attention, XSoftmax/XDropout, Fp16Optimizer + XAdam),
RWKV-LM's training code (RWKV-v7 ``rwkv7_train_simplified.py``, RWKV-v5 ``src/model.py`` x060/x070
with L2Wrap) and nano-llama31 ran against PyTorch 2.13 with PyTorch's weights: float64 outputs,
gradients and parameters after three optimizer steps agreed to 1e-12. XAdam is written with the
deprecated number-first overloads (``next_m.mul_(b1).add_(1 - b1, g)``, ``addcmul_(1 - b2, g, g)``),
which glassgrad took; their siblings in the addmm family (``torch.addmm(beta, input, alpha, m1, m2)``,
``x.addmm_(beta, m1, m2)``, ``baddbmm``/``addbmm``/``addmv``/``addr``), from the same era of
scripts, raised "takes 3 positional arguments but 5 were given". The tests below are fresh programs
with those patterns, compared with PyTorch in float64, plus the XSoftmax pattern of DeBERTa.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _data(lib, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"a": (3, 4), "m1": (3, 5), "m2": (5, 4), "v": (5,), "a1": (3,), "v1": (3,), "v2": (4,)}
    return {k: lib.tensor(rng.standard_normal(s), requires_grad=True) for k, s in shapes.items()}


# name -> a program with one deprecated call (the tensors of _data), the function and the method forms
_CALLS = {
    "addmm_f5": lambda lib, d: lib.addmm(0.5, d["a"], 2.0, d["m1"], d["m2"]),
    "addmm_f4": lambda lib, d: lib.addmm(0.5, d["a"], d["m1"], d["m2"]),
    "addmm_m4": lambda lib, d: d["a"].addmm(0.5, 2.0, d["m1"], d["m2"]),
    "addmm_m3": lambda lib, d: d["a"].addmm(0.5, d["m1"], d["m2"]),
    "addmm_m3_0d_beta": lambda lib, d: d["a"].addmm(lib.tensor(0.25, dtype=lib.float64), d["m1"], d["m2"]),
    "addmm__m4": lambda lib, d: (d["a"] * 1).addmm_(0.5, -1.5, d["m1"], d["m2"]),
    "addmm__m3": lambda lib, d: (d["a"] * 1).addmm_(0.0, d["m1"], d["m2"]),
    "baddbmm_f5": lambda lib, d: lib.baddbmm(0.5, d["a"][None], 2.0, d["m1"][None], d["m2"][None]),
    "baddbmm__m3": lambda lib, d: (d["a"][None] * 1).baddbmm_(3.0, d["m1"][None], d["m2"][None]),
    "addbmm_f4": lambda lib, d: lib.addbmm(0.5, d["a"], d["m1"][None], d["m2"][None]),
    "addbmm_m4": lambda lib, d: d["a"].addbmm(0.5, 2.0, d["m1"].expand(2, 3, 5), d["m2"].expand(2, 5, 4)),
    "addmv_f5": lambda lib, d: lib.addmv(0.5, d["a1"], -2.0, d["m1"], d["v"]),
    "addmv__m3": lambda lib, d: (d["a1"] * 1).addmv_(2.0, d["m1"], d["v"]),
    "addr_m4": lambda lib, d: d["a"].addr(0.5, 2.0, d["v1"], d["v2"]),
    "addr_f4": lambda lib, d: lib.addr(0.5, d["a"], d["v1"], d["v2"]),
    "addr__m4": lambda lib, d: (d["a"] * 1).addr_(-0.5, 2.0, d["v1"], d["v2"]),
}


def _run(lib, name):
    d = _data(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = _CALLS[name](lib, d)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * lib.tensor(g)).sum().backward()
    grads = {k: t.grad.numpy() for k, t in d.items() if t.grad is not None}
    return out.detach().numpy(), grads


@pytest.mark.parametrize("name", list(_CALLS))
def test_deprecated_blas_forms_match_pytorch(name, torch):
    got, got_g = _run(gg, name)
    want, want_g = _run(torch, name)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert sorted(got_g) == sorted(want_g)
    for k in want_g:
        np.testing.assert_allclose(got_g[k], want_g[k], rtol=1e-13, atol=1e-13, err_msg=k)


def test_deprecated_blas_form_keeps_integer_dtype(torch):
    def run(lib):
        i = lib.ones(3, 4, dtype=lib.long)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return i.addmm(2, lib.ones(3, 5, dtype=lib.long), lib.ones(5, 4, dtype=lib.long))

    got, want = run(gg), run(torch)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1] == "int64"
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (
            lambda d: gg.addmm(0.5, d["a"], 2.0, d["m1"], d["m2"]),
            "addmm(Number beta, Tensor input, Number alpha, ",
        ),
        (lambda d: gg.addmm(0.5, d["a"], d["m1"], d["m2"]), "addmm(Number beta, Tensor input, Tensor mat1"),
        (lambda d: d["a"].addmm(0.5, d["m1"], d["m2"]), "addmm(Number beta, Tensor mat1, Tensor mat2)"),
        (lambda d: d["a"].detach().addmm_(0.5, 2.0, d["m1"], d["m2"]), "addmm_(Number beta, Number alpha, "),
        (
            lambda d: d["a"].detach().addr_(0.5, d["v1"], d["v2"]),
            "addr_(Number beta, Tensor vec1, Tensor vec2)",
        ),
    ],
    ids=["addmm_f5", "addmm_f4", "addmm_m3", "addmm__m4", "addr__m3"],
)
def test_deprecated_blas_forms_warn_as_pytorch(call, text):
    d = {k: t.detach() for k, t in _data(gg).items()}
    with pytest.warns(UserWarning, match="^This overload of ") as rec:
        call(d)
    assert text in str(rec[0].message)
    with warnings.catch_warnings():  # once per process, whichever deprecated overload comes first
        warnings.simplefilter("error")
        call(d)
        d["a"].detach().add_(2.0, d["a"])


def test_deprecated_blas_forms_refusals_are_type_errors():
    d = {k: t.detach() for k, t in _data(gg).items()}
    with pytest.raises(TypeError, match=r"^addmm: beta and alpha are given by position"):
        d["a"].addmm(0.5, d["m1"], d["m2"], alpha=2.0)
    with pytest.raises(TypeError, match=r"^addmm_: beta and alpha are given by position"):
        d["a"].addmm_(0.5, d["m1"], d["m2"], beta=2.0)
    with pytest.raises(TypeError, match=r"^addmm: expected \(Tensor input, Tensor mat1, Tensor mat2"):
        gg.addmm(0.5, d["a"], d["m1"], d["m2"], d["m2"])
    with pytest.raises(TypeError, match=r"^baddbmm: expected tensors for input, batch1 and batch2"):
        gg.baddbmm(0.5, d["a"][None], 2.0, 3.0, d["m2"][None])


def _xsoftmax_program(lib):
    """DeBERTa's XSoftmax: a custom Function over masked_fill/softmax whose backward is
    ``_softmax_backward_data``; a uint8 attention mask built as ``m[:, None, None] * m[..., None]``."""

    class XSoftmax(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, mask, dim):
            ctx.dim = dim
            rmask = ~(mask.bool())
            out = lib.softmax(x.masked_fill(rmask, float("-inf")), dim)
            out.masked_fill_(rmask, 0)
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return lib._softmax_backward_data(g, out, ctx.dim, out.dtype), None, None

    rng = np.random.default_rng(3)
    x = lib.tensor(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    m = lib.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]).byte()
    mask = m[:, None, None, :] * m[:, None, :, None]
    y = XSoftmax.apply(x, mask, -1)
    (y * lib.tensor(rng.standard_normal((2, 2, 5, 5)))).sum().backward()
    return y.detach().numpy(), x.grad.numpy()


def test_xsoftmax_custom_function_matches_pytorch(torch):
    (y, gx), (ty, tgx) = _xsoftmax_program(gg), _xsoftmax_program(torch)
    np.testing.assert_allclose(y, ty, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(gx, tgx, rtol=1e-13, atol=1e-15)
