"""Port round 50 (PyTorch public names still missing): ``autograd.graph``'s ``GradientEdge``,
``get_gradient_edge`` (edges as inputs and outputs of ``grad``/``backward``),
``increment_version``, ``allow_mutation_on_saved_tensors``; ``utils.hooks``'
``unserializable_hook``/``warn_if_has_hooks``/``BackwardHook``; spectral norm's state-dict hooks.
Against PyTorch. (Pytree paths, ``from_file``, ``torch.cpu`` streams, ``sparse.spdiags``:
``test_port_round50_names_b.py``.)"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import glassgrad as gg


def _graph(lib, x):
    """``y = sin(x) * x[:1]`` (broadcast), ``z = (y * y).sum()``; returns y and z."""
    a = lib.tensor(x, requires_grad=True)
    y = a.sin() * a[:, :1]
    return a, y, (y * y).sum()


@pytest.mark.parametrize("shape", [(3, 4), (2, 1), (5, 2)])
def test_grad_through_gradient_edges_matches_pytorch(torch, shape):
    x = np.random.default_rng(len(shape) + shape[0]).standard_normal(shape)
    got, want = [], []
    for lib, out in ((gg, got), (torch, want)):
        G = lib.autograd.graph
        a, y, z = _graph(lib, x)
        e, ea = G.get_gradient_edge(y), G.get_gradient_edge(a)
        out.append(type(e.node).__name__)
        out.append((e.output_nr, e.ownership_token, type(ea.node).__name__))
        out += lib.autograd.grad(z, [e, ea], retain_graph=True)
        seed = lib.tensor(np.linspace(-1, 1, y.numel()).reshape(shape))
        out += lib.autograd.grad(e, a, grad_outputs=seed, retain_graph=True)  # an edge as output
        lib.autograd.backward(z, inputs=[e], retain_graph=True)  # non-leaf edge: nothing stored
        out.append(a.grad)
        lib.autograd.backward(z, inputs=ea, retain_graph=True)
        z.backward(inputs=[ea], retain_graph=True)
        lib.autograd.backward([e], [seed])
        out.append(a.grad)
    assert got[:2] == want[:2]
    for g, w in zip(got[2:], want[2:], strict=True):
        assert (g is None) == (w is None)
        if g is not None:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=0, atol=1e-12)


def test_gradient_edges_of_a_multi_output_op_match_pytorch(torch):
    """unbind's outputs share one node (output_nr 0 and 1); an edge made by hand from that node
    and output number works as the one get_gradient_edge gave."""
    x0 = np.arange(6.0).reshape(2, 3)
    got = []
    for lib in (gg, torch):
        G = lib.autograd.graph
        x = lib.tensor(x0, requires_grad=True)
        a, b = (x * 1.5).unbind(0)
        loss = (a.sin() * b.cos()).sum()
        ea, eb = G.get_gradient_edge(a), G.get_gradient_edge(b)
        meta = (type(eb.node).__name__, ea.output_nr, eb.output_nr, ea.node is eb.node)
        grads = [
            *lib.autograd.grad(loss, [eb, ea], retain_graph=True),
            *lib.autograd.grad(loss, G.GradientEdge(eb.node, eb.output_nr), retain_graph=True),
            *lib.autograd.grad(eb, x, grad_outputs=lib.ones(3, dtype=lib.float64)),
        ]
        got.append((meta, [g.numpy() for g in grads]))
    assert got[0][0] == got[1][0] == ("UnbindBackward0", 0, 1, True)
    for g, w in zip(got[0][1], got[1][1], strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


def test_gradient_edge_errors_match_pytorch(torch):
    for lib in (gg, torch):
        G = lib.autograd.graph
        with pytest.raises(RuntimeError, match="does not require gradients"):
            G.get_gradient_edge(lib.ones(2))
        a, y, z = _graph(lib, np.ones((2, 2)))
        b = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="materialize_grads cannot be used"):
            lib.autograd.grad(z, [G.get_gradient_edge(b)], materialize_grads=True, retain_graph=True)
        with pytest.raises(RuntimeError, match="implicitly created only for"):
            lib.autograd.grad(G.get_gradient_edge(y), a, retain_graph=True)
        got = lib.autograd.grad(z, [G.get_gradient_edge(y), b], allow_unused=True, retain_graph=True)
        assert got[1] is None
        assert isinstance(G.get_gradient_edge(y), tuple)
        assert G.GradientEdge._fields == ("node", "output_nr", "ownership_token")


def test_gradcheck_through_an_edge_input():
    """d sum(f(h))/dh taken at h's edge is a function of x whose gradient gradcheck verifies."""
    x = gg.tensor(np.random.default_rng(3).standard_normal((3, 1)), requires_grad=True)
    w = gg.tensor(np.random.default_rng(4).standard_normal((1, 4)), requires_grad=True)

    def fn(x):
        with gg.enable_grad():  # (gradcheck's numerical pass may run without grad)
            h = x * w  # broadcast (3, 1) * (1, 4)
            edge = gg.autograd.graph.get_gradient_edge(h)
            (g,) = gg.autograd.grad((h.tanh() ** 2).sum(), edge, create_graph=True)
        return g

    assert gg.autograd.gradcheck(fn, (x,))


def test_increment_version_makes_backward_refuse_a_saved_value(torch):
    for lib in (gg, torch):
        x = lib.ones(2, requires_grad=True).clone()
        w = x * x
        v = x._version
        lib.autograd.graph.increment_version([x])
        lib.autograd.graph.increment_version(x)
        assert x._version == v + 2
        with pytest.raises(RuntimeError, match="modified"):
            w.sum().backward()


