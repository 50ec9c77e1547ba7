"""``torch.cuda.FloatTensor`` and friends without a GPU (PyTorch-GAN's cluster_gan picks
``Tensor = torch.cuda.FloatTensor`` inside a function): the names exist, nothing is an instance,
making one is PyTorch's ``TypeError``, and ``x.type(<a CUDA type>)`` is its ``RuntimeError``
rather than a quiet CPU tensor."""

from __future__ import annotations

import pytest

import glassgrad

NAMES = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
         "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"]  # fmt: skip


def _kind(fn):
    try:
        fn()
    except Exception as e:  # the kind of failure is what is compared
        return type(e).__name__
    return None


def script(torch):
    x = torch.ones(2)
    c = torch.cuda
    return [
        [n for n in NAMES if hasattr(c, n)],
        isinstance(x, c.FloatTensor),
        isinstance(x.long(), c.LongTensor),
        isinstance(x, torch.FloatTensor),
        _kind(lambda: c.FloatTensor(2, 3)),
        _kind(lambda: c.FloatTensor([1.0])),
        _kind(lambda: c.LongTensor()),
        _kind(lambda: x.type(c.FloatTensor)),
        _kind(lambda: x.type("torch.cuda.DoubleTensor")),
        str(x.type("torch.LongTensor").dtype).split(".")[-1],
        str(x.type(torch.DoubleTensor).dtype).split(".")[-1],
    ]


def test_cuda_tensor_types_port(torch):
    assert script(glassgrad) == script(torch)


def test_cuda_tensor_type_message_names_the_type():
    with pytest.raises(TypeError, match=r"cuda\.HalfTensor: there is no CUDA here.*CPU only"):
        glassgrad.cuda.HalfTensor(3)
    with pytest.raises(RuntimeError, match=r"torch\.cuda\.FloatTensor is a CUDA tensor type"):
        glassgrad.ones(2).type(glassgrad.cuda.FloatTensor)
