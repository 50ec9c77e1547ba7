"""Round 60, the rest of the official tutorials (blitz, basics, nlp, examples_*, recipes).

The recipe ``swap_tensors`` switches on ``torch.__future__.set_swap_module_params_on_conversion``
(glassgrad had no ``__future__``) and wraps a Tensor subclass in ``nn.Parameter``, which in
PyTorch stays that subclass flagged ``_is_param`` (glassgrad made a plain Parameter, so the
subclass's ``__torch_function__`` silently stopped running in the module's forward). The tests
pin both against PyTorch, in float64, with gradients where there are any.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def _tagged_class(lib, log):
    """A Tensor subclass that logs the functions it is asked about, as programs' wrappers do."""

    class Tagged(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append(getattr(func, "__name__", str(func)))
            return super().__torch_function__(func, types, args, kwargs or {})

    return Tagged


@pytest.fixture
def future_switches_reset(torch):
    yield
    for lib in (torch, gg):
        lib.__future__.set_swap_module_params_on_conversion(False)
        lib.__future__.set_overwrite_module_params_on_conversion(False)


# ---- nn.Parameter of a user's Tensor subclass ---------------------------------------------------


def test_parameter_of_a_subclass_stays_that_subclass_as_torch(torch):
    w = np.random.default_rng(0).standard_normal((3, 4))
    x = np.random.default_rng(1).standard_normal((2, 4))
    seen = {}
    for lib in (torch, gg):
        log = []
        tagged = _tagged_class(lib, log)
        data = lib.tensor(w).as_subclass(tagged)
        p = lib.nn.Parameter(data)
        lin = lib.nn.Linear(4, 3, bias=False, dtype=lib.float64)
        lin.weight = p
        log.clear()
        out = lin(lib.tensor(x))
        out.sum().backward()
        seen[lib] = dict(
            kind=type(p).__name__,
            is_param=isinstance(p, lib.nn.Parameter),
            same_object=p is data,
            shares=p.data_ptr() == data.data_ptr(),
            registered=[n for n, _ in lin.named_parameters()],
            out_kind=type(out).__name__,
            asked_linear="linear" in log,
            repr_head=repr(p).split("(")[0:2],
            out=out.detach().numpy().copy(),
            grad=lin.weight.grad.numpy().copy(),
        )
    a, b = seen[torch], seen[gg]
    for key in (
        "kind",
        "is_param",
        "same_object",
        "shares",
        "registered",
        "out_kind",
        "asked_linear",
        "repr_head",
    ):
        assert a[key] == b[key], key
    assert a["kind"] == "Tagged" and a["asked_linear"]
    np.testing.assert_allclose(b["out"], a["out"], rtol=1e-14, atol=0)
    np.testing.assert_allclose(b["grad"], a["grad"], rtol=1e-14, atol=0)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_of_a_subclass_takes_requires_grad_and_trains_as_torch(torch, requires_grad):
    w = np.random.default_rng(2).standard_normal((2, 3))
    results = []
    for lib in (torch, gg):
        tagged = _tagged_class(lib, [])
        p = lib.nn.Parameter(lib.tensor(w).as_subclass(tagged), requires_grad=requires_grad)
        flags = (p.requires_grad, p.is_leaf, type(p).__name__)
        if requires_grad:
            opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
            for _ in range(2):
                opt.zero_grad()
                (p * p).sum().backward()
                opt.step()
        results.append((flags, p.detach().as_subclass(lib.Tensor).numpy().copy(), type(p).__name__))
    assert results[0][0] == results[1][0] and results[0][2] == results[1][2]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-14, atol=0)


def test_parameter_of_a_subclass_whose_detach_changes_type_raises_as_torch(torch):
    for lib in (torch, gg):

        class MyParam(lib.nn.Parameter):
            pass

        class Plain(lib.Tensor):
            __torch_function__ = lib._C._disabled_torch_function_impl

        for data in (MyParam(lib.ones(2)), lib.ones(2).as_subclass(Plain)):
            with pytest.raises(
                RuntimeError, match="requires that detach\\(\\) returns an instance of the same type"
            ):
                lib.nn.Parameter(data)


def test_parameter_of_tensor_and_buffer_is_still_a_parameter():
    for data in (gg.ones(2), gg.nn.Buffer(gg.ones(2)), gg.nn.Parameter(gg.ones(2))):
        p = gg.nn.Parameter(data)
        assert type(p) is gg.nn.Parameter and p is not data and p.data_ptr() == data.data_ptr()


# ---- torch.__future__ ---------------------------------------------------------------------------


def test_future_switches_exist_and_default_off(torch):
    for name in (
        "get_swap_module_params_on_conversion",
        "get_overwrite_module_params_on_conversion",
    ):
        assert getattr(gg.__future__, name)() is getattr(torch.__future__, name)() is False
    import glassgrad.__future__ as future  # the import statement a program may write

    assert future is gg.__future__


