"""F.linear_cross_entropy, nn.LinearCrossEntropyLoss and nn.LinearCrossEntropyOptions.

PyTorch parity for the reference and the chunked paths (losses and every gradient) on random
configurations, a hand example, the chunked path's memory (no (N, C) logits kept after forward),
the options' validation and resolution, and the module's state_dict and repr.
"""

from __future__ import annotations

import dataclasses
import math
import tracemalloc
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.errors import ShapeError


def test_hand_example_two_classes():
    # logits = x W^T = [[1, 0]], target 0: loss = log(1 + e^-1); d loss / d logits = softmax - onehot
    x = gg.tensor([[1.0, 0.0]], dtype=gg.float64, requires_grad=True)
    w = gg.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=gg.float64, requires_grad=True)
    loss = F.linear_cross_entropy(
        x, w, gg.tensor([0]), options=nn.LinearCrossEntropyOptions(batch_chunk_size=1)
    )
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1)))
    loss.backward()
    p = 1 / (1 + math.e)  # softmax of the other class
    np.testing.assert_allclose(w.grad.numpy(), [[-p, 0.0], [p, 0.0]])
    np.testing.assert_allclose(x.grad.numpy(), [[-p, p]])


def _case(rng, trial):
    n, i, c = int(rng.integers(0, 9)), int(rng.integers(1, 6)), int(rng.integers(1, 7))
    k = () if trial % 3 else tuple(int(v) for v in rng.integers(1, 3, size=int(rng.integers(1, 3))))
    unbatched = trial % 7 == 0 and not k
    x = rng.standard_normal((i,) if unbatched else (n, i))
    w = rng.standard_normal((c, *k, i))
    b = rng.standard_normal((c, *k)) if trial % 2 else None
    batch = () if unbatched else (n, *k)
    if trial % 5 == 0:  # probabilities
        t = rng.random((*batch[:1], c, *batch[1:]))
        t /= t.sum(axis=len(batch[:1]), keepdims=True)
    else:
        t = rng.integers(0, c, size=batch)
        if trial % 4 == 0 and t.size:
            t.flat[0] = -100
    reduction = ("mean", "sum", "none")[trial % 3]
    return dict(
        x=x,
        w=w,
        b=b,
        t=t,
        cw=rng.random(c) if trial % 3 == 1 else None,
        reduction=reduction,
        smoothing=0.1 if trial % 8 == 0 else 0.0,
        chunk=int(rng.integers(1, 4)) if trial % 2 == 0 else (0 if trial % 5 == 1 else None),
        seed=rng.standard_normal(batch if reduction == "none" else ()),
    )


def _run(lib, fn, options_cls, case):
    x = lib.tensor(case["x"], requires_grad=True)
    w = lib.tensor(case["w"], requires_grad=True)
    b = lib.tensor(case["b"], requires_grad=True) if case["b"] is not None else None
    chunk = case["chunk"]
    options = (
        None if chunk is None else (options_cls() if chunk == 0 else options_cls(batch_chunk_size=chunk))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # options ignored for probabilities, smoothing or K dims
        out = fn(
            x,
            w,
            lib.tensor(case["t"]),
            linear_bias=b,
            weight=lib.tensor(case["cw"]) if case["cw"] is not None else None,
            reduction=case["reduction"],
            label_smoothing=case["smoothing"],
            options=options,
        )
    (out * lib.tensor(case["seed"])).sum().backward()
    grads = [t.grad.numpy() if t is not None and t.grad is not None else None for t in (x, w, b)]
    return [out.detach().numpy(), *grads]


def test_random_configurations_match_pytorch(torch):
    rng = np.random.default_rng(0)
    for trial in range(240):
        case = _case(rng, trial)
        theirs = _run(
            torch, torch.nn.functional.linear_cross_entropy, torch.nn.LinearCrossEntropyOptions, case
        )
        ours = _run(gg, F.linear_cross_entropy, nn.LinearCrossEntropyOptions, case)
        for a, b in zip(theirs, ours):
            assert (a is None) == (b is None), trial
            if a is not None:
                np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=str(trial))


