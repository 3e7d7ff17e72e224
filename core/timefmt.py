from datetime import datetime, timezone


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC with milliseconds and Z, e.g. 2020-03-11T09:28:41.982Z; "" for None."""
    if value is None:
        return ""
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