def test_allow_mutation_on_saved_tensors_matches_pytorch(torch):
    got = []
    for lib in (gg, torch):
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            p = lib.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
            b = p.clone()
            out = (b**3 * p).sum()
            b.sin_()
            out.backward()
            got.append((p.grad.numpy().copy(), b.detach().numpy().copy()))
            with (
                pytest.raises(RuntimeError, match="cannot be nested"),
                lib.autograd.graph.allow_mutation_on_saved_tensors(),
            ):
                pass
        p = lib.ones(2, requires_grad=True)
        with lib.autograd.graph.allow_mutation_on_saved_tensors():
            out = (p.clone() ** 2).sum()
        with pytest.raises(AssertionError, match="outside of the 'allow_mutation_on_saved_tensors'"):
            out.backward()
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=0, atol=1e-7)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=0, atol=1e-7)


def test_unserializable_hook_and_warn_if_has_hooks_match_pytorch(torch):
    seen = []
    for lib in (gg, torch):
        H = lib.utils.hooks
        a = lib.ones(2, requires_grad=True)
        b = a * 2
        b.retain_grad()

        def plain(g):
            return g

        def quiet(g):
            return g

        assert H.unserializable_hook(quiet) is quiet and quiet.__torch_unserializable__
        counts = []
        for t in (lib.ones(2), a, b):
            if t.requires_grad:
                t.register_hook(plain)
                t.register_hook(quiet)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                H.warn_if_has_hooks(t)
            counts.append([(x.category, "will not be serialized" in str(x.message)) for x in w])
        seen.append(counts)
    assert seen[0] == seen[1] == [[], [(UserWarning, True)], [(UserWarning, True)]]


def test_spectral_norm_state_dict_hooks_match_pytorch(torch):
    mods = {}
    for lib in (torch, gg):
        lib.manual_seed(0)
        mods[lib] = lib.nn.utils.spectral_norm(lib.nn.Linear(4, 3).double())
    mods[gg].load_state_dict({k: gg.tensor(v.numpy()) for k, v in mods[torch].state_dict().items()})
    want = mods[torch].state_dict()._metadata
    assert mods[gg].state_dict()._metadata == want
    assert want[""]["spectral_norm"] == {"weight.version": 1}
    results = []
    for lib, m in mods.items():
        assert [type(h).__name__ for h in m._state_dict_hooks.values()] == ["SpectralNormStateDictHook"]
        m(lib.ones(2, 4, dtype=lib.float64))  # a training forward: power iteration, weight set
        old = {k: v.clone() for k, v in m.state_dict().items() if not k.endswith("_v")}
        old["weight"] = m.weight.detach().clone()  # a version-0 state dict: weight kept, no weight_v
        m2 = lib.nn.utils.spectral_norm(lib.nn.Linear(4, 3).double())
        m2.load_state_dict(old)
        m2.eval()
        results.append((m2.weight_v.numpy().copy(), m2(lib.ones(1, 4, dtype=lib.float64)).detach().numpy()))
        lib.nn.utils.remove_spectral_norm(m2)
        results.append((len(m2._state_dict_hooks), len(m2._load_state_dict_pre_hooks)))
        sn = importlib.import_module(lib.__name__ + ".nn.utils.spectral_norm")
        (fn,) = [h for h in m._forward_pre_hooks.values() if isinstance(h, sn.SpectralNorm)]
        with pytest.raises(RuntimeError, match="Unexpected key"):
            sn.SpectralNormStateDictHook(fn)(m, {}, "", {"spectral_norm": {"weight.version": 1}})
        assert sn.SpectralNormLoadStateDictPreHook(fn).fn is fn
    np.testing.assert_allclose(results[0][0], results[2][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[2][1], rtol=0, atol=1e-12)
    assert results[1] == results[3]


def test_backward_hook_helper_matches_pytorch(torch):
    """``utils.hooks.BackwardHook`` around a hand-made call: the pre-hook sees (and scales) the
    outputs' gradients, the hook the inputs' (zeros for a float input without grad, None for a
    non-tensor), and its answer is what reaches the leaf."""
    x0 = np.random.default_rng(0).standard_normal((2, 3))
    w0 = np.random.default_rng(1).standard_normal((3, 3))
    got = []
    for lib in (gg, torch):
        seen = []

        def hook(m, grad_input, grad_output, seen=seen):
            seen.append([None if g is None else g.numpy().copy() for g in (*grad_input, *grad_output)])
            return tuple(None if g is None else g * 2 for g in grad_input)

        def pre(m, grad_output, seen=seen):
            seen.append([g.numpy().copy() for g in grad_output])
            return tuple(g * 3 for g in grad_output)

        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0)
        bh = lib.utils.hooks.BackwardHook(lib.nn.Identity(), [hook], [pre])
        a, b, c = bh.setup_input_hook((x, w, 5))
        out = bh.setup_output_hook(((a @ b).tanh(), a.sum()))
        (out[0].sum() + 2 * out[1]).backward()
        meta = (bh.n_inputs, bh.n_outputs, bh.input_tensors_index, bh.output_tensors_index, c)
        got.append((seen, x.grad.numpy(), meta))
    (gs, gx, gm), (ts, tx, tm) = got
    assert gm == tm == (3, 2, [0, 1], [0, 1], 5)
    np.testing.assert_allclose(gx, tx, rtol=0, atol=1e-12)
    assert len(gs) == len(ts) == 2
    for g_call, t_call in zip(gs, ts, strict=True):
        for g, t in zip(g_call, t_call, strict=True):
            assert (g is None) == (t is None)
            if g is not None:
                np.testing.assert_allclose(g, t, rtol=0, atol=1e-12)
