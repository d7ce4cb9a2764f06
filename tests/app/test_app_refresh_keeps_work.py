"""AppTest: a browser refresh (a new session of the same browser, its cookie naming the same user) keeps the
working model, data set and settings — right after a table import, and after edits — instead of going back to
Fashion-MNIST's model 1; another user, a share link and a challenge link are not given it."""

from helpers import APP, TIMEOUT, make_challenge, rerun
from streamlit.testing.v1 import AppTest

from core.data import tabular
from core.runs.drafts import DraftStore
from core.training.presets import PRESETS
from dashboard import session

ANN, BOB = "a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2"


def browser_session(user: str, **query) -> AppTest:
    """A new app session of the browser whose cookie names ``user`` (AppTest has no cookies)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = user
    for key, value in query.items():
        at.query_params[key] = value
    return rerun(at)


def import_example_table(at: AppTest) -> None:
    at.switch_page("views/data.py")
    rerun(at)
    at.button(key="csv_example").click()
    rerun(at)
    at.button(key="import_csv").click()
    rerun(at)


def test_a_refresh_right_after_a_table_import_keeps_the_table_its_model_and_settings():
    first = browser_session(ANN)
    import_example_table(first)
    before = first.session_state["playground"]
    assert before.dataset.startswith("own-") and before.spec["input_shape"] == [7]
    first.switch_page("views/train.py")
    rerun(first)
    first.number_input(key="hp_epochs").set_value(17)
    rerun(first)

    after = browser_session(ANN).session_state["playground"]  # the refresh: a new session, same cookie
    assert after.dataset == before.dataset
    assert after.preset == before.preset and after.spec == before.spec
    assert after.hyperparameters.epochs == 17 and after.hyperparameters.to_dict() == before.hyperparameters.to_dict()


def test_a_loaded_preset_on_another_data_set_survives_a_refresh_and_train_shows_its_settings():
    first = browser_session(ANN)
    first.switch_page("views/data.py")
    rerun(first)
    first.selectbox(key="dataset_choice").select("shapes")
    rerun(first)
    first.switch_page("views/build.py")
    rerun(first)
    first.selectbox(key="preset_choice").select_index(list(PRESETS).index("blank"))
    rerun(first)
    first.button(key="load_preset").click()
    rerun(first)
    edited = first.session_state["playground"]
    assert edited.dataset == "shapes" and edited.preset == "blank"

    again = browser_session(ANN)
    kept = again.session_state["playground"]
    assert kept.dataset == "shapes" and kept.preset == "blank" and kept.spec == edited.spec
    again.switch_page("views/train.py")
    rerun(again)
    assert again.number_input(key="hp_epochs").value == edited.hyperparameters.epochs


def test_another_user_starts_from_the_default_model():
    import_example_table(browser_session(ANN))
    other = browser_session(BOB).session_state["playground"]
    assert other.dataset in ("fashion_mnist", "shapes") and other.preset == "model1"


def test_a_share_link_wins_over_the_kept_model():
    import_example_table(browser_session(ANN))
    token = session_share_token()
    shared = browser_session(ANN, s=token).session_state["playground"]
    assert shared.dataset == "shapes" and shared.preset == "model2"


def test_a_challenge_keeps_its_own_working_model_apart_from_the_free_playground():
    challenge = make_challenge()
    import_example_table(browser_session(ANN))  # the free playground: a table
    in_class = browser_session(ANN, challenge=challenge.code).session_state["playground"]
    assert in_class.dataset == challenge.dataset and in_class.preset == challenge.preset  # the challenge's start
    free = browser_session(ANN).session_state["playground"]
    assert free.dataset.startswith("own-")


def test_a_damaged_kept_model_is_not_restored():
    first = browser_session(ANN)
    import_example_table(first)
    store = DraftStore(session.manager().store)
    with store.store.connect() as db:
        db.execute("UPDATE drafts SET record = ? WHERE owner = ?", ('{"dataset": "shapes", "spec": 3}', ANN))
    assert store.get(ANN) is None
    fresh = browser_session(ANN).session_state["playground"]
    assert fresh.preset == "model1"


def session_share_token() -> str:
    from core.share import encode

    preset = PRESETS["model2"]
    spec = preset.spec((28, 28, 1), 5)
    return encode(
        {"dataset": "shapes", "preset": "model2", "spec": spec, "hyperparameters": preset.app_hyperparameters.to_dict()}
    )


def test_the_example_target_and_a_kept_table_survive_together():
    """The import's own choices (its target) are what the kept data set was made with."""
    first = browser_session(ANN)
    import_example_table(first)
    data = session.user_datasets().meta(first.session_state["playground"].dataset)
    assert data["target_name"] == tabular.EXAMPLE_TARGET
