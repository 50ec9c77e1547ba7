"""Every ``glassgrad`` subcommand end to end (in process), and each mistake a user can make: one
line on stderr, a non-zero status, no traceback."""

from __future__ import annotations

import json

import pytest

import glassgrad as gg
from glassgrad import cli


def _main(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out = capsys.readouterr()
    return status, out.out, out.err


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("command", [c.name for c in cli.COMMANDS if not c.passthrough])
def test_every_subcommand_has_help(capsys, command):
    status, out, _ = _main(capsys, command, "--help")
    assert status == 0 and out.startswith(f"usage: glassgrad {command}")


@pytest.fixture(scope="module")
def xor_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor")
    assert cli.main(["train", "xor", "--epochs", "400", "--lr", "0.5", "--out", str(out), "--quiet"]) == 0
    return out


def test_train_xor_writes_checkpoint_and_metrics(xor_run):
    metrics = json.loads((xor_run / "metrics.json").read_text())
    assert metrics["recipe"] == "xor" and metrics["epochs"] == 400 and len(metrics["history"]["loss"]) == 400
    assert metrics["accuracy"] == 1.0
    ckpt = gg.load(xor_run / "model.safetensors")
    assert ckpt["recipe"] == "xor" and set(ckpt["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_eval_recomputes_the_saved_metrics(capsys, xor_run):
    status, out, _ = _main(capsys, "eval", str(xor_run), "--json")
    assert status == 0
    got = json.loads(out)
    saved = json.loads((xor_run / "metrics.json").read_text())
    assert got["recipe"] == "xor" and got["accuracy"] == saved["accuracy"]
    assert got["loss"] == pytest.approx(saved["loss"], rel=1e-5)


@pytest.mark.parametrize(
    "argv, status, message",
    [
        (["train", "mnist-resnet"], 1, "expected a recipe (xor, digits-mlp"),
        (["train", "xor", "--epochs", "0"], 2, "--epochs: expected a positive integer, got 0"),
        (["train", "xor", "--epochs", "ten"], 2, "--epochs: expected a positive integer, got 'ten'"),
        (["train", "xor", "--lr", "-1"], 2, "--lr: expected a positive number, got -1"),
        (["train", "xor", "--lr", "nan"], 2, "--lr: expected a positive number, got nan"),
        (["train", "xor", "--seed", "x"], 2, "--seed: expected an integer, got 'x'"),
        (
            ["train", "charlm", "--text", "/no/such/file.txt"],
            1,
            "text file '/no/such/file.txt' does not exist",
        ),
        (["train", "xor", "--text", "README.md"], 1, "--text is for the charlm recipe, not xor"),
        (["eval", "/no/such/model.safetensors"], 1, "checkpoint '/no/such/model.safetensors' does not exist"),
        (["exercise", "calculus"], 1, "expected a topic (perceptron"),
        (["exercise", "perceptron", "--seed", "1.5"], 2, "--seed: expected an integer, got '1.5'"),
        (["generate", "/no/such/dir"], 1, "does not exist"),
        (["tour", "--seed", "zero"], 2, "--seed: expected an integer"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(capsys, argv, status, message):
    got, _out, err = _main(capsys, *argv)
    assert got == status and message in _one_line(err), err


def test_unwritable_output_folder(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for argv in (
        ["train", "xor", "--out", str(blocker / "run")],
        ["tour", "--quick", "--out", str(blocker / "r")],
    ):
        status, _, err = _main(capsys, *argv)
        assert status == 1 and "cannot create the output folder" in _one_line(err)


def test_binary_text_file_is_refused(capsys, tmp_path):
    f = tmp_path / "data.bin"
    f.write_bytes(bytes(range(256)) * 4)
    status, _, err = _main(capsys, "train", "charlm", "--text", str(f))
    assert status == 1 and "expected a UTF-8 text file" in _one_line(err)


def test_a_checkpoint_from_another_model(capsys, tmp_path, xor_run):
    status, _, err = _main(capsys, "eval", str(xor_run), "--recipe", "digits-mlp")
    assert status == 1 and "expected a digits-mlp checkpoint, got one from the xor recipe" in _one_line(err)
    status, _, err = _main(capsys, "generate", str(xor_run))
    assert (
        status == 1
        and "expected a translate or charlm checkpoint, got one from the xor recipe" in _one_line(err)
    )
    # a safetensors file that glassgrad train did not write
    other = tmp_path / "weights.safetensors"
    gg.save({"weight": gg.zeros(3)}, other)
    status, _, err = _main(capsys, "eval", str(other))
    assert status == 1 and "expected a checkpoint written by glassgrad train" in _one_line(err)
    # a recipe checkpoint whose weights belong to a different model (hidden width changed)
    ckpt = gg.load(xor_run / "model.safetensors")
    ckpt["config"]["hidden"] = 16
    gg.save(ckpt, tmp_path / "wrong.safetensors")
    status, _, err = _main(capsys, "eval", str(tmp_path / "wrong.safetensors"))
    assert status == 1 and "the weights do not fit the xor model" in _one_line(err)
    # not a safetensors file at all
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    status, _, err = _main(capsys, "eval", str(tmp_path / "junk.safetensors"))
    assert status == 1 and "Traceback" not in err


@pytest.mark.slow
def test_charlm_on_a_user_file_then_generate(capsys, tmp_path):
    text = tmp_path / "poem.txt"
    text.write_text("the sun is warm and the sea is blue. " * 40)
    status, out, _ = _main(
        capsys, "train", "charlm", "--text", str(text), "--epochs", "1", "--out", str(tmp_path), "--quiet"
    )
    assert status == 0 and "test_loss" in out
    status, out, _ = _main(capsys, "generate", str(tmp_path), "the sun", "--length", "20")
    assert status == 0 and out.startswith("the sun") and len(out.rstrip("\n")) == len("the sun") + 20
    status, _, err = _main(capsys, "generate", str(tmp_path), "QQ")
    assert status == 1 and "expected the prompt's characters in the model's vocabulary" in _one_line(err)


@pytest.mark.slow
def test_train_translate_then_generate(capsys, tmp_path):
    status, _, _ = _main(capsys, "train", "translate", "--epochs", "1", "--out", str(tmp_path), "--quiet")
    assert status == 0
    status, out, _ = _main(
        capsys, "generate", str(tmp_path), "the third of march, nineteen ninety", "--beam", "2"
    )
    assert status == 0 and out.startswith("the third of march, nineteen ninety  ->  ")
    status, _, err = _main(capsys, "generate", str(tmp_path), "next tuesday")
    assert status == 1 and "symbol 'next' is not in the vocabulary" in _one_line(err)


def test_explain_check_exercise(capsys):
    status, out, _ = _main(capsys, "explain", "(x + y) * z", "x=-2", "y=5", "z=-4")
    assert status == 0 and "-4" in out
    status, out, _ = _main(capsys, "check", "q = x + y; f = q * z", "x=-2", "y=5", "z=-4", "df/dx=-4", "q=3")
    assert status == 0
    status, out, _ = _main(capsys, "check", "f = x * y", "x=2", "y=3", "df/dx=2")
    assert status == 1  # a wrong answer
    status, a, _ = _main(capsys, "exercise", "perceptron", "--seed", "3", "--answers")
    status2, b, _ = _main(capsys, "exercise", "perceptron", "--seed", "3", "--answers")
    assert status == status2 == 0 and a == b and len(a) > 50
