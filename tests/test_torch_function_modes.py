"""``torch.overrides``: modes, objects that are not tensors, and the helpers. Programs run on both
libraries; expected values come from PyTorch."""

from __future__ import annotations

import functools
import subprocess
import sys
import types

import pytest

import glassgrad as gg


def _overrides(lib):
    return lib.overrides


def _mode_names(lib) -> list:
    class Seen(_overrides(lib).TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    x = lib.ones(2, 2)
    with Seen() as mode:
        y = lib.zeros(2) + 1
        z = (x * 2 - 1) @ x
        z += 1
        _ = lib.nn.functional.relu(-z).exp().sum(dim=0), x.T, x[0], y.tolist(), lib.cat([y, y])
    outside = lib.ones(1) + 1  # not seen: the mode is off the stack
    return mode.names + [type(outside).__name__]


def test_mode_sees_every_public_call(torch):
    assert _mode_names(gg) == _mode_names(torch)


def test_modes_nest_and_the_inner_one_runs_first(torch):
    def run(lib):
        order = []

        def mode(tag):
            class Tag(_overrides(lib).TorchFunctionMode):
                def __torch_function__(self, func, types, args=(), kwargs=None):
                    order.append((tag, func.__name__))
                    return func(*args, **(kwargs or {}))

            return Tag()

        with mode("outer"), mode("inner"):
            lib.ones(1).neg()
        with pytest.raises(ValueError), mode("lost"):
            raise ValueError
        lib.ones(1).neg()  # the mode that raised is off the stack
        return order, lib._C._len_torch_function_stack()

    assert run(gg) == run(torch)


def test_mode_can_replace_results(torch):
    def run(lib):
        class Double(_overrides(lib).TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                return out * 2 if func.__name__ == "exp" else out

        with Double():
            return lib.zeros(2).exp().tolist()

    assert run(gg) == run(torch)


def _scalar_program(lib):
    """PyTorch's documentation's ``ScalarTensor``: a type that is not a Tensor takes over
    ``torch.mean`` and ``torch.add`` through a table keyed by the torch functions."""
    handled = {}

    def implements(torch_function):
        def decorator(func):
            functools.update_wrapper(func, torch_function)
            handled[torch_function] = func
            return func

        return decorator

    class ScalarTensor:
        def __init__(self, n, value):
            self._n, self._value = n, value

        def tensor(self):
            return self._value * lib.eye(self._n)

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in handled or not all(issubclass(t, (lib.Tensor, ScalarTensor)) for t in types):
                return NotImplemented
            return handled[func](*args, **(kwargs or {}))

    @implements(lib.mean)
    def mean(input):
        return float(input._value) / input._n

    @implements(lib.add)
    def add(input, other):
        if isinstance(other, ScalarTensor):
            return ScalarTensor(input._n, input._value + other._value)
        return lib.add(input.tensor(), other)

    d = ScalarTensor(5, 2)
    s = ScalarTensor(2, 2)
    out = [lib.mean(d), lib.add(s, s)._value, lib.add(s, lib.ones(2, 2)).tolist()]
    try:
        lib.mul(s, 3)
    except TypeError:
        out.append("TypeError")
    ov = _overrides(lib)
    out += [ov.has_torch_function((d,)), ov.has_torch_function((lib.ones(1),)), ov.is_tensor_like(d)]
    out += [ov.is_tensor_like(lib.ones(1)), ov.is_tensor_like(3), ov.has_torch_function_variadic(1, d)]
    return out


def test_object_that_is_not_a_tensor_takes_over_functions(torch):
    """Once the protocol is on (here switched by hand; a Tensor subclass, a mode or a
    ``torch.overrides`` helper switches it in a program: see torch_function.py)."""
    from glassgrad.torch_function import activate

    activate()
    assert _scalar_program(gg) == _scalar_program(torch)


def test_torch_overrides_helpers_switch_the_protocol_on():
    code = (
        "import glassgrad as gg\n"
        "from glassgrad import torch_function as tf\n"
        "class S:\n"
        "    @classmethod\n"
        "    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "        return 'S'\n"
        "assert not tf.active()\n"
        "assert gg.overrides.has_torch_function((S(),)) and tf.active()\n"
        "assert gg.mean(S()) == 'S'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_implementation_names_the_function_and_types():
    class Declines:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    with pytest.raises(TypeError, match=r"no implementation found for 'mul'.*Declines"):
        gg.mul(Declines(), 2)


def test_handle_and_wrap_torch_function(torch):
    def run(lib):
        ov = _overrides(lib)

        @ov.wrap_torch_function(lambda x, y=None: (x,))
        def mine(x, y=None):
            return "own"

        def other(x):
            if ov.has_torch_function_unary(x):
                return ov.handle_torch_function(other, (x,), x)
            return "plain"

        class Taker:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return ("taken", func.__name__)

        return mine(1), mine(Taker()), other(lib.ones(1)), other(Taker())

    assert run(gg) == run(torch)


def test_lists_of_overridable_functions(torch):
    def run(lib):
        ov = _overrides(lib)
        found = ov.get_overridable_functions()
        ignored = ov.get_ignored_functions()
        return (
            lib.add in found[lib],
            lib.Tensor.add in found[lib.Tensor],
            lib.nn.functional.relu in found[lib.nn.functional],
            lib.zeros in ignored,
            lib.add in ignored,
            ov.is_tensor_method_or_property(lib.Tensor.add),
            ov.is_tensor_method_or_property(lib.add),
            lib.add in ov.get_testing_overrides(),
        )

    assert run(gg) == run(torch)


def test_disable_torch_function_turns_modes_off_too(torch):
    def run(lib):
        seen = []

        class Seen(_overrides(lib).TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                return func(*args, **(kwargs or {}))

        x = lib.ones(2)
        with Seen():
            with lib._C.DisableTorchFunction():
                x.exp()
            with lib._C.DisableTorchFunctionSubclass():
                x.neg()
        return seen

    assert run(gg) == run(torch)


def test_the_public_functions_become_overridables_once_switched():
    from glassgrad.torch_function import Overridable, activate

    activate()
    assert isinstance(gg.add, Overridable) and isinstance(gg.nn.functional.relu, Overridable)
    assert isinstance(gg.from_numpy, types.FunctionType)  # ignored: never asks
    assert gg.add == gg.add.__wrapped__ and hash(gg.add) == hash(gg.add.__wrapped__)
