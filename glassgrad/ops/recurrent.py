"""Fused recurrences: one tanh/relu RNN, LSTM or GRU layer in one direction, over a whole sequence.

Each op takes the input projection of every time step at once (``xg = x W_ih^T + b_ih``, one
matmul done by the caller), the initial state and the recurrent weights, and runs the loop over
time steps inside ``forward``; its ``backward`` is backpropagation through time written out by
hand, step by step in reverse. Why one node for the whole loop instead of one per step:

- the per-step pieces of ``xg`` are rows of one array, so no slicing op (whose backward would
  allocate a zero array of the whole input at each step) stands between them and the projection;
- the recurrent weight gradient is one matmul over all steps, ``dW_hh = dG^T H_prev`` (a sum over
  time and batch at once), instead of one small matmul per step added up by the engine;
- the factors of each local derivative that do not depend on the incoming gradient
  (``i (1 - i)``, ``1 - tanh(c)^2`` ...) are computed for all steps in one vectorised pass, so the
  backward loop holds only the truly sequential work.

Layout: every sequence is "packed" (``nn.utils.rnn.PackedSequence``'s layout). Step ``t`` owns the
``batch_sizes[t]`` consecutive rows starting at ``offset_t = sum(batch_sizes[:t])``, and these are
the first ``batch_sizes[t]`` sequences of the batch (sorted by decreasing length, so sizes never
grow). A padded time-major batch ``(T, N, *)`` is the special case ``batch_sizes = (N,) * T``
reshaped to ``(T * N, *)``. A row of the state that is not active at a step is left untouched, so
a sequence's state after its last step is its final state, in either direction.

Each op returns one array of ``S + N`` rows (``S = sum(batch_sizes)``): the ``S`` per-step outputs
followed by the ``N`` final states; the LSTM's rows are ``[h, c]`` side by side. Callers slice it.
Backward is first-order only.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.ops.cascade_sum import cascade_sum

__all__ = ["RNNSeq", "LSTMSeq", "GRUSeq", "step_rows"]


def step_rows(batch_sizes: tuple[int, ...], reverse: bool) -> list[tuple[slice, int]]:
    """``(rows, b)`` per time step in processing order: step t's rows of the packed layout, and b."""
    out = []
    start = 0
    for b in batch_sizes:
        out.append((slice(start, start + b), b))
        start += b
    return out[::-1] if reverse else out


def _check(op: str, xg: Any, h0: Any, batch_sizes: tuple[int, ...], width: int) -> None:
    s = sum(batch_sizes)
    if xg.ndim != 2 or xg.shape[0] != s or xg.shape[1] != width:
        raise ShapeError(f"{op}: expected xg of shape ({s}, {width}), got {tuple(xg.shape)}")
    if batch_sizes and h0.shape[0] < batch_sizes[0]:
        raise ShapeError(f"{op}: expected a state of at least {batch_sizes[0]} rows, got {tuple(h0.shape)}")


def _weight_grad(d: Any, x: Any) -> Any:
    """``d^T x`` summed over all steps and rows: (S, G) and (S, K) -> (G, K).

    Computed as ``(x^T d)^T``: OpenBLAS runs this orientation several times faster than ``d^T x``
    for these tall-thin shapes (measured: 2 ms against 2 to 14 ms for S = 1600, G = 512, K = 128).
    """
    return array_module(d).ascontiguousarray((x.T @ d).T)  # (K, S) @ (S, G) -> (K, G) -> (G, K)


def _right_factor(w: Any) -> Any:
    """``w^T`` as a C-contiguous copy, for the per-step product ``h @ w^T``.

    OpenBLAS's AVX-512 kernels run a transposed right factor about 1.5x slower than a contiguous
    one at these shapes (measured: (32, 128) @ (128, 512) in 44 us against 30 us); the copy is
    made once per sequence and used at every step.
    """
    return array_module(w).ascontiguousarray(w.T)


def _sigmoid_(a: Any) -> Any:
    """sigmoid(a) = 1 / (1 + e^-a) in place, PyTorch's formula (0 where e^-a overflows, as there).

    Not (1 + tanh(a / 2)) / 2: NumPy's float32 ``tanh`` has a SIMD loop only on AVX-512 cores and
    elsewhere costs about twice ``exp`` (ops/recurrent_dense.py)."""
    xp = array_module(a)
    xp.negative(a, out=a)
    xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)
    return a


