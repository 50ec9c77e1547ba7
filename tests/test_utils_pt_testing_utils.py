"""``futures``, ``hub.load(source="local")`` and ``FlopCounterMode`` against PyTorch's (round 67,
the cases of PyTorch's ``test_futures.py``, ``test_hub.py`` and ``test_flop_counter.py``)."""

from __future__ import annotations

import pickle
import textwrap

import pytest

import glassgrad as gg
from glassgrad.futures import Future
from glassgrad.utils.flop_counter import FlopCounterMode


def test_done_callback_errors_are_logged_not_raised(torch, caplog):
    """PyTorch logs an error raised by an ``add_done_callback`` callback and goes on: the future
    completes, later callbacks run and ``then`` futures get their values."""
    outcomes = []
    for mod in (torch, gg):
        seen = []
        fut = mod.futures.Future()
        fut.add_done_callback(lambda f: seen.append(1))
        fut.add_done_callback(lambda f: (_ for _ in ()).throw(ValueError("boom")))
        chained = fut.then(lambda f: f.wait() + len(seen))
        fut.add_done_callback(lambda f: seen.append(2))
        fut.set_result(mod.ones(1))
        late = []
        fut.add_done_callback(lambda f: (_ for _ in ()).throw(ValueError("late")))  # already complete
        fut.add_done_callback(lambda f: late.append(3))
        outcomes.append((seen, chained.wait().tolist(), fut.wait().tolist(), late))
    assert outcomes[1] == outcomes[0]
    assert "boom" in caplog.text and "late" in caplog.text


def test_future_completed_twice_message_and_pickle(torch):
    for mod in (torch, gg):
        fut = mod.futures.Future()
        fut.set_result(1)
        with pytest.raises(RuntimeError, match="Future can only be marked completed once"):
            fut.set_result(1)
        with pytest.raises(RuntimeError, match="Can not pickle torch.futures.Future"):
            pickle.dumps(mod.futures.Future())


def test_future_then_errors_surface(torch):
    for mod in (torch, gg):
        fut = mod.futures.Future()
        wrong = fut.then(lambda f: f + 1)
        fut.set_result(5)
        with pytest.raises(RuntimeError, match="unsupported operand type.*Future.*int"):
            wrong.wait()
        assert Future is gg.futures.Future


def _hubconf(tmp_path, source: str) -> str:
    (tmp_path / "hubconf.py").write_text(textwrap.dedent(source))
    return str(tmp_path)


def test_hub_load_local(torch, tmp_path):
    repo = _hubconf(
        tmp_path,
        '''
        dependencies = ["os"]
        def mymodel(pretrained=False, scale=1):
            """A docstring."""
            return ("built", pretrained, scale)
        not_callable = 3
        ''',
    )
    for mod in (torch, gg):
        assert mod.hub.load(repo, "mymodel", source="local") == ("built", False, 1)
        assert mod.hub.load(repo, "mymodel", True, scale=3, source="LOCAL", trust_repo=True) == (
            "built",
            True,
            3,
        )
        for name, error, text in [
            ("nope", RuntimeError, "Cannot find callable nope in hubconf"),
            ("not_callable", RuntimeError, "Cannot find callable not_callable in hubconf"),
            (3, ValueError, "model should be a string"),
        ]:
            with pytest.raises(error, match=text):
                mod.hub.load(repo, name, source="local")
        with pytest.raises(ValueError, match='Unknown source: "bogus"'):
            mod.hub.load(repo, "mymodel", source="bogus")


def test_hub_load_local_missing_dependency(torch, tmp_path):
    repo = _hubconf(tmp_path, "dependencies = ['surely_not_a_module_xyz']\ndef m():\n    return 1\n")
    for mod in (torch, gg):
        with pytest.raises(RuntimeError, match="Missing dependencies: surely_not_a_module_xyz"):
            mod.hub.load(repo, "m", source="local")


def _flops(mod, fn):
    counter = __import__(f"{mod.__name__}.utils.flop_counter", fromlist=["FlopCounterMode"]).FlopCounterMode
    with counter(display=False) as m:
        fn()
    return m.get_total_flops(), {
        k: {str(op): n for op, n in v.items()} for k, v in m.get_flop_counts().items()
    }


@pytest.mark.parametrize(
    "shapes, kw",
    [
        (((2, 3, 8, 16), (2, 3, 10, 16), (2, 3, 10, 12)), {}),
        (((3, 8, 16), (3, 10, 16), (3, 10, 12)), {"is_causal": True}),
        (((2, 3, 8, 16), (1, 3, 10, 16), (1, 3, 10, 12)), {}),
        (((2, 6, 8, 16), (2, 3, 10, 16), (2, 3, 10, 12)), {"enable_gqa": True}),
        (((2, 3, 8, 16), (2, 3, 10, 16), (2, 3, 10, 16)), {}),  # PyTorch's fused CPU kernel: not counted
        (((2, 6, 8, 16), (2, 3, 10, 16), (2, 3, 10, 16)), {"enable_gqa": True}),
        (((2, 3, 8, 16), (1, 3, 10, 16), (1, 3, 10, 16)), {}),
        (((1, 2, 3, 8, 16), (1, 2, 3, 10, 16), (1, 2, 3, 10, 16)), {}),
        (((2, 3, 8, 16), (2, 3, 10, 16), (2, 3, 10, 16)), {"dropout_p": 0.5}),
    ],
)
@pytest.mark.parametrize("grads", [(), (0,), (2,), (0, 1, 2)])
def test_flops_of_scaled_dot_product_attention(torch, shapes, kw, grads):
    """On the CPU PyTorch counts attention's math path as its two batched products, and their
    backward once per gradient each needs; its fused kernel is not counted."""
    counts = []
    for mod in (torch, gg):
        mod.manual_seed(0)
        qkv = [mod.randn(*s, requires_grad=i in grads) for i, s in enumerate(shapes)]

        def run(mod=mod, qkv=qkv):
            out = mod.nn.functional.scaled_dot_product_attention(*qkv, **kw)
            if grads:
                out.sum().backward()

        counts.append(_flops(mod, run))
    assert counts[1] == (
        counts[0][0],
        {k: {op.replace("torch.", ""): n for op, n in v.items()} for k, v in counts[0][1].items()},
    )


def test_flop_counts_always_have_global(torch):
    for mod in (torch, gg):
        assert _flops(mod, lambda mod=mod: mod.mv(mod.ones(2, 3), mod.ones(3))) == (0, {"Global": {}})
    assert isinstance(FlopCounterMode(display=False).get_flop_counts(), dict)


def test_dlpack_export_of_a_tensor_requiring_grad_is_a_buffer_error(torch):
    for mod in (torch, gg):
        t = mod.ones(2, requires_grad=True)
        for export in (t.__dlpack__, lambda t=t, mod=mod: mod.from_dlpack(t)):
            with pytest.raises(BufferError):
                export()
    with pytest.raises(RuntimeError, match="requires grad"):  # (also a RuntimeError, as before)
        gg.ones(1, requires_grad=True).__dlpack__()
