"""Round 29, group clip: what open_clip (model.py, transformer.py, loss.py, coca_model.py) and timm
(the real library: ``timm.create_model`` of resnet, efficientnet, vit, convnext, mobilenetv3) needed.

timm's import touched ``torch.fx.wrap`` (module-level decorators), ``Sampler[...]`` as a generic base,
``torch.hub``, ``torch.jit.annotations``; open_clip's ``torch.TensorType`` and its gather through
``torch.distributed._functional_collectives.all_gather_tensor_autograd(..., group=dist.group.WORLD)``;
mobilenetv3's squeeze-excite gate is ``hardsigmoid``, whose PyTorch gradient uses 1/6 rounded to
float32 (float64 gradients differed by 3e-8 before).
"""

from __future__ import annotations

import os
import sys
import types
import typing
import warnings

import numpy as np
import pytest

import glassgrad as gg


def _module_level(lib: types.ModuleType, code: str) -> dict:
    """Run ``code`` as a module's top level (fx.wrap must be called there), with ``lib`` as torch."""
    namespace = {"torch": lib, "__name__": "fake_module"}
    exec(compile(code, "<fake_module>", "exec"), namespace)
    return namespace


def test_fx_wrap_at_module_level_returns_the_function_as_pytorch(torch):
    code = "@torch.fx.wrap\ndef leaf(x):\n    return x + 1\nname = torch.fx.wrap('len')\n"
    for lib in (gg, torch):
        ns = _module_level(lib, code)
        assert ns["leaf"](1) == 2 and ns["name"] == "len"


def test_fx_wrap_inside_a_function_or_of_a_number_refuses_as_pytorch(torch):
    for lib in (gg, torch):

        def inner(lib=lib):
            return lib.fx.wrap(len)

        with pytest.raises(NotImplementedError, match="top level"):
            inner()
        with pytest.raises(RuntimeError):
            _module_level(lib, "torch.fx.wrap(3)\n")


def test_sampler_and_dataset_subscript_as_generic_bases_as_pytorch(torch):
    from glassgrad.utils import data as gdata

    # timm's ScheduledBatchSampler(Sampler[List[Tuple[Any, int]]]) and typed datasets
    for lib_data in (gdata, torch.utils.data):

        class Batches(lib_data.Sampler[typing.List[int]]):  # noqa: UP006 - as timm writes it
            def __iter__(self):
                return iter([[0, 1], [2]])

        class Squares(lib_data.Dataset[int]):
            def __getitem__(self, i):
                return i * i

            def __len__(self):
                return 3

        loader = lib_data.DataLoader(Squares(), batch_sampler=Batches())
        assert [b.tolist() for b in loader] == [[0, 1], [4]]
    for name in ("Sampler", "Dataset", "IterableDataset", "DataLoader", "Subset", "ConcatDataset"):
        ours, theirs = getattr(gdata, name), getattr(torch.utils.data, name)
        assert [str(p) for p in ours.__parameters__] == [str(p) for p in theirs.__parameters__], name
    assert gdata.SequentialSampler.__parameters__ == () == torch.utils.data.SequentialSampler.__parameters__


def test_jit_annotations_import_and_tensor_type_as_pytorch(torch):
    from glassgrad.jit.annotations import (
        List,
        Tuple,
    )  # timm's densenet: `from torch.jit.annotations import List`

    assert List is typing.List and Tuple is typing.Tuple  # noqa: UP006
    assert sys.modules["glassgrad.jit.annotations"] is gg.jit.annotations
    assert repr(gg.TensorType.get()) == repr(torch.TensorType.get()) == "Tensor"
    assert gg.TensorType.get() is gg.TensorType.get()
    assert "TensorType" in gg.__all__ and "TensorType" in torch.__all__


