"""Round 61, tabular and forecasting models: PriorLabs/TabPFN (930ea728), google-research/timesfm
(3dae50b) and yandex-research/tabm (28e47ae3) with rtdl_num_embeddings (a8fc2502).

TabPFN's v2/v2.5/v2.6/v3 models, its bar distribution and torch preprocessing, and TimesFM's
v1 decoder (with its fine-tuner) and 2.5 module ran and agreed with PyTorch in float64. TabM
stopped where it rebuilds a layer as its ensemble version: ``BatchNorm1dEnsemble.from_batchnorm1d``
and ``LayerNormEnsemble.from_layernorm`` read ``nn.BatchNorm1d.__constants__`` /
``nn.LayerNorm.__constants__``, PyTorch's class-level list of a layer's hyperparameters, which no
glassgrad layer had (AttributeError). The tests below are fresh programs of that pattern and of the
RNG-free tensor patterns the programs are built from, against PyTorch in float64.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import glassgrad as gg

_R = np.random.default_rng(61)

# ---- nn layers carry PyTorch's __constants__ ------------------------------------------------------


def test_every_layer_has_pytorchs_constants_list(torch):
    differ = []
    for name, cls in vars(torch.nn).items():
        if not (inspect.isclass(cls) and issubclass(cls, torch.nn.Module)):
            continue
        ours = getattr(gg.nn, name, None)
        if ours is None:
            continue
        theirs = getattr(cls, "__constants__", None)
        mine = getattr(ours, "__constants__", None)
        if (None if theirs is None else list(theirs)) != mine:
            differ.append(f"{name}: {theirs} vs {mine}")
    assert differ == []


# (layer, positional arguments) built alike in both libraries
_BUILT = [
    ("BatchNorm1d", (4,)),
    ("InstanceNorm2d", (3,)),
    ("LayerNorm", ((2, 3),)),
    ("RMSNorm", (5,)),
    ("GroupNorm", (2, 4)),
    ("Linear", (3, 2)),
    ("Conv2d", (4, 6, 3)),
    ("ConvTranspose1d", (2, 4, 3)),
    ("Embedding", (7, 3)),
    ("EmbeddingBag", (7, 3)),
    ("LSTM", (3, 4)),
    ("GRUCell", (3, 4)),
    ("RNNCell", (3, 4)),
    ("Dropout2d", (0.3,)),
    ("MaxPool2d", (3,)),
    ("AvgPool2d", (2,)),
    ("Upsample", (None, 2.0)),
    ("ReflectionPad2d", (1,)),
    ("ConstantPad1d", (2, 0.5)),
    ("CrossEntropyLoss", ()),
    ("Softplus", (2.0, 10.0)),
    ("Fold", ((4, 4), 2)),
    ("PixelShuffle", (2,)),
    ("PairwiseDistance", ()),
    ("MultiheadAttention", (4, 2)),
]


@pytest.mark.parametrize(("name", "args"), _BUILT, ids=[n for n, _ in _BUILT])
def test_each_constant_is_an_attribute_with_pytorchs_value(torch, name, args):
    theirs = getattr(torch.nn, name)(*args)
    mine = getattr(gg.nn, name)(*args)
    for key in type(theirs).__constants__:
        want, got = getattr(theirs, key), getattr(mine, key)
        assert got == want or (isinstance(want, tuple) and tuple(got) == want), key


def test_module_has_no_constants_and_subclasses_inherit_their_parents():
    assert not hasattr(gg.nn.Module, "__constants__")

    class Norm(gg.nn.BatchNorm1d):
        pass

    assert Norm.__constants__ == ["track_running_stats", "momentum", "eps", "num_features", "affine"]
    # fractional pooling declares its own list, which stays
    assert gg.nn.FractionalMaxPool2d.__constants__[0] == "kernel_size"


_REBUILT = {
    # layer: (keyword arguments of the original, input shape)
    "BatchNorm1d": ({"num_features": 4, "eps": 1e-3, "momentum": 0.3}, (5, 4)),
    "LayerNorm": ({"normalized_shape": (2, 4), "eps": 1e-4}, (3, 2, 4)),
    "Linear": ({"in_features": 4, "out_features": 3}, (5, 4)),
    "GroupNorm": ({"num_groups": 2, "num_channels": 4, "eps": 1e-3}, (3, 4, 5)),
    "RMSNorm": ({"normalized_shape": 4, "eps": 1e-5}, (3, 4)),
}


def _params(shape):
    """Parameters drawn from the shape alone, so both libraries load the same values."""
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(tuple(shape)) * 0.5 + 1.0


@pytest.mark.parametrize("kind", sorted(_REBUILT))
def test_layer_rebuilt_from_its_constants_matches_pytorch(torch, kind):
    kwargs0, shape = _REBUILT[kind]
    x0 = _R.standard_normal(shape)
    out = {}
    for lib in (torch, gg):
        cls = getattr(lib.nn, kind)
        original = cls(**kwargs0, dtype=lib.float64)
        # TabM's from_batchnorm1d: the hyperparameters, by name, into a new layer
        rebuilt = cls(**{key: getattr(original, key) for key in cls.__constants__}, dtype=lib.float64)
        floats = {k: v for k, v in rebuilt.state_dict().items() if v.dtype == lib.float64}
        rebuilt.load_state_dict(
            {k: lib.from_numpy(_params(v.shape)) for k, v in floats.items()}, strict=False
        )
        x = lib.from_numpy(x0.copy()).requires_grad_()
        y = rebuilt(x)
        (y * y).sum().backward()
        state = {k: v.numpy().copy() for k, v in rebuilt.state_dict().items()}
        out[lib] = (y.detach().numpy(), x.grad.numpy(), state)
    for theirs, mine in zip(out[torch][:2], out[gg][:2], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    for key, value in out[torch][2].items():
        np.testing.assert_allclose(out[gg][2][key], value, rtol=1e-12, atol=1e-14, err_msg=key)


# ---- RNG-free tensor patterns of the programs, pinned against PyTorch ----------------------------


def test_row_vmap_with_a_nan_row_mask_like_tabpfns_svd_transform(torch):
    x0 = _R.standard_normal((7, 4))
    x0[2, 1] = np.nan
    comp0 = _R.standard_normal((3, 4))
    outs = []
    for lib in (torch, gg):
        comp = lib.from_numpy(comp0)

        def per_row(row, lib=lib, comp=comp):
            nan_mask = lib.isnan(row)
            filled = lib.where(nan_mask, lib.zeros_like(row), row)
            return lib.where(nan_mask.any(), float("nan"), filled @ comp.T)

        outs.append(lib.vmap(per_row, chunk_size=3)(lib.from_numpy(x0)).numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-13, atol=0)


def test_bar_distribution_quantile_and_tail_loss_like_tabpfn(torch):
    """TabPFN's ``icdf`` (searchsorted on the cumulative probabilities) and the full-support
    loss, whose outer buckets get a half-normal tail added in place through boolean masks."""
    borders0 = np.sort(_R.standard_normal(9)) * 2
    logits0 = _R.standard_normal((5, 2, 8))
    y0 = np.array([[-9.0, 0.1], [0.3, 7.0], [-0.2, 0.0], [1.0, -1.0], [0.5, 0.4]])
    res = []
    for lib in (torch, gg):
        borders = lib.from_numpy(borders0)
        logits = lib.from_numpy(logits0.copy()).requires_grad_()
        probs = logits.softmax(-1)
        cum = lib.cumsum(probs, -1)
        idx = lib.searchsorted(cum, 0.3 * lib.ones(*cum.shape[:-1], 1, dtype=lib.float64))
        idx = idx.squeeze(-1).clamp(0, cum.shape[-1] - 1)
        cum0 = lib.cat([lib.zeros(*cum.shape[:-1], 1, dtype=lib.float64), cum], -1)
        rest = 0.3 - cum0.gather(-1, idx[..., None]).squeeze(-1)
        left, right = borders[idx], borders[idx + 1]
        icdf = left + (right - left) * rest / probs.gather(-1, idx[..., None]).squeeze(-1)
        y = lib.from_numpy(y0)
        target = (lib.searchsorted(borders, y) - 1).clamp(0, 7)
        widths = borders[1:] - borders[:-1]
        log_probs = (lib.log_softmax(logits, -1) - lib.log(widths)).gather(-1, target[..., None]).squeeze(-1)
        tail = lib.distributions.HalfNormal(widths[0] / 0.6744897501960817)
        log_probs[target == 0] += tail.log_prob((borders[1] - y[target == 0]).clamp(min=1e-8)) + lib.log(
            widths[0]
        )
        loss = -log_probs.mean() + icdf.sum()
        loss.backward()
        res.append((icdf.detach().numpy(), log_probs.detach().numpy(), logits.grad.numpy()))
    for theirs, mine in zip(res[0], res[1], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
