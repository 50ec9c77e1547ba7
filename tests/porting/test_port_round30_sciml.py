"""Round 30, group sciml: what the Fourier Neural Operator (fourier_1d/2d/3d.py with its own
``Adam.py``), PINO's Burgers training (physics_informed), Hamiltonian Neural Networks and an
Allen-Cahn PINN needed.

FNO's SpectralConv keeps complex weights (``torch.rand(..., dtype=torch.cfloat)``) and trains them
with its own Optimizer subclass, whose step keeps complex moments and takes ``exp_avg_sq.sqrt()``
of a complex tensor: the base Optimizer refused complex parameters for every subclass, and complex
``sqrt`` had no twin. The same model trained with ``torch.optim.Adam`` (or RMSprop, Adagrad, ...)
needs PyTorch's complex steps (a complex parameter stepped as its ``view_as_real`` pair), and
PINO's ``save_checkpoint`` writes the complex weights and optimizer state with ``torch.save``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import DTypeError

W0 = np.array([[0.3 + 0.1j, -0.2 + 0.4j, 0.05 - 0.3j], [0.1 - 0.1j, 0.2 + 0.2j, -0.4 + 0.05j]])


def _spectral_conv_loss(lib, w, x):
    """FNO's SpectralConv1d forward (rfft, complex einsum on the low modes, irfft) and a loss."""
    x_ft = lib.fft.rfft(x)
    out_ft = lib.zeros(x.shape[0], 2, x.size(-1) // 2 + 1, dtype=lib.cdouble)
    out_ft[:, :, :3] = lib.einsum("bix,iox->box", x_ft[:, :, :3], w)
    return (lib.fft.irfft(out_ft, n=x.size(-1)) - x).pow(2).mean()


def _user_adam(lib):
    """An Optimizer subclass written by the user, as FNO's Adam.py: complex moments, complex sqrt."""

    class UserAdam(lib.optim.Optimizer):
        def __init__(self, params, lr=1e-2):
            super().__init__(params, dict(lr=lr))

        @lib.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["m"] = lib.zeros_like(p)
                        state["v"] = lib.zeros_like(p)
                    state["step"] += 1
                    g = p.grad.add(p, alpha=1e-4)
                    state["m"].mul_(0.9).add_(g, alpha=0.1)
                    state["v"].mul_(0.999).addcmul_(g, g.conj(), value=0.001)
                    denom = (state["v"].sqrt() / (1 - 0.999 ** state["step"]) ** 0.5).add_(1e-8)
                    p.addcdiv_(state["m"], denom, value=-group["lr"] / (1 - 0.9 ** state["step"]))

    return UserAdam


def _train(lib, make_opt, steps=3):
    x = lib.tensor(np.sin(np.linspace(0, 6, 16))[None, None].repeat(2, 0) * np.array([[[1.0]], [[0.5]]]))
    w = lib.nn.Parameter(
        lib.tensor(np.concatenate([W0[None], W0[None] * 0.5]))
    )  # (2, 2, 3): (in, out, modes)
    opt = make_opt(lib, [w])
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = _spectral_conv_loss(lib, w[:1], x)  # (in=1, out=2, modes=3); w[1] has no grad path
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), w.detach().numpy(), opt