def _net(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()


def _load(lib, net, arrays):
    net.load_state_dict({k: lib.tensor(v) for k, v in arrays.items()})


@pytest.mark.usefixtures("future_switches_reset")
@pytest.mark.parametrize("assign", [False, True])
def test_swap_load_keeps_the_optimizers_parameters_as_torch(torch, assign):
    rng = np.random.default_rng(3)
    arrays = {k: rng.standard_normal(tuple(v.shape)) for k, v in _net(torch).state_dict().items()}
    new = {k: rng.standard_normal(v.shape) for k, v in arrays.items()}
    x = rng.standard_normal((5, 3))
    out = []
    for lib in (torch, gg):
        net = _net(lib)
        _load(lib, net, arrays)
        opt = lib.optim.SGD(net.parameters(), lr=0.1)
        ids = [id(p) for p in net.parameters()]
        lib.__future__.set_swap_module_params_on_conversion(True)
        net.load_state_dict({k: lib.tensor(v) for k, v in new.items()}, assign=assign)
        lib.__future__.set_swap_module_params_on_conversion(False)
        kept = [id(p) for p in net.parameters()] == ids
        flags = [(type(p).__name__, p.requires_grad, p.is_leaf) for p in net.parameters()]
        for _ in range(2):
            opt.zero_grad()
            net(lib.tensor(x)).square().sum().backward()
            opt.step()
        out.append((kept, flags, [p.detach().numpy().copy() for p in net.parameters()]))
    assert out[0][0] and out[1][0]
    assert out[0][1] == out[1][1]
    for a, b in zip(out[0][2], out[1][2]):
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)


@pytest.mark.usefixtures("future_switches_reset")
def test_swap_load_through_a_subclass_module_load_as_torch(torch):
    """The recipe's pattern: a subclass answers ``Tensor.module_load`` and wraps what is loaded."""
    rng = np.random.default_rng(4)
    w, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    seen = []
    for lib in (torch, gg):

        class Scaled(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                if func is lib.Tensor.module_load:
                    dest, src = args[0], args[1]
                    out = lib.Tensor._make_subclass(cls, src.detach())
                    out.scale = dest.scale
                    return out
                if func is lib.Tensor.detach:  # keeps the scale, as the recipe's dispatch does
                    out = lib.Tensor._make_subclass(cls, args[0].as_subclass(lib.Tensor).detach())
                    out.scale = args[0].scale
                    return out
                return super().__torch_function__(func, types, args, kwargs)

        m = lib.nn.Linear(3, 5, dtype=lib.float64)
        start = lib.Tensor._make_subclass(Scaled, m.weight.detach())
        start.scale = 0.5
        m.weight = lib.nn.Parameter(start)
        ids = (id(m.weight), id(m.bias))
        lib.__future__.set_swap_module_params_on_conversion(True)
        m.load_state_dict({"weight": lib.tensor(w), "bias": lib.tensor(b)}, assign=True)
        lib.__future__.set_swap_module_params_on_conversion(False)
        seen.append(
            (
                (id(m.weight), id(m.bias)) == ids,
                type(m.weight).__name__,
                m.weight.scale,
                isinstance(m.weight, lib.nn.Parameter),
                m.weight.as_subclass(lib.Tensor).detach().numpy().copy(),
                m.bias.detach().numpy().copy(),
            )
        )
    assert seen[0][:4] == seen[1][:4] == (True, "Scaled", 0.5, True)
    np.testing.assert_array_equal(seen[1][4], w)
    np.testing.assert_array_equal(seen[1][5], b)


@pytest.mark.usefixtures("future_switches_reset")
def test_swap_load_reports_a_failing_module_load_with_the_others_as_torch(torch):
    messages = []
    for lib in (torch, gg):

        class Broken(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func is lib.Tensor.module_load:
                    raise ValueError("cannot load")
                return super().__torch_function__(func, types, args, kwargs or {})

        m = lib.nn.Linear(3, 5, dtype=lib.float64)
        m.weight = lib.nn.Parameter(m.weight.detach().as_subclass(Broken))
        lib.__future__.set_swap_module_params_on_conversion(True)
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(
                {"weight": lib.zeros(6, 3, dtype=lib.float64), "bias": lib.ones(5, dtype=lib.float64)}
            )
        with pytest.raises(RuntimeError) as info2:
            m.load_state_dict(
                {"weight": lib.zeros(5, 3, dtype=lib.float64), "bias": lib.ones(5, dtype=lib.float64)}
            )
        lib.__future__.set_swap_module_params_on_conversion(False)
        texts = [str(e.value).replace(f"{lib.__name__}.Size", "Size") for e in (info, info2)]
        messages.append((*texts, m.bias.detach().numpy().copy()))
    assert "size mismatch for weight" in messages[1][0]
    expected = "While swapping the parameter named \"weight\", whose dimensions in the model are Size([5, 3]) and whose dimensions in the checkpoint are Size([5, 3]), an exception occurred : ('cannot load',)."
    assert expected in messages[0][1] and expected in messages[1][1]
    np.testing.assert_array_equal(messages[1][2], messages[0][2])  # the bias still loaded


@pytest.mark.usefixtures("future_switches_reset")
def test_overwrite_switch_makes_new_parameters_as_torch(torch):
    rng = np.random.default_rng(5)
    arrays = {k: rng.standard_normal(tuple(v.shape)) for k, v in _net(torch).state_dict().items()}
    x = rng.standard_normal((4, 3))
    seen = []
    for lib in (torch, gg):
        net = _net(lib).float()
        _load(lib, net, arrays)
        net(lib.tensor(x, dtype=lib.float32)).sum().backward()
        old = list(net.parameters())
        lib.__future__.set_overwrite_module_params_on_conversion(True)
        net.double()
        net.to("cpu")
        lib.__future__.set_overwrite_module_params_on_conversion(False)
        new = list(net.parameters())
        seen.append(
            (
                [a is b for a, b in zip(old, new)],
                [str(p.dtype)[-7:] + str(p.grad.dtype)[-7:] for p in new],
                [str(p.dtype)[-7:] for p in old],
                [type(p).__name__ + str(p.requires_grad) + str(p.is_leaf) for p in new],
                [p.grad.numpy().copy() for p in new],
            )
        )
    assert seen[0][:4] == seen[1][:4]
    assert not any(seen[1][0])
    for a, b in zip(seen[0][4], seen[1][4]):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)  # float32 gradients, cast
