"""Training diagnostics: gradient norms per parameter and per layer, update/weight ratios,
dead ReLUs, saturated sigmoid/tanh units, clipping events, vanishing and exploding gradients.

>>> import glassgrad as gg
>>> from glassgrad import nn
>>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
>>> mon = GradientMonitor(model)
>>> model(gg.randn(8, 2)).sum().backward()
>>> mon.record()
>>> sorted(mon.layer_norms[-1]) == ["0", "2"]
True
>>> mon.close()

Call :meth:`GradientMonitor.record` once per step after ``backward()``; the update/weight ratio
of a step is ``||w_t - w_{t-1}|| / ||w_{t-1}||`` between two records, so it needs no optimizer
hook. Activation statistics come from forward hooks on the activation modules (``nn.ReLU``,
``nn.Sigmoid``, ``nn.Tanh`` ...); a functional ``F.relu`` inside ``forward`` is not seen.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassgrad.nn.utils import clip_grad_norm_

__all__ = ["GradientMonitor", "watch_time_steps"]

_RELU_LIKE = ("ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "SiLU")


class GradientMonitor:
    """Watch a model's gradients and activations over training.

    Args:
        model: the module to watch (its parameters and activation submodules).
        vanish_ratio: flag vanishing when first-layer norm / last-layer norm falls below this.
        explode_norm: flag exploding when the total gradient norm exceeds this (or is not finite).
        saturation: a sigmoid output below ``1 - s`` ... above ``s`` (tanh: ``|y| > s``) is saturated.

    Attributes (one entry per :meth:`record`):
        param_norms: ``{name: ||grad||}``.  layer_norms: ``{layer: ||grad||}`` (layer = the
        parameter's module path).  total_norms: the norm of all gradients together.
        update_ratios: ``{name: ||dw|| / ||w||}`` from the second record on.
        dead_relu: ``{module path: share of units never positive over the batch}`` (a unit is a
        feature of the last dim, or a channel, dim 1, of a 4-D or 5-D conv output).
        saturated: ``{module path: share of sigmoid/tanh outputs in the flat tails}``.
        clip_events: steps at which clipping changed the gradients.
    """

    def __init__(
        self, model: Any, vanish_ratio: float = 1e-3, explode_norm: float = 1e3, saturation: float = 0.99
    ) -> None:
        self.model = model
        self.vanish_ratio, self.explode_norm, self.saturation = vanish_ratio, explode_norm, saturation
        self.param_norms: list[dict[str, float]] = []
        self.layer_norms: list[dict[str, float]] = []
        self.total_norms: list[float] = []
        self.update_ratios: list[dict[str, float]] = []
        self.dead_relu: list[dict[str, float]] = []
        self.saturated: list[dict[str, float]] = []
        self.clip_events: list[int] = []
        self._last_weights: dict[str, np.ndarray] | None = None
        self._dead: dict[str, float] = {}
        self._sat: dict[str, float] = {}
        self._handles = []
        for path, m in model.named_modules():
            kind = type(m).__name__
            if kind in _RELU_LIKE or kind in ("Sigmoid", "Tanh"):
                self._handles.append(m.register_forward_hook(self._activation_hook(path or kind, kind)))

    def _activation_hook(self, path: str, kind: str) -> Any:
        def hook(module: Any, args: tuple, out: Any) -> None:
            y = out._data
            if kind in ("Sigmoid", "Tanh"):
                s = self.saturation
                flat = (y > s) | (y < 1 - s) if kind == "Sigmoid" else np.abs(y) > s
                self._sat[path] = float(flat.mean())
            else:
                fired = y > 0
                if y.ndim > 3:  # (N, C, *spatial) of a conv: a unit is a channel (one filter), at every place
                    fired = np.moveaxis(fired, 1, -1)
                units = fired.reshape(-1, fired.shape[-1]) if y.ndim > 1 else fired[None]  # (N*, units)
                self._dead[path] = float((~units.any(axis=0)).mean())

        return hook

    # ------------------------------------------------------------------ recording
    def record(self) -> None:
        """Store this step's gradient norms, update ratios and activation statistics."""
        norms: dict[str, float] = {}
        layers: dict[str, float] = {}
        weights: dict[str, np.ndarray] = {}
        for name, p in self.model.named_parameters():
            weights[name] = p._data.copy()
            if p.grad is None:
                continue
            g = p.grad.to_dense() if p.grad.is_sparse else p.grad  # (Embedding(sparse=True)'s)
            n = float(np.linalg.norm(g._data))
            norms[name] = n
            layer = name.rpartition(".")[0] or name
            layers[layer] = layers.get(layer, 0.0) + n * n
        self.param_norms.append(norms)
        self.layer_norms.append({k: math.sqrt(v) for k, v in layers.items()})
        self.total_norms.append(math.sqrt(sum(n * n for n in norms.values())))
        if self._last_weights is not None:
            ratios = {}
            for name, w in weights.items():
                prev = self._last_weights.get(name)
                if prev is not None and prev.shape == w.shape:
                    ratios[name] = float(np.linalg.norm(w - prev) / (np.linalg.norm(prev) + 1e-12))
            self.update_ratios.append(ratios)
        self._last_weights = weights
        self.dead_relu.append(dict(self._dead))
        self.saturated.append(dict(self._sat))

    def clip_grad_norm_(self, max_norm: float, norm_type: float = 2.0) -> float:
        """``nn.utils.clip_grad_norm_`` on the model's parameters, counting a clipping event."""
        total = float(clip_grad_norm_(self.model.parameters(), max_norm, norm_type))
        self.note_clip(total, max_norm)
        return total

    def note_clip(self, total_norm: float, max_norm: float) -> None:
        """Count a clipping event when ``clip_grad_norm_`` reported ``total_norm > max_norm``."""
        if float(total_norm) > max_norm:
            self.clip_events.append(len(self.total_norms))

    # ------------------------------------------------------------------ verdicts
    def first_last_ratio(self, step: int = -1) -> float:
        """Gradient norm of the first layer over that of the last, at ``step``."""
        layers = list(self.layer_norms[step].values())
        if len(layers) < 2 or layers[-1] == 0:
            return float("nan")
        return layers[0] / layers[-1]

    def vanishing(self, step: int = -1) -> bool:
        """True when the first layer's gradient is orders of magnitude below the last layer's."""
        return bool(self.layer_norms) and self.first_last_ratio(step) < self.vanish_ratio

    def exploding(self, step: int = -1) -> bool:
        """True when the total gradient norm is above ``explode_norm`` or not finite."""
        return bool(self.total_norms) and not (self.total_norms[step] <= self.explode_norm)

    def flags(self, step: int = -1) -> list[str]:
        """Human-readable warnings for ``step``."""
        out = []
        if self.vanishing(step):
            out.append(f"vanishing gradients: first/last layer norm ratio {self.first_last_ratio(step):.2e}")
        if self.exploding(step):
            out.append(f"exploding gradients: total norm {self.total_norms[step]:.3g}")
        for path, share in (self.dead_relu[step] if self.dead_relu else {}).items():
            if share > 0.5:
                out.append(f"{path}: {share:.0%} of ReLU units dead")
        for path, share in (self.saturated[step] if self.saturated else {}).items():
            if share > 0.5:
                out.append(f"{path}: {share:.0%} of outputs saturated")
        return out

    def report(self, step: int = -1) -> str:
        """A short text report of one step: layer norms, activation statistics and flags."""
        lines = [
            f"step {len(self.total_norms) + step if step < 0 else step}: total grad norm {self.total_norms[step]:.3g}"
        ]
        for layer, n in self.layer_norms[step].items():
            lines.append(f"  {layer:<24} grad norm {n:.3e}")
        if self.clip_events:
            lines.append(f"  clipping events: {len(self.clip_events)}")
        lines += [f"  ! {f}" for f in self.flags(step)]
        return "\n".join(lines)

    def close(self) -> None:
        """Remove the activation hooks."""
        for h in self._handles:
            h.remove()
        self._handles = []


def watch_time_steps(tensors: list) -> list[float]:
    """Hook a list of per-time-step tensors (RNN hidden states); after ``backward()`` the returned
    list holds ``||dL/dh_t||`` per step, for plotting gradient flow through time."""
    norms = [float("nan")] * len(tensors)

    def hook_for(t: int) -> Any:
        def hook(g: Any) -> None:
            norms[t] = float(np.linalg.norm(g._data))

        return hook

    for t, h in enumerate(tensors):
        h.register_hook(hook_for(t))
    return norms
