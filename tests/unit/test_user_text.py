"""Text users write is text, everywhere: names are cleaned where they enter the engine, and shown literally
by Markdown, HTML and Plotly; a crafted teacher cookie is refused, not a crash."""

import html
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import FakeTrainer, finished_run, wait_for
from helpers import model1_challenge as make_challenge
from markdown_it import MarkdownIt

from core.classroom.challenges import create_challenge
from core.classroom.login import check_teacher_token, make_teacher_token
from core.classroom.race import race
from core.data.user_datasets import UserDatasetStore
from core.runs.challenges import ChallengeStore
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.text import (
    CHALLENGE_TITLE_CHARS,
    LEARNER_NAME_CHARS,
    RUN_NAME_CHARS,
    WORD_JOINER,
    ascii_whole_number,
    clean_name,
    markdown_literal,
    strip_ansi,
    unique_names,
)
from core.training.hyperparams import Hyperparameters
from dashboard.charts.race import race_chart
from dashboard.charts.training import class_balance_figure, confusion_matrix_figure
from dashboard.components.user_text import html_literal, plotly_literal

HOSTILE = '<img src=x onerror=alert(1)>**bold** [link](http://evil.example) <a href="http://evil.example">x</a>'
MARKDOWN_SPECIALS = r"*_[]()#>`|~\ :red[x] $x$ :smile: www.evil.example a@b.example 1. - + ! & &amp; ="
DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


# --- cleaning names where they enter -----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("Ada\x00\x1b[31m", "Ada[31m"),  # NUL and ESC gone (the rest is harmless text)
        ("A\u200bd\u200da\ufeff", "Ada"),  # zero-width space, joiner and BOM
        ("\u202eadA", "adA"),  # a right-to-left override cannot flip the name on the board
        ("\u2066Ada\u2069 \u061c", "Ada"),  # isolates and the Arabic letter mark
        ("Ａｄａ", "Ada"),  # fullwidth letters: NFKC
        ("ﬁ ①", "fi 1"),  # ligature, circled digit
        ("  Ada \t\n  Lovelace\u2028 ", "Ada Lovelace"),  # any whitespace: one space
        ("\ue000Ada\U000f0000", "Ada"),  # private use
        ("\u3164\u2800", ""),  # blank letters only: an empty name
        ("a" + "\u0301" * 40, "\u00e1" + "\u0301" * 4),  # no tower of accents over the line (NFKC made á)
        ("Zoë, Renée", "Zoë, Renée"),  # real names keep their letters
        ("王小明", "王小明"),
        (None, ""),
        (42, ""),
    ],
)
def test_clean_name_drops_what_could_pass_for_another_name(typed, stored):
    assert clean_name(typed, 40) == stored


def test_clean_name_caps_the_length_and_a_lone_surrogate_is_dropped():
    assert clean_name("x" * 10_000, LEARNER_NAME_CHARS) == "x" * LEARNER_NAME_CHARS
    assert clean_name("ab" + " " * 50 + "c", 3) == "ab"  # no trailing space after the cut
    assert clean_name("a\ud800b", None) == "ab"


def test_class_names_stay_one_per_class_after_cleaning():
    assert unique_names(["cat", "cat\u200b", "CAT", "", "dog"], 40) == ("cat", "cat (2)", "CAT (3)", "class 3", "dog")
    assert unique_names(["x" * 50, "x" * 50 + "y"], 10) == ("x" * 10, "xxxxxx (2)")


def test_the_engine_stores_names_clean_and_capped(tmp_path):
    manager = RunManager(RunStore(tmp_path), trainer=FakeTrainer())
    challenge = make_challenge()
    hp = challenge.apply(Hyperparameters())
    from core.training.presets import PRESETS

    run = manager.start(
        PRESETS["model1"].spec(num_classes=5),
        "shapes",
        hp,
        owner="u1",
        name="\u202e" + "r" * 10_000,
        challenge=challenge,
        learner="\x00Eve\u200b\u202e" + "e" * 10_000,
    )
    wait_for(run)
    stored = manager.store.load(run.id)
    assert stored.learner == "Eve" + "e" * (LEARNER_NAME_CHARS - 3)
    assert stored.name == "r" * RUN_NAME_CHARS


