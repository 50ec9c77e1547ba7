"""Round 24, labmlai/annotated_deep_learning_paper_implementations (labml_nn): the top-level
``torch.clamp_min``/``torch.clamp_max`` (sketch_rnn's ``BivariateGaussianMixture``), against PyTorch.
(FNet's ``torch.fft.fft`` is tested in tests/ops/test_fft.py.)"""

from __future__ import annotations

import numpy as np

import glassgrad


def script(torch):
    x = torch.tensor([[-1.0, 0.5, 2.0], [3.0, -4.0, 1e-7]], dtype=torch.float64, requires_grad=True)
    lo = torch.tensor([0.0, 1.0, 1e-5], dtype=torch.float64)
    out = [
        torch.clamp_min(x, 1e-5),
        torch.clamp_max(x, 1.0),
        torch.clamp_min(x, lo),
        torch.clamp_max(x, max=lo),
    ]
    sum(o.sin().sum() for o in out).backward()
    ints = torch.clamp_min(torch.tensor([1, -2]), min=0)
    return [o.tolist() for o in out] + [x.grad.tolist(), ints.tolist(), str(ints.dtype).split(".")[-1]]


def test_clamp_min_and_clamp_max_functions_match_torch(torch):
    got, want = script(glassgrad), script(torch)
    for a, b in zip(got, want):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-15)


def test_cuda_amp_grad_scaler_module_imports_and_subclasses_as_torch(torch):
    """labml_nn's optimizers/adam_fp16.py: ``from torch.cuda.amp import grad_scaler`` at import time,
    then ``class GradScalerFP16(grad_scaler.GradScaler)``."""
    import glassgrad.cuda.amp.grad_scaler as by_path
    from glassgrad.cuda.amp import grad_scaler
    from torch.cuda.amp import grad_scaler as torch_grad_scaler

    assert by_path is grad_scaler
    for mod in (grad_scaler, torch_grad_scaler):
        assert {"GradScaler", "OptState"} <= set(dir(mod))
        assert issubclass(type("GradScalerFP16", (mod.GradScaler,), {}), mod.GradScaler)
    assert [s.name for s in grad_scaler.OptState] == [s.name for s in torch_grad_scaler.OptState]


def test_dtype_class_is_exposed_as_torch_dtype(torch):
    """labml_nn's neox/model.py annotates ``dtype: torch.dtype = torch.float`` (evaluated at import)."""
    for lib in (glassgrad, torch):
        assert isinstance(lib.float32, lib.dtype) and isinstance(lib.int64, lib.dtype)
        assert not isinstance("float32", lib.dtype)
