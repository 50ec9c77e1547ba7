"""Port round 33, group rnn2: ncps (LTC/CfC with NCP wirings, ran unchanged) and Loren Lugosch's
transducer tutorial (RNN-T with a forward-algorithm loss). The tutorial needed: one-element integer
tensors as sizes (``torch.randn(B, T, D)`` with ``T = torch.tensor([4])``), a list times a tensor
repeating the list (``[0] * (T - 1) + [1] * U``, Python's sequence repeat, since PyTorch's ``*``
declines lists), and PyTorch's "Converting a tensor with requires_grad=True to a scalar" warning
from ``torch.tensor(list_of_log_probs)``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError
from glassgrad.ops import conversion


@pytest.mark.parametrize("size", [[4], [[4]], 4])
def test_one_element_int_tensor_is_a_size(torch, size):
    for name in ("randn", "zeros", "ones", "empty", "rand"):
        want = getattr(torch, name)(1, torch.tensor(size), 3).shape
        got = getattr(gg, name)(1, gg.tensor(size), 3).shape
        assert tuple(got) == tuple(want) == (1, 4, 3)
    assert tuple(gg.zeros(gg.tensor([2])).shape) == tuple(torch.zeros(torch.tensor([2])).shape) == (2,)


@pytest.mark.parametrize("bad", [[4, 5], [4.0], [-1], [True]])
def test_sizes_refused_as_pytorch(torch, bad):
    with pytest.raises((TypeError, RuntimeError)):
        torch.zeros(1, torch.tensor(bad))
    with pytest.raises(ShapeError, match="zeros: expected non-negative integer sizes"):
        gg.zeros(1, gg.tensor(bad))


def test_list_times_tensor_repeats_the_list(torch):
    for lib in (torch, gg):
        T, U = lib.tensor([4]), lib.tensor([3])
        z = [0] * (T - 1) + [1] * U  # the tutorial's alignment letters
        assert z == [0, 0, 0, 1, 1, 1]
        assert lib.tensor(2) * [7] == [7, 7]
        assert (1, 2) * lib.tensor([2]) == (1, 2, 1, 2)
        with pytest.raises(TypeError):
            [0] * lib.tensor(2.0)  # a float tensor is no index
    assert np.array_equal((gg.tensor([1.0, 2.0]) * 3).numpy(), [3.0, 6.0])  # numbers still multiply


def _grad_scalar_warnings(lib, fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fn(lib)
    return [w for w in rec if "Converting a tensor with requires_grad=True" in str(w.message)]


def test_tensor_of_grad_scalars_warns_once(torch, monkeypatch):
    monkeypatch.setattr(conversion, "_SCALAR_WARNED", [False])

    def build(lib):
        ps = [lib.ones((), requires_grad=True) * 2, lib.ones((), requires_grad=True)]
        out = lib.tensor(ps).logsumexp(0)
        assert not out.requires_grad  # the numbers left the graph
        lib.tensor(ps)  # said once per process
        return out

    got = _grad_scalar_warnings(gg, build)
    assert len(got) == 1 and got[0].category is UserWarning
    assert got[0].filename == __file__  # points at the user's line


def test_tensor_of_grad_scalars_silent_under_no_grad(monkeypatch):
    monkeypatch.setattr(conversion, "_SCALAR_WARNED", [False])

    def build(lib):
        a = lib.ones((), requires_grad=True)
        with lib.no_grad():
            lib.tensor([a, a])
        lib.tensor([a.detach(), 1.0])

    assert not _grad_scalar_warnings(gg, build)


def _forward_prob(lib, joiner_out, T, U, y):
    """The tutorial's forward algorithm: log_alpha filled in place, row by row."""
    B, T_max, U_max = joiner_out.shape[0], joiner_out.shape[1], joiner_out.shape[2] - 1
    log_alpha = lib.zeros(B, T_max, U_max + 1, dtype=lib.float64)
    for t in range(T_max):
        for u in range(U_max + 1):
            if u == 0:
                if t > 0:
                    log_alpha[:, t, u] = log_alpha[:, t - 1, u] + joiner_out[:, t - 1, 0, 0]
            else:
                emit = lib.gather(joiner_out[:, t, u - 1], dim=1, index=y[:, u - 1].view(-1, 1)).reshape(-1)
                if t == 0:
                    log_alpha[:, t, u] = log_alpha[:, t, u - 1] + emit
                else:
                    log_alpha[:, t, u] = lib.logsumexp(
                        lib.stack(
                            [
                                log_alpha[:, t - 1, u] + joiner_out[:, t - 1, u, 0],
                                log_alpha[:, t, u - 1] + emit,
                            ]
                        ),
                        dim=0,
                    )
    return lib.stack([log_alpha[b, T[b] - 1, U[b]] + joiner_out[b, T[b] - 1, U[b], 0] for b in range(B)])


def test_rnnt_forward_algorithm_matches_torch(torch):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 4, 3, 5))
    y = np.array([[1, 3], [2, 0]])
    T, U = [4, 3], [2, 1]
    res = {}
    for lib in (torch, gg):
        x = lib.tensor(logits, requires_grad=True)
        loss = -_forward_prob(lib, x.log_softmax(3), lib.tensor(T), lib.tensor(U), lib.tensor(y)).mean()
        loss.backward()
        res[lib.__name__] = (loss.item(), x.grad.numpy())
    (lt, gt), (lg, gg_) = res["torch"], res["glassgrad"]
    assert abs(lt - lg) < 1e-12 * abs(lt)
    np.testing.assert_allclose(gg_, gt, rtol=1e-11, atol=1e-13)


def _tied_step(lib, opt_name, **kw):
    """pointer_summarizer's setup: the decoder's embedding is the encoder's, so the parameter list
    built from both modules holds it twice."""
    emb = lib.nn.Parameter(lib.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=lib.float64))
    other = lib.nn.Parameter(lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64))
    last = lib.nn.Parameter(lib.tensor([0.1], dtype=lib.float64))
    opt = getattr(lib.optim, opt_name)([{"params": [emb, other, emb]}, {"params": [last]}], **kw)
    for step in range(2):
        for i, p in enumerate((emb, other, last)):
            p.grad = lib.full_like(p, 0.3 * (i + 1) - 0.2 * step)
        opt.step()
    sd = opt.state_dict()
    return (
        [p.detach().numpy().copy() for p in (emb, other, last)],
        [g["params"] for g in sd["param_groups"]],
        sorted(sd["state"]),
    )


@pytest.mark.parametrize(
    ("opt_name", "kw"),
    [
        ("Adagrad", {"lr": 0.15, "initial_accumulator_value": 0.1}),
        ("Adam", {"lr": 0.1}),
        ("RMSprop", {"lr": 0.01}),
        ("SGD", {"lr": 0.1, "momentum": 0.9}),  # the first step's buffers: fresh at both entries
        ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ],
)
def test_parameter_listed_twice_steps_as_torch(torch, opt_name, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _tied_step(torch, opt_name, **kw)
    with pytest.warns(
        UserWarning, match="^optimizer contains a parameter group with duplicate parameters"
    ) as rec:
        got = _tied_step(gg, opt_name, **kw)
    assert rec[0].filename == __file__
    for w, g in zip(want[0], got[0], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)
    assert got[1:] == want[1:] == ([[2, 1, 2], [3]], [1, 2, 3])  # PyTorch's state_dict numbering


def test_parameter_in_two_groups_still_refused(torch):
    w = gg.nn.Parameter(gg.ones(2))
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one parameter group"):
        gg.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    tw = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError):
        torch.optim.SGD([{"params": [tw]}, {"params": [tw]}], lr=0.1)
