"""The meta device, continued: in-place ops, modules, state dicts and memory, checked against
PyTorch (see tests/test_meta_device.py for factories, printing, ops and data access)."""

from __future__ import annotations

import time
import tracemalloc
import warnings

import pytest

import glassgrad as gg
from glassgrad.autograd.function import Primitive as Function

from .test_meta_device import meta, sig


@pytest.fixture(autouse=True)
def _restore_default_device():
    yield
    gg.set_default_device("cpu")


# ----------------------------------------------------------------------------------- in place
def test_in_place_init_and_optimizers_change_nothing_as_torch(torch):
    def script(L):
        lin = L.nn.Linear(3, 4, device="meta")
        with L.no_grad():
            lin.weight.add_(1).mul_(2)
            lin.weight.copy_(L.ones(4, 3))  # a CPU source into meta: a no-op, as PyTorch
            lin.bias.zero_().uniform_()
            for init in ("kaiming_uniform_", "xavier_normal_", "orthogonal_", "trunc_normal_", "zeros_"):
                getattr(L.nn.init, init)(lin.weight)
        lin(meta(2, 3, lib=L)).sum().backward()
        out = [sig(lin.weight), sig(lin.weight.grad)]
        for opt in (L.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9), L.optim.Adam(lin.parameters())):
            opt.step()
            out.append(sorted((k, str(v.device)) for k, v in opt.state[lin.weight].items() if k != "step"))
            opt.zero_grad()
        return [*out, sig(lin.weight), lin.weight.grad]

    assert script(gg) == script(torch)


def test_in_place_shape_checks_remain(torch):
    for L in (gg, torch):
        m = meta(2, 3, lib=L)
        with pytest.raises(RuntimeError):
            m.add_(meta(4, lib=L))
        with pytest.raises(RuntimeError):
            m.copy_(meta(5, lib=L))


# ----------------------------------------------------------------------------------- modules
def test_module_to_meta_and_back_as_torch(torch):
    def script(L):
        m = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.BatchNorm1d(3))
        m.to("meta")
        out = [[str(t.device) for t in m.state_dict().values()], repr(m)]
        try:
            m.to("cpu")
        except NotImplementedError as e:
            out.append(("to_empty" in str(e), "meta" in str(e)))
        m.to_empty(device="cpu")
        out.append([(str(t.device), tuple(t.shape)) for t in m.state_dict().values()])
        m.to_empty(device="meta")
        out.append(sorted({str(t.device) for t in m.state_dict().values()}))
        return out

    assert script(gg) == script(torch)


def test_load_state_dict_into_meta_as_torch(torch):
    def script(L):
        src = L.nn.Linear(3, 2)
        dst = L.nn.Linear(3, 2, device="meta")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dst.load_state_dict(src.state_dict())
        out = [str(dst.weight.device), len(caught), "assign=True" in str(caught[0].message)]
        frozen = L.nn.Linear(3, 2, device="meta").requires_grad_(False)
        frozen.load_state_dict(src.state_dict(), assign=True)
        dst.load_state_dict(src.state_dict(), assign=True)
        x = L.ones(4, 3)
        out += [str(dst.weight.device), dst.weight.requires_grad, frozen.weight.requires_grad,
                type(dst.weight).__name__, bool((dst(x) == src(x)).all())]  # fmt: skip
        try:
            L.nn.Linear(3, 2).load_state_dict(L.nn.Linear(3, 2, device="meta").state_dict())
        except RuntimeError as e:
            out.append("Cannot copy out of meta tensor" in str(e))
        return out

    assert script(gg) == script(torch)


class Block(gg.nn.Module):
    def __init__(self, lib, dim=8):
        super().__init__()
        nn = lib.nn
        self.emb = nn.Embedding(11, dim)
        self.norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.head = nn.Linear(dim, 5)

    def forward(self, idx):
        h = self.norm(self.emb(idx))
        return self.head(self.attn(h, h, h, need_weights=False)[0])


def test_meta_construction_then_to_empty_or_assign_matches_a_cpu_model():
    gg.manual_seed(3)
    cpu = Block(gg)
    sd = cpu.state_dict()
    idx = gg.tensor([[1, 2, 3], [4, 5, 10]])
    with gg.device("meta"):
        lazy = Block(gg)
    assert all(p.is_meta for p in lazy.parameters())
    lazy.to_empty(device="cpu")
    for m in lazy.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    assert not any(p.is_meta for p in lazy.parameters())
    assert lazy(idx).shape == (2, 3, 5)  # a working, freshly initialised CPU model
    lazy.load_state_dict(sd)
    assert gg.equal(lazy(idx), cpu(idx))
    with gg.device("meta"):
        assigned = Block(gg)
    assigned.load_state_dict(sd, assign=True)
    assert all(p.requires_grad and not p.is_meta for p in assigned.parameters())
    assert gg.equal(assigned(idx), cpu(idx))


# ----------------------------------------------------------------------------------- memory
def test_a_huge_meta_factory_is_instant_and_allocates_nothing():
    tracemalloc.start()
    try:
        start = time.perf_counter()
        t = gg.empty(10**6, 10**6, device="meta")
        u = gg.randn(10**5, 10**5, 10, device="meta", dtype=gg.float64)
        lin = gg.nn.Linear(10**5, 10**5, device="meta")
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5 and peak < 1 << 20
    assert t.shape == (10**6, 10**6) and t._data.strides == (0, 0) and not t._data.flags.writeable
    assert u.stride() == (10**6, 10, 1)  # reported as PyTorch's contiguous strides
    owner = lin.weight._data
    while owner.base is not None:
        owner = owner.base
    assert lin.weight.is_meta and owner.nbytes <= 8  # one 0-d array under the zero-strided view


def test_conv_on_a_huge_meta_input_computes_nothing(torch):
    def script(L):
        conv = L.nn.Conv2d(3, 5, 2, device="meta")
        return sig(conv(L.rand(2**10, 3, 2**16, 2**16, device="meta")))

    start = time.perf_counter()
    ours = script(gg)
    assert time.perf_counter() - start < 0.5
    assert ours == script(torch)


def test_the_cpu_path_only_reads_one_flag():
    # Function.apply looks for meta inputs only once a meta array exists; the check is the first
    # thing apply does, on a module-level list (no per-input work while the flag is off).
    import inspect

    src = inspect.getsource(Function.apply)
    assert "if _meta_seen[0]:" in src
