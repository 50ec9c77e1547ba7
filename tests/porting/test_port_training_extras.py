"""Issue 7, items 8, 9 and 11, written as real scripts write them: each script takes the library
as ``torch`` and runs once on glassgrad and once on PyTorch; the results must agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 5)).astype(np.float32)
Y = (X @ RNG.standard_normal((5, 1)) + 0.1).astype(np.float32)
W = {"0.weight": RNG.standard_normal((8, 5)) * 0.3, "0.bias": np.zeros(8), "2.weight": RNG.standard_normal((1, 8)) * 0.3, "2.bias": np.zeros(1)}  # fmt: skip


def _model(torch):
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    model.load_state_dict({k: torch.tensor(v.astype(np.float32)) for k, v in W.items()})
    return model


def script_optimizers_and_schedules(torch, name):
    model = _model(torch)
    x, y = torch.tensor(X), torch.tensor(Y)
    loss_fn = torch.nn.MSELoss()
    if name == "LBFGS":
        # in float64, as L-BFGS scripts often run: in float32 its late iterates magnify the
        # last-bit differences of the two libraries' matmul sums (both are right to ~1e-7)
        model, x, y = model.double(), x.double(), y.double()
        optimizer = torch.optim.LBFGS(model.parameters(), lr=0.5, line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        return [optimizer.step(closure).item() for _ in range(5)]
    options = {"NAdam": dict(lr=0.01), "RAdam": dict(lr=0.05), "Adamax": dict(lr=0.02), "Adadelta": dict(lr=1.0),
               "Rprop": dict(lr=0.01), "ASGD": dict(lr=0.05, t0=5)}  # fmt: skip
    optimizer = getattr(torch.optim, name)(model.parameters(), **options[name])
    if name == "NAdam":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2)
    elif name == "Adamax":
        scheduler = torch.optim.lr_scheduler.CyclicLR(
            optimizer, 0.001, 0.02, step_size_up=4, cycle_momentum=False
        )
    else:
        scheduler = None
    losses = []
    for _epoch in range(20):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD", "LBFGS"])
def test_optimizers_and_schedules_port(torch, name):
    ours = script_optimizers_and_schedules(glassgrad, name)
    theirs = script_optimizers_and_schedules(torch, name)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=1e-6)
    assert ours[-1] < ours[0]


def script_backward_hook(torch):
    model = _model(torch)
    grad_norms = []
    model[0].register_full_backward_hook(
        lambda module, grad_input, grad_output: grad_norms.append(grad_output[0].norm().item())
    )
    model[2].register_full_backward_hook(
        lambda module, grad_input, grad_output: (grad_input[0].clamp(-0.01, 0.01),)
    )
    x = torch.tensor(X, requires_grad=True)
    torch.nn.functional.mse_loss(model(x), torch.tensor(Y)).backward()
    return grad_norms, model[0].weight.grad.numpy().copy(), x.grad.numpy().copy()


def test_backward_hooks_port(torch):
    ours, theirs = script_backward_hook(glassgrad), script_backward_hook(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def script_distributions(torch):
    from_logits = torch.distributions.Categorical(logits=torch.tensor([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]]))
    action = torch.tensor([1, 2])
    policy_loss = -from_logits.log_prob(action).sum()
    mu, logvar = torch.tensor([0.5, -1.0], requires_grad=True), torch.tensor([0.1, -0.3], requires_grad=True)
    posterior = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    prior = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
    kl = torch.distributions.kl_divergence(posterior, prior).sum()
    kl.backward()
    coin = torch.distributions.Bernoulli(probs=torch.tensor([0.3]))
    mvn = torch.distributions.MultivariateNormal(
        torch.zeros(2), covariance_matrix=torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    )
    z = posterior.rsample((4,))
    return [policy_loss.item(), from_logits.entropy().sum().item(), kl.item(), *mu.grad.tolist(),
            *logvar.grad.tolist(), coin.log_prob(torch.tensor([1.0])).item(), coin.entropy().item(),
            mvn.log_prob(torch.tensor([0.3, -0.2])).item(), mvn.entropy().item(), list(z.shape)]  # fmt: skip


def test_distributions_port(torch):
    ours, theirs = script_distributions(glassgrad), script_distributions(torch)
    assert ours[-1] == theirs[-1] == [4, 2]
    np.testing.assert_allclose(ours[:-1], theirs[:-1], rtol=1e-5)


def script_samplers(torch):
    data = torch.utils.data
    dataset = data.TensorDataset(torch.tensor(X), torch.tensor(Y))
    labels = (Y[:, 0] > 0).astype(int)
    weights = 1.0 / np.bincount(labels)[labels]
    balanced = data.DataLoader(
        dataset, batch_size=16, sampler=data.WeightedRandomSampler(weights, num_samples=64)
    )
    huge = data.RandomSampler(dataset, replacement=True, num_samples=10**10)
    endless = data.DataLoader(dataset, batch_size=32, sampler=huge)
    batches = iter(endless)
    shapes = [tuple(next(batches)[0].shape) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # glassgrad warns (once) that it loads in-process
        workers = data.DataLoader(dataset, batch_size=16, shuffle=True, num_workers=2)
        n_batches = sum(1 for _ in workers)
    return [len(balanced), sum(len(b[0]) for b in balanced), len(endless), shapes, n_batches]


def test_samplers_port(torch):
    assert script_samplers(glassgrad) == script_samplers(torch) == [4, 64, 10**10 // 32, [(32, 5)] * 3, 4]