def test_hub_dirs_and_hash_regex_as_pytorch(torch, monkeypatch, tmp_path):
    import glassgrad.hub as hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    saved = torch.hub._hub_dir
    try:
        torch.hub._hub_dir = None
        assert hub.get_dir() == torch.hub.get_dir() == str(tmp_path / "th" / "hub")
        hub.set_dir(tmp_path / "mine")
        torch.hub.set_dir(tmp_path / "mine")
        assert hub.get_dir() == torch.hub.get_dir()
    finally:
        hub._hub_dir, torch.hub._hub_dir = None, saved
    for name in ("resnet18-f37072fd.pth", "vit_b-c4d2.bin", "plain.pth"):
        ours, theirs = hub.HASH_REGEX.search(name), torch.hub.HASH_REGEX.search(name)
        assert (ours and ours.group(1)) == (theirs and theirs.group(1))


def test_hub_load_state_dict_from_url_downloads_once_and_checks_the_hash(tmp_path):
    import hashlib

    import glassgrad.hub as hub

    src = tmp_path / "src.safetensors"
    gg.save({"w": gg.arange(3.0)}, src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    good = tmp_path / f"net-{digest[:8]}.safetensors"
    good.write_bytes(src.read_bytes())
    cache = tmp_path / "cache"
    sd = hub.load_state_dict_from_url(good.as_uri(), model_dir=str(cache), check_hash=True)
    assert sd["w"].tolist() == [0.0, 1.0, 2.0] and (cache / good.name).exists()
    good.unlink()  # the cached copy serves the second call
    assert hub.load_state_dict_from_url(good.as_uri(), model_dir=str(cache))["w"].tolist() == [0.0, 1.0, 2.0]
    bad = tmp_path / "net-00000000.safetensors"
    bad.write_bytes(src.read_bytes())
    with pytest.raises(RuntimeError, match="SHA-256"):
        hub.load_state_dict_from_url(bad.as_uri(), model_dir=str(tmp_path / "c2"), check_hash=True)
    assert os.listdir(tmp_path / "c2") == []  # no partial file left
    with pytest.raises(NotImplementedError, match="hubconf"):
        hub.load("pytorch/vision", "resnet18")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hardsigmoid_gradient_is_pytorchs_bit_for_bit(torch, dtype):
    x = np.array([-4.0, -3.0, -2.9, -0.3, 0.0, 1.7, 2.99, 3.0, 5.0, np.inf, -np.inf])
    g = np.linspace(0.1, 1.1, x.size)
    xt = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    xg = gg.tensor(x, dtype=getattr(gg, dtype), requires_grad=True)
    yt, yg = torch.nn.Hardsigmoid()(xt), gg.nn.Hardsigmoid()(xg)
    yt.backward(torch.tensor(g, dtype=xt.dtype))
    yg.backward(gg.tensor(g, dtype=xg.dtype))
    np.testing.assert_array_equal(yg.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xg.grad.numpy(), xt.grad.numpy())
    assert str(yg.dtype).split(".")[-1] == dtype and type(yg.grad_fn).__name__ == type(yt.grad_fn).__name__


def test_hardsigmoid_inplace_keeps_the_values_and_gradient(torch):
    x = np.array([-3.5, -1.0, 0.5, 2.0, 4.0])
    xt = torch.tensor(x, requires_grad=True)
    xg = gg.tensor(x, requires_grad=True)
    yt = torch.nn.functional.hardsigmoid(xt * 1.0, inplace=True)
    yg = gg.nn.functional.hardsigmoid(xg * 1.0, inplace=True)
    yt.sum().backward()
    yg.sum().backward()
    np.testing.assert_array_equal(yg.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(xg.grad.numpy(), xt.grad.numpy())


@pytest.fixture
def world_of_one(monkeypatch):
    import glassgrad.distributed as dist

    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29561")
    dist.init_process_group("gloo", rank=0, world_size=1)
    yield dist
    dist.destroy_process_group()


def test_group_world_is_the_default_group_before_init_as_pytorch(torch):
    import glassgrad.distributed as dist

    assert dist.group.WORLD is None is torch.distributed.group.WORLD
    assert dist.GroupMember.NON_GROUP_MEMBER == torch.distributed.GroupMember.NON_GROUP_MEMBER


def test_functional_all_gather_autograd_as_open_clip_gathers(world_of_one):
    from glassgrad.distributed import _functional_collectives as fcol

    dist = world_of_one
    rng = np.random.default_rng(0)
    img, txt = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    a, b = gg.tensor(img, requires_grad=True), gg.tensor(txt, requires_grad=True)
    with pytest.warns(FutureWarning, match="all_gather_tensor_autograd` is deprecated"):
        all_a = fcol.all_gather_tensor_autograd(a.contiguous(), gather_dim=0, group=dist.group.WORLD)
    all_b = fcol.all_gather_single_autograd(b, 0, dist.group.WORLD)
    logits = 10.0 * all_a @ all_b.T  # ClipLoss over a world of one, then its hand-derived gradient
    labels = gg.arange(4)
    loss = (
        gg.nn.functional.cross_entropy(logits, labels) + gg.nn.functional.cross_entropy(logits.T, labels)
    ) / 2
    loss.backward()
    z = 10.0 * img @ txt.T
    p_row = np.exp(z - z.max(1, keepdims=True))
    p_row /= p_row.sum(1, keepdims=True)
    p_col = np.exp(z - z.max(0, keepdims=True))
    p_col /= p_col.sum(0, keepdims=True)
    dz = (p_row - np.eye(4)) / 8 + (p_col - np.eye(4)) / 8
    np.testing.assert_allclose(a.grad.numpy(), 10.0 * dz @ txt, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), 10.0 * dz.T @ img, rtol=1e-12, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fcol.wait_tensor(fcol.all_reduce(a, "sum", dist.group.WORLD))
    assert out.tolist() == a.tolist() and out is not a
    with pytest.raises(ValueError, match="reduceOp"):
        fcol.all_reduce(a, "median", None)
    with pytest.raises(IndexError, match="dim 2"):
        fcol.all_gather_single(a, 2, None)


def test_functional_collectives_need_a_process_group():
    from glassgrad.distributed import _functional_collectives as fcol

    with pytest.raises(ValueError, match="not been initialized"):
        fcol.all_gather_single(gg.ones(2), 0, None)


def test_hardsigmoid_double_backward_forward_mode_and_float16_as_pytorch(torch):
    out = []
    for lib in (gg, torch):
        x = lib.tensor([-4.0, -1.0, 0.0, 2.0, 3.5], dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(lib.nn.functional.hardsigmoid(x).sum(), x, create_graph=True)
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(lib.tensor([-4.0, 0.0, 2.0]), lib.ones(3))
            tangent = lib.autograd.forward_ad.unpack_dual(lib.nn.functional.hardsigmoid(dual)).tangent
        xh = lib.tensor([0.1, 1.3, -2.2, 2.7], dtype=lib.float16, requires_grad=True)
        lib.nn.functional.hardsigmoid(xh).backward(lib.tensor([1.7, -3.1, 0.9, 2.5], dtype=lib.float16))
        out.append([gx.detach().numpy(), tangent.numpy(), xh.grad.numpy()])
    for g, r in zip(*out):
        np.testing.assert_array_equal(g, r)


def test_hardsigmoid_float16_gradient_under_create_graph_as_pytorch(torch):
    rng = np.random.default_rng(0)
    xv = rng.uniform(-4, 4, 2000).astype(np.float16)
    gv = (rng.normal(size=2000) * 100).astype(np.float16)
    out = []
    for lib in (gg, torch):
        x = lib.tensor(xv, requires_grad=True)
        (h,) = lib.autograd.grad(lib.nn.functional.hardsigmoid(x), x, lib.tensor(gv), create_graph=True)
        out.append(h.detach().numpy())
    np.testing.assert_array_equal(out[0], out[1])
