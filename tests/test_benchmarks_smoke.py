"""The benchmark runner and every registered workload run for a few steps, so they cannot rot."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.runner import Row, blas_env, format_table, parse_args, run, thread_env, time_builder
from benchmarks.workloads import WORKLOADS, Workload, select
from benchmarks.workloads.overhead import _inputs

ROOT = Path(__file__).resolve().parents[1]
FEW = {"overhead": 50, "train": 3}  # steps per group: enough to run every line, fast


def _steps(w: Workload) -> int:
    return FEW.get(w.group, 2)


def test_registry_has_the_required_workloads_and_groups():
    assert {"overhead.add", "overhead.matmul", "overhead.function", "xor", "mlp"} <= set(WORKLOADS)
    assert [w.name for w in select(["overhead"])] == ["overhead.add", "overhead.matmul", "overhead.function"]
    assert [w.name for w in select(["mlp", "xor"])] == ["xor", "mlp"]  # registry order, not argv order
    assert select([]) == list(WORKLOADS.values())
    with pytest.raises(ValueError, match="nonexistent"):
        select(["nonexistent"])


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_glassgrad_side_runs(name):
    w = WORKLOADS[name]
    t = time_builder(w.glassgrad, seed=0, steps=_steps(w), repeat=2, warmup=1)
    assert len(t.repeats) == 2 and all(r > 0 for r in t.repeats)
    assert min(t.repeats) <= t.median <= max(t.repeats)
    assert math.isfinite(t.probe)


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_torch_side_runs(name):
    pytest.importorskip("torch")
    w = WORKLOADS[name]
    t = time_builder(w.torch, seed=0, steps=_steps(w), repeat=1, warmup=1)
    assert t.median > 0 and math.isfinite(t.probe)


@pytest.mark.parametrize("name", ["xor", "mlp"])
def test_training_workloads_really_train(name):
    """The timed step is a real training step: the loss on the fixed batch goes down."""
    step, probe = WORKLOADS[name].glassgrad(0)
    step()
    first = probe()
    for _ in range(300 if name == "xor" else 20):
        step()
    assert probe() < first


def test_overhead_function_gradient_is_right():
    """The custom Function's backward really runs: d(x*x)/dx = 2x, summed."""
    step, probe = WORKLOADS["overhead.function"].glassgrad(3)
    step()
    step()  # the step clears x.grad first, so the gradient does not accumulate across steps
    assert probe() == pytest.approx(float(2 * _inputs(3, (2,))[0].sum()), rel=1e-6)


def test_run_records_a_failing_side_and_goes_on(monkeypatch):
    def broken(seed):
        raise RuntimeError("no such layer")

    monkeypatch.setitem(WORKLOADS, "broken", Workload("broken", "test", "fails", 1, broken, broken))
    rows = run(["broken", "overhead.add"], steps=5, threads=1, repeat=1, warmup=0, with_torch=False)
    assert [r.name for r in rows] == ["overhead.add", "broken"]  # registry order; "broken" came last
    by_name = {r.name: r for r in rows}
    assert by_name["broken"].errors == {"glassgrad": "RuntimeError: no such layer"}
    assert by_name["overhead.add"].glassgrad is not None and not by_name["overhead.add"].errors
    table = format_table(rows)
    assert "| broken | 5 | error | - | - |" in table and "no such layer" in table


def test_run_alternates_the_two_sides_repeat_by_repeat(monkeypatch, torch):  # torch: run() sets its threads
    calls: list[str] = []

    def side(tag, fail_at=None):
        def build(seed):
            def step():
                calls.append(tag)
                if fail_at is not None and len(calls) >= fail_at:
                    raise RuntimeError("broke mid-run")

            return step, lambda: 0.0

        return build

    monkeypatch.setitem(WORKLOADS, "pair", Workload("pair", "test", "d", 1, side("g"), side("t")))
    (row,) = run(["pair"], steps=2, threads=1, repeat=3, warmup=1, with_torch=True)
    assert "".join(calls) == "g" + "t" + "ggtt" * 3  # warm-ups, then glassgrad and torch in turn
    assert len(row.glassgrad.repeats) == len(row.torch.repeats) == 3 and not row.errors
    calls.clear()
    monkeypatch.setitem(WORKLOADS, "pair", Workload("pair", "test", "d", 1, side("g"), side("t", fail_at=4)))
    (row,) = run(["pair"], steps=1, threads=1, repeat=3, warmup=0, with_torch=True)
    assert row.errors == {"torch": "RuntimeError: broke mid-run"} and row.torch is None
    assert len(row.glassgrad.repeats) == 3  # the other side went on


