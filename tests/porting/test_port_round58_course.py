"""Round 58, course programs: MIT 6.S191's PyTorch labs (2025: the music LSTM, the face CNN and the
DB-VAE) and rasbt's machine-learning-book ch15-ch17 and ch19 (the cartpole DQN).

The programs ran unchanged and agreed with PyTorch. Two differences were found around them:
``torch.cat``/``stack``/``hstack``/``vstack`` (and ``concat``, ``dstack``, ``column_stack``,
``row_stack``) took any iterable, so ``cat(x)`` of a (2, 3) tensor silently joined its rows into
6 elements and NumPy arrays, numbers and generators were joined where PyTorch raises its
``Tensor[]`` TypeError; and a distribution's ``param_shape`` was a plain tuple (PyTorch's is a
``Size``). The other tests pin the patterns the programs are built from (written fresh here), each
against PyTorch in float64 with gradients.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# ---- the joins take PyTorch's Tensor[] argument -------------------------------------------------

_JOINS = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "row_stack"]


_CASES = ["a tensor", "a generator", "a map", "a NumPy array element", "a number element", "a list element"]


def _bad_arguments(lib):
    a = lib.ones(2, dtype=lib.float64)
    return {
        "a tensor": lib.arange(6.0).reshape(2, 3),
        "a generator": (t for t in [a, a]),
        "a map": map(lambda t: t, [a, a]),
        "a NumPy array element": [a, np.ones(2)],
        "a number element": [a, 1.0],
        "a list element": [a, [1.0, 2.0]],
    }


@pytest.mark.parametrize("op", _JOINS)
@pytest.mark.parametrize("case", _CASES)
def test_joins_refuse_what_is_not_a_tensor_list_as_torch(torch, op, case):
    for lib in (torch, gg):
        with pytest.raises(TypeError) as info:
            getattr(lib, op)(_bad_arguments(lib)[case])
        if lib is gg:
            message = info.value.args[0]
            assert "must be tuple of Tensors" in message or "expected Tensor as element 1" in message


def test_join_of_a_tensor_names_the_argument():
    with pytest.raises(
        TypeError, match=r"^cat\(\): argument 'tensors' \(position 1\) must be tuple of Tensors, not Tensor$"
    ):
        gg.cat(gg.ones(2, 3))
    with pytest.raises(
        TypeError, match=r"^stack\(\): expected Tensor as element 1 in argument 0, but got ndarray$"
    ):
        gg.stack([gg.ones(2), np.ones(2)])


@pytest.mark.parametrize("op", _JOINS)
def test_joins_take_lists_and_tuples_of_tensors_and_parameters(torch, op):
    x = np.arange(6.0).reshape(2, 3)
    outs, grads = [], []
    for lib in (torch, gg):
        p = lib.nn.Parameter(lib.tensor(x))
        t = lib.tensor(x * 2.0, requires_grad=True)
        for seq in ([p, t], (t, p)):
            y = getattr(lib, op)(seq)
            (y * lib.arange(float(y.numel()), dtype=lib.float64).reshape(y.shape)).sum().backward()
            outs.append(y.detach().numpy())
        grads.append((p.grad.numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(outs[0], outs[2])
    np.testing.assert_array_equal(outs[1], outs[3])
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_join_asks_a_tensor_like_element_first():
    class Wrapped:
        def __init__(self, t):
            self.t = t

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            unwrap = [[e.t if isinstance(e, Wrapped) else e for e in args[0]], *args[1:]]
            return func(*unwrap, **(kwargs or {}))

    out = gg.cat([gg.ones(2), Wrapped(gg.zeros(1))])
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 0.0])


# ---- param_shape is a Size ----------------------------------------------------------------------


def _families(lib):
    d = lib.distributions
    return {
        "Categorical logits": lambda: d.Categorical(logits=lib.zeros(2, 3)),
        "Categorical expanded": lambda: d.Categorical(probs=lib.ones(2, 3)).expand((4, 2)),
        "Bernoulli": lambda: d.Bernoulli(logits=lib.zeros(2)),
        "Binomial": lambda: d.Binomial(5, probs=lib.ones(3) / 2),
        "ContinuousBernoulli": lambda: d.ContinuousBernoulli(logits=lib.zeros(3)),
        "NegativeBinomial": lambda: d.NegativeBinomial(5, logits=lib.zeros(3)),
        "Multinomial": lambda: d.Multinomial(3, probs=lib.ones(2, 3)),
        "OneHotCategorical": lambda: d.OneHotCategorical(logits=lib.zeros(4)),
    }


@pytest.mark.parametrize("family", list(_families(gg)))
def test_param_shape_is_a_size_as_torch(torch, family):
    want = _families(torch)[family]().param_shape
    got = _families(gg)[family]().param_shape
    assert isinstance(got, gg.Size)
    assert tuple(got) == tuple(want) and got.numel() == want.numel()


# ---- the programs' patterns against PyTorch -----------------------------------------------------


def _to_gg(module_t, module_g):
    module_g.load_state_dict(
        {k: gg.from_numpy(v.detach().numpy().copy()) for k, v in module_t.state_dict().items()}
    )


def test_char_lstm_training_step_and_sampling_as_torch(torch):
    """The music lab's step: Embedding -> LSTM(batch_first) -> Linear, cross-entropy over the
    flattened (B*L, V) logits, Adam; then a next character drawn from softmax probabilities and read
    back through NumPy indexing with the (1, 1) index tensor."""
    V, E, H = 11, 5, 7
    rng = np.random.RandomState(0)
    x, y = rng.randint(0, V, size=(3, 8)), rng.randint(0, V, size=(3, 8))
    models = {
        lib: lib.nn.ModuleList(
            [lib.nn.Embedding(V, E), lib.nn.LSTM(E, H, batch_first=True), lib.nn.Linear(H, V)]
        ).double()
        for lib in (torch, gg)
    }
    _to_gg(models[torch], models[gg])
    results = {}
    for lib in (torch, gg):
        model = models[lib]
        emb, lstm, fc = model
        opt = lib.optim.Adam(model.parameters(), lr=5e-3)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            state = (lib.zeros(1, 3, H, dtype=lib.float64), lib.zeros(1, 3, H, dtype=lib.float64))
            out, _ = lstm(emb(lib.tensor(x, dtype=lib.long)), state)
            logits = fc(out)
            loss = lib.nn.CrossEntropyLoss()(
                logits.view(-1, logits.size(-1)), lib.tensor(y, dtype=lib.long).view(-1)
            )
            loss.backward()
            opt.step()
            losses.append(loss.item())
        probs = lib.softmax(logits[0, -1:].detach(), dim=-1)
        idx = lib.tensor([[int(probs.argmax())]])
        chars = np.array(list("abcdefghijk"))
        results[lib] = (
            losses,
            [p.detach().numpy().copy() for p in model.parameters()],
            probs.numpy(),
            chars[idx].item(),
        )
    np.testing.assert_allclose(results[gg][0], results[torch][0], rtol=1e-13)
    for a, b in zip(results[gg][1], results[torch][1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(results[gg][2], results[torch][2], rtol=1e-10)
    assert results[gg][3] == results[torch][3]


def test_dbvae_loss_gradients_as_torch(torch):
    """DB-VAE's loss: KL + mean |x - x_recon| per image, BCE-with-logits per sample
    (reduction='none') counted only for faces, through the reparameterisation z = mu + exp(ls) * eps."""
    rng = np.random.RandomState(1)
    x, recon = rng.rand(4, 3, 5, 5), rng.rand(4, 3, 5, 5)
    enc, eps, y = rng.randn(4, 1 + 2 * 3), rng.randn(4, 3), np.array([[1.0], [0.0], [1.0], [0.0]])
    grads = {}
    for lib in (torch, gg):
        out = lib.tensor(enc, requires_grad=True)
        xr = lib.tensor(recon, requires_grad=True)
        y_logit, mu, ls = out[:, 0].unsqueeze(-1), out[:, 1:4], out[:, 4:]
        z = mu + lib.exp(ls) * lib.tensor(eps)
        latent = 0.5 * lib.sum(lib.exp(ls) + mu**2 - 1 - ls, dim=1)
        vae = 0.0005 * latent + lib.mean(lib.abs(lib.tensor(x) - xr * z.mean()), dim=(1, 2, 3))
        yt = lib.tensor(y)
        cls = lib.nn.functional.binary_cross_entropy_with_logits(y_logit, yt, reduction="none")
        total = lib.mean(cls * (yt == 1.0).float().to(lib.float64) + vae)
        total.backward()
        grads[lib] = (total.item(), out.grad.numpy(), xr.grad.numpy())
    assert grads[gg][0] == pytest.approx(grads[torch][0], rel=1e-14)
    np.testing.assert_allclose(grads[gg][1], grads[torch][1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads[gg][2], grads[torch][2], rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy")
def test_dqn_targets_written_in_no_grad_as_torch(torch):
    """The cartpole DQN: targets written into the prediction row under no_grad (a number or a 0-d
    tensor, at a NumPy integer index), the batch built from a list of (1, 4) NumPy states."""
    rng = np.random.RandomState(2)
    states = [rng.randn(1, 4) for _ in range(5)]
    actions = [np.int64(a) for a in rng.randint(0, 2, 5)]
    res = {}
    nets = {
        lib: lib.nn.Sequential(lib.nn.Linear(4, 6), lib.nn.ReLU(), lib.nn.Linear(6, 2)).double()
        for lib in (torch, gg)
    }
    _to_gg(nets[torch], nets[gg])
    for lib in (torch, gg):
        net = nets[lib]
        targets = []
        for k, (s, a) in enumerate(zip(states, actions)):
            with lib.no_grad():
                target = 1.0 if k % 2 else 1.0 + 0.95 * net(lib.tensor(s, dtype=lib.float64))[0].max()
                row = net(lib.tensor(s, dtype=lib.float64))[0]
                row[a] = target
            targets.append(row)
        pred = net(lib.tensor([s.flatten() for s in states], dtype=lib.float64))
        loss = lib.nn.MSELoss()(pred, lib.stack(targets))
        loss.backward()
        res[lib] = (loss.item(), [p.grad.numpy() for p in net.parameters()], lib.argmax(pred[0]).item())
    assert res[gg][0] == pytest.approx(res[torch][0], rel=1e-14)
    for a, b in zip(res[gg][1], res[torch][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert res[gg][2] == res[torch][2]
