"""Teacher: a class's results exported as CSV and zip, and that zip imported as a challenge."""

from helpers import finished_run, make_challenge, rerun, teacher_logged_in

import core.runs.manager
from dashboard import session


def test_a_class_is_exported_and_its_challenge_imported_again(monkeypatch):
    challenge = make_challenge(title="Shapes sprint")
    run = finished_run(owner="c" * 32, name="Ada's best")
    run.challenge, run.learner = challenge.code, "Ada"
    run.results["class_names"] = ["square", "circle"]
    core.runs.manager.default_manager().store.save(run)

    at = teacher_logged_in(monkeypatch)
    at.selectbox(key="teacher_challenge_choice").set_value(challenge.code)
    rerun(at)
    assert at.download_button(key=f"export_csv_{challenge.code}").label == "Leaderboard (.csv)"
    at.button(key=f"export_prepare_{challenge.code}").click()
    rerun(at)
    assert at.download_button(key=f"export_zip_{challenge.code}").label == "Class results (.zip)"
    data = at.session_state["_class_zip"][1]

    at.file_uploader(key="import_challenge_file").upload("class.zip", data, "application/zip")
    rerun(at)
    at.button(key="import_challenge").click()
    rerun(at)
    assert any("Challenge imported" in s.value for s in at.success)
    titles = [c.title for c in session.challenges().list()]
    assert titles == ["Shapes sprint", "Shapes sprint"]
    assert at.session_state["teacher_challenge_choice"] != challenge.code  # the imported one is selected

    at.file_uploader(key="import_challenge_file").upload("class.zip", b"PK not really", "application/zip")
    rerun(at)
    at.button(key="import_challenge").click()
    rerun(at)
    assert any("not a class results file" in e.value for e in at.error)