def test_challenge_titles_are_clean_when_created_edited_and_read_back(tmp_path):
    challenges = ChallengeStore(RunStore(tmp_path))
    made = create_challenge(
        challenges,
        teacher="t",
        title="\u202e Best\x1b CNN " + "!" * 500,
        dataset="shapes",
        preset="model1",
        max_params=120_000,
        max_epochs=2,
        hyperparameters=Hyperparameters(epochs=1),
    )
    assert made.title == ("Best CNN " + "!" * 500)[:CHALLENGE_TITLE_CHARS]
    assert challenges.update(made.code, title="\u200bNew\ttitle\n").title == "New title"
    assert challenges.get(made.code).title == "New title"


def test_imported_data_sets_keep_clean_titles_and_class_names(tmp_path):
    store = UserDatasetStore(tmp_path)
    arrays = {k: np.zeros((2, 4, 4, 1), np.uint8) if k[0] == "x" else np.array([0, 1]) for k in ("x_train", "y_train")}
    arrays |= {"x_test": arrays["x_train"], "y_test": arrays["y_train"]}
    name = store.save(owner="me", title="Toys\u202e\x00" + "t" * 200, arrays=arrays, class_names=["ba\u200bll", "ball"])
    meta = store.meta(name)
    assert meta["title"] == ("Toys" + "t" * 200)[:60]
    assert meta["class_names"] == ["ball", "ball (2)"]


# --- a crafted teacher cookie ------------------------------------------------------------------------


@pytest.mark.parametrize("expiry", ["¹⁷⁹⁹⁹⁹⁹⁹⁹⁹", "١٧٩٩٩٩٩٩٩٩", "9" * 5000, "+1799999999", " 1799999999", ""])
def test_a_token_with_an_expiry_that_is_not_plain_ascii_digits_is_refused_without_an_error(expiry):
    secret = b"k" * 32
    signature = make_teacher_token(secret, "pw", now=0).split(".")[1]
    assert check_teacher_token(f"{expiry}.{signature}", secret, "pw", now=0) is False


def test_a_token_with_a_non_ascii_signature_is_refused_without_an_error():
    secret = b"k" * 32
    expires = make_teacher_token(secret, "pw", now=0).split(".")[0]
    assert check_teacher_token(f"{expires}.é" + "0" * 63, secret, "pw", now=0) is False
    assert check_teacher_token(f"{expires}.\ud800", secret, "pw", now=0) is False


def test_ascii_whole_numbers_only():
    assert ascii_whole_number("0042") == 42
    for text in ("²", "٣", "4.0", "-4", "", " 4", "4\n", None, 4, "1" * 19):
        assert ascii_whole_number(text) is None


# --- showing names literally -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [HOSTILE, MARKDOWN_SPECIALS, "price_k_eur T-shirt/top", "a\\*b", "<b>x</b>", "1. x", "# h", "==="]
)
@pytest.mark.parametrize("before", ["", "A line before\n", "**bold** "])
def test_markdown_literal_renders_as_the_text_itself(text, before):
    """CommonMark with raw HTML on (the worst case) renders the escaped text as exactly the characters typed,
    alone, on the line after another, or after other Markdown."""
    markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    rendered = markdown.render(before + markdown_literal(text)).replace(WORD_JOINER, "")
    assert rendered == markdown.render(before + "X").replace("X", html.escape(text, quote=True))


