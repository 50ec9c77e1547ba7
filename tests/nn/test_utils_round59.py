"""Round 59, a differential hunt on ``nn.utils`` and module printing against PyTorch.

Found and pinned here: weight norm (the hook-based ``nn.utils.weight_norm`` and the
parametrization) of a 1-d tensor with ``dim=0`` kept one norm for the whole vector (``g`` of shape
(1,)) where PyTorch keeps one per entry (``g`` of shape (n,)); ``vector_to_parameters`` copied the
vector into the parameters where PyTorch makes each parameter's ``.data`` a view of it (later
in-place changes to the vector reach the model, the parameters take the vector's dtype, a longer
vector is accepted); ``torch._weight_norm`` (which checkpoint converters call) was missing;
``get_total_norm`` took integer tensors that PyTorch refuses; the hook-based norms on a lazy layer
failed with a generic message instead of PyTorch's; ``EmbeddingBag``'s repr left out
``scale_grad_by_freq=True``; a ``ParameterList`` holding a lazy placeholder could not be printed.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

import glassgrad as gg


def _linear_pair(torch, n_in=3, n_out=4):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((n_out, n_in))
    b = np.array([1.5, 0.0, -2.0, 3.0])[:n_out]  # a zero entry: its g is 0 and its gradient too
    pair = []
    for lib in (gg, torch):
        m = lib.nn.Linear(n_in, n_out).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.copy_(lib.tensor(b))
        pair.append(m)
    return pair


def _weight_norm(lib, api, m, name, dim):
    if api == "parametrization":
        return lib.nn.utils.parametrizations.weight_norm(m, name, dim=dim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the hook-based API is deprecated in both
        return lib.nn.utils.weight_norm(m, name, dim=dim)


# ---- weight norm of a 1-d tensor keeps one g per entry for dim=0 --------------------------------


@pytest.mark.parametrize("api", ["hook", "parametrization"])
@pytest.mark.parametrize("dim", [0, -1, None])
def test_weight_norm_of_a_bias_matches_pytorch(torch, api, dim):
    ours, theirs = _linear_pair(torch)
    _weight_norm(gg, api, ours, "bias", dim)
    _weight_norm(torch, api, theirs, "bias", dim)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        assert tuple(sd[k].shape) == tuple(tsd[k].shape), k
        np.testing.assert_allclose(sd[k].numpy(), tsd[k].numpy(), rtol=1e-14, atol=0, err_msg=k)
    x = np.random.default_rng(1).standard_normal((2, 3))
    y, ty = ours(gg.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-14, atol=1e-15)
    (y**2).sum().backward()
    (ty**2).sum().backward()
    tgrads = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        # atol: v's gradient is 0 analytically (w = g * v / |v| entrywise), PyTorch's holds rounding
        np.testing.assert_allclose(p.grad.numpy(), tgrads[n].grad.numpy(), rtol=1e-13, atol=1e-13, err_msg=n)


def test_weight_norm_of_a_bias_loads_a_pytorch_state_dict(torch):
    ours, theirs = _linear_pair(torch)
    _weight_norm(gg, "parametrization", ours, "bias", 0)
    _weight_norm(torch, "hook", theirs, "bias", 0)  # bias_g (4,), bias_v (4,): the compat hook maps them
    ours.load_state_dict({k: v.numpy() * 2 for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours.bias.detach().numpy(), theirs.bias.detach().numpy() * 2, rtol=1e-14)


def test_norm_except_dim_is_the_same_function_everywhere():
    wn_module = importlib.import_module("glassgrad.nn.utils.weight_norm")  # the name is also the function
    aten = importlib.import_module("glassgrad.torch_aten_more")
    assert wn_module.norm_except_dim is aten.norm_except_dim  # one definition, gg.norm_except_dim's


# ---- vector_to_parameters makes the parameters views of the vector -----------------------------


def _model(lib):
    m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Linear(2, 1)).double()
    with lib.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
    return m


def test_vector_to_parameters_shares_the_vector_as_pytorch(torch):
    x = np.random.default_rng(5).standard_normal((4, 3))
    outs = []
    for lib in (gg, torch):
        m = _model(lib)
        flat = lib.nn.utils.parameters_to_vector(m.parameters()).detach().clone()
        lib.nn.utils.vector_to_parameters(flat, m.parameters())
        flat.mul_(0.5)  # a flat-parameter optimizer steps the vector: the model must follow
        flat[0] = 7.0
        y = m(lib.tensor(x))
        y.sum().backward()
        outs.append(
            (
                y.detach().numpy(),
                [p.detach().numpy().copy() for p in m.parameters()],
                [p.grad.numpy() for p in m.parameters()],
                [type(p).__name__ for p in m.parameters()],
                [p.is_leaf and p.requires_grad for p in m.parameters()],
            )
        )
    (y, ps, gs, kinds, leaves), (ty, tps, tgs, tkinds, tleaves) = outs
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    for a, b in zip(ps + gs, tps + tgs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    assert kinds == tkinds == ["Parameter"] * 4
    assert leaves == tleaves == [True] * 4


def test_vector_to_parameters_takes_the_vectors_dtype_and_a_longer_vector(torch):
    got = []
    for lib in (gg, torch):
        m = _model(lib)
        vec = lib.arange(20, dtype=lib.float32)  # 13 parameters: the tail is left unused
        lib.nn.utils.vector_to_parameters(vec, m.parameters())
        got.append(
            (
                [str(p.dtype).split(".")[-1] for p in m.parameters()],
                [p.detach().numpy() for p in m.parameters()],
            )
        )
    assert got[0][0] == got[1][0] == ["float32"] * 4
    for a, b in zip(got[0][1], got[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_vector_to_parameters_refusals():
    m = _model(gg)
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        gg.nn.utils.vector_to_parameters([1.0, 2.0], m.parameters())
    with pytest.raises(
        RuntimeError, match="vector_to_parameters: expected a vector"
    ):  # PyTorch: view_as fails
        gg.nn.utils.vector_to_parameters(gg.zeros(1, 13), m.parameters())


# ---- module printing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        "nn.EmbeddingBag(5, 2, mode='mean', scale_grad_by_freq=True, sparse=True)",
        "nn.EmbeddingBag(10, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True, mode='max', padding_idx=2)",
        "nn.EmbeddingBag.from_pretrained(lib.zeros(3, 2), mode='sum', scale_grad_by_freq=True)",
        "nn.ParameterList([nn.UninitializedParameter(), nn.Parameter(lib.zeros(2, 3))])",
        "nn.Sequential(nn.LazyLinear(3), nn.ParameterList([nn.UninitializedParameter()]))",
    ],
    ids=[
        "embedding-bag",
        "embedding-bag-all",
        "embedding-bag-pretrained",
        "lazy-parameter-list",
        "lazy-nested",
    ],
)
def test_repr_matches_pytorch(torch, build):
    texts = [repr(eval(build, {"nn": lib.nn, "lib": lib})) for lib in (gg, torch)]
    assert texts[0].replace("glassgrad.", "torch.") == texts[1]


# ---- get_total_norm refuses integer tensors, as PyTorch's vector_norm --------------------------


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_get_total_norm_refuses_integer_tensors_as_pytorch(torch, dtype):
    with pytest.raises(RuntimeError):
        torch.nn.utils.get_total_norm([torch.tensor([1.0]), torch.tensor([1, 0]).to(getattr(torch, dtype))])
    with pytest.raises(
        RuntimeError, match=f"get_total_norm: expected floating point or complex tensors, got .*{dtype}"
    ):
        gg.nn.utils.get_total_norm([gg.tensor([1.0]), gg.tensor([1, 0]).to(getattr(gg, dtype))])


def test_get_total_norm_of_complex_tensors_matches_pytorch(torch):
    z = np.array([3 + 4j, 1j, -2.0])
    for norm_type in (2.0, 1.0, float("inf"), 0.5):
        ours = gg.nn.utils.get_total_norm([gg.tensor(z), gg.tensor(z[:2] * 2)], norm_type)
        theirs = torch.nn.utils.get_total_norm([torch.tensor(z), torch.tensor(z[:2] * 2)], norm_type)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14)


# ---- torch._weight_norm: checkpoint converters fold weight_g / weight_v with it -----------------


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_private_weight_norm_matches_pytorch(torch, dim):
    rng = np.random.default_rng(dim + 3)
    v = rng.standard_normal((4, 3, 5))  # a Conv1d weight (wav2vec2's positional conv folds dim=2)
    g_shape = () if dim == -1 else tuple(s if i == dim else 1 for i, s in enumerate(v.shape))
    g = rng.standard_normal(g_shape)
    outs = []
    for lib in (gg, torch):
        tv, tg = lib.tensor(v, requires_grad=True), lib.tensor(g, requires_grad=True)
        w = lib._weight_norm(tv, tg, dim)
        (w**3).sum().backward()
        outs.append((w.detach().numpy(), tv.grad.numpy(), tg.grad.numpy()))
    for ours, theirs in zip(outs[0], outs[1], strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


# ---- the hook-based weight_norm / spectral_norm refuse a lazy layer with PyTorch's words --------


@pytest.mark.parametrize("fn, words", [("weight_norm", "WeightNorm"), ("spectral_norm", "SpectralNorm")])
def test_hook_norms_refuse_a_lazy_layer_as_pytorch(torch, fn, words):
    message = f"The module passed to `{words}` can't have uninitialized parameters"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match=message):
            getattr(torch.nn.utils, fn)(torch.nn.LazyLinear(3))
        layer = gg.nn.LazyLinear(3)
        with pytest.raises(ValueError, match=message):
            getattr(gg.nn.utils, fn)(layer)
    assert list(layer._parameters) == ["weight", "bias"]  # left as it was: it still materializes
    assert tuple(layer(gg.ones(2, 5)).shape) == (2, 3) and tuple(layer.weight.shape) == (3, 5)
