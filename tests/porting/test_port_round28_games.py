"""Round 28, game-playing and world-model programs, distilled: alpha-zero-general's OthelloNNet
training loop and checkpointing, muzero-general's support transforms and unrolled loss with gradient
hooks, world-models' VAE loss, MDRNN ``gmm_loss`` and LSTM/LSTMCell weight sharing. Each script runs
on PyTorch first; glassgrad then starts from PyTorch's weights (float64) and must end where it does."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import glassgrad


def load(model, T, sd):
    """PyTorch's initial weights (``sd``, NumPy) into ``model``; returns them (recorded on PyTorch)."""
    if sd is None:
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    model.load_state_dict({k: T.tensor(v) for k, v in sd.items()})
    return sd


def close(ours, theirs, tol=1e-10):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ------------------------------------------------------------------ alpha-zero-general OthelloNNet
def othello(T, sd, tmp_path):
    nn, F = T.nn, T.nn.functional
    bx, ch, n_act = 6, 4, 37

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, ch, 3, stride=1, padding=1)
            self.conv3 = nn.Conv2d(ch, ch, 3, stride=1)
            self.bn1, self.bn3 = nn.BatchNorm2d(ch), nn.BatchNorm2d(ch)
            self.fc1 = nn.Linear(ch * (bx - 2) ** 2, 16)
            self.fc_bn1 = nn.BatchNorm1d(16)
            self.fc3, self.fc4 = nn.Linear(16, n_act), nn.Linear(16, 1)

        def forward(self, s):
            s = s.view(-1, 1, bx, bx)
            s = F.relu(self.bn1(self.conv1(s)))
            s = F.relu(self.bn3(self.conv3(s)))
            s = s.view(-1, ch * (bx - 2) ** 2)
            s = F.dropout(F.relu(self.fc_bn1(self.fc1(s))), p=0.0, training=self.training)
            return F.log_softmax(self.fc3(s), dim=1), T.tanh(self.fc4(s))

    T.manual_seed(0)
    net = Net().double()
    sd = load(net, T, sd)
    opt = T.optim.Adam(net.parameters())
    rng = np.random.RandomState(0)
    out = []
    for _ in range(3):
        net.train()
        boards = T.tensor(rng.choice([-1.0, 0.0, 1.0], size=(8, bx, bx)))
        target_pis = T.tensor(rng.dirichlet(np.ones(n_act), size=8))
        target_vs = T.tensor(rng.choice([-1.0, 1.0], size=8))
        out_pi, out_v = net(boards)
        l_pi = -T.sum(target_pis * out_pi) / target_pis.size()[0]
        l_v = T.sum((target_vs - out_v.view(-1)) ** 2) / target_vs.size()[0]
        out.append(np.array([l_pi.item(), l_v.item()]))
        opt.zero_grad()
        (l_pi + l_v).backward()
        opt.step()
    T.save({"state_dict": net.state_dict()}, str(tmp_path / "checkpoint.pth.tar"))
    fresh = Net().double()
    fresh.load_state_dict(T.load(str(tmp_path / "checkpoint.pth.tar"), map_location="cpu")["state_dict"])
    fresh.eval()
    with T.no_grad():
        pi, v = fresh(T.tensor(rng.choice([-1.0, 0.0, 1.0], size=(bx, bx))).view(1, bx, bx))
    out += [T.exp(pi).data.cpu().numpy()[0], v.data.cpu().numpy()[0]]
    out += [v.detach().numpy() for v in fresh.state_dict().values()]
    return out, sd


def test_othello_net_trains_saves_and_predicts_like_pytorch(torch, tmp_path):
    theirs, sd = othello(torch, None, tmp_path)
    ours, _ = othello(glassgrad, sd, tmp_path)
    close(ours, theirs)


# ------------------------------------------------------------------ muzero-general
def support_to_scalar(T, logits, support_size):
    probabilities = T.softmax(logits, dim=1)
    support = (
        T.tensor([x for x in range(-support_size, support_size + 1)]).expand(probabilities.shape).double()
    )
    x = T.sum(support * probabilities, dim=1, keepdim=True)
    eps = 0.001
    return T.sign(x) * (((T.sqrt(1 + 4 * eps * (T.abs(x) + 1 + eps)) - 1) / (2 * eps)) ** 2 - 1)


def scalar_to_support(T, x, support_size):
    x = T.sign(x) * (T.sqrt(T.abs(x) + 1) - 1) + 0.001 * x
    x = T.clamp(x, -support_size, support_size)
    floor = x.floor()
    prob = x - floor
    logits = T.zeros(x.shape[0], x.shape[1], 2 * support_size + 1, dtype=x.dtype)
    logits.scatter_(2, (floor + support_size).long().unsqueeze(-1), (1 - prob).unsqueeze(-1))
    indexes = floor + support_size + 1
    prob = prob.masked_fill_(2 * support_size < indexes, 0.0)
    indexes = indexes.masked_fill_(2 * support_size < indexes, 0.0)
    logits.scatter_(2, indexes.long().unsqueeze(-1), prob.unsqueeze(-1))
    return logits