def test_chunked_path_keeps_no_full_logits():
    rng = np.random.default_rng(1)
    n, i, c = 512, 8, 2000  # float64 logits: 8 MB
    x = gg.tensor(rng.standard_normal((n, i)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((c, i)) * 0.1, requires_grad=True)
    t = gg.tensor(rng.integers(0, c, size=n))
    kept = {}
    for name, options in (
        ("reference", None),
        ("chunked", nn.LinearCrossEntropyOptions(batch_chunk_size=32)),
    ):
        tracemalloc.start()
        loss = F.linear_cross_entropy(x, w, t, options=options)
        kept[name] = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        loss.backward()
        kept[name + " grad"] = w.grad.numpy().copy()
        x.grad = w.grad = None
    assert kept["reference"] > n * c * 8  # the logits (and their softmax) live until backward
    assert kept["chunked"] < n * c * 8 / 4  # one chunk's at most
    np.testing.assert_allclose(kept["chunked grad"], kept["reference grad"], rtol=1e-10, atol=1e-13)


def test_options_validation_and_resolution_match_pytorch(torch):
    for kwargs in (
        dict(acc_policy="fast"),
        dict(chunking_method="aspect"),
        dict(chunking_method="aspect_ratio:0"),
        dict(batch_chunk_size=0),
        dict(batch_chunk_size=2.5),
    ):
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**kwargs)
        with pytest.raises(ValueError):
            nn.LinearCrossEntropyOptions(**kwargs)
    for kwargs in (
        {},
        dict(batch_chunk_size=7),
        dict(chunking_method="aspect_ratio:4"),
        dict(chunking_method=None),
    ):
        for n, i, c in ((100, 16, 1000), (37, 5, 3), (4096, 64, 50000)):
            ours = nn.LinearCrossEntropyOptions(**kwargs)._adjust(n, i, c, gg.float32)
            theirs = torch.nn.LinearCrossEntropyOptions(**kwargs)._adjust(
                n, i, c, torch.float32, torch.device("cpu")
            )
            assert ours.batch_chunk_size == theirs.batch_chunk_size
            assert (ours.chunking_method, ours.acc_policy) == (theirs.chunking_method, theirs.acc_policy)
    with pytest.raises(ValueError, match="pass only one"):
        nn.LinearCrossEntropyOptions(batch_chunk_size=3, chunking_method="aspect_ratio")._adjust(
            100, 16, 1000, gg.float32
        )
    with pytest.raises(dataclasses.FrozenInstanceError):
        nn.LinearCrossEntropyOptions().batch_chunk_size = 3


def test_bad_input_is_refused_clearly():
    x, w = gg.zeros(3, 4), gg.zeros(5, 4)
    with pytest.raises(ShapeError, match="dimensionality 1 or 2"):
        F.linear_cross_entropy(gg.zeros(2, 3, 4), w, gg.zeros(2, 3, dtype=gg.int64))
    with pytest.raises(ShapeError, match="last dimensions"):
        F.linear_cross_entropy(x, gg.zeros(5, 3), gg.zeros(3, dtype=gg.int64))
    with pytest.raises(ShapeError, match="linear_bias shape"):
        F.linear_cross_entropy(x, w, gg.zeros(3, dtype=gg.int64), linear_bias=gg.zeros(4))
    with pytest.raises(ShapeError, match="requires batched input"):
        F.linear_cross_entropy(gg.zeros(4), gg.zeros(5, 2, 4), gg.zeros(2, dtype=gg.int64))
    with pytest.raises(ValueError, match="ignore_index cannot be specified"):
        F.linear_cross_entropy(x, w, gg.zeros(3, 5), ignore_index=0)
    with pytest.warns(UserWarning, match="options.. ignored"):
        F.linear_cross_entropy(
            x, w, gg.zeros(3, dtype=gg.int64), label_smoothing=0.1, options=nn.LinearCrossEntropyOptions()
        )


def test_module_state_dict_repr_and_forward_match_pytorch(torch):
    for kwargs in (dict(bias=True, weight=[0.5, 1.0, 2.0]), dict(out_features=(2,), ignore_index=1)):
        ours_kwargs = {k: gg.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
        theirs_kwargs = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
        theirs = torch.nn.LinearCrossEntropyLoss(4, 3, **theirs_kwargs).double()
        ours = nn.LinearCrossEntropyLoss(4, 3, **ours_kwargs).double()
        assert repr(ours) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in theirs.state_dict().items()
        }
        ours.load_state_dict({k: gg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
        rng = np.random.default_rng(2)
        x = rng.standard_normal((6, 4))
        t = rng.integers(0, 3, size=(6, *kwargs.get("out_features", ())))
        a, b = theirs(torch.tensor(x), torch.tensor(t)), ours(gg.tensor(x), gg.tensor(t))
        assert b.item() == pytest.approx(a.item(), rel=1e-12)
    with pytest.raises(ShapeError, match="weight shape"):
        nn.LinearCrossEntropyLoss(4, 3, weight=gg.ones(2))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.LinearCrossEntropyLoss(4, 3, label_smoothing=1.5)


def test_chunked_backward_twice_and_of_second_order():
    """The chunks' logits are made again in backward, so a retained graph runs twice and a recorded
    first derivative can be differentiated (PyTorch's chunked op refuses both without
    ``allow_retain_graph``: a listed difference)."""
    rng = np.random.default_rng(3)
    x = gg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = gg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    t = gg.tensor(rng.integers(0, 4, size=5))
    options = nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    loss = F.linear_cross_entropy(x, w, t, options=options)
    loss.backward(retain_graph=True)
    first = w.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first, rtol=1e-14)
    (gx,) = gg.autograd.grad(F.linear_cross_entropy(x, w, t, options=options), x, create_graph=True)
    (hx,) = gg.autograd.grad((gx * gx).sum(), x)
    (rx,) = gg.autograd.grad(F.linear_cross_entropy(x, w, t), x, create_graph=True)
    (href,) = gg.autograd.grad((rx * rx).sum(), x)
    np.testing.assert_allclose(hx.numpy(), href.numpy(), rtol=1e-12, atol=1e-14)
