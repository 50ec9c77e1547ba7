"""``torch.overrides`` against PyTorch (round 67, PyTorch's test_overrides.py and
test_subclass.py): the public names ``resolve_name`` gives, which elements ``has_torch_function``
and ``handle_torch_function`` ask, and ``distributions.utils.broadcast_all`` of a wrapper type.
Each program runs on both libraries; the expected values are PyTorch's."""

from __future__ import annotations

import importlib

import pytest

import glassgrad as gg


def _logged_names(lib) -> list:
    """The names a logging mode records for a small program (factories, functions, methods,
    operators, properties, ``nn.functional``, indexing)."""
    ov = lib.overrides

    class Log(ov.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.names.append(ov.resolve_name(func))
            return func(*args, **(kwargs or {}))

    with Log() as mode:
        x = lib.ones(2, 3)
        y = lib.add(x, 1) * 2
        _ = y.sum(dim=0), y.shape, y.T, y.dtype, y[0]
        _ = lib.nn.functional.relu(y), lib.linalg.norm(y), lib.einsum("ij->j", y), lib.cat([y, y])
    return mode.names


def test_resolve_name_gives_the_public_name(torch):
    expected = [None if n is None else n.replace("torch.", "glassgrad.", 1) for n in _logged_names(torch)]
    assert None not in expected  # every call of the program has a public name in PyTorch
    assert _logged_names(gg) == expected


@pytest.mark.parametrize(
    "path",
    [
        "add",
        "zeros",
        "Tensor.add",
        "Tensor.__add__",
        "nn.functional.relu",
        "linalg.norm",
        "fft.fft",
        "special.entr",
        "functional.einsum",
        "einsum",
    ],
)
def test_resolve_name_of_public_functions(torch, path):
    def name(lib):
        obj = lib
        for part in path.split("."):
            obj = getattr(obj, part)
        return lib.overrides.resolve_name(obj)

    assert name(gg) == name(torch).replace("torch.", "glassgrad.", 1)


def test_resolve_name_of_property_getters_and_others(torch):
    def names(lib):
        ov = lib.overrides
        return [
            ov.resolve_name(lib.Tensor.shape.__get__),
            ov.resolve_name(lib.Tensor.grad.__get__),
            ov.resolve_name(lib.Tensor.requires_grad.__set__),
            ov.resolve_name(lambda x: x),  # not a public function
        ]

    assert names(gg) == [None if n is None else n.replace("torch.", "glassgrad.", 1) for n in names(torch)]


def test_resolve_name_reaches_the_function_back():
    # PyTorch's own check: the name of every overridable function reaches that function
    missing = []
    for funcs in gg.overrides.get_overridable_functions().values():
        for f in funcs:
            name = gg.overrides.resolve_name(f)
            obj = gg
            try:
                for part in (name or "?.?").split(".")[1:]:
                    obj = getattr(obj, part)
            except AttributeError:
                obj = None
            if name is None or obj != f:
                missing.append((getattr(f, "__name__", f), name))
    assert missing == []


def _relevant_args(lib) -> list:
    ov = lib.overrides

    class Other:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return "asked"

    def f(values):
        if ov.has_torch_function((values,)):
            return ov.handle_torch_function(f, (values,), values)
        return "ran"

    t, o = lib.ones(1), Other()
    out = [ov.has_torch_function((t, [o])), ov.has_torch_function([t, (o,)]), ov.has_torch_function((t, o))]
    out.append(f([t, o]))  # a list inside relevant_args is not looked into
    out.append(f(o))
    try:
        ov.handle_torch_function(f, ([o],), [o])
        out.append("no error")
    except TypeError:
        out.append("TypeError")  # nothing to ask: PyTorch's "no implementation found"
    return out


def test_relevant_args_are_not_searched_inside_lists(torch):
    assert _relevant_args(gg) == _relevant_args(torch)


def _broadcast_wrapped(lib) -> list:
    broadcast_all = importlib.import_module(lib.__name__ + ".distributions.utils").broadcast_all

    class Wrapped:
        """A tensor held inside an object that implements ``__torch_function__`` (not a Tensor)."""

        def __init__(self, data):
            self.data = data

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            def unwrap(v):
                if isinstance(v, (list, tuple)):
                    return type(v)(unwrap(u) for u in v)
                return v.data if isinstance(v, Wrapped) else v

            out = func(*unwrap(args), **unwrap(kwargs or {}))
            if isinstance(out, (list, tuple)):
                return type(out)(Wrapped(v) for v in out)
            return Wrapped(out)

    a, b = lib.tensor([1.25, 3.5, 5.5]), lib.tensor(5.0)
    out = []
    for values in [(Wrapped(a), Wrapped(b)), (Wrapped(a), b), (a, Wrapped(b)), (Wrapped(a), 2.0)]:
        res = broadcast_all(*values)
        out.append([type(r).__name__ for r in res])
        out.append([r.data.tolist() if isinstance(r, Wrapped) else r.tolist() for r in res])
    return out


def test_broadcast_all_hands_wrappers_to_broadcast_tensors(torch):
    assert _broadcast_wrapped(gg) == _broadcast_wrapped(torch)


def _is_floating_point_calls(lib) -> list:
    """``Tensor.is_floating_point`` is a method: callable unbound, and what a subclass's
    ``__torch_function__`` is handed (a wrapper type that special-cases it must recognise it)."""
    handed = []

    class Seen(lib.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            handed.append(func == lib.Tensor.is_floating_point)
            return super().__torch_function__(func, types, args, kwargs or {})

    out = [
        lib.Tensor.is_floating_point(lib.ones(2, dtype=dt))
        for dt in (lib.float16, lib.float64, lib.int64, lib.bool)
    ]
    out.append(lib.Tensor.is_floating_point(lib.ones(1, dtype=lib.complex64)))
    out.append(lib.ones(2).as_subclass(Seen).is_floating_point())
    return out + handed


def test_is_floating_point_is_a_method(torch):
    assert _is_floating_point_calls(gg) == _is_floating_point_calls(torch)


def test_default_nowrap_functions(torch):
    def names(lib):
        return sorted(lib.overrides.resolve_name(f) for f in lib.overrides.get_default_nowrap_functions())

    assert names(gg) == [n.replace("torch.", "glassgrad.", 1) for n in names(torch)]
