"""Port round 12: course notebooks (mrdbourke/pytorch-deep-learning, phlippe/uvadlc_notebooks,
rasbt/LLMs-from-scratch ch07). The fundamentals notebook calls ``torch.range`` (PyTorch's deprecated
inclusive range) and the UvA Transformer tutorial subclasses ``optim.lr_scheduler._LRScheduler``,
both missing from glassgrad; the custom-datasets notebook's uint8 image into a float ``Conv2d`` raised
a ``DTypeError`` that ``except RuntimeError`` (PyTorch's type for it) did not catch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad

from .helpers import assert_same

# ---- torch.range --------------------------------------------------------------------------------

RANGES = [
    (0, 10),  # ints still give the default float dtype
    (0, 1, 0.3),
    (5, 1, -2),
    (0.1, 0.3, 0.1),  # (end - start) / step is 1.9999999999999998: +1 before truncating gives 3
    (0, 0.3, 0.1),  # 2.9999999999999996 + 1 stays below 4: 3 values
    (0.7, 1.0, 0.1),
    (0, 2.5),
    (-1.5, 1.5, 0.5),
    (3, 3),
]


@pytest.mark.parametrize("args", RANGES)
def test_range_matches_torch(torch, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same(glassgrad.range(*args), torch.range(*args), rtol=0, atol=0)
        # int64 only for whole-number steps: PyTorch truncates a fractional step to 0 and dies of SIGFPE
        ints = all(float(a).is_integer() for a in args)
        for dt in ("float64", "int64") if ints else ("float64",):
            ours = glassgrad.range(*args, dtype=getattr(glassgrad, dt))
            assert_same(ours, torch.range(*args, dtype=getattr(torch, dt)), rtol=0, atol=0)


def test_integer_range_truncates_bounds_and_step_as_torch(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for args, dt in (((0.5, 3.7), "int64"), ((-0.5, 3.7, 2), "int64"), ((0.5, 3.7, 1.9), "int32")):
            ours = glassgrad.range(*args, dtype=getattr(glassgrad, dt))
            assert_same(ours, torch.range(*args, dtype=getattr(torch, dt)), rtol=0, atol=0)
        with pytest.raises(RuntimeError, match="step must be nonzero"):  # PyTorch dies of SIGFPE here
            glassgrad.range(0, 3, 0.5, dtype=glassgrad.int64)


def test_range_warns_as_torch(torch):
    with pytest.warns(UserWarning) as ours:
        glassgrad.range(0, 3)
    with pytest.warns(UserWarning) as theirs:
        torch.range(0, 3)
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # pointed at the caller, as PyTorch's


@pytest.mark.parametrize("args", [(0, 5, -1), (5, 0, 1), (0, 5, 0)])
def test_range_refuses_what_torch_refuses(torch, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(RuntimeError):
            torch.range(*args)
        with pytest.raises(RuntimeError, match="range"):
            glassgrad.range(*args)


def test_range_leaf_gradient_matches_torch(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = glassgrad.range(0, 1, 0.25, requires_grad=True)
        theirs = torch.range(0, 1, 0.25, requires_grad=True)
    assert ours.is_leaf and ours.requires_grad
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    assert_same(ours.grad, theirs.grad)
    np.testing.assert_allclose(ours.grad.numpy(), 2 * np.arange(5) * 0.25)


def test_range_is_exported_as_torch_does(torch):
    assert ("range" in glassgrad.__all__) == ("range" in torch.__all__)


# ---- optim.lr_scheduler._LRScheduler ---------------------------------------------------------------


def _warmup_cosine(lib):
    """A scheduler subclassing the old ``_LRScheduler`` name (linear warm-up, then cosine), as the
    UvA Transformer tutorial's; our own schedule."""

    class WarmupCosine(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, warmup, total):
            self.warmup, self.total = warmup, total
            super().__init__(optimizer)

        def get_lr(self):
            t = self.last_epoch
            factor = 0.5 * (1 + np.cos(np.pi * t / self.total)) * min(1.0, t / self.warmup)
            return [base * factor for base in self.base_lrs]

    return WarmupCosine


def test_old_lrscheduler_name_trains_as_torch(torch):
    import glassgrad.optim.lr_scheduler as ours_mod

    assert ours_mod._LRScheduler.__name__ == "_LRScheduler"
    assert issubclass(ours_mod._LRScheduler, ours_mod.LRScheduler)
    assert "_LRScheduler" not in ours_mod.__all__ and "_LRScheduler" not in torch.optim.lr_scheduler.__all__
    start = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    runs = {}
    for lib in (glassgrad, torch):
        w = lib.nn.Parameter(lib.tensor(start.copy()))
        opt = lib.optim.Adam([w], lr=0.1)
        sched = _warmup_cosine(lib)(opt, warmup=4, total=20)
        assert isinstance(sched, lib.optim.lr_scheduler.LRScheduler)
        lrs, grads = [], []
        for _ in range(12):
            opt.zero_grad()
            loss = ((w - 1.0) ** 2).sum()
            loss.backward()
            grads.append(w.grad.clone())
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        runs[lib.__name__] = (lrs, grads, w.detach())
    np.testing.assert_allclose(runs["glassgrad"][0], runs["torch"][0], rtol=1e-12)
    assert runs["glassgrad"][0][0] == pytest.approx(0.1 * 0.5 * (1 + np.cos(np.pi / 20)) / 4)
    assert_same(runs["glassgrad"][1], runs["torch"][1])
    assert_same(runs["glassgrad"][2], runs["torch"][2])


# ---- dtype mismatches are RuntimeErrors, as PyTorch's ------------------------------------------------

DTYPE_MISMATCHES = {
    # the custom-datasets notebook feeds read_image's uint8 tensor to a float Conv2d
    "conv2d uint8 input": lambda L: L.nn.Conv2d(3, 4, 3)(L.zeros(1, 3, 8, 8, dtype=L.uint8)),
    "linear float64 input": lambda L: L.nn.Linear(3, 4)(L.zeros(2, 3, dtype=L.float64)),
    "mm int64 @ float32": lambda L: L.mm(L.zeros(2, 3, dtype=L.int64), L.zeros(3, 4)),
    "embedding float indices": lambda L: L.nn.functional.embedding(L.zeros(3), L.zeros(5, 2)),
}


@pytest.mark.parametrize("case", sorted(DTYPE_MISMATCHES))
def test_dtype_mismatch_is_caught_as_runtime_error_as_in_torch(torch, case):
    from glassgrad.errors import DTypeError

    with pytest.raises(RuntimeError):
        DTYPE_MISMATCHES[case](torch)
    with pytest.raises(RuntimeError) as ours:
        DTYPE_MISMATCHES[case](glassgrad)
    assert isinstance(ours.value, DTypeError) and isinstance(ours.value, TypeError)  # still both
