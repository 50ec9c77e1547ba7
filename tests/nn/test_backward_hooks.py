"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``)
against PyTorch: the same test body runs on both libraries, with the weights copied through
``state_dict``; what the hooks see and the resulting gradients must agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg


def _arr(t):
    return None if t is None else (t._data if isinstance(t, gg.Tensor) else t.detach().numpy()).copy()


def _mlp(lib, seed_state=None):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    if seed_state is not None:
        model.load_state_dict({k: lib.tensor(v) for k, v in seed_state.items()})
    return model


def _state(torch):
    torch.manual_seed(0)
    model = _mlp(torch)
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


X = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)


def _scenario(lib, state):
    """Record hooks on a submodule and on the model, a pre-hook that doubles grad_output of the
    last layer, and a hook that zeroes the first input column's gradient of the first layer."""
    model = _mlp(lib, state)
    seen = []
    model[2].register_full_backward_pre_hook(lambda m, go: (go[0] * 2,))
    model[2].register_full_backward_hook(lambda m, gi, go: seen.append(("last", _arr(gi[0]), _arr(go[0]))))

    def zero_first_column(m, gi, go):
        seen.append(("first", _arr(gi[0]), _arr(go[0])))
        g = gi[0].clone()
        g[:, 0] = 0
        return (g,)

    model[0].register_full_backward_hook(zero_first_column)
    model.register_full_backward_hook(lambda m, gi, go: seen.append(("model", _arr(gi[0]), _arr(go[0]))))
    order = []
    model[1].register_full_backward_hook(lambda m, gi, go: order.append("b"))
    model[1].register_full_backward_hook(lambda m, gi, go: order.append("a"), prepend=True)
    x = lib.tensor(X, requires_grad=True)
    (model(x) ** 2).sum().backward()
    grads = {n: _arr(p.grad) for n, p in model.named_parameters()}
    return seen, order, _arr(x.grad), grads


def test_hooks_see_and_replace_gradients_as_torch(torch):
    state = _state(torch)
    ours, theirs = _scenario(gg, state), _scenario(torch, state)
    assert [s[0] for s in ours[0]] == [s[0] for s in theirs[0]] == ["last", "first", "model"]
    for a, b in zip(ours[0], theirs[0]):
        for u, v in zip(a[1:], b[1:]):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    assert ours[1] == theirs[1] == ["a", "b"]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6)
    assert np.all(ours[2][:, 0] == 0)  # the replacement reached x
    for name in theirs[3]:
        np.testing.assert_allclose(ours[3][name], theirs[3][name], rtol=1e-5, atol=1e-6, err_msg=name)


def _two_inputs(lib):
    class Mix(lib.nn.Module):
        def forward(self, a, b, scale, c):  # a tensor without grad, a float, and one of each dtype
            return a * b * scale + c.sum(), a - b

    m = Mix()
    seen = []
    m.register_full_backward_hook(
        lambda mod, gi, go: seen.append([_arr(g) for g in gi] + [_arr(g) for g in go])
    )
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(["pre", *[_arr(g) for g in go]]))
    a = lib.tensor(X[:2], requires_grad=True)
    b = lib.tensor(X[2:4], requires_grad=True)
    c = lib.tensor(X[4:6])  # does not require grad
    y, z = m(a, b, 3.0, c)
    (y.sum() + (z * z).sum()).backward()
    return seen, _arr(a.grad), _arr(b.grad)


def test_several_inputs_and_outputs_match_torch(torch):
    ours, theirs = _two_inputs(gg), _two_inputs(torch)
    assert len(ours[0]) == len(theirs[0]) == 2
    assert ours[0][0][0] == "pre"
    for row_o, row_t in zip(ours[0], theirs[0]):
        assert [r is None for r in row_o] == [r is None for r in row_t]  # None for the float and c
        for u, v in zip(row_o, row_t):
            if not isinstance(u, str | type(None)):
                np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5)


def _frozen_input(lib):
    m = lib.nn.Linear(4, 2)
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, _arr(go[0]).shape)))
    m(lib.tensor(X)).sum().backward()  # only the weights want gradients
    return seen


