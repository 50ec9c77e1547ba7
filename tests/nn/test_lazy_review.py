"""Review of the lazy layers against PyTorch: computing with a placeholder is an error (never an
empty or zero answer), and a lazy batch norm runs after a state dict load or with nothing to learn."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

_USES = {
    "sum": lambda lib, w: w.sum(),
    "add": lambda lib, w: w + 1,
    "norm": lambda lib, w: w.norm(),
    "square_sum": lambda lib, w: (w * w).sum(),
    "init.zeros_": lambda lib, w: lib.nn.init.zeros_(w),
    "parameters_to_vector": lambda lib, w: lib.nn.utils.parameters_to_vector([w]),
    "clone": lambda lib, w: w.clone(),
    "len": lambda lib, w: len(w),
    "tolist": lambda lib, w: w.tolist(),
    "Adagrad": lambda lib, w: lib.optim.Adagrad([w]),  # its state is allocated at construction
}


@pytest.mark.parametrize("use", sorted(_USES))
@pytest.mark.parametrize("double", [False, True])
def test_computing_with_a_placeholder_raises_as_torch(torch, use, double):
    # an L2 penalty or a custom init before the first call must not give 0 or do nothing silently
    for lib in (gg, torch):
        layer = lib.nn.LazyLinear(3)
        if double:
            layer = layer.double()
        with pytest.raises((ValueError, RuntimeError), match="uninitialized parameter"):
            _USES[use](lib, layer.weight)


def test_computing_with_a_placeholder_buffer_raises_as_torch(torch):
    for lib in (gg, torch):
        bn = lib.nn.LazyBatchNorm1d()
        with pytest.raises(ValueError, match="uninitialized parameter"):
            bn.running_mean.sum()


def test_materialized_placeholders_compute_as_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    theirs = torch.nn.LazyLinear(3)
    theirs(torch.tensor(x))
    ours = gg.nn.LazyLinear(3)
    ours(gg.tensor(x))
    ours.weight.data = gg.tensor(theirs.weight.detach().numpy().copy())
    got = (ours.weight * ours.weight).sum().item()
    want = (theirs.weight * theirs.weight).sum().item()
    assert got == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_lazy_batchnorm_loaded_from_a_state_dict_runs_as_torch(torch, training):
    rng = np.random.default_rng(1)
    src = torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        for t in (src.weight, src.bias, src.running_mean):
            t.copy_(torch.tensor(rng.standard_normal(3).astype(np.float32)))
        src.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, 3).astype(np.float32)))
    state = src.state_dict()
    theirs = torch.nn.LazyBatchNorm1d()
    theirs.load_state_dict(state)
    ours = gg.nn.LazyBatchNorm1d()
    ours.load_state_dict({k: gg.tensor(v.numpy()) for k, v in state.items()})
    theirs.train(training)
    ours.train(training)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    want = theirs(torch.tensor(x)).detach().numpy()
    got = ours(gg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-6)
    assert type(ours).__name__ == type(theirs).__name__ == "BatchNorm1d"


def test_lazy_batchnorm_loaded_from_a_state_dict_checks_the_input_size():
    ours = gg.nn.LazyBatchNorm1d()
    ours.load_state_dict(gg.nn.BatchNorm1d(3).state_dict())
    with pytest.raises(ValueError, match="BatchNorm1d"):
        ours(gg.ones(2, 5))


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_lazy_batchnorm_with_nothing_to_learn_runs_as_torch(torch, dims):
    x = np.random.default_rng(2).standard_normal((4, 3) + (3,) * dims).astype(np.float32)
    name = f"LazyBatchNorm{dims}d"
    theirs = getattr(torch.nn, name)(affine=False, track_running_stats=False)
    ours = getattr(gg.nn, name)(affine=False, track_running_stats=False)
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 0
    want = theirs(torch.tensor(x)).numpy()
    got = ours(gg.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_saving_a_placeholder_is_an_error_not_an_empty_tensor(tmp_path):
    # loaded back as a (0,) tensor it would "materialize" a fresh lazy model with no weights
    net = gg.nn.Sequential(gg.nn.LazyLinear(4), gg.nn.LazyBatchNorm1d())
    with pytest.raises(NotImplementedError, match=r"'0\.weight' is an uninitialized parameter"):
        gg.save(net.state_dict(), tmp_path / "lazy.pt")
    net(gg.ones(3, 5))
    gg.save(net.state_dict(), tmp_path / "lazy.pt")
    fresh = gg.nn.Sequential(gg.nn.LazyLinear(4), gg.nn.LazyBatchNorm1d())
    fresh.load_state_dict(gg.load(tmp_path / "lazy.pt"))
    assert tuple(fresh[0].weight.shape) == (4, 5)


def test_lazy_linear_loaded_then_called_with_a_wrong_size_stays_lazy_as_torch(torch):
    state = torch.nn.Linear(4, 3).state_dict()
    theirs = torch.nn.LazyLinear(3)
    theirs.load_state_dict(state)
    ours = gg.nn.LazyLinear(3)
    ours.load_state_dict({k: gg.tensor(v.numpy()) for k, v in state.items()})
    with pytest.raises(AssertionError):
        theirs(torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"LazyLinear: the loaded weight \(3, 4\) has in_features=4"):
        ours(gg.ones(2, 5))
    assert type(ours).__name__ == type(theirs).__name__ == "LazyLinear"
    assert ours.in_features == 4  # the loaded weight's, not the rejected input's
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    want = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(gg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert type(ours).__name__ == type(theirs).__name__ == "Linear"


@pytest.mark.parametrize("name", ["Conv2d", "ConvTranspose2d"])
def test_lazy_conv_loaded_keeps_the_loaded_in_channels(torch, name):
    src = getattr(torch.nn, name)(4, 6, 3, groups=2)
    ours = getattr(gg.nn, "Lazy" + name)(6, 3, groups=2)
    ours.load_state_dict({k: gg.tensor(v.numpy()) for k, v in src.state_dict().items()})
    with pytest.raises(ValueError, match="in_channels=4"):
        ours(gg.ones(1, 6, 5, 5))
    assert ours.in_channels == src.in_channels
    x = np.random.default_rng(4).standard_normal((1, 4, 5, 5)).astype(np.float32)
    want = src(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(gg.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-5)
    assert ours.in_channels == src.in_channels
