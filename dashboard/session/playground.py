"""The session's model of what is being built: one serialisable object (data set, preset, spec,
hyperparameters), and fitting a spec to a data set."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.data.datasets import load_dataset
from core.model.edit import fit_to_data
from core.training.hyperparams import Hyperparameters


@dataclass
class Playground:
    dataset: str
    preset: str
    spec: dict
    hyperparameters: Hyperparameters
    builder_version: int = 0  # bumped on structural edits so layer widgets are rebuilt from the spec
    run_id: str | None = None
    notices: list[str] = field(default_factory=list)
    parent_id: str | None = None  # the run this model was cloned from: the next Train records it
    challenge: str | None = None  # the classroom challenge this session joined (?challenge=CODE)
    # The learning rate the learner typed or took from the finder. While the settings still carry it, a
    # change of optimizer keeps it (Hyperparameters.with_optimizer); a preset's, a clone's or a link's
    # settings replace it, and then it no longer matches.
    chosen_learning_rate: float | None = None

    @property
    def learning_rate_chosen(self) -> bool:
        lr = self.hyperparameters.learning_rate
        return lr is not None and lr == self.chosen_learning_rate

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "preset": self.preset,
            "spec": self.spec,
            "hyperparameters": self.hyperparameters.to_dict(),
        }

    def replace_spec(self, spec: dict) -> None:
        """A structural edit: the layer widgets are rebuilt from the new spec."""
        self.spec = spec
        self.builder_version += 1


def fit_spec_to_data(spec: dict, dataset: str) -> dict:
    """The spec with its input shape and output units set for the data set."""
    data = load_dataset(dataset)
    return fit_to_data(spec, data.input_shape, data.output_units)