def test_table_shows_times_and_ratio():
    from benchmarks.runner import Timing

    row = Row("demo", "d", 10, glassgrad=Timing(3e-6), torch=Timing(2e-3))
    assert row.ratio == pytest.approx(1.5e-3)
    line = format_table([row]).splitlines()[2]
    assert line == "| demo | 10 | 3.00 us | 2.000 ms | 0.00x |"


def test_parse_args_defaults_and_validation():
    args = parse_args(["xor", "--steps", "7", "--threads", "2", "--repeat", "3"])
    assert (args.workloads, args.steps, args.threads, args.repeat) == (["xor"], 7, 2, 3)
    assert parse_args([]).threads == (os.cpu_count() or 1)
    with pytest.raises(SystemExit):
        parse_args(["--steps", "0"])
    assert parse_args([]).settle is None and parse_args(["--settle", "0.5"]).settle == 0.5
    with pytest.raises(SystemExit):
        parse_args(["--settle", "-1"])
    assert thread_env(3) == {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "3", "MKL_NUM_THREADS": "3"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_line_prints_the_table():
    out = _cli("overhead.add", "overhead.function", "--steps", "20", "--repeat", "2", "--threads", "1")
    assert out.returncode == 0, out.stderr
    assert "threads: 1" in out.stdout
    assert "| workload | steps | glassgrad / step | torch / step | glassgrad / torch |" in out.stdout
    assert "| overhead.add | 20 |" in out.stdout and "| overhead.function | 20 |" in out.stdout


def test_blas_env_removes_a_pinned_core_type_only_in_auto_mode():
    env = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1"}
    assert blas_env("env", env) == [] and env["OPENBLAS_CORETYPE"] == "Haswell"
    assert blas_env("auto", env) == ["OPENBLAS_CORETYPE=Haswell"]
    assert env == {"OPENBLAS_NUM_THREADS": "1"}  # the thread setting is left alone
    assert blas_env("auto", env) == []
    assert parse_args([]).blas_kernels == "auto"
    with pytest.raises(SystemExit):
        parse_args(["--blas-kernels", "fast"])


def test_command_line_names_the_blas_kernels_and_what_it_removed():
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell"}
    run_ = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "benchmarks", "overhead.add", "--steps", "5", "--repeat", "1", "--threads", "1",
         "--no-torch", *a], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    auto, pinned = run_(), run_("--blas-kernels", "env")
    assert auto.returncode == 0 and pinned.returncode == 0, auto.stderr + pinned.stderr
    assert "removed from the environment for this run: OPENBLAS_CORETYPE=Haswell" in auto.stdout
    assert "removed" not in pinned.stdout
    if "numpy: openblas" in pinned.stdout:  # x86-64 OpenBLAS, read through threadpoolctl
        assert "Haswell kernels" in pinned.stdout  # what the pinned run really used


def test_command_line_rejects_unknown_workloads():
    out = _cli("nonexistent", "--no-torch")
    assert out.returncode == 2
    assert "nonexistent" in out.stderr


def test_op_sweep_runs_every_case_in_both_libraries(torch):
    from benchmarks.op_sweep import CASES, sweep

    rows = sweep(list(CASES), scale=0.02, number=1, repeat=1)
    assert [r[0] for r in rows] == list(CASES)
    assert all(ours > 0 and theirs > 0 for _, ours, theirs in rows)
