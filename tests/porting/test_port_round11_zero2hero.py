"""Port round 11: Karpathy's "Neural Networks: Zero to Hero" notebooks (micrograd, makemore parts
1-5). What they needed: NumPy's keyword names on reductions (``counts.sum(1, keepdims=True)``,
PyTorch's parser takes ``axis``/``keepdims`` for ``dim``/``keepdim`` on every native function) and
``torch.histogram`` (part 3's activation histograms), with ``histc``/``bincount`` beside it. The
last tests run part 4's ("backprop ninja") manual backward against autograd, as its ``cmp`` does,
from weights both libraries share."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

# (name, positional args after the tensor) for reductions and other dim-taking ops
DIM_OPS = [
    ("sum", ()),
    ("mean", ()),
    ("prod", ()),
    ("std", ()),
    ("var", ()),
    ("amax", ()),
    ("amin", ()),
    ("logsumexp", ()),
    ("argmax", ()),
    ("argmin", ()),
    ("max", ()),
    ("min", ()),
    ("median", ()),
    ("nansum", ()),
    ("nanmean", ()),
    ("aminmax", ()),
]


def _values(result):
    """A reduction's tensor (the values of a (values, indices) pair)."""
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("name,args", DIM_OPS)
@pytest.mark.parametrize("form", ["method", "function"])
@pytest.mark.parametrize(
    "kwargs",
    [{"axis": 1}, {"dim": 1, "keepdims": True}, {"axis": 0, "keepdims": True}, {"axis": 1, "keepdim": True}],
)
def test_numpy_keyword_names_as_torch(torch, name, args, form, kwargs):
    data = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib in (glassgrad, torch):
        x = lib.tensor(data)
        fn = getattr(x, name) if form == "method" else (lambda *a, **k: getattr(lib, name)(x, *a, **k))
        results.append(_values(fn(*args, **kwargs)))
    assert_same(results[0], results[1])


def test_numpy_keyword_names_on_other_dim_ops(torch):
    data = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for lib_call in (
        lambda lib, x: lib.softmax(x, axis=1),
        lambda lib, x: x.log_softmax(axis=0),
        lambda lib, x: lib.cumsum(x, axis=1),
        lambda lib, x: x.unsqueeze(axis=0),
        lambda lib, x: x.any(axis=1, keepdims=True),
        lambda lib, x: x.sort(axis=0)[0],
    ):
        ours, theirs = (lib_call(lib, lib.tensor(data)) for lib in (glassgrad, torch))
        assert_same(ours, theirs)


def test_numpy_keyword_names_keep_gradient_and_signature(torch):
    data = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    grads = []
    for lib in (glassgrad, torch):
        x = lib.tensor(data, requires_grad=True)
        (x.exp() / x.exp().sum(1, keepdims=True)).max(axis=1).values.sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1])
    params = inspect.signature(glassgrad.Tensor.sum).parameters
    assert list(params)[:3] == ["self", "dim", "keepdim"]


def test_both_spellings_of_one_argument_refused():
    x = glassgrad.ones(2, 3)
    with pytest.raises(TypeError, match="sum.*multiple values for argument 'dim'"):
        x.sum(dim=1, axis=1)
    with pytest.raises(TypeError, match="keepdim"):
        glassgrad.mean(x, 1, keepdim=True, keepdims=True)


HIST_INPUTS = [
    np.random.default_rng(0).standard_normal(1000).astype(np.float32),
    np.array([1.0, 1.0], np.float32),
    np.array([0.0, 1.0, 2.0, 3.0], np.float32),
    (np.random.default_rng(1).integers(0, 7, 500) / 7).astype(np.float32),  # values on the edges
    np.linspace(-1, 1, 101),  # float64, values on the edges
    np.tanh(np.random.default_rng(2).standard_normal((32, 100)) * 3).astype(np.float32),  # part 3's input
]


@pytest.mark.parametrize("data", HIST_INPUTS, ids=range(len(HIST_INPUTS)))
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"bins": 7},
        {"bins": 4, "density": True},
        {"bins": 3, "range": (1, 2)},
        {"bins": 5, "range": (1.0, 1.0)},
    ],
)
def test_histogram_as_torch(torch, data, kwargs):
    ours, theirs = (lib.histogram(lib.tensor(data), **kwargs) for lib in (glassgrad, torch))
    hist, edges = ours  # a named pair, as torch.return_types.histogram
    assert_same((hist, edges), (theirs.hist, theirs.bin_edges), rtol=0, atol=0)  # edges bit for bit
    assert_same(
        (ours.hist, ours.bin_edges), tuple(theirs), rtol=0, atol=0
    )  # the same edges, bit for bit, and counts


