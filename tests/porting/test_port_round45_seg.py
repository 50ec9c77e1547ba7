"""Round 45, group seg: segmentation_models.pytorch (with timm) and deepinv, run with only their
imports changed.

smp's ``efficientnet-b0`` encoder (``Conv2dStaticSamePadding``) calls ``F.conv2d`` with
``stride=[1]``: PyTorch's convolutions expand a one-element list to every spatial dim (as its max
and average pooling do for the kernel size, stride, padding and dilation); glassgrad refused it.
"""

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck

RNG = np.random.default_rng(45)


def _arr(*shape):
    return RNG.standard_normal(shape)


# (name, input shape, weight shape or None, keywords): every keyword a one-element list
CASES = [
    ("conv1d", (2, 2, 7), (3, 2, 3), dict(stride=[2], padding=[1], dilation=[1])),
    ("conv2d", (2, 2, 6, 7), (3, 2, 3, 3), dict(stride=[2], padding=[1], dilation=[2])),
    ("conv2d", (2, 4, 5, 6), (4, 2, 3, 3), dict(stride=[1], padding=[2], groups=2)),
    ("conv3d", (1, 2, 5, 6, 4), (3, 2, 3, 3, 3), dict(stride=[2], padding=[1], dilation=[1])),
    ("conv_transpose1d", (2, 2, 5), (2, 3, 3), dict(stride=[2], padding=[1], output_padding=[1])),
    ("conv_transpose2d", (2, 2, 4, 5), (2, 3, 3, 3), dict(stride=[2], padding=[1], output_padding=[1], dilation=[1])),
    ("conv_transpose3d", (1, 2, 3, 4, 3), (2, 3, 3, 3, 3), dict(stride=[2], padding=[1], output_padding=[1])),
    ("max_pool1d", (2, 3, 9), None, dict(kernel_size=[3], stride=[2], padding=[1], dilation=[1])),
    ("max_pool2d", (2, 3, 7, 8), None, dict(kernel_size=[3], stride=[2], padding=[1], dilation=[2])),
    ("max_pool3d", (1, 2, 5, 6, 5), None, dict(kernel_size=[2], stride=[2], padding=[1])),
    ("avg_pool1d", (2, 3, 9), None, dict(kernel_size=[3], stride=[2], padding=[1])),
    ("avg_pool2d", (2, 3, 7, 8), None, dict(kernel_size=[3], stride=[1], padding=[1], count_include_pad=False)),
    ("avg_pool3d", (1, 2, 5, 6, 5), None, dict(kernel_size=[2], stride=[1], padding=[1])),
]  # fmt: skip


def _call(lib_f, name, x, w, kw):
    return getattr(lib_f, name)(x, w, **kw) if w is not None else getattr(lib_f, name)(x, **kw)


@pytest.mark.parametrize(("name", "xs", "ws", "kw"), CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_one_element_size_lists_match_pytorch(torch, name, xs, ws, kw):
    # was: ShapeError "conv2d: expected stride as an int or a tuple of 2 ints, got [1]"
    x, w = _arr(*xs), (_arr(*ws) if ws is not None else None)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True) if w is not None else None
    gx = gg.tensor(x, requires_grad=True)
    gw = gg.tensor(w, requires_grad=True) if w is not None else None
    want = _call(torch.nn.functional, name, tx, tw, kw)
    got = _call(F, name, gx, gw, kw)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = _arr(*want.shape)
    want.backward(torch.tensor(g))
    got.backward(gg.tensor(g))
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    if w is not None:
        np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_one_element_lists_gradcheck():
    x = gg.tensor(_arr(1, 2, 5, 4), requires_grad=True)
    w = gg.tensor(_arr(3, 2, 3, 2), requires_grad=True)
    b = gg.tensor(_arr(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=[2], padding=[1], dilation=[1]), (x, w, b))
    wt = gg.tensor(_arr(2, 3, 2, 3), requires_grad=True)
    assert gradcheck(
        lambda x, w: F.conv_transpose2d(x, w, stride=[2], padding=[1], output_padding=[1]), (x, wt)
    )
    assert gradcheck(lambda x: F.avg_pool2d(x, [2], stride=[1], padding=[1]), (x,))


