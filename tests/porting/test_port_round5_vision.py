"""What the fifth round of ported vision tutorials needed (docs/porting.md, "Real scripts ported"):
``import torch.backends.cudnn as cudnn`` (dcgan), ``x.is_cuda or x.is_xpu`` (dcgan/main.py),
``torch.nn.utils.prune`` (pruning tutorial); and, from the same weights, one DCGAN training step
and the FGSM attack give PyTorch's numbers. Each script runs on glassgrad and on PyTorch, written
the way the tutorials write it."""

from __future__ import annotations

import importlib

import numpy as np

import glassgrad

from .helpers import assert_same


def script_backends(torch):
    cudnn = importlib.import_module(
        torch.__name__ + ".backends.cudnn"
    )  # import torch.backends.cudnn as cudnn
    before = cudnn.benchmark
    cudnn.benchmark = True
    try:
        return [cudnn is torch.backends.cudnn, torch.backends.cudnn.benchmark, cudnn.deterministic]
    finally:
        cudnn.benchmark = before


def test_backends_cudnn_imports_as_module(torch):
    assert_same(script_backends(glassgrad), script_backends(torch))


def script_device_flags(torch):
    x = torch.ones(2)
    flags = ("is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_quantized", "is_nested", "is_mkldnn")
    return [getattr(x, f) for f in flags] + [bool(x.is_cuda or x.is_xpu)]


def test_device_flags_port(torch):
    assert_same(script_device_flags(glassgrad), script_device_flags(torch))


def script_pruning(torch, weights):
    prune = importlib.import_module(
        torch.__name__ + ".nn.utils.prune"
    )  # import torch.nn.utils.prune as prune
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 3)
    )
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    module = model[0]
    prune.l1_unstructured(module, name="bias", amount=1)
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    prune.l1_unstructured(module, name="weight", amount=3)
    hook = next(h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight")
    history = [type(h).__name__ for h in hook]
    prune.global_unstructured(
        ((model[3], "weight"), (model[0], "weight")), pruning_method=prune.L1Unstructured, amount=0.25
    )
    keys = list(model.state_dict())
    out = model(torch.tensor(np.linspace(-1, 1, 72, dtype=np.float32).reshape(2, 1, 6, 6)))
    prune.remove(module, "weight")
    return [history, keys, out, module.weight, prune.is_pruned(model), list(model.state_dict())]


def test_pruning_tutorial_port(torch):
    src = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 3)
    )
    weights = {k: v.detach().numpy().copy() for k, v in src.state_dict().items()}
    assert_same(script_pruning(glassgrad, weights), script_pruning(torch, weights))


def _dcgan(torch, nz=8, ngf=4, ndf=4, nc=3):
    nn = torch.nn
    g = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    d = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
    )  # fmt: skip
    return g, d


def script_dcgan_step(torch, g_w, d_w, real, noise):
    """Two training iterations of the DCGAN tutorial's loop (D on real and fake, then G)."""
    netG, netD = _dcgan(torch)
    netG.load_state_dict({k: torch.tensor(v) for k, v in g_w.items()})
    netD.load_state_dict({k: torch.tensor(v) for k, v in d_w.items()})
    criterion = torch.nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
    stats = []
    for it in range(2):
        real_cpu = torch.tensor(real[it])
        netD.zero_grad()
        label = torch.full((real_cpu.size(0),), 1.0, dtype=real_cpu.dtype)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        fake = netG(torch.tensor(noise[it]))
        label.fill_(0.0)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optG.step()
        stats.append([errD.item(), errG.item(), output.mean().item()])
    return [stats, netG.state_dict(), netD.state_dict()]


def test_dcgan_training_step_port(torch):
    g, d = _dcgan(torch)
    g_w = {k: v.detach().numpy().copy() for k, v in g.state_dict().items()}
    d_w = {k: v.detach().numpy().copy() for k, v in d.state_dict().items()}
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (2, 6, 3, 16, 16)).astype(np.float32)
    noise = rng.standard_normal((2, 6, 8, 1, 1)).astype(np.float32)
    ours = script_dcgan_step(glassgrad, g_w, d_w, real, noise)
    theirs = script_dcgan_step(torch, g_w, d_w, real, noise)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


def script_fgsm(torch, weights, images, labels):
    """The FGSM tutorial's attack, one image at a time, with its LeNet in eval mode."""
    F, nn = torch.nn.functional, torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(1, 10, kernel_size=5), nn.Conv2d(10, 20, kernel_size=5)
            self.conv2_drop, self.fc1, self.fc2 = nn.Dropout2d(), nn.Linear(320, 50), nn.Linear(50, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = F.dropout(F.relu(self.fc1(x.view(-1, 320))), training=self.training)
            return F.log_softmax(self.fc2(x), dim=1)

    model = Net()
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    model.eval()
    out = []
    for img, lab in zip(images, labels):
        data, target = torch.tensor(img[None]), torch.tensor([lab])
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        perturbed = torch.clamp(data + 0.2 * data.grad.data.sign(), 0, 1)
        final_pred = model(perturbed).max(1, keepdim=True)[1]
        out.append([init_pred.item(), final_pred.item(), loss.item(), data.grad])
    return out


def test_fgsm_attack_port(torch):
    shapes = {
        "conv1.weight": (10, 1, 5, 5), "conv1.bias": (10,), "conv2.weight": (20, 10, 5, 5), "conv2.bias": (20,),
        "fc1.weight": (50, 320), "fc1.bias": (50,), "fc2.weight": (10, 50), "fc2.bias": (10,),
    }  # fmt: skip
    rng = np.random.default_rng(1)
    weights = {k: (rng.standard_normal(s) * 0.2).astype(np.float32) for k, s in shapes.items()}
    images = rng.uniform(0, 1, (6, 1, 28, 28)).astype(np.float32)
    labels = [int(v) for v in rng.integers(0, 10, 6)]
    assert_same(script_fgsm(glassgrad, weights, images, labels), script_fgsm(torch, weights, images, labels))
