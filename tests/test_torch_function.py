"""``__torch_function__`` on Tensor subclasses: subclasses carry through functions, methods,
operators and properties as in PyTorch, ``as_subclass``/``_make_subclass`` share memory and graph,
and a subclass's own ``__torch_function__`` sees what PyTorch's sees. Each program runs on both
libraries and the results are compared; expected values come from PyTorch."""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import torch_function


def _classes(lib):
    class Tagged(lib.Tensor):
        pass

    class Sub(Tagged):
        pass

    class Other(lib.Tensor):
        pass

    return Tagged, Sub, Other


def _types(lib) -> dict:
    """The type names of many results on a subclass instance (a program run on either library)."""
    F = lib.nn.functional
    Tagged, _, _ = _classes(lib)
    x = lib.ones(2, 3).as_subclass(Tagged)
    p = lib.ones(3)
    out = {
        "add": x + 1,
        "radd": 1 + x,
        "rsub": 2 - x,
        "mul_plain": p * x,
        "neg": -x,
        "matmul": x @ lib.ones(3, 2),
        "rmatmul": lib.ones(4, 2) @ x,
        "eq": x == 1,
        "getitem": x[0],
        "sum": x.sum(),
        "sum_dim": lib.sum(x, dim=0),
        "cat": lib.cat([x, p[None]]),
        "stack": lib.stack([p, p]),  # no subclass among the inputs
        "relu": F.relu(x),
        "linear": F.linear(x, lib.ones(4, 3)),
        "softmax": lib.softmax(x, -1),
        "T": x.T,
        "mT": x.mT,
        "data": x.data,
        "detach": x.detach(),
        "clone": x.clone(),
        "to": x.to(lib.float64),
        "reshape": x.reshape(3, 2),
        "zeros_like": lib.zeros_like(x),
        "new_zeros": x.new_zeros(2),
        "norm": lib.linalg.norm(x),
        "where": lib.where(x > 0, x, p),
    }
    names = {k: type(v).__name__ for k, v in out.items()}
    names["max"] = [type(v).__name__ for v in lib.max(x, dim=1)]
    names["split"] = [type(v).__name__ for v in x.split(1)]
    names["iter"] = [type(v).__name__ for v in x]
    names["shape"] = type(x.shape).__name__
    names["item"] = type(x.sum().item()).__name__
    names["tolist"] = type(x.tolist()).__name__
    names["param"] = type(lib.nn.Parameter(lib.ones(2)) * 2).__name__
    return names


def test_subclass_results_as_pytorch(torch):
    assert _types(gg) == _types(torch)


def test_subclass_operands_pick_the_most_derived_type(torch):
    def run(lib):
        Tagged, Sub, Other = _classes(lib)
        t, s, o = (lib.ones(2).as_subclass(c) for c in (Tagged, Sub, Other))
        res = [type(t + s).__name__, type(s + t).__name__, type(lib.add(t, s)).__name__]
        try:
            t + o
        except TypeError as e:
            res.append("TypeError" if "unsupported operand" in str(e) else str(e))
        try:
            lib.add(t, o)
        except TypeError:
            res.append("TypeError")
        return res

    assert run(gg) == run(torch)


def test_as_subclass_shares_memory_version_and_graph(torch):
    def run(lib):
        Tagged, _, _ = _classes(lib)
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        t = x.as_subclass(Tagged)
        y = (t * t).sum()
        y.backward()
        node = type(t.grad_fn).__name__
        with lib.no_grad():
            t.add_(1)  # written through the alias: x sees it
        return (
            x.grad.tolist(),
            x.tolist(),
            x._version == t._version,
            t.is_leaf,
            node,
            type(y).__name__,
        )

    assert run(gg) == run(torch)


def test_make_subclass_is_a_leaf_over_the_same_memory(torch):
    def run(lib):
        Tagged, _, _ = _classes(lib)
        base = lib.tensor([1.0, 2.0])
        p = lib.Tensor._make_subclass(Tagged, base, True)
        (p * 3).sum().backward()
        base.mul_(2)
        return type(p).__name__, p.is_leaf, p.requires_grad, p.grad.tolist(), p.detach().tolist()

    assert run(gg) == run(torch)


def test_subclass_gradients_equal_plain_ones():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))

    class Tagged(gg.Tensor):
        pass

    def loss(x):
        return (gg.tanh(x @ x.T) * 2 - x.sum(0)[None, :3]).exp().sum()

    plain = gg.tensor(a, requires_grad=True)
    loss(plain).backward()
    base = gg.tensor(a, requires_grad=True)
    sub = base.as_subclass(Tagged)
    out = loss(sub)
    assert type(out) is Tagged
    out.backward()
    np.testing.assert_array_equal(base.grad.numpy(), plain.grad.numpy())
    assert gg.autograd.gradcheck(lambda x: loss(x.as_subclass(Tagged)), (gg.tensor(a, requires_grad=True),))


def test_own_torch_function_sees_what_pytorch_sees(torch):
    def run(lib):
        class Logged(lib.Tensor):
            calls: ClassVar[list] = []

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                cls.calls.append(func.__name__)
                return super().__torch_function__(func, types, args, kwargs)

        x = lib.ones(2, 2).as_subclass(Logged)
        Logged.calls.clear()
        y = lib.nn.functional.relu(x * 2 + 1).sum(dim=0)
        x[0] = 3
        _ = x.shape
        return type(y).__name__, list(Logged.calls)

    assert run(gg) == run(torch)


