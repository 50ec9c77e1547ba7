"""The global generator starts from OS entropy, as PyTorch's: unseeded runs differ, spawned
processes draw independently; ``seed()`` reseeds and returns the seed; ``manual_seed`` repeats."""

import subprocess
import sys

import glassgrad as gg


def _fresh_process_draw() -> list[str]:
    code = "import glassgrad as gg; print(gg.initial_seed(), gg.rand(1).item())"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_each_process_starts_from_its_own_seed():
    (s1, r1), (s2, r2) = _fresh_process_draw(), _fresh_process_draw()
    assert s1 != s2 and r1 != r2  # 2^-63 odds of a false failure


def test_seed_reseeds_from_entropy_and_returns_the_seed():
    first = gg.seed()  # no argument, as torch.seed()
    assert first == gg.initial_seed() and 0 <= first < 2**64
    a = gg.rand(4).tolist()
    second = gg.seed()
    assert second != first and gg.rand(4).tolist() != a


def test_manual_seed_repeats_and_initial_seed_reports_it():
    gg.manual_seed(11)
    a = gg.randn(3).tolist()
    assert gg.initial_seed() == 11
    gg.manual_seed(11)
    assert gg.randn(3).tolist() == a


def test_a_new_generator_has_pytorchs_default_seed(torch):
    assert gg.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert gg.Generator(5).initial_seed() == 5