def test_modules_take_one_element_lists(torch):
    # PyTorch's Conv2d stores _pair([2]) == (2,) and its forward expands it; MaxPool2d/AvgPool2d pass
    # the list on to the functional
    x = _arr(2, 2, 6, 7)
    tm = torch.nn.Conv2d(2, 3, 3, stride=[2], padding=[1], dilation=[1]).double()
    gm = gg.nn.Conv2d(2, 3, 3, stride=[2], padding=[1], dilation=[1]).double()
    gm.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_allclose(
        gm(gg.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-12
    )
    tt = torch.nn.ConvTranspose2d(2, 3, 3, stride=[2], padding=[1], output_padding=[1]).double()
    gt = gg.nn.ConvTranspose2d(2, 3, 3, stride=[2], padding=[1], output_padding=[1]).double()
    gt.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in tt.state_dict().items()})
    np.testing.assert_allclose(
        gt(gg.tensor(x)).detach().numpy(), tt(torch.tensor(x)).detach().numpy(), atol=1e-12
    )
    for name, kw in (("MaxPool2d", dict(stride=[2])), ("AvgPool2d", dict(stride=[2], padding=[1]))):
        want = getattr(torch.nn, name)([2], **kw)(torch.tensor(x)).numpy()
        got = getattr(gg.nn, name)([2], **kw)(gg.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, atol=1e-12)


def test_conv_grad_helpers_take_one_element_lists(torch):
    x, w = _arr(1, 2, 6, 6), _arr(3, 2, 3, 3)
    go = _arr(1, 3, 3, 3)
    want = torch.nn.grad.conv2d_input(x.shape, torch.tensor(w), torch.tensor(go), stride=[2], padding=[1])
    got = gg.nn.grad.conv2d_input(x.shape, gg.tensor(w), gg.tensor(go), stride=[2], padding=[1])
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    want = torch.nn.grad.conv2d_weight(torch.tensor(x), w.shape, torch.tensor(go), stride=[2], padding=[1])
    got = gg.nn.grad.conv2d_weight(gg.tensor(x), w.shape, gg.tensor(go), stride=[2], padding=[1])
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda x: F.unfold(x, [2]), "kernel_size"),  # PyTorch: "expected kernel_size equals to 2"
        (lambda x: F.fold(gg.zeros(1, 8, 25), 6, [2]), "kernel_size"),
        (lambda x: F.lp_pool2d(x, 2, [2]), "kernel_size"),
        (lambda x: F.adaptive_avg_pool2d(x, [2]), "output_size"),
        (lambda x: F.conv2d(x, gg.zeros(3, 2, 3, 3), stride=(1, 1, 1)), "stride"),
        (lambda x: F.conv2d(x, gg.zeros(3, 2, 3, 3), stride=[]), "stride"),
        (lambda x: F.max_pool2d(x, [2, 2, 2]), "kernel_size"),
    ],
)
def test_other_lengths_still_refused(call, words):
    # as PyTorch: unfold/fold, lp and adaptive pooling take no one-element list; other lengths refused
    with pytest.raises(ValueError, match=words):
        call(gg.zeros(1, 2, 6, 6))


# deepinv's RandomPhaseRetrieval (a CompressedSensing with a complex matrix) takes linalg.pinv of a
# complex128 matrix; glassgrad refused it ("linalg.pinv: expected a float32 or float64 input").


