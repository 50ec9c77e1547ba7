"""save/load keep a tensor's class (a Parameter, a user's subclass) and its attributes, as PyTorch's
pickles do, and load still makes only allowed classes and imports nothing."""

from __future__ import annotations

import io
import json
import pickle
import sys

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import CheckpointError, UnsafeGlobalError


class Noted(gg.Tensor):
    """A user's subclass (module level, as pickle needs for PyTorch's side)."""


class WithState(gg.Tensor):
    def __setstate__(self, state: dict) -> None:
        self.seen = dict(state)  # records what load handed over


def _torch_class(torch):
    """PyTorch's twin of ``Noted``, made at module level once (pickle finds it by name)."""
    if "TorchNoted" not in globals():
        globals()["TorchNoted"] = type("TorchNoted", (torch.Tensor,), {"__module__": __name__})
    return globals()["TorchNoted"]


def _round_trip(lib, obj, **kw):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf, **kw)


def _raw_file(structure: dict) -> io.BytesIO:
    """A glassgrad file whose structure is written by hand (a hostile or foreign one)."""
    import safetensors.numpy as stn

    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps(structure)}
    return io.BytesIO(stn.save({"tensor": np.ones(2, np.float32)}, metadata=meta))


def _subclass_outcomes(lib, cls):
    t = lib.ones(2).as_subclass(cls)
    t.note, t.extra = "hi", 3
    out = {}
    try:
        _round_trip(lib, t)
    except pickle.UnpicklingError:
        out["default"] = "refused"
    with lib.serialization.safe_globals([cls]):
        r = _round_trip(lib, t)
    out["allowed"] = (type(r) is cls, dict(vars(r)), r.tolist())
    r = _round_trip(lib, t, weights_only=False)
    out["weights_only=False"] = (type(r) is cls, dict(vars(r)), r.tolist())
    return out


def test_a_subclass_and_its_attributes_round_trip_as_pytorch(torch):
    ours = _subclass_outcomes(gg, Noted)
    assert ours == _subclass_outcomes(torch, _torch_class(torch))
    assert ours["allowed"] == (True, {"note": "hi", "extra": 3}, [1.0, 1.0])


def _parameter_outcomes(lib):
    p = lib.nn.Parameter(lib.ones(2))
    frozen = lib.nn.Parameter(lib.ones(2), requires_grad=False)
    frozen.tag = "x"
    plain = lib.ones(1, requires_grad=True)
    r = _round_trip(lib, {"p": p, "frozen": frozen, "plain": plain, "buffer": lib.nn.Buffer(lib.zeros(1))})
    out = {k: (type(v).__name__, v.requires_grad, v.is_leaf, dict(vars(v)), v.tolist()) for k, v in r.items()}
    # PyTorch's Buffer keeps its flags in __dict__ (glassgrad's in a slot): only its type and data
    out["buffer"] = (type(r["buffer"]).__name__, r["buffer"].tolist())
    return out


def test_parameters_load_as_parameters_and_buffers_as_tensors_as_pytorch(torch):
    ours = _parameter_outcomes(gg)
    assert ours == _parameter_outcomes(torch)
    assert ours["frozen"] == ("Parameter", False, True, {"tag": "x"}, [1.0, 1.0])


def test_a_plain_tensors_attributes_round_trip_as_pytorch(torch):
    outcomes = []
    for lib in (gg, torch):
        t = lib.arange(3.0)
        t.scale, t.names = 0.5, ["a", "b"]
        r = _round_trip(lib, t)
        outcomes.append((type(r).__name__, dict(vars(r)), r.tolist()))
    assert outcomes[0] == outcomes[1] == ("Tensor", {"scale": 0.5, "names": ["a", "b"]}, [0.0, 1.0, 2.0])


def test_attributes_holding_tensors_and_shared_subclass_tensors():
    t = gg.ones(2, requires_grad=True).as_subclass(Noted)
    t.affine = gg.eye(2)
    r = _round_trip(gg, {"a": t, "b": t}, weights_only=False)
    assert r["a"] is r["b"] and type(r["a"]) is Noted
    np.testing.assert_array_equal(r["a"].affine.numpy(), np.eye(2))
    assert r["a"].requires_grad


def test_a_class_setstate_receives_the_attributes():
    t = gg.ones(1).as_subclass(WithState)
    t.a = 1
    r = _round_trip(gg, t, weights_only=False)
    assert type(r) is WithState and r.seen == {"a": 1}


def test_an_attribute_that_cannot_be_saved_is_refused_at_save_naming_it():
    t = gg.ones(2).as_subclass(Noted)
    t.obj = object()
    with pytest.raises(TypeError, match=r"got object at __dict__/obj"):
        _round_trip(gg, t)
    with pytest.raises(TypeError, match=r"got object at w/__dict__/obj"):
        _round_trip(gg, {"w": t})


def test_the_refusal_names_the_class_and_how_to_allow_it():
    t = gg.ones(2).as_subclass(Noted)
    with pytest.raises(
        UnsafeGlobalError,
        match=r"saved as tests\.test_serialization_subclass\.Noted.*add_safe_globals\(\[Noted\]\)",
    ):
        _round_trip(gg, t)
    with pytest.raises(CheckpointError):  # and a CheckpointError, as every other load failure
        _round_trip(gg, t)


def test_load_imports_nothing_and_makes_no_class_that_is_not_a_tensor():
    missing = "glassgrad_test_module_never_imported"
    with pytest.raises(UnsafeGlobalError, match=rf"import {missing} first"):
        gg.load(_raw_file({"__tensor__": "tensor", "class": [missing, "X"]}), weights_only=False)
    assert missing not in sys.modules
    # os.system is importable and callable: it must be refused, never called
    for weights_only in (True, False):
        with pytest.raises(UnsafeGlobalError):
            gg.load(_raw_file({"__tensor__": "tensor", "class": ["os", "system"]}), weights_only=weights_only)
    allowed = gg.serialization.safe_globals([(print, "builtins.print")])  # allowed, not a Tensor class
    with allowed, pytest.raises(UnsafeGlobalError, match="not a Tensor subclass"):
        gg.load(_raw_file({"__tensor__": "tensor", "class": ["builtins", "print"]}))


@pytest.mark.parametrize(
    "fields",
    [{"class": "os.system"}, {"class": ["a"]}, {"class": [1, 2]}, {"state": [1, 2]}],
)
def test_malformed_class_fields_are_a_corrupted_file(fields):
    with pytest.raises(CheckpointError, match="corrupted structure metadata"):
        gg.load(_raw_file({"__tensor__": "tensor", **fields}))
