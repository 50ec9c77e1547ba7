"""Round 63, scientific ML (pdebench/PDEBench's FNO 1-3D, UNet 1-2D and autoregressive rollout
with pushforward, its metrics; NVIDIA/physicsnemo's FNO 1-4D, AFNO, Pix2Pix, DLWP, one2many /
seq2seq RNNs, SRResNet). PDEBench ran unchanged. physicsnemo failed at import: its Warp ops are
declared ``@torch.library.custom_op(..., tags=(torch.Tag.cudagraph_unsafe,))`` (glassgrad had no
``Tag`` and ``custom_op`` took no ``tags``), and its ONNX symbolic functions are annotated
``g: torch.Graph, input: torch.Value`` (no top-level ``Graph``/``Value``). Pinned here, written fresh
after those patterns, and the FNO spectral layer both programs train through (a complex einsum
written into a ``cfloat`` buffer, whatever the input's precision).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassgrad as gg

RNG_SEED = 63
_FRESH = itertools.count()  # operator names are process-wide in both libraries: one per test call


def _libs(torch):
    return [("torch", torch), ("glassgrad", gg)]


def _op_name(label):
    return f"round63sciml::{label}_{next(_FRESH)}"


# ---- torch.Tag, custom_op(tags=...), Library.define(tags=...) ---------------------------------


def test_tag_members_and_values_match_torch(torch):
    ours = {name: member.value for name, member in gg.Tag.__members__.items()}
    theirs = {name: int(member) for name, member in torch.Tag.__members__.items()}
    assert ours == theirs
    assert gg._C.Tag is gg.Tag and torch._C.Tag is torch.Tag
    for name in ("cudagraph_unsafe", "pt2_compliant_tag", "core"):
        assert repr(getattr(gg.Tag, name)) == repr(getattr(torch.Tag, name))
        assert str(getattr(gg.Tag, name)) == str(getattr(torch.Tag, name))


@pytest.mark.parametrize(
    "tags", ["cudagraph_unsafe-tuple", "core-single", "none", "two-list"], ids=lambda s: s.split("-")[0]
)
def test_custom_op_tags_are_listed_after_pt2_compliant(torch, tags):
    got = {}
    for label, lib in _libs(torch):
        given = {
            "cudagraph_unsafe-tuple": (lib.Tag.cudagraph_unsafe,),
            "core-single": lib.Tag.core,
            "none": None,
            "two-list": [lib.Tag.pointwise, lib.Tag.nondeterministic_seeded],
        }[tags]
        name = _op_name(f"tagged_{label}")

        # schema= given: annotations are strings here (from __future__ import annotations)
        @lib.library.custom_op(name, mutates_args=(), schema="(Tensor x) -> Tensor", tags=given)
        def scaled(x):
            return x * 3.0

        ns, op = name.split("::")
        got[label] = [t.name for t in getattr(getattr(lib.ops, ns), op).default.tags]
        x = lib.tensor(np.arange(4.0))
        np.testing.assert_array_equal(scaled(x).numpy(), np.arange(4.0) * 3.0)
    assert got["glassgrad"] == got["torch"]


@pytest.mark.parametrize("with_tags", [True, False], ids=["pointwise", "untagged"])
def test_library_define_lists_its_tags(torch, with_tags):
    got = {}
    for label, lib in _libs(torch):
        ns = f"round63sciml_def_{label}_{next(_FRESH)}"
        library = lib.library.Library(ns, "DEF")
        kw = {"tags": (lib.Tag.pointwise,)} if with_tags else {}
        library.define("twice(Tensor x) -> Tensor", **kw)
        got[label] = [t.name for t in getattr(lib.ops, ns).twice.default.tags]
    assert got["glassgrad"] == got["torch"]


@pytest.mark.parametrize("bad", [("core",), 1], ids=["str-tag", "int"])
def test_tags_that_are_not_tags_raise_type_error(torch, bad):
    for label, lib in _libs(torch):
        with pytest.raises(TypeError):
            lib.library.custom_op(
                _op_name(f"bad_{label}"), mutates_args=(), schema="(Tensor x) -> Tensor", tags=bad
            )(lambda x: x)
        library = lib.library.Library(f"round63sciml_bad_{label}_{next(_FRESH)}", "DEF")
        with pytest.raises(TypeError):
            library.define("f(Tensor x) -> Tensor", tags=bad)
    library = gg.library.Library(f"round63sciml_msg_{next(_FRESH)}", "DEF")
    with pytest.raises(TypeError, match="torch.Tag"):
        library.define("f(Tensor x) -> Tensor", tags=("core",))


def test_graph_and_value_are_torchs_annotation_names(torch):
    for _, lib in _libs(torch):
        assert lib.Graph is lib._C.Graph and lib.Value is lib._C.Value

        def symbolic(g: lib.Graph, x: lib.Value, ndim: int) -> lib.Value:  # as physicsnemo's fft.py
            return x

        assert eval(symbolic.__annotations__["g"], {"lib": lib}) is lib.Graph  # what the import evaluates
    assert repr(gg.Graph()) == repr(torch.Graph())
    with pytest.raises(TypeError):
        gg.Value()


# ---- the FNO spectral layer: complex einsum into a cfloat buffer, irfft back -------------------


def _spectral(lib, x, w, modes, buffer_dtype):
    """PDEBench/physicsnemo SpectralConv1d: x (B, Cin, N) real, w (Cin, Cout, modes, 2) -> (B, Cout, N)."""
    x_ft = lib.fft.rfft(x)
    out_ft = lib.zeros(x.shape[0], w.shape[1], x.size(-1) // 2 + 1, dtype=buffer_dtype)
    out_ft[:, :, :modes] = lib.einsum("bix,iox->box", x_ft[:, :, :modes], lib.view_as_complex(w))
    return lib.fft.irfft(out_ft, n=x.size(-1))


@pytest.mark.parametrize("buffer", ["cfloat", "cdouble"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_spectral_conv_values_dtypes_and_gradients(torch, buffer, dtype):
    rng = np.random.default_rng(RNG_SEED)
    x_np, w_np = rng.standard_normal((2, 3, 10)), rng.standard_normal((3, 4, 4, 2)) / 12
    pad_w = rng.standard_normal((2, 4, 12))
    res = {}
    for label, lib in _libs(torch):
        x = lib.tensor(x_np, dtype=getattr(lib, dtype), requires_grad=True)
        w = lib.tensor(w_np, dtype=getattr(lib, dtype), requires_grad=True)
        xp = lib.nn.functional.pad(x, [0, 2])  # the FNO pads the non-periodic domain
        # float64 into the cfloat buffer: the complex128 product is written at complex64's precision
        y = _spectral(lib, xp, w, 4, getattr(lib, buffer))
        loss = (y * lib.tensor(pad_w, dtype=y.dtype)).sum()
        loss.backward()
        res[label] = (str(y.dtype).split(".")[-1], y.detach().numpy(), x.grad.numpy(), w.grad.numpy())
    assert res["glassgrad"][0] == res["torch"][0]
    tol = 1e-12 if dtype == "float64" and buffer == "cdouble" else 2e-6
    for got, want in zip(res["glassgrad"][1:], res["torch"][1:]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
