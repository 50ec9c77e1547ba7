"""Loading state dicts, lazy placeholders and pruning helpers against PyTorch (round 67,
PyTorch's ``test_load_state_dict.py``, ``test_lazy_modules.py`` and ``test_pruning.py`` run on
glassgrad):

* an uninitialized (lazy) placeholder loaded into an initialized module raises PyTorch's
  "Can't access the shape of an uninitialized parameter" RuntimeError (it was a size-mismatch
  line about shape ``[0]``); ``share_memory`` of a placeholder raises as PyTorch's (it replaced
  the placeholder's guarded array by a plain empty one, so ops on it then gave empty results);
  functions given a placeholder (``empty_like``) raise a ValueError as PyTorch's do;
* under ``torch.__future__.set_swap_module_params_on_conversion(True)`` a load into a meta
  module gives PyTorch's "no-op" warning, and the swaps of one load share one walk of the
  garbage collector's objects (one walk per parameter made a 2,000-parameter load take 33 s);
* ``nn.utils.prune``'s private helpers under PyTorch's names (custom pruning methods call them).
"""

from __future__ import annotations

import importlib
import warnings

import pytest

import glassgrad
import glassgrad.utils.swap as swap_module


@pytest.fixture
def swap_flag():
    """Runs a test with the swap flag on in both libraries, then puts both back."""
    old = glassgrad.__future__.get_swap_module_params_on_conversion()
    yield
    glassgrad.__future__.set_swap_module_params_on_conversion(old)


def _libs(torch):
    return [glassgrad, torch]


@pytest.mark.parametrize("strict", [True, False])
def test_uninitialized_placeholder_into_initialized_module(torch, strict):
    for lib in _libs(torch):
        lazy_sd = lib.nn.LazyLinear(3).state_dict()
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            lib.nn.Linear(4, 3).load_state_dict(lazy_sd, strict=strict)


def test_placeholder_into_placeholder_and_values_into_placeholder(torch):
    """The other directions still load, as in PyTorch."""
    for lib in _libs(torch):
        lazy = lib.nn.LazyLinear(3)
        lazy.load_state_dict(lib.nn.LazyLinear(3).state_dict())
        assert lazy.has_uninitialized_params()
        lazy.load_state_dict(lib.nn.Linear(4, 3).state_dict())
        assert not lazy.has_uninitialized_params() and tuple(lazy.weight.shape) == (3, 4)


def test_share_memory_of_placeholder_raises(torch):
    for lib in _libs(torch):
        # placeholders among the parameters, and among the buffers only
        for m in (lib.nn.LazyLinear(3), lib.nn.LazyBatchNorm1d(affine=False)):
            with pytest.raises(
                RuntimeError, match="Can't share memory on an uninitialized parameter or buffer"
            ):
                m.share_memory()
    p = glassgrad.nn.parameter.UninitializedParameter()
    with pytest.raises(RuntimeError):
        p.share_memory_()
    with pytest.raises(ValueError, match="uninitialized parameter"):  # still a guarded placeholder
        p + p


def test_functions_given_a_placeholder_raise_value_error(torch):
    for lib in _libs(torch):
        p = lib.nn.parameter.UninitializedParameter()
        for fn in (lib.empty_like, lib.zeros_like, lambda t: lib.add(t, t), lambda t: t * 2):
            with pytest.raises(ValueError, match="uninitialized parameter"):
                fn(p)
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
            _ = p.shape


def _meta_load_warnings(lib):
    lib.__future__.set_swap_module_params_on_conversion(True)
    with lib.device("meta"):
        m = lib.nn.Linear(3, 5)
    sd = m.state_dict()
    sd["weight"] = lib.ones(5, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.load_state_dict(sd)
    return [str(w.message)[:60] for w in caught], m.weight.is_meta, type(m.weight).__name__


def test_meta_load_warns_under_swap_flag(torch, swap_flag):
    old = torch.__future__.get_swap_module_params_on_conversion()
    try:
        ours, theirs = _meta_load_warnings(glassgrad), _meta_load_warnings(torch)
    finally:
        torch.__future__.set_swap_module_params_on_conversion(old)
    assert ours == theirs
    assert ours == (["for weight: copying from a non-meta parameter in the checkpo"], True, "Parameter")


def test_swap_load_walks_the_gc_objects_once(monkeypatch, swap_flag):
    glassgrad.__future__.set_swap_module_params_on_conversion(True)
    model = glassgrad.nn.Sequential(*[glassgrad.nn.Linear(2, 2) for _ in range(20)])  # 40 parameters
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    walks = []
    real = swap_module.gc.get_referrers

    def counting(*objs):
        walks.append(len(objs))
        return real(*objs)

    monkeypatch.setattr(swap_module.gc, "get_referrers", counting)
    model.load_state_dict(sd)
    assert len(walks) <= 2 and walks[0] == 80  # every swapped leaf (40 old, 40 new) in one walk
    assert all(p.tolist() == q.tolist() for p, q in zip(model.state_dict().values(), sd.values()))


def test_swap_load_still_refuses_a_graph_recorded_before(torch, swap_flag):
    """A graph holding a swapped leaf raises at backward (PyTorch poisons its AccumulateGrad)."""
    for lib in _libs(torch):
        old = lib.__future__.get_swap_module_params_on_conversion()
        lib.__future__.set_swap_module_params_on_conversion(True)
        try:
            model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
            loss = sum(p.sum() for p in model.parameters())  # sum saves nothing: only the edge knows
            model.load_state_dict({k: v.clone() for k, v in model.state_dict().items()})
            with pytest.raises(RuntimeError):
                loss.backward()
        finally:
            lib.__future__.set_swap_module_params_on_conversion(old)


def _prune_helpers(lib):
    prune = importlib.import_module(lib.__name__ + ".nn.utils.prune")
    out = []
    for amount, size in [(0, 15), (10, 15), (1, 15), (1.0, 15), (0.4, 17), (0.5, 5), (0.5, 7), (0.3, 0)]:
        out.append(prune._compute_nparams_toprune(amount=amount, tensor_size=size))
    for amount, size in [(20, 19), (0.3, 0), (19, 20), (0, 0), (1, 1)]:
        try:
            prune._validate_pruning_amount(amount=amount, tensor_size=size)
            out.append("ok")
        except ValueError:
            out.append("ValueError")
    for amount in ["I'm a string", 1.1, 20.0, -10, 0.34, 1500, 0, 0.0, 1, 1.0]:
        try:
            prune._validate_pruning_amount_init(amount=amount)
            out.append("ok")
        except (TypeError, ValueError) as e:
            out.append(type(e).__name__)
    return out


def test_prune_private_helpers(torch):
    assert _prune_helpers(glassgrad) == _prune_helpers(torch)


@pytest.mark.parametrize("dtype_name", ["int64", "bool"])
def test_assign_of_a_tensor_that_cannot_require_grad_is_a_load_error(torch, dtype_name):
    """``assign=True`` of an integer tensor to a parameter that requires grad: PyTorch's loader
    reports it among the load's errors (a RuntimeError naming the key), after loading the rest."""
    for lib in _libs(torch):
        m = lib.nn.Linear(2, 2)
        sd = {"weight": lib.ones(2, 2, dtype=getattr(lib, dtype_name)), "bias": lib.full((2,), 3.0)}
        with pytest.raises(RuntimeError, match='While copying the parameter named "weight"'):
            m.load_state_dict(sd, assign=True)
        assert m.bias.tolist() == [3.0, 3.0] and m.weight.dtype == lib.float32
