"""Round 37, meta-learning libraries (``higher``, ``learn2learn``) run on glassgrad.

``higher``'s monkey-patched modules swap a layer's ``_parameters`` for fast weights and, for the
recurrent layers, assign ``module._flat_weights = [...]`` before calling ``forward``; glassgrad's
``RNNBase._flat_weights`` was a read-only property, so every patched RNN/LSTM/GRU stopped with
``AttributeError: property '_flat_weights' ... has no setter``. It is now PyTorch's plain list:
built at construction, kept in step by ``self.weight_ih_l0 = ...``, rebuilt by ``_apply`` and by a
forward that finds a weight swapped through ``_parameters``; forward runs with it.

Each script runs once on glassgrad and once on PyTorch (CPU), float64, with the same weights.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _build(torch, kind, seed, **kw):
    rng = np.random.default_rng(seed)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    m = cls(3, 4, dtype=torch.float64, **kw)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.4))
    x = torch.tensor(rng.standard_normal((5, 2, 3)))
    return m, x


def script_patched_fast_weights(torch, kind):
    """higher's patched forward, written out: fast weights (an SGD step with create_graph) go into
    ``_parameters`` and ``_flat_weights``; the meta-gradient reaches the original weights."""
    m, x = _build(torch, kind, 1, num_layers=2, bidirectional=True)
    names = list(m._flat_weights_names)
    originals = [m._parameters[n] for n in names]
    first = m(x)[0].pow(2).mean()
    grads = torch.autograd.grad(first, originals, create_graph=True)
    fast = [p - 0.3 * g for p, g in zip(originals, grads)]
    for n, w in zip(names, fast):
        m._parameters[n] = w
    m._flat_weights = [m._parameters[n] for n in names]  # what higher assigns before forward
    out = m(x)[0]
    meta = torch.autograd.grad(out.sum(), originals)
    return [out, *meta, isinstance(m._flat_weights, list)]


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_flat_weights_take_fast_weights_as_higher_assigns_them(torch, kind):
    assert_same(script_patched_fast_weights(glassgrad, kind), script_patched_fast_weights(torch, kind), **TOL)


def script_flat_weights_list(torch):
    """The list follows attribute assignment; an assigned list is what forward runs with."""
    m, x = _build(torch, "gru", 2)
    same_after_init = [a is getattr(m, n) for a, n in zip(m._flat_weights, m._flat_weights_names)]
    new = torch.nn.Parameter(m.weight_hh_l0.detach() * 0.5)
    m.weight_hh_l0 = new
    follows = m._flat_weights[1] is new
    with torch.no_grad():
        m._flat_weights = [w * 2 for w in m._flat_weights]  # the attributes keep their tensors
        doubled = m(x)[0]
    m._apply(lambda t: t)  # rebuilt from the attributes, as PyTorch
    rebuilt = [a is getattr(m, n) for a, n in zip(m._flat_weights, m._flat_weights_names)]
    sd = {k: torch.nn.Parameter(v * 3) for k, v in m.state_dict().items()}
    m.load_state_dict(sd, assign=True)
    assigned = [a is sd[n] for a, n in zip(m._flat_weights, m._flat_weights_names)]
    return [same_after_init, follows, doubled, rebuilt, assigned, m(x)[0]]


def test_flat_weights_are_a_list_kept_in_step(torch):
    assert_same(script_flat_weights_list(glassgrad), script_flat_weights_list(torch), **TOL)


def script_cloned_module(torch):
    """learn2learn's clone_module, written out: a shallow copy of the module whose ``_parameters``
    hold clones (graph kept), then ``_apply(lambda x: x)``; gradients reach the original."""
    m, x = _build(torch, "lstm", 3)
    clone = m.__new__(type(m))
    clone.__dict__ = m.__dict__.copy()
    clone._parameters = {k: p.clone() for k, p in m._parameters.items()}
    clone._apply(lambda t: t)
    stays = [a is b for a, b in zip(m._flat_weights, m.parameters())]  # the original is untouched
    update = [-0.2 * p.detach() for p in clone._parameters.values()]
    for k, u in zip(list(clone._parameters), update):
        clone._parameters[k] = clone._parameters[k] + u  # update_module: no setattr
    out = clone(x)[0]
    out.pow(2).sum().backward()
    return [out, stays, *[p.grad for p in m.parameters()]]


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")  # _apply reads it
def test_cloned_module_runs_with_its_own_weights(torch):
    assert_same(script_cloned_module(glassgrad), script_cloned_module(torch), **TOL)


def test_copies_keep_their_own_flat_weights():
    m, x = _build(glassgrad, "lstm", 4, num_layers=2)
    want = m(x)[0].detach().numpy()
    dup = copy.deepcopy(m)
    assert all(a is b for a, b in zip(dup._flat_weights, (getattr(dup, n) for n in dup._flat_weights_names)))
    loaded = pickle.loads(pickle.dumps(m))
    assert all(a is getattr(loaded, n) for a, n in zip(loaded._flat_weights, loaded._flat_weights_names))
    for other in (dup, loaded):
        np.testing.assert_array_equal(other(x)[0].detach().numpy(), want)
