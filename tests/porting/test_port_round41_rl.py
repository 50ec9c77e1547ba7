"""Round 41, group rl: pfrl's and d3rlpy's agents on glassgrad.

Three defects, two met in pfrl and one in d3rlpy:

* ``Categorical._param`` (PyTorch's private name for the parameter as given, ``probs`` or
  ``logits``) was missing: pfrl's ACER reads it to take the KL-constraint gradient with respect to
  the policy's distribution parameters (``AttributeError: Categorical has no attribute '_param'``).
  Every family PyTorch gives it (Bernoulli, Binomial, Categorical, ContinuousBernoulli,
  NegativeBinomial, LogitRelaxedBernoulli, and OneHotCategorical through its Categorical) has it.
* ``gradcheck`` refused inputs that are not float64 (``DTypeError``) where PyTorch warns that the
  check will likely fail and checks anyway: pfrl's tests gradcheck float32 inputs with
  ``eps=1e-2, rtol=1e-2``.
* ``save`` wrote one object to different bytes from call to call (safetensors writes the header's
  ``__metadata__`` from a Rust HashMap, in an order drawn per map); PyTorch writes the same bytes,
  and d3rlpy's tests compare a reloaded model's checkpoint with the original's byte for byte.
"""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck
from glassgrad.distributions.relaxed_bernoulli import LogitRelaxedBernoulli

RS = np.random.RandomState(41)


def _families(lib, lrb):
    d = lib.distributions
    p = RS.uniform(0.05, 0.95, (2, 3))
    logits = RS.standard_normal((2, 3))
    weights = RS.uniform(0.1, 2.0, (2, 3))  # unnormalised: Categorical stores them normalised
    t = lib.tensor
    return [
        ("Categorical(probs)", lambda: d.Categorical(probs=t(weights))),
        ("Categorical(logits)", lambda: d.Categorical(logits=t(logits))),
        ("Bernoulli(probs)", lambda: d.Bernoulli(probs=t(p))),
        ("Bernoulli(logits)", lambda: d.Bernoulli(logits=t(logits))),
        ("Binomial(probs)", lambda: d.Binomial(4, probs=t(p))),
        ("Binomial(logits)", lambda: d.Binomial(4, logits=t(logits))),
        ("ContinuousBernoulli(probs)", lambda: d.ContinuousBernoulli(probs=t(p))),
        ("ContinuousBernoulli(logits)", lambda: d.ContinuousBernoulli(logits=t(logits))),
        ("NegativeBinomial(probs)", lambda: d.NegativeBinomial(3.0, probs=t(p))),
        ("NegativeBinomial(logits)", lambda: d.NegativeBinomial(3.0, logits=t(logits))),
        ("LogitRelaxedBernoulli(probs)", lambda: lrb(t(0.5), probs=t(p))),
        ("LogitRelaxedBernoulli(logits)", lambda: lrb(t(0.5), logits=t(logits))),
        ("OneHotCategorical(probs)", lambda: d.OneHotCategorical(probs=t(weights))),
        ("OneHotCategorical(logits)", lambda: d.OneHotCategorical(logits=t(logits))),
    ]


def test_distribution_param_is_pytorchs(torch):
    from torch.distributions.relaxed_bernoulli import LogitRelaxedBernoulli as TorchLRB

    state = RS.get_state()
    want = _families(torch, TorchLRB)
    RS.set_state(state)
    got = _families(gg, LogitRelaxedBernoulli)
    for (name, make_t), (_, make_g) in zip(want, got, strict=True):
        dt, dg = make_t(), make_g()
        np.testing.assert_allclose(dg._param.numpy(), dt._param.numpy(), rtol=1e-13, atol=0, err_msg=name)
        # the form given is the one stored: _param is that very tensor, as PyTorch's
        given = "probs" if "(probs)" in name else "logits"
        if not name.startswith("OneHot"):
            assert dg._param is getattr(dg, given), name
        # expand keeps it (shape of the expanded batch)
        if not name.startswith("OneHot"):
            shape = (4, *dt.batch_shape)
            et, eg = dt.expand(shape), dg.expand(shape)
            assert tuple(eg._param.shape) == tuple(et._param.shape), name
            np.testing.assert_allclose(eg._param.numpy(), et._param.numpy(), rtol=1e-13, atol=0, err_msg=name)


def test_distribution_param_is_not_made_up_for_others():
    # Normal has no _param in PyTorch: the attribute error stays
    with pytest.raises(AttributeError):
        _ = gg.distributions.Normal(gg.tensor([0.0]), gg.tensor([1.0]))._param
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = gg.distributions.Categorical(logits=gg.tensor([0.0, 1.0])).nope


