"""The same SummaryWriter calls through glassgrad and through PyTorch's torch.utils.tensorboard:
tensorboard's EventAccumulator must read the same data from both directories."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

import glassgrad as gg


def _calls(writer_cls, lib, logdir):
    rng = np.random.default_rng(0)
    vals = rng.normal(size=1000).astype(np.float32)
    img = rng.random((3, 8, 10)).astype(np.float32)
    imgs = rng.random((5, 1, 6, 7)).astype(np.float32)
    mat = rng.random((4, 3)).astype(np.float32)
    w = writer_cls(logdir)
    for s in range(3):
        w.add_scalar("loss", lib.tensor(1.0 / (s + 1)), s, walltime=100.0 + s)
    w.add_scalar("new", 0.125, 0, new_style=True)
    w.add_scalars("run/x", {"a": 1.0, "b": lib.tensor(2.0)}, 0)
    w.add_histogram("h", lib.tensor(vals), 1)
    w.add_histogram("auto", np.arange(10), 1, bins="auto")
    w.add_histogram("merged", vals, 1, bins=np.linspace(-3, 3, 50), max_bins=7)
    w.add_image("img", lib.tensor(img), 0)
    w.add_image("hwc", img.transpose(1, 2, 0), 0, dataformats="HWC")
    w.add_images("imgs", lib.tensor(imgs), 0)
    w.add_image("hw", img[0], 0, dataformats="HW")
    w.add_text("t", "hello **x**", 2)
    labels = np.array([0, 1, 1, 0, 1, 1, 0])
    w.add_pr_curve("pr", labels, np.array([0.1, 0.9, 0.4, 0.6, 0.8, 0.35, 0.05]), 0, num_thresholds=11)
    w.add_hparams(
        {"lr": 0.1, "bs": 32, "opt": "sgd", "flag": True},
        {"hp/acc": 0.9},
        hparam_domain_discrete={"opt": ["sgd", "adam"]},
        run_name="hp",
    )
    w.add_embedding(lib.tensor(mat), metadata=["a", "b", "c", "d"], label_img=lib.tensor(imgs[:4]), tag="emb")
    w.add_embedding(
        mat, metadata=[[1, "x"], [2, "y"], [3, "z"], [4, "w"]], metadata_header=["n", "s"], global_step=3
    )
    w.add_custom_scalars({"cat": {"c1": ["Multiline", ["loss"]], "c2": ["Margin", ["a", "b", "c"]]}})
    w.close()


@pytest.fixture(scope="module")
def dirs(torch, tmp_path_factory):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    from glassgrad.utils.tensorboard import SummaryWriter

    root = tmp_path_factory.mktemp("tb_parity")
    _calls(SummaryWriter, gg, str(root / "gg"))
    _calls(TorchWriter, torch, str(root / "pt"))
    return root / "gg", root / "pt"


def read(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(
        str(logdir), size_guidance={"images": 0, "histograms": 0, "tensors": 0, "scalars": 0}
    )
    ea.Reload()
    return ea


def test_same_tags_and_scalars(dirs):
    g, p = read(dirs[0]), read(dirs[1])
    assert g.Tags() == p.Tags()
    for tag in g.Tags()["scalars"]:
        assert [(e.step, e.value) for e in g.Scalars(tag)] == [(e.step, e.value) for e in p.Scalars(tag)]
    assert g.Scalars("loss")[1].wall_time == p.Scalars("loss")[1].wall_time == 101.0
    assert g.Tensors("new")[0].tensor_proto == p.Tensors("new")[0].tensor_proto
    assert g.SummaryMetadata("new") == p.SummaryMetadata("new")


def test_same_add_scalars_layout(dirs):
    def subdirs(d):
        return sorted(x for x in os.listdir(d) if os.path.isdir(os.path.join(d, x)))

    assert subdirs(dirs[0]) == subdirs(dirs[1]) == ["00000", "00003", "hp", "run_x_a", "run_x_b"]
    for sub in ("run_x_a", "run_x_b"):
        g, p = read(dirs[0] / sub), read(dirs[1] / sub)
        assert [(e.step, e.value) for e in g.Scalars("run/x")] == [
            (e.step, e.value) for e in p.Scalars("run/x")
        ]


def test_same_histograms(dirs):
    g, p = read(dirs[0]), read(dirs[1])
    for tag in ("h", "auto", "merged"):
        assert g.Histograms(tag)[0].histogram_value == p.Histograms(tag)[0].histogram_value, tag


def test_same_images(dirs):
    from PIL import Image

    g, p = read(dirs[0]), read(dirs[1])
    for tag in ("img", "hwc", "imgs", "hw"):
        a, b = g.Images(tag)[0], p.Images(tag)[0]
        assert (a.width, a.height) == (b.width, b.height), tag
        pa = np.asarray(Image.open(io.BytesIO(a.encoded_image_string)))
        pb = np.asarray(Image.open(io.BytesIO(b.encoded_image_string)))
        np.testing.assert_array_equal(pa, pb)


def test_same_text_pr_curve_and_custom_scalars(dirs):
    g, p = read(dirs[0]), read(dirs[1])
    for tag in ("t/text_summary", "pr", "custom_scalars__config__"):
        assert g.Tensors(tag)[0].tensor_proto == p.Tensors(tag)[0].tensor_proto, tag
        assert g.SummaryMetadata(tag) == p.SummaryMetadata(tag), tag


def test_same_hparams(dirs):
    g, p = read(dirs[0] / "hp"), read(dirs[1] / "hp")
    assert g.Tags() == p.Tags()
    for tag in ("_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"):
        assert g.SummaryMetadata(tag) == p.SummaryMetadata(tag), tag
    assert [e.value for e in g.Scalars("hp/acc")] == [e.value for e in p.Scalars("hp/acc")]


def test_same_embedding_projector_files(dirs):
    from PIL import Image

    g, p = dirs
    assert (g / "projector_config.pbtxt").read_text() == (p / "projector_config.pbtxt").read_text()
    for rel in ("00000/emb/tensors.tsv", "00000/emb/metadata.tsv", "00003/default/metadata.tsv"):
        assert (g / rel).read_text() == (p / rel).read_text(), rel
    ga = np.loadtxt(g / "00003/default/tensors.tsv")
    np.testing.assert_array_equal(ga, np.loadtxt(p / "00003/default/tensors.tsv"))
    sa, sb = (np.asarray(Image.open(d / "00000/emb/sprite.png")) for d in dirs)
    np.testing.assert_array_equal(sa, sb)
