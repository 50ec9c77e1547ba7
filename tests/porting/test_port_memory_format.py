"""The memory-format tutorial (tutorials ``intermediate_source/memory_format_tutorial.py``, its CPU
parts) written as scripts write it, run on glassgrad and on PyTorch: the conversions and their
strides, the ``N1HW`` ambiguity, channels-last factories, ``clone``/``*_like``/pointwise
propagation, a channels-last model, and the tutorial's checker that wraps every callable of
``torch``, ``torch.Tensor`` and ``torch.nn.functional`` to catch an op that loses channels-last."""

from __future__ import annotations

import numpy as np

import glassgrad

from .helpers import assert_same


def script_memory_format_api(torch):
    N, C, H, W = 10, 3, 32, 32
    out = []
    x = torch.empty(N, C, H, W)
    out.append(x.stride())
    x = x.to(memory_format=torch.channels_last)
    out += [tuple(x.shape), x.stride()]
    x = x.to(memory_format=torch.contiguous_format)
    out.append(x.stride())
    x = x.contiguous(memory_format=torch.channels_last)
    out += [x.stride(), x.is_contiguous(memory_format=torch.channels_last)]
    special_x = torch.empty(4, 1, 4, 4)
    out += [
        special_x.is_contiguous(memory_format=torch.channels_last),
        special_x.is_contiguous(memory_format=torch.contiguous_format),
        special_x.to(memory_format=torch.channels_last).stride(),
        special_x.contiguous(memory_format=torch.channels_last).stride(),
    ]
    x = torch.empty(N, C, H, W, memory_format=torch.channels_last)
    y = x.clone()
    out += [x.stride(), y.stride(), torch.empty_like(x).stride(), (x + torch.empty_like(x)).stride()]
    out.append(torch.cuda.is_available())  # the tutorial's .cuda() branch is skipped in both
    return out


def _model(torch, state):
    nn = torch.nn
    m = nn.Sequential(
        nn.Conv2d(8, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2),
    )  # fmt: skip
    m.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return m


def script_channels_last_model(torch, state):
    model = _model(torch, state).to(memory_format=torch.channels_last)
    source = np.arange(2 * 8 * 4 * 4, dtype=np.float32).reshape(2, 8, 4, 4) % 9 + 1
    input = torch.tensor(source, requires_grad=True)
    input_cl = input.to(memory_format=torch.channels_last)
    conv_out = model[0](input_cl)
    output = model(input_cl)
    output.sum().backward()
    return [
        conv_out.is_contiguous(memory_format=torch.channels_last),
        conv_out.stride(),
        model[0].weight.stride(),
        model[0].weight.grad.stride(),
        output,
        input.grad,
        model[0].weight.grad,
    ]


def script_checker(torch):
    """The tutorial's checker, verbatim in spirit: wrap, run a channels-last network, restore."""
    failures = []

    def contains_cl(args):
        for t in args:
            if isinstance(t, torch.Tensor):
                if t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous():
                    return True
            elif isinstance(t, (list, tuple)) and contains_cl(list(t)):
                return True
        return False

    def check_wrapper(fn):
        name = fn.__name__

        def check_cl(*args, **kwargs):
            was_cl = contains_cl(args)
            result = fn(*args, **kwargs)
            if was_cl and isinstance(result, torch.Tensor) and result.dim() == 4:
                if not result.is_contiguous(memory_format=torch.channels_last):
                    failures.append(name)
            return result

        return check_cl

    old_attrs = {}

    def attribute(m):
        old_attrs[m] = {}
        for i in dir(m):
            e = getattr(m, i)
            exclude = ["is_cuda", "has_names", "numel", "stride", "Tensor", "is_contiguous", "__class__"]
            if i not in exclude and not i.startswith("_") and "__call__" in dir(e):
                try:
                    old_attrs[m][i] = e
                    setattr(m, i, check_wrapper(e))
                except Exception:
                    continue

    attribute(torch.Tensor)
    attribute(torch.nn.functional)
    attribute(torch)
    try:
        F = torch.nn.functional
        x = torch.ones(2, 3, 8, 8).to(memory_format=torch.channels_last)
        w = torch.ones(4, 3, 3, 3) / 27
        y = F.relu(F.conv2d(x, w, padding=1))
        y = F.max_pool2d(F.pad(y, (1, 1, 1, 1)), 2)
        y = F.avg_pool2d(y, 1) + F.adaptive_avg_pool2d(y, (5, 5)) * 2
        y = F.interpolate(y, scale_factor=2)
        y = F.batch_norm(y, None, None, training=True)
        strides = y.stride()
    finally:
        for m, attrs in old_attrs.items():
            for k, v in attrs.items():
                setattr(m, k, v)
    restored = torch.Tensor.add is old_attrs[torch.Tensor]["add"] and torch.cat is old_attrs[torch]["cat"]
    return [failures, strides, restored, y]


def test_memory_format_api_port(torch):
    assert_same(script_memory_format_api(glassgrad), script_memory_format_api(torch))


def test_channels_last_model_port(torch):
    glassgrad.manual_seed(0)
    nn = glassgrad.nn
    ref = nn.Sequential(
        nn.Conv2d(8, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2),
    )  # fmt: skip
    state = {k: v.numpy().copy() for k, v in ref.state_dict().items()}
    ours = script_channels_last_model(glassgrad, state)
    theirs = script_channels_last_model(torch, state)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-4)


def test_channels_last_checker_port(torch):
    ours, theirs = script_checker(glassgrad), script_checker(torch)
    assert ours[0] == [] and theirs[0] == []  # no op lost channels-last in either
    assert_same(ours, theirs)
