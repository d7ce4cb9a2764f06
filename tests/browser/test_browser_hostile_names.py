"""Hostile names in a real browser: a challenge title, a learner's name, a run's name, an imported data set
and its class names made of HTML and Markdown show as typed on every page that shows them, and nothing
is injected: no <img>, no link to the outside, no bold from ``**``, no dialog.

One page load of the shared app server (in classroom mode): the names are stored in its store through the
engine's own entry points (as the pages would store them), the browser is given the user's and the teacher's
cookies, and the test walks Train, Data, Results, Teacher and the Projector (live race, board and experiment
view) from the sidebar.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from helpers import FakeTrainer, wait_for
from kit import ARTIFACTS, FIRST_LOAD_MS, TEACHER_PASSWORD, expect, go_to, idle, no_app_errors, sync_api

from core.classroom.challenges import create_challenge
from core.classroom.login import make_teacher_token, server_secret
from core.data.datasets import load_dataset
from core.data.user_datasets import UserDatasetStore
from core.experiments.engine import Experiment, ExperimentStore, new_experiment_id
from core.runs.challenges import ChallengeStore
from core.runs.manager import RunManager
from core.runs.record import Ending
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

pytestmark = pytest.mark.browser
PASSWORD = TEACHER_PASSWORD  # the shared server's (conftest.SHARED_SETTINGS)
USER = "0123456789abcdef0123456789abcdef"  # the browser's anonymous id (its cookie)
USER_COOKIE = "cnn_playground_user"
TEACHER_COOKIE = "cnn_playground_teacher"
SHOTS = ARTIFACTS / "hostile-names"  # a screenshot of each page, to look at

# Each within its kind's length limit (core/text.py), so it is stored exactly as typed.
TITLE = '**bold** [link](http://evil.example) <a href="http://evil.example">x</a>'
LEARNER = "<img src=x onerror=alert(1)><b>heavy</b>"
RUN_NAME = '<img src=x onerror=alert(1)>**bold** [link](http://evil.example) <a href="http://evil.example">x</a>'
DATASET = "<b>heavy</b> **bold** [set](http://evil.example) :smile:"
CLASSES = ('<a href="http://evil.example">x</a>', "<img src=x onerror=alert(1)>")
EXPERIMENT = "<img src=x onerror=alert(1)> **bold** :red[red] :material/home: www.evil.example a@evil.example"

INJECTED_JS = """() => {
    // What would have been injected, anywhere in the app (Markdown, HTML or a Plotly chart's SVG).
    const root = document.querySelector('.stApp');
    const found = [];
    for (const img of root.querySelectorAll('img'))
        if (img.getAttribute('src') === 'x' || img.hasAttribute('onerror')) found.push('an <img src=x>');
    for (const a of root.querySelectorAll('a')) {
        const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
        if (href.includes('evil.example'))
            found.push('a link in ' + (a.closest('[data-testid]')?.dataset.testid || '?') + ': ' + a.outerHTML.slice(0, 160));
    }
    for (const el of root.querySelectorAll('strong, b, em'))
        if (['bold', 'heavy'].includes(el.textContent.trim())) found.push('<' + el.tagName + '>' + el.textContent);
    for (const t of root.querySelectorAll('tspan'))
        if ((t.getAttribute('style') || '').includes('bold') && t.textContent.trim() === 'heavy') found.push('bold in a chart');
    for (const el of root.querySelectorAll('[class*="red"], span[style*="color"]'))
        if (el.textContent.trim() === 'red') found.push('Streamlit colour directive');
    return found;
}"""


class ResultsTrainer(FakeTrainer):
    """The fake trainer (milliseconds), ending with the test results a classification has."""

    def __init__(self, class_names):
        super().__init__(batches_per_epoch=2)
        self.class_names = list(class_names)

    def train(self, run, store, *, continue_training: bool = False) -> Ending:
        ending = super().train(run, store, continue_training=continue_training)
        results = {
            "test_accuracy": 0.75,
            "test_loss": 0.6,
            "test_examples": 4,
            "class_names": self.class_names,
            "per_class_accuracy": [1.0, 0.5],
            "confusion_matrix": [[2, 0], [1, 1]],
            "train_seconds": 1.0,
        }
        return dataclasses.replace(ending, results=results)


@pytest.fixture
def hostile_store(app_url, tmp_path, monkeypatch):
    """The served app's store, holding a data set, a challenge, a learner's run and an experiment, all with
    hostile names (the app finds them on its next page load); returns (the app's address, the store's home,
    the challenge code, the run id)."""
    home = tmp_path / "home"  # the store of the app_url fixture's server
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(home))  # where this process's load_dataset looks too
    images = np.random.default_rng(0).integers(0, 255, (8, 28, 28, 1), dtype=np.uint8)
    labels = np.array([0, 1] * 4)
    dataset = UserDatasetStore(home).save(
        owner=USER,
        title=DATASET,
        arrays={"x_train": images, "y_train": labels, "x_test": images[:4], "y_test": labels[:4]},
        class_names=CLASSES,
    )
    store = RunStore(home)
    challenge = create_challenge(
        ChallengeStore(store),
        teacher=USER,
        title=TITLE,
        dataset=dataset,
        preset="model1",
        max_params=2_000_000,
        max_epochs=2,
        hyperparameters=Hyperparameters(epochs=1, batch_size=32),
    )
    data = load_dataset(dataset)
    manager = RunManager(store, trainer=ResultsTrainer(data.class_names))
    run = manager.start(
        PRESETS["model1"].spec(data.input_shape, data.num_classes),
        dataset,
        challenge.apply(Hyperparameters(epochs=1)),
        owner=USER,
        name=RUN_NAME,
        challenge=challenge,
        learner=LEARNER,
    )
    wait_for(run)
    ExperimentStore(store).save(
        Experiment(
            new_experiment_id(),
            USER,
            EXPERIMENT,
            dataset,
            run.spec,
            run.hyperparameters,
            [],
            "grid",
            (0,),
            [{"index": 1, "values": {}, "seed": 0, "params": run.params, "problems": [], "run_id": run.id}],
        )
    )
    return app_url, home, challenge.code, run.id


SHOWS_JS = """([selector, text]) => [...document.querySelectorAll(selector)].some(
    // innerText: what is rendered (not hidden); word joiners are the invisible breaks of autolinks
    (el) => (el.innerText ?? el.textContent).replaceAll('\\u2060', '').replace(/\\s+/g, ' ').includes(text))"""


def shows(page, selector: str, text: str) -> None:
    """Wait until an element matching ``selector`` shows ``text``, character for character."""
    try:
        page.wait_for_function(SHOWS_JS, arg=[selector, text])
    except sync_api.TimeoutError:
        shown = page.eval_on_selector_all(selector, "els => els.map(el => el.innerText ?? el.textContent)")
        raise AssertionError(f"no {selector} shows {text!r}; they show {shown}") from None


def nothing_injected(page, dialogs: list[str], where: str) -> None:
    idle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{where.replace(' ', '-').replace(',', '')}.png"), full_page=True)
    no_app_errors(page)
    assert page.evaluate(INJECTED_JS) == [], where
    assert dialogs == [], f"{where}: a dialog fired: {dialogs}"


def test_hostile_names_show_as_typed_and_inject_nothing(hostile_store, page):
    url, home, code, run_id = hostile_store
    secret = server_secret(home)  # the served app's: the same file in the same home
    page.context.add_cookies(
        [
            {"name": USER_COOKIE, "value": USER, "url": url},
            {"name": TEACHER_COOKIE, "value": make_teacher_token(secret, PASSWORD), "url": url},
        ]
    )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # Train, opened from the challenge link with the learner's run: the banner and the run's heading.
    page.goto(f"{url}/train?challenge={code}&run={run_id}", timeout=FIRST_LOAD_MS)
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    shows(page, ".st-key-challenge_banner", f"Challenge: {TITLE} — {DATASET},")
    shows(page, "h2", f"Run {run_id}: {RUN_NAME}")
    shows(page, '[data-testid="stSidebar"]', DATASET)
    nothing_injected(page, dialogs, "Train")

    # Data: the class names beside their samples and on the class-balance chart's axis.
    go_to(page, "Data", "Look at the data")
    for name in CLASSES:
        shows(page, '[data-testid="stMarkdownContainer"] strong', name)
        shows(page, ".js-plotly-plot .xtick", name)
    nothing_injected(page, dialogs, "Data")

    # Results: the run's picker, the confusion matrix and per-class charts, the model card.
    go_to(page, "Results", "Results")
    expect(page.locator(".st-key-results_run input")).to_have_value(re.compile(re.escape(RUN_NAME)))
    for name in CLASSES:
        shows(page, ".js-plotly-plot .xtick", name)
        shows(page, ".js-plotly-plot .ytick", name)  # the confusion matrix's rows
    page.locator('[data-testid="stExpander"] summary', has_text="Model card").click()
    shows(page, "h2, h3, h4", f"Model card: {RUN_NAME}")
    shows(page, '[data-testid="stExpander"]', f"Data set: {DATASET}")
    shows(page, '[data-testid="stExpander"] td', CLASSES[0])
    nothing_injected(page, dialogs, "Results")

    # Teacher (logged in by the cookie): the challenge picker and its data set.
    go_to(page, "Teacher", "Teacher")
    page.get_by_role("tab", name="Your challenges").click()
    expect(page.locator(".st-key-teacher_challenge_choice input")).to_have_value(f"{TITLE} ({code})")
    shows(page, '[data-testid="stMarkdownContainer"]', f"{DATASET}, at most")
    nothing_injected(page, dialogs, "Teacher")

    # Projector: the challenge's title, the learner in the race's legend and on the board.
    page.locator('[data-testid="stSidebarNav"] a', has_text="Projector").click()
    shows(page, '[data-testid="stMarkdownContainer"] div', TITLE)
    shows(page, ".js-plotly-plot .legend", LEARNER)
    shows(page, "table td", LEARNER)
    nothing_injected(page, dialogs, "Projector, live race")

    page.locator(".st-key-projector_mode button", has_text="Experiment").click()
    shows(page, '[data-testid="stMarkdownContainer"] div', EXPERIMENT)
    nothing_injected(page, dialogs, "Projector, experiment")
