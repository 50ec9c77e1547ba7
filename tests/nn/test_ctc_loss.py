"""CTC loss (ops/ctc.py, nn/functional/ctc.py, nn.CTCLoss): a brute-force reference over every
path, float64 gradchecks through log_softmax, PyTorch parity of losses and gradients (reductions,
target layouts, unbatched input, infeasible targets, unnormalised inputs, float32 and float64),
errors, and a tiny model that learns to emit label sequences."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.errors import DTypeError, IndexOutOfRangeError, ShapeError


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _collapse(path, blank: int) -> list:
    """Merge repeats, then drop blanks: the labelling an alignment stands for."""
    return [c for c, _ in itertools.groupby(path) if c != blank]


def _brute_nll(lp: np.ndarray, target: list, blank: int) -> float:
    """-log of the summed probability of every length-T path that collapses to ``target``."""
    t, c = lp.shape
    total = sum(
        np.exp(lp[np.arange(t), list(p)].sum())
        for p in itertools.product(range(c), repeat=t)
        if _collapse(p, blank) == target
    )
    return -np.log(total) if total > 0 else np.inf


def _min_steps(target: list) -> int:
    """The shortest input that can emit ``target``: one step per label, one per repeat's blank."""
    return len(target) + sum(a == b for a, b in itertools.pairwise(target))


def _batch(rng, n: int, c: int, blank: int = 0, max_len: int = 3, extra: int = 3, repeat: bool = True):
    """Random targets (labels != blank), lengths, and T; the first target repeats a label."""
    labels = [k for k in range(c) if k != blank]
    targets = [list(rng.choice(labels, rng.integers(0, max_len + 1))) for _ in range(n)]
    if repeat and max_len >= 2:
        targets[0] = [labels[0], labels[0]] + targets[0][: max_len - 2]
    need = [_min_steps(tg) for tg in targets]
    steps = max(max(need), 1) + extra
    il = [int(rng.integers(max(k, 1), steps + 1)) for k in need]
    return targets, il, steps


def _pad(targets: list, width: int | None = None, fill: int = -1) -> np.ndarray:
    width = max(max(map(len, targets)), 1) if width is None else width
    out = np.full((len(targets), width), fill, dtype=np.int64)
    for i, tg in enumerate(targets):
        out[i, : len(tg)] = tg
    return out


def _parity(torch, x, targets, il, tl, dtype=np.float64, layout="padded", lengths="list", **kw):
    """Loss and gradient (under a random upstream gradient) from both libraries, compared."""
    x = x.astype(dtype)
    if layout == "padded":
        tg = _pad(targets)
    else:
        tg = np.array([v for t in targets for v in t], dtype=np.int64)
    if lengths == "tensor":
        gl = (gg.tensor(np.array(il, np.int32)), gg.tensor(np.array(tl)))
        tl_ = (torch.tensor(np.array(il, np.int32)), torch.tensor(np.array(tl)))
    else:
        gl, tl_ = (il, tl), (il, tl)
    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ga, tb = (
        F.ctc_loss(a, gg.tensor(tg), *gl, **kw),
        torch.nn.functional.ctc_loss(b, torch.tensor(tg), *tl_, **kw),
    )
    tol = 1e-5 if dtype == np.float32 else 1e-10
    assert ga.shape == tuple(tb.shape) and ga.dtype == dtype
    np.testing.assert_allclose(ga.detach().numpy(), tb.detach().numpy(), rtol=tol, atol=tol)
    up = np.random.default_rng(1).standard_normal(tb.shape).astype(dtype)
    ga.backward(gg.tensor(up))
    tb.backward(torch.tensor(up))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=tol, atol=tol)  # nan where torch's is
    return ga, a.grad


