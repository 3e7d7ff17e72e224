"""The two ways a provider check fails, in the service's one error format."""

from core.api.errors import ServiceError


def token_invalid(message: str) -> ServiceError:
    """The token is not good (signature, issuer, audience, expiry, nonce, revoked): 401."""
    return ServiceError(message, code="social_token_invalid", status_code=401)


def provider_unavailable(provider: str, why: str) -> ServiceError:
    """The provider could not be asked (unreachable, timeout, an error or garbage in answer): 502."""
    return ServiceError(f"{provider} could not be reached to check the sign-in ({why}); try again.",
                        code="provider_unavailable", status_code=502)
