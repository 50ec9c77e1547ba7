"""Round 59, a sweep of every ``nn`` module class's state and forward against PyTorch: state_dict
keys (in order), shapes, dtypes and persistence, the ``named_*`` names, the attributes programs
read, a PyTorch state dict loaded strictly, the float64 forward and backward in train and eval
mode, the buffers after a training step, and ``half``/``float``/``double``.

Found and pinned here: ``double()``/``half()``/``to(dtype)`` of a lazy layer with buffers
(``LazyBatchNorm*``, ``LazyInstanceNorm*`` with running stats) raised "uninitialized parameter in
may_share_memory" where PyTorch gives the placeholders the new dtype; ``TransformerEncoderLayer``
lacked PyTorch's ``activation_relu_or_gelu`` attribute.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import glassgrad as gg

# (constructor, input shapes: float inputs, or ("long", values) for index inputs)
CASES = [
    ("nn.Linear(3, 4)", [(2, 3)]),
    ("nn.Linear(3, 4, bias=False)", [(2, 5, 3)]),
    ("nn.Bilinear(3, 4, 5, bias=False)", [(2, 3), (2, 4)]),
    (
        "nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode='circular')",
        [(2, 2, 9)],
    ),
    ("nn.Conv2d(3, 6, 3, padding='same', padding_mode='reflect')", [(1, 3, 6, 6)]),
    ("nn.Conv3d(2, 4, 3, padding=1, padding_mode='replicate', groups=2)", [(1, 2, 3, 4, 4)]),
    ("nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2)", [(1, 4, 3, 3)]),
    ("nn.BatchNorm1d(7, momentum=None)", [(4, 7, 3)]),
    ("nn.BatchNorm2d(4, affine=False)", [(3, 4, 2, 2)]),
    ("nn.BatchNorm2d(4, track_running_stats=False)", [(3, 4, 2, 2)]),
    ("nn.InstanceNorm1d(4, affine=True, track_running_stats=True)", [(2, 4, 5)]),
    ("nn.GroupNorm(2, 4, affine=False)", [(2, 4, 3)]),
    ("nn.LayerNorm((3, 4), elementwise_affine=False)", [(2, 3, 4)]),
    ("nn.LayerNorm(4, bias=False)", [(2, 4)]),
    ("nn.RMSNorm(4)", [(2, 4)]),
    ("nn.PReLU(3, init=0.1)", [(2, 3, 4)]),
    ("nn.Embedding(10, 3, padding_idx=-1)", [("long", [[1, 9], [3, 9]])]),
    (
        "nn.EmbeddingBag(10, 3, mode='max', include_last_offset=True)",
        [("long", [1, 2, 3, 9, 4]), ("long", [0, 2, 5])],
    ),
    ("nn.RNN(3, 4, nonlinearity='relu', num_layers=2, bias=False)", [(5, 2, 3)]),
    ("nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)", [(2, 5, 3)]),
    ("nn.LSTM(3, 4, num_layers=2, proj_size=2, bidirectional=True)", [(5, 2, 3)]),
    ("nn.LSTMCell(3, 4, bias=False)", [(2, 3)]),
    (
        "nn.MultiheadAttention(8, 2, bias=False, add_bias_kv=True, kdim=4, vdim=6, batch_first=True)",
        [(2, 3, 8), (2, 4, 4), (2, 4, 6)],
    ),
    (
        "nn.TransformerEncoderLayer(8, 2, 16, 0.0, activation='gelu', norm_first=True, batch_first=True)",
        [(2, 3, 8)],
    ),
    ("nn.TransformerDecoderLayer(8, 2, 16, 0.0, bias=False)", [(3, 2, 8), (4, 2, 8)]),
    (
        "nn.AdaptiveLogSoftmaxWithLoss(16, 10, [4, 8], div_value=2.0, head_bias=True)",
        [(5, 16), ("long", [0, 3, 5, 9, 7])],
    ),
    (
        "nn.Sequential(OrderedDict([('fc', nn.Linear(2, 3)), ('bn', nn.BatchNorm1d(3)), ('act', nn.Tanh())]))",
        [(4, 2)],
    ),
]


def _build(lib, line):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(line, {"nn": lib.nn, "OrderedDict": OrderedDict})


def _np(t):
    return t.detach().numpy()


def _meta(module):
    """What the contract compares without values: state_dict entries, persistence, names, flags."""
    sd = module.state_dict()
    names = {
        n: [k for k, _ in getattr(module, n)()]
        for n in ("named_parameters", "named_buffers", "named_modules")
    }
    return {
        "state_dict": [(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in sd.items()],
        "non_persistent": [n for n in names["named_buffers"] if n not in sd],
        "requires_grad": [(n, p.requires_grad) for n, p in module.named_parameters()],
        "children": [n for n, _ in module.named_children()],
        **names,
    }


def _attributes(module):
    """The public plain attributes of every submodule (in_features, kernel_size, padding, ...)."""
    out = {}
    for name, sub in module.named_modules():
        for k, v in vars(sub).items():
            if not k.startswith("_") and isinstance(v, (bool, int, float, str, tuple, type(None))):
                out[f"{name}.{k}"] = v
    return out


@pytest.mark.parametrize(
    "line,shapes", CASES, ids=[c[0].split("(")[0][3:] + str(i) for i, c in enumerate(CASES)]
)
def test_state_load_and_forward_match_pytorch(torch, line, shapes):
    tm, gm = _build(torch, line).double(), _build(gg, line).double()
    assert _meta(gm) == _meta(tm)
    attrs = _attributes(tm)
    assert {
        k: getattr(dict(gm.named_modules())[k.rsplit(".", 1)[0]], k.rsplit(".", 1)[1]) for k in attrs
    } == attrs
    gm.load_state_dict({k: gg.tensor(_np(v)) for k, v in tm.state_dict().items()}, strict=True)
    rng = np.random.default_rng(0)
    arrays = [np.asarray(s[1]) if s[0] == "long" else rng.standard_normal(s) for s in shapes]
    for mode in ("train", "eval"):
        getattr(tm, mode)(), getattr(gm, mode)()
        ins = [
            [lib.tensor(a) if a.dtype.kind == "i" else lib.tensor(a, requires_grad=True) for a in arrays]
            for lib in (torch, gg)
        ]
        outs = [tm(*ins[0]), gm(*ins[1])]
        outs = [
            [o for o in (out if isinstance(out, tuple) else (out,)) if hasattr(o, "shape")] for out in outs
        ]
        outs = [[o[0] if isinstance(o, tuple) else o for o in out] for out in outs]
        weights = [rng.standard_normal(tuple(o.shape)) for o in outs[0]]
        for t, g in zip(*outs):
            np.testing.assert_allclose(_np(g), _np(t), rtol=1e-10, atol=1e-12)
        for lib, out in zip((torch, gg), outs):
            sum((o * lib.tensor(w)).sum() for o, w in zip(out, weights) if o.requires_grad).backward()
        for t, g in zip(*ins):
            if t.requires_grad:
                np.testing.assert_allclose(_np(g.grad), _np(t.grad), rtol=1e-10, atol=1e-12)
        grads = dict(gm.named_parameters())
        for n, p in tm.named_parameters():
            np.testing.assert_allclose(_np(grads[n].grad), _np(p.grad), rtol=1e-10, atol=1e-12, err_msg=n)
        tm.zero_grad(), gm.zero_grad()
        gsd = gm.state_dict()  # running stats and num_batches_tracked after the step
        for k, v in tm.state_dict().items():
            assert gsd[k].dtype == getattr(gg, str(v.dtype).split(".")[-1]), k
            np.testing.assert_allclose(_np(gsd[k]), _np(v), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("conversion", ["half", "float", "double"])
@pytest.mark.parametrize("line", [c[0] for c in CASES[7:12]] + [CASES[-1][0]])
def test_conversions_keep_integer_buffers(torch, line, conversion):
    tm, gm = getattr(_build(torch, line), conversion)(), getattr(_build(gg, line), conversion)()
    assert _meta(gm)["state_dict"] == _meta(tm)["state_dict"]


LAZY = [
    ("nn.LazyBatchNorm1d()", (4, 3)),
    ("nn.LazyBatchNorm2d(affine=False)", (3, 4, 2, 2)),
    ("nn.LazyBatchNorm3d(momentum=None)", (2, 2, 2, 2, 2)),
    ("nn.LazyInstanceNorm1d(affine=True, track_running_stats=True)", (2, 3, 4)),
    ("nn.LazyInstanceNorm2d(track_running_stats=True)", (2, 3, 4, 4)),
    ("nn.LazyLinear(5)", (2, 3)),
]
CONVERSIONS = {
    "double": lambda lib, m: m.double(),
    "half": lambda lib, m: m.half(),
    "to_float64": lambda lib, m: m.to(lib.float64),
    "to_dtype_kw": lambda lib, m: m.to(dtype=lib.float16),
}


@pytest.mark.parametrize("conversion", list(CONVERSIONS))
@pytest.mark.parametrize(
    "line,shape", LAZY, ids=[c[0].split("(")[0][3:] + str(i) for i, c in enumerate(LAZY)]
)
def test_lazy_placeholders_take_the_new_dtype(torch, line, shape, conversion):
    """PyTorch's conversion gives each placeholder buffer the new dtype (a new placeholder); the
    first forward then materializes every parameter and buffer in it."""
    convert = CONVERSIONS[conversion]
    tm, gm = convert(torch, _build(torch, line)), convert(gg, _build(gg, line))

    def placeholders(m):
        return [
            (k, type(v).__name__, str(v.dtype).split(".")[-1])
            for k, v in m.state_dict(keep_vars=True).items()
        ]

    assert placeholders(gm) == placeholders(tm)
    if conversion in ("half", "to_dtype_kw"):
        return  # (PyTorch's CPU float16 kernels are not the subject here)
    x = np.random.default_rng(1).standard_normal(shape)
    tm(torch.tensor(x)), gm(gg.tensor(x))
    assert _meta(gm) == _meta(tm)
    assert type(gm).__name__ == type(tm).__name__
    gm.load_state_dict({k: gg.tensor(_np(v)) for k, v in tm.state_dict().items()})
    tm.eval(), gm.eval()
    np.testing.assert_allclose(_np(gm(gg.tensor(x))), _np(tm(torch.tensor(x))), rtol=1e-10, atol=1e-12)


def test_lazy_placeholder_conversion_keeps_requires_grad_and_int_buffers(torch):
    for lib in (torch, gg):
        m = lib.nn.LazyBatchNorm1d().double()
        assert m.num_batches_tracked.dtype == lib.int64
        assert not m.running_mean.requires_grad
        assert isinstance(m.running_var, lib.nn.UninitializedBuffer)
        assert m.weight.requires_grad and isinstance(m.weight, lib.nn.UninitializedParameter)


@pytest.mark.parametrize(
    "activation",
    ["relu", "gelu", "f_relu", "f_gelu", "ReLU", "GELU", "tanh_callable"],
)
def test_encoder_layer_activation_relu_or_gelu(torch, activation):
    def pick(lib):
        return {
            "relu": "relu",
            "gelu": "gelu",
            "f_relu": lib.nn.functional.relu,
            "f_gelu": lib.nn.functional.gelu,
            "ReLU": lib.nn.ReLU(),
            "GELU": lib.nn.GELU(),
            "tanh_callable": lib.tanh,
        }[activation]

    t = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=pick(torch))
    g = gg.nn.TransformerEncoderLayer(8, 2, 16, activation=pick(gg))
    assert g.activation_relu_or_gelu == t.activation_relu_or_gelu
    # PyTorch's decoder layer has no such attribute
    d = [lib.nn.TransformerDecoderLayer(8, 2, 16, activation=pick(lib)) for lib in (torch, gg)]
    assert [hasattr(x, "activation_relu_or_gelu") for x in d] == [False, False]
