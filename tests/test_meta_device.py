"""The meta device: tensors with a shape and a dtype but no data, checked against PyTorch.

Each check runs the same function once with glassgrad and once with PyTorch (the ``torch``
fixture) and compares what a meta result has: shape, dtype name, device, requires_grad.
"""

from __future__ import annotations

import pytest

import glassgrad as gg


@pytest.fixture(autouse=True)
def _restore_default_device():
    yield
    gg.set_default_device("cpu")


def meta(*shape, dtype=None, rg=False, lib=gg):
    return lib.empty(*shape, dtype=dtype, device="meta", requires_grad=rg)


def sig(t):
    """What a meta result has, in words both libraries share."""
    if isinstance(t, tuple | list):
        return [sig(x) for x in t]
    return (tuple(t.shape), str(t.dtype).split(".")[-1], str(t.device), t.requires_grad)


def both(torch, fn):
    return sig(fn(gg)), sig(fn(torch))


# ----------------------------------------------------------------------------------- factories
FACTORIES = {
    "empty": lambda L: L.empty(2, 3, device="meta"),
    "empty_size": lambda L: L.empty((4,), device="meta", dtype=L.float64),
    "zeros": lambda L: L.zeros(2, 3, device="meta", dtype=L.int64),
    "ones": lambda L: L.ones(5, device=L.device("meta")),
    "full_int": lambda L: L.full((2,), 3, device="meta"),
    "full_float": lambda L: L.full((2, 2), 1.5, device="meta", requires_grad=True),
    "rand": lambda L: L.rand(3, 4, device="meta"),
    "randn": lambda L: L.randn(3, 4, device="meta", dtype=L.float64),
    "randint": lambda L: L.randint(0, 5, (3,), device="meta"),
    "randperm": lambda L: L.randperm(6, device="meta"),
    "arange": lambda L: L.arange(5, device="meta"),
    "arange_f": lambda L: L.arange(0, 1, 0.25, device="meta"),
    "linspace": lambda L: L.linspace(0, 1, 7, device="meta"),
    "eye": lambda L: L.eye(3, 4, device="meta"),
    "tensor": lambda L: L.tensor([1, 2], device="meta"),
    "tensor_f": lambda L: L.tensor([[1.0], [2.0]], device="meta"),
    "zeros_like": lambda L: L.zeros_like(L.empty(2, 3, device="meta")),
    "ones_like_dtype": lambda L: L.ones_like(L.empty(2, device="meta"), dtype=L.int32),
    "rand_like": lambda L: L.rand_like(L.empty(2, device="meta")),
    "randn_like": lambda L: L.randn_like(L.empty(2, device="meta")),
    "full_like": lambda L: L.full_like(L.empty(2, device="meta"), 7),
    "empty_like_cpu": lambda L: L.empty_like(L.empty(2, 3, device="meta"), device="cpu"),
    "zeros_like_to_meta": lambda L: L.zeros_like(L.ones(2), device="meta"),
    "to_meta": lambda L: L.ones(2, 3).to("meta"),
    "to_device_meta": lambda L: L.ones(2, 3).to(device="meta"),
    "to_meta_dtype": lambda L: L.ones(2, 3).to("meta", L.float64),
    "param_to_meta": lambda L: L.nn.Parameter(L.ones(2)).to("meta"),
    "new_zeros": lambda L: L.empty(2, device="meta").new_zeros(4, 2),
    "new_full": lambda L: L.empty(2, device="meta").new_full((3,), 1.0),
    "new_tensor": lambda L: L.empty(2, device="meta").new_tensor([1, 2]),
    "new_ones_cpu": lambda L: L.empty(2, device="meta").new_ones(3, device="cpu"),
    "to_other": lambda L: L.ones(2, dtype=L.int64).to(L.empty(1, device="meta")),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factories_as_torch(torch, name):
    ours, theirs = both(torch, FACTORIES[name])
    assert ours == theirs


def test_context_manager_and_default_device_as_torch(torch):
    def script(L):
        out = []
        with L.device("meta"):
            out += [str(L.get_default_device()), str(L.zeros(2).device), str(L.nn.Linear(2, 3).weight.device)]
            out.append(str(L.zeros(2, device="cpu").device))  # an explicit device wins
            out.append(str(L.zeros_like(L.ones(2)).device))  # *_like follows its input
        out.append(str(L.zeros(2).device))
        L.set_default_device("meta")
        try:
            out += [str(L.get_default_device()), str(L.ones(3).device), str(L.nn.Conv2d(1, 2, 3).bias.device)]
        finally:
            # None, not "cpu": PyTorch keeps a device mode pushed for "cpu", under which its
            # weighted l1_loss computes another value for the rest of the session
            L.set_default_device(None)
        out += [str(L.get_default_device()), str(L.ones(1).device)]
        return out

    assert script(gg) == script(torch)


def test_device_attributes_as_torch(torch):
    def script(L):
        m = L.empty(2, 3, device="meta")
        c = L.empty(2, 3)
        return [m.is_meta, m.is_cpu, str(m.device), repr(m.device), m.device == L.device("meta"),
                c.is_meta, c.is_cpu, m.stride(), m.t().shape, m.is_contiguous(), m.get_device()]  # fmt: skip

    assert script(gg) == script(torch)


# ----------------------------------------------------------------------------------- printing
def test_reprs_as_torch(torch):
    def script(L):
        p = L.nn.Parameter(L.empty(2, device="meta"))
        r = L.empty(3, device="meta", requires_grad=True)
        big = L.empty(1024, 5, 65535, 65535, device="meta", requires_grad=True)
        return [repr(L.empty(2, 3, device="meta")), str(L.empty(2, 3, device="meta")),
                repr(L.empty(2, device="meta", dtype=L.int64)), repr(L.empty(0, device="meta")),
                repr(L.empty((), device="meta", dtype=L.float64)), repr(r), repr(r * 2), repr(r.sum()),
                repr((r * 2).mean()), repr(p), repr(big * 2), repr(L.nn.Linear(2, 3, device="meta"))]  # fmt: skip

    assert [s.replace("glassgrad.", "torch.") for s in script(gg)] == script(torch)


# ----------------------------------------------------------------------------------- ops
def _ops():
    x = lambda L: meta(2, 3, 4, lib=L)  # noqa: E731
    return {
        "add_broadcast": lambda L: x(L) + meta(3, 1, lib=L),
        "mul_scalar": lambda L: x(L) * 2.5,
        "int_plus_float": lambda L: meta(3, dtype=L.int64, lib=L) + 0.5,
        "int_div": lambda L: meta(3, dtype=L.int64, lib=L) / 2,
        "cpu_0d": lambda L: x(L) + L.tensor(1.0),
        "cpu_0d_first": lambda L: L.tensor(2.0) * x(L),
        "compare": lambda L: x(L) > 0,
        "eq": lambda L: x(L) == meta(4, lib=L),
        "where": lambda L: L.where(x(L) > 0, x(L), 0.0),
        "exp_tanh": lambda L: L.tanh(x(L).exp()),
        "pow_sqrt": lambda L: x(L).pow(2).sqrt(),
        "sum": lambda L: x(L).sum(),
        "sum_dim": lambda L: x(L).sum(1, keepdim=True),
        "mean_dims": lambda L: x(L).mean((0, 2)),
        "max_dim": lambda L: list(x(L).max(1)),
        "argmax": lambda L: x(L).argmax(-1),
        "std": lambda L: x(L).std(0),
        "softmax": lambda L: L.softmax(x(L), -1),
        "log_softmax": lambda L: L.nn.functional.log_softmax(x(L), 1),
        "matmul": lambda L: x(L) @ meta(4, 5, lib=L),
        "bmm": lambda L: L.bmm(x(L), meta(2, 4, 6, lib=L)),
        "view": lambda L: x(L).view(6, 4),
        "reshape": lambda L: x(L).reshape(-1),
        "permute": lambda L: x(L).permute(2, 0, 1),
        "transpose": lambda L: x(L).transpose(0, 1),
        "flatten": lambda L: L.flatten(x(L), 1),
        "unsqueeze_expand": lambda L: x(L).unsqueeze(0).expand(5, 2, 3, 4),
        "slice": lambda L: x(L)[:, 1:, ::2],
        "int_index": lambda L: x(L)[0, 1],
        "cpu_tensor_index": lambda L: x(L)[L.tensor([1, 0, 1])],
        "meta_tensor_index": lambda L: x(L)[meta(5, dtype=L.int64, lib=L)],
        "cat": lambda L: L.cat([x(L), x(L)], 1),
        "stack": lambda L: L.stack([x(L), x(L)]),
        "chunk": lambda L: list(x(L).chunk(2, -1)),
        "unbind": lambda L: list(x(L).unbind(0)),
        "gather": lambda L: L.gather(x(L), 2, meta(2, 3, 1, dtype=L.int64, lib=L)),
        "clamp": lambda L: x(L).clamp(0, 1),
        "cast": lambda L: x(L).to(L.float64),
        "clone": lambda L: x(L).clone(),
        "linear": lambda L: L.nn.Linear(4, 7, device="meta")(x(L)),
        "conv2d": lambda L: L.nn.Conv2d(3, 8, 3, padding=1, stride=2, device="meta")(meta(2, 3, 9, 9, lib=L)),
        "conv1d": lambda L: L.nn.Conv1d(3, 8, 3, device="meta")(meta(2, 3, 9, lib=L)),
        "maxpool": lambda L: L.nn.MaxPool2d(2)(meta(2, 3, 9, 9, lib=L)),
        "avgpool": lambda L: L.nn.AdaptiveAvgPool2d((2, 3))(meta(2, 3, 9, 9, lib=L)),
        "embedding": lambda L: L.nn.Embedding(10, 6, device="meta")(meta(2, 5, dtype=L.int64, lib=L)),
        "layer_norm": lambda L: L.nn.LayerNorm(4, device="meta")(x(L)),
        "batch_norm": lambda L: L.nn.BatchNorm1d(3, device="meta")(meta(5, 3, lib=L)),
        "dropout": lambda L: L.nn.Dropout(0.5)(x(L)),
        "attention": lambda L: list(
            L.nn.MultiheadAttention(8, 2, batch_first=True, device="meta")(
                meta(2, 5, 8, lib=L), meta(2, 6, 8, lib=L), meta(2, 6, 8, lib=L)
            )
        ),
        "sdpa": lambda L: L.nn.functional.scaled_dot_product_attention(
            meta(2, 3, 5, 8, lib=L), meta(2, 3, 6, 8, lib=L), meta(2, 3, 6, 8, lib=L)
        ),
        "encoder_layer": lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, device="meta")(
            meta(2, 5, 8, lib=L)
        ),
        "cross_entropy": lambda L: L.nn.functional.cross_entropy(
            meta(4, 5, lib=L), meta(4, dtype=L.int64, lib=L)
        ),
        "nll_loss": lambda L: L.nn.functional.nll_loss(meta(4, 5, lib=L), meta(4, dtype=L.int64, lib=L)),
        "mse": lambda L: L.nn.functional.mse_loss(meta(4, 5, lib=L), meta(4, 5, lib=L)),
        "grad_recorded": lambda L: meta(3, rg=True, lib=L) * 2,
        "param_module_output": lambda L: L.nn.Linear(4, 2, device="meta")(x(L)).relu(),
    }