def test_func_compares_equal_to_the_public_function(torch):
    """A table keyed by ``torch.add`` finds ``func``, whether made before or after the switch."""

    def run(lib):
        before = {lib.add: "add", lib.Tensor.mul: "mul", lib.nn.functional.relu: "relu"}

        class Keyed(lib.Tensor):
            seen: ClassVar[list] = []

            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                cls.seen.append((before.get(func), func in after, func == lib.add))
                return super().__torch_function__(func, types, args, kwargs)

        after = {lib.add, lib.Tensor.mul, lib.nn.functional.relu}
        x = lib.ones(2).as_subclass(Keyed)
        lib.add(x, 1), x.mul(2), lib.nn.functional.relu(x)
        return Keyed.seen

    assert run(gg) == run(torch)


def test_disable_torch_function_subclass(torch):
    def run(lib):
        Tagged, _, _ = _classes(lib)
        x = lib.ones(2).as_subclass(Tagged)
        with lib._C.DisableTorchFunctionSubclass():
            inside = type(x + 1).__name__, lib._C._is_torch_function_enabled()
        return inside, type(x + 1).__name__, lib._C._is_torch_function_enabled()

    assert run(gg) == run(torch)


def test_repr_names_the_subclass(torch):
    def run(lib):
        Tagged, _, _ = _classes(lib)
        x = lib.tensor([1.0, 2.0], requires_grad=True).as_subclass(Tagged)
        return repr(x), repr(lib.nn.Parameter(lib.ones(1)))

    assert run(gg) == run(torch)


def test_as_subclass_refuses_what_is_not_a_tensor_type():
    with pytest.raises(TypeError, match="as_subclass: expected a subclass of Tensor"):
        gg.ones(2).as_subclass(int)

    class Slotted(gg.Tensor):
        __slots__ = ("extra",)

    with pytest.raises(TypeError, match=r"as_subclass: cannot make a Slotted .*__slots__"):
        gg.ones(2).as_subclass(Slotted)


def test_wrapped_functions_pickle_and_keep_their_signatures():
    import inspect

    class Tagged(gg.Tensor):
        pass

    assert torch_function.active()
    assert pickle.loads(pickle.dumps(gg.add)) is gg.add
    assert pickle.loads(pickle.dumps(gg.Tensor.add)) is gg.Tensor.add
    assert "input" in inspect.signature(gg.nn.functional.relu).parameters
    assert gg.add.__name__ == "add" and gg.Tensor.sum.__name__ == "sum"


def test_plain_programs_pay_nothing_until_a_subclass_appears():
    """A fresh process: the public functions are the plain ones, also after importing PyTorch
    (whose own Tensor subclasses and modes act on its tensors); a subclass switches them."""
    code = (
        "import types, glassgrad as gg\n"
        "from glassgrad import torch_function as tf\n"
        "assert isinstance(gg.add, types.FunctionType) and not tf.active()\n"
        "try:\n    import torch\nexcept ImportError:\n    pass\n"
        "assert not tf.active()\n"
        "class T(gg.Tensor):\n    pass\n"
        "assert tf.active() and not isinstance(gg.add, types.FunctionType)\n"
        "assert type(gg.ones(2).as_subclass(T) + 1) is T\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _tracked_program(lib):
    """A subclass whose ``__new__`` returns an alias carrying a set of labels, and whose
    ``__torch_function__`` unwraps its arguments, runs ``func`` and labels every Tensor result with
    the union of its inputs' labels (through ``tree_map``, shapes included)."""
    from functools import partial

    tree_map = lib.utils._pytree.tree_map

    class Labelled(lib.Tensor):
        def __new__(cls, data, labels=frozenset()):
            out = data.as_subclass(cls)
            out._plain, out._labels = data, frozenset(labels)
            return out

        def __init__(self, data, labels=frozenset()):
            pass  # __new__ did the work; PyTorch's own __init__ takes no part either

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            labels = set()

            def unwrap(x):
                if isinstance(x, Labelled):
                    labels.update(x._labels)
                    return x._plain
                return x

            out = func(*tree_map(unwrap, list(args)), **tree_map(unwrap, kwargs or {}))
            return tree_map(partial(wrap, labels=labels), out)

    def wrap(x, labels):
        return Labelled(x, labels) if isinstance(x, lib.Tensor) and labels else x

    a = Labelled(lib.ones(2), {"a"})
    b = Labelled(lib.ones(2) * 2, {"b"})
    c = lib.ones(2)
    s = (a * b + c).sum()
    shape = a.shape
    parts = lib.split(b * 3, 1)
    return (
        type(s).__name__,
        sorted(s._labels),
        s._plain.item(),
        type(shape).__name__,
        tuple(shape),
        [sorted(p._labels) for p in parts],
    )


def test_new_returning_an_alias_with_labels(torch):
    assert _tracked_program(gg) == _tracked_program(torch)


def test_super_new_is_the_legacy_constructor(torch):
    """``super().__new__(cls, data)`` gives a subclass tensor over ``data`` (PyTorch's legacy
    constructor), and Tensor's ``__init__`` then ignores the call's extra arguments."""

    def run(lib):
        class Meta(lib.Tensor):
            @staticmethod
            def __new__(cls, data, extra):
                return super().__new__(cls, data)

            def __init__(self, data, extra):
                self.extra = extra

        class Bare(lib.Tensor):
            @staticmethod
            def __new__(cls, data, extra):
                return super().__new__(cls, data)

        base = lib.tensor([1.0, 2.0])
        m = Meta(base, "x")
        b = Bare(base, "y")
        base.add_(1)  # shared memory
        return type(m).__name__, m.extra, m.tolist(), type(b).__name__, b.tolist(), type(m * 2).__name__

    assert run(gg) == run(torch)
