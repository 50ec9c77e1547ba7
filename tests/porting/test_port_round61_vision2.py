"""Round 61, vision backbones never ported before: apple/ml-fastvit, mit-han-lab/efficientvit,
apple/ml-cvnets (MobileViT v1/v2) and chinhsuanwu/mobilevit-pytorch. The patterns below are written
fresh here and compared with PyTorch in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

from .helpers import close_to as _close
from .helpers import tensor_of as _t

RNG_SEED = 61


# ---- ml-cvnets: a conv layer's window arguments as a generator -----------------------------------
# cvnets' ConvLayer2d passes ``padding=(int((k[i] - 1) / 2) * d[i] for i in range(2))``; PyTorch's
# ``_pair`` reads any iterable into a tuple, as it does in F.unfold / F.fold (MobileViTv2's patches).


def _gen(*v):
    return (i for i in v)


_LAYERS = {
    "conv2d_generators": lambda nn: nn.Conv2d(
        4, 6, _gen(3, 3), stride=_gen(2, 1), padding=_gen(1, 2), dilation=_gen(1, 2)
    ),
    "conv2d_range_numpy": lambda nn: nn.Conv2d(4, 6, 3, stride=range(1, 3), padding=np.array([1, 0])),
    "conv1d_generator": lambda nn: nn.Conv1d(4, 6, _gen(3), padding=_gen(2), dilation=_gen(2)),
    "conv_transpose2d_generators": lambda nn: nn.ConvTranspose2d(
        4, 6, _gen(3, 2), stride=_gen(2, 2), padding=_gen(1, 0), output_padding=_gen(1, 0)
    ),
    "conv3d_generators": lambda nn: nn.Conv3d(4, 2, _gen(3, 1, 3), padding=_gen(1, 0, 1)),
}
_INPUTS = {"conv1d_generator": (2, 4, 9), "conv3d_generators": (1, 4, 3, 4, 5)}


@pytest.mark.parametrize("name", list(_LAYERS))
def test_conv_layers_read_iterable_window_arguments_as_torch(torch, name):
    rng = np.random.default_rng(RNG_SEED)
    ref, mine = _LAYERS[name](torch.nn).double(), _LAYERS[name](gg.nn).double()
    for attr in ("kernel_size", "stride", "padding", "dilation", "output_padding"):
        assert tuple(int(v) for v in getattr(mine, attr)) == tuple(int(v) for v in getattr(ref, attr)), attr
    mine.load_state_dict({k: gg.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    x = rng.standard_normal(_INPUTS.get(name, (2, 4, 7, 8)))
    outs = []
    for lib, m in ((torch, ref), (gg, mine)):
        xt = _t(lib, x, grad=True)
        y = m(xt)
        (y * _t(lib, np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        outs.append((y, xt.grad, m.weight.grad, m.bias.grad))
    for a, b in zip(*outs):
        _close(a, b)


def _mobilevit_v2_patches(lib):
    """MobileViTv2's unfolding_pytorch / folding_pytorch with the window arguments as generators."""
    rng = np.random.default_rng(RNG_SEED + 1)
    fm = _t(lib, rng.standard_normal((2, 3, 6, 4)), grad=True)
    F = lib.nn.functional
    patches = F.unfold(fm, kernel_size=_gen(2, 2), stride=range(2, 4))  # (B, C * P, N)
    patches = patches.reshape(2, 3, 4, -1) * 2.0 + 1.0
    back = F.fold(
        patches.reshape(2, 12, -1), output_size=_gen(6, 4), kernel_size=_gen(2, 2), stride=_gen(2, 3)
    )
    (back * _t(lib, rng.standard_normal((2, 3, 6, 4)))).sum().backward()
    return patches, back, fm.grad


def test_unfold_fold_read_iterable_window_arguments_as_torch(torch):
    for a, b in zip(_mobilevit_v2_patches(torch), _mobilevit_v2_patches(gg)):
        _close(a, b)


def test_conv_layer_window_argument_of_wrong_length_from_a_generator_still_refused():
    with pytest.raises(ValueError, match="kernel_size"):
        gg.nn.Conv2d(2, 2, _gen(3, 3, 3))
    with pytest.raises(ValueError, match="stride"):
        gg.nn.functional.unfold(gg.ones(1, 2, 4, 4), 2, stride=_gen(1))
