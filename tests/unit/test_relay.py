"""The relay the process and Ray runners share (core.runs.relay), on the fake trainer in threads of this
process: a worker's copy of a run trains, its events come back into the server's copy, the user's
controls go the other way. The runners on real workers: tests/training/test_runners.py, tests/cluster."""

import queue
import threading
import time

import pytest
from helpers import FAKE_RESULTS, FakeTrainer, finished_run, wait_for

from core.runs import relay as relay_module
from core.runs.record import Ending, Event, Run, RunRecord, Status
from core.runs.relay import STUCK_MESSAGE, Job, News, WorkerSide, relay
from core.training.hyperparams import Hyperparameters

SPEC = {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 5}]}


def test_a_job_round_trips_through_its_dict():
    run = finished_run(epochs=2)
    job = Job.of(run, True, data={"shapes": "a ref"}, model=b"model bytes")
    again = Job.from_dict(job.to_dict())
    assert again == job
    assert again.record == run.record() and again.batches == run.batch_history()
    assert (again.continue_training, again.data, again.model) == (True, {"shapes": "a ref"}, b"model bytes")
    assert again.live_run().summary_record() == run.summary_record()
    assert Job.from_dict(Job.of(Run(SPEC, "shapes", Hyperparameters()), False).to_dict()).model is None


def test_a_record_round_trips_and_one_saved_before_its_newer_fields_reads_with_their_defaults():
    run = finished_run()
    record = run.record()
    assert RunRecord.from_dict(record.to_dict()) == record
    assert list(record.to_dict())[:3] == ["id", "owner", "name"]  # the saved form, keys in order
    old = {key: value for key, value in record.to_dict().items() if key not in ("kind", "options", "task", "learner")}
    read = RunRecord.from_dict(old)
    assert (read.kind, read.options, read.task, read.learner) == ("train", {}, "classification", "")
    with pytest.raises(AttributeError):
        record.status = Status.FAILED  # frozen: a snapshot


def test_the_events_of_a_workers_copy_rebuild_the_run_in_the_servers_copy():
    server = Run(SPEC, "shapes", Hyperparameters(epochs=2, batch_size=16), owner="ann")
    events: list[Event] = []
    copy, job = WorkerSide().take(Job.of(server, False).to_dict(), events.append)
    ending = FakeTrainer().train(copy, None)
    done = Event.done(copy, ending)
    for event in events:
        server.apply(event)
    server.apply_final(done.record)
    assert [e.kind for e in events][:2] == [Event.BEGIN, Event.BATCH]
    assert sum(e.kind == Event.EPOCH for e in events) == 2
    assert server.batch_history() == copy.batch_history() and len(server.batch_history()) == 6
    assert server.epoch_history() == copy.epoch_history()
    assert (server.status, server.epoch, server.progress().fraction) == (Status.RUNNING, 2, 1.0)
    assert done.ending == Ending(Status.FINISHED, "", FAKE_RESULTS)


class PacedTrainer(FakeTrainer):
    """The fake trainer at one batch each 10 ms: a run of many epochs trains long enough to be controlled."""

    def train(self, run: Run, store, *, continue_training: bool = False) -> Ending:
        record_batch = run.record_batch

        def paced(*args, **kwargs):
            time.sleep(0.01)
            record_batch(*args, **kwargs)

        run.record_batch = paced
        return super().train(run, store, continue_training=continue_training)


class ThreadLink:
    """A worker in a thread of this process, reached as a runner reaches its worker (WorkerLink)."""

    gap = 0.0

    def __init__(self, run: Run, trainer: FakeTrainer):
        self.events: queue.Queue = queue.Queue()
        self.side = WorkerSide()
        self.commands: list[str] = []
        self.abandoned = False
        job = Job.of(run, False).to_dict()
        threading.Thread(target=self._work, args=(job, trainer), daemon=True).start()

    def _work(self, job, trainer):
        copy, _ = self.side.take(job, self.events.put)
        self.events.put(Event.done(copy, trainer.train(copy, None)))

    def poll(self) -> News:
        news = News()
        try:
            while True:
                event = self.events.get(timeout=0.01)
                if event.kind == Event.DONE:
                    news.end = event
                    return news
                news.events.append(event)
        except queue.Empty:
            return news

    def command(self, command: str) -> bool:
        self.commands.append(command)
        return self.side.command(command)

    def abandon(self) -> None:
        self.abandoned = True


def follow(run: Run, link) -> threading.Thread:
    ending = []
    thread = threading.Thread(target=lambda: ending.append(relay(run, link)), daemon=True)
    thread.start()
    thread.ending = ending
    return thread


def test_the_relay_passes_pause_resume_and_stop_on_once_each_and_returns_the_workers_ending():
    trainer = PacedTrainer()
    run = Run(SPEC, "shapes", Hyperparameters(epochs=1000, batch_size=16))
    link = ThreadLink(run, trainer)
    thread = follow(run, link)
    wait_for(lambda: len(run.batch_history()) >= 2)
    assert run.request_pause()
    wait_for(lambda: run.status == Status.PAUSED)
    held = len(run.batch_history())
    time.sleep(0.2)
    assert len(run.batch_history()) <= held + 1  # at most the batch under way
    assert run.resume()
    wait_for(lambda: len(run.batch_history()) > held + 2 and run.status == Status.RUNNING)
    assert run.request_stop()
    thread.join(10)
    assert link.commands == ["pause", "resume", "stop"]
    (ending,) = thread.ending
    assert ending.status == Status.STOPPED and ending.message.startswith("Stopped by you")
    assert run.batch_history() == link.side.run.batch_history()


def test_a_worker_that_ignores_stop_is_ended_after_the_grace_and_its_history_kept(monkeypatch):
    monkeypatch.setattr(relay_module, "STOP_GRACE_SECONDS", 0.3)
    run = Run(SPEC, "shapes", Hyperparameters(epochs=1000, batch_size=16))
    link = ThreadLink(run, PacedTrainer())
    link.command = lambda command: link.commands.append(command) or True  # sent, never obeyed
    thread = follow(run, link)
    wait_for(lambda: len(run.batch_history()) >= 2)
    run.request_stop()
    thread.join(10)
    assert thread.ending == [Ending(Status.STOPPED, STUCK_MESSAGE)] and link.abandoned
    assert link.commands == ["stop"] and len(run.batch_history()) >= 2
    link.side.command("stop")  # end the fake worker's thread
