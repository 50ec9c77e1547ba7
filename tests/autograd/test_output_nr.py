"""``Tensor.output_nr``: which output of its node a tensor is, as PyTorch numbers the pieces of
split/chunk/unbind and the outputs of an ``autograd.Function``; 0 for a single output or a leaf.
(Ops that glassgrad records as one node per output, such as ``linalg.svd``, give 0 for each.)"""

from __future__ import annotations

import numpy as np

import glassgrad as gg


def _outputs(m):
    x = m.tensor(np.arange(24.0).reshape(4, 6) / 7, requires_grad=True)

    class Two(m.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    return {
        "split": x.split(2, 1),
        "unbind": x.unbind(0),
        "chunk": x.chunk(3, 0),
        "tensor_split": m.tensor_split(x, 3, 1),
        "max": tuple(x.max(1)),
        "function": Two.apply(x),
        "plain": (x * 2, x, x.detach()),
        "sort": tuple(x.sort(1)),
    }


def test_output_nr_matches_torch(torch):
    want, got = _outputs(torch), _outputs(gg)
    for name in want:
        assert [t.output_nr for t in got[name]] == [t.output_nr for t in want[name]], name
    assert [t.output_nr for t in got["split"]] == [0, 1, 2]  # not all zeros: the test can fail