def _complex(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


@pytest.mark.parametrize(
    ("shape", "hermitian", "deficient"),
    [((4, 3), False, False), ((3, 5), False, False), ((2, 3, 4, 2), False, False), ((5, 4), False, True),
     ((3, 3), True, False), ((2, 4, 4), True, False)],
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_pinv_matches_pytorch(torch, shape, hermitian, deficient, dtype):
    a = _complex(*shape)
    if hermitian:
        a = a + np.conj(np.swapaxes(a, -1, -2))
    if deficient:
        a[..., -1] = 2 * a[..., 0]  # rank 3 of 4: the cut-off drops a singular value
    a = a.astype(dtype)
    ta, ga = torch.tensor(a, requires_grad=True), gg.tensor(a, requires_grad=True)
    tp, gp = torch.linalg.pinv(ta, hermitian=hermitian), gg.linalg.pinv(ga, hermitian=hermitian)
    assert gp.dtype == gg.complex128 if dtype == np.complex128 else gp.dtype == gg.complex64
    tol = 1e-12 if dtype == np.complex128 else 2e-5
    np.testing.assert_allclose(gp.detach().numpy(), tp.detach().numpy(), atol=tol, rtol=tol)
    w = _complex(*tp.shape).astype(dtype)
    (tp * torch.tensor(w)).real.sum().backward()
    (gp * gg.tensor(w)).real.sum().backward()
    np.testing.assert_allclose(ga.grad.numpy(), ta.grad.numpy(), atol=tol * 10, rtol=tol * 10)
    np.testing.assert_equal(
        gg.linalg.matrix_rank(gg.tensor(a)).numpy(), torch.linalg.matrix_rank(torch.tensor(a)).numpy()
    )


def test_complex_pinv_gradcheck():
    for shape in ((3, 4), (2, 4, 3)):
        a = gg.tensor(_complex(*shape), requires_grad=True)
        assert gradcheck(lambda a: gg.linalg.pinv(a), (a,))
    h = _complex(3, 3)
    h = gg.tensor(h + h.conj().T, requires_grad=True)
    assert gradcheck(lambda h: gg.linalg.pinv((h + h.mH) / 2, hermitian=True), (h,))
    assert gradcheck(lambda a: gg.pinverse(a), (gg.tensor(_complex(4, 2), requires_grad=True),))


def test_complex_pinv_real_results_unchanged(torch):
    a = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(
        gg.linalg.pinv(gg.tensor(a)).numpy(), torch.linalg.pinv(torch.tensor(a)).numpy(), atol=1e-13
    )
    with pytest.raises(TypeError, match="linalg.pinv"):
        gg.linalg.pinv(gg.tensor([[1, 2], [3, 4]]))  # integer input: refused by name, as before


def test_setitem_shape_error_names_the_target_shape():
    # deepinv's Upsampling wrote a (2, 1, 16, 16) value into x[..., ::2, ::2]: the message said
    # "broadcastable to x[key] of x with shape (2, 1, 16, 16), got shape (2, 1, 16, 16)"
    x = gg.zeros(2, 1, 16, 16)
    with pytest.raises(
        ValueError, match=r"x\[key\] \(shape \(2, 1, 8, 8\)\) of x with shape \(2, 1, 16, 16\)"
    ):
        x[..., ::2, ::2] = gg.ones(2, 1, 16, 16)
    with pytest.raises(ValueError, match=r"x\[key\] \(shape \(2, 3, 16\)\)"):
        x[[0, 1], 0, :3] = gg.ones(5, 16)


# deepinv's automatic adjoint (``adjoint_function``) is ``torch.func.vjp`` of a complex operator
# (complex compressed sensing, ptychography), and its phase-retrieval tests take
# ``torch.func.grad`` at a complex point: glassgrad refused complex inputs to every transform
# ("vjp: expected floating-point inputs to differentiate, got complex128 in primal 0"). PyTorch's
# grad and vjp take them; its jacrev and hessian refuse them.


def _funcs(lib):
    f = lib.func
    return f.grad, f.grad_and_value, f.vjp


def test_func_grad_and_vjp_take_complex_inputs(torch):
    z, w, c = _complex(3), _complex(2, 3), _complex(2)
    results = {}
    for name, lib in (("pt", torch), ("gg", gg)):
        grad, grad_and_value, vjp = _funcs(lib)
        zt, wt, ct = lib.tensor(z), lib.tensor(w), lib.tensor(c)
        loss = lambda z, wt=wt: ((wt @ z).abs() ** 2).sum() + (z * z).real.sum()  # noqa: E731
        g1 = grad(loss)(zt)
        g2, v2 = grad_and_value(lambda z: (z.abs() ** 3).sum())(zt)
        out, fn = vjp(lambda z, wt=wt: wt @ (z * z.conj() + z), zt)
        (g3,) = fn(ct)
        (g4,) = vjp(lambda z: z.abs(), zt)[1](lib.ones(3, dtype=lib.float64))
        results[name] = [x.detach().resolve_conj().numpy() for x in (g1, g2, v2, out, g3, g4)]
    for want, got in zip(results["pt"], results["gg"]):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_func_complex_refusals_as_pytorch():
    z = gg.tensor(_complex(3))
    with pytest.raises(TypeError, match="jacrev: expected real floating-point inputs"):
        gg.func.jacrev(lambda z: z * z)(z)
    with pytest.raises(TypeError, match="real floating-point"):
        gg.func.hessian(lambda z: (z.abs() ** 2).sum())(z)
    with pytest.raises(RuntimeError, match="real scalar outputs"):  # a complex loss has no grad
        gg.func.grad(lambda z: (z * z).sum())(z)
    with pytest.raises(TypeError, match="grad: expected floating-point or complex inputs"):
        gg.func.grad(lambda x: (x * x).sum())(gg.tensor([1, 2]))


# deepinv's multiscale wrappers blur complex images (complex compressed sensing, ptychography):
# glassgrad's convolutions refused complex input ("conv2d: expected a floating-point or integer
# input, got complex128"); PyTorch convolves complex input, weight and bias of one dtype.
COMPLEX_CONVS = [
    ("conv2d", (2, 2, 6, 5), (3, 2, 3, 3), True, dict(stride=2, padding=1)),
    ("conv2d", (2, 6, 5), (3, 2, 3, 2), False, dict(padding="same")),
    ("conv1d", (2, 4, 7), (4, 2, 3), True, dict(groups=2, dilation=2)),
    ("conv3d", (1, 2, 4, 5, 4), (3, 2, 2, 3, 2), True, dict(stride=[1], padding=1)),
    ("conv_transpose2d", (2, 2, 4, 3), (2, 3, 3, 3), True, dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose1d", (2, 2, 5), (2, 3, 3), False, dict(stride=2)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "xs", "ws", "bias", "kw"), COMPLEX_CONVS, ids=[c[0] for c in COMPLEX_CONVS])
@pytest.mark.parametrize("dtype", [np.complex128, np.complex64])
def test_complex_convolution_matches_pytorch(torch, name, xs, ws, bias, kw, dtype):
    x, w = _complex(*xs).astype(dtype), _complex(*ws).astype(dtype)
    b = _complex(ws[0] if "transpose" not in name else ws[1]).astype(dtype) if bias else None
    results = {}
    for key, lib in (("pt", torch), ("gg", gg)):
        ts = [lib.tensor(a, requires_grad=True) if a is not None else None for a in (x, w, b)]
        out = getattr(lib.nn.functional, name)(*ts, **kw)
        g = np.ones(tuple(out.shape)) * (0.5 - 0.25j)
        (out * lib.tensor(g.astype(dtype))).real.sum().backward()
        results[key] = [out.detach().numpy()] + [t.grad.numpy() for t in ts if t is not None]
    tol = 1e-12 if dtype == np.complex128 else 1e-4
    for want, got in zip(results["pt"], results["gg"]):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_complex_convolution_gradcheck_and_refusal():
    x = gg.tensor(_complex(1, 2, 5, 4), requires_grad=True)
    w = gg.tensor(_complex(3, 2, 3, 2), requires_grad=True)
    b = gg.tensor(_complex(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=[2], padding=1), (x, w, b))
    wt = gg.tensor(_complex(2, 3, 2, 3), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1), (x, wt))
    with pytest.raises(TypeError, match=r"conv2d: expected input, weight and bias of one dtype"):
        F.conv2d(x.detach(), gg.zeros(3, 2, 3, 3, dtype=gg.float64))  # PyTorch: "should be the same"
