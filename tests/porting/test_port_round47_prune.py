"""Round 47 (pruning and model-inspection tools): what Torch-Pruning, torchinfo, thop and ptflops
read of PyTorch beyond the forward pass.

- ``grad_fn._saved_<argument>`` of the shape ops: Torch-Pruning's dependency graph reads a split's
  ``_saved_dim``/``_saved_split_sizes`` and a slice's ``_saved_start``/``_end``/``_step`` to map
  channels; without them a ``torch.split`` of a feature map was pruned into mismatched halves.
- ``sys.getsizeof`` of a storage counts its bytes: torchinfo's "Input size" row.
- ``torch.device`` parses as PyTorch's: ``RuntimeError`` for a bad name, with PyTorch's message.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import glassgrad as gg

_X = np.arange(2 * 6 * 3 * 4, dtype=np.float64).reshape(2, 6, 3, 4)
_Y = np.arange(2 * 5 * 6, dtype=np.float64).reshape(2, 5, 6)

# name -> the call, on (x of shape (2, 6, 3, 4), y of shape (2, 5, 6)), giving the node's output
CALLS = {
    "split sections": lambda lib, x, y: lib.split(x, (2, 4), 1)[0],
    "split sections, negative dim": lambda lib, x, y: lib.split(x, (1, 3), -1)[1],
    "split size": lambda lib, x, y: lib.split(x, 3, 1)[1],
    "split size, uneven": lambda lib, x, y: lib.split(x, 4, 1)[1],
    "Tensor.split of a list": lambda lib, x, y: x.split([1, 5], dim=1)[1],
    "chunk": lambda lib, x, y: x.chunk(2, 1)[0],
    "chunk, uneven": lambda lib, x, y: x.chunk(4, 1)[0],
    "chunk, negative dim": lambda lib, x, y: x.chunk(2, -1)[1],
    "unsafe_split": lambda lib, x, y: lib.unsafe_split(x, 3, 1)[0],
    "unsafe_chunk": lambda lib, x, y: lib.unsafe_chunk(x, 2, -3)[1],
    "split of a view": lambda lib, x, y: x.view(2, 6, 12).split(3, 1)[0],
    "cat": lambda lib, x, y: lib.cat([x, x], 1),
    "cat, negative dim": lambda lib, x, y: lib.cat([x, x], -1),
    "cat, negative channel dim": lambda lib, x, y: lib.cat([x, x], -3),
    "unbind": lambda lib, x, y: y.unbind(1)[0],
    "unbind, negative dim": lambda lib, x, y: y.unbind(-1)[2],
    "slice with step": lambda lib, x, y: x[:, 1:5:2],
    "slice, negative start": lambda lib, x, y: x[:, -3:],
    "slice, no start": lambda lib, x, y: x[:, :4],
    "slice past the end": lambda lib, x, y: x[:, 2:100],
    "slice of dim 0": lambda lib, x, y: x[1:],
    "slice after an ellipsis": lambda lib, x, y: x[..., 1:3],
    "slice of two dims (the outer node)": lambda lib, x, y: x[:, 1:3, 1:],
    "slice after a select": lambda lib, x, y: x[0, 1:3],
    "slice after a new dim": lambda lib, x, y: x[:, None, 1:3],
    "slice after an ellipsis and a new dim": lambda lib, x, y: x[..., None, 1:2],
    "slice of a select": lambda lib, x, y: x[0][1:],
    "slice with step only": lambda lib, x, y: x[:, :, :, ::2],
    "narrow": lambda lib, x, y: x.narrow(1, 2, 3),
    "tensor_split piece": lambda lib, x, y: x.tensor_split(3, 1)[1],
    "view": lambda lib, x, y: x.view(2, 6, 12),
    "view with -1": lambda lib, x, y: x.view(-1, 12),
    "reshape of a contiguous tensor": lambda lib, x, y: x.reshape(2, -1),
    "reshape of a transpose": lambda lib, x, y: x.transpose(1, 2).reshape(2, -1),
    "flatten": lambda lib, x, y: x.flatten(1),
    "expand": lambda lib, x, y: y[:, :1].expand(2, 4, 6),
    "expand with -1": lambda lib, x, y: y[:, :1].expand(-1, 4, -1),
    "expand of a new dim": lambda lib, x, y: y[:, None].expand(2, 3, 5, 6),
}

ATTRS = (
    "_saved_dim",
    "_saved_split_size",
    "_saved_split_sizes",
    "_saved_self_sym_sizes",
    "_saved_start",
    "_saved_end",
    "_saved_step",
    "_saved_self_sizes",  # PyTorch 2.13 has none: hasattr must say so, as tools test it
)


def _saved(lib, name):
    x = lib.tensor(_X, requires_grad=True)
    y = lib.tensor(_Y, requires_grad=True)
    node = CALLS[name](lib, x, y).grad_fn
    out = {"name": node.name()}
    for a in ATTRS:
        if hasattr(node, a):
            v = getattr(node, a)
            out[a] = tuple(int(e) for e in v) if isinstance(v, tuple | list) else int(v)
    return out


@pytest.mark.parametrize("name", list(CALLS))
def test_grad_fn_saved_arguments_are_pytorchs(torch, name):
    assert _saved(gg, name) == _saved(torch, name)


def test_saved_arguments_are_ints_and_tuples_of_ints():
    x = gg.randn(2, 6, 3, 4, requires_grad=True)
    node = gg.split(x, (2, 4), 1)[0].grad_fn
    assert type(node._saved_dim) is int and node._saved_dim == 1
    assert node._saved_split_sizes == (2, 4) and type(node._saved_split_sizes) is tuple
    assert node._saved_self_sym_sizes == (2, 6, 3, 4)
    # a negative dim reads as PyTorch's unsigned 64-bit view of it
    assert gg.cat([x, x], -1).grad_fn._saved_dim == 2**64 - 1
    # an op that records none has none: hasattr is False, no other error
    assert not hasattr(gg.split(x, 3, 1)[0].grad_fn, "_saved_split_sizes")
    assert not hasattr((x + 1).grad_fn, "_saved_dim")


def test_saved_arguments_cost_the_engine_nothing():
    """The properties live on the per-name classes that shown nodes get, not on ``Node``."""
    from glassgrad.autograd.function import Node

    assert not hasattr(Node, "_saved_dim") and not hasattr(Node, "_saved_split_sizes")


def _split_net(lib):
    """Torch-Pruning's walk over a split: channels of the two pieces, read from the graph."""
    x = lib.tensor(_X, requires_grad=True)
    a, b = lib.split(x, (2, 4), 1)
    out = lib.cat([a * 2, b], 1)
    found = []
    stack, seen = [out.grad_fn], set()
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        if "split" in n.name().lower():
            found.append((n.name(), n._saved_dim, tuple(n._saved_split_sizes)))
        if "cat" in n.name().lower():
            found.append((n.name(), n._saved_dim))
        stack.extend(f[0] for f in getattr(n, "next_functions", ()))
    return sorted(found, key=str)


