"""Port round 29: course material. MIT 6.S191's PyTorch labs (intro, music LSTM, MNIST CNN,
DB-VAE), CS231n's assignment-2 PyTorch notebook (barebones, Module and Sequential APIs) and its
assignment-3 GAN helpers, NYU-DLSP21's optimal-control notebook. The GAN helpers cast their
models with ``model.type(torch.FloatTensor)``, which left every parameter as an object array
(Adam then refused them); the rest ran as PyTorch does, and these tests hold them there."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same


def _both(torch):
    return (torch, glassgrad)


def _copy(theirs, ours):
    """PyTorch's initial weights into ours (the tests seed PyTorch: Adam turns a gradient that is
    zero up to rounding, such as a bias ahead of batch norm, into a full step of either sign)."""
    ours.load_state_dict({k: glassgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})


# ---- Module.type with a legacy tensor type (CS231n gan_pytorch.py) -------------------------------


def _gan_discriminator(m):
    return m.nn.Sequential(m.nn.Linear(6, 5), m.nn.LeakyReLU(0.01), m.nn.Linear(5, 1))


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "torch.DoubleTensor", "float64"])
def test_module_type_casts_to_a_legacy_tensor_type_as_torch(torch, name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6))
    out = []
    for m in _both(torch):
        model = _gan_discriminator(m)
        dst = name if name.startswith("torch.") else getattr(m, name)
        assert model.type(dst) is model
        out.append({k: v.dtype for k, v in model.state_dict().items()})
        assert all(isinstance(p, m.nn.Parameter) and p.requires_grad for p in model.parameters())
        m.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))  # refused object arrays before
        out.append(model(m.tensor(x).type(next(model.parameters()).dtype)).dtype)
    assert [str(v).split(".")[-1] for v in out[2].values()] == [
        str(v).split(".")[-1] for v in out[0].values()
    ]
    assert str(out[3]).split(".")[-1] == str(out[1]).split(".")[-1]


def test_module_type_to_an_integer_type_is_refused_as_torch(torch):
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 3).type(torch.LongTensor)
    with pytest.raises(RuntimeError, match=r"Module\.type: parameter 'weight' requires grad"):
        glassgrad.nn.Linear(2, 3).type(glassgrad.LongTensor)
    with pytest.raises(TypeError, match="int64"):  # DTypeError is both
        glassgrad.nn.Linear(2, 3).type("torch.LongTensor")


def test_gan_training_step_after_type_matches_torch(torch):
    rng = np.random.default_rng(1)
    real, noise = rng.random((8, 6)), rng.uniform(-1, 1, (8, 6))
    torch.manual_seed(0)
    mt = _gan_discriminator(torch).type(torch.DoubleTensor)
    mg = _gan_discriminator(glassgrad).type(glassgrad.DoubleTensor)
    _copy(mt, mg)
    losses = []
    for m, model in ((torch, mt), (glassgrad, mg)):
        opt = m.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
        for _ in range(2):
            opt.zero_grad()
            lr, lf = model(m.from_numpy(real).type(m.DoubleTensor)), model(m.from_numpy(noise))
            bce = m.nn.BCEWithLogitsLoss()
            loss = bce(lr.squeeze(), m.ones_like(lr).squeeze()) + bce(
                lf.squeeze(), m.zeros_like(lf).squeeze()
            )
            loss.backward()
            opt.step()
        losses.append(loss)
    assert_same(losses[1], losses[0], rtol=1e-12)
    assert_same(dict(mg.state_dict()), dict(mt.state_dict()), rtol=1e-9, atol=1e-11)


# ---- the programs' other idioms, held against PyTorch --------------------------------------------


def _tricycle(m, u, steps):
    """DLSP21 17-optimal_control: a state vector filled by item assignment, unrolled in time."""
    xs = [m.tensor((0.0, 0.0, 0.0, 1.0), dtype=m.float64)]
    for t in range(steps):
        _, _, th, s = xs[-1]
        f = m.zeros(4, dtype=m.float64)
        f[0] = s * m.cos(th)
        f[1] = s * m.sin(th)
        f[2] = s / 1 * m.tan(u[t][0])
        f[3] = u[t][1]
        xs.append(xs[-1] + f * 1)
    traj = m.stack(xs)
    return -1 * m.logsumexp(-1 * ((traj[:, 0] - 5).pow(2) + (traj[:, 1] - 1).pow(2)), dim=0)


def test_setitem_filled_state_unrolled_backward_matches_torch(torch):
    u0 = np.random.default_rng(2).uniform(-0.2, 0.2, (5, 2))
    res = []
    for m in _both(torch):
        u = m.nn.Parameter(m.tensor(u0))
        opt = m.optim.SGD((u,), lr=0.005)
        for _ in range(3):
            cost = _tricycle(m, u, 5)
            opt.zero_grad()
            cost.backward()
            opt.step()
        res.append((cost, u))
    assert_same(res[1], res[0], rtol=1e-12, atol=1e-14)


def test_rewrapping_a_one_element_tensor_for_gradient_descent_matches_torch(torch):
    """MIT lab 1: ``x = torch.tensor([x], requires_grad=True)`` with x a one-element tensor."""
    res = []
    for m in _both(torch):
        x = m.tensor([0.37], dtype=m.float64)
        for _ in range(20):
            x = m.tensor([x], requires_grad=True)
            loss = (x - 4) ** 2
            loss.backward()
            x = x.item() - 1e-2 * x.grad
        res.append(x)
    assert_same(res[1], res[0], rtol=0, atol=0)


def _music(m):
    class LSTMModel(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = m.nn.Embedding(11, 4)
            self.lstm = m.nn.LSTM(4, 6, batch_first=True)
            self.fc = m.nn.Linear(6, 11)

        def forward(self, x, state=None, return_state=False):
            x = self.embedding(x)
            if state is None:
                state = (m.zeros(1, x.size(0), 6, dtype=x.dtype), m.zeros(1, x.size(0), 6, dtype=x.dtype))
            out, state = self.lstm(x, state)
            out = self.fc(out)
            return out if not return_state else (out, state)

    return LSTMModel().double()


def test_music_lstm_training_and_stateful_generation_match_torch(torch):
    rng = np.random.default_rng(3)
    batches = [(rng.integers(0, 11, (3, 7)), rng.integers(0, 11, (3, 7))) for _ in range(2)]
    torch.manual_seed(0)
    mt, mg = _music(torch), _music(glassgrad)
    _copy(mt, mg)
    res = []
    for m, model in ((torch, mt), (glassgrad, mg)):
        opt = m.optim.Adam(model.parameters(), lr=5e-3)
        for xb, yb in batches:
            opt.zero_grad()
            logits = model(m.tensor(xb, dtype=m.long))
            loss = m.nn.CrossEntropyLoss()(
                logits.view(-1, logits.size(-1)), m.tensor(yb, dtype=m.long).view(-1)
            )
            loss.backward()
            opt.step()
        state = (m.zeros(1, 1, 6, dtype=m.float64), m.zeros(1, 1, 6, dtype=m.float64))
        for c in (2, 7, 1):
            p, state = model(m.tensor([[c]], dtype=m.long), state, return_state=True)
        res.append((loss, m.softmax(p.squeeze(0), dim=-1), state))
    assert_same(res[1], res[0], rtol=1e-10, atol=1e-12)


def _barebones(m, x, params):
    F = m.nn.functional
    w1, b1, w2, b2, fw, fb = params
    x = F.relu(F.conv2d(x, w1, b1, padding="same"))
    x = F.relu(F.conv2d(x, w2, b2, padding="same"))
    return x.view(x.shape[0], -1).mm(fw) + fb


def test_cs231n_barebones_convnet_with_manual_sgd_matches_torch(torch):
    rng = np.random.default_rng(4)
    shapes = [(3, 2, 5, 5), (3,), (2, 3, 3, 3), (2,), (2 * 6 * 6, 4), (4,)]
    init = [rng.standard_normal(s) * 0.1 for s in shapes]
    x, y = rng.standard_normal((5, 2, 6, 6)), rng.integers(0, 4, 5)
    res = []
    for m in _both(torch):
        params = [m.tensor(w, requires_grad=True) for w in init]
        for _ in range(2):
            loss = m.nn.functional.cross_entropy(_barebones(m, m.tensor(x), params), m.tensor(y))
            loss.backward()
            with m.no_grad():
                for w in params:
                    w -= 3e-2 * w.grad
                    w.grad.zero_()
        _, preds = _barebones(m, m.tensor(x), params).max(1)
        res.append((loss, params, (preds == m.tensor(y)).sum()))
    assert_same(res[1], res[0], rtol=1e-12, atol=1e-14)


def _dbvae_parts(m):
    nn = m.nn
    enc = nn.Sequential(
        nn.Conv2d(3, 4, 5, 2, 2),
        nn.ReLU(inplace=True),
        nn.BatchNorm2d(4),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 5),
    )
    dec = nn.Sequential(
        nn.Linear(2, 4 * 2 * 2),
        nn.ReLU(),
        nn.Unflatten(1, (4, 2, 2)),
        nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(3, 3, 5, stride=2, padding=2, output_padding=1),
    )
    return enc.double(), dec.double()


def test_dbvae_encoder_decoder_loss_matches_torch(torch):
    rng = np.random.default_rng(5)
    x, y, eps = rng.random((4, 3, 8, 8)), (np.arange(4) % 2)[:, None] * 1.0, rng.standard_normal((4, 2))
    torch.manual_seed(0)
    (et, dt), (eg, dg) = _dbvae_parts(torch), _dbvae_parts(glassgrad)
    _copy(et, eg)
    _copy(dt, dg)
    res = []
    for m, enc, dec in ((torch, et, dt), (glassgrad, eg, dg)):
        opt = m.optim.Adam([*enc.parameters(), *dec.parameters()], lr=5e-4)
        for _ in range(2):
            opt.zero_grad()
            xt, yt = m.tensor(x), m.tensor(y)
            out = enc(xt)
            y_logit, mu, logsigma = out[:, 0].unsqueeze(-1), out[:, 1:3], out[:, 3:]
            recon = dec(mu + m.exp(logsigma) * m.tensor(eps))
            latent = 0.5 * m.sum(m.exp(logsigma) + mu**2 - 1 - logsigma, dim=1)
            vae = 0.0005 * latent + m.mean(m.abs(xt - recon), dim=(1, 2, 3))
            cls = m.nn.functional.binary_cross_entropy_with_logits(y_logit, yt, reduction="none")
            loss = m.mean(cls * (yt == 1.0).float() + vae)
            loss.backward()
            opt.step()
        enc.eval()
        with m.inference_mode():
            preds = m.round(m.sigmoid(enc(m.tensor(x))[:, :1]))
        res.append((loss, cls, recon, preds, dict(enc.state_dict())))
    assert_same(res[1], res[0], rtol=1e-9, atol=1e-11)
