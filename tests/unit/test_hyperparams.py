"""The one table of training settings: it matches Hyperparameters and drives validation and link bounds."""

from dataclasses import fields

from core.share import LINK_LIMITS
from core.training.hyperparams import FIELDS_BY_NAME, HYPERPARAMETER_FIELDS, MAX_EPOCHS, Hyperparameters


def test_the_table_lists_every_setting_with_its_default():
    assert {f.name for f in HYPERPARAMETER_FIELDS} == {f.name for f in fields(Hyperparameters)}
    defaults = Hyperparameters()
    assert {f.name: f.default for f in HYPERPARAMETER_FIELDS} == defaults.to_dict()
    assert all(f.label and f.help for f in HYPERPARAMETER_FIELDS)


def test_problems_come_from_the_table_in_plain_words():
    assert Hyperparameters(learning_rate=50, epochs=0).problems() == [
        "The learning rate must be a number above 0 and at most 10 (got 50).",
        "Epochs must be a whole number from 1 to 200 (got 0).",
    ]
    assert Hyperparameters(seed=-1, limit_train=0).problems() == [
        "The seed must be a whole number from 0 to 2,147,483,647 (got -1).",
        "Limit train must be a whole number from 1 to 10,000,000 (got 0).",
    ]
    assert Hyperparameters(optimizer="adamw").problems()[0].startswith("Unknown optimizer 'adamw': choose one of adam")
    assert Hyperparameters(validation_split=float("nan")).problems() == [
        "The validation split must be a number at least 0 and below 0.9 (got nan)."
    ]
    assert Hyperparameters(epochs=True).problems() == ["Epochs must be a whole number from 1 to 200 (got True)."]
    assert Hyperparameters(learning_rate=None, limit_test=None, early_stopping_patience=None).problems() == []


def test_share_links_carry_only_what_the_widgets_offer():
    assert LINK_LIMITS["learning_rate"] == (1e-5, 10.0)
    assert LINK_LIMITS["validation_split"] == (0.0, 0.5)
    assert LINK_LIMITS["seed"] == (0, 2**31 - 1)
    assert LINK_LIMITS["epochs"] == (1, MAX_EPOCHS)
    assert LINK_LIMITS["limit_train"] == (1, 10**7)
    assert FIELDS_BY_NAME["batch_size"].options == (16, 32, 64, 128, 256, 512)
