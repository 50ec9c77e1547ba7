"""Module parity against PyTorch, for tests that get ``torch`` from the fixture (no module-level import).

``module_parity`` copies weights through ``state_dict`` (torch -> ours, or ours -> torch), runs both
modules, and compares the outputs, the gradients of every input and parameter, and the buffers.
"""

from __future__ import annotations

import numpy as np

import glassgrad as gg

RNG = np.random.default_rng(0)


def randn(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


def randomize(torch, theirs) -> None:
    """Give a torch module non-default weights and buffers so that parity exercises them."""
    # a generator of its own: drawn from PyTorch's global one, the weights depended on the tests run
    # before, and a rare draw left a noise-level float32 gradient above the tolerance (flaky)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(generator=gen)
        for name, b in theirs.named_buffers():
            if name.endswith("running_var"):
                b.uniform_(0.5, 2.0, generator=gen)
            elif b.is_floating_point():
                b.normal_(generator=gen)


def module_parity(torch, ours, theirs, *inputs: np.ndarray, atol=1e-5, rtol=1e-5, direction="theirs"):
    """Copy weights (``direction``: "theirs" = torch -> ours, "ours" = ours -> torch, None = no copy),
    run both, compare outputs, input and parameter gradients and buffers; returns both outputs."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if direction == "theirs":
        ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    elif direction == "ours":
        theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    g_in = [gg.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    out, tout = ours(*g_in), theirs(*t_in)
    assert out.shape == tuple(tout.shape)
    assert out.dtype.name == str(tout.dtype).split(".")[1]
    np.testing.assert_allclose(out._data, tout.detach().numpy(), atol=atol, rtol=rtol)
    upstream = RNG.standard_normal(out.shape).astype(out._data.dtype)
    out.backward(gg.tensor(upstream))
    tout.backward(torch.from_numpy(upstream))
    for g, t in zip(g_in, t_in):
        if t.requires_grad:
            np.testing.assert_allclose(g.grad._data, t.grad.numpy(), atol=atol, rtol=rtol)
    tparams = dict(theirs.named_parameters())
    assert sorted(tparams) == sorted(n for n, _ in ours.named_parameters())
    for name, p in ours.named_parameters():
        if tparams[name].grad is None:
            assert p.grad is None or not p.grad._data.any(), name
        else:
            np.testing.assert_allclose(
                p.grad._data, tparams[name].grad.numpy(), atol=atol, rtol=rtol, err_msg=name
            )
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(ours.get_buffer(name)._data, b.numpy(), atol=atol, rtol=rtol, err_msg=name)
    return out, tout
