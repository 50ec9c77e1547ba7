"""``grad_fn`` names as PyTorch's: a student comparing ``print(y)`` with a PyTorch tutorial sees
the same ``<SelectBackward0>``, ``<ViewBackward0>``, ``<SumBackward1>`` where glassgrad runs one
primitive for several calls (``autograd.function.named``, ``ops/node_names.py``)."""

from __future__ import annotations

import pytest

import glassgrad as gg

CALLS = [
    "x.sum()", "x.sum(0)", "x.sum((0, 1))", "x.mean()", "x.mean(1)", "x.prod()", "x.prod(0)",
    "x.max()", "x.max(0)[0]", "x.min()", "x.min(1)[0]", "x.amax(0)", "x.norm()", "x.norm(dim=0)",
    "x.logsumexp(0)", "x.cumsum(0)",
    "x.view(3, 2)", "x.reshape(6)", "x.t().reshape(6)", "x.flatten()", "x.t().flatten()",
    "x.unflatten(1, (3, 1))", "x.unsqueeze(0)", "x[:, None].squeeze()", "x[:, None].squeeze(1)",
    "x[:, None].squeeze((1,))", "x.transpose(0, 1)", "x.swapaxes(0, 1)", "x.t()", "x.T", "x.permute(1, 0)",
    "x[0]", "x[-1]", "x[:, 1]", "x[0, 1]", "x[0:1]", "x[::2]", "x[:]", "x[:, :]", "x[...]", "x[1, :]",
    "x[..., 1]", "x[0, 1:2]", "x[None]", "x[..., None]", "x[1:, None]", "x[None, 0]", "x[[0, 1]]",
    "x[x > 0]", "x[0, [1]]", "x[lib.tensor(0)]", "x.narrow(1, 0, 2)", "x.index_select(0, lib.tensor([0]))",
    "x @ x.t()", "x[0] @ x[0]", "x @ x[0]", "x[0] @ x.t()", "x[None] @ x.t()", "lib.bmm(x[None], x.t()[None])",
    "x.mm(x.t())", "x.clamp(0, 1)", "x.clamp(min=0)", "x.clamp(x * 0)", "x ** 2", "2 ** x", "x ** x",
    "1 - x", "x - 1", "x.double()", "x.to(lib.float64)",
    "lib.nn.functional.layer_norm(x, (3,))",
    "lib.nn.functional.binary_cross_entropy_with_logits(x, x.detach())",
    "lib.nn.functional.batch_norm(x, None, None, training=True)", "x.cumprod(0)",
    "lib.nn.functional.conv2d(x[None, None], x[None, None, :, :2])",
    "lib.nn.functional.conv1d(x[None], x[None, :, :2])", "lib.nn.functional.conv1d(x, x[None, :, :2])",
    "lib.nn.functional.conv_transpose1d(x[None], x[:, None, :2])",
    "lib.nn.functional.unfold(x[None, None], 2)",
    "lib.nn.functional.nll_loss(x, lib.tensor([0, 2]))", "lib.nn.functional.nll_loss(x, lib.tensor([0, 2]), reduction=\"sum\")",
    "lib.nn.functional.nll_loss(x, lib.tensor([0, 2]), reduction=\"none\")", "lib.nn.functional.nll_loss(x[0], lib.tensor(1))", "lib.nn.functional.max_pool2d(x[None, None], 2)",
    "lib.nn.functional.avg_pool2d(x[None, None], 2)", "lib.nn.functional.adaptive_max_pool2d(x[None, None], 1)",
    "lib.nn.functional.max_pool3d(x[None, None, None], 1)", "lib.nn.functional.avg_pool3d(x[None, None, None], 1)",
    "lib.nn.MSELoss()(x, x.detach() / 2)", "lib.nn.functional.mse_loss(x, x.detach() / 2, reduction=\"sum\")",
    "lib.nn.functional.mse_loss(x, x.detach() / 2, reduction=\"none\")",
    "lib.nn.functional.mse_loss(x, x.detach() / 2, weight=x.detach().abs())",
    "lib.nn.SmoothL1Loss()(x, x.detach() / 2)", "lib.nn.functional.smooth_l1_loss(x, x.detach() / 2, beta=0.0)",
    "lib.nn.functional.smooth_l1_loss(x, x.detach() / 2, reduction=\"none\")",
    "lib.nn.HuberLoss()(x, x.detach() / 2)", "lib.nn.functional.huber_loss(x, x.detach() / 2, reduction=\"sum\")",
    "lib.nn.functional.huber_loss(x, x.detach() / 2, weight=x.detach().abs())",
    "lib.nn.functional.adaptive_avg_pool2d(x[None, None], 1)", "lib.nn.functional.adaptive_avg_pool2d(x[None], (1, 1))",
    "lib.nn.functional.adaptive_avg_pool2d(x[None, None], (1, 2))", "lib.nn.functional.adaptive_avg_pool1d(x[None], 1)",
    "lib.nn.functional.adaptive_avg_pool3d(x[None, None, None], 1)", "lib.nn.functional.adaptive_avg_pool3d(x[None, None, None], (1, 2, 2))",
    "lib.nn.functional.selu(x)", "lib.nn.functional.celu(x, 2.0)", "lib.nn.functional.mish(x)",
    "lib.nn.functional.prelu(x, lib.tensor([0.25]))", "lib.nn.functional.rrelu(x)", "lib.nn.functional.rrelu(x, training=True)",
    "lib.nn.functional.glu(x, 0)", "lib.nn.functional.hardsigmoid(x)", "lib.nn.functional.threshold(x, 0.5, 0.0)",
    "lib.nn.functional.hardshrink(x)", "lib.nn.functional.softshrink(x)",
    "lib.nn.functional.linear(x, x)", "lib.nn.functional.linear(x, x, x[0, :2])",
    "lib.nn.functional.linear(x[0], x, x[0, :2])", "lib.nn.functional.linear(x[0], x)",
    "lib.nn.functional.linear(x[None], x)", "lib.nn.functional.linear(x[None], x, x[0, :2])",
    "lib.nn.functional.cross_entropy(x, lib.tensor([0, 2]))", "lib.nn.functional.cross_entropy(x[None], lib.tensor([[0, 1, 1]]))",
    "lib.nn.utils.rnn.pack_padded_sequence(x[:, :, None], [2, 1], batch_first=True).data",
    "lib.linalg.det(x[:, :2])", "lib.det(x[:, :2])", "lib.slogdet(x[:, :2])[1]", "lib.linalg.slogdet(x[:, :2]).logabsdet",
]  # fmt: skip


