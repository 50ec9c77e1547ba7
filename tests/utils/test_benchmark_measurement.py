"""``Measurement`` and ``Compare``: statistics and printed output identical to
``torch.utils.benchmark``'s for the same times (recipes ``timer_quick_start.py``, ``benchmark.py``)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from glassgrad.utils import benchmark
from glassgrad.utils.benchmark import Compare, Measurement, TaskSpec

RAW = [
    (100, [2.1e-4, 2.4e-4, 2.2e-4, 3.3e-4, 2.25e-4, 3.9e-4]),  # noisy: a warning
    (1000, [1.51e-3, 1.52e-3, 1.5e-3, 1.53e-3]),
    (10, [5e-5]),
    (1, [0.37, 0.41, 0.39]),
]
SPECS = [
    dict(stmt="x * y", setup="x = torch.ones((128,))\ny = torch.ones((128,))"),
    dict(stmt="batched_dot_bmm(x, x)", setup="from __main__ import batched_dot_bmm", label="Batched dot"),
    dict(stmt="f(x)", setup="pass", label="L", sub_label="sub", description="[1, 64]", num_threads=4),
    dict(stmt="a = 1\nb = a + 1", setup="", sub_label="two lines"),
]


def _measurements(module, raw=RAW, specs=SPECS):
    common = module.utils.common  # torch.utils.benchmark.utils.common, or ours under that path
    return [
        common.Measurement(n, list(times), common.TaskSpec(**spec)) for (n, times), spec in zip(raw, specs)
    ]


def _body(m) -> str:
    return repr(m).split("\n", 1)[1]  # the first line is the object's address


def test_measurement_statistics_and_repr_match_pytorch(torch):
    import torch.utils.benchmark as tb

    ours, theirs = _measurements(benchmark), _measurements(tb)
    for a, b in zip(ours, theirs):
        assert a.median == pytest.approx(b.median, rel=1e-12)
        assert a.mean == pytest.approx(b.mean, rel=1e-12)
        assert a.iqr == pytest.approx(b.iqr, rel=1e-9, abs=1e-15)
        assert a.significant_figures == b.significant_figures
        assert a.has_warnings == b.has_warnings
        assert a.title == b.title and a.as_row_name == b.as_row_name and a.env == b.env
        assert a.meets_confidence(0.05) == b.meets_confidence(0.05)
        assert _body(a) == _body(b)
    assert repr(ours[0]).startswith("<glassgrad.utils.benchmark.measurement.Measurement object at 0x")
    assert "WARNING: Interquartile range" in repr(ours[0])


def test_measurement_reads_task_spec_fields_and_pickles():
    m = _measurements(benchmark)[2]
    assert (m.label, m.sub_label, m.description, m.num_threads, m.stmt) == ("L", "sub", "[1, 64]", 4, "f(x)")
    with pytest.raises(AttributeError):
        m.no_such_field  # noqa: B018
    back = pickle.loads(pickle.dumps(m))
    assert back.task_spec == m.task_spec and back.raw_times == m.raw_times and _body(back) == _body(m)


def test_merge_pools_replicates_per_task():
    spec = TaskSpec("f()", "pass")
    other = TaskSpec("f()", "pass", env="B")
    merged = Measurement.merge(
        [Measurement(10, [1e-3, 2e-3], spec), Measurement(100, [5e-3], spec), Measurement(1, [1.0], other)]
    )
    assert [m.task_spec for m in merged] == [spec, other]
    assert merged[0].number_per_run == 1 and merged[0].raw_times == pytest.approx([1e-4, 2e-4, 5e-5])


def test_select_unit_and_trim_sigfig():
    assert benchmark.select_unit(2.5e-6) == ("us", 1e-6)
    assert benchmark.select_unit(3e-9) == ("ns", 1e-9)
    assert benchmark.select_unit(0.02) == ("ms", 1e-3)
    assert benchmark.select_unit(12.0) == ("s", 1.0)
    assert benchmark.trim_sigfig(3.14159, 2) == pytest.approx(3.1)
    assert benchmark.trim_sigfig(138_912.0, 3) == pytest.approx(139_000.0)
    with pytest.raises(ValueError):
        benchmark.trim_sigfig(1.0, 1.5)


# ---------------------------------------------------------------------------------- Compare parity
def _grid(module, envs=(None,), threads=(1, 2), colour_noise=False):
    """A Compare-shaped set: rows (threads, env, sub_label), columns (description)."""
    common = module.utils.common  # torch.utils.benchmark.utils.common, or ours under that path
    rng = np.random.default_rng(3)
    out = []
    for env in envs:
        for n in threads:
            for size in ("[1, 1]", "[64, 1024]", "[1024, 1024]"):
                for col, base in (("mul/sum", 6e-6), ("bmm", 1.1e-5)):
                    scale = base * (1 + 40 * (size == "[1024, 1024]")) / n
                    spread = 0.4 if colour_noise and size == "[1, 1]" else 0.01
                    times = list(scale * 100 * (1 + spread * rng.random(8)))
                    spec = common.TaskSpec(
                        "batched_dot(x, x)", "pass", label="Batched dot", sub_label=size,
                        description=col, env=env, num_threads=n,
                    )  # fmt: skip
                    out.append(common.Measurement(100, times, spec))
    return out


@pytest.mark.parametrize("options", [(), ("trim",), ("trim", "colour"), ("colour_rows",), ("warn", "trim")])
@pytest.mark.parametrize("envs", [(None,), ("environment A: mul/sum", "environment B: bmm")])
def test_compare_table_matches_pytorch(torch, options, envs):
    import torch.utils.benchmark as tb

    tables = []
    for module, compare in ((benchmark, Compare), (tb, tb.Compare)):
        c = compare(_grid(module, envs=envs, colour_noise=True))
        if "trim" in options:
            c.trim_significant_figures()
        if "colour" in options:
            c.colorize()
        if "colour_rows" in options:
            c.colorize(rowwise=True)
        if "warn" in options:
            c.highlight_warnings()
        tables.append(str(c))
    assert tables[0] == tables[1]
    assert "Times are in microseconds (us)." in tables[0]


def test_compare_missing_cells_and_labels_match_pytorch(torch):
    import torch.utils.benchmark as tb

    def build(module):
        ms = _grid(module, threads=(1,))
        ms = [m for m in ms if not (m.sub_label == "[64, 1024]" and m.description == "bmm")]  # a hole
        common = module.utils.common  # torch.utils.benchmark.utils.common, or ours under that path
        ms.append(
            common.Measurement(
                10, [3e-3, 3.1e-3], common.TaskSpec("g()", "pass", label="Other", description="mul/sum")
            )
        )
        return ms

    ours, theirs = str(Compare(build(benchmark))), str(tb.Compare(build(tb)))
    assert ours == theirs and "[-" in ours and "Other" in ours


def test_compare_print_and_errors(capsys):
    c = Compare(_grid(benchmark, threads=(1,)))
    c.print()
    assert capsys.readouterr().out == str(c) + "\n"
    c.extend_results(_grid(benchmark, threads=(4,)))
    assert "4 threads: " in str(c)
    with pytest.raises(ValueError, match="Measurement"):
        Compare([1.0])


def test_compare_round_trips_through_pickle():
    results = _grid(benchmark)
    assert str(Compare(results)) == str(Compare(pickle.loads(pickle.dumps(results))))
