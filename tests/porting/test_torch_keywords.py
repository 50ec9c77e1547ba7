"""PyTorch's keyword names for operands (torch_keywords.py): ``torch.sum(input=x)``,
``torch.eq(x, other=y)``, ``x.mm(mat2=w)``, checked against PyTorch's own parser signatures."""

import ast
import inspect
import pathlib

import numpy as np
import pytest

import glassgrad as gg

# PyTorch names no glassgrad function takes, each for a reason:
# - "self" only in PyTorch's deprecated overloads (torch.addmm(beta, self, alpha, mat1, mat2));
# - from_numpy takes no keywords in PyTorch; uniform_'s "from" is a Python keyword;
# - out_dtype (mm, bmm, addmm, baddbmm) runs on CUDA only: PyTorch's CPU build raises
#   NotImplementedError for it.
ANY = {"self", "out_dtype"}
NOT_TAKEN = {
    ("top", "from_numpy"): {"ndarray"},
    ("method", "uniform_"): {"from_"},
    ("method", "requires_grad_"): {"mode"},  # the stub's name; PyTorch's parser takes requires_grad
    ("method", "new_tensor"): {"pin_memory"},  # the stub has it; PyTorch's new_tensor refuses it
    # max(x, other=y): our max's second parameter is dim, so other=1 would reduce over dim 1
    # where PyTorch refuses a number; refused here, max(x, y) positionally is the elementwise max
    ("top", "max"): {"other"},
    ("top", "min"): {"other"},
    ("method", "max"): {"other"},
    ("method", "min"): {"other"},
    ("method", "new"): {"cls", "other", "size", "storage"},  # the legacy constructor's overloads
    # result_type's Number overloads name their operands scalar, scalar1, scalar2; ours takes a
    # number or a tensor in either place, named as the Tensor overload names them (tensor, other)
    ("top", "result_type"): {"scalar", "scalar1", "scalar2"},
}


def _overloads(path, cls=None, keyword_only=False):
    tree = ast.parse(path.read_text())
    body = tree.body
    if cls:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == cls).body
    found = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            if keyword_only:
                names = [a.arg for a in node.args.kwonlyargs]
            else:
                names = [a.arg for a in node.args.posonlyargs + node.args.args][1 if cls else 0 :]
            found.setdefault(node.name, set()).update(names)
    return found


def _accepted(fn):
    names = set(inspect.signature(fn).parameters)
    return names | set(getattr(fn, "__keyword_aliases__", {}))


def _unaccepted(table, lookup, kind):
    missing = {}
    for name, torch_names in table.items():
        fn = lookup(name)
        if fn is None or isinstance(fn, type) or not callable(fn) or name.startswith("__"):
            continue
        try:
            params = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):
            continue
        if any(p.kind is p.VAR_KEYWORD for p in params):
            continue  # (**kwargs: passed on to the op, which names them)
        lost = torch_names - _accepted(fn) - ANY - NOT_TAKEN.get((kind, name), set())
        if lost:
            missing[name] = sorted(lost)
    return missing


# Keyword-only names of PyTorch's stubs that are not taken, each for a reason: argsort's out= is
# refused by PyTorch 2.13's own parser; named tensors (names=) and expand's internal implicit= are
# not here.
KEYWORD_ONLY_NOT_TAKEN = {
    ("top", "argsort"): {"out"},
    ("top", "full"): {"names"},
    ("method", "expand"): {"implicit"},
    ("top", "range"): {"pin_memory"},  # in the stub; PyTorch 2.13's torch.range refuses it (a TypeError)
    # in the stubs, refused by PyTorch's parser on the methods
    **{("method", name): {"out"} for name in ("add", "sub", "mul", "true_divide", "floor_divide")},
}


@pytest.mark.parametrize("kind", ["top", "method"])
def test_every_torch_keyword_only_name_is_taken(torch, kind):
    stubs = pathlib.Path(torch.__file__).parent / "_C"
    if kind == "top":
        table = _overloads(stubs / "_VariableFunctions.pyi", keyword_only=True)
        lookup = lambda n: getattr(gg, n, None) if n in gg.__all__ else None  # noqa: E731
    else:
        table = _overloads(stubs / "__init__.pyi", "TensorBase", keyword_only=True)
        lookup = lambda n: vars(gg.Tensor).get(n)  # noqa: E731
    missing = {}
    for name, torch_names in table.items():
        fn = lookup(name)
        if fn is None or isinstance(fn, type) or not callable(fn) or name.startswith("__"):
            continue
        params = inspect.signature(fn).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            continue
        lost = torch_names - _accepted(fn) - ANY - KEYWORD_ONLY_NOT_TAKEN.get((kind, name), set())
        if lost:
            missing[name] = sorted(lost)
    assert missing == {}


def test_every_torch_operand_name_is_taken(torch):
    stubs = pathlib.Path(torch.__file__).parent / "_C"
    top = _overloads(stubs / "_VariableFunctions.pyi")
    methods = _overloads(stubs / "__init__.pyi", "TensorBase")
    public = set(gg.__all__)
    assert _unaccepted(top, lambda n: getattr(gg, n, None) if n in public else None, "top") == {}
    assert _unaccepted(methods, lambda n: vars(gg.Tensor).get(n), "method") == {}