def normalised(state):
    lo, hi = state.min(1, keepdim=True)[0], state.max(1, keepdim=True)[0]
    scale = hi - lo
    scale[scale < 1e-5] += 1e-5
    return (state - lo) / scale


def muzero(T, sd):
    nn, S, A, B, K = T.nn, 5, 3, 4, 2
    full = 2 * S + 1

    def mlp(i, o):
        return nn.Sequential(nn.Linear(i, 8), nn.ELU(), nn.Linear(8, o), nn.Identity())

    T.manual_seed(0)
    net = nn.ModuleDict({"rep": mlp(6, 4), "dyn": mlp(4 + A, 4), "rew": mlp(4, full),
                         "pol": mlp(4, A), "val": mlp(4, full)}).double()  # fmt: skip
    sd = load(net, T, sd)
    rng = np.random.RandomState(1)
    out = []

    def step(opt):
        obs = T.tensor(rng.rand(B, 6))
        actions = T.tensor(rng.randint(0, A, size=(B, K + 1))).long().unsqueeze(-1)
        targets = [scalar_to_support(T, T.tensor(rng.randn(B, K + 1) * 4), S) for _ in range(2)]
        target_policy = T.tensor(rng.dirichlet(np.ones(A), size=(B, K + 1)))
        scale = T.tensor(np.full((B, K + 1), float(K)))
        hidden = normalised(net["rep"](obs.view(obs.shape[0], -1)))
        reward = T.log(
            T.zeros(1, full, dtype=T.float64).scatter(1, T.tensor([[full // 2]]).long(), 1.0).repeat(B, 1)
        )
        preds = [(net["val"](hidden), reward, net["pol"](hidden))]
        for i in range(1, K + 1):
            one_hot = T.zeros((B, A), dtype=T.float64)
            one_hot.scatter_(1, actions[:, i].long(), 1.0)
            nxt = net["dyn"](T.cat((hidden, one_hot), dim=1))
            hidden = normalised(nxt)
            hidden.register_hook(lambda grad: grad * 0.5)
            preds.append((net["val"](hidden), net["rew"](nxt), net["pol"](hidden)))
        loss = 0
        for i, (v, r, p) in enumerate(preds):
            # the first step's reward is log of a one-hot (-inf entries): the program drops its loss
            pairs = ((targets[0][:, i], v), (targets[1][:, i], r), (target_policy[:, i], p))
            ls = [(-t * nn.LogSoftmax(dim=1)(x)).sum(1) for t, x in pairs]
            if i == 0:
                out.append(ls[1].detach().numpy())  # nan where 0 * -inf, as in PyTorch
                ls[1] = 0
            else:
                for part in ls:  # the late-bound ``i`` of the program's lambdas, kept
                    part.register_hook(lambda grad: grad / scale[:, i])
            loss = loss + ls[0] * 0.25 + ls[1] + ls[2]
            out.append(support_to_scalar(T, v, S).detach().cpu().numpy().squeeze())
        loss = (loss * T.tensor(rng.rand(B))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append(np.array(loss.item()))

    opt = T.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    step(opt)
    step(opt)
    resumed = T.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    resumed.load_state_dict(copy.deepcopy(opt.state_dict()))
    for group in resumed.param_groups:
        group["lr"] = 0.05 * 0.9 ** (2 / 3)
    step(resumed)
    out += [v.detach().numpy() for v in net.state_dict().values()]
    return out, sd


def test_muzero_supports_and_hooked_unrolled_loss_match_pytorch(torch):
    theirs, sd = muzero(torch, None)
    ours, _ = muzero(glassgrad, sd)
    close(ours, theirs)


# ------------------------------------------------------------------ ctallec/world-models
def gmm_loss(T, batch, mus, sigmas, logpi, reduce=True):
    Normal = T.distributions.normal.Normal
    g_log_probs = logpi + T.sum(Normal(mus, sigmas).log_prob(batch.unsqueeze(-2)), dim=-1)
    max_log_probs = T.max(g_log_probs, dim=-1, keepdim=True)[0]
    probs = T.sum(T.exp(g_log_probs - max_log_probs), dim=-1)
    log_prob = max_log_probs.squeeze() + T.log(probs)
    return -T.mean(log_prob) if reduce else -log_prob


def world_models(T, sd):
    nn, F = T.nn, T.nn.functional
    L, A, H, G, Bs, Ts = 3, 2, 6, 4, 2, 5
    T.manual_seed(0)
    enc = nn.ModuleList([nn.Conv2d(3, 2, 4, stride=2), nn.Conv2d(2, 2, 4, stride=2), nn.Conv2d(2, 2, 4, stride=2),
                         nn.Conv2d(2, 2, 4, stride=2), nn.Linear(8, L), nn.Linear(8, L)])  # fmt: skip
    dec = nn.ModuleList([nn.Linear(L, 4), nn.ConvTranspose2d(4, 2, 5, stride=2), nn.ConvTranspose2d(2, 2, 5, stride=2),
                         nn.ConvTranspose2d(2, 2, 6, stride=2), nn.ConvTranspose2d(2, 3, 6, stride=2)])  # fmt: skip
    rnn, gmm_linear = nn.LSTM(L + A, H), nn.Linear(H, (2 * L + 1) * G + 2)
    net = nn.ModuleDict({"enc": enc, "dec": dec, "rnn": rnn, "gmm_linear": gmm_linear}).double()
    sd = load(net, T, sd)
    rng = np.random.RandomState(2)
    out = []
    vae_opt = T.optim.Adam(list(enc.parameters()) + list(dec.parameters()))
    rnn_opt = T.optim.RMSprop(list(rnn.parameters()) + list(gmm_linear.parameters()), lr=1e-3, alpha=0.9)
    for _ in range(2):
        x = T.tensor(rng.rand(2, 3, 64, 64))
        h = x
        for conv in enc[:4]:
            h = F.relu(conv(h))
        h = h.view(h.size(0), -1)
        mu, logsigma = enc[4](h), enc[5](h)
        z = T.tensor(rng.randn(2, L)).mul(logsigma.exp()).add_(mu)
        r = F.relu(dec[0](z)).unsqueeze(-1).unsqueeze(-1)
        for deconv in dec[1:4]:
            r = F.relu(deconv(r))
        recon = F.sigmoid(dec[4](r))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bce = F.mse_loss(recon, x, size_average=False)
        loss = bce - 0.5 * T.sum(1 + 2 * logsigma - mu.pow(2) - (2 * logsigma).exp())
        vae_opt.zero_grad()
        loss.backward()
        vae_opt.step()
        out.append(np.array(loss.item()))

        latent, action, latent_next = (T.tensor(rng.randn(Ts, Bs, n)) for n in (L, A, L))
        reward, terminal = T.tensor(rng.randn(Ts, Bs)), T.tensor((rng.rand(Ts, Bs) < 0.3) * 1.0)
        outs, _ = rnn(T.cat([action, latent], dim=-1))
        g = gmm_linear(outs)
        stride = G * L
        mus = g[:, :, :stride].view(Ts, Bs, G, L)
        sigmas = T.exp(g[:, :, stride : 2 * stride].view(Ts, Bs, G, L))
        logpi = F.log_softmax(g[:, :, 2 * stride : 2 * stride + G].view(Ts, Bs, G), dim=-1)
        gmm = gmm_loss(T, latent_next, mus, sigmas, logpi)
        rloss = (
            gmm + F.binary_cross_entropy_with_logits(g[:, :, -1], terminal) + F.mse_loss(g[:, :, -2], reward)
        )
        rloss = rloss / (L + 2)
        rnn_opt.zero_grad()
        rloss.backward()
        rnn_opt.step()
        out += [np.array(gmm.item()), np.array(rloss.item())]
    out.append(gmm_loss(T, latent_next, mus * 30, sigmas * 0.05, logpi, reduce=False).detach().numpy())
    cell = nn.LSTMCell(L + A, H).double()
    cell.load_state_dict({k.strip("_l0"): v for k, v in rnn.state_dict().items()})
    hidden = [T.zeros(1, H, dtype=T.float64) for _ in range(2)]
    with T.no_grad():
        for t in range(3):
            hidden = cell(T.cat([action[t, :1], latent[t, :1]], dim=1), hidden)
            out.append(hidden[0].numpy())
    out += [v.detach().numpy() for v in net.state_dict().values()]
    return out, sd


def test_world_models_vae_mdrnn_and_cell_match_pytorch(torch):
    theirs, sd = world_models(torch, None)
    ours, _ = world_models(glassgrad, sd)
    close(ours, theirs)


# ------------------------------------------------------------------ legacy loss arguments
@pytest.mark.parametrize("make", ["functional", "module"])
def test_size_average_warning_keeps_pytorchs_opening_words(torch, make):
    """world-models' trainvae calls ``F.mse_loss(recon_x, x, size_average=False)``: a program that
    silences PyTorch's warning by its opening words silences ours too."""
    for T in (torch, glassgrad):
        x, y = T.tensor([0.5, 1.5]), T.tensor([0.0, 1.0])
        call = (
            (lambda: T.nn.functional.mse_loss(x, y, size_average=False))
            if make == "functional"
            else (lambda: T.nn.MSELoss(size_average=False)(x, y))
        )
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            assert call().item() == 2.0 * 0.25  # summed, not averaged
        assert str(seen[0].message).startswith("size_average and reduce args will be deprecated")
        assert "reduction='sum'" in str(seen[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.filterwarnings("ignore", message="size_average and reduce args will be deprecated")
            call()
