"""What the eighth round's scripts needed (docs/porting.md, "Real scripts ported"): the cgan
example's deprecated ``nn.init.xavier_uniform`` (no trailing underscore) and its batches of HWC
images made ``(C, H, W)`` by a transpose, which ``torch.stack`` / ``default_collate`` lay out
contiguously (NumPy keeps the transposed stride order, and ``img.view(n, -1)`` then failed); the
neural-style tutorial's ``torch.tensor(a_tensor)`` (PyTorch's copy-construct warning); the
char_level_rnn example's ``reduction='elementwise_mean'`` (deprecated, warned, still 'mean'). Each
is run on glassgrad and PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

_OLD_INIT = ["uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform"]
_OLD_INIT += ["kaiming_normal", "orthogonal", "sparse", "eye", "dirac"]


def script_deprecated_init(torch, name):
    nn = torch.nn
    shape = {"dirac": (4, 4, 3, 3), "eye": (4, 6)}.get(name, (4, 6))
    args = {"constant": (0.25,), "sparse": (0.5,)}.get(name, ())
    w = nn.Parameter(torch.empty(*shape))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(nn.init, name)(w, *args)
    messages = [(w.category.__name__, str(w.message)) for w in caught]
    return [messages, out is w, type(out).__name__, tuple(out.shape), getattr(nn.init, name).__name__]


@pytest.mark.parametrize("name", _OLD_INIT)
def test_deprecated_init_names_warn_and_fill(torch, name):
    ours = script_deprecated_init(glassgrad, name)
    assert ours == script_deprecated_init(torch, name)
    assert ours[0] == [
        ("FutureWarning", f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`.")
    ]


def test_cgan_init_weights_as_pytorch(torch):
    def script(torch):
        torch.manual_seed(0)
        nn = torch.nn
        net = nn.Sequential(nn.Linear(20, 8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(8, 1))

        def init_weights(m):
            if type(m) == nn.Linear:  # noqa: E721 (the script's test)
                torch.nn.init.xavier_uniform(m.weight)
                m.bias.data.fill_(0.01)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            net.apply(init_weights)
        bound = float(np.sqrt(6 / (20 + 8)))
        w = net[0].weight.detach()
        return [float(w.abs().max()) <= bound, net[2].bias, w.std().item() > 0.1]

    assert_same(script(glassgrad), script(torch))


def _hwc_images(n=4, h=5, w=6):
    rng = np.random.default_rng(0)
    return [rng.random((h, w, 3), dtype=np.float32) for _ in range(n)]


def script_stack_layout(torch):
    imgs = [torch.tensor(a.transpose(2, 0, 1)) for a in _hwc_images()]  # ToTensor's CHW over HWC
    cl = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
    mixed = torch.cat([cl, torch.zeros(2, 3, 4, 5)])
    t2 = torch.tensor(np.ones((4, 6), np.float32).T)
    batch = torch.stack(imgs)
    return [
        imgs[0].stride(),
        batch.stride(),
        batch.is_contiguous(),
        torch.stack(imgs, 1).stride(),
        torch.cat(imgs).stride(),
        torch.cat([i.unsqueeze(0) for i in imgs]).stride(),
        torch.stack([cl, cl]).stride(),
        torch.cat([cl, cl]).stride(),
        torch.cat([cl, cl], 1).stride(),
        mixed.stride(),
        torch.cat([t2, t2]).stride(),
        torch.stack([t2, t2]).stride(),
        batch.view(4, -1),
    ]


def test_stack_and_cat_lay_out_as_pytorch(torch):
    assert_same(script_stack_layout(glassgrad), script_stack_layout(torch))


def script_collated_hwc_images(torch, data_mod):
    class Images(data_mod.Dataset):
        def __init__(self):
            self.imgs = _hwc_images(6)

        def __len__(self):
            return len(self.imgs)

        def __getitem__(self, i):
            return torch.tensor(self.imgs[i].transpose(2, 0, 1)), i % 2

    loader = data_mod.DataLoader(Images(), batch_size=3)
    out = []
    for imgs, labels in loader:
        flat = imgs.view(imgs.size(0), -1)  # the cgan discriminator's first line
        out += [imgs.stride(), imgs.is_contiguous(), flat, labels]
    np_batch = data_mod.default_collate([a.transpose(2, 0, 1) for a in _hwc_images(2)])
    return out + [np_batch.stride(), np_batch.is_contiguous()]


def test_default_collate_lays_out_as_pytorch(torch):
    ours = script_collated_hwc_images(glassgrad, glassgrad.utils.data)
    assert_same(ours, script_collated_hwc_images(torch, torch.utils.data))


def test_stack_layout_keeps_gradients(torch):
    def script(torch):
        xs = [torch.tensor(a.transpose(2, 0, 1), requires_grad=True) for a in _hwc_images(3)]
        y = torch.stack(xs)
        (y.view(3, -1) * torch.arange(y[0].numel()).float()).sum().backward()
        return [y.is_contiguous(), xs[1].grad, xs[1].grad.shape]

    assert_same(script(glassgrad), script(torch))


def script_copy_construct(torch):
    # neural_style_tutorial's Normalization: torch.tensor(mean) of a tensor warns, and copies
    mean = torch.tensor([0.485, 0.456, 0.406])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = torch.tensor(mean).view(-1, 1, 1)
        torch.tensor([1.0, 2.0])
        torch.tensor(np.zeros(2))
    m.add_(1)
    texts = [(w.category.__name__, str(w.message).split(",")[0]) for w in caught]
    return [texts, mean, m.shape]


def test_tensor_of_a_tensor_warns_as_pytorch(torch):
    assert_same(script_copy_construct(glassgrad), script_copy_construct(torch))


def script_elementwise_mean(torch, name):
    # the char_level_rnn example's nn.NLLLoss(reduction='elementwise_mean'): deprecated, still 'mean'
    x = torch.tensor(np.linspace(0.1, 0.9, 12, dtype=np.float32).reshape(4, 3))
    labels = torch.tensor([0, 2, 1, 0])
    inputs = {
        "NLLLoss": (torch.log_softmax(x, 1), labels),
        "CrossEntropyLoss": (x, labels),
        "MSELoss": (x, x.flip(0)),
        "L1Loss": (x, x.flip(0)),
        "SmoothL1Loss": (x, x.flip(0) * 3),
        "HuberLoss": (x, x.flip(0) * 3),
        "BCELoss": (x, x.flip(0)),
        "BCEWithLogitsLoss": (x, x.flip(0)),
        "KLDivLoss": (torch.log_softmax(x, 1), torch.softmax(x.flip(0), 1)),
    }[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss_fn = getattr(torch.nn, name)(reduction="elementwise_mean")
        made = len(caught)
        value = loss_fn(*inputs)
    return [loss_fn.reduction, made, [(w.category.__name__, str(w.message)) for w in caught], value]


@pytest.mark.parametrize(
    "name",
    ["NLLLoss", "CrossEntropyLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss"]
    + ["BCEWithLogitsLoss", "KLDivLoss"],
)
def test_elementwise_mean_reduction_as_pytorch(torch, name):
    assert_same(script_elementwise_mean(glassgrad, name), script_elementwise_mean(torch, name))


def test_elementwise_mean_functional_and_unknown_reduction(torch):
    x = glassgrad.tensor([1.0, 2.0])
    with pytest.warns(UserWarning, match="elementwise_mean"):
        assert glassgrad.nn.functional.mse_loss(x, x * 2, reduction="elementwise_mean").item() == 2.5
    with pytest.raises(ValueError, match="mse_loss: expected reduction"):
        glassgrad.nn.functional.mse_loss(x, x, reduction="average")