@pytest.mark.parametrize("data", HIST_INPUTS, ids=range(len(HIST_INPUTS)))
def test_histogram_weights_edges_and_histc_as_torch(torch, data):
    got = []
    for lib in (glassgrad, torch):
        x = lib.tensor(data)
        edges = lib.tensor(np.array([-1, 0, 0.5, 3], data.dtype))
        got.append(
            [
                x.histogram(6, weight=x * 0 + 2).hist,
                lib.histogram(x, bins=edges).hist,
                lib.histc(x),
                x.histc(bins=9),
                lib.histc(x, bins=3, min=1, max=2),
                lib.histc(x, bins=4, min=1, max=1),  # equal bounds: the data's min and max
            ]
        )
    assert_same(got[0], got[1], rtol=0, atol=0)


def test_bincount_as_torch(torch):
    for lib_call in (
        lambda lib: lib.bincount(lib.tensor([0, 3, 3])),
        lambda lib: lib.bincount(lib.tensor([0, 3, 3]), minlength=6),
        lambda lib: lib.bincount(lib.tensor([1, 1, 4]), weights=lib.tensor([0.5, 0.25, 2.0])),
        lambda lib: lib.tensor([2, 2]).bincount(),
        lambda lib: lib.bincount(lib.tensor([], dtype=lib.int64)),
    ):
        assert_same(lib_call(glassgrad), lib_call(torch), rtol=0, atol=0)


def test_histograms_refuse_what_torch_refuses():
    with pytest.raises(NotImplementedError, match="histogram: \"histogramdd\" not implemented for 'Long'"):
        glassgrad.histogram(glassgrad.tensor([1, 2]))
    # PyTorch's kernel refuses the dtype first: NotImplementedError (round 62; was a ValueError)
    with pytest.raises(NotImplementedError, match="bincount: \"bincount_cpu\" not implemented for 'Float'"):
        glassgrad.bincount(glassgrad.tensor([0.5]))
    with pytest.raises(ValueError, match="bincount: expected non-negative"):
        glassgrad.bincount(glassgrad.tensor([-1, 2]))
    x = glassgrad.randn(10, requires_grad=True)
    hist = glassgrad.histogram(x, 3).hist  # PyTorch records it with a derivative that raises (round 62)
    assert hist.requires_grad
    with pytest.raises(RuntimeError, match="not implemented"):
        hist.sum().backward()


def _ninja_forward(lib, w, Xb, Yb):
    """makemore part 4's forward pass, broken into its small steps (the lecture's code)."""
    C, W1, b1, W2, b2, bngain, bnbias = w
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = lib.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    keep = [logprobs, probs, counts_sum_inv, counts, norm_logits, logits, h, hpreact, bnraw, hprebn, emb]
    for t in keep:
        t.retain_grad()
    return loss, keep


