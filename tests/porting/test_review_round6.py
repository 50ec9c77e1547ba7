"""Review of porting round 6: the private bases under ``nn.modules`` give the same ``issubclass``
answers as PyTorch's (instance norm is no ``_BatchNorm``, a channel dropout is no ``Dropout``), and
``Tensor.to``/``Module.to`` take ``non_blocking``/``copy`` positionally, as PyTorch's signatures do."""

from __future__ import annotations

import importlib

import numpy as np

import glassgrad
import glassgrad.nn.modules as gg_modules


def _exported_classes(torch):
    """(name, glassgrad class, PyTorch class) for every class each ``nn.modules.<file>`` exports."""
    pairs = []
    for sub in gg_modules.__all__:
        ours = getattr(gg_modules, sub)
        if isinstance(ours, type):  # the namespace re-exports the classes too; walk its files
            continue
        theirs = importlib.import_module(f"torch.nn.modules.{sub}")
        for name in ours.__all__:
            cls = getattr(ours, name)
            if isinstance(cls, type):
                pairs.append((f"{sub}.{name}", cls, getattr(theirs, name)))
    return pairs


def test_modules_subclass_answers_match_pytorch(torch):
    pairs = _exported_classes(torch)
    differ = [
        (n1, n2) for n1, g1, t1 in pairs for n2, g2, t2 in pairs if issubclass(g1, g2) != issubclass(t1, t2)
    ]
    assert differ == []


def test_batchnorm_and_dropout_bases(torch):
    def kinds(lib):
        bn, dr = lib.nn.modules.batchnorm, lib.nn.modules.dropout
        return [
            isinstance(lib.nn.InstanceNorm2d(3), bn._BatchNorm),
            isinstance(lib.nn.InstanceNorm2d(3), bn._NormBase),
            isinstance(lib.nn.BatchNorm1d(3), bn._NormBase),
            isinstance(lib.nn.Dropout2d(), lib.nn.Dropout),
            isinstance(lib.nn.Dropout2d(), dr._DropoutNd),
            isinstance(lib.nn.Dropout(), dr._DropoutNd),
        ]

    assert kinds(glassgrad) == kinds(torch) == [False, True, True, False, True, True]


def test_instance_norm_still_loads_checkpoints_without_num_batches_tracked():
    norm = glassgrad.nn.InstanceNorm1d(2, track_running_stats=True)
    state = {k: v for k, v in norm.state_dict().items() if k != "num_batches_tracked"}
    norm.load_state_dict(state)  # no version metadata: an old checkpoint, as for batch norm
    assert norm.num_batches_tracked.item() == 0


def script_positional_flags(lib):
    x = lib.ones(2, 3)
    copied = x.to(lib.float32, False, True)  # to(dtype, non_blocking, copy)
    same = x.to(lib.float32, True, False)
    moved = x.to("cpu", lib.float64, True)  # to(device, dtype, non_blocking)
    like = x.to(lib.zeros(1, dtype=lib.float64), False, True)  # to(other, non_blocking, copy)
    layer = lib.nn.Linear(3, 2).to("cpu", lib.float64, True)  # Module.to(device, dtype, non_blocking)
    return [copied is x, same is x, str(moved.dtype), str(like.dtype), str(layer.weight.dtype)]


def test_to_takes_non_blocking_and_copy_positionally(torch):
    ours, theirs = script_positional_flags(glassgrad), script_positional_flags(torch)
    assert ours[:2] == theirs[:2] == [False, True]
    assert [s.split(".")[-1] for s in ours[2:]] == [s.split(".")[-1] for s in theirs[2:]] == ["float64"] * 3
    x = glassgrad.ones(2)
    y = x.to(glassgrad.float32, False, True)
    y.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])  # a copy, not a view of x