# ------------------------------------------------------------------ values
@pytest.mark.parametrize("seed", range(4))
def test_matches_brute_force_over_every_path(seed):
    rng = np.random.default_rng(seed)
    blank = int(rng.integers(0, 3))
    targets = [[], [1 + blank % 2], [(blank + 1) % 3, (blank + 1) % 3], [(blank + 1) % 3, (blank + 2) % 3]]
    steps = 4
    lp = _log_softmax(rng.standard_normal((steps, len(targets), 3)))
    got = F.ctc_loss(gg.tensor(lp), gg.tensor(_pad(targets)), [steps] * 4, [len(t) for t in targets],
                     blank=blank, reduction="none")  # fmt: skip
    want = [_brute_nll(lp[:, i], tg, blank) for i, tg in enumerate(targets)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_infeasible_targets_are_inf_not_errors():
    lp = gg.tensor(_log_softmax(np.random.default_rng(0).standard_normal((3, 2, 4))))
    # [1, 1] needs 3 steps but gets 2; [1, 2, 3] needs 3 steps but gets 2 (target longer than input)
    loss = F.ctc_loss(lp, gg.tensor([[1, 1, 0], [1, 2, 3]]), [2, 2], [2, 3], reduction="none")
    assert np.isinf(loss.numpy()).all()
    zeroed = F.ctc_loss(
        lp, gg.tensor([[1, 1, 0], [1, 2, 3]]), [2, 2], [2, 3], reduction="none", zero_infinity=True
    )
    assert zeroed.tolist() == [0.0, 0.0]


def test_empty_input_and_empty_target():
    lp = gg.tensor(_log_softmax(np.random.default_rng(0).standard_normal((3, 3, 4))))
    loss = F.ctc_loss(lp, gg.tensor([1]), [0, 0, 3], [0, 1, 0], reduction="none")
    assert loss[0].item() == 0.0 and loss[1].item() == np.inf
    np.testing.assert_allclose(loss[2].item(), -lp.numpy()[:, 2, 0].sum())  # all blanks


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("seed", range(6))
def test_gradcheck_through_log_softmax(seed):
    """Through log_softmax PyTorch's gradient is the exact one: random sizes, N = 1, empty and
    repeated targets, inputs of exactly the minimum feasible length, every reduction."""
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 4)), int(rng.integers(3, 6))
    blank = int(rng.integers(0, c))
    targets, il, steps = _batch(rng, n, c, blank, extra=int(rng.integers(0, 3)))
    il[-1] = steps
    if seed % 2:
        il[0] = _min_steps(targets[0])  # the tightest input: one alignment family only
    if seed == 0:
        targets[-1] = []
    tl = [len(t) for t in targets]
    tg = gg.tensor(_pad(targets, fill=0))
    x = gg.tensor(rng.standard_normal((steps, n, c)), requires_grad=True)
    for reduction in ("none", "sum", "mean"):
        fn = lambda v, r=reduction: F.ctc_loss(F.log_softmax(v, 2), tg, il, tl, blank=blank, reduction=r)  # noqa: E731
        assert gradcheck(fn, (x,))


def test_gradcheck_unbatched_and_concatenated():
    rng = np.random.default_rng(11)
    x = gg.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    assert gradcheck(lambda v: F.ctc_loss(F.log_softmax(v, 1), gg.tensor([2, 2]), [5], [2]), (x,))
    xb = gg.tensor(rng.standard_normal((6, 3, 4)), requires_grad=True)
    flat, il, tl = gg.tensor([1, 3, 3, 2, 1]), [6, 4, 5], [2, 1, 2]
    assert gradcheck(lambda v: F.ctc_loss(F.log_softmax(v, 2), flat, il, tl, reduction="none"), (xb,))


def test_gradient_is_zero_past_each_input_and_for_zeroed_infinities():
    rng = np.random.default_rng(3)
    x = gg.tensor(_log_softmax(rng.standard_normal((5, 2, 3))), requires_grad=True)
    loss = F.ctc_loss(x, gg.tensor([[1, 1], [2, 1]]), [2, 3], [2, 2], zero_infinity=True, reduction="sum")
    loss.backward()
    g = x.grad.numpy()
    assert (g[:, 0] == 0).all()  # [1, 1] in 2 steps is infeasible: zeroed
    assert (g[3:, 1] == 0).all() and np.abs(g[:3, 1]).sum() > 0


