"""Round 31, style: neural_style_tutorial and pytorch-grad-cam's core, distilled repros.

Both programs ran unchanged and matched PyTorch; these pin what they lean on. Grad-CAM saves a
layer's output detached from a forward hook and its gradient through ``output.register_hook``
(the in-place ReLU that follows then changes the saved, storage-sharing activation, in both
libraries); ShapleyCAM takes a Hessian-vector product of the layer's gradient; guided backprop is
a legacy-style ``autograd.Function`` whose ``self`` is the context; the style transfer runs LBFGS
on the image with ``input_img.data.clamp_`` inside the closure and Gram-matrix losses."""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _cnn(lib, w):
    nn = lib.nn
    m = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.SiLU(), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(6, 3),
    )  # fmt: skip
    if w:
        m.double().load_state_dict({k: lib.tensor(v) for k, v in w.items()})
    return m.double().eval()


def _weights(torch):
    torch.manual_seed(0)
    w = {k: v.numpy().copy() for k, v in _cnn(torch, {}).state_dict().items()}
    rng = np.random.default_rng(0)
    w["1.running_mean"], w["1.running_var"] = rng.standard_normal(4) * 0.1, rng.random(4) + 0.5
    return w, rng.standard_normal((2, 3, 8, 8))


def _grad_cam(lib, w, x):
    """The hooks of ActivationsAndGradients on two layers, then GradCAM's weights and map."""
    m = _cnn(lib, w)
    acts, grads = [], []

    def save(module, inp, out):
        acts.append(out.detach())
        if out.requires_grad:
            out.register_hook(lambda g: grads.insert(0, g.detach()))

    handles = [m[1].register_forward_hook(save), m[4].register_forward_hook(save)]
    out = m(lib.tensor(x))
    m.zero_grad()
    sum([o[c] for o, c in zip(out, [2, 0])]).backward(retain_graph=True)
    for h in handles:
        h.remove()
    cams = []
    for a, g in zip(acts, grads):
        a, g = a.numpy(), g.numpy()
        cams.append(np.maximum((g.mean(axis=(2, 3))[:, :, None, None] * a).sum(axis=1), 0))
    return [a.numpy() for a in acts], [g.numpy() for g in grads], cams


def test_grad_cam_hooks_match_torch(torch):
    w, x = _weights(torch)
    ta, tg, tc = _grad_cam(torch, w, x)
    ga, gg_, gc = _grad_cam(gg, w, x)
    assert (ta[0] >= 0).all()  # the in-place ReLU reached the detached, saved activation
    for t, g in zip(ta + tg + tc, ga + gg_ + gc):
        np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-14)


def _shapley(lib, w, x):
    """ShapleyCAM: grad of the score at the layer with create_graph, then its HVP with the layer."""
    m = _cnn(lib, w)
    saved = {}
    m[5].register_forward_hook(lambda mod, i, o: saved.__setitem__("a", o))
    inp = lib.autograd.Variable(lib.tensor(x), requires_grad=True)
    out = m(inp)
    loss = lib.softmax(out, dim=-1)[:, 1].sum()
    (g,) = lib.autograd.grad(loss, saved["a"], retain_graph=True, create_graph=True)
    (hvp,) = lib.autograd.grad(outputs=g, inputs=saved["a"], grad_outputs=saved["a"], allow_unused=True)
    return g.detach().numpy(), hvp.numpy()


def test_shapley_cam_hessian_vector_product_matches_torch(torch):
    w, x = _weights(torch)
    for t, g in zip(_shapley(torch, w, x), _shapley(gg, w, x)):
        assert np.abs(t).max() > 0
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-15)


def _guided(lib, x, gout):
    class GuidedBackpropReLU(lib.autograd.Function):
        @staticmethod
        def forward(self, input_img):
            mask = (input_img > 0).type_as(input_img)
            output = lib.addcmul(lib.zeros(input_img.size()).type_as(input_img), input_img, mask)
            self.save_for_backward(input_img, output)
            return output

        @staticmethod
        def backward(self, grad_output):
            input_img, _ = self.saved_tensors
            m1 = (input_img > 0).type_as(grad_output)
            m2 = (grad_output > 0).type_as(grad_output)
            zeros = lib.zeros(input_img.size()).type_as(input_img)
            return lib.addcmul(zeros, lib.addcmul(zeros, grad_output, m1), m2)

    t = lib.tensor(x, requires_grad=True)
    y = GuidedBackpropReLU.apply(t)
    y.backward(lib.tensor(gout))
    return y.detach().numpy(), t.grad.numpy(), str(y.dtype).split(".")[-1]


def test_guided_backprop_legacy_function_matches_torch(torch):
    rng = np.random.default_rng(1)
    x, gout = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    t, g = _guided(torch, x, gout), _guided(gg, x, gout)
    assert t[2] == g[2] == "float64"
    np.testing.assert_array_equal(g[0], t[0])
    np.testing.assert_array_equal(g[1], t[1])


def _style(lib, w, content, style):
    F = lib.nn.functional

    def gram(a):
        n, c, h, wd = a.size()
        f = a.view(n * c, h * wd)
        return lib.mm(f, f.t()).div(n * c * h * wd)

    m = _cnn(lib, w)[:3]
    target_c = m(lib.tensor(content)).detach()
    target_s = gram(m(lib.tensor(style))).detach()
    img = lib.tensor(content).clone()
    opt = lib.optim.LBFGS([img.requires_grad_()], max_iter=6)
    losses = []

    def closure():
        img.data.clamp_(0, 1)
        opt.zero_grad()
        f = m(img)
        loss = F.mse_loss(gram(f), target_s) * 1e4 + F.mse_loss(f, target_c)
        loss.backward()
        losses.append(loss.item())
        return loss

    for _ in range(2):
        opt.step(closure)
    img.data.clamp_(0, 1)
    return img.detach().numpy(), np.array(losses)


def test_style_transfer_lbfgs_with_clamp_matches_torch(torch):
    w, _ = _weights(torch)
    rng = np.random.default_rng(2)
    content, style = rng.random((1, 3, 8, 8)), rng.random((1, 3, 8, 8))
    ti, tl = _style(torch, w, content, style)
    gi, gl = _style(gg, w, content, style)
    assert len(tl) == len(gl) and tl[-1] < tl[0]
    np.testing.assert_allclose(gl, tl, rtol=1e-9)
    np.testing.assert_allclose(gi, ti, rtol=0, atol=1e-9)
