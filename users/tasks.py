from celery import shared_task

from users import services


@shared_task(name="users.tasks.purge_archived_customers")
def purge_archived_customers() -> int:
    return services.purge_archived_customers()
