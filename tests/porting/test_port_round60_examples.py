"""Round 60, examples: a regression re-run of pytorch/examples (77f55b9, still its newest commit).

The examples ran and agreed with PyTorch in float64 (same weights, same NumPy-drawn batches,
dropout masks and samples). One difference stopped a program: word_language_model's and
generate.py's ``safe_globals`` lists name ``torch.nn.modules.linear.NonDynamicallyQuantizableLinear``
(``MultiheadAttention.out_proj``'s class), which that import path lacked. The other tests pin
the patterns the examples are built from (written fresh here), against PyTorch in float64.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil

import numpy as np
import pytest

import glassgrad as gg

# ---- torch.nn.modules.<file> paths hold every class PyTorch defines there -------------------------


def test_non_dynamically_quantizable_linear_is_reachable_by_its_torch_path():
    from glassgrad.nn.modules.linear import NonDynamicallyQuantizableLinear

    mha = gg.nn.MultiheadAttention(4, 2)
    assert type(mha.out_proj) is NonDynamicallyQuantizableLinear
    assert issubclass(NonDynamicallyQuantizableLinear, gg.nn.Linear)
    # word_language_model's list, built from the same paths, is accepted as PyTorch accepts it
    with gg.serialization.safe_globals(
        [
            gg.nn.modules.activation.MultiheadAttention,
            gg.nn.modules.linear.NonDynamicallyQuantizableLinear,
            gg.nn.modules.transformer.TransformerEncoderLayer,
        ]
    ):
        pass


def test_every_torch_nn_modules_class_has_the_same_path(torch):
    missing = []
    for info in pkgutil.iter_modules(torch.nn.modules.__path__):
        if info.name.startswith("_"):
            continue  # _functions: PyTorch's private autograd Functions
        theirs = importlib.import_module(f"torch.nn.modules.{info.name}")
        public = [
            name
            for name, obj in vars(theirs).items()
            if inspect.isclass(obj) and obj.__module__ == theirs.__name__ and not name.startswith("_")
        ]
        if not public:  # linear_cross_entropy holds private helpers only
            continue
        ours = importlib.import_module(f"glassgrad.nn.modules.{info.name}")
        missing += [f"{info.name}.{name}" for name in public if not hasattr(ours, name)]
    assert missing == []


# ---- word_language_model's models, trained as main.py trains them ------------------------------


def _sync(mt, mg):
    mg.load_state_dict({k: gg.from_numpy(v.detach().numpy().copy()) for k, v in mt.state_dict().items()})


def _rel(a, b):
    a, b = a.detach().numpy(), b.detach().numpy()
    return float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-300))


def _transformer_lm(lib, ntoken=11, ninp=8):
    class PositionalEncoding(lib.nn.Module):
        def __init__(self, d_model, max_len=50):
            super().__init__()
            pe = lib.zeros(max_len, d_model)
            position = lib.arange(0, max_len, dtype=lib.float64).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d_model, 2).double() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = lib.sin(position * div_term)
            pe[:, 1::2] = lib.cos(position * div_term)
            self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

        def forward(self, x):
            return x + self.pe[: x.size(0), :]

    class TransformerLM(lib.nn.Transformer):
        def __init__(self):
            super().__init__(d_model=ninp, nhead=2, dim_feedforward=8, num_encoder_layers=2, dropout=0.0)
            self.pos_encoder = PositionalEncoding(ninp)
            self.input_emb = lib.nn.Embedding(ntoken, ninp)
            self.decoder = lib.nn.Linear(ninp, ntoken)

        def forward(self, src):
            mask = lib.log(lib.tril(lib.ones(len(src), len(src))))  # 0 / -inf causal mask
            h = self.pos_encoder(self.input_emb(src) * math.sqrt(ninp))
            return lib.nn.functional.log_softmax(self.decoder(self.encoder(h, mask=mask)), dim=-1)

    return TransformerLM()


def _rnn_lm(lib, kind, ntoken=11):
    class RNNLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = lib.nn.Embedding(ntoken, 6)
            if kind == "RNN_TANH":
                self.rnn = lib.nn.RNN(6, 5, 2, nonlinearity="tanh")
            else:
                self.rnn = getattr(lib.nn, kind)(6, 5, 2)
            self.decoder = lib.nn.Linear(5, ntoken)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.encoder(x), hidden)
            return lib.nn.functional.log_softmax(self.decoder(out), dim=-1).view(-1, ntoken), hidden

    return RNNLM()


def _train(lib, model, data, kind):
    """main.py's loop: bptt chunks, detached hidden state, clip_grad_norm_, manual SGD at lr 20."""
    lib.set_default_dtype(lib.float64)
    losses, norms = [], []
    model.train()
    hidden = None
    if kind != "Transformer":
        z = lib.zeros(2, 3, 5)
        hidden = (z, z.clone()) if kind == "LSTM" else z
    for i in range(0, data.size(0) - 1, 4):
        seq = data[i : i + min(4, data.size(0) - 1 - i)]
        target = data[i + 1 : i + 1 + len(seq)].view(-1)
        model.zero_grad()
        if kind == "Transformer":
            output = model(seq).view(-1, 11)
        else:
            hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
            output, hidden = model(seq, hidden)
        loss = lib.nn.NLLLoss()(output, target)
        loss.backward()
        norms.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25))
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-20.0)
        losses.append(loss)
    return losses, norms


