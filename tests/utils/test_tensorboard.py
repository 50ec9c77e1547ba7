"""glassgrad.utils.tensorboard: events written by glassgrad's SummaryWriter and read back with
tensorboard's own EventAccumulator. Without tensorboard installed, each test skips alone."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.errors import ShapeError


@pytest.fixture
def tb():
    """The tensorboard package (skips the test without it) and glassgrad's SummaryWriter."""
    pytest.importorskip("tensorboard")
    from glassgrad.utils.tensorboard import SummaryWriter

    return SummaryWriter


def read(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(
        str(logdir), size_guidance={"images": 0, "histograms": 0, "tensors": 0, "scalars": 0}
    )
    ea.Reload()
    return ea


def events(logdir):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    # in the order written: by the name's time and the writer's process-wide counter, as numbers
    # (sorted as text, counter 10 comes before 9)
    files = sorted(
        (f for f in os.listdir(logdir) if f.startswith("events.out.tfevents")),
        key=lambda f: (int(f.split(".")[3]), int(f.split(".")[-1]) if f.split(".")[-1].isdigit() else 0),
    )
    return [e for f in files for e in EventFileLoader(os.path.join(logdir, f)).Load()]


def test_scalars_from_tensors_arrays_and_numbers(tb, tmp_path):
    w = tb(tmp_path)
    w.add_scalar("loss", gg.tensor(2.0, requires_grad=True) * 1.5, 0)  # detached, as PyTorch
    w.add_scalar("loss", np.float32(0.5), 1)
    w.add_scalar("loss", 0.25, gg.tensor(2), walltime=123.0)
    w.add_scalar("acc", gg.tensor([0.75]), 7)
    w.close()
    ea = read(tmp_path)
    assert [(e.step, e.value) for e in ea.Scalars("loss")] == [(0, 3.0), (1, 0.5), (2, 0.25)]
    assert ea.Scalars("loss")[2].wall_time == 123.0
    assert [(e.step, e.value) for e in ea.Scalars("acc")] == [(7, 0.75)]


def test_new_style_scalar_is_a_tensor_for_the_scalars_plugin(tb, tmp_path):
    from tensorboard.util import tensor_util

    with tb(tmp_path) as w:
        w.add_scalar("x", 1.0 / 3, 0, new_style=True)
        w.add_scalar("y", 1.0 / 3, 0, new_style=True, double_precision=True)
    ea = read(tmp_path)
    assert ea.SummaryMetadata("x").plugin_data.plugin_name == "scalars"
    x = tensor_util.make_ndarray(ea.Tensors("x")[0].tensor_proto)
    y = tensor_util.make_ndarray(ea.Tensors("y")[0].tensor_proto)
    assert x.dtype == np.float32 and x == np.float32(1 / 3)
    assert y.dtype == np.float64 and y == 1 / 3


def test_scalar_of_many_values_is_an_error(tb, tmp_path):
    with tb(tmp_path) as w, pytest.raises(ShapeError, match=r"add_scalar: expected a single value.*\(2,\)"):
        w.add_scalar("x", gg.tensor([1.0, 2.0]), 0)


def test_add_scalars_writes_one_run_directory_per_curve(tb, tmp_path):
    with tb(tmp_path) as w:
        for step in range(3):
            w.add_scalars("train/loss", {"a": step, "b": 2 * step}, step)
    assert sorted(d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)) == [
        "train_loss_a",
        "train_loss_b",
    ]
    for name, k in (("a", 1), ("b", 2)):
        ea = read(tmp_path / f"train_loss_{name}")
        assert [(e.step, e.value) for e in ea.Scalars("train/loss")] == [(s, k * s) for s in range(3)]


