"""Logging filters named in settings.LOGGING."""

import logging

from django.conf import settings


class RoutineTasks(logging.Filter):
    """Drops Celery's "received" / "succeeded" and beat's "Sending due task" lines of the tasks in
    settings.QUIET_TASKS (beat's sub-second ticks would fill the log); their failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        named = [args.get("name")] if isinstance(args, dict) else list(args or ())  # trace / beat's arguments
        if any(isinstance(name, str) and name in settings.QUIET_TASKS for name in named):
            return record.levelno >= logging.WARNING
        return True
