"""Round 61, d2lrerun: *Dive into Deep Learning* (d2l-ai/d2l-en @ 23d7a5a, still its newest commit)
re-run at HEAD, 48 rounds after rounds 12-13 ported it.

Every section of the course's core ran on glassgrad without an error PyTorch does not raise, and
trained in lockstep with PyTorch (PyTorch's weights, the same batches) to float64 rounding. No
test pinned several patterns the book's own code is built from; these tests do, each a short
program of that pattern (written fresh here) against PyTorch in float64: gradient clipping by
slice assignment into ``p.grad``, the optimization chapter's from-scratch optimizers (updates
through ``p.data``, ``p[:]`` and state tensors ``s[:]``), the attention chapter's masked softmax
by boolean index assignment, and the RNN chapter's one-hot inputs through a scratch RNN.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg

_RNG = np.random.default_rng(61)
_X = _RNG.normal(size=(12, 5))
_Y = _X @ _RNG.normal(size=(5, 1)) + 0.3 * _RNG.normal(size=(12, 1))
_W0 = 0.1 * _RNG.normal(size=(5, 1))


def _close(a, b, rtol=1e-13):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-15)


# ---- d2l.Trainer.clip_gradients: grads rescaled in place by a 0-d tensor -------------------------


def _clipped(lib, theta):
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.Tanh(), lib.nn.Linear(7, 1)).double()
    rng = np.random.default_rng(3)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.normal(size=tuple(p.shape))))
    loss = ((net(lib.tensor(_X)) - lib.tensor(_Y)) ** 2).mean()
    before = [id(p.grad) for p in net.parameters()]
    with lib.no_grad():
        loss.backward()
        params = [p for p in net.parameters() if p.requires_grad]
        held = [p.grad for p in params]
        norm = lib.sqrt(sum(lib.sum(p.grad**2) for p in params))
        if norm > theta:
            for param in params:
                param.grad[:] *= theta / norm
    assert all(h is p.grad for h, p in zip(held, params, strict=True))  # rescaled in place
    assert before != [id(p.grad) for p in params]
    return float(norm), [p.grad.numpy().copy() for p in params]


@pytest.mark.parametrize("theta", [1e-3, 1e6])
def test_clip_gradients_by_slice_assignment_as_torch(torch, theta):
    norm_t, grads_t = _clipped(torch, theta)
    norm_g, grads_g = _clipped(gg, theta)
    _close(norm_g, norm_t)
    for a, b in zip(grads_g, grads_t, strict=True):
        _close(a, b)
    if theta < norm_t:  # the clipped gradients have the norm theta
        _close(math.sqrt(sum(float((g**2).sum()) for g in grads_g)), theta, rtol=1e-12)


# ---- the optimization chapter's scratch optimizers on d2l's linear regression ---------------------


def _step(lib, name, params, states, hp):
    if name == "sgd":
        for p in params:
            p.data.sub_(hp["lr"] * p.grad)
            p.grad.data.zero_()
        return
    with lib.no_grad():
        for p, s in zip(params, states, strict=True):
            if name == "momentum":
                s[:] = hp["momentum"] * s + p.grad
                p[:] -= hp["lr"] * s
            elif name == "adagrad":
                s[:] += lib.square(p.grad)
                p[:] -= hp["lr"] * p.grad / lib.sqrt(s + 1e-6)
            elif name == "rmsprop":
                s[:] = hp["gamma"] * s + (1 - hp["gamma"]) * lib.square(p.grad)
                p[:] -= hp["lr"] * p.grad / lib.sqrt(s + 1e-6)
            elif name == "adadelta":
                s_, d = s
                s_[:] = hp["rho"] * s_ + (1 - hp["rho"]) * lib.square(p.grad)
                g = (lib.sqrt(d + 1e-5) / lib.sqrt(s_ + 1e-5)) * p.grad
                p[:] -= g
                d[:] = hp["rho"] * d + (1 - hp["rho"]) * g * g
            elif name == "adam":
                v, s_ = s
                v[:] = 0.9 * v + 0.1 * p.grad
                s_[:] = 0.999 * s_ + 0.001 * lib.square(p.grad)
                v_hat = v / (1 - 0.9 ** hp["t"])
                s_hat = s_ / (1 - 0.999 ** hp["t"])
                p[:] -= hp["lr"] * v_hat / (lib.sqrt(s_hat) + 1e-6)
            p.grad.data.zero_()
    if name == "adam":
        hp["t"] += 1


_HYPER = {
    "sgd": {"lr": 0.05},
    "momentum": {"lr": 0.02, "momentum": 0.9},
    "adagrad": {"lr": 0.1},
    "rmsprop": {"lr": 0.01, "gamma": 0.9},
    "adadelta": {"rho": 0.9},
    "adam": {"lr": 0.01, "t": 1},
}


def _train_scratch(lib, name, steps=6):
    w = lib.tensor(_W0.copy(), requires_grad=True)
    b = lib.zeros(1, dtype=lib.float64, requires_grad=True)
    params = [w, b]

    def state():
        return lib.zeros_like(w.detach()), lib.zeros(1, dtype=lib.float64)

    if name in ("adadelta", "adam"):
        states = [(state()[i], state()[i]) for i in range(2)]
    else:
        states = list(state())
    hp = dict(_HYPER[name])
    X, y = lib.tensor(_X), lib.tensor(_Y)
    losses = []
    for i in range(steps):
        batch = slice(4 * (i % 3), 4 * (i % 3) + 4)
        loss = ((lib.matmul(X[batch], w) + b - y[batch]) ** 2 / 2).mean()
        loss.backward()
        _step(lib, name, params, states, hp)
        losses.append(float(loss.detach()))
    return losses, [p.detach().numpy().copy() for p in params], w.grad.numpy().copy()


@pytest.mark.parametrize("name", list(_HYPER))
def test_scratch_optimizers_update_in_place_as_torch(torch, name):
    lt, pt, gt = _train_scratch(torch, name)
    lg, pg, gg_ = _train_scratch(gg, name)
    _close(lg, lt)
    for a, b in zip(pg, pt, strict=True):
        _close(a, b)
    _close(gg_, gt)  # zeroed through .grad.data
    assert not np.any(gg_)


# ---- the attention chapter's masked softmax: boolean index assignment into a flattened view ------


def _masked_softmax(lib, X, valid_lens):
    def sequence_mask(X, valid_len, value=0):
        maxlen = X.size(1)
        mask = lib.arange(maxlen, dtype=lib.float32)[None, :] < valid_len[:, None]
        X[~mask] = value
        return X

    if valid_lens is None:
        return lib.nn.functional.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = lib.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return lib.nn.functional.softmax(X.reshape(shape), dim=-1)


_SCORES = np.random.default_rng(7).normal(size=(2, 3, 5))


@pytest.mark.parametrize("lens", [None, [2, 4], [[1, 3, 5], [2, 2, 4]]], ids=["none", "1d", "2d"])
def test_masked_softmax_by_index_put_as_torch(torch, lens):
    out = {}
    for lib in (torch, gg):
        x = lib.tensor(_SCORES, requires_grad=True)
        valid = None if lens is None else lib.tensor(lens)
        y = _masked_softmax(lib, x * 1.0, valid)
        (y * lib.tensor(np.cos(np.arange(30.0)).reshape(2, 3, 5))).sum().backward()
        out[lib] = (y.detach().numpy(), x.grad.numpy())
    for a, b in zip(out[gg], out[torch], strict=True):
        _close(a, b)
    if lens is not None:  # the masked places got exactly zero weight and zero gradient
        assert np.all(out[gg][0][out[torch][0] == 0] == 0)


# ---- the RNN chapter's scratch RNN on one-hot inputs of the transposed batch ----------------------


def _rnn_scratch(lib, dtype):
    rng = np.random.default_rng(11)
    V, H = 6, 4
    W_xh, W_hh, b_h, W_hq, b_q = (
        lib.tensor(rng.normal(size=s) * 0.5, dtype=dtype, requires_grad=True)
        for s in ((V, H), (H, H), (H,), (H, V), (V,))
    )
    X = lib.tensor(rng.integers(0, V, (3, 7)))
    Y = lib.tensor(rng.integers(0, V, (3, 7)))
    embs = lib.nn.functional.one_hot(X.T, V).type(dtype)
    state, outputs = None, []
    for x in embs:
        h = lib.matmul(state, W_hh) if state is not None else 0
        state = lib.tanh(lib.matmul(x, W_xh) + h + b_h)
        outputs.append(state)
    logits = lib.stack([lib.matmul(h, W_hq) + b_q for h in outputs], 1)
    loss = lib.nn.functional.cross_entropy(logits.reshape(-1, V), Y.reshape(-1))
    loss.backward()
    return [float(loss.detach()), embs.dtype == dtype] + [
        p.grad.numpy() for p in (W_xh, W_hh, b_h, W_hq, b_q)
    ]


@pytest.mark.parametrize("dt", ["float64", "float32"])
def test_one_hot_of_the_transposed_batch_through_a_scratch_rnn_as_torch(torch, dt):
    ref = _rnn_scratch(torch, getattr(torch, dt))
    ours = _rnn_scratch(gg, getattr(gg, dt))
    assert ours[1] and ref[1]
    rtol = 1e-13 if dt == "float64" else 2e-6
    _close(ours[0], ref[0], rtol)
    for a, b in zip(ours[2:], ref[2:], strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6 if dt == "float32" else 1e-15)
