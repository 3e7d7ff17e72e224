"""`make run`: migrate, then run gunicorn, a Celery worker and Celery beat in the foreground.

The embedded PostgreSQL / Redis (when DATABASE_URL / REDIS_URL are unset) were started by manage.py
in this very process, which owns them: children get their URLs through the environment (so they start
nothing), and the servers stop when this process exits (unless a manage.py elsewhere still uses them).
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core import messages
from core.metrics import multiprocess


class Command(BaseCommand):
    help = "Run the whole service (web, worker, beat) in the foreground until Ctrl-C or SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", default=os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)))
        parser.add_argument("--threads", default=os.environ.get("WEB_THREADS", "1"))
        parser.add_argument("--celery-concurrency", default=os.environ.get("CELERY_CONCURRENCY", "2"))
        parser.add_argument("--no-worker", action="store_true", help="web only (no Celery worker and beat)")

    def handle(self, *args, host, port, workers, threads, celery_concurrency, no_worker, **options):
        stop = {"signal": None}

        def on_signal(signum, frame):
            stop["signal"] = signum

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"database ready; static files collected in {settings.STATIC_ROOT}")
        self.stdout.write(messages.describe_delivery())

        metrics_dir = multiprocess.prepare()  # before the children: they share it (docs/metrics.md)
        if metrics_dir:
            self.stdout.write(f"metrics at /metrics, gathered in {metrics_dir}")

        python = sys.executable
        bin_dir = os.path.dirname(python)
        env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
        commands = {
            "web": [os.path.join(bin_dir, "gunicorn"), "config.wsgi:application",
                    "--config", str(settings.BASE_DIR / "config" / "gunicorn.conf.py"), "--bind", f"{host}:{port}",
                    "--workers", str(workers), "--threads", str(threads), "--access-logfile", "-",
                    "--graceful-timeout", "20", "--timeout", "60"],
        }
        if not no_worker:
            commands["worker"] = [python, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
                                  "--concurrency", str(celery_concurrency), "--hostname", f"worker.{os.getpid()}@%h"]
            commands["beat"] = [python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
                                "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")]
        children = {name: subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR) for name, cmd in commands.items()}
        self.stdout.write(f"serving on http://{host}:{port}/ (admin at /admin/, API docs at /docs/); Ctrl-C stops")
        exit_code = 0
        try:
            while stop["signal"] is None:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}; stopping everything")
                        stop["signal"] = "child"
                        exit_code = 1
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 30
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            self.stdout.write("stopped")
        if exit_code:
            sys.exit(exit_code)
