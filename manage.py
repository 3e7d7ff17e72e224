#!/usr/bin/env python
"""Django's command line. Commands that use the database or the broker start (or join) the embedded
PostgreSQL / Redis first when DATABASE_URL / REDIS_URL are unset (config/servers.py); the others don't."""

import os
import sys
import warnings

# Commands that need neither the database nor the broker.
WITHOUT_SERVERS = {"check", "help", "version", "diffsettings", "collectstatic", "findstatic", "spectacular"}
WITHOUT_SERVERS_WHEN = {"makemigrations": {"--check", "--dry-run"}}
HELP_OPTIONS = {"-h", "--help", "--version"}


def needs_servers(argv: list[str]) -> bool:
    command, options = (argv[1], set(argv[2:])) if len(argv) > 1 else ("help", set())
    if command in WITHOUT_SERVERS or command in HELP_OPTIONS or options & HELP_OPTIONS:
        return False
    return not options & WITHOUT_SERVERS_WHEN.get(command, set())


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from config import servers

    if needs_servers(sys.argv):
        servers.start_embedded(settings)
    elif settings.EMBEDDED_POSTGRES:  # makemigrations --check: no database to compare the history with
        warnings.filterwarnings("ignore", message="Got an error checking a consistent migration history")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