CALLS = [
    "sum(input=x)",
    "sum(input=x, dim=1)",
    "mean(input=x, axis=0, keepdims=True)",
    "acos(input=x / 10)",
    "clamp(input=x, min=0.5)",
    "eq(x, other=y)",
    "eq(input=x, other=y)",
    "maximum(input=x, other=y)",
    "atan2(input=x, other=y)",
    "remainder(input=x, other=y)",
    "pow(input=x, exponent=2)",
    "outer(input=x[0], vec2=y[0])",
    "min(input=x, dim=1).values",
    "sort(input=x, dim=0).values",
    "swapdims(input=x, dim0=0, dim1=1)",
    "gather(input=x, dim=1, index=i)",
    "det(input=x[:, :3] ** 2)",
    "cumsum(input=x, dim=0)",
    "flatten(input=x)",
    "reshape(input=x, shape=(4, 3))",
    "permute(input=x, dims=(1, 0))",
    "tile(input=x, dims=(2,))",
]
METHOD_CALLS = [
    "x.atan2(other=y)",
    "x.remainder(other=y)",
    "x.mm(mat2=y.T)",
    "x[None].bmm(mat2=y.T[None])",
    "x.broadcast_to(size=(2, 3, 4))",
    "x.split(split_size=2, dim=1)[0]",
    "x.swapdims(dim0=0, dim1=1)",
    "x.clone().copy_(other=y)",
    "x.greater_equal(other=y)",
    "x.clone().copy_(y, non_blocking=True)",
    "x.clone().multiply_(other=y)",
    "x.clone().divide_(y, rounding_mode='floor')",
    "x.clone().true_divide_(other=y)",
    "x.view(size=(4, 3))",
    "x.reshape(shape=(2, 6))",
    "x[:1].expand(size=(2, 4))",
    "x.repeat(repeats=(2, 1))",
    "x.permute(dims=(1, 0))",
    "(x @ x.T + 10 * y[:, :3]).cholesky_solve(input2=(x[:, :3] ** 2).tril() + 5)",
]


@pytest.mark.parametrize("call", CALLS)
def test_functions_take_torch_names(torch, call):
    data = np.arange(1.0, 13.0).reshape(3, 4)
    env = {"x": data, "y": data[::-1].copy(), "i": np.array([[0, 1], [2, 3], [1, 0]])}
    ours = eval("gg." + call, {"gg": gg, **{k: gg.tensor(v) for k, v in env.items()}})
    theirs = eval("torch." + call, {"torch": torch, **{k: torch.tensor(v) for k, v in env.items()}})
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", METHOD_CALLS)
def test_methods_take_torch_names(torch, call):
    data = np.arange(1.0, 13.0).reshape(3, 4)
    ours = eval(call, {"x": gg.tensor(data), "y": gg.tensor(data[::-1].copy())})
    theirs = eval(call, {"x": torch.tensor(data), "y": torch.tensor(data[::-1].copy())})
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_operand_given_twice_or_missing_is_a_type_error(torch):
    x = gg.ones(2)
    with pytest.raises(TypeError, match=r"acos\(\) got multiple values for argument 'input'"):
        gg.acos(x, input=x)
    with pytest.raises(TypeError, match=r"acos\(\) missing required argument 'input'"):
        gg.acos()
    with pytest.raises(TypeError, match="multiple values"):
        gg.eq(x, x, other=x)
    with pytest.raises(TypeError):  # PyTorch refuses both spellings too
        torch.acos(torch.ones(2), input=torch.ones(2))


def test_our_own_names_still_work_and_signatures_are_ours():
    x = gg.ones(2)
    assert gg.eq(a=x, b=x).all()
    assert next(iter(inspect.signature(gg.acos).parameters)) == "a"
    assert gg.Tensor.atan2.__keyword_aliases__ == {"other": "b"}


def test_transfer_keywords_of_the_device_methods(torch):
    data = np.arange(24.0).reshape(1, 2, 3, 4)
    ours, theirs = gg.tensor(data), torch.tensor(data)
    assert (
        ours.cpu(memory_format=gg.channels_last).stride()
        == theirs.cpu(memory_format=torch.channels_last).stride()
    )
    assert ours.cpu() is ours
    target = gg.zeros(1, 2, 3, 4)
    assert target.copy_(ours, non_blocking=True) is target and (target == ours).all()
    assert ours.type(gg.float32, non_blocking=True).dtype == gg.float32
    assert ours.pin_memory(device=None) is ours and ours.is_pinned(device=None) is False


