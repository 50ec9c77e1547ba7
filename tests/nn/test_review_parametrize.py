"""nn.utils.parametrize under use: copies that are changed afterwards, registrations that fail
half-way, nested and tied parametrizations, dtype conversion, training against PyTorch, error
messages of the hook-based spectral_norm, and the cost of reading a parametrized tensor."""

from __future__ import annotations

import copy
import timeit

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.nn.utils import parametrizations as PS
from glassgrad.nn.utils import parametrize as P


class Scale(nn.Module):
    def __init__(self, k: float = 2.0) -> None:
        super().__init__()
        self.k = k

    def forward(self, X):
        return X * self.k

    def right_inverse(self, X):
        return X / self.k


class Identity(nn.Module):
    def forward(self, X):
        return X


def test_a_deepcopy_changed_afterwards_leaves_the_original_working():
    # The properties live on the generated class; a copy sharing it broke the original when a
    # parametrization was removed from (or added to) the copy. PyTorch has this bug.
    m = P.register_parametrization(nn.Linear(3, 3), "weight", Scale())
    x = gg.randn(2, 3)
    expected = m(x)._data.copy()
    removed = copy.deepcopy(m)
    P.remove_parametrizations(removed, "weight")
    added = copy.deepcopy(m)
    P.register_parametrization(added, "bias", Scale())
    np.testing.assert_allclose(m(x)._data, expected)
    assert type(m).__name__ == type(added).__name__ == "ParametrizedLinear"
    assert type(removed) is nn.Linear and P.type_before_parametrizations(added) is nn.Linear
    assert not P.is_parametrized(m, "bias") and P.is_parametrized(added, "bias")
    np.testing.assert_allclose(removed(x)._data, expected, rtol=1e-6)
    P.remove_parametrizations(m, "weight")  # and the other way round
    np.testing.assert_allclose(added.weight._data, removed.weight._data, rtol=1e-6)


def test_deepcopy_of_a_tree_parametrized_at_several_levels():
    class A(nn.Module):  # a parametrization with a parameter, itself parametrized
        def __init__(self):
            super().__init__()
            self.a = nn.Parameter(gg.ones(3, 3))

        def forward(self, X):
            return X * self.a

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(gg.ones(3))
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x) * self.p

    m = Net()
    P.register_parametrization(m, "p", Scale())
    P.register_parametrization(m.lin, "weight", A())
    P.register_parametrization(m.lin.parametrizations.weight[0], "a", Scale(4.0))
    assert list(m.state_dict()) == [
        "lin.bias",
        "lin.parametrizations.weight.original",
        "lin.parametrizations.weight.0.parametrizations.a.original",
        "parametrizations.p.original",
    ]
    x = gg.randn(2, 3)
    c = copy.deepcopy(m)
    P.remove_parametrizations(m.lin.parametrizations.weight[0], "a")
    P.remove_parametrizations(m.lin, "weight")
    P.remove_parametrizations(m, "p")
    assert [type(s).__name__ for s in m.modules()] == ["Net", "Linear"]
    np.testing.assert_allclose(c(x)._data, m(x)._data, rtol=1e-6)


def test_a_registration_whose_forward_raises_leaves_the_tensor_as_it_was():
    class Broken(nn.Module):
        def forward(self, X):
            raise RuntimeError("broken forward")

        def right_inverse(self, X):
            return X * 0

    m = nn.Linear(3, 2)
    weight, value = m.weight, m.weight._data.copy()
    with pytest.raises(RuntimeError, match="broken forward"):
        P.register_parametrization(m, "weight", Broken())
    assert type(m) is nn.Linear and m.weight is weight
    np.testing.assert_array_equal(m.weight._data, value)


def test_removing_a_split_parametrization_inside_no_grad_keeps_a_parameter():
    # PyTorch decides Parameter or buffer from the value's requires_grad, which no_grad() clears:
    # its weight_norm'd weight comes back a buffer and leaves model.parameters().
    m = PS.weight_norm(nn.Linear(3, 3))
    frozen = P.register_parametrization(nn.Linear(3, 3), "weight", _Split())
    frozen.parametrizations.weight.original0.requires_grad_(False)
    frozen.parametrizations.weight.original1.requires_grad_(False)
    with gg.no_grad():
        P.remove_parametrizations(m, "weight")
        P.remove_parametrizations(frozen, "weight")
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    assert "weight" in frozen._buffers and not frozen.weight.requires_grad  # as PyTorch


class _Split(nn.Module):
    def forward(self, A, B):
        return A + B

    def right_inverse(self, X):
        return X / 2, X / 2