def test_histogram_counts_every_value(tb, tmp_path):
    values = gg.randn(500)
    with tb(tmp_path) as w:
        w.add_histogram("w", values, 3)
        w.add_histogram("ints", np.array([1, 1, 2, 5]), 4, bins=np.array([0, 2, 4, 6]))
    ea = read(tmp_path)
    h = ea.Histograms("w")[0]
    v = values.numpy().astype(np.float64)
    assert h.step == 3 and h.histogram_value.num == 500 and sum(h.histogram_value.bucket) == 500
    assert h.histogram_value.min == v.min() and h.histogram_value.max == v.max()
    assert h.histogram_value.sum_squares == pytest.approx(v.dot(v))
    hi = ea.Histograms("ints")[0].histogram_value
    # a leading empty bucket ending where the data begins, then the buckets up to the last non-empty one
    assert list(hi.bucket_limit) == [0.0, 2.0, 4.0, 6.0] and list(hi.bucket) == [0.0, 2.0, 1.0, 1.0]


def test_histogram_errors(tb, tmp_path):
    with tb(tmp_path) as w:
        with pytest.raises(ShapeError, match="add_histogram: expected at least one value"):
            w.add_histogram("e", np.array([]), 0)
        with pytest.raises(ValueError, match="add_histogram: expected values inside the bins"):
            w.add_histogram("out", np.array([10.0]), 0, bins=np.array([0.0, 1.0]))


def decode(img_event):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(img_event.encoded_image_string)))


@pytest.mark.parametrize(
    ("shape", "fmt", "hw"),
    [
        ((3, 4, 5), "CHW", (4, 5)),
        ((4, 5, 3), "HWC", (4, 5)),
        ((1, 4, 5), "CHW", (4, 5)),
        ((4, 5), "HW", (4, 5)),
    ],
)
def test_image_layouts_decode_to_the_expected_pixels(tb, tmp_path, shape, fmt, hw):
    rng = np.random.default_rng(1)
    img = rng.random(shape).astype(np.float32)
    with tb(tmp_path) as w:
        w.add_image("im", gg.tensor(img), 0, dataformats=fmt)
    ev = read(tmp_path).Images("im")[0]
    assert (ev.height, ev.width) == hw
    pixels = decode(ev)
    order = {"CHW": (1, 2, 0), "HWC": (0, 1, 2)}
    want = img[..., None] if fmt == "HW" else img.transpose(order[fmt])
    want = np.broadcast_to(want, (*hw, 3))
    np.testing.assert_array_equal(pixels, (want * 255).astype(np.uint8))


def test_uint8_images_are_kept_and_batches_tile_in_eight_columns(tb, tmp_path):
    batch = np.random.default_rng(2).integers(0, 256, size=(10, 3, 4, 6), dtype=np.uint8)
    with tb(tmp_path) as w:
        w.add_images("batch", batch, 0)
        w.add_image("one", batch[0], 0)
    ea = read(tmp_path)
    grid = ea.Images("batch")[0]
    assert (grid.height, grid.width) == (2 * 4, 8 * 6)
    pixels = decode(grid)
    np.testing.assert_array_equal(pixels[4:8, 6:12], batch[9].transpose(1, 2, 0))  # 10th: row 2, col 2
    assert not pixels[4:8, 12:].any()  # empty cells are black
    np.testing.assert_array_equal(decode(ea.Images("one")[0]), batch[0].transpose(1, 2, 0))


def test_image_errors_name_the_op_and_the_shape(tb, tmp_path):
    with tb(tmp_path) as w:
        with pytest.raises(ValueError, match=r"add_image: expected dataformats .*got 'CXY'"):
            w.add_image("x", np.zeros((3, 4, 4)), 0, dataformats="CXY")
        with pytest.raises(ValueError, match=r"add_image: expected dataformats .*got 'CCH'"):
            w.add_image("x", np.zeros((3, 4, 4)), 0, dataformats="CCH")
        with pytest.raises(ShapeError, match=r"add_image: expected a 3-D image .*got shape \(4, 4\)"):
            w.add_image("x", np.zeros((4, 4)), 0)
        with pytest.raises(
            ShapeError, match=r"add_image: expected 1, 3 or 4 channels .*got shape \(2, 4, 4\)"
        ):
            w.add_image("x", np.zeros((2, 4, 4)), 0)
        with pytest.raises(ShapeError, match=r"add_images: expected images .*got \(2, 5, 4, 4\)"):
            w.add_images("x", np.zeros((2, 5, 4, 4)), 0)


