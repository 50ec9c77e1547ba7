"""Round 58 (modapi): nn.Module API and nn.utils against PyTorch.

Complex weights under ``parametrizations.orthogonal``, ``load_state_dict``'s error text, the old
positional ``state_dict(destination, prefix, keep_vars)``, ``ParameterDict.fromkeys`` and the
dict containers' ``update`` checks, and the errors of the name checks and dotted-path lookups
(``add_module``, ``register_buffer``, ``get_submodule``, ``set_submodule`` ...)."""

from __future__ import annotations

import importlib
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg


def _libs(torch):
    return {"gg": gg, "torch": torch}


def _error(fn):
    """(type name, message) of what ``fn()`` raises, glassgrad's names spelt as PyTorch's (whose
    layers live one package deeper, in ``torch.nn.modules``)."""
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value).__name__, str(info.value).replace("glassgrad.", "torch.").replace(
        "torch.nn.modules.", "torch.nn."
    )


def _both(torch, fn):
    """``fn(lib)``'s error under glassgrad and under PyTorch, which must be the same."""
    ours, theirs = (_error(lambda lib=lib: fn(lib)) for lib in (gg, torch))
    assert ours == theirs
    return ours


# ------------------------------------------------------------------ orthogonal, complex weights
def _complex_linear(lib, n, k):
    rs = np.random.RandomState(5)
    m = lib.nn.Linear(k, n, dtype=lib.complex128)
    with lib.no_grad():
        m.weight.copy_(lib.complex(lib.tensor(rs.randn(n, k)), lib.tensor(rs.randn(n, k))))
        m.bias.zero_()
    return m


def _orthogonal_run(lib, shape, orthogonal_map):
    m = _complex_linear(lib, *shape)
    importlib.import_module(lib.__name__ + ".nn.utils.parametrizations").orthogonal(
        m, orthogonal_map=orthogonal_map
    )
    rs = np.random.RandomState(7)
    x = lib.complex(lib.tensor(rs.randn(2, shape[1])), lib.tensor(rs.randn(2, shape[1])))
    y = m(x)
    y.abs().sum().backward()
    original = m.parametrizations.weight.original
    return m.weight.detach().numpy(), y.detach().numpy(), original.grad.numpy()


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", None])
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)], ids=["square", "tall", "wide"])
def test_orthogonal_of_a_complex_weight_is_unitary_as_torch(torch, shape, orthogonal_map):
    ours = _orthogonal_run(gg, shape, orthogonal_map)
    theirs = _orthogonal_run(torch, shape, orthogonal_map)
    # the weight at registration is the unitary Q of the weight's QR (diag(R) real, positive)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-12)
    if shape[0] == shape[1]:  # else the base's completing columns are random draws
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)
    w = ours[0] if shape[0] > shape[1] else ours[0].T
    np.testing.assert_allclose(w.conj().T @ w, np.eye(min(shape)), atol=1e-12)


def test_orthogonal_householder_refuses_a_complex_weight_as_torch(torch):
    def run(lib):
        utils = importlib.import_module(lib.__name__ + ".nn.utils.parametrizations")
        utils.orthogonal(_complex_linear(lib, 3, 3), orthogonal_map="householder")

    assert _both(torch, run)[0] == "ValueError"


# ------------------------------------------------------------------ load_state_dict's errors
def _net(lib):
    nn = lib.nn
    return nn.Sequential(OrderedDict(a=nn.Linear(2, 3), b=nn.BatchNorm1d(3), c=nn.Linear(3, 1)))


def _mangled(lib):
    sd = _net(lib).state_dict()
    del sd["a.bias"], sd["b.running_var"]
    sd["a.weight"] = lib.zeros(5, 5)
    sd["c.bias"] = lib.zeros(2)
    sd["extra"] = lib.zeros(1)
    sd["c.zz"] = lib.zeros(1)
    return sd


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_error_text_is_torchs(torch, strict):
    kind, msg = _both(torch, lambda lib: _net(lib).load_state_dict(_mangled(lib), strict=strict))
    assert kind == "RuntimeError" and msg.count("size mismatch for") == 2


def test_load_state_dict_error_lines_of_an_override_are_joined_as_torch(torch):
    def run(lib):
        class Checked(lib.nn.Linear):
            def _load_from_state_dict(self, sd, prefix, meta, strict, missing, unexpected, errors):
                errors.append(f"{prefix}weight is stale")
                super()._load_from_state_dict(sd, prefix, meta, strict, missing, unexpected, errors)

        m = lib.nn.Sequential(Checked(2, 2))
        m.load_state_dict({"0.weight": lib.zeros(2, 2), "1.x": lib.zeros(1)})

    _both(torch, run)