@pytest.mark.parametrize("call", CALLS)
def test_node_name_as_pytorch(torch, call):
    names = []
    for lib in (gg, torch):
        x = lib.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, 6.0]], requires_grad=True)
        y = eval(call, {"x": x, "lib": lib})
        names.append(y.grad_fn.name())
        assert type(y.grad_fn).__name__ == names[-1] or lib is torch  # (torchviz reads the class name)
    assert names[0] == names[1]


def test_named_nodes_print_as_pytorch():
    x = gg.tensor([[1.0, 2.0]], requires_grad=True)
    assert repr(x.sum(1)) == "tensor([3.], grad_fn=<SumBackward1>)"
    assert repr(x[0]) == "tensor([1., 2.], grad_fn=<SelectBackward0>)"
    assert repr(x.view(2)) == "tensor([1., 2.], grad_fn=<ViewBackward0>)"


SETS = [
    "(0, 0)",
    "0",
    "(slice(None), 0)",
    "slice(None)",
    "(slice(None), slice(None))",
    "Ellipsis",
    "None",
    "lib.tensor([0, 1])",
    "x > 0",
]


@pytest.mark.parametrize("key", SETS)
def test_setitem_node_name_as_pytorch(torch, key):
    # ``n[0, 0] = m[0, 0] ** 2`` (pytorch-beginner's backward.py): PyTorch's node is its copy_'s
    # CopySlices (a basic key), index_put_'s IndexPutBackward0 (a tensor key), or CopyBackwards
    names = []
    for lib in (gg, torch):
        x = lib.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
        n = lib.zeros(2, 2)
        k = eval(key, {"x": x, "lib": lib})
        n[k] = x[k] * 2
        names.append(repr(n).split("grad_fn=")[1])
    assert names[0] == names[1]


def test_meta_nodes_are_named_as_pytorch(torch):
    names = []
    for lib in (gg, torch):
        x = lib.ones(2, 3, device="meta", requires_grad=True)
        names.append([t.grad_fn.name() for t in (x.reshape(6), x.view(3, 2), x[0], x @ x.t(), x[:, 1:])])
    assert names[0] == names[1]
