"""Celery workers run at a lower CPU priority than the web processes (WORKER_NICENESS, config/celery.py): on a
machine that serves requests too, deliveries and imports take the CPU the requests leave."""

import os

import pytest

from tests import workers

pytestmark = pytest.mark.django_db(transaction=True)


def niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[16])  # field 19 of stat: nice


@pytest.mark.parametrize("setting, expected", [(None, 5), ("12", 12), ("0", 0)])
def test_a_worker_runs_niced_by_the_setting(settings, tmp_path, setting, expected):
    own = os.nice(0)
    extra = {} if setting is None else {"WORKER_NICENESS": setting}
    log = tmp_path / "worker.log"
    worker = workers.start_worker(workers.worker_env(settings.MEDIA_ROOT, **extra), "test-nice", log)
    try:
        workers.wait_for(lambda: b" ready." in log.read_bytes(), "the worker to start", log)
        assert niceness(worker.pid) == min(19, own + expected)
    finally:
        workers.stop(worker)