def test_figure_becomes_an_image(tb, tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure(figsize=(2, 1), dpi=50)
    plt.plot([0, 1], [1, 0])
    with tb(tmp_path) as w:
        w.add_figure("fig", fig, 0)
    assert not plt.fignum_exists(fig.number)  # closed by default
    ev = read(tmp_path).Images("fig")[0]
    assert (ev.width, ev.height) == (100, 50)


def test_text_hparams_pr_curve_and_custom_scalars(tb, tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    with tb(tmp_path) as w:
        w.add_text("notes", "**bold** é", 1)
        w.add_pr_curve("pr", gg.tensor([0, 1, 1, 0]), gg.tensor([0.2, 0.9, 0.6, 0.7]), 0, num_thresholds=5)
        w.add_custom_scalars_multilinechart(["a", "b"], title="both")
        w.add_hparams(
            {"lr": 0.1, "opt": "adam", "skip": None}, {"hparam/acc": 0.5}, run_name="run1", global_step=2
        )
    ea = read(tmp_path)
    assert ea.Tensors("notes/text_summary")[0].tensor_proto.string_val == ["**bold** é".encode()]
    table = np.array(ea.Tensors("pr")[0].tensor_proto.float_val).reshape(6, 5)
    # thresholds 0, .25, .5, .75, 1: TP, FP, TN, FN, precision, recall
    np.testing.assert_allclose(
        table[:4], [[2, 2, 2, 1, 0], [2, 1, 1, 0, 0], [0, 1, 1, 2, 2], [0, 0, 0, 1, 2]]
    )
    assert "custom_scalars__config__" in ea.Tags()["tensors"]
    hp = read(tmp_path / "run1")
    assert [(e.step, e.value) for e in hp.Scalars("hparam/acc")] == [(2, 0.5)]
    start = plugin_data_pb2.HParamsPluginData.FromString(
        hp.SummaryMetadata("_hparams_/session_start_info").plugin_data.content
    ).session_start_info
    assert start.hparams["lr"].number_value == 0.1 and start.hparams["opt"].string_value == "adam"
    assert "skip" not in start.hparams
    with pytest.raises(TypeError, match="add_hparams: expected hparam_dict and metric_dict as dicts"):
        w.add_hparams([("lr", 1)], {})


def test_embedding_projector_files(tb, tmp_path):
    mat = gg.tensor([[1.0, 2.0], [3.0, 4.5], [0.5, 0.25]])
    with tb(tmp_path) as w:
        w.add_embedding(
            mat, metadata=[["x", 1], ["y", 2], ["z", 3]], metadata_header=["name", "n"], tag="a/b"
        )
        w.add_embedding(mat, label_img=np.ones((3, 1, 2, 2)), global_step=4)
        with pytest.raises(ValueError, match=r"add_embedding: expected mat of shape \(N, D\), got \(3,\)"):
            w.add_embedding(np.zeros(3))
    first = tmp_path / "00000" / "a%2fb"
    assert (first / "tensors.tsv").read_text() == "1.0\t2.0\n3.0\t4.5\n0.5\t0.25\n"
    assert (first / "metadata.tsv").read_text() == "name\tn\nx\t1\ny\t2\nz\t3\n"
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert 'tensor_name: "a/b:00000"' in config and 'tensor_name: "default:00004"' in config
    assert 'image_path: "00004/default/sprite.png"' in config
    from PIL import Image

    assert Image.open(tmp_path / "00004" / "default" / "sprite.png").size == (4, 4)  # 2x2 grid of 2x2


def test_add_graph_shows_module_scopes_and_ops(tb, tmp_path):
    net = gg.nn.Sequential(gg.nn.Linear(3, 4), gg.nn.ReLU(), gg.nn.Linear(4, 2))
    net.train()
    with tb(tmp_path) as w:
        w.add_graph(net, gg.randn(5, 3))
    assert net.training  # the mode is restored
    ea = read(tmp_path)
    assert ea.Tags()["run_metadata"] == ["step1"]
    nodes = {n.name: n for n in ea.Graph().node}
    assert nodes["input/input.1"].op == "IO Node"
    assert nodes["Sequential/Linear[0]/weight"].op == "prim::GetAttr"
    linear0 = next(n for n in nodes.values() if n.op == "glassgrad::linear")
    assert list(linear0.input) == [
        "input/input.1",
        "Sequential/Linear[0]/weight",
        "Sequential/Linear[0]/bias",
    ]
    assert [d.size for d in nodes["output/output.1"].attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    relu = next(n for n in nodes.values() if n.op == "glassgrad::relu")
    assert relu.name.startswith("Sequential/ReLU[1]/")


def test_default_logdir_purge_step_and_reopen(tb, tmp_path, monkeypatch):
    import socket

    monkeypatch.chdir(tmp_path)
    w = tb(comment="_exp", purge_step=5)
    assert w.get_logdir().startswith("runs" + os.sep) and w.get_logdir().endswith(
        socket.gethostname() + "_exp"
    )
    w.add_scalar("x", 1.0, 5)
    w.close()
    w.add_scalar("x", 2.0, 6)  # a closed writer opens a new event file
    w.close()
    evs = events(w.get_logdir())
    assert any(e.HasField("session_log") and e.step == 5 for e in evs)
    # read back event by event in the order written: TensorBoard's reader orders the two files by
    # name as text and, when the process-wide file counter passes 9 to 10 within a second, reads
    # the purge after step 6 and hides it (PyTorch's writer names its files alike)
    from tensorboard.util.tensor_util import make_ndarray

    def value(v):
        return v.simple_value if v.HasField("simple_value") else float(make_ndarray(v.tensor))

    scalars = [(e.step, value(v)) for e in evs if e.HasField("summary") for v in e.summary.value]
    assert scalars == [(5, 1.0), (6, 2.0)]


def test_nothing_is_lost_at_exit_without_close(tb, tmp_path):
    code = textwrap.dedent(
        f"""
        from glassgrad.utils.tensorboard import SummaryWriter
        w = SummaryWriter({str(tmp_path)!r}, flush_secs=1000, max_queue=1000)
        for i in range(50):
            w.add_scalar("x", float(i), i)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert [e.step for e in read(tmp_path).Scalars("x")] == list(range(50))


def test_a_writer_dropped_without_close_still_writes(tb, tmp_path):
    import gc

    from tensorboard.compat.proto.event_pb2 import Event

    w = tb(tmp_path, flush_secs=1000)
    w.add_scalar("x", 1.0, 0)
    events_file = w.file_writer.event_writer
    del w
    gc.collect()
    assert [(e.step, e.value) for e in read(tmp_path).Scalars("x")] == [(0, 1.0)]
    # tensorboard's local files take each event as it is written, so the read above passes even
    # without a close; that the writer was closed shows in its event file refusing more
    with pytest.raises(IOError, match="closed"):
        events_file.add_event(Event())


def test_import_error_says_how_to_install(monkeypatch):
    import importlib

    saved = {k: v for k, v in sys.modules.items() if k.startswith("glassgrad.utils.tensorboard")}
    for k in saved:
        monkeypatch.delitem(sys.modules, k)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    try:
        with pytest.raises(ImportError, match="pip install tensorboard"):
            importlib.import_module("glassgrad.utils.tensorboard")
    finally:
        for k in [k for k in sys.modules if k.startswith("glassgrad.utils.tensorboard")]:
            del sys.modules[k]
        sys.modules.update(saved)
