"""Round 37, Tensor-subclass libraries (torchvision's tv_tensors and transforms.v2, pypose's
LieTensor, fastai's TensorBase family) run on glassgrad's ``__torch_function__``.

What they needed, each checked here against PyTorch:

- a subclass whose ``__new__`` takes keywords (``BoundingBoxes(data, format=..., canvas_size=...)``)
  is not refused by ``Tensor.__init__`` (PyTorch's takes no part once ``__new__`` made the object);
- ``torch.uint16``/``uint32``/``uint64`` and ``torch.backends.cpu.get_cpu_capability()``, which
  torchvision's kernels read;
- ``tensor_split``/``hsplit``/``vsplit``/``dsplit`` take the split points by the names of
  PyTorch's overloads (``tensor_split(x, indices=(-1,), dim=-3)`` in torchvision's ``affine``);
- ``autograd.functional.jacobian`` (and ``vjp``, ``hessian``, ...) hands ``fn`` its inputs as the
  subclass (``detach()`` through ``__torch_function__``, as PyTorch's ``_grad_preprocess``), and
  takes a tuple of outputs (pypose's ``LM`` optimizer does both);
- ``torch.utils.data._utils.collate`` (fastai imports ``default_collate`` from there);
- ``func.__name__`` of a Tensor method handed to ``__torch_function__`` is the method's own name
  (``new_zeros``, ``clip``), not the function behind it; ``as_subclass`` does not ask
  ``__torch_function__`` (fastai's ``TensorBase.clone`` recursed forever), also when a program
  puts it in the top-level namespace (fastai's ``torch.as_subclass = torch.Tensor.as_subclass``);
- a subclass with its own ``__new__`` pickles (class, values and ``__dict__``), as PyTorch's.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

import glassgrad
from glassgrad.autograd import gradcheck


def _boxed(lib):
    class Boxed(lib.Tensor):
        def __new__(cls, data, *, fmt, canvas_size, requires_grad=False):
            t = lib.as_tensor(data).as_subclass(cls)
            t.requires_grad_(requires_grad)
            t.fmt, t.canvas_size = fmt, canvas_size
            return t

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    return Boxed


def test_a_subclass_new_with_keywords_constructs_as_in_pytorch(torch):
    data = [[1.0, 2.0, 5.0, 7.0]]
    out = {}
    for lib in (torch, glassgrad):
        b = _boxed(lib)(data, fmt="XYXY", canvas_size=(8, 9))
        out[lib] = (type(b).__name__, b.fmt, b.canvas_size, type(b * 2).__name__, (b * 2).tolist())
    assert out[torch] == out[glassgrad]


def test_the_constructor_names_keywords_it_does_not_take():
    with pytest.raises(TypeError, match="unexpected keyword argument.*foo"):
        glassgrad.Tensor([1.0], foo=1)


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_unsigned_dtypes_exist_as_in_pytorch(torch, name):
    dt = getattr(glassgrad, name)
    assert repr(dt).replace("glassgrad", "torch") == repr(getattr(torch, name))
    assert dt.itemsize == getattr(torch, name).itemsize and not dt.is_signed
    t = glassgrad.tensor([1, 2, 65535], dtype=dt)
    assert t.dtype == dt and t.tolist() == [1, 2, 65535]
    assert glassgrad.tensor(np.array([3], dtype=name)).dtype is dt
    assert dt != glassgrad.uint8 and dt != glassgrad.int64


def test_backends_cpu_capability(torch):
    import glassgrad.backends.cpu as cpu

    known = {"DEFAULT", "VSX", "Z VECTOR", "NO AVX", "AVX2", "AVX512", "SVE256"}
    assert torch.backends.cpu.get_cpu_capability() in known
    assert cpu.get_cpu_capability() in known and glassgrad.backends.cpu is cpu


@pytest.mark.parametrize("seed", range(4))
def test_tensor_split_takes_pytorchs_overload_keywords(torch, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=rng.integers(1, 4)))
    dim = int(rng.integers(-len(shape), len(shape)))
    x = rng.normal(size=shape)
    n = shape[dim]
    idx = tuple(sorted(rng.integers(-n, n + 1, size=2).tolist()))
    sections = int(rng.integers(1, 4))
    for kw in (
        {"indices": idx},
        {"sections": sections},
        {"tensor_indices_or_sections": "T"},
    ):
        want_kw = {k: (torch.tensor(list(idx)) if v == "T" else v) for k, v in kw.items()}
        got_kw = {k: (glassgrad.tensor(list(idx)) if v == "T" else v) for k, v in kw.items()}
        want = torch.tensor_split(torch.tensor(x), dim=dim, **want_kw)
        got = glassgrad.tensor_split(glassgrad.tensor(x), dim=dim, **got_kw)
        got_m = glassgrad.tensor(x).tensor_split(dim=dim, **got_kw)
        assert [w.shape for w in want] == [tuple(g.shape) for g in got] == [tuple(g.shape) for g in got_m]
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_tensor_split_gradcheck_through_keywords():
    rng = np.random.default_rng(7)
    for shape, dim, kw in (((3, 5), 1, {"indices": (1, -2)}), ((4, 2, 3), 0, {"sections": 3})):
        x = glassgrad.tensor(rng.normal(size=shape), requires_grad=True)
        w = [glassgrad.tensor(rng.normal(size=p.shape)) for p in glassgrad.tensor_split(x, dim=dim, **kw)]

        def f(x, kw=kw, dim=dim, w=w):
            return sum(((p * q) ** 2).sum() for p, q in zip(glassgrad.tensor_split(x, dim=dim, **kw), w))

        assert gradcheck(f, (x,))


def test_hsplit_vsplit_dsplit_take_indices_and_sections(torch):
    x = np.arange(2 * 4 * 6.0).reshape(2, 4, 6)
    for op, kw in (
        ("hsplit", {"sections": 2}),
        ("vsplit", {"indices": [1]}),
        ("dsplit", {"indices": (2, 5)}),
    ):
        want = getattr(torch, op)(torch.tensor(x), **kw)
        got = getattr(glassgrad, op)(glassgrad.tensor(x), **kw)
        got_m = getattr(glassgrad.tensor(x), op)(**kw)
        assert len(want) == len(got) == len(got_m)
        for w, g, m in zip(want, got, got_m):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
            np.testing.assert_array_equal(m.numpy(), w.numpy())


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"indices": 2}, "'indices' must be a sequence of ints"),
        ({"sections": (1, 2)}, "'sections' must be an int"),
        ({"tensor_indices_or_sections": [1]}, "must be a Tensor"),
        ({"indices": (1,), "sections": 2}, "more than once"),
        ({}, "missing the split points"),
    ],
)
def test_tensor_split_keyword_errors(torch, kw, match):
    with pytest.raises(TypeError):
        torch.tensor_split(torch.arange(6.0), **kw)
    with pytest.raises(TypeError, match=match):
        glassgrad.tensor_split(glassgrad.arange(6.0), **kw)


def _tagged(lib):
    class Tagged(lib.Tensor):
        seen: ClassVar[list] = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.seen.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs or {})

    return Tagged


def test_jacobian_hands_fn_the_subclass_and_takes_tuple_outputs(torch):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3,)), rng.normal(size=(2, 3))
    res = {}
    for lib in (torch, glassgrad):
        T = _tagged(lib)
        x = lib.tensor(a).as_subclass(T)
        y = lib.tensor(b)
        kinds = []

        def fn(x, y, kinds=kinds, T=T):
            kinds.append(type(x) is T)
            return (x * y).sum(0) ** 2, (x.exp() * 2).as_subclass(lib.Tensor)

        J = lib.autograd.functional.jacobian(fn, (x, y))
        one = lib.autograd.functional.jacobian(lambda x: (x.sin(), x.cos()), lib.tensor(a))
        _, v = lib.autograd.functional.vjp(lambda x: (x**3).sum(), x)
        res[lib] = (
            kinds,
            [[j.detach().numpy() for j in row] for row in J],
            [j.numpy() for j in one],
            v.numpy(),
        )
    assert res[torch][0] == res[glassgrad][0] == [True]
    for w, g in zip(res[torch][1], res[glassgrad][1]):
        for wj, gj in zip(w, g):
            np.testing.assert_allclose(gj, wj, rtol=1e-12, atol=1e-12)
    for wj, gj in zip(res[torch][2], res[glassgrad][2]):
        np.testing.assert_allclose(gj, wj, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res[glassgrad][3], res[torch][3], rtol=1e-12)


def test_jacobian_strict_checks_each_output(torch):
    x = np.ones(2)
    for lib in (torch, glassgrad):
        with pytest.raises(RuntimeError):  # glassgrad's GraphError is a RuntimeError
            lib.autograd.functional.jacobian(
                lambda x, y: (x * 2, x * 3 + 0 * y), (lib.tensor(x), lib.tensor(x)), strict=True
            )


def test_collate_private_path():
    from glassgrad.utils.data._utils.collate import default_collate, default_convert

    assert default_collate is glassgrad.utils.data.default_collate
    assert default_convert is glassgrad.utils.data.default_convert
    import glassgrad.utils.data._utils as u

    assert u.collate.default_collate is default_collate


def test_func_names_of_method_aliases_are_pytorchs(torch):
    names = {}
    for lib in (torch, glassgrad):
        T = _tagged(lib)
        t = lib.ones(2, 3, dtype=lib.float64).as_subclass(T)
        T.seen.clear()
        t.new_zeros(2)
        t.new_ones(2)
        t.new_empty(2)
        t.new_full((2,), 1.0)
        t.new_tensor([1.0])
        t.clip(0, 1)
        t.absolute()
        t.arctan()
        t.negative()
        t.true_divide(2)
        t.multiply(2)
        names[lib] = list(T.seen)
    assert names[glassgrad] == names[torch]


def test_as_subclass_does_not_ask_torch_function(torch):
    for lib in (torch, glassgrad):
        T = _tagged(lib)
        t = lib.ones(2).as_subclass(T)
        T.seen.clear()
        plain = t.as_subclass(lib.Tensor)
        assert type(plain) is lib.Tensor and T.seen == []
    assert type(glassgrad.Tensor.__dict__["as_subclass"]).__name__ == "function"


def test_as_subclass_put_in_the_namespace_before_the_switch_stays_plain():
    # fastai: torch.as_subclass = torch.Tensor.as_subclass, then TensorBase (a class that takes part)
    code = (
        "import glassgrad as g\n"
        "g.as_subclass = g.Tensor.as_subclass\n"
        "class A(g.Tensor):\n"
        "    def clone(self):\n"
        "        return self.as_subclass(g.Tensor).clone().as_subclass(type(self))\n"
        "a = g.ones(2).as_subclass(A)\n"
        "assert type(g.as_subclass(a, g.Tensor)) is g.Tensor\n"
        "assert type(a.clone()) is A\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def _meta(lib):
    class Meta(lib.Tensor):
        def __new__(cls, x, **kwargs):
            res = lib.as_tensor(x).as_subclass(cls)
            for k, v in kwargs.items():
                setattr(res, k, v)
            return res

    return Meta


def test_a_subclass_with_its_own_new_pickles_as_in_pytorch(torch):
    out = {}
    for lib in (torch, glassgrad):
        m = _meta(lib)
        globals()["Meta"] = m  # pickled by reference
        m.__qualname__ = "Meta"
        m.__module__ = __name__
        t = m(lib.tensor([1.0, 2.0], dtype=lib.float64), img_size=128, tag="x")
        back = pickle.loads(pickle.dumps(t))
        out[lib] = (type(back).__name__, dict(vars(back)), back.tolist(), back.requires_grad)
    assert out[glassgrad] == out[torch] == ("Meta", {"img_size": 128, "tag": "x"}, [1.0, 2.0], False)


@pytest.mark.parametrize(
    "args",
    [(2.585,), (3.32,), (0.5, 3.7), (-2.5, 2.5), (0, 5, 1.5), (10, 0.5, -3), (7.9, 1, -2.5), (4,), (0, 9, 2)],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int16"])
def test_arange_into_an_integer_dtype_truncates_as_pytorch(torch, args, dtype):
    # pypose's cumops: torch.arange(math.log2(L) + 1, dtype=torch.int64) has floor(...) + 1 values
    if dtype == "uint8" and min(args) < 0:
        return
    want = torch.arange(*args, dtype=getattr(torch, dtype))
    got = glassgrad.arange(*args, dtype=getattr(glassgrad, dtype))
    assert got.dtype == getattr(glassgrad, dtype)
    assert got.tolist() == want.tolist()


def test_arange_integer_step_truncated_to_zero_is_refused(torch):
    with pytest.raises(ValueError, match="step must be nonzero"):
        torch.arange(1, 3, 0.5, dtype=torch.int64)
    with pytest.raises(ValueError, match="step must be nonzero"):
        glassgrad.arange(1, 3, 0.5, dtype=glassgrad.int64)
