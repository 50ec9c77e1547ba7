"""Round 39, group pyg: PyTorch Geometric on glassgrad.

PyG reads ``torch.__config__.show()`` at import, annotates with ``torch.layout`` and compares a
tensor's ``.layout`` against ``torch.sparse_csr``/``sparse_csc`` (``utils.is_torch_sparse_tensor``,
run by every ``Batch.from_data_list``), segments rows with the private
``torch._segment_reduce`` (``utils.segment``, ``softmax(src, ptr=...)``) and marks the COO
adjacencies it builds sorted with ``s._coalesced_(True)``. Each test compares with PyTorch
where PyTorch decides, or with a hand derivation.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.autograd import gradcheck

REDUCES = ["sum", "mean", "max", "min", "amax", "amin", "prod"]


# ------------------------------------------------------------------ layouts and __config__
def test_layout_type_and_every_torch_layout_constant(torch):
    names = [n for n in dir(torch) if isinstance(getattr(torch, n), torch.layout)]
    assert "sparse_csr" in names and "strided" in names
    for n in names:
        value = getattr(gg, n)
        assert isinstance(value, gg.layout), n
        assert str(value) == f"glassgrad.{n}"
    assert len({getattr(gg, n) for n in names}) == len(names)


def test_dense_and_coo_layouts_compare_as_pytorch(torch):
    for lib in (torch, gg):
        x = lib.zeros(2, 2)
        s = lib.sparse_coo_tensor(lib.tensor([[0], [1]]), lib.tensor([1.0]), (2, 2))
        got = [x.layout == lib.strided, x.layout == lib.sparse_csr, x.layout == lib.sparse_csc,
               s.layout == lib.sparse_coo, s.layout == lib.sparse_csr, s.layout in (lib.sparse_csr, lib.sparse_csc)]  # fmt: skip
        assert got == [True, False, False, True, False, False]


def test_config_show_and_parallel_info_are_text(torch):
    import glassgrad.__config__ as config

    assert gg.__config__ is config
    for name in ("show", "parallel_info"):
        assert isinstance(getattr(torch.__config__, name)(), str)
        text = getattr(gg.__config__, name)()
        assert isinstance(text, str) and text
    assert "USE_MKL=OFF" in gg.__config__.show()  # no MKL: NumPy computes (PyG's NO_MKL check)


# ------------------------------------------------------------------ torch._segment_reduce
def test_private_segment_reduce_runs_the_public_one(torch):
    assert torch._segment_reduce is torch.segment_reduce  # PyTorch: one builtin, two names
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    for kwargs in (
        {"lengths": gg.tensor([1, 2])},
        {"offsets": gg.tensor([0, 1, 3])},
        {"lengths": gg.tensor([3])},
    ):
        got = gg._segment_reduce(x, "mean", **kwargs, initial=0.5)
        assert got.tolist() == gg.segment_reduce(x, "mean", **kwargs, initial=0.5).tolist()
    with pytest.raises(ValueError, match="segment_reduce: expected lengths= or offsets="):
        gg._segment_reduce(x, "sum")


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("initial", [None, 0.0, 0.7])
@pytest.mark.parametrize("kind", ["lengths", "offsets"])
@pytest.mark.parametrize("shape", [(7,), (7, 3), (7, 2, 2)])
def test_private_segment_reduce_matches_pytorch(torch, reduce, initial, kind, shape):
    # as PyG's utils.segment: offsets are a CSR pointer (0 first, the row count last)
    rng = np.random.default_rng(
        [REDUCES.index(reduce), len(shape), kind == "lengths", int(10 * (initial or 0))]
    )
    data = rng.standard_normal(shape)  # no ties
    data[5] = 0.0  # a zero in a segment: prod's gradient
    segs = {"lengths": np.array([2, 0, 4, 1]), "offsets": np.array([0, 2, 2, 6, 7])}[kind]
    tt = torch.tensor(data, requires_grad=True)
    gt = gg.tensor(data, requires_grad=True)
    o1 = torch._segment_reduce(tt, reduce, initial=initial, **{kind: torch.tensor(segs)})
    o2 = gg._segment_reduce(gt, reduce, initial=initial, **{kind: gg.tensor(segs)})
    np.testing.assert_allclose(o2.detach().numpy(), o1.detach().numpy(), rtol=0, atol=1e-12)
    finite = np.isfinite(o1.detach().numpy())  # empty max/min segments are -inf/inf; nan for mean
    w = rng.standard_normal(finite.shape)
    (o1[torch.tensor(finite)] * torch.tensor(w[finite])).sum().backward()
    (o2[gg.tensor(finite)] * gg.tensor(w[finite])).sum().backward()
    np.testing.assert_allclose(gt.grad.numpy(), tt.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("reduce", REDUCES)
def test_private_segment_reduce_gradcheck_random_shapes(reduce):
    rng = np.random.default_rng(REDUCES.index(reduce))
    for _ in range(3):
        lengths = rng.integers(1, 4, size=int(rng.integers(1, 4)))
        rest = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(0, 3))))
        x = gg.tensor(rng.standard_normal((int(lengths.sum()), *rest)), requires_grad=True)
        ptr = gg.tensor(np.r_[0, np.cumsum(lengths)])
        assert gradcheck(
            lambda t: gg._segment_reduce(t, reduce, lengths=gg.tensor(lengths), initial=0.25), (x,)
        )
        assert gradcheck(lambda t, p=ptr: gg._segment_reduce(t, reduce, offsets=p), (x,))


# ------------------------------------------------------------------ sparse COO _coalesced_
def test_coalesced_flag_setter_as_pytorch(torch):
    for lib in (torch, gg):
        s = lib.sparse_coo_tensor(lib.tensor([[1, 0, 1], [0, 1, 0]]), lib.tensor([1.0, 2.0, 3.0]), (2, 2))
        assert not s.is_coalesced()
        assert s._coalesced_(True) is s and s.is_coalesced()
        assert s.indices().tolist() == [[1, 0, 1], [0, 1, 0]]  # the indices are left as they are
        assert s._coalesced_(False) is s and not s.is_coalesced()
        with pytest.raises(TypeError):
            s._coalesced_(1)


# ------------------------------------------------------------------ fx's compatibility decorator
@pytest.mark.parametrize("flag", [True, False])
def test_fx_compatibility_decorator_as_pytorch(torch, flag):
    import torch.fx._symbolic_trace as tst

    import glassgrad.fx._compatibility
    import glassgrad.fx._symbolic_trace as gst

    assert gst.compatibility is glassgrad.fx._compatibility.compatibility
    docs = []
    for st in (tst, gst):

        def fn():
            """Trace a root."""
            return 3

        class Cls:
            pass

        assert st.compatibility(is_backward_compatible=flag)(fn) is fn and fn() == 3
        assert st.compatibility(is_backward_compatible=flag)(Cls) is Cls
        docs.append((fn.__doc__, Cls.__doc__))
    assert docs[0] == docs[1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"offsets": [1, 4]},
        {"offsets": [1, 3]},
        {"offsets": [0, 2, 2, 3], "unsafe": True},
        {"offsets": [[2, 3, 5], [0, 0, 4]], "axis": 1},
        {"lengths": [1, 2], "unsafe": True},
    ],
)
@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_segment_reduce_offsets_that_do_not_start_at_zero_as_pytorch(torch, kwargs, reduce):
    """The entries before the first offset take no part (offsets [1, 4] on 4 rows reduced rows 0-2)."""
    rng = np.random.default_rng(3)
    axis = kwargs.get("axis", 0)
    shape = (2, 5, 3) if axis == 1 else (4, 3)
    x = rng.standard_normal(shape)
    outs = []
    for lib in (gg, torch):
        t = lib.tensor(x, requires_grad=True)
        kw = {k: lib.tensor(v) if k in ("offsets", "lengths") else v for k, v in kwargs.items()}
        out = lib.segment_reduce(t, reduce, **kw)
        out.sum().backward()
        outs.append((out.detach().numpy(), t.grad.numpy()))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-12, atol=1e-12)


def test_segment_reduce_offsets_gradcheck():
    x = gg.tensor(np.random.default_rng(4).standard_normal((2, 6, 2)), requires_grad=True)
    off = gg.tensor([[1, 3, 6], [2, 2, 5]])
    assert gradcheck(lambda t: gg.segment_reduce(t, "sum", offsets=off, axis=1, unsafe=True), (x,))


def test_segment_reduce_refuses_offsets_that_go_back_or_past_the_dim():
    x = gg.ones(4, 2)
    for bad in ([3, 1], [1, 5], [-1, 2]):
        with pytest.raises(
            ValueError, match="segment_reduce: expected non-decreasing offsets from 0 up to 4"
        ):
            gg.segment_reduce(x, "sum", offsets=gg.tensor(bad))
