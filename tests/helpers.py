"""Small helpers shared by the test modules."""
import time


def wait_for(condition, timeout: float = 60.0, interval: float = 0.02) -> None:
    """Poll until condition() is true; fail the test after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(interval)