class RNNSeq(Function):
    """Elman RNN over a packed sequence:  h_t = act(xg_t + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Inputs: ``xg`` (S, H) the input projection of every step, ``h0`` (N, H), ``w_hh`` (H, H),
    ``b_hh`` (H,) or None. Output (S + N, H): every h_t, then the final states.

    VJP, with dh_t the gradient reaching h_t (from the output and from step t + 1):
        da_t = dh_t * act'(a_t)  (1 - h_t^2 for tanh; [h_t > 0] for relu)
        dxg_t = da_t,  dh_{t-1} = da_t W_hh,  dW_hh = sum_t da_t^T h_{t-1},  db_hh = sum_t da_t.
    """

    name = "rnn_seq"

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh=None, batch_sizes=(), reverse=False, nonlinearity="tanh"):
        xp = array_module(xg)
        _check("rnn_seq", xg, h0, batch_sizes, w_hh.shape[0])
        pre = xg + b_hh if b_hh is not None else xg.copy()  # becomes the outputs h_t, in place
        h = h0.copy()
        h_prev = xp.empty_like(pre)
        w_t = _right_factor(w_hh)  # (H, H)
        for rows, b in step_rows(batch_sizes, reverse):
            h_prev[rows] = h[:b]
            a = pre[rows]
            a += h[:b] @ w_t  # (b, H) @ (H, H)
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            h[:b] = a
        # h0 only for its version: PyTorch's backward refuses a state changed in place since
        # (the values used are h_prev's copies)
        ctx.save_for_backward(pre, h_prev, w_hh, h0)
        return xp.concatenate([pre, h])  # (S, H) + (N, H) -> (S + N, H)

    @staticmethod
    def backward(ctx, g):
        hs, h_prev, w_hh = ctx.saved[:3]
        attrs = ctx.attrs
        s = hs.shape[0]
        slope = 1 - hs * hs if attrs.get("nonlinearity", "tanh") == "tanh" else (hs > 0).astype(hs.dtype)
        da = g[:s] * slope  # the output's own share, for every step at once
        dh = g[s:].copy()
        for rows, b in step_rows(attrs["batch_sizes"], attrs.get("reverse", False))[::-1]:
            d = da[rows]
            d += dh[:b] * slope[rows]
            dh[:b] = d @ w_hh  # (b, H) @ (H, H)
        need = ctx.needs_input_grad
        gw = _weight_grad(da, h_prev) if need[2] else None
        gb = cascade_sum(da, 0) if len(need) > 3 and need[3] else None
        return da, dh, gw, gb


