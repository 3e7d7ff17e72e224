"""A job's input file: a local file stored in the job's folder (store_job_input), and the stored copy of a
*_file_url, downloaded once and recorded only when complete (stored_input)."""

import pytest

from core import files, jobs
from core.actors import Actor
from core.files.downloads import DownloadError
from core.jobs.models import Job
from tests import job_handlers  # noqa: F401  registers the test_rows kind
from tests.file_server import serve_files

pytestmark = pytest.mark.usefixtures("local_file_urls", "media")


@pytest.fixture
def job(application):
    return jobs.create_job(application, "test_rows", Actor.system("test"), payload={"n": 1}, enqueue=False)


def stored_payload(job) -> dict:
    return Job.objects.get(pk=job.pk).payload


def test_store_job_input_keeps_the_file_in_the_jobs_folder_and_records_it(job):
    name = jobs.store_job_input(job, b"user_id\nabc\n", "users.csv")
    assert name == f"jobs/{job.application_id}/{job.pk}/users.csv"
    assert stored_payload(job) == job.payload == {"n": 1, "input_file": name}
    assert jobs.store_job_input(job, b"x", "upload.csv", key="stored_file").endswith("/upload.csv")
    assert stored_payload(job)["stored_file"] == f"jobs/{job.application_id}/{job.pk}/upload.csv"
    with files.open_file(name) as stored:
        assert stored.read() == b"user_id\nabc\n"


def test_stored_input_downloads_once_then_reads_the_copy(job):
    with serve_files({"/a.csv": b"user_id\n1\n"}) as base:
        name = jobs.stored_input(job, f"{base}/a.csv", field="file_url", name="download.csv")
    assert name == f"jobs/{job.application_id}/{job.pk}/download.csv" and stored_payload(job)["input_copy"] == name
    resumed = Job.objects.get(pk=job.pk)  # the server is gone: a second fetch would fail
    assert jobs.stored_input(resumed, "http://localhost:9/a.csv", field="file_url", name="download.csv") == name
    with files.open_file(name) as stored:
        assert stored.read() == b"user_id\n1\n"


def test_a_copy_cut_short_is_not_recorded_and_is_fetched_again(job):
    def killed_while_writing(name, content):
        files.save_file(name, content.read(3))
        raise KeyboardInterrupt

    with serve_files({"/a.csv": b"user_id\n1\n"}) as base:
        with pytest.raises(KeyboardInterrupt):
            jobs.stored_input(job, f"{base}/a.csv", field="file_url", name="download.csv", store=killed_while_writing)
        assert "input_copy" not in stored_payload(job)
        name = jobs.stored_input(Job.objects.get(pk=job.pk), f"{base}/a.csv", field="file_url", name="download.csv")
    with files.open_file(name) as stored:
        assert stored.read() == b"user_id\n1\n"


def test_stored_input_reads_a_copy_stored_before_the_record_was_kept(job):
    legacy = files.save_file(files.job_file_name(job, "input.csv"), b"user_id\nold\n")
    assert jobs.stored_input(job, "http://localhost:9/gone.csv", field="file_url", name="download.csv",
                             legacy_name="input.csv") == legacy


def test_stored_input_names_the_field_when_the_download_fails(job):
    with serve_files({}) as base, pytest.raises(DownloadError, match="could not fetch user_file_url: HTTP 404"):
        jobs.stored_input(job, f"{base}/missing.csv", field="user_file_url", name="download.csv")
    assert "input_copy" not in stored_payload(job)
