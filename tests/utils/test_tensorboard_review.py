"""glassgrad.utils.tensorboard, second review: what the first tests missed (in-place ops in
add_graph, each module's mode and the random state after it, threads, shutdown, projector files,
collection without tensorboard). Each test that needs tensorboard skips alone without it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import nn
from glassgrad.errors import ShapeError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tb():
    """glassgrad's SummaryWriter (skips the test without the tensorboard package)."""
    pytest.importorskip("tensorboard")
    from glassgrad.utils.tensorboard import SummaryWriter

    return SummaryWriter


def read(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    ea.Reload()
    return ea


def graph_nodes(logdir):
    return {n.name: n for n in read(logdir).Graph().node}


# ------------------------------------------------------------------ collection without tensorboard
def test_doctest_collection_skips_the_subpackage_without_tensorboard():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["tensorboard"] = None  # as if not installed
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "--doctest-modules",
                              "glassgrad/utils/tensorboard", "tests/utils/test_tensorboard.py"]))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "error" not in out.stdout.splitlines()[-1], out.stdout[-3000:]


# ------------------------------------------------------------------ add_graph
class Residual(nn.Module):
    """A ResNet-style block: ReLU(inplace=True) and ``out += identity``."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(4, 4)

    def forward(self, x):
        out = self.relu(self.fc1(x))
        out = self.fc2(out)
        out += x
        return self.relu(out)


def test_add_graph_follows_in_place_ops(tb, tmp_path):
    with tb(tmp_path) as w:
        w.add_graph(Residual(), gg.randn(2, 4))
    nodes = graph_nodes(tmp_path)
    assert not [n for n in nodes.values() if n.op == "prim::Constant"]  # no value comes from nowhere
    ops = [n for n in nodes.values() if n.op.startswith("glassgrad::")]
    assert [n.op for n in ops] == [f"glassgrad::{o}" for o in ("linear", "relu", "linear", "add", "relu")]
    lin1, relu1, lin2, add, relu2 = ops
    assert list(relu1.input) == [lin1.name] and relu1.name.startswith("Residual/ReLU[relu]/")
    assert lin2.input[0] == relu1.name  # fc2 reads the relu's result, not fc1's
    assert list(add.input) == [lin2.name, "input/input.1"]
    assert list(relu2.input) == [add.name]
    assert list(nodes["output/output.1"].input) == [relu2.name]  # the output is the last relu


def test_add_graph_in_place_last_and_fill_are_seen(tb, tmp_path):
    class Net(nn.Module):
        def forward(self, x):
            y = x * 2
            z = x + 1
            z.zero_()  # not an op: a new value from outside the graph
            return y.relu_(), z

    with tb(tmp_path) as w:
        w.add_graph(Net(), gg.randn(3))
    nodes = graph_nodes(tmp_path)
    relu = next(n for n in nodes.values() if n.op == "glassgrad::relu")
    assert list(nodes["output/output.1"].input) == [relu.name]
    z = nodes[nodes["output/output.2"].input[0]]
    assert z.op == "prim::Constant"


def test_add_graph_several_inputs_shared_module_and_nested_outputs(tb, tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, a, b):
            h = self.fc(self.fc(a))  # one module called twice
            return {"sum": h + b, "pair": (h, gg.nn.functional.softmax(b, dim=1))}

    with tb(tmp_path) as w:
        w.add_graph(Net(), (gg.randn(2, 3), gg.randn(2, 3)))
    nodes = graph_nodes(tmp_path)
    linears = [n for n in nodes.values() if n.op == "glassgrad::linear"]
    assert [n.name.rsplit("/", 1)[0] for n in linears] == ["Net/Linear[fc]"] * 2
    assert linears[1].input[0] == linears[0].name
    add = next(n for n in nodes.values() if n.op == "glassgrad::add")
    assert list(add.input) == [linears[1].name, "input/input.2"]
    outs = [nodes[f"output/output.{i}"].input[0] for i in (1, 2, 3)]
    assert outs[:2] == [add.name, linears[1].name] and "softmax" in outs[2]
    assert "output/output.4" not in nodes


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.bn = nn.BatchNorm1d(3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.bn(self.fc(x))) + 0.01 * gg.randn(3)  # draws from the global generator


def test_add_graph_restores_each_modules_mode(tb, tmp_path):
    net = Mixed()
    net.train()
    net.bn.eval()  # frozen batch statistics while fine-tuning
    with tb(tmp_path) as w:
        w.add_graph(net, gg.randn(4, 3))
    assert net.training and net.fc.training and net.drop.training
    assert not net.bn.training


def test_add_graph_changes_no_parameter_buffer_or_random_state(tb, tmp_path):
    net = Mixed()
    net.train()
    x = gg.randn(4, 3)
    before = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    state = gg.random.get_rng_state()
    with tb(tmp_path) as w:
        w.add_graph(net, x)
    assert gg.equal(gg.random.get_rng_state(), state)
    after = net.state_dict()
    for k, v in before.items():
        np.testing.assert_array_equal(after[k].detach().numpy(), v, err_msg=k)


# ------------------------------------------------------------------ writer: threads, drop, shutdown
def test_add_scalars_from_threads_opens_each_run_once(tb, tmp_path):
    for trial in range(3):
        logdir = tmp_path / str(trial)
        w = tb(logdir, flush_secs=1000)
        start = threading.Barrier(8)

        def work(i, w=w, start=start):
            start.wait()
            for s in range(10):
                w.add_scalars("m", {"a": float(i), "b": float(s)}, i * 100 + s)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        w.close()
        for sub in ("m_a", "m_b"):
            files = [f for f in os.listdir(logdir / sub) if f.startswith("events.out.tfevents")]
            assert len(files) == 1, (trial, sub, files)  # one writer per run, closed by close()
            assert len(read(logdir / sub).Scalars("m")) == 80


def test_a_writer_alive_at_shutdown_does_not_hang_the_exit(tb, tmp_path):
    # A writer made by an atexit handler that runs after the writers' own hook is still open when
    # the interpreter shuts down; dropping it then must not wait for a thread that is gone.
    code = textwrap.dedent(
        f"""
        import atexit
        keep = []
        atexit.register(lambda: keep.append(make()))  # registered first: runs last
        from glassgrad.utils.tensorboard import SummaryWriter

        def make():
            w = SummaryWriter({str(tmp_path)!r})
            w.add_scalar("x", 1.0, 0)
            return w
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ------------------------------------------------------------------ projector, hparams, errors
def test_embedding_metadata_cells_are_written_as_str(tb, tmp_path):
    with tb(tmp_path) as w:
        w.add_embedding(np.eye(3), metadata=np.array([0.1, 0.2, 0.5], dtype=np.float32), tag="f")
        w.add_embedding(
            np.eye(2), metadata=[[np.float32(0.1), "a"], [np.int64(2), "b"]], metadata_header=["v", "s"]
        )
    assert (tmp_path / "00000" / "f" / "metadata.tsv").read_text() == "0.1\n0.2\n0.5\n"
    assert (tmp_path / "00000" / "default" / "metadata.tsv").read_text() == "v\ts\n0.1\ta\n2\tb\n"


