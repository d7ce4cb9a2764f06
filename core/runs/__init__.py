"""Runs and their lifecycle: the run record, the manager (start, stop, own, end), the queue, the runners, the store."""