def _kl_constraint_grad(lib, logits_np, action):
    """ACER's use: the gradient of a policy loss with respect to the distribution's parameter
    (``_param``), then projected against the KL's gradient; written afresh."""
    logits = lib.tensor(logits_np, requires_grad=True)
    distrib = lib.distributions.Categorical(logits=logits * 1.0)
    (param,) = (distrib._param,)
    loss = -distrib.log_prob(lib.tensor(action)).sum()
    old = lib.distributions.Categorical(logits=param.detach())
    kl = lib.distributions.kl_divergence(old, distrib).sum()
    (g,) = lib.autograd.grad(loss, [param], retain_graph=True)
    (k,) = lib.autograd.grad(kl, [param], retain_graph=True)
    return g.numpy(), k.numpy()


def test_acer_style_param_gradients_match_pytorch(torch):
    logits = RS.standard_normal((5, 4))
    action = RS.randint(0, 4, 5)
    want = _kl_constraint_grad(torch, logits, action)
    got = _kl_constraint_grad(gg, logits, action)
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def _lower_triangular(lib, dtype):
    def fn(diag, non_diag):
        b, n = diag.shape
        y = lib.zeros((b, n, n), dtype=dtype)
        rows, cols = np.tril_indices(n, -1)
        y[:, rows, cols] = non_diag
        d = np.arange(n)
        y[:, d, d] = diag
        return y * (1.0 + y.sum(-1, keepdim=True))  # something not linear

    return fn


@pytest.mark.parametrize("n", [2, 3, 5])
def test_gradcheck_float32_warns_and_checks_as_pytorch(torch, n):
    diag = RS.uniform(0.1, 1, (4, n)).astype(np.float32)
    non_diag = RS.uniform(-1, 1, (4, n * (n - 1) // 2)).astype(np.float32)
    results = []
    for lib, check in ((torch, torch.autograd.gradcheck), (gg, gradcheck)):
        inputs = (lib.tensor(diag, requires_grad=True), lib.tensor(non_diag, requires_grad=True))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ok = check(_lower_triangular(lib, lib.float32), inputs, eps=1e-2, rtol=1e-2)
        msgs = sorted({str(w.message) for w in caught if "double precision" in str(w.message)})
        results.append((ok, msgs))
    assert results[1] == results[0]
    assert results[0][0] is True and len(results[0][1]) == 2  # one warning per input, #0 and #1


@pytest.mark.parametrize("n", [1, 2, 4])
def test_lower_triangular_assembly_gradcheck_float64(n):
    b = int(RS.randint(1, 4))
    diag = gg.tensor(RS.uniform(0.1, 1, (b, n)), requires_grad=True)
    non_diag = gg.tensor(RS.uniform(-1, 1, (b, n * (n - 1) // 2)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64: no warning
        assert gradcheck(_lower_triangular(gg, gg.float64), (diag, non_diag))


def test_save_writes_the_same_bytes_each_time(torch):
    # d3rlpy's Checkpointer: {name: module or optimizer state_dict} into a BytesIO
    model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 2))
    opt = gg.optim.Adam(model.parameters(), lr=1e-3)
    model(gg.randn(5, 4)).sum().backward()
    opt.step()
    states = {"q_func": model.state_dict(), "optim": opt.state_dict(), "step": 3}
    saved = set()
    for _ in range(40):  # two orders were about equally likely before
        f = io.BytesIO()
        gg.save(states, f)
        saved.add(f.getvalue())
    assert len(saved) == 1
    # as PyTorch's own save
    tm = torch.nn.Linear(4, 3)
    assert len({_torch_bytes(torch, tm.state_dict()) for _ in range(10)}) == 1
    back = gg.load(io.BytesIO(saved.pop()))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(back["q_func"][k].numpy(), v.numpy())
    assert back["step"] == 3 and back["optim"]["param_groups"][0]["lr"] == 1e-3


def _torch_bytes(torch, obj):
    f = io.BytesIO()
    torch.save(obj, f)
    return f.getvalue()


def test_canonical_header_only_reorders_the_metadata():
    stn = pytest.importorskip("safetensors.numpy")
    from glassgrad.serialization_canonical import canonical_header

    tensors = {"b": np.arange(6, dtype=np.float32).reshape(2, 3), "a\u00e9": np.zeros(5)}
    for _ in range(20):
        data = stn.save(tensors, metadata={"z": "1", "a": 'x"y\u00e9', "m": "{}"})
        out = canonical_header(data)
        n = int.from_bytes(data[:8], "little")
        assert len(out) == len(data) and out[:8] == data[:8] and out[8 + n :] == data[8 + n :]
        header = json.loads(out[8 : 8 + n])
        assert list(header["__metadata__"]) == ["a", "m", "z"]
        assert header == json.loads(data[8 : 8 + n])
        loaded = stn.load(out)
        for k, v in tensors.items():
            np.testing.assert_array_equal(loaded[k], v)
    # a file without metadata is left as it is
    plain = stn.save(tensors)
    assert canonical_header(plain) == plain
