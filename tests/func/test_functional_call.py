"""glassgrad.func.functional_call / stack_module_state / nn.utils.stateless against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.func import functional_call, replace_all_batch_norm_modules_, stack_module_state


def np_of(t):
    return np.array(t.detach().numpy())


def to_torch(t, torch):
    return torch.from_numpy(np_of(t).copy())


def mlp():
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))


def torch_mlp(torch):
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))


def test_linear_given_weights_used_and_own_restored():
    lin = nn.Linear(3, 2)
    own = {k: np_of(v) for k, v in lin.state_dict().items()}
    w, b = gg.randn(2, 3), gg.randn(2)
    x = gg.randn(4, 3)
    out = functional_call(lin, {"weight": w, "bias": b}, (x,))
    np.testing.assert_allclose(np_of(out), np_of(x) @ np_of(w).T + np_of(b), rtol=1e-6)
    assert isinstance(lin.weight, nn.Parameter) and lin._parameters["weight"] is not w
    for k, v in lin.state_dict().items():
        np.testing.assert_array_equal(np_of(v), own[k])


def test_args_not_tuple_is_one_argument_and_kwargs_pass():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(gg.ones(()))

        def forward(self, x, shift=0.0):
            return x * self.s + shift

    m = Scale()
    out = functional_call(m, {"s": gg.tensor(3.0)}, gg.tensor([1.0, 2.0]), {"shift": 1.0})
    assert out.tolist() == [4.0, 7.0]


def test_mlp_parity_both_ways(torch):
    g, t = mlp(), torch_mlp(torch)
    # glassgrad weights into PyTorch's functional_call, and PyTorch's into glassgrad's
    gp = {k: gg.randn(*v.shape) for k, v in g.named_parameters()}
    tp = {k: to_torch(v, torch) for k, v in gp.items()}
    x = gg.randn(6, 3)
    ours = functional_call(g, gp, (x,))
    theirs = torch.func.functional_call(t, tp, (to_torch(x, torch),))
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    tp2 = {k: torch.randn(v.shape) for k, v in t.named_parameters()}
    gp2 = {k: gg.tensor(v.numpy()) for k, v in tp2.items()}
    ours = functional_call(g, gp2, x)
    theirs = torch.func.functional_call(t, tp2, to_torch(x, torch))
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_gradients_reach_the_given_tensors_not_the_module(torch):
    g = mlp()
    gp = {k: gg.randn(*v.shape, requires_grad=True) for k, v in g.named_parameters()}
    x = gg.randn(4, 3)
    functional_call(g, gp, (x,)).pow(2).sum().backward()
    assert all(p.grad is None for p in g.parameters())
    t = torch_mlp(torch)
    tp = {k: to_torch(v, torch).requires_grad_() for k, v in gp.items()}
    torch.func.functional_call(t, tp, (to_torch(x, torch),)).pow(2).sum().backward()
    for k in gp:
        np.testing.assert_allclose(np_of(gp[k].grad), tp[k].grad.numpy(), rtol=1e-5, atol=1e-6)


def test_partial_dict_keeps_other_params_and_tuple_of_dicts():
    g = mlp()
    x = gg.randn(2, 3)
    ref = g(x)
    zero_last = {"2.weight": gg.zeros(2, 5)}
    out = functional_call(g, zero_last, (x,))
    np.testing.assert_allclose(np_of(out), np.broadcast_to(np_of(g[2].bias), (2, 2)), rtol=1e-6)
    params = dict(g.named_parameters())
    first = {k: v for k, v in params.items() if k.startswith("0.")}
    rest = {k: v for k, v in params.items() if not k.startswith("0.")}
    np.testing.assert_allclose(np_of(functional_call(g, (first, rest), (x,))), np_of(ref), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\['0.weight'\] appeared in multiple dictionaries"):
        functional_call(g, (first, {"0.weight": gg.zeros(5, 3)}), (x,))
    with pytest.raises(ValueError, match="to be a dict"):
        functional_call(g, 3, (x,))


def test_batchnorm_running_stats_go_to_the_given_buffers(torch):
    g, t = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    x = gg.randn(8, 3) * 2 + 1
    gb = {k: v.clone() for k, v in g.state_dict().items()}
    tb = {k: v.clone() for k, v in t.state_dict().items()}
    ours = functional_call(g, gb, (x,))
    theirs = torch.func.functional_call(t, tb, (to_torch(x, torch),))
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    for k in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(np_of(gb[k]), tb[k].numpy(), rtol=1e-5, atol=1e-6)
    # the module's own statistics are untouched, in both libraries
    np.testing.assert_array_equal(np_of(g.running_mean), np.zeros(3))
    assert t.running_mean.abs().sum().item() == 0 and int(g.num_batches_tracked) == 0
    assert int(gb["num_batches_tracked"]) == 1
    # eval mode uses the given running statistics
    g.eval()
    t.eval()
    ours = functional_call(g, gb, (x,))
    theirs = torch.func.functional_call(t, tb, (to_torch(x, torch),))
    np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


class Tied(nn.Module):
    def __init__(self, lib=nn):
        super().__init__()
        self.a = lib.Linear(2, 2, bias=False)
        self.b = lib.Linear(2, 2, bias=False)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


def test_tied_weights(torch):
    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(2, 2, bias=False)
            self.b = torch.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    g, t = Tied(), TorchTied()
    w = gg.randn(2, 2)
    x = gg.randn(3, 2)
    tw, tx = to_torch(w, torch), to_torch(x, torch)
    for tie in (True, False):
        ours = functional_call(g, {"a.weight": w}, (x,), tie_weights=tie)
        t.a.weight.data = to_torch(g.a.weight, torch)
        theirs = torch.func.functional_call(t, {"a.weight": tw}, (tx,), tie_weights=tie)
        np.testing.assert_allclose(np_of(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        np_of(functional_call(g, {"a.weight": w}, (x,))), np_of(x) @ np_of(w).T @ np_of(w).T, rtol=1e-5
    )
    assert g.b.weight is g.a.weight  # still tied afterwards
    with pytest.raises(
        ValueError, match=r"multiple values for keys \['a.weight', 'b.weight'\], which are tied"
    ):
        functional_call(g, {"a.weight": w, "b.weight": gg.zeros(2, 2)}, (x,))
    functional_call(g, {"a.weight": w, "b.weight": w}, (x,))  # the same value twice is fine
    functional_call(g, {"a.weight": w, "b.weight": gg.zeros(2, 2)}, (x,), tie_weights=False)


def test_strict_errors_match_pytorch(torch):
    g, t = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    x = gg.randn(1, 2)
    gd = {"weight": gg.zeros(2, 2), "extra": gg.zeros(1)}
    td = {"weight": torch.zeros(2, 2), "extra": torch.zeros(1)}
    with pytest.raises(RuntimeError) as theirs:
        torch.func.functional_call(t, td, (to_torch(x, torch),), strict=True)
    with pytest.raises(RuntimeError) as ours:
        functional_call(g, gd, (x,), strict=True)
    assert str(ours.value) == str(theirs.value)
    assert "Unexpected key(s): 'extra'." in str(ours.value) and "Missing key(s): 'bias'." in str(ours.value)
    out = functional_call(g, {"weight": gg.zeros(2, 2), "bias": gg.ones(2)}, (x,), strict=True)
    assert out.tolist() == [[1.0, 1.0]]


def test_unexpected_key_without_strict_is_set_and_removed_again():
    g = nn.Linear(2, 2)
    functional_call(g, {"extra": gg.zeros(1)}, (gg.randn(1, 2),))
    assert not hasattr(g, "extra")


def test_module_restored_when_forward_raises():
    g = mlp()
    own = dict(g.named_parameters())
    with pytest.raises(RuntimeError):
        functional_call(g, {"0.weight": gg.zeros(5, 4)}, (gg.randn(2, 3),))
    assert dict(g.named_parameters()) == own
    assert all(isinstance(p, nn.Parameter) for p in g.parameters())


def test_reassigned_tensor_written_back_to_dict():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("n", gg.zeros(()))

        def forward(self, x):
            self.n = self.n + 1  # reassigned, not in place: PyTorch writes it back into the dict
            return x

    m = Counter()
    d = {"n": gg.zeros(())}
    functional_call(m, d, (gg.ones(1),))
    assert d["n"].item() == 1.0 and m.n.item() == 0.0


def test_parametrization_original_key():
    from glassgrad.nn.utils import parametrize

    class Double(nn.Module):
        def forward(self, w):
            return 2 * w

    lin = nn.Linear(2, 2, bias=False)
    parametrize.register_parametrization(lin, "weight", Double())
    x = gg.randn(1, 2)
    out = functional_call(lin, {"parametrizations.weight.original": gg.ones(2, 2)}, (x,))
    np.testing.assert_allclose(np_of(out), np_of(x) @ (2 * np.ones((2, 2))), rtol=1e-6)


def test_stateless_path_warns_as_pytorch(torch):
    lin = nn.Linear(2, 1)
    with pytest.warns(FutureWarning, match="torch.func.functional_call") as ours:
        out = gg.nn.utils.stateless.functional_call(
            lin, {"weight": gg.ones(1, 2), "bias": gg.zeros(1)}, gg.ones(1, 2)
        )
    assert out.tolist() == [[2.0]]
    with pytest.warns(FutureWarning) as theirs:
        torch.nn.utils.stateless.functional_call(torch.nn.Linear(2, 1), {}, torch.ones(1, 2))
    assert str(ours[0].message) == str(theirs[0].message)


def test_stack_module_state_matches_pytorch(torch):
    models = [mlp() for _ in range(3)]
    params, buffers = stack_module_state(models)
    tmodels = [torch_mlp(torch) for _ in range(3)]
    tparams, tbuffers = torch.func.stack_module_state(tmodels)
    assert list(params) == list(tparams) and buffers == tbuffers == {}
    for k, v in params.items():
        assert tuple(v.shape) == tuple(tparams[k].shape)
        assert v.is_leaf and v.requires_grad and v.grad_fn is None
        np.testing.assert_array_equal(np_of(v[1]), np_of(dict(models[1].named_parameters())[k]))
    # one model's slice through functional_call gives that model's output
    x = gg.randn(2, 3)
    out = functional_call(models[2], {k: v[2] for k, v in params.items()}, (x,))
    np.testing.assert_allclose(np_of(out), np_of(models[2](x)), rtol=1e-6)
    bn_params, bn_buffers = stack_module_state([nn.BatchNorm1d(2), nn.BatchNorm1d(2)])
    assert tuple(bn_params["weight"].shape) == (2, 2) and bn_params["weight"].requires_grad
    assert tuple(bn_buffers["running_var"].shape) == (2, 2) and not bn_buffers["running_var"].requires_grad


def test_stack_module_state_errors():
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        stack_module_state([])
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([nn.Linear(1, 1), nn.Linear(1, 1).eval()])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(1, 1), nn.Bilinear(1, 1, 1)])
    a, b = nn.Linear(1, 1), nn.Linear(1, 1)
    b.weight.requires_grad_(False)
    with pytest.raises(RuntimeError, match="Expected weight from each model to have the same .requires_grad"):
        stack_module_state([a, b])


def test_replace_all_batch_norm_modules():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert replace_all_batch_norm_modules_(m) is m
    assert m[1].running_mean is None and not m[1].track_running_stats
    m.eval()
    x = gg.randn(4, 2)
    h = m[0](x)
    expect = (h - h.mean(0)) / (h.var(0, unbiased=False) + 1e-5).sqrt()
    np.testing.assert_allclose(np_of(m(x)), np_of(expect), rtol=1e-4, atol=1e-5)


def test_lstm_reads_the_given_weights(torch):
    """RNNs read their weights by name each call (_flat_weights), so the swapped ones are used."""
    g, t = nn.LSTM(3, 4, batch_first=True), torch.nn.LSTM(3, 4, batch_first=True)
    gp = {k: gg.randn(*v.shape) * 0.5 for k, v in g.named_parameters()}
    tp = {k: to_torch(v, torch) for k, v in gp.items()}
    x = gg.randn(2, 5, 3)
    out, (h, c) = functional_call(g, gp, (x,))
    tout, (th, tc) = torch.func.functional_call(t, tp, (to_torch(x, torch),))
    for a, b in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(np_of(a), b.detach().numpy(), rtol=1e-5, atol=1e-6)
