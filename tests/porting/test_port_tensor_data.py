"""Issue 7, item 4: ``Tensor.data`` as PyTorch has it (a detached tensor sharing memory), used the
way DCGAN-style init code, hand-written SGD and weight copying use it. Each script runs on
glassgrad and on PyTorch; the results must agree."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)


def script_data_in_place(torch):
    net = torch.nn.Linear(3, 2)
    net.weight.data.copy_(torch.tensor(W))  # copy_ through .data, as weight-porting code does
    net.bias.data.fill_(0.1)
    x = torch.tensor([[1.0, 2.0, 3.0]])
    loss = net(x).pow(2).sum()
    loss.backward()
    for p in net.parameters():  # the regression example's hand-written SGD
        p.data.add_(-0.1 * p.grad)
    shadow = torch.nn.Linear(3, 2)
    shadow.weight.data = net.weight.data.clone()  # rebinding .data keeps the Parameter
    shadow.bias.data = net.bias.data
    net.bias.data.mul_(2)  # shares memory with shadow.bias now
    detached = net.weight.data
    return [net.weight, net.bias, shadow.weight, shadow.bias, isinstance(shadow.weight, torch.nn.Parameter),
            detached.requires_grad, detached.grad_fn is None, net.weight.requires_grad, loss]  # fmt: skip


def test_data_in_place_port(torch):
    assert_same(script_data_in_place(glassgrad), script_data_in_place(torch))


def script_init_through_data(torch):
    torch.manual_seed(0)
    conv = torch.nn.Linear(100, 50)

    def weights_init(m):  # DCGAN's init, verbatim in shape
        if m.__class__.__name__.find("Linear") != -1:
            m.weight.data.normal_(0.0, 0.02)
            m.bias.data.fill_(0)

    conv.apply(weights_init)
    w = conv.weight.data
    return [round(float(w.mean()), 2), round(float(w.std()), 2), conv.bias, w.shape, w.dtype]


def test_init_through_data_port(torch):
    # the two libraries' random streams differ: compare the statistics, not the draws
    ours, theirs = script_init_through_data(glassgrad), script_init_through_data(torch)
    assert_same(ours, theirs, atol=6e-3)


def script_data_is_untracked(torch):
    p = torch.nn.Parameter(torch.ones(3))
    d = p.data
    d[0] = 5.0  # shares memory, but (unlike detach()) autograd does not see the change
    return [p, p._version, d._version, p.detach()._version]


def test_data_is_untracked_port(torch):
    assert_same(script_data_is_untracked(glassgrad), script_data_is_untracked(torch))