def test_backprop_ninja_from_the_same_weights(torch):
    rng = np.random.default_rng(2147483647)
    n_embd, n_hidden, vocab, block, n = 10, 64, 27, 3, 32
    shapes = [(vocab, n_embd), (n_embd * block, n_hidden), (n_hidden,), (n_hidden, vocab), (vocab,)]
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]
    arrays += [(1 + 0.1 * rng.standard_normal((1, n_hidden))).astype(np.float32)]
    arrays += [(0.1 * rng.standard_normal((1, n_hidden))).astype(np.float32)]
    Xb, Yb = rng.integers(0, vocab, (n, block)), rng.integers(0, vocab, n)
    runs = []
    for lib in (glassgrad, torch):
        w = [lib.tensor(a, requires_grad=True) for a in arrays]
        loss, keep = _ninja_forward(lib, w, lib.tensor(Xb), lib.tensor(Yb))
        loss.backward()
        logprobs, probs, logits, bnraw, hprebn = keep[0], keep[1], keep[5], keep[8], keep[9]
        bngain = w[5]
        # the lecture's manual gradients, each checked against autograd as cmp() does
        dlogprobs = lib.zeros_like(logprobs)
        dlogprobs[range(n), Yb] = -1.0 / n
        dlogits = lib.nn.functional.softmax(logits, 1)
        dlogits[range(n), Yb] -= 1
        dlogits /= n
        dhpreact = keep[7].grad
        dhprebn = (
            bngain
            * ((hprebn.var(0, keepdims=True, unbiased=True) + 1e-5) ** -0.5)
            / n
            * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
        )
        cmp = [
            (dlogprobs.numpy() == logprobs.grad.numpy()).all(),
            lib.allclose(dlogits, logits.grad),
            lib.allclose(dhprebn, hprebn.grad),
            lib.all(probs.grad == probs.grad).item(),
        ]
        runs.append((loss, [p.grad for p in w], cmp))
    (loss_ours, grads_ours, cmp_ours), (loss_theirs, grads_theirs, cmp_theirs) = runs
    assert_same(loss_ours, loss_theirs, rtol=1e-6)
    assert_same(grads_ours, grads_theirs, rtol=1e-5, atol=1e-6)  # b1's is ~1e-8 noise (before BN)
    assert [bool(c) for c in cmp_ours] == [bool(c) for c in cmp_theirs] == [True] * 4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pow_special_exponents_bit_for_bit_as_torch(torch, dtype):
    """PyTorch computes x ** 2, 3, -1, -2, -0.5 with x * x, x * x * x, 1 / x, 1 / (x * x),
    1 / sqrt(x), and the VJP as g * (b * x ** (b - 1)) through the same kernel; so do we, so that
    part 4's hand-written derivatives (``-counts_sum**-2 * d``) equal autograd's exactly.
    (Other exponents go through each library's own pow and may differ in the last bit.)"""
    rng = np.random.default_rng(0)
    x = (rng.random(20000) * 10 + 1e-3).astype(dtype)
    g = rng.standard_normal(20000).astype(dtype)
    forward = {-1, 3, -0.5, 2, -2, 1}  # x ** b itself special (or NumPy's exact fast path)
    backward = {-1, 0.5, 3, 2, 1, 4}  # x ** (b - 1) special
    for b in sorted(forward | backward):
        results = []
        for lib in (glassgrad, torch):
            t = lib.tensor(x, requires_grad=True)
            y = t**b
            y.backward(lib.tensor(g))
            results.append(([y] if b in forward else []) + ([t.grad] if b in backward else []))
        assert_same(results[0], results[1], rtol=0, atol=0, path=f"b={b}")


def test_hand_written_derivative_of_a_power_is_exact(torch):
    """makemore part 4's cmp('counts_sum', ...): exact in both libraries."""
    x = np.random.default_rng(3).random((32, 1)).astype(np.float32) * 20 + 1
    d = np.random.default_rng(4).standard_normal((32, 1)).astype(np.float32)
    for lib in (glassgrad, torch):
        counts_sum = lib.tensor(x, requires_grad=True)
        counts_sum_inv = counts_sum**-1
        counts_sum_inv.backward(lib.tensor(d))
        manual = (-(counts_sum**-2)) * lib.tensor(d)
        assert lib.all(manual == counts_sum.grad).item()


def test_float_of_a_tensor_in_the_graph_warns_once_as_torch(monkeypatch):
    """Part 3 formats ``t.mean()`` of a graph tensor with ``%.2f``: PyTorch 2.13 warns (once per
    process: TORCH_WARN_ONCE) from ``float()``/``complex()``, not from ``item``/``int``/``format``."""
    import warnings

    from glassgrad.ops import conversion

    monkeypatch.setattr(conversion, "_SCALAR_WARNED", [False])
    m = glassgrad.ones(3, requires_grad=True).mean()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.item(), int(m), format(m, ".2f"), float(m.detach())
        assert caught == []
        text = "layer %d: mean %+.2f" % (2, m)  # noqa: UP031 - the notebook's own formatting
        float(m), complex(m)
    assert text == "layer 2: mean +1.00"
    assert [w.category for w in caught] == [UserWarning]
    assert str(caught[0].message).startswith(
        "Converting a tensor with requires_grad=True to a scalar may lead"
    )
    assert caught[0].filename == __file__  # points at the caller's line
