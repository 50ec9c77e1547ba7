"""The Optimizer base: parameter groups, validation and error messages, zero_grad, closures, and the
contract of step() (gradients untouched, parameters updated in place)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError, GraphError, ShapeError
from glassgrad.optim import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from glassgrad.optim.optimizer import required

ALL = [SGD, Adam, AdamW, RMSprop, Adagrad]


def _param(*shape, dtype=np.float64):
    return gg.tensor(
        np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape).astype(dtype), requires_grad=True
    )


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (SGD, dict(lr=-1), "SGD: expected lr >= 0, got -1"),
        (SGD, dict(momentum=-0.5), "SGD: expected momentum >= 0, got -0.5"),
        (SGD, dict(weight_decay=-1e-4), "SGD: expected weight_decay >= 0, got -0.0001"),
        (
            SGD,
            dict(nesterov=True),
            "SGD: expected momentum > 0 and dampening == 0 with nesterov=True, got momentum=0, dampening=0",
        ),
        (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "dampening=0.1"),
        (SGD, dict(lr=float("nan")), "SGD: expected lr >= 0, got nan"),
        (Adam, dict(lr=-0.1), "Adam: expected lr >= 0, got -0.1"),
        (Adam, dict(eps=-1e-8), "Adam: expected eps >= 0, got -1e-08"),
        (
            Adam,
            dict(betas=(1.0, 0.999)),
            r"Adam: expected betas \(b1, b2\) with 0 <= b < 1, got \(1.0, 0.999\)",
        ),
        (Adam, dict(betas=(0.9, -0.1)), "Adam: expected betas"),
        (Adam, dict(weight_decay=-1), "Adam: expected weight_decay >= 0, got -1"),
        (AdamW, dict(weight_decay=-0.01), "AdamW: expected weight_decay >= 0, got -0.01"),
        (AdamW, dict(betas=(0.9,)), "AdamW: expected betas"),
        (AdamW, dict(betas=0.9), "AdamW: expected betas .* got 0.9"),
        (RMSprop, dict(alpha=-0.5), "RMSprop: expected alpha >= 0, got -0.5"),
        (RMSprop, dict(momentum=-1), "RMSprop: expected momentum >= 0, got -1"),
        (RMSprop, dict(eps=-1), "RMSprop: expected eps >= 0, got -1"),
        (Adagrad, dict(lr_decay=-1), "Adagrad: expected lr_decay >= 0, got -1"),
        (
            Adagrad,
            dict(initial_accumulator_value=-1),
            "Adagrad: expected initial_accumulator_value >= 0, got -1",
        ),
        (Adagrad, dict(eps=-1), "Adagrad: expected eps >= 0, got -1"),
    ],
)
def test_bad_hyperparameters_raise(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([_param(2)], **kwargs)


@pytest.mark.parametrize("cls", ALL)
def test_bad_option_in_a_group_raises(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: expected lr >= 0, got -0.5"):
        cls([{"params": [_param(2)]}, {"params": [_param(3)], "lr": -0.5}], lr=0.1)
    opt = cls([_param(2)])
    with pytest.raises(ValueError, match="expected lr >= 0"):
        opt.add_param_group({"params": [_param(3)], "lr": -1.0})
    assert len(opt.param_groups) == 1


def test_non_number_option_raises_type_error():
    with pytest.raises(TypeError, match="SGD: expected lr to be a number, got str"):
        SGD([_param(2)], lr="0.1")
    with pytest.raises(TypeError, match="SGD: expected momentum to be a number, got str"):
        SGD([_param(2)], lr=0.1, momentum="0.9")  # (a tensor lr is taken: test_tensor_lr.py)


def test_a_non_leaf_is_taken_only_by_a_differentiable_optimizer():
    # its step is recorded (test_optim_round59.py, test_optim_round59_2.py)
    p = _param(2) * 1
    Adagrad([p], differentiable=True)
    with pytest.raises(ValueError, match="Adagrad: expected leaf tensors"):
        Adagrad([p])


def test_bad_params_raise():
    w = _param(2, 3)
    with pytest.raises(
        TypeError,
        match=r"SGD: expected an iterable of Tensors or dicts, got a single Tensor of shape \(2, 3\)",
    ):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a set"):
        SGD({w}, lr=0.1)
    with pytest.raises(TypeError, match="SGD: expected parameters to be Tensors, got ndarray"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.warns(
        UserWarning, match="optimizer contains a parameter group with duplicate parameters; SGD"
    ):
        SGD([w, w], lr=0.1)  # PyTorch warns too (a tied weight listed twice), see test_port_round33_rnn2
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one parameter group"):
        SGD([{"params": [w]}, {"params": [_param(1), w]}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: expected leaf tensors, got a non-leaf of shape \(2, 3\)"):
        SGD([w * 2.0], lr=0.1)
    # PyTorch takes any dtype (a frozen integer Parameter): test_optim_round59
    SGD([gg.tensor([1, 2, 3])], lr=0.1)
    with pytest.raises(ValueError, match="required option 'lr'"):
        SGD([w], lr=required)


def test_frozen_parameters_are_accepted_and_left_alone():
    # As in PyTorch: model.parameters() may include frozen tensors; they never get a gradient.
    w, frozen = _param(3), gg.tensor([1.0, 2.0])
    opt = SGD([w, frozen], lr=0.1)
    w.grad = gg.tensor([1.0, 1.0, 1.0], dtype=gg.float64)
    opt.step()
    np.testing.assert_array_equal(frozen._data, [1.0, 2.0])
    np.testing.assert_allclose(w._data, [0.9, 1.9, 2.9])


def test_groups_take_defaults_and_keep_their_own_options():
    a, b, c = _param(2), _param(3), _param(1)
    group = {"params": (p for p in [b])}  # any iterable; stored as a list
    opt = SGD([{"params": a, "lr": 0.5}, group], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["params"][0] is a and opt.param_groups[0]["lr"] == 0.5
    assert opt.param_groups[1] is group and group["params"][0] is b  # the dict itself, as PyTorch
    assert group["lr"] == 0.1 and group["momentum"] == 0.9 and group["nesterov"] is False
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["weight_decay"] == 0.1 and opt.param_groups[2]["lr"] == 0.1
    with pytest.raises(ValueError, match="more than one group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="SGD.add_param_group: expected a dict, got list"):
        opt.add_param_group([c])


def test_named_parameters():
    a, b = _param(2), _param(3)
    opt = Adam([("layer.weight", a), ("layer.bias", b)])
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(a), id(b)]
    assert opt.param_groups[0]["param_names"] == ["layer.weight", "layer.bias"]
    with pytest.raises(ValueError, match="with names or all without"):
        Adam([("w", a), b])
    with pytest.raises(ValueError, match="all param groups with names or all without"):
        opt.add_param_group({"params": [_param(1)]})


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    w = _param(3)
    opt = SGD([w], lr=0.1)
    w.grad = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64)
    grad = w.grad
    opt.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert w.grad is None
    else:
        assert w.grad is grad and w.grad.shape == (3,)
        np.testing.assert_array_equal(w.grad._data, 0.0)


@pytest.mark.parametrize("cls", ALL)
def test_step_returns_the_closure_loss_evaluated_with_grad_on(cls):
    w = _param(3)
    opt = cls([w], lr=0.1)
    seen = []

    def closure():
        seen.append(gg.is_grad_enabled())
        opt.zero_grad()
        w.grad = gg.tensor(2 * w._data)  # the gradient of ||w||²
        return float((w._data**2).sum())

    with gg.no_grad():
        assert opt.step(closure) == 14.0
        assert not gg.is_grad_enabled()  # step() restores the mode it found
    assert seen == [True]
    assert opt.step() is None
    assert gg.is_grad_enabled()


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("options", [dict(), dict(weight_decay=0.1, maximize=True)])
def test_step_leaves_grads_alone_and_updates_params_in_place(cls, options):
    w = _param(2, 3)
    extra = dict(momentum=0.9) if cls in (SGD, RMSprop) else {}
    opt = cls([w], lr=0.1, **options, **extra)
    data = w._data
    view = w._data[0]  # a view held elsewhere (as a graph or another module may hold one)
    for _ in range(3):
        w.grad = gg.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))
        grad_array, before = w.grad._data, w._data.copy()
        opt.step()
        np.testing.assert_array_equal(grad_array, np.linspace(-1.0, 1.0, 6).reshape(2, 3))
        assert w.grad._data is grad_array
        assert w._data is data and not np.array_equal(w._data, before)
    np.testing.assert_array_equal(view, w._data[0])


def test_step_bumps_the_version_of_updated_params_only():
    a, b = _param(2), _param(2)
    opt = SGD([a, b], lr=0.1)
    a.grad = gg.tensor([1.0, 1.0], dtype=gg.float64)
    va, vb = a._version, b._version
    opt.step()
    assert (a._version, b._version) == (va + 1, vb)


def test_backward_through_a_graph_saved_before_the_step_raises():
    w = _param(3)
    x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64)
    y = w * w  # mul saves w for its backward
    opt = SGD([w], lr=0.1)
    w.grad = gg.tensor([1.0, 1.0, 1.0], dtype=gg.float64)
    opt.step()
    with pytest.raises(GraphError, match="modified in place"):
        y.backward(gg.tensor(x._data))


def test_bad_grads_raise():
    w = _param(2, 3)
    opt = Adam([w])
    with pytest.raises(ShapeError, match=r"grad: expected a gradient of shape \(2, 3\), got \(3,\)"):
        w.grad = gg.tensor(np.ones(3))  # refused at the assignment, as PyTorch
    with pytest.raises(
        DTypeError, match="grad: expected a gradient of dtype glassgrad.float64, got glassgrad.float32"
    ):
        w.grad = gg.tensor(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="grad: expected a Tensor or None, got float"):
        w.grad = 0.0
    w._grad = gg.tensor(np.ones(3))  # only the raw slot can be wrong now; step() still checks
    with pytest.raises(
        ShapeError, match=r"Adam.step: expected a grad of shape \(2, 3\) like its param, got \(3,\)"
    ):
        opt.step()


@pytest.mark.parametrize("cls", ALL)
def test_float32_stays_float32(cls):
    w = gg.tensor([[0.5, -1.0], [2.0, 0.0]], requires_grad=True)
    opt = cls([w], lr=0.1, weight_decay=0.1)
    for _ in range(3):
        w.grad = gg.tensor([[1.0, -2.0], [0.5, 0.0]])
        opt.step()
    assert w._data.dtype == np.float32
    for value in opt.state[w].values():
        assert isinstance(value, float) or value._data.dtype == np.float32


def test_base_class_step_is_abstract_and_repr_lists_groups():
    class Plain(Optimizer):
        pass

    opt = Plain([_param(2)], {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        opt.step()
    text = repr(SGD([{"params": [_param(2)]}, {"params": [_param(1)], "lr": 0.5}], lr=0.1))
    assert (
        text.startswith("SGD (\nParameter Group 0\n")
        and "    lr: 0.5" in text
        and "Parameter Group 1" in text
    )
