"""Celery beat sleeps until its next entry is due (config.celery.SteadyScheduler): the stock scheduler spun
through the last 10 ms before each run, about a thousand ticks a second with the event log's numbering
twice a second."""

import time

from config import celery_app
from config.celery import SteadyScheduler


def run_for(seconds: float, every: float):
    applied, ticks = [], 0

    class Probe(SteadyScheduler):
        def setup_schedule(self):  # one entry, kept in memory rather than in a schedule file
            self.data = {}
            self.merge_inplace({"probe": {"task": "probe", "schedule": every}})

        schedule = property(lambda self: self.data)

        def apply_async(self, entry, producer=None, advance=True, **kwargs):
            applied.append(time.monotonic())
            return self.reserve(entry) if advance else entry

        def sync(self):
            pass

    scheduler = Probe(celery_app, lazy=False, schedule_filename="unused")
    started = time.monotonic()
    while time.monotonic() - started < seconds:  # beat's own loop (celery.beat.Service.start)
        interval = scheduler.tick()
        ticks += 1
        if interval and interval > 0:
            time.sleep(interval)
    return applied, ticks, started


def test_beat_runs_each_entry_on_time_without_spinning_in_between():
    applied, ticks, started = run_for(1.25, every=0.2)
    assert 5 <= len(applied) <= 7
    gaps = [b - a for a, b in zip(applied, applied[1:])]
    assert all(0.15 <= gap <= 0.3 for gap in gaps), gaps
    assert ticks <= 3 * len(applied) + 5  # the stock scheduler: hundreds
