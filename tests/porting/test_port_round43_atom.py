"""Round 43, group atom: schnetpack's and chemprop's networks on glassgrad.

schnetpack (SchNet, PaiNN, SO3net, FieldSchNet with energy, force, stress and response training,
its MD integrators) and chemprop's message passing ran unchanged. One defect, met in chemprop:

* ``save`` refused classes and functions (``TypeError: ... got _ProtocolMeta at
  hyper_parameters/message_passing/cls``) where PyTorch's pickle writes them by reference:
  chemprop's ``save_model`` stores ``hparams["message_passing"]["cls"] = BondMessagePassing`` and
  ``load_model`` rebuilds the model from it; an enum member (chemprop's ``Activation.RELU``, a
  ``StrEnum``) came back a plain ``str``. ``save`` now writes ``{"__global__": [module, qualname]}``
  and ``{"__enum__": [module, qualname, name]}``; ``load`` hands back the class, function or member
  (calling nothing) when the class is allowlisted or, with ``weights_only=False``, already
  imported, as a saved tensor's class is found.
"""

from __future__ import annotations

import collections
import enum
import io
import math
import pickle
import sys
import types

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import CheckpointError, UnsafeGlobalError


class Block(gg.nn.Module):
    """A module rebuilt from its saved class and keywords, as chemprop's ``MPNN._load`` does."""

    def __init__(self, d_in: int = 3, d_h: int = 4) -> None:
        super().__init__()
        self.lin = gg.nn.Linear(d_in, d_h)

    def forward(self, x):
        return self.lin(x).relu()


class Act(enum.StrEnum):
    """chemprop's ``Activation`` is a ``StrEnum`` kept in the saved hyperparameters."""

    RELU = "relu"
    TANH = "tanh"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def scale(x):
    """A module-level function (found by name)."""
    return 2 * x


def _round_trip(lib, obj, **kw):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf, **kw)


def _refs():
    return {
        "cls": collections.OrderedDict,
        "fn": math.sqrt,
        "mine": [Block, (scale,)],
        "keys": {collections.Counter: 1, scale: "f"},
        "t": gg.ones(2),
    }


def test_classes_and_functions_round_trip_by_reference():
    out = _round_trip(gg, _refs(), weights_only=False)
    assert out["cls"] is collections.OrderedDict and out["fn"] is math.sqrt
    assert out["mine"][0] is Block and out["mine"][1] == (scale,)
    assert out["keys"] == {collections.Counter: 1, scale: "f"}
    np.testing.assert_array_equal(out["t"].numpy(), np.ones(2))


def test_references_load_as_pytorch_loads_them(torch):
    obj = {"cls": collections.OrderedDict, "fn": math.sqrt, "mine": Block, "keys": {scale: 1}}
    want = _round_trip(torch, obj, weights_only=False)
    got = _round_trip(gg, obj, weights_only=False)
    assert got == want
    # weights-only loading refuses a global that is not allowlisted, in both libraries
    for lib, err in ((torch, pickle.UnpicklingError), (gg, UnsafeGlobalError)):
        with pytest.raises(err):
            _round_trip(lib, {"cls": Block})
        with lib.serialization.safe_globals([Block]):
            assert _round_trip(lib, {"cls": Block})["cls"] is Block


def test_enum_members_come_back_as_members(torch):
    obj = {"act": Act.TANH, "lvl": [Level.HIGH], "keys": {Level.LOW: 1}}
    want = _round_trip(torch, obj, weights_only=False)
    got = _round_trip(gg, obj, weights_only=False)
    assert got == want
    assert type(got["act"]) is Act and got["act"] is Act.TANH and got["lvl"][0] is Level.HIGH
    with pytest.raises(UnsafeGlobalError, match="Level"):
        _round_trip(gg, {"lvl": Level.LOW})
    with gg.serialization.safe_globals([Level]):
        assert _round_trip(gg, {"lvl": Level.LOW})["lvl"] is Level.LOW


def test_a_combination_of_flags_is_saved_as_its_value():
    class Perm(enum.IntFlag):
        R = 4
        W = 2

    assert _round_trip(gg, {"p": Perm.R | Perm.W})["p"] == 6


