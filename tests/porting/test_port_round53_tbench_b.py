"""Round 53, group tbench_b: pytorch/benchmark's sequence, RL and recommender entries
(speech_transformer, tts_angular, drq, soft_actor_critic, nvidia_deeprecommender, phlippe's DenseNet
and ResNet, maml). The soft actor-critic's ``SquashedNormal(..., tanh_transform_clamp=(-0.99,
0.99))`` calls ``y.clamp(self.clamp)`` with the pair as one argument when it inverts the tanh of an
action it did not sample: PyTorch refuses the tuple (TypeError), glassgrad read it as a tensor of
two bounds and broadcast it against ``y``. Every clamp form now refuses a bound that is not a
number, a Tensor or None, as PyTorch's parser. Each test compares with PyTorch where PyTorch decides.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

# The clamp family, each called with one bound given as `b`.
_FORMS = [  # (name, call)
    ("Tensor.clamp(min)", lambda m, t, b: t.clamp(b)),
    ("Tensor.clamp(max=)", lambda m, t, b: t.clamp(max=b)),
    ("Tensor.clamp(lo, max)", lambda m, t, b: t.clamp(-1.0, b)),
    ("Tensor.clip", lambda m, t, b: t.clip(b)),
    ("Tensor.clamp_", lambda m, t, b: t.clamp_(b)),
    ("Tensor.clip_", lambda m, t, b: t.clip_(max=b)),
    ("Tensor.clamp_min", lambda m, t, b: t.clamp_min(b)),
    ("Tensor.clamp_max", lambda m, t, b: t.clamp_max(b)),
    ("Tensor.clamp_min_", lambda m, t, b: t.clamp_min_(b)),
    ("Tensor.clamp_max_", lambda m, t, b: t.clamp_max_(b)),
    ("torch.clamp", lambda m, t, b: m.clamp(t, b)),
    ("torch.clamp(max=)", lambda m, t, b: m.clamp(t, max=b)),
    ("torch.clip", lambda m, t, b: m.clip(t, min=b)),
    ("torch.clamp_min", lambda m, t, b: m.clamp_min(t, b)),
    ("torch.clamp_max", lambda m, t, b: m.clamp_max(t, b)),
]

_BAD = {
    "tuple pair": (-0.99, 0.99),
    "list pair": [-0.99, 0.99],
    "list as long as the input": [0.0, 1.0, 2.0],
    "0-d ndarray": np.array(0.5),
    "1-d ndarray": np.array([0.0, 1.0, 2.0]),
}


@pytest.mark.parametrize("bad", list(_BAD), ids=list(_BAD))
@pytest.mark.parametrize("form", _FORMS, ids=[f[0] for f in _FORMS])
def test_clamp_refuses_a_sequence_bound_as_pytorch(torch, form, bad):
    _, call = form
    bound = _BAD[bad]
    x = np.array([-2.0, 0.5, 2.0], dtype=np.float32)
    theirs = torch.tensor(x)
    with pytest.raises(TypeError):
        call(torch, theirs, bound)
    ours = gg.tensor(x)
    with pytest.raises(
        TypeError, match=r"^clamp\(\): expected a number, a Tensor or None as argument '(min|max)', got "
    ):
        call(gg, ours, bound)
    np.testing.assert_array_equal(ours.numpy(), x)  # an in-place form wrote nothing


@pytest.mark.parametrize("form", _FORMS, ids=[f[0] for f in _FORMS])
@pytest.mark.parametrize(
    "bound",
    [0.25, 1, True, np.float64(0.25), np.float32(-0.5), np.int64(1), np.bool_(False)],
    ids=repr,
)
def test_clamp_number_bounds_still_match_pytorch(torch, form, bound):
    _, call = form
    x = np.array([-2.0, 0.0, 0.5, 2.0], dtype=np.float32)
    expected = call(torch, torch.tensor(x), bound).numpy()
    got = call(gg, gg.tensor(x), bound)
    assert got.dtype == gg.float32
    np.testing.assert_array_equal(got.numpy(), expected)


def test_clamp_tensor_bounds_still_broadcast_as_pytorch(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    lo = rng.standard_normal((4,)) - 0.5
    hi = rng.standard_normal((3, 1)) + 0.5
    expected = torch.clamp(torch.tensor(x), torch.tensor(lo), torch.tensor(hi)).numpy()
    got = gg.clamp(gg.tensor(x), gg.tensor(lo), gg.tensor(hi)).numpy()
    np.testing.assert_array_equal(got, expected)
    expected = torch.tensor(x).clamp(min=torch.tensor(0.1)).numpy()  # a 0-d tensor bound
    np.testing.assert_array_equal(gg.tensor(x).clamp(min=gg.tensor(0.1)).numpy(), expected)


def test_clamp_tensor_bounds_gradcheck_with_broadcasting():
    rng = np.random.default_rng(3)
    x = gg.tensor(rng.uniform(-2, 2, (2, 3, 4)), requires_grad=True)
    lo = gg.tensor(rng.uniform(-1.5, -0.2, (3, 1)), requires_grad=True)
    hi = gg.tensor(rng.uniform(0.2, 1.5, (4,)), requires_grad=True)
    assert gradcheck(lambda a, b, c: gg.clamp(a, b, c), (x, lo, hi))


def test_squashed_normal_inverse_with_a_clamp_pair_fails_as_pytorch(torch):
    """The benchmark's TanhTransform._inverse: ``self.atanh(y.clamp(self.clamp))`` with a pair."""

    def inverse(lib, y, clamp):
        y = y.clamp(clamp)
        return 0.5 * (y.log1p() - (-y).log1p())

    y = np.array([[0.2, -0.999], [0.5, 0.999]])
    with pytest.raises(TypeError):
        inverse(torch, torch.tensor(y), (-0.99, 0.99))
    with pytest.raises(TypeError, match="got tuple"):
        inverse(gg, gg.tensor(y), (-0.99, 0.99))
    # with a number bound the two agree
    expected = inverse(torch, torch.tensor(y), -0.99).numpy()
    np.testing.assert_allclose(inverse(gg, gg.tensor(y), -0.99).numpy(), expected, rtol=0, atol=1e-15)
