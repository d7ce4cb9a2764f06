"""A regression's target is standardised while training, and the trained model still predicts real units.

A network's output starts near 0 and moves in small steps, so a target of prices in the hundreds of
thousands would take very long to reach, and a good learning rate would depend on the target's size.
The trainer therefore fits standardised targets ((y − mean) / std, from the training rows), like the
inputs are, and folds the scaling into the output layer afterwards (kernel × std, bias × std + mean).
That is exact because a regression's last layer is a Dense layer with a linear activation (analyze()
insists), so the saved model predicts the target in its own units. Every loss and MAE shown is also
converted to the target's units (an MSE scales with std², an MAE with std).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# How each logged value scales with the target: (loss name or metric) -> power of std.
_POWERS = {"mse": 2, "mae": 1}


@dataclass(frozen=True)
class TargetScaling:
    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def for_targets(cls, y: np.ndarray, model) -> TargetScaling:
        """The scaling for these training targets; without a bias in the output layer only the spread."""
        y = np.asarray(y, dtype=np.float64)
        std = float(y.std()) or 1.0
        mean = float(y.mean()) if _output_layer(model).use_bias else 0.0
        return cls(mean, std)

    def standardise(self, y: np.ndarray) -> np.ndarray:
        return ((np.asarray(y, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def fold_into(self, model) -> None:
        """Make the model trained on standardised targets predict real units."""
        self._rescale(model, self.std, self.mean)

    def unfold_from(self, model) -> None:
        """Undo :meth:`fold_into`, to train a saved model on (its optimizer state is in standardised units)."""
        self._rescale(model, 1 / self.std, -self.mean / self.std)

    def log_factors(self, loss: str) -> dict[str, float]:
        """Multipliers that turn Keras' logged values (loss, mae; val_ too) into the target's units."""
        return {"loss": self.std ** _POWERS[loss], "mae": self.std ** _POWERS["mae"]}

    @staticmethod
    def _rescale(model, scale: float, offset: float) -> None:
        layer = _output_layer(model)
        layer.kernel.assign(layer.kernel.numpy() * scale)
        if layer.use_bias:
            layer.bias.assign(layer.bias.numpy() * scale + offset)


class Unscaled:
    """Classification: nothing to scale."""

    def standardise(self, y):
        return y

    def fold_into(self, model) -> None:
        pass

    def unfold_from(self, model) -> None:
        pass

    def log_factors(self, loss: str) -> dict[str, float]:
        return {}


def _output_layer(model):
    return model.layers[-1]


def convert_logs(logs: dict, factors: dict[str, float]) -> dict[str, float]:
    """Keras' logs with each value in the target's units (``val_mae`` scales like ``mae``)."""
    return {k: float(v) * factors.get(k.removeprefix("val_"), 1.0) for k, v in logs.items()}
