"""Acts 1-3: the perceptron and its failure on XOR, an MLP solving XOR, a traced sigmoid neuron."""

from __future__ import annotations

import warnings

import glassgrad as gg
from glassgrad import nn, recipes, viz
from glassgrad.explain import set_name, trace
from glassgrad.tour.report import Report

__all__ = ["perceptron_act", "xor_act", "trace_act"]


def perceptron_act(report: Report, quick: bool) -> None:
    s = report.section("1. The perceptron: AND and OR, and its failure on XOR")
    s.text(
        "Rosenblatt's rule moves the weights toward each misclassified point. It converges whenever a "
        "line separates the classes (AND, OR) and cycles forever on XOR, where none does."
    )
    rows = []
    for gate in ("and", "or", "xor"):
        X, y = gg.datasets.logic_gate(gate)
        p = nn.Perceptron(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # XOR's ConvergenceWarning is the lesson, shown in the table
            result = p.fit(X, y, max_epochs=50)
        acc = float((p(X).flatten() == y.flatten().float()).float().mean().item())
        rows.append([gate.upper(), result.converged, result.epochs, f"{acc:.2f}"])
        s.numbers[f"perceptron_{gate}_accuracy"] = acc
    s.table(["gate", "converged", "epochs", "accuracy"], rows)


def xor_act(report: Report, quick: bool) -> None:
    s = report.section("2. A hidden layer solves XOR")
    s.text("An MLP 2-8-1 with tanh, trained by full-batch SGD on binary cross-entropy, bends the boundary.")
    trained = recipes.train("xor", epochs=600 if quick else 1000, quiet=False)
    s.number("xor_accuracy", "XOR accuracy", trained.metrics["accuracy"], "{:.2f}")
    s.number("xor_loss", "final loss", trained.metrics["loss"], "{:.4f}")
    X, y = trained.data["train"]
    s.figure(
        viz.plot_decision_boundary(trained.model, X, y.flatten()),
        "XOR decision boundary",
    )
    s.figure(viz.plot_training_curves({"loss": trained.history["loss"]}, logy=True), "XOR training curve")


def trace_act(report: Report, quick: bool) -> None:
    s = report.section("3. Backpropagation, node by node: a sigmoid neuron")
    s.text(
        "f = sigmoid(w0*x0 + w1*x1 + b). Each row is one node of the graph: its value on the way forward, "
        "its local derivatives, and the gradient arriving on the way back (the chain rule, one product per edge)."
    )
    names = ("w0", "x0", "w1", "x1", "b")
    vals = (2.0, -1.0, -3.0, -2.0, -3.0)
    t = {n: set_name(gg.tensor(v, requires_grad=True), n) for n, v in zip(names, vals)}
    with trace() as tr:
        z = set_name(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["b"], "z")
        f = set_name(gg.sigmoid(z), "f")
        f.backward()
    s.pre(tr.table().to_text())
    s.number("sigmoid_f", "f", f.item())
    s.number("sigmoid_df_dw0", "df/dw0", t["w0"].grad.item())
