"""``LSTMSeq``'s fast path for a dense batch: every sequence runs every step, no projection.

Same maths as ``LSTMSeq`` (see its docstring for the VJP); only the memory layout differs, because
at the sizes this op meets (batch 32, hidden 128) the time goes to NumPy's per-step elementwise
passes, not to the matmul, and a column slice ``gates[:, H:2H]`` of a row-major ``(N, 4H)`` block is
a strided array that NumPy walks row by row (measured: a multiply over a (32, 128) column slice
costs as much as one over the whole contiguous (32, 512) block).

So inside the loop everything is feature-major, one contiguous block per step:

- gates ``G[j]`` are ``(4H, N)``: ``G_j = W_hh h_{j-1}^T`` is one BLAS call with ``out=``, and each
  gate is a contiguous row block;
- the gate rows are reordered to ``o, i, f, g``: the three sigmoids are one block (rows ``:3H``) in
  forward, and the three gates driven by ``dc`` (``i, f, g``: rows ``H:``) are one block in
  backward;
- states ``Hs[j]``, ``Cs[j]`` are ``(H, N)``, in processing order ``j`` (reversed time for the
  backward direction) with the initial state at index 0, so ``Hs[:-1]`` / ``Cs[:-1]`` are the
  previous states of every step without a per-step copy.

The price is one transposing copy at each edge (xg in, y out, g in, dxg out: about 1 ms of the
benchmark's step in all), against about twice that saved per direction inside the loops.
"""

from __future__ import annotations

from typing import Any

from glassgrad.backend import array_module

__all__ = ["is_dense", "lstm_dense_forward", "lstm_dense_backward"]


def is_dense(batch_sizes: tuple[int, ...], n: int, w_hr: Any) -> bool:
    """Whether the fast path applies: at least one step, all ``n`` sequences in every step, no W_hr."""
    return w_hr is None and len(batch_sizes) > 0 and all(b == n for b in batch_sizes)


def _blocks(hid: int) -> list[tuple[slice, slice]]:
    """``(rows here, PyTorch's rows)`` of the gate blocks: o; i and f; g (PyTorch's order: i, f, g, o)."""
    return [
        (slice(0, hid), slice(3 * hid, 4 * hid)),
        (slice(hid, 3 * hid), slice(0, 2 * hid)),
        (slice(3 * hid, 4 * hid), slice(2 * hid, 3 * hid)),
    ]


def _reorder(a: Any, hid: int) -> Any:
    """PyTorch's gate rows of ``a`` (4H, *) in the order used here, o, i, f, g (a copy)."""
    return array_module(a).concatenate([a[src] for _, src in _blocks(hid)])


