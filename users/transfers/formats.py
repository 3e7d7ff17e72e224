"""The file formats of customer imports and exports."""

from core.api.errors import ValidationFailed

FORMATS = ("csv", "xlsx")


def check_format(file_format) -> str:
    """The format named (".CSV" is csv); 400 for anything else than csv or xlsx."""
    if not isinstance(file_format, str) or file_format.strip().lower().lstrip(".") not in FORMATS:
        raise ValidationFailed("file_format must be csv or xlsx.", code="invalid_file_format")
    return file_format.strip().lower().lstrip(".")
