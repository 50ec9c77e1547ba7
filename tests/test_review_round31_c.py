"""Review C of round 31: top-level losses' default reduction, clamp's NumPy-float bounds, integer
legacy storages' range."""

import warnings

import numpy as np
import pytest

import glassgrad as gg

RNG = np.random.default_rng(31)
A, B, C = (RNG.standard_normal((4, 5)) for _ in range(3))
T = RNG.random((4, 5))
Y = np.sign(RNG.standard_normal(4))

LOSSES = {  # name -> call(lib) with reduction left out
    "kl_div": lambda m: m.kl_div(m.tensor(A), m.tensor(T)),
    "binary_cross_entropy_with_logits": lambda m: m.binary_cross_entropy_with_logits(
        m.tensor(A), m.tensor(T)
    ),
    "triplet_margin_loss": lambda m: m.triplet_margin_loss(m.tensor(A), m.tensor(B), m.tensor(C)),
    "margin_ranking_loss": lambda m: m.margin_ranking_loss(m.tensor(A[:, 0]), m.tensor(B[:, 0]), m.tensor(Y)),
    "cosine_embedding_loss": lambda m: m.cosine_embedding_loss(m.tensor(A), m.tensor(B), m.tensor(Y)),
    "hinge_embedding_loss": lambda m: m.hinge_embedding_loss(m.tensor(A), m.tensor(np.sign(B))),
    "ctc_loss": lambda m: m.ctc_loss(
        m.tensor(np.log(np.full((6, 2, 4), 0.25))), m.tensor([[1, 2], [1, 1]]), [6, 6], [2, 2]
    ),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_top_level_loss_without_reduction_is_unreduced(torch, name):
    want = LOSSES[name](torch).numpy()
    got = LOSSES[name](gg).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_top_level_kl_div_mean_gives_no_warning(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = torch.kl_div(torch.tensor(A), torch.tensor(T), 1)
        got = gg.kl_div(gg.tensor(A, requires_grad=True), gg.tensor(T), 1)
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)


def test_clamp_refuses_numpy_float_bound_past_float32(torch):
    with pytest.raises(RuntimeError):
        torch.tensor([1.0, 2.0]).clamp(max=np.float64(1e39))
    with pytest.raises(gg.errors.DTypeError, match="clamp"):
        gg.tensor([1.0, 2.0]).clamp(max=np.float64(1e39))
    with pytest.raises(gg.errors.DTypeError, match="clamp"):
        gg.tensor([1.0], dtype=gg.float16).clamp(min=np.float64(-1e5))
    assert gg.tensor([1.0, 2.0]).clamp(max=np.float64(1.5)).tolist() == [1.0, 1.5]


@pytest.mark.parametrize(
    "name, values",
    [("ByteStorage", [300]), ("ByteStorage", [-256]), ("CharStorage", [200]), ("ShortStorage", [-40000])],
)
def test_integer_storage_refuses_values_past_its_range(torch, name, values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError):
            getattr(torch, name)(values)
        with pytest.raises(RuntimeError, match=name):
            getattr(gg, name)(values)


def test_byte_storage_wraps_small_negatives_as_pytorch(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = list(torch.ByteStorage([-1, -129, -255, 255]))
        got = list(gg.ByteStorage([-1, -129, -255, 255]))
    assert got == want == [255, 127, 1, 255]


def test_plain_tensor_over_a_storage_shares_its_memory(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (torch, gg):
            typed = m.FloatStorage([1.0, 2.0])
            m.Tensor(typed).fill_(5)
            assert list(typed) == [5.0, 5.0]
            raw = m.UntypedStorage(8)
            t = m.Tensor(raw)
            t.fill_(1)
            assert t.tolist() == [1.0, 1.0]
            assert list(raw)[:4] == [0, 0, 128, 63]
            x = m.tensor([1.0, 2.0, 3.0])
            m.Tensor(x.untyped_storage())[0] = 7
            assert x.tolist() == [7.0, 2.0, 3.0]
            with pytest.raises(RuntimeError):
                m.Tensor(m.ByteStorage([1, 2]))


def test_clamp_of_integer_tensor_refuses_float_bound_past_float32(torch):
    with pytest.raises(RuntimeError):
        torch.tensor([1, 5]).clamp(max=1e39)
    with pytest.raises(gg.errors.DTypeError, match="clamp"):
        gg.tensor([1, 5]).clamp(max=1e39)
    want = torch.tensor([1, 5]).clamp(0.5, 10**5)
    got = gg.tensor([1, 5]).clamp(0.5, 10**5)
    assert got.tolist() == want.tolist() and str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