def test_no_input_requires_grad_calls_the_hook_with_none_and_warns(torch):
    with pytest.warns(UserWarning):
        theirs = _frozen_input(torch)
    with pytest.warns(UserWarning, match="no input requires grad"):
        ours = _frozen_input(gg)
    assert ours == theirs == [((None,), (6, 2))]


def test_remove_and_errors():
    m = gg.nn.Linear(4, 2)
    calls = []
    handle = m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    x = gg.tensor(X, requires_grad=True)
    m(x).sum().backward()
    handle.remove()
    m(x).sum().backward()
    assert calls == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.register_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))  # wrong length
    with pytest.raises(
        RuntimeError, match=r"Backward hook returned an invalid number of grad_input, got 2, but expected 1"
    ):
        m(x).sum().backward()


def test_no_hooks_leave_the_graph_alone():
    m = gg.nn.Linear(4, 2)
    y = m(gg.tensor(X, requires_grad=True))
    assert "Hook" not in y.grad_fn.name()  # no hooks: no routing nodes
    m.register_full_backward_hook(lambda mod, gi, go: None)
    assert m(gg.tensor(X, requires_grad=True)).grad_fn.name() == "HookUnpackBackward0"
    with gg.no_grad():
        assert m(gg.tensor(X, requires_grad=True)).grad_fn is None  # nothing routed without grad mode


def _guided_backprop(lib):
    """utkuozbulak/pytorch-cnn-visualizations' guided backprop: ``register_backward_hook`` on the
    first conv (reads grad_input[0]) and on ``ReLU(inplace=True)``s (clamps their gradient)."""
    nn = lib.nn
    rng = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.ReLU(inplace=True), nn.Conv2d(3, 2, 3), nn.ReLU(inplace=True)
    )
    model.load_state_dict(
        {
            k: lib.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both libraries warn (forward and backward), each its own text
        model[0].register_backward_hook(lambda m, gi, go: seen.append(_arr(gi[0])))
        for relu in (model[1], model[3]):
            relu.register_backward_hook(lambda m, gi, go: (lib.clamp(gi[0], min=0.0),))
        x = lib.tensor(rng.standard_normal((1, 2, 7, 7)).astype(np.float32), requires_grad=True)
        model(x).sum().backward()
    return seen, _arr(x.grad)


def test_hooks_run_on_modules_changed_in_place_as_torch_legacy_hooks(torch):
    # the conv's output is changed in place by the ReLU, and each ReLU changes its input in place:
    # the hooks must still run (they were skipped when the routed tensors were views)
    (ours, ours_grad), (theirs, theirs_grad) = _guided_backprop(gg), _guided_backprop(torch)
    assert len(ours) == len(theirs) == 1
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6)
    assert (theirs_grad != _guided_backprop_plain(torch)).any()  # the clamps changed something


def _guided_backprop_plain(torch):
    nn = torch.nn
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Conv2d(3, 2, 3), nn.ReLU())
    model.load_state_dict(
        {
            k: torch.tensor(rng.standard_normal(tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    x = torch.tensor(rng.standard_normal((1, 2, 7, 7)).astype(np.float32), requires_grad=True)
    model(x).sum().backward()
    return _arr(x.grad)


@pytest.mark.parametrize("rebind", [True, False])
def test_hooked_in_place_module_changes_the_callers_tensor_as_torch(torch, rebind):
    """ReLU(inplace=True) with a backward hook: the caller's tensor is changed in place (its later
    uses see the values), and the hook runs on the gradient of either use, as PyTorch's legacy
    hook does (a routed copy is written back, nn/backward_hooks.py)."""
    out = []
    for lib in (gg, torch):
        x = lib.tensor([-1.0, 2.0, -3.0], requires_grad=True)
        y = x * 1
        m, calls = lib.nn.ReLU(inplace=True), []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (deprecated in both)
            m.register_backward_hook(lambda mod, gi, go: calls.append(1) or (lib.clamp(gi[0], min=0) * 10,))
        o = m(y)
        loss = ((o if rebind else y) * 3).sum()
        loss.backward()
        out.append((y.detach().tolist(), loss.item(), x.grad.tolist(), len(calls)))
    assert out[0] == out[1]
