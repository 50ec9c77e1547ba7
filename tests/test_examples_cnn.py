"""The CNN examples train to a stated test accuracy on the digits (fixed 80/20 split, fixed seed)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import time

import pytest

import glassgrad as gg

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
SECONDS = 60.0  # budget on 2 busy CPU cores; each takes a few seconds on a quiet machine


def _load(name: str):
    sys.path.insert(0, str(EXAMPLES))  # digits_resnet imports its sibling digits_cnn
    try:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.slow
def test_small_resnet_reaches_98_percent_on_digits():
    pytest.importorskip("sklearn")
    resnet, cnn = _load("digits_resnet"), _load("digits_cnn")
    start = time.perf_counter()
    model, acc, _ = cnn.train(resnet.small_resnet(), epochs=6, lr=3e-3)
    elapsed = time.perf_counter() - start
    assert acc >= 0.98, acc
    assert not model.training  # evaluated in eval mode (batch norm on running statistics)
    assert elapsed < SECONDS, f"ResNet example took {elapsed:.1f} s on {os.cpu_count()} cores"


@pytest.mark.slow
def test_lenet_reaches_98_percent_on_digits():
    pytest.importorskip("sklearn")
    cnn = _load("digits_cnn")
    train_set, test_set = cnn.load_split()
    assert (len(train_set), len(test_set)) == (1438, 359)
    start = time.perf_counter()
    _, acc, _ = cnn.train(epochs=15)
    elapsed = time.perf_counter() - start
    assert acc >= 0.98, acc
    assert elapsed < SECONDS, f"LeNet example took {elapsed:.1f} s on {os.cpu_count()} cores"


def test_example_models_have_the_documented_shapes():
    resnet, cnn = _load("digits_resnet"), _load("digits_cnn")
    gg.manual_seed(0)
    x = gg.zeros(2, 1, 8, 8)
    assert cnn.lenet()(x).shape == (2, 10)
    assert resnet.small_resnet().eval()(x).shape == (2, 10)
