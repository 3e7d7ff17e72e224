from celery import shared_task

from users import eventlog, services


@shared_task(name="users.tasks.purge_archived_customers")
def purge_archived_customers() -> int:
    return services.purge_archived_customers()


@shared_task(name="users.tasks.sequence_events", expires=30, ignore_result=True)
def sequence_events() -> int:
    """Beat's tick of the event log (users.eventlog): numbers the events committed since the last one."""
    return eventlog.sequence_all()


@shared_task(name="users.tasks.trim_events", ignore_result=True)
def trim_events() -> int:
    """The event log's retention (users.eventlog.trim), a batch at a time until done."""
    total = 0
    while (deleted := eventlog.trim()):
        total += deleted
    return total