@pytest.mark.parametrize(
    "call",
    [
        "x.div(y, rounding_mode='floor')",
        "x.div(y, rounding_mode='trunc')",
        "x.divide(y, rounding_mode='floor')",
        "x.clone().div_(y, rounding_mode='trunc')",
        "x.long().div(2, rounding_mode='floor')",
        "x.prod(1, dtype=lib.float64)",
        "lib.prod(x, dtype=lib.int64)",
        "lib.prod(x.int(), 0, keepdim=True, dtype=lib.int16)",
        "x.int().prod(dtype=lib.float32)",
    ],
)
def test_methods_keywords_found_by_the_stub_survey(torch, call):
    data = np.array([[2.5, -3.5, 4.0], [1.5, 7.0, -7.0]])
    results = []
    for lib in (torch, gg):
        x, y = lib.tensor(data), lib.tensor(np.full((2, 3), 2.0))
        results.append(eval(call, {"lib": lib, "x": x, "y": y}))
    ours, theirs = results
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_prod_in_another_dtype_has_the_gradient_of_the_cast(torch):
    data = np.random.default_rng(0).uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    x = gg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    gg.prod(x, 1, dtype=gg.float64).sum().backward()
    torch.prod(t, 1, dtype=torch.float64).sum().backward()
    assert x.grad.dtype == gg.float32
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    assert gg.autograd.gradcheck(
        lambda a: gg.prod(a, 0, dtype=gg.float64), (gg.tensor(data.astype(np.float64), requires_grad=True),)
    )


def test_numpy_force_detaches_as_pytorch(torch):
    x = gg.ones(2, requires_grad=True)
    with pytest.raises(gg.errors.GraphError):
        x.numpy()
    np.testing.assert_array_equal(x.numpy(force=True), torch.ones(2, requires_grad=True).numpy(force=True))


def test_max_refuses_other_as_a_dim():
    x = gg.ones(2, 3)
    with pytest.raises(TypeError):
        gg.max(x, other=1)  # PyTorch refuses it too (other must be a tensor)
    assert gg.max(x, gg.zeros(2, 3)).tolist() == [[1.0] * 3] * 2


def test_random_fills_take_torchs_names(torch):
    for lib in (gg, torch):
        x = lib.empty(1000, dtype=lib.float64)
        assert x.exponential_(lambd=4.0).mean().item() < 0.5
        assert x.log_normal_(mean=0.0, std=0.01).min().item() > 0.9
        assert x.geometric_(p=0.999).max().item() <= 2.0
        assert set(x.random_(**{"from": 3, "to": 5}).tolist()) <= {3.0, 4.0}


def test_a_dtype_that_is_not_outs_is_refused(torch):
    x = np.ones((2, 3), np.float32)
    for name in ("sum", "cumsum", "nansum", "softmax"):
        for lib, error in ((torch, RuntimeError), (gg, gg.errors.DTypeError)):
            with pytest.raises(error):
                getattr(lib, name)(lib.tensor(x), 1, dtype=lib.float64, out=lib.empty(2, 3))


@pytest.mark.parametrize("call", ["sum([1.0, 2.0])", "acos(np.ones(2))", "cumsum([1.0], 0)"])
def test_a_non_tensor_operand_is_pytorchs_type_error(torch, call):
    with pytest.raises(TypeError):
        eval("torch." + call, {"torch": torch, "np": np})
    with pytest.raises(TypeError, match=r"\(\): expected a Tensor as argument 'input'"):
        eval("gg." + call, {"gg": gg, "np": np})


@pytest.mark.parametrize("dtype", ["int32", "float16", "int64", "uint8"])
def test_view_as_another_dtype_reads_the_same_bits(torch, dtype):
    data = np.arange(1.0, 9.0, dtype=np.float32).reshape(2, 4)
    x, t = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = x.view(getattr(gg, dtype)), t.view(dtype=getattr(torch, dtype))
    assert tuple(ours.shape) == tuple(theirs.shape) and not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    bits = x.detach().view(gg.int32)
    bits[0, 0] = 0  # the same memory, as PyTorch's
    assert x[0, 0].item() == 0.0
    with pytest.raises(RuntimeError):
        gg.ones(2, 3).t().view(gg.float16)  # another element size needs a last dim of stride 1


@pytest.mark.parametrize(
    "call",
    [
        "lib.empty(2, 4, device='meta').view(lib.float64).shape",
        "lib.zeros(0, 4).view(lib.float64).shape",
        "lib.tensor([1.0, 2.0, 3.0, 4.0])[2:4].view(lib.float64).dtype",
        "lib.tensor([1.0, 2.0, 3.0, 4.0])[1:3].view(lib.float64)",  # an odd offset: refused
        "lib.ones(4, 2)[:, ::2].view(lib.int16)",  # stride 2: refused
        "lib.tensor(1.0).view(lib.float64)",  # 0-dim, another size: refused
    ],
)
def test_view_as_dtype_edges_as_pytorch(torch, call):
    results = []
    for lib in (torch, gg):
        try:
            results.append(
                str(tuple(eval(call, {"lib": lib}))) if "shape" in call else str(eval(call, {"lib": lib}))
            )
        except RuntimeError:
            results.append("refused")
    assert results[0].replace("torch.", "") == results[1].replace("glassgrad.", "")
