"""Who the provider says the customer is: ``verify(provider, credentials, config) -> Identity``.

The client's ``profile`` is never trusted for who someone is: the subject (the provider's user id), the
email and whether the provider verified it come from the provider only, from a token whose signature,
issuer, audience and expiry were checked here (Google ID tokens, Apple identity tokens) or that the
provider itself vouched for (Google access tokens: tokeninfo; Facebook: debug_token then /me).

The application's client ids come from its platform config (``social_tokens``): Google's and Apple's
``app_id`` may list several, separated by commas or white space (web, Android and iOS clients; an Apple
app's bundle id and its web Services ID); a token for any of them is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
from django.conf import settings

from accounts.social import jwks
from accounts.social.errors import provider_unavailable, token_invalid
from accounts.social.http import get_json
from core.api.errors import ServiceError, ValidationFailed

PROVIDERS = ("google", "facebook", "apple")
NAMES = {"google": "Google", "facebook": "Facebook", "apple": "Apple"}
GOOGLE_ISSUERS = ["accounts.google.com", "https://accounts.google.com"]
APPLE_ISSUER = "https://appleid.apple.com"
MAX_TOKEN_LENGTH = 8192
_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Identity:
    provider: str
    subject: str
    email: str = ""
    email_verified: bool = False
    first_name: str = ""
    last_name: str = ""
    picture: str = ""


def client_ids(config: dict, provider: str) -> list[str]:
    """The application's client ids for ``provider`` (``social_tokens.<provider>.app_id``, split)."""
    raw = ((config.get("social_tokens") or {}).get(provider) or {}).get("app_id") or ""
    return [part for part in _SEPARATORS.split(raw) if part]


def require_enabled(config: dict, provider: str) -> None:
    """403 unless the platform config turns the provider on and has its credentials."""
    name = NAMES[provider]
    if not (config.get("social") or {}).get(provider):
        raise ServiceError(f"Signing in with {name} is turned off for this store.",
                           code="social_login_disabled", status_code=403)
    configured = bool(client_ids(config, provider))
    if provider == "facebook":
        configured = configured and bool((config["social_tokens"].get("facebook") or {}).get("app_secret"))
    if not configured:
        raise ServiceError(f"Signing in with {name} is not set up for this store (social_tokens.{provider}).",
                           code="social_login_not_configured", status_code=403)


def verify(provider: str, credentials: dict, config: dict) -> Identity:
    """The provider's word on the credentials the client sent (the request body); 400 when the token is
    missing, 401 ``social_token_invalid`` when it is not good, 502 ``provider_unavailable`` when the
    provider cannot tell."""
    if provider == "google":
        return _google(_token(credentials, "oauth2", "access_token"), config)
    if provider == "facebook":
        return _facebook(_token(credentials, "oauth2", "access_token"), config)
    if provider == "apple":
        oauth = credentials.get("oauth") or {}
        return _apple(_token(credentials, "oauth", "identity_token"), oauth.get("nonce") or "", config)
    raise ValueError(f"unknown provider {provider!r}")


def _token(credentials: dict, section: str, name: str) -> str:
    value = (credentials.get(section) or {}).get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{section}.{name} is required.", meta={"errors": {f"{section}.{name}": ["required"]}})
    value = value.strip()
    if len(value) > MAX_TOKEN_LENGTH:
        raise ValidationFailed(f"{section}.{name} is too long.")
    return value


def _text(value) -> str:
    return value.strip()[:254] if isinstance(value, str) else ""


