"""A non-tensor operand (a NumPy array, a list, None where a tensor is required) given to a public
function of ``glassgrad``, ``glassgrad.nn.functional``, ``glassgrad.linalg`` or ``glassgrad.fft`` raises a TypeError
naming the function and the argument, never an AttributeError from inside an op
(``glassgrad/operand_errors.py``)."""

import inspect
import pickle

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F

NAMESPACES = {"glassgrad": gg, "F": F, "linalg": gg.linalg, "special": gg.special, "fft": gg.fft}
# Not operands: the device type these take is a string (torch.get_autocast_dtype("cpu")).
NOT_OPERANDS = {"get_autocast_dtype", "set_autocast_dtype"}
# PyTorch's own AttributeError by design: torch.save(obj, f) with an f that is neither a path nor has
# write (here the ones(2, 3) given as f), raised before anything is written
OWN_ATTRIBUTE_ERROR = {"save"}


def _public_functions():
    for prefix, mod in NAMESPACES.items():
        for name in getattr(mod, "__all__", ()):
            fn = getattr(mod, name, None)
            if name in NOT_OPERANDS or name in OWN_ATTRIBUTE_ERROR or not inspect.isfunction(fn):
                continue
            try:
                params = inspect.signature(fn).parameters.values()
            except (TypeError, ValueError):
                continue
            required = [
                p
                for p in params
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            if required:
                yield pytest.param(fn, len(required), id=f"{prefix}.{name}")


@pytest.mark.filterwarnings("ignore::UserWarning")  # (deprecated forms some functions warn about)
@pytest.mark.filterwarnings("ignore::FutureWarning")  # (_check_is_size: deprecated in PyTorch 2.13)
@pytest.mark.parametrize("value", [np.ones((2, 3), np.float32), [[1.0, 2.0, 3.0]]], ids=["ndarray", "list"])
@pytest.mark.parametrize("fn, n", list(_public_functions()))
def test_no_attribute_error_from_inside_for_a_non_tensor_first_operand(fn, n, value):
    args = [value] + [gg.ones(2, 3) for _ in range(n - 1)]
    try:
        fn(*args)
    except AttributeError as e:  # the defect this file is about
        pytest.fail(f"{fn.__name__}: AttributeError for a {type(value).__name__} operand: {e}")
    except Exception:  # any other error (TypeError, ShapeError ...) is a named one
        pass


@pytest.mark.parametrize(
    "call, arg",
    [
        ("F.relu(np.ones(3))", "input"),
        ("F.linear(gg.ones(2, 3), np.ones((4, 3), np.float32))", "weight"),
        ("F.cross_entropy(np.ones((2, 3)), gg.tensor([0, 1]))", "input"),
        ("F.max_pool1d(np.ones((1, 1, 4)), 2)", "input"),
        ("gg.exp([1.0])", "input"),
        ("gg.reshape(np.ones(4), 2, 2)", "input"),
        ("gg.diag(np.ones((2, 3)))", "input"),
        ("gg.sin_(np.ones(2))", "input"),
        ("gg.linalg.inv([[1.0, 0.0], [0.0, 1.0]])", "A"),
        ("F.relu(None)", "input"),
        ("F.linear(gg.ones(2, 3), None)", "weight"),
    ],
)
def test_the_type_error_names_the_function_and_the_argument(call, arg):
    name = call.split("(")[0].split(".")[-1]
    with pytest.raises(TypeError, match=rf"^{name}\(\): expected a Tensor as argument '{arg}', got "):
        eval(call, {"gg": gg, "F": F, "np": np})


@pytest.mark.parametrize(
    "call",
    [
        "F.relu(np.ones(3))",
        "F.linear(lib.ones(2, 3), np.ones((4, 3), np.float32))",
        "lib.exp([1.0])",
        "F.relu(None)",
    ],
)
def test_pytorch_raises_a_type_error_there_too(torch, call):
    for lib, functional in ((torch, torch.nn.functional), (gg, F)):
        with pytest.raises(TypeError):
            eval(call, {"lib": lib, "F": functional, "np": np})


def test_a_pytorch_tensor_is_named_as_pytorchs_and_the_protocol_stays_off(torch):
    from glassgrad import torch_function

    was_on = torch_function.state.on
    with pytest.raises(
        TypeError, match=r"^relu\(\): expected a Tensor as argument 'input', got torch\.Tensor \("
    ):
        F.relu(torch.ones(2))
    assert torch_function.state.on == was_on  # PyTorch's own Tensor is no foreign type to hand over


def test_an_optional_operand_left_none_is_not_blamed():
    # linear's bias is optional: None there is fine, and an error elsewhere keeps its own kind
    assert F.linear(gg.ones(2, 3), gg.ones(4, 3), None).shape == (2, 4)
    with pytest.raises(gg.errors.ShapeError):
        F.linear(gg.ones(2, 3), gg.ones(4, 5), None)


def test_a_function_published_twice_gets_one_wrapper():
    from glassgrad import operand_errors

    def double(input):
        return input * 2

    first, second = {"double": double}, {"twice": double}
    operand_errors.install(first, ["double"])
    operand_errors.install(second, ["twice"])
    assert first["double"] is second["twice"] is not double
    assert first["double"](gg.ones(2)).tolist() == [2.0, 2.0]
    assert inspect.signature(F.relu).parameters.keys() == {"input", "inplace"}
    assert "def relu" in inspect.getsource(F.relu)


def test_an_attribute_error_of_the_users_own_object_stays_one():
    class NotATensor:
        def __getattr__(self, name):
            raise AttributeError(f"NotATensor has no {name}")

    # raised in the user's own code, not in an op of glassgrad's: left as it is
    with pytest.raises(AttributeError, match="NotATensor has no"):
        F.relu(NotATensor())


def _pickles(fn):
    try:
        return fn is not None and pickle.loads(pickle.dumps(fn)) is fn
    except (pickle.PicklingError, AttributeError, TypeError):
        return False


def test_wrapped_functions_pickle_by_their_public_names_as_pytorchs(torch):
    # was: F.relu, linalg.inv ... (the wrappers) kept the wrapped function's module and name, so
    # pickle refused them ("not the same object as glassgrad.nn.functional.activation.relu"): a
    # model holding self.act = F.relu could not be saved whole, nor a partial sent to a worker
    namespaces = (
        (F, torch.nn.functional),
        (gg.linalg, torch.linalg),
        (gg.special, torch.special),
        (gg.fft, torch.fft),
    )
    for ours, theirs in namespaces:
        failed = []
        for name in ours.__all__:
            fn = getattr(ours, name)
            if inspect.isfunction(fn) and _pickles(getattr(theirs, name, None)) and not _pickles(fn):
                failed.append(name)  # (PyTorch's max_pool*d, boolean_dispatch closures, do not pickle)
        assert failed == [], ours.__name__
    assert pickle.loads(pickle.dumps(F.relu))(gg.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


@pytest.mark.parametrize("name", ["entr", "ndtr", "i1e", "log_ndtr"])
def test_special_functions_raise_the_type_error_too(torch, name):
    with pytest.raises(TypeError):
        getattr(torch.special, name)(np.ones(3))
    with pytest.raises(TypeError, match=rf"^{name}\(\): expected a Tensor as argument 'input', got ndarray"):
        getattr(gg.special, name)(np.ones(3))


@pytest.mark.parametrize("module", ["glassgrad_helpers", "torch_helpers"])
def test_a_warning_names_a_line_of_a_user_module_named_like_the_library(torch, module):
    # was: user_stacklevel skipped every frame whose module name starts with "glassgrad", so a
    # user's glassgrad_helpers.py was passed over and the warning named the caller of the caller
    import types
    import warnings

    helpers = types.ModuleType(module)
    source = "def probs(F, x):\n    return F.softmax(x)\n"  # (no dim: PyTorch's deprecation warning)
    exec(compile(source, f"<{module}>", "exec"), helpers.__dict__)
    for lib, functional in ((torch, torch.nn.functional), (gg, F)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            helpers.probs(functional, lib.ones(3))
        assert [(x.filename, x.lineno) for x in w] == [(f"<{module}>", 2)], lib.__name__


def test_index_put_uint8_warning_names_the_callers_line(torch):
    # was: stacklevel=3 named the generated wrapper (<numpy names of ...index_put>) or methods.py
    import warnings

    calls = {
        "gg.index_put": lambda m: m.index_put(m.zeros(3), (m.tensor([1, 0, 1], dtype=m.uint8),), m.ones(2)),
        "x.index_put_": lambda m: m.zeros(3).index_put_((m.tensor([1, 0, 1], dtype=m.uint8),), m.ones(2)),
        "x.index_put": lambda m: m.zeros(3).index_put((m.tensor([1, 0, 1], dtype=m.uint8),), m.ones(2)),
    }
    for name, call in calls.items():
        for m in (gg, torch):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                call(m)
            assert [x.filename for x in w] == [__file__], (
                name,
                m.__name__,
                [(x.filename, x.lineno) for x in w],
            )
