"""nn.utils: gradient clipping (PyTorch parity), parameter vectors, counts and the summary table."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import ShapeError
from glassgrad.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    count_parameters,
    get_total_norm,
    parameters_to_vector,
    summary,
    vector_to_parameters,
)

RNG = np.random.default_rng(3)


def _params_with_grads(scale: float) -> list[nn.Parameter]:
    ps = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = nn.Parameter(gg.zeros(*shape))
        p.grad = gg.tensor((RNG.standard_normal(shape) * scale).astype(np.float32))
        ps.append(p)
    ps.append(nn.Parameter(gg.zeros(2)))  # no grad: skipped
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3, math.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm_matches_torch(norm_type, scale):
    torch = pytest.importorskip("torch")
    ours = _params_with_grads(scale)
    theirs = []
    for p in ours:
        t = torch.zeros(p.shape, requires_grad=True)
        t.grad = None if p.grad is None else torch.from_numpy(p.grad._data.copy())
        theirs.append(t)
    total = clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    assert isinstance(total, gg.Tensor) and total.shape == () and total.dtype == gg.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-5)
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad._data, t.grad.numpy(), rtol=1e-5, atol=1e-7)
            assert p.grad.dtype == gg.float32


def test_clip_grad_norm_scales_only_above_max_and_in_place():
    p = nn.Parameter(gg.zeros(2))
    p.grad = gg.tensor([3.0, 4.0])
    arr = p.grad._data
    assert clip_grad_norm_(p, 10.0).item() == pytest.approx(5.0)
    assert p.grad.tolist() == [3.0, 4.0]
    clip_grad_norm_([p], 1.0)
    assert p.grad._data is arr
    np.testing.assert_allclose(p.grad._data, [0.6, 0.8], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(gg.zeros(1))], 1.0).item() == 0.0  # no grads at all


def test_clip_grad_norm_nonfinite():
    p = nn.Parameter(gg.zeros(2))
    p.grad = gg.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert math.isinf(clip_grad_norm_([p], 1.0).item())


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_nonfinite_total_spreads_to_every_grad_as_torch(torch, bad):
    # a NaN total once left the other gradients unclipped (NaN < 1 is False) and the step went on
    ours = [nn.Parameter(gg.zeros(3)), nn.Parameter(gg.zeros(2))]
    theirs = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
    for lib, ps in ((gg, ours), (torch, theirs)):
        ps[0].grad, ps[1].grad = lib.tensor([1.0, bad, 2.0]), lib.tensor([3.0, 4.0])
    total, ttotal = clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_equal(total.item(), ttotal.item())
    for p, t in zip(ours, theirs):
        np.testing.assert_equal(p.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(torch, norm_type):
    ours = _params_with_grads(10.0)
    theirs = []
    for p in ours:
        t = torch.zeros(p.shape, requires_grad=True)
        if p.grad is not None:
            t.grad = torch.from_numpy(p.grad._data.copy())
        theirs.append(t)
    total = get_total_norm([p.grad for p in ours if p.grad is not None], norm_type)
    ttotal = torch.nn.utils.get_total_norm([t.grad for t in theirs if t.grad is not None], norm_type)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    assert total.dtype == gg.float32 and total.ndim == 0
    assert clip_grads_with_norm_(ours, 1.5, total) is None
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.5, ttotal)
    for p, t in zip(ours, theirs):
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert get_total_norm([]).item() == torch.nn.utils.get_total_norm([]).item() == 0.0
    with pytest.raises(RuntimeError, match="non-finite"):
        get_total_norm([gg.tensor([float("nan")])], error_if_nonfinite=True)


def test_clip_grads_with_norm_never_scales_up():
    p = nn.Parameter(gg.zeros(2))
    p.grad = gg.tensor([3.0, 4.0])
    clip_grads_with_norm_([p], 10.0, gg.tensor(5.0))
    assert p.grad.tolist() == [3.0, 4.0]
    clip_grads_with_norm_([p], 1.0, gg.tensor(5.0))
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_of_an_empty_generator_warns_as_torch(torch):
    with pytest.warns(UserWarning, match="empty generator"):
        torch.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((p for p in []), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty list is not a spent generator: no warning
        assert clip_grad_norm_([], 1.0).item() == 0.0


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _params_with_grads(3.0)
    theirs = [torch.from_numpy(p.grad._data.copy()) for p in ours if p.grad is not None]
    clip_grad_value_(ours, 0.5)
    for p, t in zip([p for p in ours if p.grad is not None], theirs):
        np.testing.assert_array_equal(p.grad._data, t.clamp(-0.5, 0.5).numpy())


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (count_parameters(model),) == (26,)
    np.testing.assert_array_equal(vec._data[:12], model[0].weight._data.reshape(-1))
    vec.sum().backward()  # differentiable: every parameter gets ones
    assert all(np.all(p.grad._data == 1) for p in model.parameters())
    new = gg.arange(26, dtype=gg.float32)
    vector_to_parameters(new, model.parameters())
    assert model[0].weight._data[0].tolist() == [0.0, 1.0, 2.0] and model[1].bias.tolist() == [24.0, 25.0]
    np.testing.assert_array_equal(parameters_to_vector(model.parameters())._data, new._data)
    with pytest.raises(ShapeError, match=r"vector_to_parameters: expected a vector \(26,\), got \(25,\)"):
        vector_to_parameters(gg.zeros(25), model.parameters())


def test_parameter_vector_matches_torch_order():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(
        parameters_to_vector(ours.parameters())._data,
        torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy(),
    )


def test_count_parameters_counts_tied_once_and_skips_frozen():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    assert count_parameters(model) == 80
    tied = nn.Module()
    tied.a = nn.Linear(4, 4)
    tied.b = nn.Linear(4, 4)
    tied.b.weight = tied.a.weight
    assert count_parameters(tied) == 16 + 4 + 4
    tied.a.bias.requires_grad_(False)
    assert count_parameters(tied) == 20 and count_parameters(tied, trainable_only=False) == 24


def test_summary_table_with_shapes_and_no_side_effects():
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    mean_before = model[1].running_mean._data.copy()
    s = summary(model, (5, 4))
    assert [r[0] for r in s.rows] == ["0", "1", "2", "3"]
    assert [r[1] for r in s.rows] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert [r[2] for r in s.rows] == ["[5, 8]", "[5, 8]", "[5, 8]", "[5, 2]"]
    assert [r[3] for r in s.rows] == [40, 16, 0, 18]
    assert s.total_params == s.trainable_params == 74
    text = str(s)
    assert "Total params: 74" in text and "BatchNorm1d" in text and repr(s) == text
    np.testing.assert_array_equal(model[1].running_mean._data, mean_before)  # ran in eval mode
    assert model.training and model[1].training  # modes restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_summary_without_input_nested_and_embedding_input():
    model = nn.Module()
    model.emb = nn.Embedding(10, 4)
    model.head = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    model.forward = lambda x: model.head(model.emb(x))  # instance attribute: a plain function
    s = summary(model)
    assert [r[0] for r in s.rows] == ["emb", "head", "head.0", "head.1"]
    assert all(r[2] == "" for r in s.rows) and "Output shape" not in str(s)
    s = summary(model, (2, 3), dtype=gg.int64)
    assert [r[2] for r in s.rows] == ["[2, 3, 4]", "[2, 3]", "[2, 12]", "[2, 3]"]
    s = summary(model, input_data=gg.tensor([[1, 2, 3]]))
    assert s.rows[-1][2] == "[1, 3]"
    assert count_parameters(model) == s.total_params == 40 + 39


def test_deprecated_clip_grad_norm_warns_and_clips_as_torch(torch):
    # pytorch-beginner's language model calls the old name; PyTorch warns (FutureWarning) and clips
    out = []
    for lib in (gg, torch):
        p = lib.zeros(2, requires_grad=True)
        p.grad = lib.tensor([3.0, 4.0])
        with pytest.warns(FutureWarning, match="clip_grad_norm_") as rec:
            total = lib.nn.utils.clip_grad_norm([p], 1.0)
        out.append((round(total.item(), 6), [round(v, 6) for v in p.grad.tolist()], str(rec[0].message)))
    assert out[0] == out[1]
