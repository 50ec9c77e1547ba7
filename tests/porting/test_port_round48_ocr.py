"""Round 48 (text recognition: clovaai/deep-text-recognition-benchmark, meijieru/crnn.pytorch,
JaidedAI/EasyOCR): the paths those programs take, against PyTorch 2.13 in float64.

The defect found: ``DataLoader`` accepted the options PyTorch refuses (EasyOCR's trainer passes
``prefetch_factor=512`` with its ``workers`` option; with ``workers: 0`` PyTorch stops), a
``multiprocessing_context`` without workers or naming no start method, and assignments to its
sampling attributes after ``__init__`` (which then changed nothing)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

DataLoader = gg.utils.data.DataLoader

# (options, where PyTorch refuses them: None (accepted), "init" or "iter")
_WORKER_OPTIONS = [
    (dict(num_workers=0), None),
    (dict(num_workers=2), None),
    (dict(num_workers=2, prefetch_factor=512), None),
    (dict(num_workers=2, persistent_workers=True), None),
    (dict(num_workers=2, timeout=5.0), None),
    (dict(num_workers=0, prefetch_factor=512), "init"),
    (dict(num_workers=0, prefetch_factor=2), "init"),
    (dict(num_workers=0, persistent_workers=True), "init"),
    (dict(num_workers=0, timeout=-1), "init"),
    (dict(num_workers=2, timeout=-0.5), "init"),
    (dict(num_workers=2, prefetch_factor=-1), "init"),
    (dict(num_workers=-1), "init"),
    (dict(num_workers=0, timeout=5), "iter"),
]


@pytest.mark.parametrize(("opts", "refused"), _WORKER_OPTIONS)
def test_dataloader_worker_options_refused_as_pytorch(torch, opts, refused, recwarn):
    data = list(range(5))
    if refused == "init":
        with pytest.raises(ValueError):
            torch.utils.data.DataLoader(data, batch_size=2, **opts)
        with pytest.raises(ValueError, match=r"DataLoader: .*(num_workers|timeout|prefetch_factor)"):
            DataLoader(data, batch_size=2, **opts)
        return
    theirs = torch.utils.data.DataLoader(data, batch_size=2, **opts)
    ours = DataLoader(data, batch_size=2, **opts)
    # the attributes PyTorch keeps (prefetch_factor: its default 2 once there are workers)
    for name in ("num_workers", "prefetch_factor", "persistent_workers", "timeout"):
        assert getattr(ours, name) == getattr(theirs, name), name
    if refused == "iter":  # PyTorch's single-process iterator asserts timeout == 0
        with pytest.raises(AssertionError):
            iter(theirs)
        with pytest.raises(
            ValueError, match=r"DataLoader: single-process loading .* timeout == 0, got timeout=5"
        ):
            iter(ours)
        return
    assert [b.tolist() for b in ours] == [[0, 1], [2, 3], [4]]
    if opts["num_workers"] == 0:
        assert [b.tolist() for b in theirs] == [[0, 1], [2, 3], [4]]


def test_dataloader_prefetch_factor_zero_with_workers_refused_when_iterated():
    # PyTorch's _MultiProcessingDataLoaderIter asserts prefetch_factor > 0 when an epoch starts
    # (its __init__ accepts 0): the loader is made, its iterator refused
    loader = DataLoader(list(range(5)), batch_size=2, num_workers=2, prefetch_factor=0)
    assert loader.prefetch_factor == 0
    with pytest.raises(ValueError, match=r"prefetch_factor must be greater than 0 .* got prefetch_factor=0"):
        iter(loader)


@pytest.mark.parametrize(
    "attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"]
)
def test_dataloader_sampling_attributes_frozen_after_init_as_pytorch(torch, attr):
    # setting them later changed nothing here (the batch sampler is built in __init__): refused as PyTorch
    for lib in (torch, gg):
        loader = lib.utils.data.DataLoader(list(range(5)), batch_size=2)
        with pytest.raises(
            ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"
        ):
            setattr(loader, attr, None)
        loader.collate_fn = lambda b: b  # the others stay settable
        loader.timeout = 0
        # libraries reset PyTorch's flag to swap a batch sampler (name-mangled `__initialized`)
        loader._DataLoader__initialized = False
        loader.batch_sampler = [[4, 0]]
        assert list(loader) == [[4, 0]]


@pytest.mark.parametrize(
    ("workers", "context", "error"),
    [
        (2, "spawn", None),
        (2, None, None),
        (0, "spawn", ValueError),
        (2, "no-such-method", ValueError),
        (2, 3, TypeError),
    ],
)
def test_dataloader_multiprocessing_context_as_pytorch(torch, recwarn, workers, context, error):
    import multiprocessing

    kw = dict(batch_size=2, num_workers=workers, multiprocessing_context=context)
    if error is not None:
        with pytest.raises(error):
            torch.utils.data.DataLoader(list(range(5)), **kw)
        with pytest.raises(error, match="DataLoader: multiprocessing_context"):
            DataLoader(list(range(5)), **kw)
        return
    theirs = torch.utils.data.DataLoader(list(range(5)), **kw).multiprocessing_context
    ours = DataLoader(list(range(5)), **kw).multiprocessing_context
    assert type(ours) is type(theirs)  # a start method's name is kept as its context object
    if context is not None:
        assert isinstance(ours, multiprocessing.context.BaseContext)
        assert ours.get_start_method() == context
    loader = DataLoader(list(range(5)), batch_size=2)
    with pytest.raises(ValueError, match="num_workers > 0"):  # the setter checks later assignments too
        loader.multiprocessing_context = "spawn"


def _ctc_case(lib, logits, targets, input_lengths, target_lengths, **kw):
    x = lib.tensor(logits, requires_grad=True)
    # deep-text-recognition-benchmark's CTC path: (N, T, C) -> log_softmax(2).permute(1, 0, 2)
    log_probs = x.log_softmax(2).permute(1, 0, 2)
    loss = lib.nn.CTCLoss(**kw)(
        log_probs,
        lib.tensor(targets),
        lib.IntTensor(input_lengths),
        lib.IntTensor(target_lengths),
    )
    (grad,) = lib.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize(
    "kw", [dict(zero_infinity=True), dict(reduction="sum"), dict(zero_infinity=True, reduction="none")]
)
def test_ctc_recognizer_pattern_matches_pytorch(torch, padded, kw):
    rng = np.random.default_rng(48)
    n, t, c = 3, 9, 6
    logits = rng.standard_normal((n, t, c))
    target_lengths = [3, 4, 5]  # the third is infeasible in 4 frames (repeats need a blank between)
    input_lengths = [9, 7, 4]
    rows = [rng.integers(1, c, k) for k in target_lengths]
    rows[2][:] = 2
    if padded:  # CTCLabelConverter.encode: a (N, S) zero-padded LongTensor
        targets = np.zeros((n, 6), dtype=np.int64)
        for i, r in enumerate(rows):
            targets[i, : len(r)] = r
    else:  # crnn.pytorch's strLabelConverter: the labels concatenated, an IntTensor
        targets = np.concatenate(rows).astype(np.int32)
    ours = _ctc_case(gg, logits, targets, input_lengths, target_lengths, **kw)
    theirs = _ctc_case(torch, logits, targets, input_lengths, target_lengths, **kw)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _tps_rectify(lib, image, c_prime, inv_delta_c, p_hat, out_hw):
    # deep-text-recognition-benchmark's TPS GridGenerator.build_P_prime + grid_sample(border)
    n = c_prime.shape[0]
    zeros = lib.zeros(n, 3, 2, dtype=c_prime.dtype)
    t = lib.bmm(inv_delta_c.repeat(n, 1, 1), lib.cat((c_prime, zeros), dim=1))
    grid = lib.bmm(p_hat.repeat(n, 1, 1), t).reshape([n, out_hw[0], out_hw[1], 2])
    return lib.nn.functional.grid_sample(image, grid, padding_mode="border", align_corners=True)


def test_tps_grid_sample_border_matches_pytorch(torch):
    rng = np.random.default_rng(7)
    f, (h, w) = 6, (4, 7)
    image = rng.standard_normal((2, 1, 5, 8))
    c_prime = rng.uniform(-1.2, 1.2, (2, f, 2))
    inv_delta_c = rng.standard_normal((f + 3, f + 3)) * 0.3
    p_hat = rng.standard_normal((h * w, f + 3)) * 0.3
    res = []
    for lib in (gg, torch):
        img, cp = lib.tensor(image, requires_grad=True), lib.tensor(c_prime, requires_grad=True)
        out = _tps_rectify(lib, img, cp, lib.tensor(inv_delta_c), lib.tensor(p_hat), (h, w))
        weights = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
        grads = lib.autograd.grad((out * weights).sum(), [img, cp])
        res.append([out.detach().numpy()] + [g.numpy() for g in grads])
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _attention_decode(lib, batch_h, text, cell, generator, hidden_size, num_classes):
    # deep-text-recognition-benchmark's Attention.forward (is_train): a one-hot by scatter_, an
    # LSTMCell step, the hidden state written into a zero buffer by index assignment
    n, steps = batch_h.shape[0], text.shape[1]
    out = lib.zeros(n, steps, hidden_size, dtype=batch_h.dtype)
    hidden = (lib.zeros(n, hidden_size, dtype=batch_h.dtype), lib.zeros(n, hidden_size, dtype=batch_h.dtype))
    for i in range(steps):
        onehot = lib.zeros(n, num_classes, dtype=batch_h.dtype).scatter_(1, text[:, i].unsqueeze(1), 1)
        alpha = lib.softmax((batch_h * hidden[0].unsqueeze(1)).sum(2, keepdim=True), dim=1)
        context = lib.bmm(alpha.permute(0, 2, 1), batch_h).squeeze(1)
        hidden = cell(lib.cat([context, onehot], 1), hidden)
        out[:, i, :] = hidden[0]
    return generator(out)


def test_attention_decoder_step_pattern_matches_pytorch(torch):
    rng = np.random.default_rng(3)
    n, t, hs, nc = 2, 5, 4, 6
    batch_h = rng.standard_normal((n, t, hs))
    text = rng.integers(0, nc, (n, 4))
    tcell, tgen = torch.nn.LSTMCell(hs + nc, hs).double(), torch.nn.Linear(hs, nc).double()
    gcell, ggen = gg.nn.LSTMCell(hs + nc, hs).double(), gg.nn.Linear(hs, nc).double()
    for src, dst in ((tcell, gcell), (tgen, ggen)):
        dst.load_state_dict({k: gg.tensor(v.detach().numpy()) for k, v in src.state_dict().items()})
    res = []
    for lib, cell, gen in ((gg, gcell, ggen), (torch, tcell, tgen)):
        h = lib.tensor(batch_h, requires_grad=True)
        probs = _attention_decode(lib, h, lib.tensor(text), cell, gen, hs, nc)
        loss = lib.nn.functional.cross_entropy(
            probs.reshape(-1, nc), lib.tensor(text).reshape(-1), ignore_index=0
        )
        grads = lib.autograd.grad(loss, [h, *cell.parameters(), *gen.parameters()])
        res.append([probs.detach().numpy(), loss.detach().numpy()] + [g.numpy() for g in grads])
    for a, b in zip(*res, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
