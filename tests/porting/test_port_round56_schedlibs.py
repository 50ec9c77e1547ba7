"""Round 56, learning-rate tools and small training frameworks.

pytorch-lr-finder, pytorch_warmup, pytorch-gradual-warmup-lr, cosine-annealing-with-warmup,
poutyne and catalyst's ``SupervisedRunner`` (with catalyst's contrib losses, layers, functional
metrics and optimizers) ran unchanged and agreed with PyTorch. Two differences were found, both in
messages. Catalyst's Lovasz losses take ``torch.dot`` of a float64 and a float32 vector, which
PyTorch refuses as ``dot``; glassgrad refused it too but named ``matmul``, an op the program never
called: ``mm``, ``bmm``, ``mv``, ``dot`` and ``linalg.matmul`` now name themselves in their dtype
and shape errors. Catalyst's Lamb calls the deprecated ``exp_avg.add_(1 - beta1, grad)``;
PyTorch's warning names ``add_``, glassgrad's named ``add`` (and ``addcmul`` for ``addcmul_``):
the in-place forms now name themselves, in the warning and in their refusals.

The other tests pin the patterns these tools are built from (written fresh here): a warm-up
factor multiplied into a one-element tensor ``lr`` around a built-in scheduler, and a custom
``_LRScheduler`` whose ``get_lr`` reads ``last_epoch`` with its state saved and restored, each
against PyTorch in float64.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

# ---- the matrix products' errors name the op called ---------------------------------------------


def _calls(lib):
    f64, f32 = lib.float64, lib.float32
    return {
        "dot": (lambda: lib.dot(lib.ones(3, dtype=f64), lib.ones(3, dtype=f32)), "dot"),
        "Tensor.dot": (lambda: lib.ones(3, dtype=f64).dot(lib.ones(3, dtype=f32)), "dot"),
        "mv": (lambda: lib.mv(lib.ones(2, 3, dtype=f64), lib.ones(3, dtype=f32)), "mv"),
        "mm": (lambda: lib.mm(lib.ones(2, 3, dtype=f64), lib.ones(3, 2, dtype=f32)), "mm"),
        "bmm": (lambda: lib.bmm(lib.ones(1, 2, 3, dtype=f64), lib.ones(1, 3, 2, dtype=f32)), "bmm"),
        "linalg.matmul": (lambda: lib.linalg.matmul(lib.ones(2, 3, dtype=f64), lib.ones(3, 2, dtype=f32)), "linalg.matmul"),
        "mm shapes": (lambda: lib.mm(lib.ones(2, 3), lib.ones(4, 2)), "mm"),
        "mv shapes": (lambda: lib.mv(lib.ones(2, 3), lib.ones(4)), "mv"),
        "dot shapes": (lambda: lib.dot(lib.ones(3), lib.ones(4)), "dot"),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_calls(gg)))
def test_matrix_product_errors_name_the_op(case, torch):
    call, op = _calls(torch)[case]
    with pytest.raises(RuntimeError):  # PyTorch refuses each
        call()
    call, op = _calls(gg)[case]
    with pytest.raises(RuntimeError) as info:  # DTypeError and ShapeError are RuntimeErrors
        call()
    assert str(info.value).startswith(f"{op}: "), str(info.value)


def test_matmul_still_names_matmul():
    with pytest.raises(RuntimeError, match=r"^matmul: expected both operands of one dtype"):
        gg.matmul(gg.ones(2, 3, dtype=gg.float64), gg.ones(3, 2))


def test_dot_mv_gradcheck():
    rng = np.random.default_rng(0)
    for k in (1, 4):
        a = gg.tensor(rng.standard_normal(k), requires_grad=True)
        b = gg.tensor(rng.standard_normal(k), requires_grad=True)
        m = gg.tensor(rng.standard_normal((3, k)), requires_grad=True)
        assert gradcheck(gg.dot, (a, b))
        assert gradcheck(gg.mv, (m, b))


# ---- warm-up dampening of a tensor lr around a scheduler -----------------------------------------


def _warmup_run(lib, tensor_lr):
    rng = np.random.default_rng(1)
    w = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 2)), dtype=lib.float64))
    x = lib.tensor(rng.standard_normal((8, 3)), dtype=lib.float64)
    lr = lib.tensor(0.05, dtype=lib.float64) if tensor_lr else 0.05
    opt = lib.optim.AdamW([w], lr=lr, betas=(0.9, 0.99))
    sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    group = opt.param_groups[0]
    undamped = group["lr"].clone() if tensor_lr else group["lr"]
    group["lr"] *= 1 / 4  # warm-up factor of step 0, as pytorch_warmup's dampen()
    rates = []
    for step in range(1, 8):
        opt.zero_grad()
        (x @ w).tanh().square().mean().backward()
        opt.step()
        if tensor_lr:  # restore, step the scheduler, keep its rate, dampen again
            group["lr"].copy_(undamped)
        else:
            group["lr"] = undamped
        sched.step()
        undamped = group["lr"].clone() if tensor_lr else group["lr"]
        group["lr"] *= min(1.0, (step + 1) / 4)
        rates.append(float(group["lr"]))
    return np.array(rates), w.detach().numpy(), type(group["lr"]).__name__


@pytest.mark.parametrize("tensor_lr", [False, True])
def test_warmup_dampening_around_cosine(tensor_lr, torch):
    r_gg, w_gg, kind_gg = _warmup_run(gg, tensor_lr)
    r_pt, w_pt, kind_pt = _warmup_run(torch, tensor_lr)
    np.testing.assert_allclose(r_gg, r_pt, rtol=0, atol=1e-15)
    np.testing.assert_allclose(w_gg, w_pt, rtol=0, atol=1e-13)
    assert kind_gg == kind_pt


# ---- a custom _LRScheduler (the lr finder's exponential range) saved and restored ----------------


def _range_test(lib):
    class ExpRange(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, end_lr, num_iter, last_epoch=-1):
            self.end_lr, self.num_iter = end_lr, num_iter
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            r = (self.last_epoch + 1) / self.num_iter
            return [base * (self.end_lr / base) ** r for base in self.base_lrs]

    w = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    opt = lib.optim.SGD([w], lr=1e-4, momentum=0.9)
    sched = ExpRange(opt, 10.0, 8)
    seen = []
    for _ in range(4):
        seen.append(sched.get_lr()[0])
        opt.step()
        sched.step()
    buf = io.BytesIO()
    lib.save(sched.state_dict(), buf)
    buf.seek(0)
    again = ExpRange(lib.optim.SGD([w], lr=1e-4), 10.0, 8)
    again.load_state_dict(lib.load(buf, weights_only=False))
    for _ in range(3):
        again.step()
        seen.append(again.get_last_lr()[0])
    return np.array(seen), again.last_epoch


def test_custom_lr_scheduler_range_and_state(torch):
    seen_gg, last_gg = _range_test(gg)
    seen_pt, last_pt = _range_test(torch)
    np.testing.assert_allclose(seen_gg, seen_pt, rtol=1e-15, atol=0)
    assert last_gg == last_pt


def test_shape_hint_still_given_for_mm_named_errors():
    from glassgrad.explain.hints import shape_hint

    with pytest.raises(RuntimeError) as info:
        gg.mm(gg.ones(2, 3), gg.ones(4, 2))
    hint = shape_hint(str(info.value), object(), [(2, 3)])
    assert hint is not None and "(..., n, k) @ (..., k, m)" in hint


# ---- the deprecated number-first overloads' warning names the in-place op called -----------------

_LEGACY = {
    "add_": (lambda lib, a: a.clone().add_(0.5, a), [1.5, 1.5]),
    "sub_": (lambda lib, a: a.clone().sub_(0.5, a), [0.5, 0.5]),
    "addcmul_": (lambda lib, a: a.clone().addcmul_(0.5, a, a), [1.5, 1.5]),
    "addcdiv_": (lambda lib, a: a.clone().addcdiv_(0.5, a, a), [1.5, 1.5]),
    "add": (lambda lib, a: a.add(0.5, a), [1.5, 1.5]),
    "addcmul": (lambda lib, a: lib.addcmul(a, 0.5, a, a), [1.5, 1.5]),
}


@pytest.mark.parametrize("op", list(_LEGACY))
def test_number_first_warning_names_the_op(op, monkeypatch, torch):
    from glassgrad.ops import composite

    call, expected = _LEGACY[op]
    with warnings.catch_warnings():  # PyTorch takes it (and warns once per process)
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(call(torch, torch.ones(2)).numpy(), expected)
    monkeypatch.setattr(composite, "_number_first_warned", [False])  # once per process, as PyTorch
    with pytest.warns(UserWarning, match=rf"^This overload of {op} is deprecated:\n\t{op}\(Number "):
        got = call(gg, gg.ones(2))
    np.testing.assert_array_equal(got.numpy(), expected)


def test_inplace_number_first_refusals_name_the_op():
    a = gg.ones(2)
    with pytest.raises(TypeError, match=r"^addcmul_: "):
        a.addcmul_(0.5, a, a, value=2.0)  # the number both first and as a keyword
    with pytest.raises(TypeError, match=r"^add_: "):
        a.add_(0.5, a, alpha=2.0)
