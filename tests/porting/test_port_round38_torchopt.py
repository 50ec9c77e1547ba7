"""Round 38, torchopt (functional and differentiable optimizers) run on glassgrad.

``import torchopt`` stopped at once: its ``pytree``/``typing``/``distributed`` modules read
``torch.distributed.rpc.api.UNSET_RPC_TIMEOUT`` and import ``torch.distributed.autograd`` and
``torch.distributed.elastic.multiprocessing.errors.record``, which glassgrad lacked. Its implicit
differentiation calls ``functorch.vjp``/``functorch.grad``/``functorch.jacfwd``, and its test
suite builds every model with ``functorch.make_functional_with_buffers`` and scales tolerances
with ``torch.testing._comparison.get_tolerances``. These are now there: RPC's timeouts and
``rpc_async`` for the world of one process, distributed autograd on the one worker,
``@record``, ``glassgrad.functorch`` (PyTorch's ``functorch`` package) with
``make_functional``/``make_functional_with_buffers``/``combine_state_for_ensemble``, and
``glassgrad.testing._comparison``. Expected values come from PyTorch (same weights, float64).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import glassgrad
import glassgrad.distributed.autograd as dist_autograd
import glassgrad.distributed.rpc as rpc
from glassgrad import functorch as gg_functorch
from glassgrad.distributed.elastic.multiprocessing.errors import record

TOL = {"rtol": 1e-12, "atol": 1e-13}


def _np(t):
    return t.detach().numpy()


@pytest.fixture
def one_worker():
    rpc.init_rpc("worker0", rank=0, world_size=1)
    yield
    rpc.shutdown()


# ---- torch.distributed.rpc: timeouts and rpc_async -------------------------------------------


def test_rpc_timeouts_are_pytorchs(torch):
    assert rpc.api.UNSET_RPC_TIMEOUT == torch.distributed.rpc.api.UNSET_RPC_TIMEOUT
    assert rpc.constants.UNSET_RPC_TIMEOUT == torch.distributed.rpc.constants.UNSET_RPC_TIMEOUT
    assert rpc.constants.DEFAULT_RPC_TIMEOUT_SEC == torch.distributed.rpc.constants.DEFAULT_RPC_TIMEOUT_SEC


def test_rpc_async_returns_a_complete_future(one_worker):
    fut = rpc.rpc_async("worker0", max, args=(1, 2))
    assert isinstance(fut, glassgrad.Future) and fut.done() and fut.wait() == 2
    t = glassgrad.tensor([1.0, 2.0])
    assert glassgrad.futures.wait_all([rpc.rpc_async(0, glassgrad.add, args=(t, t))])[0].tolist() == [
        2.0,
        4.0,
    ]
    bad = rpc.rpc_async("worker0", int, args=("x",))
    with pytest.raises(ValueError, match="invalid literal"):
        bad.wait()
    rpc.api._barrier(["worker0"])
    with pytest.raises(RuntimeError, match="unknown workers"):
        rpc.api._barrier(["worker0", "worker1"])


def test_rpc_async_needs_init_rpc():
    with pytest.raises(RuntimeError, match="RPC framework"):
        rpc.rpc_async("worker0", max, args=(1, 2))


# ---- torch.distributed.autograd on one worker -------------------------------------------------


def test_dist_autograd_needs_init_rpc():
    with (
        pytest.raises(RuntimeError, match="Need to initialize distributed autograd"),
        dist_autograd.context(),
    ):
        pass


def test_dist_autograd_gathers_gradients_in_the_context(torch, one_worker):
    rng = np.random.default_rng(0)
    xs, ws = rng.standard_normal(3), rng.standard_normal(3)
    # PyTorch's gradients of the same roots, by its local autograd
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (xs, ws))
    ex = torch.autograd.grad([(tx * tw).sum(), (tx * tx).sum()], [tx, tw])
    ex_again = torch.autograd.grad((tx * tw).sum(), [tx, tw])

    x, w = (glassgrad.tensor(a, requires_grad=True) for a in (xs, ws))
    with dist_autograd.context() as ctx:
        assert isinstance(ctx, int)
        dist_autograd.backward(ctx, [(x * w).sum(), (x * x).sum()])
        grads = dist_autograd.get_gradients(ctx)
        assert set(map(id, grads)) == {id(x), id(w)}
        np.testing.assert_allclose(_np(grads[x]), _np(ex[0]), **TOL)
        np.testing.assert_allclose(_np(grads[w]), _np(ex[1]), **TOL)
        loss = (x * w).sum()
        dist_autograd.backward(ctx, [loss], retain_graph=True)  # accumulates in the context
        grads = dist_autograd.get_gradients(ctx)
        np.testing.assert_allclose(_np(grads[x]), _np(ex[0] + ex_again[0]), **TOL)
        np.testing.assert_allclose(_np(grads[w]), _np(ex[1] + ex_again[1]), **TOL)
        assert x.grad is None and w.grad is None  # .grad is left alone, as PyTorch's
    with pytest.raises(RuntimeError, match=f"Could not find autograd context with id: {ctx}"):
        dist_autograd.get_gradients(ctx)
    with pytest.raises(RuntimeError, match=f"Could not find autograd context with id: {ctx}"):
        dist_autograd.backward(ctx, [(x * w).sum()])


def test_dist_autograd_refuses_bad_roots(one_worker):
    x = glassgrad.ones(3, requires_grad=True)
    with dist_autograd.context() as ctx:
        with pytest.raises(RuntimeError, match="all roots need to be scalar"):
            dist_autograd.backward(ctx, [x * 2])
        with pytest.raises(RuntimeError, match="requires_grad not set on root"):
            dist_autograd.backward(ctx, [(x * 2).sum().detach()])
        with pytest.raises(TypeError, match="list of Tensors"):
            dist_autograd.backward(ctx, (x * 2).sum())


# ---- torch.distributed.elastic.multiprocessing.errors.record ----------------------------------


def test_record_passes_results_and_records_errors(tmp_path, monkeypatch):
    @record
    def main(a, b=1):
        """Entry point."""
        return a + b

    assert main(2, b=3) == 5 and main.__name__ == "main" and main.__doc__ == "Entry point."

    path = tmp_path / "error.json"
    monkeypatch.setenv("TORCHELASTIC_ERROR_FILE", str(path))

    @record
    def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        fails()
    assert "KeyError" in json.loads(path.read_text())["message"]["message"]
    with pytest.raises(TypeError, match="record: expected a function"):
        record(3)


# ---- functorch: make_functional and friends ---------------------------------------------------


def _net(lib, rng, bn=False):
    layers = [lib.nn.Linear(3, 4, dtype=lib.float64), lib.nn.Tanh(), lib.nn.Linear(4, 2, dtype=lib.float64)]
    if bn:
        layers.insert(1, lib.nn.BatchNorm1d(4, dtype=lib.float64))
    m = lib.nn.Sequential(*layers)
    with lib.no_grad():
        for p in m.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    return m


def test_make_functional_matches_functorch(torch):
    import functorch

    xs = np.random.default_rng(1).standard_normal((5, 3))
    results = {}
    for lib, ft in ((torch, functorch), (glassgrad, gg_functorch)):
        model = _net(lib, np.random.default_rng(0))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            func, params = ft.make_functional(model)
        x = lib.tensor(xs)
        out = func(params, x)
        grads = lib.autograd.grad(out.square().sum(), params)
        other = tuple(p.detach() * 2 for p in params)
        results[lib.__name__] = {
            "warning": str(caught[0].message),
            "out": _np(out),
            "grads": [_np(g) for g in grads],
            "other": _np(func(other, x)),
            "names": [n for n, _ in func.named_parameters()],
            "types": [type(p).__name__ for p in params],
            "model_untouched": _np(model(x)) - _np(out),
        }
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours["warning"] == theirs["warning"]
    assert ours["names"] == theirs["names"] and ours["types"] == theirs["types"]
    np.testing.assert_allclose(ours["out"], theirs["out"], **TOL)
    np.testing.assert_allclose(ours["other"], theirs["other"], **TOL)
    np.testing.assert_allclose(ours["model_untouched"], 0.0, atol=0)
    for a, b in zip(ours["grads"], theirs["grads"]):
        np.testing.assert_allclose(a, b, **TOL)


def test_make_functional_with_buffers_and_tied_weights(torch):
    import functorch

    xs = np.random.default_rng(1).standard_normal((5, 3))
    results = {}
    for lib, ft in ((torch, functorch), (glassgrad, gg_functorch)):
        model = _net(lib, np.random.default_rng(0), bn=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="has buffers"):
                ft.make_functional(model)
            func, params, buffers = ft.make_functional_with_buffers(model, disable_autograd_tracking=True)
            tied = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False, dtype=lib.float64), lib.nn.Tanh())
            tied.append(tied[0])
            tfunc, tparams = ft.make_functional(tied)
        x = lib.tensor(xs)
        w = lib.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
        tout = tfunc((w,), x[:, :2])
        results[lib.__name__] = {
            "out": _np(func(params, buffers, x)),
            "running_mean": _np(buffers[0]),  # training-mode forward updated the given buffer
            "requires_grad": [p.requires_grad for p in params],
            "shapes": [tuple(b.shape) for b in buffers],
            "tied": (len(tparams), _np(tout), _np(lib.autograd.grad(tout.sum(), w)[0])),
        }
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours["requires_grad"] == theirs["requires_grad"] == [False] * 6
    assert ours["shapes"] == theirs["shapes"]
    np.testing.assert_allclose(ours["out"], theirs["out"], **TOL)
    np.testing.assert_allclose(ours["running_mean"], theirs["running_mean"], **TOL)
    assert ours["tied"][0] == theirs["tied"][0] == 1
    np.testing.assert_allclose(ours["tied"][1], theirs["tied"][1], **TOL)
    np.testing.assert_allclose(ours["tied"][2], theirs["tied"][2], **TOL)


def test_combine_state_for_ensemble_matches_functorch(torch):
    import functorch

    results = {}
    for lib, ft in ((torch, functorch), (glassgrad, gg_functorch)):
        rng = np.random.default_rng(3)
        models = [_net(lib, rng) for _ in range(3)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            func, params, buffers = ft.combine_state_for_ensemble(models)
            with pytest.raises(RuntimeError, match="at least one model"):
                ft.combine_state_for_ensemble([])
            models[1].eval()
            with pytest.raises(RuntimeError, match="same training/eval mode"):
                ft.combine_state_for_ensemble(models)
        x = lib.tensor(np.ones((2, 3)))
        one = func(tuple(p[1] for p in params), buffers, x)
        results[lib.__name__] = (
            [_np(p) for p in params],
            buffers,
            [p.requires_grad for p in params],
            _np(one),
        )
    ours, theirs = results["glassgrad"], results["torch"]
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, **TOL)
    assert ours[1] == theirs[1] == () and ours[2] == theirs[2] == [False] * 4
    np.testing.assert_allclose(ours[3], theirs[3], **TOL)


def test_functorch_transforms_warn_and_match(torch):
    import functorch

    xs = np.random.default_rng(2).standard_normal(4)
    results = {}
    for lib, ft in ((torch, functorch), (glassgrad, gg_functorch)):
        x = lib.tensor(xs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = ft.grad(lambda t: (t.sin() * t).sum())(x)
            _, vjp_fn = ft.vjp(lambda t: t.exp() * t, x)
            (v,) = vjp_fn(lib.ones_like(x))
            j = ft.jacfwd(lambda t: t.cos() * t)(x)
        said = [
            str(w.message) for w in caught if w.category is FutureWarning and "functorch" in str(w.message)
        ]
        results[lib.__name__] = (said, _np(g), _np(v), _np(j))
    ours, theirs = results["glassgrad"], results["torch"]
    assert ours[0] == theirs[0] and len(ours[0]) == 3
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, **TOL)


def test_make_functional_refuses_bad_input():
    with pytest.raises(TypeError, match="make_functional: expected a glassgrad.nn.Module, got int"):
        gg_functorch._nn_impl.make_functional(3)
    func, params = gg_functorch._nn_impl.make_functional(glassgrad.nn.Linear(2, 1))
    with pytest.raises(ValueError, match=r"takes 2 tensors \(weight, bias\), got 1"):
        func(params[:1], glassgrad.ones(1, 2))


# ---- torch.testing._comparison ----------------------------------------------------------------


@pytest.mark.parametrize(
    "names", [("float32", "float64"), ("float16",), ("int64",), ("float64",), ("complex64", "int32")]
)
def test_get_tolerances_matches_pytorch(torch, names):
    from glassgrad.testing._comparison import get_tolerances as ours
    from torch.testing._comparison import get_tolerances as theirs

    expected = theirs(*(getattr(torch, n) for n in names), rtol=None, atol=None)
    assert (
        ours(*(glassgrad.zeros(1, dtype=getattr(glassgrad, n)) for n in names), rtol=None, atol=None)
        == expected
    )
    assert ours(*(getattr(glassgrad, n) for n in names), rtol=None, atol=None) == expected
    assert ours(glassgrad.float32, rtol=0.5, atol=0.25) == (0.5, 0.25)
    with pytest.raises(ValueError, match="got no atol"):
        ours(glassgrad.float32, rtol=0.5, atol=None)
    with pytest.raises(TypeError, match="Expected a torch.Tensor or a torch.dtype"):
        ours(3.0, rtol=None, atol=None)


@pytest.mark.parametrize(
    "actual, expected",
    [([0.0, 1.0, 2.0], [0.0, 1.0, 2.1]), ([0.0, 5.0, 0.0], [0.0, 1.0, 0.0]), ([3.0, 0.0], [0.0, 0.0])],
)
def test_assert_close_reports_the_worst_mismatch_as_pytorch(torch, actual, expected):
    # torchopt's helpers compare parameters that hold exact zeros: the relative difference of a
    # matched 0 against 0 is no NaN to report, only mismatched elements count
    import re

    def worst(lib):
        with pytest.raises(AssertionError) as info:
            lib.testing.assert_close(
                lib.tensor(actual, dtype=lib.float64),
                lib.tensor(expected, dtype=lib.float64),
                rtol=1e-6,
                atol=1e-6,
            )
        found = re.findall(r"(?:absolute|relative) difference:? (\S+) at index \((\d+),\)", str(info.value))
        return [(float(v), int(i)) for v, i in found]

    assert worst(glassgrad) == worst(torch) and len(worst(torch)) == 2
