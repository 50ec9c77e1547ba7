"""GradientMonitor on deep MLPs: the recorded numbers show vanishing for sigmoid, not for ReLU."""

import numpy as np

import glassgrad as gg
from glassgrad import nn
from glassgrad.explain import GradientMonitor, watch_time_steps


def _mlp(act, depth=10, width=32):
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width)
        nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")  # the same init for both nets
        nn.init.zeros_(lin.bias)
        layers += [lin, act()]
    return nn.Sequential(*layers[:-1], nn.Linear(width, 1))


def _run(act):
    gg.manual_seed(0)
    model = _mlp(act)
    mon = GradientMonitor(model)
    x = gg.randn(64, 32)
    model(x).pow(2).mean().backward()
    mon.record()
    return mon


def test_sigmoid_mlp_vanishes_relu_does_not():
    sig, relu = _run(nn.Sigmoid), _run(nn.ReLU)
    s_layers, r_layers = list(sig.layer_norms[-1].values()), list(relu.layer_norms[-1].values())
    assert len(s_layers) == len(r_layers) == 11
    # sigmoid' <= 1/4: the first layer's gradient is orders of magnitude below the last hidden layer's
    assert sig.first_last_ratio() < 1e-3 and sig.vanishing()
    assert s_layers[0] < 1e-3 * s_layers[9]
    assert relu.first_last_ratio() > 1e-2 and not relu.vanishing()
    assert any("vanishing" in f for f in sig.flags()) and not any("vanishing" in f for f in relu.flags())
    # saturation and dead units are measured per activation module
    assert set(sig.saturated[-1]) == {str(i) for i in range(1, 19, 2)}
    assert all(0.0 <= v <= 1.0 for v in relu.dead_relu[-1].values())
    sig.close()
    relu.close()


def test_update_ratio_clipping_and_exploding():
    gg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    mon = GradientMonitor(model, explode_norm=1e-6)
    opt = gg.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        (model(gg.randn(5, 3)) * 100).sum().backward()
        total = mon.clip_grad_norm_(1.0)
        mon.record()
        opt.step()
    assert total > 1.0 and mon.clip_events == [0, 1]
    assert mon.exploding() and "exploding" in mon.report()
    w = model[0].weight
    assert set(mon.update_ratios[0]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    # after clipping to norm 1 and lr 0.1, each parameter moves by at most 0.1 in norm
    assert 0 < mon.update_ratios[0]["0.weight"] <= 0.1 / np.linalg.norm(w.detach().numpy()) * 1.5


def test_dead_relu_share():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU())
    with gg.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(gg.tensor([-1.0, -1.0, 1.0, 1.0]))  # two units never fire
    mon = GradientMonitor(model)
    model(gg.randn(8, 2)).sum().backward()
    mon.record()
    assert mon.dead_relu[-1] == {"1": 0.5}


def test_watch_time_steps():
    h0 = gg.tensor([1.0, 1.0], requires_grad=True)
    hs = [h0]
    for _ in range(3):
        hs.append(hs[-1] * 0.5)
    norms = watch_time_steps(hs)
    hs[-1].sum().backward()
    np.testing.assert_allclose(norms, [np.sqrt(2) * 0.125, np.sqrt(2) * 0.25, np.sqrt(2) * 0.5, np.sqrt(2)])
