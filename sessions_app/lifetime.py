"""How long a customer session lives and whether it rolls: the application's platform config
(``session_config``: ``duration``, ``type`` of Days / Hours / Minutes, ``is_rolling``; by default
30 days, not rolling). Read once, when a session is created."""

from sessions_app.platform_config import session_settings


def session_lifetime_seconds(application) -> int:
    """Lifetime of a new session of ``application`` when createUserSession sends no ``max_age``."""
    return session_settings(application)[0]


def session_is_rolling(application) -> bool:
    """Whether each storefront request renews the session for its full lifetime."""
    return session_settings(application)[1]
