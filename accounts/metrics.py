"""The storefront's sign-in figures at /metrics (docs/metrics.md): counted where the services decide them."""

from core import metrics

SIGN_INS = metrics.Counter(
    "sign_ins", "Sign-ins by method (password, otp, google, token, …) and outcome: succeeded (a session made), "
    "failed (a wrong password or one-time code; codes of every purpose count).", ("method", "outcome"))
REFUSED = metrics.Counter(
    "storefront_refused", "Storefront attempts (sign-in, sign-up, codes, resets) refused before any check: "
    "rate_limited (429) or locked (an account lockout holds, 403).", ("reason",))
LOCKOUTS = metrics.Counter(
    "lockouts", "Lockouts started by failed attempts, by kind (password, otp).", ("kind",))