OPS = _ops()


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_give_meta_results_as_torch(torch, name):
    ours, theirs = both(torch, OPS[name])
    assert ours == theirs


SHAPE_ERRORS = {
    "broadcast": lambda L: meta(2, 3, lib=L) + meta(4, lib=L),
    "matmul": lambda L: meta(2, 3, lib=L) @ meta(4, 5, lib=L),
    "view": lambda L: meta(2, 3, lib=L).view(4, 2),
    "cat": lambda L: L.cat([meta(2, 3, lib=L), meta(2, 4, lib=L)]),
    "linear": lambda L: L.nn.Linear(4, 2, device="meta")(meta(3, 5, lib=L)),
    "conv_channels": lambda L: L.nn.Conv2d(3, 8, 3, device="meta")(meta(2, 4, 10, 10, lib=L)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_shape_errors_as_on_cpu(torch, name):
    with pytest.raises(RuntimeError):  # glassgrad's ShapeError is a RuntimeError (and ValueError)
        SHAPE_ERRORS[name](gg)
    with pytest.raises(RuntimeError):
        SHAPE_ERRORS[name](torch)


def test_meta_beside_cpu_tensor_raises_as_torch(torch):
    for L in (gg, torch):
        with pytest.raises(RuntimeError, match="meta"):
            meta(2, 3, lib=L) + L.ones(2, 3)
        with pytest.raises(RuntimeError, match="meta"):
            L.ones(2, 3) * meta(2, 3, lib=L)
        with pytest.raises(RuntimeError, match="meta"):
            L.cat([meta(2, 3, lib=L), L.ones(2, 3)])


def test_backward_on_meta_gives_meta_grads_as_torch(torch):
    def script(L):
        lin = L.nn.Linear(3, 4, device="meta")
        conv = L.nn.Conv2d(2, 3, 3, device="meta")
        x = meta(5, 3, rg=True, lib=L)
        loss = lin(x).relu().pow(2).mean() + conv(meta(2, 2, 6, 6, lib=L)).sum()
        loss.backward()
        grads = [lin.weight.grad, lin.bias.grad, conv.weight.grad, conv.bias.grad, x.grad]
        return [repr(loss).split("grad_fn")[0], *(sig(g) for g in grads)]

    assert script(gg) == script(torch)


# ----------------------------------------------------------------------------------- no data
DATA_READS = {
    "item": (lambda t: t.sum().item(), RuntimeError),
    "bool": (lambda t: bool(t.sum()), RuntimeError),
    "float": (lambda t: float(t.sum()), RuntimeError),
    "int": (lambda t: int(t.sum()), RuntimeError),
    "tolist": (lambda t: t.tolist(), NotImplementedError),
    "numpy": (lambda t: t.numpy(), TypeError),
    "to_cpu": (lambda t: t.to("cpu"), NotImplementedError),
    "cpu": (lambda t: t.cpu(), NotImplementedError),
    "nonzero": (lambda t: t.nonzero(), NotImplementedError),
    "bool_mask": (lambda t: t[t > 0], NotImplementedError),
    "copy_into_cpu": (lambda t: t.new_ones(2, 3, device="cpu").copy_(t), NotImplementedError),
}


@pytest.mark.parametrize("name", sorted(DATA_READS))
def test_reading_data_raises_as_torch(torch, name):
    fn, kind = DATA_READS[name]
    with pytest.raises(kind) as ours:
        fn(gg.empty(2, 3, device="meta"))
    with pytest.raises(kind):
        fn(torch.empty(2, 3, device="meta"))
    assert "meta" in str(ours.value)


def test_indexing_a_cpu_tensor_with_a_meta_index_raises():
    # PyTorch returns whatever memory it finds there; glassgrad refuses (docs/design.md)
    with pytest.raises(NotImplementedError, match="meta"):
        gg.zeros(3)[gg.zeros(2, dtype=gg.int64, device="meta")]


def test_save_refuses_meta_tensors(tmp_path):
    with pytest.raises(NotImplementedError, match="meta device"):
        gg.save(gg.nn.Linear(2, 3, device="meta").state_dict(), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
