"""``state["step"]`` is a 0-d tensor of the default dtype in every optimizer that counts steps, as
in PyTorch, so programs that call ``.item()`` on it or save the state tensor by tensor port."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import optim

COUNTING = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad", "Adadelta", "ASGD", "RMSprop", "Rprop"]


def _stepped(lib, name, steps, dtype=None):
    p = lib.nn.Parameter(lib.ones(3, dtype=dtype))
    opt = getattr(lib.optim, name)([p], lr=0.01)
    for _ in range(steps):
        p.grad = lib.full((3,), 0.5, dtype=dtype)
        opt.step()
    return p, opt


@pytest.mark.parametrize("name", COUNTING)
def test_step_is_a_0d_tensor_like_pytorchs(torch, name):
    p, opt = _stepped(gg, name, 3)
    tp, topt = _stepped(torch, name, 3)
    ours, theirs = opt.state[p]["step"], topt.state[tp]["step"]
    assert isinstance(ours, gg.Tensor) and isinstance(theirs, torch.Tensor)
    assert ours.shape == tuple(theirs.shape) == ()
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.item() == theirs.item() == 3.0
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["Adam", "RMSprop"])
def test_step_follows_the_default_dtype(torch, name):
    old = gg.get_default_dtype()
    gg.set_default_dtype(gg.float64)
    try:
        _, opt = _stepped(gg, name, 1, dtype=gg.float64)
    finally:
        gg.set_default_dtype(old)
    assert next(iter(opt.state.values()))["step"].dtype == gg.float64


def test_a_float_step_saved_by_an_older_version_loads_as_a_tensor():
    p, opt = _stepped(gg, "Adam", 2)
    sd = copy.deepcopy(opt.state_dict())  # the inner dicts are the live state, as in PyTorch
    sd["state"][0]["step"] = 2.0  # what glassgrad wrote before steps became tensors
    q, fresh = _stepped(gg, "Adam", 0)
    q.data.copy_(p.data)
    fresh.load_state_dict(sd)
    step = fresh.state[q]["step"]
    assert isinstance(step, gg.Tensor) and step.shape == () and step.item() == 2.0
    for o, w in ((opt, p), (fresh, q)):
        w.grad = gg.full((3,), 0.5)
        o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert fresh.state[q]["step"].item() == 3.0


def test_a_loaded_step_is_the_saved_tensor_as_in_pytorch(torch):
    # PyTorch 2's load_state_dict keeps a tensor step (and state of the param's dtype) as given, so
    # the loaded optimizer counts in the saved tensor: a live state_dict's source counts along (the
    # round-45 fix; glassgrad copied); a deepcopy of the state_dict keeps them apart
    for deep in (False, True):
        counts = []
        for lib in (gg, torch):
            p, opt = _stepped(lib, "Adam", 2)
            sd = opt.state_dict()
            q, fresh = _stepped(lib, "Adam", 0)
            fresh.load_state_dict(copy.deepcopy(sd) if deep else sd)
            assert (fresh.state[q]["exp_avg"] is opt.state[p]["exp_avg"]) is not deep
            q.grad = lib.full((3,), 0.5)
            fresh.step()
            counts.append((fresh.state[q]["step"].item(), opt.state[p]["step"].item()))
        assert counts[0] == counts[1] == ((3.0, 2.0) if deep else (3.0, 3.0))


def test_a_step_that_is_not_a_number_is_refused():
    _, opt = _stepped(gg, "Adam", 1)
    sd = opt.state_dict()
    sd["state"][0]["step"] = "three"
    _, fresh = _stepped(gg, "Adam", 0)
    with pytest.raises(
        ValueError, match=r"Adam.load_state_dict: expected 'step' as a number or a 0-d tensor"
    ):
        fresh.load_state_dict(sd)


def test_checkpoint_round_trip_keeps_the_step_tensor(tmp_path):
    _, opt = _stepped(gg, "AdamW", 4)
    gg.save(opt.state_dict(), tmp_path / "opt.pt")
    back = gg.load(tmp_path / "opt.pt")
    step = back["state"][0]["step"]
    assert isinstance(step, gg.Tensor) and step.shape == () and step.item() == 4.0


def test_the_fsdp2_example_save_path_works():
    """The FSDP2 example saves each optimizer state value through ``full_tensor().cpu()``-style
    tensor calls; with a float step that failed (porting round 10)."""
    _, opt = _stepped(gg, "Adam", 1)
    for value in next(iter(opt.state_dict()["state"].values())).values():
        assert value.detach().cpu().clone().numpy().dtype == np.float32
    assert optim.Adam  # the public name the example uses
