"""Porting round 48, recurrent-network variants (awd-lstm-lm, Ordered-Neurons, SRU, QRNN, IndRNN,
TCN): ``nn.utils.rnn.invert_permutation`` and ``F.conv_tbc`` were missing; the programs' own idioms
(awd-lstm-lm's WeightDrop re-registering an LSTM weight as a plain tensor each forward) against
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import gradcheck
from glassgrad.nn.utils import rnn as R


def test_invert_permutation_matches_torch(torch):
    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 17):
        perm = rng.permutation(n)
        want = torch.nn.utils.rnn.invert_permutation(torch.from_numpy(perm))
        got = R.invert_permutation(gg.from_numpy(perm))
        assert got.dtype == gg.int64
        assert got.tolist() == want.tolist()
    assert R.invert_permutation(None) is None
    assert "invert_permutation" in R.__all__


def test_invert_permutation_gives_a_packed_batchs_unsorted_indices():
    packed = R.pack_padded_sequence(gg.zeros(5, 4, 2), [2, 5, 1, 3], enforce_sorted=False)
    assert R.invert_permutation(packed.sorted_indices).tolist() == packed.unsorted_indices.tolist()
    assert packed.sorted_indices.tolist() == [1, 3, 0, 2]  # lengths 5, 3, 2, 1


def test_invert_permutation_refuses_as_torch(torch):
    # PyTorch's scatter_ needs an int64 permutation: RuntimeError for int32, in both
    with pytest.raises(RuntimeError):
        torch.nn.utils.rnn.invert_permutation(torch.tensor([1, 0], dtype=torch.int32))
    with pytest.raises(RuntimeError, match="scatter"):
        R.invert_permutation(gg.tensor([1, 0], dtype=gg.int32))
    with pytest.raises(TypeError, match="invert_permutation: expected a Tensor or None, got list"):
        R.invert_permutation([1, 0])


def test_functional_conv_tbc_is_torch_conv_tbc(torch):
    assert torch.nn.functional.conv_tbc is torch.conv_tbc
    assert F.conv_tbc is gg.conv_tbc
    assert "conv_tbc" in F.__all__
    rng = np.random.default_rng(1)
    for t, b, cin, cout, k, pad in [(7, 2, 3, 4, 3, 1), (5, 1, 2, 3, 2, 0), (4, 3, 1, 2, 5, 2)]:
        x, w, bias = (
            rng.standard_normal((t, b, cin)),
            rng.standard_normal((k, cin, cout)),
            rng.standard_normal(cout),
        )
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, bias))
        gx, gw, gb = (gg.from_numpy(a).requires_grad_() for a in (x, w, bias))
        want = torch.nn.functional.conv_tbc(tx, tw, tb, pad)
        got = F.conv_tbc(gx, gw, gb, pad)
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
        want.pow(2).sum().backward()
        got.pow(2).sum().backward()
        for g_, t_ in ((gx, tx), (gw, tw), (gb, tb)):
            np.testing.assert_allclose(g_.grad.numpy(), t_.grad.numpy(), rtol=1e-12, atol=1e-12)
        assert gradcheck(
            lambda a, c, d, p=pad: F.conv_tbc(a, c, d, p),
            (gx.detach().requires_grad_(), gw.detach().requires_grad_(), gb.detach().requires_grad_()),
        )


def _weight_drop_lstm(m, rnn_cls):
    # awd-lstm-lm's WeightDrop: weight_hh_l0 leaves _parameters, weight_hh_l0_raw is the parameter,
    # and each forward sets the attribute to a (masked) plain tensor computed from it
    rnn = rnn_cls(3, 4, dtype=m.float64)
    w = rnn.weight_hh_l0
    del rnn._parameters["weight_hh_l0"]
    rnn.register_parameter("weight_hh_l0_raw", m.nn.Parameter(w.data))
    return rnn


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_weight_drop_reregistration_matches_torch(torch, kind):
    rng = np.random.default_rng(2)
    nets = {m: _weight_drop_lstm(m, getattr(m.nn, kind)) for m in (torch, gg)}
    names = [n for n, _ in nets[torch].named_parameters()]
    assert [n for n, _ in nets[gg].named_parameters()] == names
    for n, p in nets[torch].named_parameters():
        getattr(nets[gg], n).data = gg.from_numpy(p.detach().numpy().copy())
    x = rng.standard_normal((5, 2, 3))
    for _step in range(2):  # the gradients accumulate over both, in both libraries
        mask = (rng.random((4 * 4 if kind == "LSTM" else 3 * 4, 4)) > 0.5) * 2.0
        outs = {}
        for m, net in nets.items():
            net.weight_hh_l0 = net.weight_hh_l0_raw * m.from_numpy(mask)  # a plain tensor, as WeightDrop
            out, _ = net(m.from_numpy(x))
            out.pow(2).sum().backward()
            outs[m] = (out.detach().numpy(), {n: p.grad.numpy().copy() for n, p in net.named_parameters()})
        np.testing.assert_allclose(outs[gg][0], outs[torch][0], rtol=1e-12, atol=1e-14)
        for n in names:
            np.testing.assert_allclose(outs[gg][1][n], outs[torch][1][n], rtol=1e-12, atol=1e-14)
    # assigning a plain tensor where a Parameter is registered is PyTorch's TypeError in both
    for m in (torch, gg):
        rnn = getattr(m.nn, kind)(3, 4)
        with pytest.raises(TypeError, match="cannot assign .* as parameter 'weight_hh_l0'"):
            rnn.weight_hh_l0 = rnn.weight_hh_l0 * 2


def _rnns(m):
    return [
        m.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2),
        m.nn.LSTM(3, 4, batch_first=True),
        m.nn.GRU(3, 5, num_layers=3),
        m.nn.RNN(3, 2, bidirectional=True, batch_first=True),
    ]


def test_rnn_base_checking_helpers_match_torch(torch):
    # recurrent variants that copy PyTorch's LSTM.forward call these helpers themselves
    x = np.zeros((5, 7, 3))
    for t_rnn, g_rnn in zip(_rnns(torch), _rnns(gg), strict=True):
        for rnn in (t_rnn, g_rnn):
            rnn.double()
        tx, gx = torch.from_numpy(x), gg.from_numpy(x)
        assert g_rnn.get_expected_hidden_size(gx, None) == tuple(t_rnn.get_expected_hidden_size(tx, None))
        sizes = [3, 2, 2]
        assert g_rnn.get_expected_hidden_size(gx[0], gg.tensor(sizes)) == tuple(
            t_rnn.get_expected_hidden_size(tx[0], torch.tensor(sizes))
        )
        if isinstance(t_rnn, torch.nn.LSTM):
            assert g_rnn.get_expected_cell_size(gx, None) == tuple(t_rnn.get_expected_cell_size(tx, None))
        # a wrong state: PyTorch's RuntimeError and message
        bad = (1, 1, 1)
        msgs = []
        for m, rnn, inp in ((torch, t_rnn, tx), (gg, g_rnn, gx)):
            hx = m.zeros(*bad, dtype=m.float64)
            state = (hx, hx) if isinstance(rnn, m.nn.LSTM) else hx
            with pytest.raises(RuntimeError) as err:
                rnn.check_forward_args(inp, state, None)
            msgs.append(str(err.value))
            with pytest.raises(RuntimeError) as err:
                rnn.check_input(inp[..., :2], None)
            msgs.append(str(err.value))
            with pytest.raises(RuntimeError) as err:
                rnn.check_input(inp[0], None)
            msgs.append(str(err.value))
            with pytest.raises(ValueError) as err:
                rnn.check_input(inp.float(), None)
            msgs.append(str(err.value).replace("torch.", "").replace("glassgrad.", ""))
        assert msgs[:4] == msgs[4:]


def test_rnn_base_permute_hidden_matches_torch(torch):
    rng = np.random.default_rng(3)
    h, c = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 4))
    perm = np.array([2, 0, 1])
    t_lstm, g_lstm = _rnns(torch)[0], _rnns(gg)[0]
    want = t_lstm.permute_hidden((torch.from_numpy(h), torch.from_numpy(c)), torch.from_numpy(perm))
    got = g_lstm.permute_hidden((gg.from_numpy(h), gg.from_numpy(c)), gg.from_numpy(perm))
    for w, g_ in zip(want, got, strict=True):
        assert g_.tolist() == w.tolist()
    t_gru, g_gru = _rnns(torch)[2], _rnns(gg)[2]
    assert g_gru.permute_hidden(gg.from_numpy(h), gg.from_numpy(perm)).tolist() == (
        t_gru.permute_hidden(torch.from_numpy(h), torch.from_numpy(perm)).tolist()
    )
    hx = gg.from_numpy(h)
    assert g_gru.permute_hidden(hx, None) is hx
    # the helpers keep the graph: a permuted state's gradient flows back
    hx.requires_grad_()
    g_gru.permute_hidden(hx, gg.from_numpy(perm)).sum().backward()
    assert hx.grad.tolist() == np.ones_like(h).tolist()


def test_rnn_base_refuses_an_unknown_mode_as_torch(torch):
    with pytest.raises(ValueError, match="Unrecognized RNN mode: FOO"):
        torch.nn.RNNBase("FOO", 3, 4)
    with pytest.raises(ValueError, match=r"Unrecognized RNN mode: FOO \(RNNBase: expected one of"):
        gg.nn.RNNBase("FOO", 3, 4)