def test_embedding_metadata_matches_pytorch(tb, torch, tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    labels = np.array([0.1, 1 / 3, 2.5], dtype=np.float32)
    for writer, name in ((tb, "gg"), (TorchWriter, "pt")):
        w = writer(str(tmp_path / name))
        w.add_embedding(torch.eye(3) if name == "pt" else gg.eye(3), metadata=labels)
        w.close()
    rel = Path("00000") / "default" / "metadata.tsv"
    assert (tmp_path / "gg" / rel).read_text() == (tmp_path / "pt" / rel).read_text()


def test_embedding_sprite_of_thumbnails_taller_than_wide(tb, tmp_path):
    from PIL import Image

    imgs = np.random.default_rng(0).random((10, 1, 3, 2)).astype(np.float32)  # 4 columns of 2x3
    with tb(tmp_path) as w:
        w.add_embedding(np.zeros((10, 2)), label_img=imgs)
    sprite = np.asarray(Image.open(tmp_path / "00000" / "default" / "sprite.png"))
    assert sprite.shape == (9, 8, 3)  # 3 rows of 3 pixels, 4 columns of 2
    np.testing.assert_array_equal(sprite[3:6, 2:4, 0], (imgs[5, 0] * 255).astype(np.uint8))
    config = (tmp_path / "projector_config.pbtxt").read_text()
    assert "single_image_dim: 2\n" in config and "single_image_dim: 3\n" in config


def test_embedding_shape_errors_are_shape_errors(tb, tmp_path):
    with tb(tmp_path) as w:
        with pytest.raises(ShapeError, match=r"add_embedding: expected mat of shape \(N, D\), got \(3,\)"):
            w.add_embedding(np.zeros(3))
        with pytest.raises(ShapeError, match=r"add_embedding: expected label_img of shape \(2, C, H, W\)"):
            w.add_embedding(np.zeros((2, 2)), label_img=np.zeros((2, 4, 4)))
        with pytest.raises(ShapeError, match=r"add_embedding: expected images .*got \(2, 2, 4, 4\)"):
            w.add_embedding(np.zeros((2, 2)), label_img=np.zeros((2, 2, 4, 4)))


def test_hparams_domain_of_an_unknown_hparam_is_a_type_error_as_in_pytorch(tb, tmp_path):
    with tb(tmp_path) as w, pytest.raises(TypeError, match=r"add_hparams: expected .*got 'opt'"):
        w.add_hparams({"lr": 0.1}, {"acc": 1.0}, hparam_domain_discrete={"opt": ["sgd"]})