# ------------------------------------------------------------------ PyTorch parity
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_parity_reductions_layouts_dtypes(torch, dtype, reduction, layout):
    rng = np.random.default_rng(5)
    targets, il, steps = _batch(rng, 5, 6, max_len=4)
    targets[1] = []
    x = _log_softmax(rng.standard_normal((steps, 5, 6)))
    lengths = "tensor" if layout == "padded" else "list"
    _parity(torch, x, targets, il, [len(t) for t in targets], dtype, layout, lengths, reduction=reduction)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_parity_unnormalised_log_probs(torch, dtype, scale):
    """Not log-probabilities: PyTorch's gradient is not the derivative of the loss; ours is PyTorch's."""
    rng = np.random.default_rng(8)
    targets, il, steps = _batch(rng, 4, 5, blank=2, max_len=3)
    x = scale * rng.standard_normal((steps, 4, 5))
    for reduction in ("mean", "none"):
        _parity(torch, x, targets, il, [len(t) for t in targets], dtype, blank=2, reduction=reduction)


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_parity_infeasible_targets(torch, zero_infinity, reduction):
    """Without zero_infinity PyTorch's gradient is nan for every step of an infeasible sequence."""
    rng = np.random.default_rng(9)
    x = _log_softmax(rng.standard_normal((5, 4, 4)))
    targets, il = [[1, 1, 1], [2, 3], [3, 3], [1]], [4, 5, 2, 0]  # need 5, ok, need 3, need 1
    _, grad = _parity(torch, x, targets, il, [3, 2, 2, 1], reduction=reduction, zero_infinity=zero_infinity)
    if not zero_infinity:
        assert np.isnan(grad.numpy()[:4, 0]).all() and not np.isnan(grad.numpy()[:, 1]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parity_unbatched(torch, dtype):
    rng = np.random.default_rng(4)
    x = _log_softmax(rng.standard_normal((6, 5))).astype(dtype)
    for reduction in ("mean", "sum", "none"):
        a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ga = F.ctc_loss(a, gg.tensor([3, 1, 1]), gg.tensor(6), gg.tensor(3), reduction=reduction)
        tb = torch.nn.functional.ctc_loss(b, torch.tensor([3, 1, 1]), torch.tensor(6), torch.tensor(3),
                                          reduction=reduction)  # fmt: skip
        assert ga.shape == () == tuple(tb.shape)
        np.testing.assert_allclose(ga.item(), tb.item(), rtol=1e-6)
        ga.backward()
        tb.backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)
    padded = F.ctc_loss(gg.tensor(x), gg.tensor([[3, 1, 1, 0]]), [6], [3], reduction="none")
    np.testing.assert_allclose(padded.item(), tb.item(), rtol=1e-6)  # the last loop ran "none"


def test_parity_odd_labels_and_special_values(torch):
    """A target holding the blank, -inf and nan log-probabilities, huge lengths padding: as PyTorch."""
    rng = np.random.default_rng(2)
    x = _log_softmax(rng.standard_normal((5, 3, 4)))
    _parity(torch, x, [[1, 0, 2], [3], [2, 2]], [5, 5, 4], [3, 1, 2], reduction="none")
    x[:, 1, 0] = -np.inf  # no blank at all for sequence 1: its blank gradient is nan in PyTorch
    x[2, 2, 3] = np.nan
    _parity(torch, x, [[1, 3], [3, 1], [2, 2]], [5, 5, 4], [2, 2, 2], reduction="none")


def test_module_matches_functional_and_torch(torch):
    rng = np.random.default_rng(6)
    x = _log_softmax(rng.standard_normal((7, 3, 5))).astype(np.float32)
    tg, il, tl = _pad([[1, 2], [4, 4, 3], [2]], fill=0), [7, 7, 5], [2, 3, 1]
    m = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert repr(m) == "CTCLoss()" and m.blank == 0 and m.zero_infinity
    tm = torch.nn.CTCLoss(reduction="sum", zero_infinity=True)
    got = m(gg.tensor(x), gg.tensor(tg), gg.tensor(il), gg.tensor(tl))
    want = tm(torch.tensor(x), torch.tensor(tg), torch.tensor(il), torch.tensor(tl))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
    assert got.item() == F.ctc_loss(gg.tensor(x), gg.tensor(tg), il, tl, reduction="sum").item()
    with pytest.raises(ValueError, match="CTCLoss: expected reduction"):
        nn.CTCLoss(reduction="avg")


# ------------------------------------------------------------------ errors
def _args(**over):
    lp = gg.tensor(_log_softmax(np.random.default_rng(0).standard_normal((4, 2, 3))))
    args = {
        "log_probs": lp,
        "targets": gg.tensor([[1, 2], [2, 0]]),
        "input_lengths": [4, 3],
        "target_lengths": [2, 1],
    }
    args.update(over)
    return args