class LSTMSeq(Function):
    """LSTM over a packed sequence, gate rows in PyTorch's order i, f, g, o, optional projection.

        [i, f, g, o] = [s, s, tanh, s](xg_t + h_{t-1} W_hh^T + b_hh)   (s the sigmoid)
        c_t = f * c_{t-1} + i * g,   m_t = o * tanh(c_t),   h_t = m_t W_hr^T  (or m_t without W_hr)

    Inputs: ``xg`` (S, 4H), ``h0`` (N, P), ``c0`` (N, H), ``w_hh`` (4H, P), ``b_hh`` (4H,) or None,
    ``w_hr`` (P, H) or None (then P = H). Output (S + N, P + H): rows ``[h_t, c_t]``, then the
    final ``[h, c]``.

    VJP, with dh_t, dc_t the gradients reaching h_t and c_t:
        dm = dh_t W_hr,   dc = dc_t + dm * o * (1 - tanh(c_t)^2)
        di = dc * g,  df = dc * c_{t-1},  dg = dc * i,  do = dm * tanh(c_t), each times its
        activation's slope (s (1 - s) or 1 - tanh^2) -> dG_t = dxg_t
        dh_{t-1} = dG_t W_hh,  dc_{t-1} = dc * f,  dW_hh = sum dG_t^T h_{t-1},  dW_hr = sum dh_t^T m_t.
    """

    name = "lstm_seq"

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, b_hh=None, w_hr=None, batch_sizes=(), reverse=False):
        xp = array_module(xg)
        n, hid = c0.shape
        p = h0.shape[1]
        _check("lstm_seq", xg, h0, batch_sizes, 4 * hid)
        s = xg.shape[0]
        # s(x) = (1 + tanh(x / 2)) / 2: with the i, f, o rows of xg and W_hh halved up front, one
        # tanh over all four gates and one multiply-add give [s, s, tanh, s] (g: scale 1, shift 0).
        scale = xp.full(4 * hid, 0.5, dtype=xg.dtype)
        scale[2 * hid : 3 * hid] = 1.0
        shift = 1.0 - scale  # 0.5 for i, f, o; 0 for g
        gates = (xg + b_hh if b_hh is not None else xg) * scale  # becomes the activations, in place
        w_t = _right_factor(w_hh * scale[:, None])  # (4H, P) -> (P, 4H)
        w_hr_t = _right_factor(w_hr) if w_hr is not None else None  # (P, H) -> (H, P)
        y = xp.empty((s + n, p + hid), dtype=xg.dtype)
        hs, cs = y[:s, :p], y[:s, p:]  # h_t and c_t go straight into the output
        tc = xp.empty((s, hid), dtype=xg.dtype)  # tanh(c_t)
        c_prev = xp.empty_like(tc)
        h_prev = xp.empty((s, p), dtype=xg.dtype)
        ms = xp.empty_like(tc) if w_hr is not None else None  # m_t, before the projection
        h, c = h0, c0
        for rows, b in step_rows(batch_sizes, reverse):
            hp, cp = h[:b], c[:b]
            h_prev[rows] = hp
            c_prev[rows] = cp
            a = gates[rows]
            a += hp @ w_t  # (b, P) @ (P, 4H)
            xp.tanh(a, out=a)
            a *= scale
            a += shift
            ct = cs[rows]
            xp.multiply(a[:, hid : 2 * hid], cp, out=ct)
            ct += a[:, :hid] * a[:, 2 * hid : 3 * hid]
            t = tc[rows]
            xp.tanh(ct, out=t)
            ht = hs[rows]
            if w_hr is not None:
                m = ms[rows]
                xp.multiply(a[:, 3 * hid :], t, out=m)
                xp.matmul(m, w_hr_t, out=ht)  # (b, H) @ (H, P)
            else:
                xp.multiply(a[:, 3 * hid :], t, out=ht)
            # Rows past b (sequences already finished, or not yet started) keep their state.
            h = ht if b == n else xp.concatenate([ht, h[b:]])
            c = ct if b == n else xp.concatenate([ct, c[b:]])
        y[s:, :p] = h
        y[s:, p:] = c
        ctx.save_for_backward(gates, tc, c_prev, h_prev, ms, w_hh, w_hr, h0, c0)  # h0, c0: as rnn_seq's
        return y

    @staticmethod
    def backward(ctx, g):
        gates, tc, c_prev, h_prev, ms, w_hh, w_hr = ctx.saved[:7]
        xp = array_module(g)
        s, hid = tc.shape
        n, p = g.shape[0] - s, h_prev.shape[1]
        i, f, gg, o = (gates[:, k * hid : (k + 1) * hid] for k in range(4))
        # Local slopes for all steps at once; the loop below only chains them.
        k3 = xp.empty((s, 3, hid), dtype=g.dtype)  # d pre_{i, f, g} / dc_t
        xp.multiply(gg, i * (1 - i), out=k3[:, 0])
        xp.multiply(c_prev, f * (1 - f), out=k3[:, 1])
        xp.multiply(i, 1 - gg * gg, out=k3[:, 2])
        k_c = o * (1 - tc * tc)  # dc_t / dm_t
        k_o = tc * o * (1 - o)  # d pre_o / dm_t
        dgates = xp.empty_like(gates)
        dh_all = xp.empty((s, p), dtype=g.dtype) if w_hr is not None else None
        dh, dc = g[s:, :p], g[s:, p:]
        for rows, b in step_rows(ctx.attrs["batch_sizes"], ctx.attrs.get("reverse", False))[::-1]:
            dht = dh[:b] + g[rows, :p]
            if w_hr is not None:
                dh_all[rows] = dht
                dht = dht @ w_hr  # (b, P) @ (P, H): the gradient reaching m_t
            dct = dc[:b] + g[rows, p:]
            dct += dht * k_c[rows]
            d = dgates[rows]
            xp.multiply(
                dct[:, None, :], k3[rows], out=d[:, : 3 * hid].reshape(b, 3, hid)
            )  # (b, 3H) as (b, 3, H)
            xp.multiply(dht, k_o[rows], out=d[:, 3 * hid :])
            dhp = d @ w_hh  # (b, 4H) @ (4H, P)
            dcp = dct * f[rows]
            dh = dhp if b == n else xp.concatenate([dhp, dh[b:]])
            dc = dcp if b == n else xp.concatenate([dcp, dc[b:]])
        need = ctx.needs_input_grad
        gw = _weight_grad(dgates, h_prev) if need[3] else None
        gb = cascade_sum(dgates, 0) if need[4] else None  # (steps x batch rows: a cascade)
        gr = _weight_grad(dh_all, ms) if len(need) > 5 and need[5] else None
        return dgates, dh, dc, gw, gb, gr


