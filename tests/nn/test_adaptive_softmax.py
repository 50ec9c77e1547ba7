"""nn.AdaptiveLogSoftmaxWithLoss: PyTorch's state_dict, outputs, loss, log_prob, predict and
gradients; its probabilities sum to 1; PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck


def _read(t):
    return np.array(t.tolist()).reshape(tuple(t.shape))


@pytest.mark.parametrize(
    "in_features, n_classes, cutoffs, div_value, head_bias",
    [(8, 10, [4, 8], 4.0, False), (16, 20, [5, 12, 15], 2.0, True), (6, 5, [2], 4.0, False)],
)
def test_matches_pytorch(torch, in_features, n_classes, cutoffs, div_value, head_bias):
    ours = gg.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value, head_bias).double()
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(
        in_features, n_classes, cutoffs, div_value, head_bias
    ).double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    ours.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((9, in_features)), rng.integers(0, n_classes, 9)
    a, b = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(a, gg.tensor(t)), theirs(b, torch.tensor(t))
    out.loss.backward()
    ref.loss.backward()
    np.testing.assert_allclose(_read(out.output), ref.output.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.loss.item(), ref.loss.item(), rtol=1e-12)
    np.testing.assert_allclose(_read(a.grad), b.grad.numpy(), rtol=1e-10, atol=1e-14)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert (p.grad is None) == (q.grad is None)  # a cluster no target falls in: no gradient
        if q.grad is not None:
            np.testing.assert_allclose(_read(p.grad), q.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        _read(ours.log_prob(a)), theirs.log_prob(b).detach().numpy(), rtol=1e-12, atol=1e-14
    )
    assert ours.predict(a).tolist() == theirs.predict(b).tolist()
    one, ref_one = ours(a[0], gg.tensor(t[0])), theirs(b[0], torch.tensor(t[0]))  # unbatched
    assert one.output.shape == () and abs(one.output.item() - ref_one.output.item()) < 1e-12


def test_probabilities_sum_to_one_and_the_loss_is_the_mean_of_the_targets_log_probabilities():
    m = gg.nn.AdaptiveLogSoftmaxWithLoss(5, 9, [3, 6]).double()
    x = gg.randn(4, 5, dtype=gg.float64)
    logp = m.log_prob(x)
    np.testing.assert_allclose(_read(logp.exp().sum(1)), np.ones(4), rtol=1e-12)
    t = gg.tensor([0, 4, 8, 2])
    out = m(x, t)
    np.testing.assert_allclose(_read(out.output), _read(logp)[np.arange(4), [0, 4, 8, 2]], rtol=1e-12)
    assert abs(out.loss.item() + out.output.mean().item()) < 1e-12
    assert m.predict(x).tolist() == _read(logp).argmax(1).tolist()


def test_gradcheck_through_the_clusters():
    m = gg.nn.AdaptiveLogSoftmaxWithLoss(4, 7, [2, 5]).double()
    t = gg.tensor([0, 3, 6, 4, 1])
    assert gradcheck(lambda x: m(x, t).output, (gg.randn(5, 4, dtype=gg.float64, requires_grad=True),))


def test_errors_as_pytorch():
    for bad in ([3, 2], [], [0], [6], [2, 2]):
        with pytest.raises(ValueError, match="cutoffs should be"):
            gg.nn.AdaptiveLogSoftmaxWithLoss(4, 6, bad)
    m = gg.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2])
    with pytest.raises(RuntimeError, match="same size in the batch dimension"):
        m(gg.randn(3, 4), gg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 5\]"):
        m(gg.randn(3, 4), gg.tensor([0, 1, 6]))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(gg.randn(3, 4), gg.tensor([[0]]))