def test_graph_walk_finds_the_split_sections(torch):
    assert _split_net(gg) == _split_net(torch)


# ------------------------------------------------------------------ storage sizes (torchinfo)
def _sizes(lib):
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TypedStorage's deprecation warning, in both libraries
        for n, dt in ((3, "float64"), (5, "float32"), (0, "float32"), (7, "int8"), (6, "int64")):
            t = lib.zeros(n, dtype=getattr(lib, dt))
            out.append(
                [
                    sys.getsizeof(t.untyped_storage()),
                    sys.getsizeof(t.storage()),
                    sys.getsizeof(t[1:].untyped_storage()),
                    sys.getsizeof(lib.UntypedStorage(n)),
                    t.untyped_storage().__sizeof__(),
                ]
            )
    big = lib.zeros(7, 1, 28, 28)
    out.append([sys.getsizeof(big.untyped_storage()), sys.getsizeof(big.t() if big.ndim < 3 else big[0])])
    return out[:-1] + [out[-1][:1]]


def test_getsizeof_of_a_storage_counts_its_bytes_as_pytorchs(torch):
    assert _sizes(gg) == _sizes(torch)


def test_storage_sizeof_grows_with_the_data():
    small, large = gg.zeros(2).untyped_storage(), gg.zeros(1002).untyped_storage()
    assert large.__sizeof__() - small.__sizeof__() == 4000


# ------------------------------------------------------------------ device names
BAD_DEVICES = [
    ("lol",),
    ("CPU",),
    ("gpu:0",),
    ("",),
    (" cpu",),
    ("cuda:x",),
    ("cpu:-1",),
    ("cuda:01",),
    ("cpu:0:1",),
    ("lol:x",),
    ("cuda:1", 0),
    ("cpu", -1),
    (-1,),
]


def _refusal(lib, args):
    try:
        lib.device(*args)
    except Exception as e:  # the class and message are what is compared
        return type(e).__name__, str(e)
    return None