class GRUSeq(Function):
    """GRU over a packed sequence, gate rows in PyTorch's order r, z, n.

        [hr, hz, hn] = h_{t-1} W_hh^T + b_hh,   r = s(xg_r + hr),   z = s(xg_z + hz)
        n = tanh(xg_n + r * hn),   h_t = (1 - z) * n + z * h_{t-1}

    Inputs: ``xg`` (S, 3H), ``h0`` (N, H), ``w_hh`` (3H, H), ``b_hh`` (3H,) or None. Output
    (S + N, H). The reset gate multiplies ``hn`` after its bias, so ``b_hh`` cannot be folded into xg.

    VJP, with dh_t the gradient reaching h_t:
        dn' = dh_t (1 - z)(1 - n^2),  dz' = dh_t (h_{t-1} - n) z (1 - z),  dr' = dn' hn r (1 - r)
        dxg_t = [dr', dz', dn'],  dhg_t = [dr', dz', dn' r]
        dh_{t-1} = dh_t z + dhg_t W_hh,  dW_hh = sum dhg_t^T h_{t-1},  db_hh = sum dhg_t.
    """

    name = "gru_seq"

    @staticmethod
    def forward(ctx, xg, h0, w_hh, b_hh=None, batch_sizes=(), reverse=False):
        xp = array_module(xg)
        hid = h0.shape[1]
        _check("gru_seq", xg, h0, batch_sizes, 3 * hid)
        s = xg.shape[0]
        acts = xg.copy()  # becomes [r, z, n], in place
        hn_all = xp.empty((s, hid), dtype=xg.dtype)
        h_prev = xp.empty_like(hn_all)
        hs = xp.empty_like(hn_all)
        h = h0.copy()
        w_t = _right_factor(w_hh)  # (3H, H) -> (H, 3H)
        for rows, b in step_rows(batch_sizes, reverse):
            hp = h[:b]
            h_prev[rows] = hp
            hg = hp @ w_t  # (b, H) @ (H, 3H)
            if b_hh is not None:
                hg += b_hh
            a = acts[rows]
            a[:, : 2 * hid] += hg[:, : 2 * hid]
            _sigmoid_(a[:, : 2 * hid])
            hn_all[rows] = hg[:, 2 * hid :]
            n = a[:, 2 * hid :]
            n += a[:, :hid] * hg[:, 2 * hid :]
            xp.tanh(n, out=n)
            ht = hs[rows]
            xp.subtract(hp, n, out=ht)
            ht *= a[:, hid : 2 * hid]
            ht += n
            h[:b] = ht
        ctx.save_for_backward(acts, hn_all, h_prev, w_hh, h0)  # h0: as rnn_seq's
        return xp.concatenate([hs, h])  # (S, H) + (N, H) -> (S + N, H)

    @staticmethod
    def backward(ctx, g):
        acts, hn_all, h_prev, w_hh = ctx.saved[:4]
        xp = array_module(g)
        s, hid = hn_all.shape
        r, z, n = (acts[:, k * hid : (k + 1) * hid] for k in range(3))
        # Local slopes for all steps at once: dxg_t = dh_t * kx, dhg_t = dh_t * kh.
        k_n = (1 - z) * (1 - n * n)
        k_z = (h_prev - n) * z * (1 - z)
        k_r = k_n * hn_all * r * (1 - r)
        kx = xp.stack([k_r, k_z, k_n], axis=1)  # (S, 3, H)
        kh = xp.stack([k_r, k_z, k_n * r], axis=1)
        dxg = xp.empty_like(acts)
        dhg = xp.empty_like(acts)
        dh = g[s:].copy()
        for rows, b in step_rows(ctx.attrs["batch_sizes"], ctx.attrs.get("reverse", False))[::-1]:
            dht = dh[:b] + g[rows]
            xp.multiply(dht[:, None, :], kx[rows], out=dxg[rows].reshape(b, 3, hid))  # (b, 3H) as (b, 3, H)
            d = dhg[rows]
            xp.multiply(dht[:, None, :], kh[rows], out=d.reshape(b, 3, hid))
            dh[:b] = dht * z[rows] + d @ w_hh  # (b, 3H) @ (3H, H)
        need = ctx.needs_input_grad
        gw = _weight_grad(dhg, h_prev) if need[2] else None
        gb = cascade_sum(dhg, 0) if len(need) > 3 and need[3] else None
        return dxg, dh, gw, gb