def test_conversion_keeps_the_original_and_reaches_parametrization_buffers():
    m = P.register_parametrization(nn.Linear(3, 3), "weight", Scale())
    original = m.parametrizations.weight.original
    m.double()
    assert m.parametrizations.weight.original is original and m.weight.dtype == gg.float64
    s = PS.spectral_norm(nn.Linear(3, 4)).to(gg.float64)
    assert s.parametrizations.weight[0]._u.dtype == gg.float64
    assert s(gg.ones(2, 3, dtype=gg.float64)).dtype == gg.float64
    assert m.half().weight.dtype == gg.float16


def test_a_tied_weight_parametrized_through_one_module(torch):
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    w = a.weight._data.copy()
    P.register_parametrization(a, "weight", Scale())
    assert a.parametrizations.weight.original is b.weight  # the other module sees the original
    np.testing.assert_allclose(b.weight._data, w / 2)
    np.testing.assert_allclose(a.weight._data, w)
    names = [n for n, _ in nn.Sequential(a, b).named_parameters()]
    ta, tb = torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)
    tb.weight = ta.weight
    torch.nn.utils.parametrize.register_parametrization(ta, "weight", _torch_scale(torch))
    assert names == [n for n, _ in torch.nn.Sequential(ta, tb).named_parameters()]


def _torch_scale(torch):
    class Scale(torch.nn.Module):
        def forward(self, X):
            return X * 2.0

        def right_inverse(self, X):
            return X / 2.0

    return Scale()


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm", "hook_spectral_norm"])
def test_adam_training_matches_pytorch(torch, kind):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 2))
    models = []
    for lib in (torch, gg):
        lib.manual_seed(0)
        models.append(lib.nn.Sequential(lib.nn.Linear(5, 6), lib.nn.Tanh(), lib.nn.Linear(6, 2)).double())
    theirs, ours = models
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for lib, m in ((torch, theirs), (gg, ours)):
        for layer, dim in ((m[0], 0), (m[2], None)):
            if kind == "weight_norm":
                lib.nn.utils.parametrizations.weight_norm(layer, dim=dim)
            elif kind == "spectral_norm":
                lib.nn.utils.parametrizations.spectral_norm(layer)
            else:
                lib.nn.utils.spectral_norm(layer)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})  # u and v
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    opts = (torch.optim.Adam(theirs.parameters(), lr=0.05), gg.optim.Adam(ours.parameters(), lr=0.05))
    for _ in range(8):
        for lib, m, opt in ((torch, theirs, opts[0]), (gg, ours, opts[1])):
            opt.zero_grad()
            ((m(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            opt.step()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_allclose(sd[k]._data, tsd[k].numpy(), atol=1e-10, err_msg=k)
    fresh = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 2)).double()
    for layer, dim in ((fresh[0], 0), (fresh[2], None)):
        if kind == "weight_norm":
            PS.weight_norm(layer, dim=dim)
        elif kind == "spectral_norm":
            PS.spectral_norm(layer)
        else:
            nn.utils.spectral_norm(layer)
    fresh.load_state_dict(sd)
    if kind == "hook_spectral_norm":
        # the hook keeps the last forward's weight, a computed tensor that PyTorch refuses to
        # deep-copy; an evaluation under no_grad leaves a plain one there
        with gg.no_grad():
            ours.eval()(gg.tensor(x))
    for m in (fresh, copy.deepcopy(ours), ours):
        out = m.eval()(gg.tensor(x))._data
        np.testing.assert_allclose(out, theirs.eval()(torch.tensor(x)).detach().numpy(), atol=1e-10)


def test_hook_spectral_norm_errors_name_the_op():
    with pytest.raises(
        ValueError, match="spectral_norm: expected 'bias' to be a parameter of Linear, got none"
    ):
        nn.utils.spectral_norm(nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(ValueError, match=r"remove_spectral_norm: expected a module given to spectral_norm"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))


def test_reading_a_parametrized_tensor_costs_little_beyond_the_parametrization():
    # The property runs on every forward; a generous bound that catches a slow path (a copy of
    # the chain, a state_dict walk ...), not scheduler noise.
    m = P.register_parametrization(nn.Linear(64, 64), "weight", Identity())
    plain = nn.Linear(64, 64)

    def cost(fn) -> float:
        return min(timeit.repeat(fn, number=2000, repeat=5)) / 2000

    overhead = cost(lambda: m.weight) - cost(lambda: plain.weight)
    assert overhead < 20e-6, (
        f"reading a parametrized weight costs {overhead * 1e6:.1f} us more than a plain one"
    )
