"""The top-level namespace: PyTorch's names where PyTorch has the thing."""

from __future__ import annotations

import pytest

import glassgrad as gg

# Names glassgrad exports that PyTorch has no top-level counterpart for.
OURS_ONLY = {"datasets", "data", "Tensor", "decode"}


def test_all_names_exist():
    missing = [n for n in gg.__all__ if not hasattr(gg, n)]
    assert not missing


def test_names_match_pytorch():
    torch = pytest.importorskip("torch")
    absent = [n for n in gg.__all__ if n not in OURS_ONLY and not hasattr(torch, n)]
    assert not absent, f"top-level names PyTorch does not have: {absent}"


def test_top_level_functions_compute_like_methods():
    x = gg.tensor([[1.0, 5.0], [3.0, 2.0]])
    assert gg.cat([x, x], dim=1).shape == (2, 4)
    assert gg.stack([x, x]).shape == (2, 2, 2)
    assert gg.tril(x).tolist() == [[1.0, 0.0], [3.0, 2.0]]
    assert gg.where(x > 2, x, gg.zeros_like(x)).tolist() == [[0.0, 5.0], [3.0, 0.0]]
    assert gg.topk(x, 1).values.tolist() == [[5.0], [3.0]]
    assert gg.einsum("ij,jk->ik", x, x).tolist() == (x @ x).tolist()


def test_pytorch_quickstart_idioms_port():
    device = "cuda" if gg.cuda.is_available() else "cpu"
    assert device == "cpu" and gg.cuda.device_count() == 0
    model = gg.nn.Linear(3, 3).to(gg.device(device))
    x, y = gg.randn(4, 3).to(device), gg.tensor([0, 1, 2, 0])
    with gg.inference_mode():
        pred = model(x)
    correct = (pred.argmax(1) == y).type(gg.float).sum().item()
    assert isinstance(correct, float) and 0 <= correct <= 4
    assert (gg.float, gg.double, gg.half, gg.int) == (gg.float32, gg.float64, gg.float16, gg.int32)
    assert x.device == gg.device("cpu") and repr(gg.device("cpu")) == "device(type='cpu')"


def test_asking_for_a_gpu_is_a_clear_error():
    cuda = gg.device("cuda:0")  # a name only, as in PyTorch
    assert cuda.type == "cuda" and cuda.index == 0 and repr(cuda) == "device(type='cuda', index=0)"
    with pytest.raises(RuntimeError, match="zeros: glassgrad computes on the CPU only, got device 'cuda:0'"):
        gg.zeros(2, device=cuda)
    with pytest.raises(RuntimeError, match="to: glassgrad computes on the CPU only"):
        gg.zeros(2).to("cuda")
    with pytest.raises(RuntimeError, match="cuda: glassgrad computes on the CPU only"):
        gg.zeros(2).cuda()
    with pytest.raises(
        RuntimeError, match="Expected one of cpu, cuda, .* device type at start of device string: gpu"
    ):
        gg.device("gpu")


def test_inference_mode_takes_a_mode_and_decorates():
    w = gg.tensor([1.0], requires_grad=True)
    with gg.inference_mode():
        assert not (w * 2).requires_grad
    with gg.inference_mode(False):
        assert (w * 2).requires_grad

    @gg.inference_mode
    def f(t):
        return t * 2

    assert not f(w).requires_grad and gg.is_grad_enabled()


def test_a_cuda_device_is_pytorchs_assertion_error_too(torch):
    for lib in (torch, gg):
        with pytest.raises(AssertionError):
            lib.ones(2).to("cuda")
        with pytest.raises(AssertionError):
            lib.zeros(2, device="cuda")
    with pytest.raises(RuntimeError):  # and still the RuntimeError it was
        gg.ones(2).cuda()