@pytest.mark.parametrize("args", BAD_DEVICES, ids=repr)
def test_bad_device_is_refused_as_pytorch_refuses_it(torch, args):
    assert _refusal(gg, args) == _refusal(torch, args)


@pytest.mark.parametrize("args", [(True,), (3.5,), (None,)], ids=repr)
def test_device_of_another_type_is_a_type_error(torch, args):
    with pytest.raises(TypeError):
        torch.device(*args)
    with pytest.raises(TypeError, match="device: expected a device, a str"):
        gg.device(*args)


GOOD_DEVICES = [
    ("cpu",),
    ("cuda",),
    ("cuda:1",),
    ("cpu", 0),
    ("cuda", None),
    ("cuda", 2),
    ("meta",),
    ("mps:0",),
]


@pytest.mark.parametrize("args", GOOD_DEVICES, ids=repr)
def test_good_device_names_parse_as_pytorchs(torch, args):
    assert repr(gg.device(*args)) == repr(torch.device(*args))
    assert str(gg.device(*args)) == str(torch.device(*args))


def test_device_equality_with_a_bad_name_is_false(torch):
    for lib in (gg, torch):
        assert (lib.device("cpu") == "lol") is False
        assert (lib.device("cpu") == "cpu:-1") is False


# ------------------------------------------------------------------ eval-mode batch norm: one node
def _eval_bn(lib, shape, affine, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = lib.tensor(rng.standard_normal(shape), requires_grad=True)
    wb = (
        [lib.tensor(rng.standard_normal(c), requires_grad=True) for _ in range(2)] if affine else [None, None]
    )
    mean, var = lib.tensor(rng.standard_normal(c)), lib.tensor(rng.uniform(0.5, 2.0, c))
    y = lib.nn.functional.batch_norm(x, mean, var, *wb, training=False, eps=1e-3)
    node = y.grad_fn
    names = [
        None if f[0] is None else f[0].name().replace("torch::autograd::", "") for f in node.next_functions
    ]
    y.backward(lib.tensor(rng.standard_normal(shape)))
    grads = [x.grad.numpy()] + [t.grad.numpy() for t in wb if t is not None]
    return node.name(), names, y.detach().numpy(), grads


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 1, 4, 3), (1, 2, 2, 2, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_eval_batch_norm_is_one_node_as_pytorchs(torch, shape, affine):
    name, nexts, out, grads = _eval_bn(gg, shape, affine)
    t_name, t_nexts, t_out, t_grads = _eval_bn(torch, shape, affine)
    assert (name, nexts) == (t_name, t_nexts) == ("NativeBatchNormBackward0", t_nexts)
    np.testing.assert_allclose(out, t_out, rtol=1e-13, atol=1e-14)
    for a, b in zip(grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 4), (2, 2, 3, 1)])
def test_eval_batch_norm_gradcheck_and_gradgradcheck(shape):
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    mean, var = gg.tensor(rng.standard_normal(c)), gg.tensor(rng.uniform(0.5, 2.0, c))
    x = gg.tensor(rng.standard_normal(shape), requires_grad=True)
    w, b = (gg.tensor(rng.standard_normal(c), requires_grad=True) for _ in range(2))

    def f(x, w, b):
        return gg.nn.functional.batch_norm(x, mean, var, w, b, training=False) ** 2

    assert gg.autograd.gradcheck(f, (x, w, b))
    assert gg.autograd.gradgradcheck(f, (x, w, b))


def test_eval_batch_norm_statistics_get_no_gradient_and_a_changed_input_is_caught():
    x = gg.randn(2, 3, 4, requires_grad=True)
    mean = gg.zeros(3, requires_grad=True)
    # no gradient reaches the statistics: one that requires grad is refused, as PyTorch's
    # native_batch_norm refuses it (round 67; it got grad None silently before)
    with pytest.raises(RuntimeError, match="running_mean"):
        gg.nn.functional.batch_norm(x * 1, mean, gg.ones(3), gg.ones(3, requires_grad=True), training=False)
    y = gg.nn.functional.batch_norm(
        x * 1, mean.detach(), gg.ones(3), gg.ones(3, requires_grad=True), training=False
    )
    y.sum().backward()
    assert mean.grad is None and x.grad is not None
    h = x * 1
    y = gg.nn.functional.batch_norm(
        h, gg.zeros(3), gg.ones(3), gg.ones(3, requires_grad=True), training=False
    )
    h.add_(1)  # PyTorch saves the input: changing it before backward is an error there too
    with pytest.raises(RuntimeError, match="modified by an inplace operation|changed in place|version"):
        y.sum().backward()