@pytest.mark.parametrize(
    "over, error, message",
    [
        ({"blank": 3}, ValueError, r"blank in \[0, 3\).*got 3"),
        ({"blank": -1}, ValueError, r"blank in \[0, 3\)"),
        ({"input_lengths": [5, 3]}, ValueError, r"input_lengths in \[0, T\] = \[0, 4\], got \[5, 3\]"),
        ({"input_lengths": [-1, 3]}, ValueError, r"input_lengths in \[0, T\]"),
        ({"target_lengths": [-1, 1]}, ValueError, r"target_lengths >= 0, got \[-1, 1\]"),
        ({"input_lengths": [4, 3, 2]}, ShapeError, r"input_lengths with 2 values \(the batch size\), got 3"),
        ({"target_lengths": [2]}, ShapeError, r"target_lengths with 2 values"),
        ({"target_lengths": [3, 1]}, ShapeError, r"at least max\(target_lengths\) = 3 columns, got shape \(2, 2\)"),
        ({"targets": gg.tensor([[1, 2]])}, ShapeError, r"padded targets of shape \(2, S\).*got \(1, 2\)"),
        ({"targets": gg.tensor([1, 2])}, ShapeError, r"concatenated targets of shape \(3,\).*got \(2,\)"),
        ({"targets": gg.tensor([[[1, 2]]])}, ShapeError, r"targets of shape \(N, S\) or.*got \(1, 1, 2\)"),
        ({"targets": gg.tensor([[1, 5], [2, 0]])}, IndexOutOfRangeError, r"target labels in \[0, 3\), got 5"),
        ({"targets": gg.tensor([[-1, 2], [2, 0]])}, IndexOutOfRangeError, r"got -1"),
        ({"reduction": "avg"}, ValueError, r"reduction in"),
        ({"input_lengths": gg.tensor([4.0, 3.0]), "target_lengths": gg.tensor([2, 1])}, DTypeError,
         r"input_lengths to be an integer tensor, got dtype glassgrad.float32"),
        ({"input_lengths": gg.tensor([True, True]), "target_lengths": gg.tensor([2, 1])}, DTypeError, r"integer"),
        ({"input_lengths": gg.tensor([4, 3])}, TypeError, r"both Tensors or both lists, got Tensor and list"),
        ({"input_lengths": [4.0, 3.0]}, TypeError, r"input_lengths to be an integer Tensor or a list/tuple"),
        ({"input_lengths": 4, "target_lengths": 2}, TypeError, r"list/tuple of ints, got 4"),
    ],
)  # fmt: skip
def test_errors_name_the_op_and_what_was_expected(over, error, message):
    with pytest.raises(error, match="ctc_loss: expected .*" + message):
        F.ctc_loss(**_args(**over))


def test_errors_on_log_probs():
    with pytest.raises(
        ShapeError, match=r"ctc_loss: expected log_probs of shape \(T, N, C\) or \(T, C\), got \(4,\)"
    ):
        F.ctc_loss(gg.zeros(4), gg.tensor([1]), [4], [1])
    with pytest.raises(
        DTypeError, match="ctc_loss: expected log_probs of dtype float32 or float64, got glassgrad.float16"
    ):
        F.ctc_loss(gg.zeros(4, 1, 3, dtype=gg.float16), gg.tensor([1]), [4], [1])
    with pytest.raises(ShapeError, match=r"ctc_loss: expected a non-empty log_probs, got shape \(4, 0, 3\)"):
        F.ctc_loss(gg.zeros(4, 0, 3), gg.zeros(0, 1, dtype=gg.long), [], [])
    with pytest.raises(DTypeError, match="ctc_loss: expected integer class indices as targets"):
        F.ctc_loss(gg.zeros(4, 1, 3), np.array([["a"]]), [4], [1])


def test_targets_are_copied_and_float_targets_truncate(torch):
    lp = _log_softmax(np.random.default_rng(1).standard_normal((5, 1, 4)))
    tg = gg.tensor([[1, 2]])
    x = gg.tensor(lp, requires_grad=True)
    loss = F.ctc_loss(x, tg, [5], [2])
    tg[0, 0] = 3  # after forward: the gradient is still the one of the forward that ran
    loss.backward()
    ref = gg.tensor(lp, requires_grad=True)
    F.ctc_loss(ref, gg.tensor([[1, 2]]), [5], [2]).backward()
    np.testing.assert_array_equal(x.grad.numpy(), ref.grad.numpy())
    fl = torch.nn.functional.ctc_loss(torch.tensor(lp), torch.tensor([[1.7, 2.2]]), [5], [2])
    np.testing.assert_allclose(F.ctc_loss(gg.tensor(lp), gg.tensor([[1.7, 2.2]]), [5], [2]).item(), fl.item())


# ------------------------------------------------------------------ learning
def test_tiny_model_learns_label_sequences_within_150_steps():
    """Four random input sequences, four targets (one with a repeat): a per-step MLP trained with
    CTC must make greedy decoding (argmax per step, merge repeats, drop blanks) spell every target."""
    rng = np.random.default_rng(0)
    gg.manual_seed(0)
    targets = [[1, 2], [2, 1], [3, 3], [1, 3, 2]]
    steps, n, classes = 8, len(targets), 4
    x = gg.tensor(rng.standard_normal((steps, n, 6)).astype(np.float32))
    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, classes))
    opt = gg.optim.Adam(model.parameters(), lr=0.03)
    tg, il, tl = gg.tensor(_pad(targets, fill=0)), [steps] * n, [len(t) for t in targets]
    for _ in range(150):
        loss = F.ctc_loss(F.log_softmax(model(x), 2), tg, il, tl)
        opt.zero_grad()
        loss.backward()
        opt.step()
    best = model(x).argmax(2).numpy()  # (T, N)
    decoded = [_collapse(best[:, i].tolist(), 0) for i in range(n)]
    assert decoded == targets and loss.item() < 0.1
