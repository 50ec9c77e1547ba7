"""``glassgrad tour --quick`` end to end: the report's numbers meet the bars the tour states, the
page is self-contained, and a real browser (headless Chromium, where installed) renders its figures."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glassgrad.tour.digits import CNN_BAR, MLP_BAR

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
        if p and Path(p).exists()
    ),
    None,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tour")
    run = subprocess.run(
        [sys.executable, "-m", "glassgrad.cli", "tour", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"report: {(out / 'index.html').resolve()}" in run.stdout
    return out


@pytest.mark.slow
def test_quick_tour_numbers(report):
    n = json.loads((report / "numbers.json").read_text())
    # the perceptron learns AND and OR and cannot learn XOR; a hidden layer can
    assert n["perceptron_and_accuracy"] == n["perceptron_or_accuracy"] == 1.0
    assert n["perceptron_xor_accuracy"] < 1.0
    assert n["xor_accuracy"] == 1.0
    # the traced sigmoid neuron: f = sigmoid(2*-1 + -3*-2 - 3) = sigmoid(1); df/dw0 = x0 * f * (1 - f)
    f = 1 / (1 + 2.718281828459045**-1)
    assert n["sigmoid_f"] == pytest.approx(f, rel=1e-6)
    assert n["sigmoid_df_dw0"] == pytest.approx(-1 * f * (1 - f), rel=1e-5)
    assert n["digits_mlp_accuracy"] >= MLP_BAR and n["digits_cnn_accuracy"] >= CNN_BAR
    # gradients vanish through 50 tanh steps, far less through the LSTM's cell
    assert n["rnn_grad_ratio"] < 1e-6 < n["lstm_grad_ratio"]
    # the translation model learned something, and beam search is at least as good as greedy
    assert n["translate_greedy"] > 0.2
    assert n["translate_beam"] >= n["translate_greedy"]
    # the GPT beats the unigram baseline by a wide margin
    assert n["gpt_test_loss"] < 0.5 * n["gpt_unigram_loss"]


@pytest.mark.slow
def test_quick_tour_page_is_self_contained(report):
    page = (report / "index.html").read_text()
    n = json.loads((report / "numbers.json").read_text())
    assert "<script" not in page and not re.search(r'src="(?!data:image/png;base64,)', page)
    images = re.findall(r'<img alt="([^"]+)"', page)
    for alt in (
        "XOR decision boundary",
        "digits training curves",
        "gradient flow through time",
        "cross-attention map",
        "positional-encoding table",
        "first-layer conv filters",
    ):
        assert alt in images
    assert f'data-key="xor_accuracy">XOR accuracy: <b>{n["xor_accuracy"]:.2f}</b>' in page
    assert "skipped" not in page


_PROBE = """<script>
window.addEventListener('load', () => {
  const sizes = [...document.images].map(i => i.alt + '=' + i.naturalWidth + 'x' + i.naturalHeight);
  const p = document.createElement('pre'); p.id = 'probe'; p.textContent = sizes.join('\\n');
  document.body.appendChild(p);
});
</script>"""


@pytest.mark.slow
def test_quick_tour_renders_in_chromium(report, tmp_path):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    page = (report / "index.html").read_text().replace("</body>", _PROBE + "</body>")
    probe = tmp_path / "probe.html"
    probe.write_text(page)
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    sizes = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert sizes, dom[-2000:]
    rows = [line.rsplit("=", 1) for line in sizes.group(1).splitlines()]
    assert len(rows) == page.count("<img ") >= 8
    for alt, size in rows:
        w, h = map(int, size.split("x"))
        assert w > 0 and h > 0, alt
    n = json.loads((report / "numbers.json").read_text())
    text = re.sub(r"<[^>]+>", "", dom)
    assert f"XOR accuracy: {n['xor_accuracy']:.2f}" in text
    assert f"CNN held-out accuracy: {n['digits_cnn_accuracy']:.3f}" in text
    assert f"beam-4 exact match (32 held-out dates): {n['translate_beam']:.3f}" in text


def test_make_demo_runs_the_tour():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "glassgrad tour --out report" in recipe
