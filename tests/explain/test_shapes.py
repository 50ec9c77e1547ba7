"""explain.shapes: conv_output_shape on the course's examples, and summary's rows and totals, including
the course's point that a 1x1 bottleneck makes a 5x5 convolution about ten times cheaper."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn as nn
from glassgrad.errors import ShapeError
from glassgrad.explain import conv_output_shape, summary
from glassgrad.nn.blocks import InceptionBlock, ResidualBlock


def test_conv_output_shape_formula_and_course_examples():
    assert conv_output_shape(6, 3) == 4  # the vertical-edge example
    # 39x39x3 -> (3x3, s1, 10) -> (5x5, s2, 20) -> (5x5, s2, 40): 7x7x40 = 1960 features
    n = conv_output_shape(39, 3)
    n = conv_output_shape(n, 5, stride=2)
    n = conv_output_shape(n, 5, stride=2)
    assert n == 7 and n * n * 40 == 1960
    assert conv_output_shape((28, 28), 5, padding=2) == (28, 28)  # "same" padding p = (f - 1) / 2
    assert conv_output_shape((10, 9), (3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 3)) == (4, 6)
    # floor((n + 2p - d(f - 1) - 1) / s) + 1 against every small case, and against a real convolution
    for n, f, s, p, d in [(7, 3, 2, 1, 1), (8, 3, 3, 0, 2), (5, 5, 1, 2, 1), (11, 2, 4, 3, 3)]:
        expected = (n + 2 * p - d * (f - 1) - 1) // s + 1
        assert conv_output_shape(n, f, s, p, d) == expected
        conv = nn.Conv1d(1, 1, f, stride=s, padding=p, dilation=d)
        assert conv(gg.zeros(1, 1, n)).shape[-1] == expected


def test_conv_output_shape_errors():
    with pytest.raises(ShapeError, match="does not fit"):
        conv_output_shape(3, 5)
    with pytest.raises(ShapeError, match="expected kernel as an int or 2 ints"):
        conv_output_shape((5, 5), (3, 3, 3))
    with pytest.raises(ShapeError, match="positive"):
        conv_output_shape(5, 3, stride=0)


def test_a_1x1_bottleneck_costs_a_tenth_of_the_direct_5x5_conv():
    direct = nn.Conv2d(192, 32, 5, padding=2)
    bottleneck = nn.Sequential(nn.Conv2d(192, 16, 1), nn.Conv2d(16, 32, 5, padding=2))
    a = summary(direct, (1, 192, 28, 28), verbose=False)
    b = summary(bottleneck, (1, 192, 28, 28), verbose=False)
    assert a.rows[0].output_shape == b.rows[-1].output_shape == (1, 32, 28, 28)
    assert a.total_macs == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400  # 120.4M
    assert [r.macs for r in b.rows] == [28 * 28 * 16 * 192, 28 * 28 * 32 * 5 * 5 * 16]  # 2.4M, 10.0M
    assert b.total_macs == 12_443_648  # 12.4M
    assert 0.09 < b.total_macs / a.total_macs < 0.11
    assert a.total_params == 32 * (5 * 5 * 192 + 1) and b.total_params == 16 * 193 + 32 * (25 * 16 + 1)


def test_summary_rows_of_a_lenet_and_totals(capsys):
    model = nn.Sequential(
        nn.Conv2d(3, 10, 3),  # 10 filters of 3x3x3: 280 parameters
        nn.BatchNorm2d(10),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(10 * 3 * 3, 4),
    )
    s = summary(model, (2, 3, 8, 8))
    printed = capsys.readouterr().out
    assert "Total params: 664" in printed and "MaxPool2d" in printed and str(s) in printed
    assert [r.name for r in s.rows] == ["0", "1", "2", "3", "4", "5"]
    assert [r.output_shape for r in s.rows] == [
        (2, 10, 6, 6),
        (2, 10, 6, 6),
        (2, 10, 6, 6),
        (2, 10, 3, 3),
        (2, 90),
        (2, 4),
    ]
    assert [r.params for r in s.rows] == [280, 20, 0, 0, 0, 364]
    assert s.rows[0].macs == 2 * 10 * 6 * 6 * 27  # batch included
    assert s.rows[1].macs == 2 * 360 * 2  # normalise + scale and shift
    assert s.rows[3].macs == 2 * 90 * 4  # each output reads a 2x2 window
    assert s.rows[5].macs == 2 * 4 * 90
    assert s.total_params == s.trainable_params == 664
    assert s.total_macs == sum(r.macs for r in s.rows)


def test_summary_transposed_conv_and_conv1d():
    up = nn.ConvTranspose2d(4, 2, 3, stride=2)
    s = summary(up, (1, 4, 5, 5), verbose=False)
    assert s.rows[0].output_shape == (1, 2, 11, 11)
    assert s.rows[0].macs == 4 * 5 * 5 * 2 * 3 * 3  # every input value spreads over 2 x 3x3 outputs
    pool = summary(nn.AdaptiveAvgPool2d(1), (2, 3, 4, 4), verbose=False)
    assert pool.rows[0].output_shape == (2, 3, 1, 1) and pool.rows[0].macs == 2 * 3 * 4 * 4
    g = summary(nn.Conv1d(4, 6, 3, groups=2), (1, 4, 10), verbose=False)
    assert g.rows[0].macs == 6 * 8 * 3 * 2  # groups: each output sees C_in / groups = 2 channels


def test_summary_leaves_the_model_as_it_was():
    model = nn.Sequential(ResidualBlock(3, 4, stride=2), nn.Dropout(0.5))
    model.train()
    model[0].eval()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    s = summary(model, (2, 3, 8, 8), verbose=False)
    assert model.training and not model[0].training and model[1].training
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k], err_msg=k)
    names = [r.name for r in s.rows]
    assert "0.downsample.0" in names and "0.conv2" in names
    assert s.rows[-1].output_shape == (2, 4, 4, 4)
    assert s.total_params == sum(p.numel() for p in model.parameters())


def test_summary_of_an_inception_block_counts_every_branch():
    block = InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    s = summary(block, (1, 192, 28, 28), verbose=False)
    five = next(r for r in s.rows if r.name == "branch3.2")
    assert five.output_shape == (1, 32, 28, 28) and five.macs == 28 * 28 * 32 * 5 * 5 * 16
    assert s.total_params == sum(p.numel() for p in block.parameters())