@pytest.mark.parametrize("kind", ["Transformer", "LSTM", "GRU", "RNN_TANH"])
def test_word_language_model_training_matches_torch(torch, kind):
    old_t, old_g = torch.get_default_dtype(), gg.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        gg.set_default_dtype(gg.float64)
        torch.manual_seed(0)
        mt = _transformer_lm(torch) if kind == "Transformer" else _rnn_lm(torch, kind)
        mg = _transformer_lm(gg) if kind == "Transformer" else _rnn_lm(gg, kind)
        _sync(mt, mg)
        tokens = np.random.RandomState(1).randint(0, 11, size=(13, 3))
        lt, nt = _train(torch, mt, torch.from_numpy(tokens), kind)
        lg, ng = _train(gg, mg, gg.from_numpy(tokens), kind)
        for a, b in zip(lt + nt, lg + ng):
            assert _rel(a, b) < 1e-12
        for (name, p), q in zip(mt.named_parameters(), mg.parameters()):
            assert _rel(p, q) < 1e-12, name
    finally:
        torch.set_default_dtype(old_t)
        gg.set_default_dtype(old_g)


# ---- time_sequence_prediction: LSTMCell loops under LBFGS --------------------------------------


def _sequence(lib):
    class Sequence(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = lib.nn.LSTMCell(1, 6)
            self.lstm2 = lib.nn.LSTMCell(6, 6)
            self.linear = lib.nn.Linear(6, 1)

        def forward(self, x, future=0):
            z = lib.zeros(x.size(0), 6, dtype=lib.double)
            h, c, h2, c2 = z, z, z, z
            outputs = []
            for x_t in x.split(1, dim=1):
                h, c = self.lstm1(x_t, (h, c))
                h2, c2 = self.lstm2(h, (h2, c2))
                output = self.linear(h2)
                outputs += [output]
            for _ in range(future):
                h, c = self.lstm1(output, (h, c))
                h2, c2 = self.lstm2(h, (h2, c2))
                output = self.linear(h2)
                outputs += [output]
            return lib.cat(outputs, dim=1)

    return Sequence().double()


def test_time_sequence_prediction_lbfgs_matches_torch(torch):
    x = np.arange(16)[None, :] + np.random.RandomState(2).randint(-8, 8, 4)[:, None]
    data = np.sin(x / 3.0)
    mt, mg = _sequence(torch), _sequence(gg)
    _sync(mt, mg)
    results = {}
    for lib, model in ((torch, mt), (gg, mg)):
        inp, target = lib.from_numpy(data[:, :-1]), lib.from_numpy(data[:, 1:])
        optimizer = lib.optim.LBFGS(model.parameters(), lr=0.8, max_iter=5)
        losses = []

        def closure():
            optimizer.zero_grad()
            loss = lib.nn.MSELoss()(model(inp), target)
            losses.append(loss.item())
            loss.backward()
            return loss

        for _ in range(2):
            optimizer.step(closure)
        with lib.no_grad():
            pred = model(inp[:2], future=5)
        results[lib] = (losses, pred, [p.detach().clone() for p in model.parameters()])
    (lt, pt, wt), (lg, pg, wg) = results[torch], results[gg]
    np.testing.assert_allclose(lg, lt, rtol=1e-10)
    assert _rel(pt, pg) < 1e-10
    for a, b in zip(wt, wg):
        assert _rel(a, b) < 1e-10
