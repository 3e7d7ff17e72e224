"""Recipients as the logs show them: a***@example.com, +91******3210."""


def mask_recipient(to: str) -> str:
    if "@" in to:
        local, _, domain = to.rpartition("@")
        return f"{local[:1]}***@{domain}"
    digits = to.lstrip("+")
    if len(digits) <= 6:
        return "+" + "*" * len(digits)
    return f"+{digits[:2]}{'*' * (len(digits) - 6)}{digits[-4:]}"
