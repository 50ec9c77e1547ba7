"""PyTorch parity for hyperparameters learned through ``differentiable=True`` steps, a tensor
``weight_decay``, and LBFGS's state as Tensors (round 67, PyTorch's test/optim/test_optim.py).

Before: a ``weight_decay`` tensor was refused (TypeError; NotImplementedError when it required
grad), Adam/AdamW's betas that require grad raised NotImplementedError, and LBFGS kept NumPy arrays
and floats in its state (and so in ``state_dict()``) where PyTorch keeps Tensors."""

from __future__ import annotations

import io

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(67)
W0, G0, M0, V0 = (RNG.random(5) for _ in range(4))


def _meta_grads(lib, name, hyper):
    """Two differentiable steps on a non-leaf copy of w (the test file's meta-learning loop), then
    the gradient of the last inner loss with respect to each hyperparameter tensor."""
    f64 = lib.float64
    hp = {k: lib.tensor(v, dtype=f64, requires_grad=True) for k, v in hyper.items()}
    kwargs = {k: v for k, v in hp.items() if not k.startswith("beta")}
    if "beta1" in hp:
        kwargs["betas"] = (hp["beta1"], hp["beta2"])
    p = lib.tensor(W0, dtype=f64, requires_grad=True).clone()
    p.grad = lib.tensor(G0, dtype=f64)
    opt = getattr(lib.optim, name)([p], differentiable=True, **kwargs)
    if name != "SGD":
        opt.state[p].update(
            step=lib.tensor(3.0, dtype=f64),
            exp_avg=lib.tensor(M0, dtype=f64),
            exp_avg_sq=lib.tensor(V0, dtype=f64),
        )
    x, y = lib.tensor([1.0], dtype=f64), lib.tensor([2.0], dtype=f64)
    for _ in range(2):
        loss = ((x * p.sum() - y) ** 2).mean()
        loss.backward(inputs=(p,), create_graph=True)
        opt.step()
        opt.zero_grad()
    keys = sorted(hp)
    grads = lib.autograd.grad(loss, [hp[k] for k in keys])
    return float(loss), p.detach().numpy(), {k: g.detach().numpy() for k, g in zip(keys, grads)}


CASES = [
    ("SGD", {"lr": 0.01, "weight_decay": 0.9}),
    ("SGD", {"weight_decay": 0.5}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.999}),
    ("Adam", {"beta1": 0.9, "beta2": 0.999}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.3, "beta1": 0.8, "beta2": 0.99}),
    ("AdamW", {"weight_decay": 0.5}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.3, "beta1": 0.8, "beta2": 0.99}),
]


@pytest.mark.parametrize(("name", "hyper"), CASES)
def test_meta_gradients_through_learned_hyperparameters_match_pytorch(torch, name, hyper):
    loss, w, grads = _meta_grads(gg, name, hyper)
    t_loss, t_w, t_grads = _meta_grads(torch, name, hyper)
    np.testing.assert_allclose(loss, t_loss, rtol=1e-12)
    np.testing.assert_allclose(w, t_w, rtol=1e-12)
    assert grads.keys() == t_grads.keys()
    for k in grads:
        np.testing.assert_allclose(grads[k], t_grads[k], rtol=1e-9, atol=1e-15, err_msg=k)


@pytest.mark.parametrize(("name", "hyper"), [CASES[0], CASES[4], CASES[6]])
def test_meta_gradients_agree_with_finite_differences(name, hyper):
    """The same meta-gradients against central differences (PyTorch could be the one wrong)."""
    _, _, grads = _meta_grads(gg, name, hyper)
    eps = 1e-6
    for k, g in grads.items():
        up = _meta_grads(gg, name, {**hyper, k: hyper[k] + eps})[0]
        down = _meta_grads(gg, name, {**hyper, k: hyper[k] - eps})[0]
        np.testing.assert_allclose(g, (up - down) / (2 * eps), rtol=1e-6, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "Adamax"])
def test_tensor_weight_decay_steps_as_pytorch(torch, name):
    def run(lib):
        w = lib.tensor(W0.reshape(5, 1), dtype=lib.float32, requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.01, weight_decay=lib.tensor(0.1))
        for k in range(3):
            w.grad = lib.tensor(G0.reshape(5, 1) * (k + 1), dtype=lib.float32)
            opt.step()
        return w.detach().numpy(), opt.param_groups[0]["weight_decay"]

    (w, wd), (t_w, t_wd) = run(gg), run(torch)
    np.testing.assert_allclose(w, t_w, rtol=1e-6)
    assert isinstance(wd, gg.Tensor) and isinstance(t_wd, torch.Tensor)  # the group keeps the tensor


def test_negative_tensor_weight_decay_is_refused_as_pytorch(torch):
    w = gg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        gg.optim.SGD([w], lr=0.1, weight_decay=gg.tensor(-0.1))
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1, weight_decay=torch.tensor(-0.1))


def _lbfgs(lib):
    w = lib.tensor(W0, dtype=lib.float32, requires_grad=True)
    opt = lib.optim.LBFGS([w], lr=0.5, max_iter=4, history_size=2)

    def closure():
        opt.zero_grad()
        loss = ((w - 1.0) ** 4).sum() + (w**2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    return w, opt


def _kinds(lib, state):
    def kind(v):
        if isinstance(v, list):
            return [kind(x) for x in v]
        if isinstance(v, lib.Tensor):
            return ("Tensor", str(v.dtype).split(".")[-1], tuple(v.shape))
        return type(v).__name__

    return {k: kind(v) for k, v in state.items()}


def test_lbfgs_state_holds_tensors_as_pytorch(torch):
    w, opt = _lbfgs(gg)
    t_w, t_opt = _lbfgs(torch)
    np.testing.assert_allclose(w.detach().numpy(), t_w.detach().numpy(), rtol=1e-5)
    assert _kinds(gg, opt.state[w]) == _kinds(torch, t_opt.state[t_w])


def test_lbfgs_state_dict_survives_a_weights_only_round_trip_and_continues():
    w, opt = _lbfgs(gg)
    buf = io.BytesIO()
    gg.save(opt.state_dict(), buf)
    buf.seek(0)
    sd = gg.load(buf, weights_only=True)
    w2 = gg.tensor(w.detach().numpy(), dtype=gg.float32, requires_grad=True)
    opt2 = gg.optim.LBFGS([w2], lr=0.5, max_iter=4, history_size=2)
    opt2.load_state_dict(sd)
    assert _kinds(gg, opt2.state[w2]) == _kinds(gg, opt.state[w])
    for lib_w, o in ((w, opt), (w2, opt2)):

        def closure(lib_w=lib_w, o=o):
            o.zero_grad()
            loss = ((lib_w - 1.0) ** 4).sum() + (lib_w**2).sum()
            loss.backward()
            return loss

        o.step(closure)
    np.testing.assert_array_equal(w.detach().numpy(), w2.detach().numpy())