def test_user_optimizer_subclass_steps_complex_parameters_as_pytorch(torch):
    def make(lib, params):
        return _user_adam(lib)(params)

    l_t, w_t, _ = _train(torch, make)
    l_g, w_g, _ = _train(gg, make)
    np.testing.assert_allclose(l_g, l_t, rtol=1e-12)
    np.testing.assert_allclose(w_g, w_t, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "name, kw",
    [
        ("Adam", {}),
        ("Adam", dict(weight_decay=0.1, amsgrad=True, maximize=True)),
        ("AdamW", dict(weight_decay=0.1)),
        ("RMSprop", dict(momentum=0.9, centered=True, weight_decay=0.1)),
        ("Adagrad", dict(initial_accumulator_value=0.5, weight_decay=0.1, lr_decay=0.01)),
        ("NAdam", dict(weight_decay=0.1, decoupled_weight_decay=True)),
        ("RAdam", dict(weight_decay=0.1)),
        ("Adamax", dict(weight_decay=0.1)),
        ("Adadelta", dict(weight_decay=0.1)),
        ("Rprop", dict(maximize=True)),
        ("ASGD", dict(weight_decay=0.1, t0=2)),
    ],
)
def test_adaptive_optimizers_step_complex_parameters_on_their_real_views_as_pytorch(torch, name, kw):
    def make(lib, params):
        return getattr(lib.optim, name)(params, lr=0.05, **kw)

    l_t, w_t, o_t = _train(torch, make)
    l_g, w_g, o_g = _train(gg, make)
    np.testing.assert_allclose(l_g, l_t, rtol=1e-12)
    np.testing.assert_allclose(w_g, w_t, rtol=1e-12, atol=1e-15)
    s_t, s_g = o_t.state_dict()["state"][0], o_g.state_dict()["state"][0]
    assert sorted(s_g) == sorted(s_t)
    for key in s_t:  # param-shaped state complex, its parts the moments of each part; scalars real
        assert str(s_g[key].dtype).split(".")[-1] == str(s_t[key].dtype).split(".")[-1]
        np.testing.assert_allclose(s_g[key].numpy(), s_t[key].numpy(), rtol=1e-12, atol=1e-18)


def test_adam_on_a_complex_parameter_differs_from_treating_it_as_a_number():
    # by hand: the first Adam step moves each real coordinate by lr against its gradient's sign
    p = gg.nn.Parameter(gg.tensor([1.0 + 1.0j]))
    opt = gg.optim.Adam([p], lr=0.1)
    p.grad = gg.tensor([2.0 - 0.001j])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9 + 1.1j], rtol=1e-6)


def test_optimizers_without_a_complex_step_still_refuse_complex_parameters():
    with pytest.raises(
        DTypeError,
        match=r"Adafactor: complex parameters are not supported .*complex64.*SGD or one of the optimizers",
    ):
        gg.optim.Adafactor([gg.nn.Parameter(gg.tensor([1j]))])  # (PyTorch's refuses them too)