def test_weights_only_refusal_names_the_global_and_the_allowlist():
    with pytest.raises(
        UnsafeGlobalError, match=r"names tests\.porting\.test_port_round43_atom\.Block.*add_safe_globals"
    ):
        _round_trip(gg, {"cls": Block})
    assert issubclass(UnsafeGlobalError, pickle.UnpicklingError)  # what PyTorch's loader raises


def test_a_reference_to_what_is_not_a_class_or_function_is_refused(tmp_path):
    import json

    import safetensors.numpy as stn

    meta = {
        "glassgrad.format": "1",
        "glassgrad.structure": json.dumps({"v": {"__global__": ["sys", "modules"]}}),
    }
    (tmp_path / "bad.pt").write_bytes(stn.save({}, metadata=meta))
    with pytest.raises(UnsafeGlobalError, match="sys.modules is dict here, not a class or function"):
        gg.load(tmp_path / "bad.pt", weights_only=False)


def test_load_imports_nothing():
    mod = types.ModuleType("atom43_not_imported")
    exec("class Thing:\n    pass\n", mod.__dict__)
    mod.Thing.__module__ = mod.__name__
    sys.modules[mod.__name__] = mod
    try:
        buf = io.BytesIO()
        gg.save({"cls": mod.Thing}, buf)
    finally:
        del sys.modules[mod.__name__]
    buf.seek(0)
    with pytest.raises(UnsafeGlobalError, match="import atom43_not_imported first"):
        gg.load(buf, weights_only=False)


def test_local_classes_and_lambdas_are_refused_as_pickle_refuses_them(torch, tmp_path):
    class Local:
        pass

    for obj in (Local, lambda x: x):
        with pytest.raises((AttributeError, pickle.PicklingError)):
            torch.save({"c": obj}, io.BytesIO())
        with pytest.raises(TypeError, match=r"at c is saved by reference.*define it at module level"):
            gg.save({"c": obj}, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


_MOD = "tests.porting.test_port_round43_atom"
_PAIR = r"corrupted structure metadata: expected a \[module, qualname\]"


@pytest.mark.parametrize(
    ("node", "match"),
    [
        ({"__global__": [7, "Block"]}, _PAIR),
        ({"__global__": "collections.OrderedDict"}, _PAIR),
        ({"__global__": None}, _PAIR),
        ({"__enum__": [_MOD, "Act"]}, r"corrupted structure metadata: expected a \[module, qualname, name\]"),
        ({"__enum__": [_MOD, "Act", "GELU"]}, r"Act has no enum member 'GELU'"),
        ({"__enum__": [_MOD, "Block", "RELU"]}, r"Block has no enum member 'RELU'"),
    ],
)
def test_a_corrupted_reference_is_a_checkpoint_error(tmp_path, node, match):
    import json

    import safetensors.numpy as stn

    meta = {"glassgrad.format": "1", "glassgrad.structure": json.dumps({"v": node})}
    (tmp_path / "bad.pt").write_bytes(stn.save({}, metadata=meta))
    with pytest.raises(CheckpointError, match=rf"bad.pt: .*{match}"):
        gg.load(tmp_path / "bad.pt", weights_only=False)


def test_chemprop_style_checkpoint_rebuilds_the_model(torch):
    """hparams with the class, the state_dict, a rebuilt model: same outputs as PyTorch's."""
    gg.manual_seed(0)
    model = Block(3, 4)
    hparams = {"cls": Block, "d_in": 3, "d_h": 4, "activation": Act.RELU}
    ckpt = {"hyper_parameters": hparams, "state_dict": model.state_dict()}
    d = _round_trip(gg, ckpt, weights_only=False)
    hp = dict(d["hyper_parameters"])
    assert hp.pop("activation") is Act.RELU
    rebuilt = hp.pop("cls")(**hp)
    rebuilt.load_state_dict(d["state_dict"])
    x = np.random.default_rng(0).normal(size=(5, 3))
    tm = torch.nn.Linear(3, 4).double()
    tm.load_state_dict({k[4:]: torch.tensor(v.numpy()).double() for k, v in model.state_dict().items()})
    want = tm(torch.tensor(x)).relu().detach().numpy()
    got = rebuilt.double()(gg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
