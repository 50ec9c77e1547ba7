"""Act 4: an MLP and a CNN on the 8x8 digits."""

from __future__ import annotations

from glassgrad import recipes, viz
from glassgrad.tour.report import Report

__all__ = ["digits_act", "MLP_BAR", "CNN_BAR"]

MLP_BAR, CNN_BAR = 0.90, 0.90  # held-out accuracy the tour promises even with --quick


def digits_act(report: Report, quick: bool) -> None:
    s = report.section("4. Digits: an MLP and a CNN")
    s.text(
        f"scikit-learn's 1,797 8x8 digits, 80 % to train and 20 % held out. Bars: MLP >= {MLP_BAR:.0%}, "
        f"CNN >= {CNN_BAR:.0%} held-out accuracy."
    )
    curves = {}
    for name, key, epochs in (
        ("digits-mlp", "mlp", 6 if quick else 15),
        ("digits-cnn", "cnn", 3 if quick else 8),
    ):
        trained = recipes.train(name, epochs=epochs, quiet=False)
        s.number(
            f"digits_{key}_accuracy", f"{key.upper()} held-out accuracy", trained.metrics["test_accuracy"]
        )
        curves[f"{key} loss"] = trained.history["loss"]
        curves[f"{key} test accuracy"] = trained.history["test_accuracy"]
        if key == "cnn":
            s.figure(viz.plot_conv_filters(trained.model[0].weight), "first-layer conv filters")
    s.figure(viz.plot_training_curves(curves), "digits training curves")
