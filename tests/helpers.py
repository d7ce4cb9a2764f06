"""Small helpers shared by the test modules."""
import time


def wait_for(condition, timeout: float = 60.0, interval: float = 0.02) -> None:
    """Poll until condition() is true; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(interval)


def rerun(at):
    """One AppTest script run, failing the test on any exception the page raised."""
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(at, page: str):
    """Switch the AppTest session to dashboard/views/<page>.py and run it."""
    at.switch_page(f"views/{page}.py")
    return rerun(at)