def test_load_state_dict_refuses_a_list_as_torch(torch):
    assert _both(torch, lambda lib: lib.nn.Linear(1, 1).load_state_dict([]))[0] == "TypeError"


# ------------------------------------------------------------------ state_dict's positional form
def test_state_dict_takes_the_old_positional_arguments_as_torch(torch):
    results = []
    for lib in (gg, torch):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        dest = OrderedDict()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = m.state_dict(dest, "pre.", True)
        kinds = [w.category for w in caught]
        results.append((out is dest, list(dest), [type(v).__name__ for v in dest.values()], kinds))
    assert results[0] == results[1]
    assert results[0][:3] == (True, ["pre.0.weight", "pre.0.bias"], ["Parameter", "Parameter"])
    assert results[0][3] == [FutureWarning]


# ------------------------------------------------------------------ ParameterDict / ModuleDict
def test_parameter_dict_fromkeys_as_torch(torch):
    results = []
    for lib in (gg, torch):
        pd = lib.nn.ParameterDict({"a": lib.nn.Parameter(lib.ones(1))})
        p = lib.nn.Parameter(lib.zeros(2))
        new = pd.fromkeys(["y", "x"], p)
        empty = pd.fromkeys(["k"])
        results.append(
            (
                type(new).__name__,
                list(new),
                new["y"] is p and new["x"] is p,
                list(pd),
                list(empty),
                empty["k"],
            )
        )
    assert results[0] == results[1] == ("ParameterDict", ["y", "x"], True, ["a"], ["k"], None)


_BAD_UPDATES = {"not_iterable": 3, "short_pair": [("a",)], "long_pair": [("a", None, 1)], "not_a_pair": [7]}


@pytest.mark.parametrize("value", list(_BAD_UPDATES), ids=list(_BAD_UPDATES))
@pytest.mark.parametrize("container", ["ModuleDict", "ParameterDict"])
def test_dict_container_update_errors_as_torch(torch, container, value):
    _both(torch, lambda lib: getattr(lib.nn, container)().update(_BAD_UPDATES[value]))


@pytest.mark.parametrize("container", ["ModuleDict", "ParameterDict"])
def test_dict_container_update_with_pairs_as_torch(torch, container):
    results = []
    for lib in (gg, torch):
        value = lib.nn.Identity if container == "ModuleDict" else (lambda: lib.nn.Parameter(lib.ones(1)))
        d = getattr(lib.nn, container)({"b": value()})
        d.update([("z", value()), ["a", value()]])
        d.update({"y": value(), "c": value()})  # a plain dict: ParameterDict sorts it, ModuleDict not
        results.append((list(d.keys()), list(d.state_dict())))
    assert results[0] == results[1]


# ------------------------------------------------------------------ name checks
_NAME_CASES = {
    "module_dot": lambda lib: lib.nn.Module().add_module("a.b", lib.nn.ReLU()),
    "module_empty": lambda lib: lib.nn.Module().add_module("", lib.nn.ReLU()),
    "module_not_str": lambda lib: lib.nn.Module().add_module(3, lib.nn.ReLU()),
    "module_not_module": lambda lib: lib.nn.Module().add_module("x", 3),
    "module_taken": lambda lib: lib.nn.Linear(1, 1).add_module("weight", lib.nn.ReLU()),
    "register_module_dot": lambda lib: lib.nn.Module().register_module("a.b", None),
    "buffer_dot": lambda lib: lib.nn.Module().register_buffer("a.b", lib.ones(1)),
    "buffer_empty": lambda lib: lib.nn.Module().register_buffer("", lib.ones(1)),
    "buffer_not_str": lambda lib: lib.nn.Module().register_buffer(1.5, lib.ones(1)),
    "buffer_taken": lambda lib: lib.nn.Linear(1, 1).register_buffer("in_features", lib.ones(1)),
    "parameter_dot": lambda lib: lib.nn.Module().register_parameter("a.b", None),
    "parameter_empty": lambda lib: lib.nn.Module().register_parameter("", None),
    "parameter_tensor": lambda lib: lib.nn.Module().register_parameter("x", lib.ones(1)),
    "parameter_dict_dot": lambda lib: lib.nn.ParameterDict({"a.b": lib.nn.Parameter(lib.ones(1))}),
    "sequential_append_int": lambda lib: lib.nn.Sequential().append(3),
    "tensor_over_parameter": lambda lib: setattr(lib.nn.Linear(1, 1), "weight", lib.ones(1, 1)),
}