def _time_major(a: Any, t: int, reverse: bool) -> Any:
    """(S, K) in time order -> (T, N, K) in processing order (a view)."""
    a3 = a.reshape(t, a.shape[0] // t, a.shape[1])  # (S, K) -> (T, N, K)
    return a3[::-1] if reverse else a3


def lstm_dense_forward(xg: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, t: int, reverse: bool):
    """Forward over a dense batch: returns ``(y, saved)``, ``y`` as ``LSTMSeq.forward``'s output.

    Shape:
        xg (T * N, 4H), h0 (N, H), c0 (N, H), w_hh (4H, H), b_hh (4H,) or None
        -> y (T * N + N, 2H); saved: G (T, 4H, N) activations, TC (T, H, N) tanh(c_t),
        Hs (T + 1, H + 1, N) and Cs (T + 1, H, N) states with the initial one first.
    """
    xp = array_module(xg)
    n, hid = c0.shape
    s, dt = xg.shape[0], xg.dtype
    h3 = 3 * hid
    x3 = _time_major(xg, t, reverse)  # (T, N, 4H)
    g_all = xp.empty((t, 4 * hid, n), dtype=dt)
    for rows, src in _blocks(hid):
        xp.copyto(g_all[:, rows], x3[:, :, src].transpose(0, 2, 1))  # (T, N, k) -> (T, k, N)
    # b_hh rides along the matmul as an extra column of W_hh against a constant row of ones under
    # each state (one pass over a (4H, N) block per step instead of a pass over all of G up front).
    w = xp.zeros((4 * hid, hid + 1), dtype=dt)  # (4H, H + 1), rows o, i, f, g
    w[:, :hid] = _reorder(w_hh, hid)
    if b_hh is not None:
        w[:, hid] = _reorder(b_hh, hid)
    hs = xp.empty((t + 1, hid + 1, n), dtype=dt)  # row H of every state is the ones row
    hs[:, hid] = 1.0
    cs = xp.empty((t + 1, hid, n), dtype=dt)
    tc = xp.empty((t, hid, n), dtype=dt)
    hs[0, :hid] = h0.T
    cs[0] = c0.T
    mm = xp.empty((4 * hid, n), dtype=dt)
    ig = xp.empty((hid, n), dtype=dt)
    matmul, multiply, tanh = xp.matmul, xp.multiply, xp.tanh  # bound once: the loop is per-call bound
    for j in range(t):
        a = g_all[j]
        matmul(w, hs[j], out=mm)  # (4H, H + 1) @ (H + 1, N): W_hh h_{t-1} + b_hh
        a += mm
        # s(x) = (1 + tanh(x / 2)) / 2: one tanh over all four gates, the sigmoid rows halved
        # before and mapped after (rows :3H are o, i, f: one contiguous block).
        sig = a[:h3]
        sig *= 0.5
        tanh(a, out=a)
        sig *= 0.5
        sig += 0.5
        c = cs[j + 1]
        multiply(a[2 * hid : h3], cs[j], out=c)  # f * c_{t-1}
        multiply(a[hid : 2 * hid], a[h3:], out=ig)  # i * g
        c += ig
        tanh(c, out=tc[j])
        multiply(a[:hid], tc[j], out=hs[j + 1, :hid])  # o * tanh(c_t)
    y = xp.empty((s + n, 2 * hid), dtype=dt)
    y3 = _time_major(y[:s], t, reverse)  # (T, N, 2H) view into y
    xp.copyto(y3[:, :, :hid], hs[1:, :hid].transpose(0, 2, 1))  # (T, H, N) -> (T, N, H)
    xp.copyto(y3[:, :, hid:], cs[1:].transpose(0, 2, 1))
    y[s:, :hid] = hs[t, :hid].T
    y[s:, hid:] = cs[t].T
    return y, (g_all, tc, hs, cs)


def lstm_dense_backward(g: Any, saved: tuple, w_hh: Any, reverse: bool, need_w: bool, need_b: bool):
    """BPTT for ``lstm_dense_forward``: ``(dxg, dh0, dc0, dW_hh, db_hh)``.

    Shape:
        g (T * N + N, 2H) -> dxg (T * N, 4H), dh0 (N, H), dc0 (N, H), dW_hh (4H, H), db_hh (4H,)
    """
    g_all, tc, hs, cs = saved
    xp = array_module(g)
    t, h4, n = g_all.shape
    hid = h4 // 4
    h3 = 3 * hid
    s, dt = g.shape[0] - n, g.dtype
    o, i, f, gg = g_all[:, :hid], g_all[:, hid : 2 * hid], g_all[:, 2 * hid : h3], g_all[:, h3:]
    # Local slopes for all steps at once (big contiguous passes, no per-call cost); the loop below
    # only chains them. k3 rows i, f, g: d pre / d c_t;  k_c = d c_t / d h_t;  k_o = d pre_o / d h_t.
    k3 = xp.empty((t, h3, n), dtype=dt)
    xp.multiply(i, 1 - i, out=k3[:, :hid])
    k3[:, :hid] *= gg
    xp.multiply(f, 1 - f, out=k3[:, hid : 2 * hid])
    k3[:, hid : 2 * hid] *= cs[:-1]
    xp.multiply(gg, gg, out=k3[:, 2 * hid :])
    xp.subtract(1, k3[:, 2 * hid :], out=k3[:, 2 * hid :])
    k3[:, 2 * hid :] *= i
    k_c = tc * tc
    xp.subtract(1, k_c, out=k_c)
    k_c *= o
    k_o = (1 - o) * o
    k_o *= tc
    g3 = _time_major(g[:s], t, reverse)  # (T, N, 2H)
    gh = xp.ascontiguousarray(g3[:, :, :hid].transpose(0, 2, 1))  # (T, N, H) -> (T, H, N)
    gc = xp.ascontiguousarray(g3[:, :, hid:].transpose(0, 2, 1))
    dh = xp.ascontiguousarray(g[s:, :hid].T)  # (N, H) -> (H, N): reaching the final h
    dc = xp.ascontiguousarray(g[s:, hid:].T)
    # (4H, H) -> (H, 4H), columns o, i, f, g; contiguous: OpenBLAS runs the 50 products ~10% faster
    w_t = xp.ascontiguousarray(_reorder(w_hh, hid).T)
    dg_all = xp.empty_like(g_all)
    tmp = xp.empty((hid, n), dtype=dt)
    matmul, multiply = xp.matmul, xp.multiply
    for j in range(t - 1, -1, -1):
        dh += gh[j]
        dc += gc[j]
        multiply(dh, k_c[j], out=tmp)
        dc += tmp
        d = dg_all[j]
        multiply(dc[None], k3[j].reshape(3, hid, n), out=d[hid:].reshape(3, hid, n))  # i, f, g
        multiply(dh, k_o[j], out=d[:hid])  # o
        matmul(w_t, d, out=dh)  # (H, 4H) @ (4H, N): reaching h_{j-1}
        dc *= f[j]
    dxg = xp.empty((s, h4), dtype=dt)
    d3 = _time_major(dxg, t, reverse)  # (T, N, 4H) view into dxg
    for rows, dst in _blocks(hid):
        xp.copyto(d3[:, :, dst], dg_all[:, rows].transpose(0, 2, 1))  # (T, k, N) -> (T, N, k)
    gw = gb = None
    if need_w:
        h_prev = xp.empty((s, hid), dtype=dt)  # rows in dxg's order
        xp.copyto(_time_major(h_prev, t, reverse), hs[:-1, :hid].transpose(0, 2, 1))
        gw = xp.ascontiguousarray((h_prev.T @ dxg).T)  # (H, S) @ (S, 4H) -> (H, 4H) -> (4H, H)
    if need_b:
        gb = dxg.sum(axis=0)
    return dxg, xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T), gw, gb
