"""``unsafe_split``, ``unsafe_split_with_sizes`` and ``unsafe_chunk``: PyTorch's values and node names;
their pieces may be changed in place, and here the gradient then stays right (PyTorch does not
track such a change)."""

import numpy as np
import pytest

import glassgrad as gg

CALLS = {
    "unsafe_split": lambda lib, y: lib.unsafe_split(y, 4, 1),
    "unsafe_split_with_sizes": lambda lib, y: lib.unsafe_split_with_sizes(y, [2, 5], 1),
    "unsafe_chunk": lambda lib, y: y.unsafe_chunk(3, dim=1),
    "method unsafe_split": lambda lib, y: y.unsafe_split(3),
}


@pytest.mark.parametrize("name", CALLS)
def test_values_gradients_and_node_names_match_pytorch(torch, name):
    data = np.random.default_rng(0).standard_normal((3, 7))
    got = []
    for lib in (gg, torch):
        x = lib.tensor(data, requires_grad=True)
        pieces = CALLS[name](lib, x * 1)
        sum(p.sum() * (i + 1) for i, p in enumerate(pieces)).backward()
        got.append(
            ([p.detach().numpy() for p in pieces], x.grad.numpy(), [type(p.grad_fn).__name__ for p in pieces])
        )
    (ours, g1, n1), (theirs, g2, n2) = got
    assert len(ours) == len(theirs) and n1 == n2
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(g1, g2)


def test_a_piece_changed_in_place_keeps_the_gradient_right():
    x = gg.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype=gg.float64, requires_grad=True)
    y = x * 1
    a, _ = gg.unsafe_split(y, 3)
    a.mul_(2)  # y is now [0, 2, 4, 3, 4, 5]
    (y * y).sum().backward()
    assert x.grad.tolist() == [0.0, 8.0, 16.0, 6.0, 8.0, 10.0]  # 2y, times 2 where a doubled it