def test_complex_sqrt_forward_and_gradients_to_second_order_match_torch(torch):
    z0 = np.array([[1.5 + 2j, -1 + 0.5j, 3 - 1j], [0.2 - 2j, -2 - 0.1j, 1 + 0.0j]])

    def run(lib):
        z = lib.tensor(z0, requires_grad=True)
        y = z.sqrt()
        s = lib.view_as_real(y * z).pow(2).sum() + lib.sqrt(z).abs().sum()
        (g,) = lib.autograd.grad(s, z, create_graph=True)
        (h,) = lib.autograd.grad(lib.view_as_real(g).pow(2).sum(), z)
        return y.detach().numpy(), g.detach().numpy(), h.numpy()

    for a, b in zip(run(gg), run(torch)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_complex_sqrt_gradcheck_and_gradgradcheck():
    z = gg.tensor(np.array([[1.5 + 2j, -1 + 0.5j], [3 - 1j, 0.2 - 2j]]), requires_grad=True)
    assert gg.autograd.gradcheck(lambda t: gg.view_as_real(t.sqrt()), (z,))
    assert gg.autograd.gradgradcheck(lambda t: gg.view_as_real(t.sqrt()), (z,))


def test_fno_spectral_conv_double_backward_through_rfft_einsum_irfft_matches_torch(torch):
    rs = np.random.RandomState(0)
    x0, w0 = rs.randn(2, 3, 16), rs.randn(3, 4, 5) + 1j * rs.randn(3, 4, 5)

    def run(lib):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        out_ft = lib.zeros(2, 4, 9, dtype=lib.cdouble)
        out_ft[:, :, :5] = lib.einsum("bix,iox->box", lib.fft.rfft(x)[:, :, :5], w)
        y = lib.fft.irfft(out_ft, n=16)
        y = lib.fft.irfft2(lib.fft.rfft2(y) * (1 + 0.5j), s=(4, 16))
        (gx,) = lib.autograd.grad(y.pow(2).sum() + y.sin().sum(), x, create_graph=True)
        gw, gx2 = lib.autograd.grad(gx.pow(2).sum() + (gx * x).mean(), [w, x])
        return [t.detach().numpy() for t in (y, gx, gw, gx2)]

    for a, b in zip(run(gg), run(torch)):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_checkpoint_with_complex_weights_and_optimizer_state_round_trips(tmp_path):
    # PINO's save_checkpoint: torch.save({'model': state_dict, 'optim': optimizer.state_dict()}, path)
    _, _, opt = _train(gg, lambda lib, params: lib.optim.Adam(params, lr=0.05))
    w = opt.param_groups[0]["params"][0]
    z0 = gg.tensor(np.array(2 - 1j))[()]  # 0-d, and a strided view
    ckpt = {"model": {"w": w, "zero_d": z0, "strided": w.detach()[:, :, ::2]}, "optim": opt.state_dict()}
    gg.save(ckpt, tmp_path / "ckpt.pt")
    back = gg.load(tmp_path / "ckpt.pt")
    for key in ("w", "zero_d", "strided"):
        want = ckpt["model"][key].detach().numpy()
        got = back["model"][key]
        assert got.dtype == ckpt["model"][key].dtype and tuple(got.shape) == want.shape
        np.testing.assert_array_equal(got.detach().numpy(), want)
    assert back["model"]["w"].requires_grad
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(
            back["optim"]["state"][0][key].numpy(), opt.state_dict()["state"][0][key].numpy()
        )


def test_a_complex_tensor_is_stored_as_other_safetensors_readers_read_it(tmp_path):
    # complex128 has no safetensors dtype: its view_as_real pairs. complex64 is safetensors' own
    # C64 where the installed version has it (0.7+, what safetensors.torch.save_file writes).
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from glassgrad.serialization_complex import writes_complex64

    z = np.array([[1 + 2j, 3 - 4j]])
    gg.save({"z": gg.tensor(z), "z64": gg.tensor(z.astype(np.complex64))}, tmp_path / "z.safetensors")
    raw = safetensors_numpy.load_file(str(tmp_path / "z.safetensors"))
    assert raw["z"].dtype == np.float64 and raw["z"].shape == (1, 2, 2)  # view_as_real's layout
    np.testing.assert_array_equal(raw["z"], [[[1, 2], [3, -4]]])
    if writes_complex64(safetensors_numpy):
        assert raw["z64"].dtype == np.complex64
        np.testing.assert_array_equal(raw["z64"], z)
    else:
        np.testing.assert_array_equal(raw["z64"], [[[1, 2], [3, -4]]])


def test_a_file_marking_a_non_pair_tensor_complex_is_refused_as_corrupted(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    import json

    structure = json.dumps({"z": {"__tensor__": "z", "complex": True}})
    meta = {"glassgrad.format": "1", "glassgrad.structure": structure}
    safetensors_numpy.save_file({"z": np.zeros((2, 3), np.float32)}, str(tmp_path / "bad.pt"), metadata=meta)
    with pytest.raises(gg.errors.CheckpointError, match=r"'z' is marked complex but is float32 \(2, 3\)"):
        gg.load(tmp_path / "bad.pt")


@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Adam"])
def test_a_pytorch_optimizer_state_of_complex_parameters_loads_and_steps_on_as_pytorch(torch, name):
    # scalars such as NAdam's mu_product stay real: PyTorch casts loaded state to floating params only
    def step(lib, p, opt):
        opt.zero_grad()
        ((p * (1 - 1j) - 2j).abs() ** 2).sum().backward()
        opt.step()

    p_t = torch.nn.Parameter(torch.tensor(W0[0]))
    o_t = getattr(torch.optim, name)([p_t], lr=0.1)
    for _ in range(2):
        step(torch, p_t, o_t)
    sd = o_t.state_dict()
    p_g = gg.nn.Parameter(gg.tensor(p_t.detach().numpy()))
    o_g = getattr(gg.optim, name)([p_g], lr=0.1)
    o_g.load_state_dict(sd)  # PyTorch's own state dict: torch tensors read through __array__
    for key, value in o_g.state_dict()["state"][0].items():
        assert str(value.dtype).split(".")[-1] == str(sd["state"][0][key].dtype).split(".")[-1]
    for _ in range(2):
        step(torch, p_t, o_t)
        step(gg, p_g, o_g)
    np.testing.assert_allclose(p_g.detach().numpy(), p_t.detach().numpy(), rtol=1e-12)