def test_markdown_literal_escapes_streamlit_directives_and_autolinks_and_leaves_prose_alone():
    escaped = markdown_literal(MARKDOWN_SPECIALS).replace(WORD_JOINER, "~WJ~")
    for active in (r"\:~WJ~red\[x\]", r"\$x\$", r"\~", r"\|", r"\`", r"\&amp;"):
        assert active in escaped  # each broken by a backslash
    # What Markdown finds in the text itself (autolinks, shortcodes) is broken by an invisible word joiner.
    for active in (r"\:~WJ~smile:", "www~WJ~.evil", "a@~WJ~b", "http~WJ~\\://evil"):
        assert active in escaped or active in markdown_literal("http://evil").replace(WORD_JOINER, "~WJ~"), active
    for start, escaped in (
        ("# t", r"\# t"),
        ("1. t", r"1\. t"),
        ("3) t", r"3\) t"),
        ("+ t", r"\+ t"),
        ("===", r"\==="),
    ):
        assert markdown_literal(start) == escaped  # no heading, list or setext line
    assert markdown_literal("line one\nline two") == "line one line two"
    prose = "Only one class (reds) has images: a network needs 2 classes, at 0.5 each. T-shirt/top, price_k_eur?"
    assert markdown_literal(prose) == prose  # a message's words stay as they are


def test_html_and_plotly_literals():
    assert html_literal(HOSTILE) == html.escape(HOSTILE, quote=True)
    assert "<" not in html_literal(HOSTILE) and '"' not in html_literal(HOSTILE)
    assert plotly_literal("<b>x</b> & <a href='y'>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href='y'&gt;"


def _entries(learner: str) -> list[dict]:
    run = finished_run(name="r")
    run.challenge, run.learner = "c0de", learner
    return race([run], make_challenge(code="c0de", reset_at=0.0))


def test_the_race_legend_and_hover_show_a_name_with_html_as_typed():
    figure = race_chart(_entries(HOSTILE + " %{y}"))
    names = [trace.name for trace in figure.data if trace.name]
    assert names and all("<" not in n and "&lt;img src=x" in n for n in names)
    markers = [trace for trace in figure.data if trace.hovertemplate]
    assert markers and all("evil" not in t.hovertemplate for t in markers)  # the name is data, not template
    assert "&lt;a href=" in markers[0].customdata[0]


def test_class_names_in_charts_are_escaped():
    names = ["<b>cat</b>", "<a href='http://evil.example'>dog</a>"]
    for figure in (class_balance_figure([1, 2], [1, 1], names), confusion_matrix_figure([[1, 0], [0, 1]], names)):
        shown = [str(v) for trace in figure.data for v in trace.x]
        assert shown and all("<" not in v for v in shown) and "&lt;b&gt;cat&lt;/b&gt;" in shown


def test_the_model_card_escapes_names(tmp_path):
    from core.insight.model_card import model_card

    run = finished_run(name=HOSTILE)
    run.results["class_names"] = ["<b>a</b>", "[x](http://evil.example)"]
    card = model_card(run, RunStore(tmp_path))
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(card).replace(WORD_JOINER, "")
    assert "<img" not in rendered and "<b>a</b>" not in rendered and 'href="http://evil.example"' not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;**bold**" in rendered and "&lt;b&gt;a&lt;/b&gt;" in rendered


def test_only_the_user_text_helper_writes_html():
    """The rule kept: no page, part or chart turns on Streamlit's HTML, so no name can reach it unescaped."""
    offenders = [
        str(path.relative_to(DASHBOARD))
        for path in DASHBOARD.rglob("*.py")
        if path.name != "user_text.py" and re.search(r"unsafe_allow_html\s*=\s*True", path.read_text())
    ]
    assert offenders == []


def test_keras_coloured_error_text_reaches_people_without_escape_codes():
    coloured = "\x1b[31mValueError\x1b[0m: Input \x1b[1m0\x1b[22m of layer \x1b[38;5;196m'dense'\x1b[39m is bad"
    assert strip_ansi(coloured) == "ValueError: Input 0 of layer 'dense' is bad"
    assert strip_ansi("no colour × here") == "no colour × here"


def test_no_component_script_writes_html():
    """A component's own script (the map's hover cards) shows user text with textContent, never as HTML."""
    scripts = sorted(DASHBOARD.rglob("*.js"))
    assert scripts, "the hover chart's script is missing"
    writes_html = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment")
    assert [str(p.relative_to(DASHBOARD)) for p in scripts if writes_html.search(p.read_text())] == []
    assert "textContent" in (DASHBOARD / "components" / "hover_chart.js").read_text()
