"""Porting round 44, group optim2: Prodigy, D-Adaptation (DAdaptAdam, DAdaptSGD, DAdaptAdaGrad,
DAdaptLion, DAdaptAdan), lion-pytorch, Adan-pytorch and geoopt (manifold tensors and parameters,
Stiefel, Sphere, PoincareBall and Lorentz manifolds, RiemannianAdam and RiemannianSGD) run on
glassgrad with only their imports changed.

- geoopt's ``ManifoldTensor(data, manifold=...)`` has a ``__new__`` of its own and turns
  ``__torch_function__`` off (``_disabled_torch_function_impl``). Python then calls
  ``Tensor.__init__`` with the same arguments; PyTorch's takes no part once ``__new__`` made the
  tensor, but glassgrad only skipped it for subclasses that take part in ``__torch_function__``,
  so every ``ManifoldTensor``/``ManifoldParameter`` failed with "unexpected keyword 'manifold'".
- geoopt's ``PoincareBall.__init__`` assigns ``self.k = Parameter(...)`` where ``k`` is also a
  class property (computed from a parameter set just after). PyTorch's ``register_parameter``
  asks ``hasattr(self, name)``, which is False while the property cannot be read; glassgrad asked
  ``hasattr(type(self), name)`` and refused with "attribute 'k' already exists".
- geoopt's ``RiemannianAdam`` subclasses ``Adam`` with a ``step`` of its own that keeps an int
  ``step``. PyTorch's ``Adam.__setstate__`` (run by ``load_state_dict``, inherited by the
  subclass) makes it a 0-d tensor of the default dtype (and ASGD's ``eta``/``mu``, NAdam's
  ``mu_product``); glassgrad kept the int for any optimizer with its own ``step``.
- geoopt's ``ManifoldTensor.__reduce_ex__`` unpacks ``super().__reduce_ex__(proto)`` in two, as
  PyTorch's is ``(callable, args)``; glassgrad's gave ``object.__reduce_ex__``'s five items, so
  ``copy.copy`` and pickling of a ManifoldTensor failed ("too many values to unpack").
- geoopt's ``EuclideanStiefel.retr`` flips the columns of ``Q`` from ``linalg.qr`` in place.
  glassgrad cut Q and R (and eigh's, eig's outputs) from one packed array with ``split``, whose
  pieces may not change in place while recording, so the retraction failed under grad mode where
  PyTorch computes it; they are ``unsafe_split``'s pieces now (a backward through the change gives
  the out-of-place gradient, where PyTorch refuses the backward).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassgrad as gg


# ---------------------------------------------------------------- subclass with a __new__ of its own
def _manifold_tensor_classes(lib):
    class Tagged(lib.Tensor):
        __torch_function__ = lib._C._disabled_torch_function_impl

        def __new__(cls, *args, manifold="euclid", requires_grad=False, **kwargs):
            if len(args) == 1 and isinstance(args[0], lib.Tensor):
                data = args[0].data
            else:
                data = lib.Tensor(*args, **kwargs)
            instance = lib.Tensor._make_subclass(cls, data, requires_grad)
            instance.manifold = manifold
            return instance

    class TaggedParameter(Tagged, lib.nn.Parameter):
        def __new__(cls, data=None, manifold=None, requires_grad=True):
            if not isinstance(data, Tagged):
                data = Tagged(data, manifold=manifold or "euclid")
            instance = Tagged._make_subclass(cls, data, requires_grad)
            instance.manifold = data.manifold
            return instance

    return Tagged, TaggedParameter


def _subclass_facts(lib):
    Tagged, TaggedParameter = _manifold_tensor_classes(lib)
    x = lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64)
    t = Tagged(x, manifold="sphere")
    sized = Tagged(2, 3, manifold="ball")
    p = TaggedParameter(x * 2, manifold="stiefel")
    q = TaggedParameter(t)
    loss = (p * p).sum()
    loss.backward()
    return {
        "t": (type(t).__name__, t.manifold, t.requires_grad, t.numpy().tolist()),
        "sized": (type(sized).__name__, sized.manifold, tuple(sized.shape)),
        "p": (type(p).__name__, p.manifold, p.requires_grad, isinstance(p, lib.nn.Parameter)),
        "q": (type(q).__name__, q.manifold, q.detach().numpy().tolist()),
        "ops": (type(t + 1).__name__, type(p * 2).__name__, type(t.sum()).__name__),
        "grad": p.grad.numpy().tolist(),
    }


def test_subclass_new_with_own_keywords_and_torch_function_off_matches_pytorch(torch):
    assert _subclass_facts(gg) == _subclass_facts(torch)


def test_subclass_new_with_own_keywords_shares_memory_with_its_data():
    Tagged, _ = _manifold_tensor_classes(gg)
    x = gg.zeros(3)
    t = Tagged(x, manifold="sphere")
    t.add_(1.0)
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'manifold'"):
        gg.Tensor(x, manifold="sphere")  # Tensor's own constructor still refuses it


# ---------------------------------------------------------------- register_parameter and properties
def _property_module_facts(lib):
    class Ball(lib.nn.Module):
        def __init__(self, c):
            super().__init__()
            self.k = lib.nn.Parameter(lib.tensor(c, dtype=lib.float64))  # k: the class property below
            k = self._parameters.pop("k")
            self.isp_c = lib.nn.Parameter(k.detach().exp().sub(1).log())

        @property
        def k(self):
            return -lib.nn.functional.softplus(self.isp_c)

    class Readable(lib.nn.Module):
        @property
        def w(self):
            return 1.0

    ball = Ball(0.7)
    try:
        Readable().register_parameter("w", lib.nn.Parameter(lib.ones(1)))
        readable = "registered"
    except KeyError as e:
        readable = str(e)
    return {
        "names": [n for n, _ in ball.named_parameters()],
        "k": round(ball.k.item(), 12),
        "readable": readable,
    }


def test_register_parameter_over_a_property_not_readable_yet_matches_pytorch(torch):
    facts = _property_module_facts(gg)
    assert facts == _property_module_facts(torch)
    assert facts["k"] == pytest.approx(-0.7, abs=1e-12)
    assert "already exists" in facts["readable"]


def test_register_parameter_still_refuses_taken_names():
    m = gg.nn.Module()
    m.register_buffer("b", gg.zeros(1))
    m.plain = 3
    for name in ("b", "plain", "train"):
        with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
            m.register_parameter(name, gg.nn.Parameter(gg.zeros(1)))
    m.register_parameter("w", gg.nn.Parameter(gg.zeros(1)))
    m.register_parameter("w", gg.nn.Parameter(gg.ones(1)))  # the same kind again: replaced
    assert m.w.item() == 1.0


# ---------------------------------------------------------------- load_state_dict of a family's subclass
def _own_step_optimizers(lib):
    class MyAdam(lib.optim.Adam):  # geoopt's RiemannianAdam: Adam's state, its own step, an int count
        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                b1, b2 = group["betas"]
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = lib.zeros_like(p)
                        state["exp_avg_sq"] = lib.zeros_like(p)
                    state["step"] += 1
                    state["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                    state["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    bias1 = 1 - b1 ** state["step"]
                    denom = (state["exp_avg_sq"] / (1 - b2 ** state["step"])).sqrt().add_(group["eps"])
                    p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / bias1)

    class MyASGD(lib.optim.ASGD):
        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state.update(step=0, eta=group["lr"], mu=1.0, ax=lib.zeros_like(p))
                    state["step"] += 1
                    p.add_(p.grad, alpha=-state["eta"])

    class MyNAdam(lib.optim.NAdam):
        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if len(state) == 0:
                        state.update(
                            step=0, mu_product=1.0, exp_avg=lib.zeros_like(p), exp_avg_sq=lib.zeros_like(p)
                        )
                    state["step"] += 1
                    state["mu_product"] *= 0.9
                    p.add_(p.grad, alpha=-group["lr"])

    class Plain(lib.optim.Optimizer):  # a direct subclass: its numbers stay numbers (PyTorch's base)
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    p.add_(p.grad, alpha=-group["lr"])

    return {"adam": MyAdam, "asgd": MyASGD, "nadam": MyNAdam, "plain": Plain}


def _describe(v):
    if hasattr(v, "dtype") and hasattr(v, "shape"):
        return ("tensor", str(v.dtype).split(".")[-1], tuple(v.shape), round(float(v.sum()), 5))
    return (type(v).__name__, round(float(v), 5))


def _state_after_load(lib, kind, dtype):
    torch_default = lib.get_default_dtype()
    lib.set_default_dtype(getattr(lib, dtype))
    try:
        classes = _own_step_optimizers(lib)
        w = lib.nn.Parameter(lib.tensor([0.5, -1.0, 2.0]))
        opt = classes[kind]([w], lr=0.01) if kind != "plain" else classes[kind]([w])
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = (w**2 * lib.tensor([1.0, 2.0, 3.0])).sum()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        saved = {k: _describe(v) for k, v in opt.state[w].items()}
        opt2 = classes[kind]([w], lr=0.01) if kind != "plain" else classes[kind]([w])
        opt2.load_state_dict(opt.state_dict())
        loaded = {k: _describe(v) for k, v in opt2.state[w].items()}
        opt2.zero_grad()
        (w**2).sum().backward()
        opt2.step()
        return saved, loaded, losses, w.detach().numpy().tolist()
    finally:
        lib.set_default_dtype(torch_default)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["adam", "asgd", "nadam", "plain"])
def test_load_state_dict_of_a_family_subclass_with_own_step_matches_pytorch(torch, kind, dtype):
    got = _state_after_load(gg, kind, dtype)
    want = _state_after_load(torch, kind, dtype)
    assert got[0] == want[0] and got[1] == want[1]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6 if dtype == "float32" else 1e-14)
    np.testing.assert_allclose(got[3], want[3], rtol=1e-6 if dtype == "float32" else 1e-14)


def test_load_state_dict_of_adam_subclass_makes_step_a_default_dtype_tensor():
    opt = _own_step_optimizers(gg)["adam"]([gg.nn.Parameter(gg.ones(2))], lr=0.1)
    p = opt.param_groups[0]["params"][0]
    p.grad = gg.ones(2)
    opt.step()
    assert opt.state[p]["step"] == 1 and isinstance(opt.state[p]["step"], int)
    opt.load_state_dict(opt.state_dict())
    step = opt.state[p]["step"]
    assert isinstance(step, gg.Tensor) and step.dtype == gg.get_default_dtype() and step.shape == ()
    assert step.item() == 1.0
    # its bias correction reads it as PyTorch's does: 1 - beta ** tensor(step)
    assert (1 - 0.9 ** (step + 1)).item() == pytest.approx(1 - 0.81, rel=1e-6)
    assert math.isclose(float(step), 1.0)


def test_load_state_dict_keeps_lbfgs_counters_ints():
    w = gg.nn.Parameter(gg.tensor([1.0, 2.0]))
    opt = gg.optim.LBFGS([w], max_iter=2)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    opt.load_state_dict(opt.state_dict())
    state = opt.state[w]
    assert isinstance(state["func_evals"], int) and isinstance(state["n_iter"], int)


# ---------------------------------------------------------------- __reduce_ex__ of a subclass, extended
def _pickling_facts(lib):
    import copy
    import functools

    Tagged, _ = _manifold_tensor_classes(lib)

    def rebuild(*args, build_fn):
        return args[-3](build_fn(*args[:-4]), manifold=args[-2], requires_grad=args[-1])

    class Reduced(Tagged):  # geoopt's ManifoldTensor.__reduce_ex__: super()'s (build, args) extended
        def __reduce_ex__(self, proto):
            build, args = super().__reduce_ex__(proto)
            return functools.partial(rebuild, build_fn=build), args + (
                {},
                type(self),
                self.manifold,
                self.requires_grad,
            )

    t = Reduced(lib.tensor([1.0, 2.0, 3.0]), manifold="sphere")
    plain = lib.tensor([4.0, 5.0])
    facts = {"plain_len": len(plain.__reduce_ex__(2)), "sub_len": len(Tagged.__reduce_ex__(t, 2))}
    for how, fn in [("copy", copy.copy)]:  # (PyTorch's deepcopy asks new_empty: geoopt has its own)
        c = fn(t)
        facts[how] = (type(c).__name__, c.manifold, c.requires_grad, c.tolist())
    return facts


def test_subclass_reduce_ex_extending_super_matches_pytorch(torch):
    facts = _pickling_facts(gg)
    assert facts == _pickling_facts(torch)
    assert facts["sub_len"] == 2 and facts["copy"] == ("Reduced", "sphere", False, [1.0, 2.0, 3.0])


# ---------------------------------------------------------------- in place on decomposition outputs
_DECOMPOSITIONS = {
    "qr": lambda lib, x: lib.linalg.qr(x),
    "eigh": lambda lib, x: lib.linalg.eigh(x.mT @ x),
    "eig": lambda lib, x: lib.linalg.eig(x.mT @ x),
}


@pytest.mark.parametrize("name", sorted(_DECOMPOSITIONS))
def test_decomposition_outputs_change_in_place_while_recording_as_pytorch(torch, name):
    x = np.random.default_rng(4).standard_normal((2, 4, 3))
    values = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        a, b = _DECOMPOSITIONS[name](lib, t)
        a.mul_(2)  # geoopt's Stiefel retraction: q *= unflip (PyTorch allows it; was refused here)
        b.mul_(-3)
        values.append((a.detach().abs().numpy(), b.detach().abs().numpy()))
    for got, want in zip(values[0], values[1]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _stiefel_retraction(lib, x, u):
    q, r = lib.linalg.qr(x + u)
    unflip = lib.diagonal(r, dim1=-2, dim2=-1).sign().add(0.5).sign()
    q *= unflip[..., None, :]
    return q


def test_qr_output_changed_in_place_gives_the_out_of_place_gradient(torch):
    rng = np.random.default_rng(5)
    x, u, w = (
        rng.standard_normal((3, 5, 3)),
        rng.standard_normal((3, 5, 3)) * 0.1,
        rng.standard_normal((3, 5, 3)),
    )
    tx, tu = torch.tensor(x, requires_grad=True), torch.tensor(u, requires_grad=True)
    q, r = torch.linalg.qr(tx + tu)
    want = q * torch.diagonal(r, dim1=-2, dim2=-1).sign().add(0.5).sign()[..., None, :]  # out of place
    (want * torch.tensor(w)).sum().backward()
    gx, gu = gg.tensor(x, requires_grad=True), gg.tensor(u, requires_grad=True)
    got = _stiefel_retraction(gg, gx, gu)
    (got * gg.tensor(w)).sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gu.grad.numpy(), tu.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3, 3)])
def test_qr_output_changed_in_place_gradcheck(shape):
    rng = np.random.default_rng(len(shape) * 7 + shape[-2])
    x = gg.tensor(rng.standard_normal(shape), requires_grad=True)
    u = gg.tensor(rng.standard_normal(shape[-1:]) * 0.1, requires_grad=True)  # broadcast over rows
    assert gg.autograd.gradcheck(lambda a, b: _stiefel_retraction(gg, a, b), (x, u))


def test_eigh_output_changed_in_place_after_a_use_that_saved_it_is_refused_at_backward(torch):
    x = np.random.default_rng(6).standard_normal((4, 3))
    for lib, error in ((gg, gg.errors.GraphError), (torch, RuntimeError)):
        t = lib.tensor(x, requires_grad=True)
        w, v = lib.linalg.eigh(t.mT @ t)
        y = w.pow(2).sum() + (v * v).pow(2).sum()  # pow and mul saved w and v
        w.mul_(3)
        with pytest.raises(error, match="modified (by an inplace operation|in place)"):
            y.backward()
