"""Round 65, a differential fuzz of module and tensor hooks in training loops (random small models
with forward, backward, global, tensor, node, saved-tensor and state-dict hooks, two SGD steps).
Pinned here, each against PyTorch: a module with backward hooks whose output is a dict warns in
PyTorch's words (its hooks cannot run: a dict's tensors are not routed); the backward hooks'
``grad_output`` has None, not zeros, for an output that does not require grad (an argmax, a
detached copy), while ``grad_input`` keeps zeros for such an input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

from .helpers import assert_same

TIGHT = {"rtol": 1e-12, "atol": 1e-12}
# (a step whose inputs need no grad runs the full hooks early, with a warning in both libraries)
pytestmark = pytest.mark.filterwarnings("ignore:.*ull backward hook:UserWarning")


def _fill(lib, module, seed=0):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))
    return module


def _x(lib, *shape, seed=1, grad=False):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=grad)


def _entries(grads):
    """A hook's gradient tuple as (shape, dtype name, values) per entry, None kept."""
    return [
        None if g is None else (tuple(g.shape), str(g.dtype).split(".")[-1], g.detach().numpy().copy())
        for g in grads
    ]


# ---- a dict output: PyTorch's warning, and no hook runs ----------------------------------------


def _dict_net(lib):
    class DictOut(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(4, 3)

        def forward(self, x):
            y = self.lin(x)
            return {"y": y, "z": y.tanh()}

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = DictOut()
            self.head = lib.nn.Linear(3, 2)

        def forward(self, x):
            out = self.body(x)
            return self.head(out["y"] * out["z"])

    return _fill(lib, Net().double())


@pytest.mark.parametrize("kind", ["full", "pre", "global"])
def test_dict_output_with_backward_hooks_warns_and_trains(torch, kind):
    def program(lib):
        net, calls = _dict_net(lib), []
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        hook = lambda m, *grads: calls.append(type(m).__name__)  # noqa: E731
        if kind == "full":
            net.body.register_full_backward_hook(hook)
        elif kind == "pre":
            net.body.register_full_backward_pre_hook(hook)
        else:
            handle = lib.nn.modules.module.register_module_full_backward_hook(hook)
        texts, losses = [], []
        try:
            for step in range(2):
                opt.zero_grad()
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    loss = net(_x(lib, 5, 4, seed=step, grad=step == 1)).pow(2).sum()
                texts += [str(w.message) for w in seen if "module output" in str(w.message)]
                loss.backward()
                losses.append(loss)
                opt.step()
        finally:
            if kind == "global":
                handle.remove()
        # the dict's module runs no hook; the global hook still runs for the Linear layers
        return [losses, [p.grad for p in net.parameters()], list(net.parameters()), calls, texts]

    ours, theirs = program(gg), program(torch)
    assert_same(ours[:3], theirs[:3], **TIGHT)
    assert ours[3] == theirs[3]
    assert [t.replace("glassgrad", "torch") for t in ours[4]] == theirs[4]
    assert len(ours[4]) == 2  # once per forward


def test_dict_output_without_backward_hooks_does_not_warn():
    net = _dict_net(gg)
    net.body.register_forward_hook(lambda m, args, out: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net(_x(gg, 5, 4)).sum().backward()


# ---- outputs that do not require grad: None in grad_output ---------------------------------------


def _mixed(lib):
    class Mixed(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(3, 3)

        def forward(self, x, w):
            y = self.lin(x) * w
            return y, y.argmax(-1), (y * 2).detach(), y.sum()

    return _fill(lib, Mixed().double())


@pytest.mark.parametrize("use_sum", [False, True], ids=["y_only", "y_and_sum"])
def test_grad_output_is_none_for_outputs_without_grad(torch, use_sum):
    def program(lib):
        m, seen = _mixed(lib), {}

        def pre(mod, grad_output):
            seen["pre"] = _entries(grad_output)
            return tuple(None if g is None else g * 3.0 for g in grad_output)

        def full(mod, grad_input, grad_output):
            seen["full"] = (_entries(grad_input), _entries(grad_output))

        m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(full)
        x = _x(lib, 2, 3, grad=True)
        y, index, copy, total = m(x, _x(lib, 2, 3, seed=2))  # w: a float input without grad
        (y.pow(2).sum() + (total if use_sum else 0)).backward()
        return [seen["pre"], seen["full"], x.grad, [p.grad for p in m.parameters()], index, copy]

    ours, theirs = program(gg), program(torch)
    assert_same(ours, theirs, **TIGHT)
    assert ours[0][1] is None and ours[0][2] is None
    assert (ours[0][3] is None) is (not use_sum)
    grad_input = ours[1][0]
    assert grad_input[1][2].shape == (2, 3) and not grad_input[1][2].any()  # zeros for w, as PyTorch


def test_global_pre_hook_sees_none_for_index_output_in_training(torch):
    def program(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = _mixed(lib)
                self.out = lib.nn.Linear(3, 2)

            def forward(self, x):
                y, index, copy, _ = self.m(x, lib.ones(3, dtype=lib.float64))
                return self.out(y + copy) + index.unsqueeze(-1)

        net = _fill(lib, Net().double(), seed=3)
        opt = lib.optim.SGD(net.parameters(), lr=0.05)
        seen = []

        def pre(mod, grad_output):
            seen.append((type(mod).__name__, [g is None for g in grad_output]))

        handle = lib.nn.modules.module.register_module_full_backward_pre_hook(pre)
        try:
            for step in range(2):
                opt.zero_grad()
                net(_x(lib, 4, 3, seed=step)).pow(2).mean().backward()
                opt.step()
        finally:
            handle.remove()
        return [seen, list(net.parameters())]

    ours, theirs = program(gg), program(torch)
    assert ours[0] == theirs[0]
    assert_same(ours[1], theirs[1], **TIGHT)


# ---- a hook's replacement of another dtype or shape: refused, as PyTorch --------------------------


def _linear_with(lib, register, answer):
    m = _fill(lib, lib.nn.Linear(3, 3).double())
    if register == "full":
        m.register_full_backward_hook(lambda mod, grad_input, grad_output: (answer(grad_input[0]),))
    else:
        m.register_full_backward_pre_hook(lambda mod, grad_output: (answer(grad_output[0]),))
    return m


@pytest.mark.parametrize("register", ["full", "pre"])
@pytest.mark.parametrize("change", ["dtype", "shape"])
def test_backward_hook_answer_of_another_dtype_or_shape_raises(torch, register, change):
    answer = (lambda g: g.float()) if change == "dtype" else (lambda g: g[:1])
    for lib in (torch, gg):
        m = _linear_with(lib, register, answer)
        x = _x(lib, 2, 3, grad=True)
        with pytest.raises(RuntimeError, match="has changed the (type|size) of value"):
            m(x).sum().backward()
    with pytest.raises(TypeError if change == "dtype" else ValueError):  # glassgrad's classes add these
        _linear_with(gg, register, answer)(_x(gg, 2, 3, grad=True)).sum().backward()


def test_full_hook_answer_for_index_input_keeps_its_dtype(torch):
    # the entry of an integer input (zeros of int64) scaled to float: PyTorch refuses it, and an
    # answer that keeps the entry trains as PyTorch
    def program(lib, scale_all):
        class Pick(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 3)

            def forward(self, x, index):
                return self.lin(x)[index]

        m = _fill(lib, Pick().double())

        def full(mod, grad_input, grad_output):
            return tuple(g * 0.5 if scale_all or g.is_floating_point() else g for g in grad_input)

        m.register_full_backward_hook(full)
        x = _x(lib, 4, 3, grad=True)
        m(x, lib.tensor([2, 0])).pow(2).sum().backward()
        return [x.grad, [p.grad for p in m.parameters()]]

    assert_same(program(gg, False), program(torch, False), **TIGHT)
    for lib in (torch, gg):
        with pytest.raises(RuntimeError, match="has changed the type of value"):
            program(lib, True)
