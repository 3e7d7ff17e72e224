"""How long a customer session lives and whether it rolls, per application.

The platform config (``session_config``: ``duration``, ``type`` of Days / Hours / Minutes,
``is_rolling``) will drive both; until it is wired in, every application gets the documented
defaults: 30 days, not rolling. Callers go through these two functions only, so wiring the config
in changes nothing else.
"""

DEFAULT_SESSION_LIFETIME_SECONDS = 30 * 24 * 3600
DEFAULT_SESSION_ROLLING = False


def session_lifetime_seconds(application) -> int:
    """Lifetime of a new session of ``application`` when createUserSession sends no ``max_age``.

    The platform config's ``session_config`` will drive it; 30 days for now.
    """
    return DEFAULT_SESSION_LIFETIME_SECONDS


def session_is_rolling(application) -> bool:
    """Whether each storefront request renews the session for its full lifetime.

    The platform config's ``session_config.is_rolling`` will drive it; off for now.
    """
    return DEFAULT_SESSION_ROLLING