@pytest.mark.parametrize("name", list(_NAME_CASES), ids=list(_NAME_CASES))
def test_registration_name_checks_raise_as_torch(torch, name):
    _both(torch, _NAME_CASES[name])


# ------------------------------------------------------------------ dotted-path lookups
def _tree(lib):
    class Holder(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)
            self.register_buffer("buf", lib.zeros(1))
            self.register_buffer("gone", None)
            self.scale = 2.0

        @property
        def head(self):  # a submodule reached through a property, as PyTorch's getattr finds it
            return self.lin

    return lib.nn.Sequential(OrderedDict(h=Holder(), act=lib.nn.ReLU()))


_LOOKUP_ERRORS = {
    "submodule_missing": lambda m: m.get_submodule("h.nope.x"),
    "submodule_not_module": lambda m: m.get_submodule("h.buf"),
    "submodule_index": lambda m: m.get_submodule("5"),
    "parameter_missing": lambda m: m.get_parameter("h.lin.nope"),
    "parameter_is_buffer": lambda m: m.get_parameter("h.buf"),
    "parameter_is_module": lambda m: m.get_parameter("h.lin"),
    "parameter_is_float": lambda m: m.get_parameter("h.scale"),
    "buffer_missing": lambda m: m.get_buffer("h.nope"),
    "buffer_is_parameter": lambda m: m.get_buffer("h.lin.weight"),
    "set_empty": lambda m: m.set_submodule("", m.act),
    "set_not_module": lambda m: m.set_submodule("act", 3),
    "set_none": lambda m: m.set_submodule("act", None),
    "set_strict_missing": lambda m: m.set_submodule("h.new", m.act, strict=True),
    "set_over_buffer": lambda m: m.set_submodule("h.buf", m.act),
    "set_over_float": lambda m: m.set_submodule("h.scale", m.act),
    "set_missing_parent": lambda m: m.set_submodule("zz.new", m.act),
}


@pytest.mark.parametrize("case", list(_LOOKUP_ERRORS), ids=list(_LOOKUP_ERRORS))
def test_path_lookup_errors_as_torch(torch, case):
    _both(torch, lambda lib: _LOOKUP_ERRORS[case](_tree(lib)))


def test_path_lookups_follow_attributes_as_torch(torch):
    results = []
    for lib in (gg, torch):
        m = _tree(lib)
        found = [m.get_submodule("h.head") is m.h.lin, m.get_parameter("h.head.bias") is m.h.lin.bias]
        found.append(m.get_buffer("h.gone") is None)
        m.set_submodule("h.extra", lib.nn.Tanh())  # a new name, strict=False: registered
        m.set_submodule("h.lin", lib.nn.Identity(), strict=True)
        results.append((found, [n for n, _ in m.named_modules()], list(m.state_dict())))
    assert results[0] == results[1]
    assert results[0][0] == [True, True, True]


# ------------------------------------------------------------------ Sequential's operators
_SEQUENTIAL_OPS = {
    "add_module": lambda lib, s: s + lib.nn.ReLU(),
    "iadd_list": lambda lib, s: s.__iadd__([lib.nn.ReLU()]),
    "mul_zero": lambda lib, s: s * 0,
    "rmul_negative": lambda lib, s: -2 * s,
    "mul_float": lambda lib, s: s * 1.5,
    "imul_zero": lambda lib, s: s.__imul__(0),
    "imul_str": lambda lib, s: s.__imul__("2"),
}


@pytest.mark.parametrize("case", list(_SEQUENTIAL_OPS), ids=list(_SEQUENTIAL_OPS))
def test_sequential_operator_errors_as_torch(torch, case):
    _both(torch, lambda lib: _SEQUENTIAL_OPS[case](lib, lib.nn.Sequential(lib.nn.Tanh())))


def test_sequential_times_true_is_one_copy_as_torch(torch):
    # PyTorch's check is isinstance(n, int), which a bool passes
    results = []
    for lib in (gg, torch):
        s = lib.nn.Sequential(lib.nn.Tanh())
        results.append([type(m).__name__ for m in s * True])
    assert results[0] == results[1] == ["Tanh"]