def _true(value) -> bool:
    """Google and Apple say email_verified as true or "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


# ----------------------------------------------------------------------------- signed tokens (JWT)

def _decode(provider: str, token: str, *, url: str, setting: str, issuer, audience: list[str]) -> dict:
    """The claims of an RS256 token signed by one of the provider's published keys, issued by ``issuer``
    for one of ``audience``, not expired (SOCIAL_TOKEN_LEEWAY_SECONDS of clock skew); 401 otherwise."""
    name = NAMES[provider]
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise token_invalid(f"The {name} token is not a signed token.") from None
    if header.get("alg") != "RS256":
        raise token_invalid(f"The {name} token must be signed with RS256.")
    key = jwks.signing_key(name, url, setting, header.get("kid"))
    try:
        return jwt.decode(token, key=key, algorithms=["RS256"], audience=audience, issuer=issuer,
                          leeway=settings.SOCIAL_TOKEN_LEEWAY_SECONDS,
                          options={"require": ["exp", "iat", "iss", "aud", "sub"]})
    except jwt.ExpiredSignatureError:
        raise token_invalid(f"The {name} token has expired.") from None
    except jwt.InvalidAudienceError:
        raise token_invalid(f"The {name} token was issued for another app.") from None
    except jwt.InvalidIssuerError:
        raise token_invalid(f"The {name} token was not issued by {name}.") from None
    except jwt.InvalidSignatureError:
        raise token_invalid(f"The {name} token's signature is wrong.") from None
    except jwt.PyJWTError as exc:
        raise token_invalid(f"The {name} token is not valid ({exc}).") from None


def _subject(provider: str, claims: dict) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 255:
        raise token_invalid(f"The {NAMES[provider]} token names no user.")
    return subject.strip()


# ----------------------------------------------------------------------------- Google

def _google(token: str, config: dict) -> Identity:
    audience = client_ids(config, "google")
    if token.count(".") == 2:  # an ID token: checked here against Google's keys
        claims = _decode("google", token, url=settings.GOOGLE_JWKS_URL, setting="GOOGLE_JWKS_URL",
                         issuer=GOOGLE_ISSUERS, audience=audience)
        return Identity("google", _subject("google", claims), email=_text(claims.get("email")).lower(),
                        email_verified=_true(claims.get("email_verified")),
                        first_name=_text(claims.get("given_name")), last_name=_text(claims.get("family_name")),
                        picture=_text(claims.get("picture")))
    # an access token: Google says whose it is and for which client
    separator = "&" if "?" in settings.GOOGLE_TOKENINFO_URL else "?"
    answer = get_json("Google", settings.GOOGLE_TOKENINFO_URL + separator + urlencode({"access_token": token}),
                      "GOOGLE_TOKENINFO_URL")
    if answer.status != 200:
        raise token_invalid("Google does not accept the access token (expired or revoked).")
    info = answer.data
    if info.get("aud") not in audience and info.get("azp") not in audience:
        raise token_invalid("The Google access token was issued for another app.")
    expires_in = info.get("expires_in")
    if expires_in is not None and str(expires_in).lstrip("-").isdigit() and int(expires_in) <= 0:
        raise token_invalid("The Google access token has expired.")
    return Identity("google", _subject("google", info), email=_text(info.get("email")).lower(),
                    email_verified=_true(info.get("email_verified")))


# ----------------------------------------------------------------------------- Apple

def _apple(token: str, nonce: str, config: dict) -> Identity:
    claims = _decode("apple", token, url=settings.APPLE_JWKS_URL, setting="APPLE_JWKS_URL", issuer=APPLE_ISSUER,
                     audience=client_ids(config, "apple"))
    if nonce:  # the app sent Apple the SHA-256 (hex) of its nonce and sends us the nonce itself
        expected = hashlib.sha256(nonce.encode()).hexdigest()
        if not hmac.compare_digest(str(claims.get("nonce") or ""), expected):
            raise token_invalid("The Apple token was not issued for this sign-in (nonce).")
    return Identity("apple", _subject("apple", claims), email=_text(claims.get("email")).lower(),
                    email_verified=_true(claims.get("email_verified")))


# ----------------------------------------------------------------------------- Facebook

def _facebook(token: str, config: dict) -> Identity:
    tokens = config["social_tokens"]["facebook"]
    app_id, secret = client_ids(config, "facebook")[0], tokens["app_secret"]
    graph = settings.FACEBOOK_GRAPH_URL
    checked = get_json("Facebook", f"{graph}/debug_token?" + urlencode(
        {"input_token": token, "access_token": f"{app_id}|{secret}"}), "FACEBOOK_GRAPH_URL")
    data = checked.data.get("data")
    if checked.status != 200 or not isinstance(data, dict):
        if _graph_error_code(checked.data) == 190 and checked.status in (400, 401):
            raise provider_unavailable("Facebook", "it refused the store's app id or secret (social_tokens.facebook)")
        raise provider_unavailable("Facebook", f"debug_token answered HTTP {checked.status}")
    if data.get("is_valid") is not True:
        raise token_invalid("Facebook does not accept the access token (expired or revoked).")
    if str(data.get("app_id") or "") != app_id:
        raise token_invalid("The Facebook access token was issued for another app.")
    proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()  # appsecret_proof
    me = get_json("Facebook", f"{graph}/me?" + urlencode(
        {"fields": "id,email,first_name,last_name", "access_token": token, "appsecret_proof": proof}),
        "FACEBOOK_GRAPH_URL")
    if me.status != 200:
        raise token_invalid("Facebook does not accept the access token (expired or revoked).")
    subject = str(me.data.get("id") or "")
    if not subject or (data.get("user_id") and str(data["user_id"]) != subject):
        raise token_invalid("Facebook answered for another user than the token's.")
    email = _text(me.data.get("email")).lower()
    # Facebook gives an email only once its owner confirmed it: such an email counts as verified.
    return Identity("facebook", subject, email=email, email_verified=bool(email),
                    first_name=_text(me.data.get("first_name")), last_name=_text(me.data.get("last_name")))


def _graph_error_code(data: dict):
    error = data.get("error")
    return error.get("code") if isinstance(error, dict) else None
