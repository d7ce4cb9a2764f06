"""The cluster's health, as the web server sees it: joining it, and whether its head and nodes still answer.

Ray's own calls that need the cluster's head wait for it as long as it is away, and Ray ends a process
whose head has been gone a minute: the app checks the head itself (a TCP connection) before joining and
while it runs, and asks Ray only with a time limit (``within``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import core
from core.runs.runners import RunnerUnavailable
from core.runs.store import RunStore
from core.text import ascii_whole_number

HEAD_CHECK_SECONDS = 2.0  # how often the app checks that the cluster's head still answers
HEAD_LOST_SECONDS = 10.0  # the head unreachable this long: the cluster is gone for this app
# Ray ends a process whose cluster head has not answered for this long (its own default: 60 s, which would end
# the web server with the class in it); the app watches the head itself and falls back instead. Set for this
# process even when its environment has RAY_gcs_rpc_server_reconnect_timeout_s: any value would end it.
KEEP_WAITING_FOR_HEAD_SECONDS = 365 * 24 * 3600
RECONNECT_TIMEOUT_ENV = "RAY_gcs_rpc_server_reconnect_timeout_s"
# Ray's switch for multi-machine clusters: "0" keeps every service of a local Ray on 127.0.0.1.
LOOPBACK_ONLY_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def store_namespace(store: RunStore) -> str:
    """The Ray namespace of one app (one store): its actors' names never meet another app's."""
    digest = hashlib.sha256(str(Path(store.home).resolve()).encode()).hexdigest()[:12]
    return f"cnn-playground-{digest}"


def gcs_reachable(address: str, timeout: float = 5.0) -> bool:
    """A quick TCP check of a ``host:port`` head address: an unreachable head makes ``ray.init`` wait
    for minutes (and may end the process), so the app checks first."""
    host, _, text = address.rpartition(":")
    port = ascii_whole_number(text)  # not isdigit(): "⁶³⁷⁹" passes it, then int() fails
    if not host or port is None:
        return True  # "auto", "ray://..." and the like: leave it to Ray
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except (OSError, OverflowError):  # OverflowError: a port above 65535
        return False


def connect(namespace: str, local_cpus: int | None = None) -> bool:
    """Join the cluster at $RAY_ADDRESS, or start a local Ray with ``local_cpus`` CPUs.

    Returns True when this call started Ray (then the runner shuts it down), False when Ray was
    already connected. Raises RunnerUnavailable with a plain message when the cluster cannot be reached.
    """
    address = os.environ.get("RAY_ADDRESS", "").strip()
    if not address:
        # A local Ray serves this machine only: keep its services on loopback instead of the address Ray
        # would pick for other machines to reach (read when Ray is first imported).
        os.environ.setdefault(LOOPBACK_ONLY_ENV, "0")
    import ray

    if ray.is_initialized():
        return False
    options = {
        "namespace": namespace,
        "logging_level": logging.WARNING,
        "log_to_driver": False,
        # This server's `core` goes to every node with the job: nodes need only the Python packages.
        "runtime_env": {"py_modules": [str(Path(core.__file__).resolve().parent)], "excludes": ["__pycache__"]},
    }
    if address:
        os.environ[RECONNECT_TIMEOUT_ENV] = str(KEEP_WAITING_FOR_HEAD_SECONDS)  # read by ray.init
        if not gcs_reachable(address):
            raise RunnerUnavailable(
                f"The training cluster at {address} (RAY_ADDRESS) cannot be reached: is its head node running, "
                "and is this server allowed to connect to it?"
            )
        try:
            ray.init(address=address, **options)
        except Exception as error:  # authentication, version mismatch, ...: say what Ray said, in one line
            detail = str(error).strip().splitlines()[0][:300] if str(error).strip() else type(error).__name__
            raise RunnerUnavailable(f"Could not join the training cluster at {address}: {detail}") from error
    else:
        ray.init(num_cpus=local_cpus or os.cpu_count() or 1, include_dashboard=False, **options)
    return True


def within(seconds: float, call: Callable, default=None):
    """``call()``, or ``default`` when it raised or has not returned within ``seconds``: Ray's calls that need
    the cluster's head wait for it for as long as it is away (see KEEP_WAITING_FOR_HEAD_SECONDS)."""
    answer = []

    def attempt():
        with contextlib.suppress(Exception):
            answer.append(call())

    helper = threading.Thread(target=attempt, name="ray-call", daemon=True)
    helper.start()
    helper.join(seconds)
    return answer[0] if answer else default


def watch_head(address: str, closed: threading.Event, on_lost: Callable[[], None]) -> None:
    """Check the head every HEAD_CHECK_SECONDS until ``closed`` is set; once it has not answered for
    HEAD_LOST_SECONDS, call ``on_lost()`` (once) and return."""
    down_since = None
    while not closed.wait(HEAD_CHECK_SECONDS):
        if gcs_reachable(address, timeout=HEAD_CHECK_SECONDS):
            down_since = None
            continue
        down_since = down_since or time.monotonic()
        if time.monotonic() - down_since >= HEAD_LOST_SECONDS:
            on_lost()
            return


def node_alive(ray, node_id: str | None, timeout: float) -> bool | None:
    """Whether the node is alive; None when Ray cannot tell within ``timeout`` (its head is not answering)."""
    nodes = within(timeout, ray.nodes)
    return None if nodes is None else any(n["NodeID"] == node_id and n["Alive"] for n in nodes)
