"""Customer fields that an app above ``users`` keeps (users never imports it): createUser / updateUser of
the platform API and the customer import accept them, check them with the app's hook and hand the
checked values to it, in the same transaction as the customer's own write.

``accounts`` registers ``password_hash`` in its ``AppConfig.ready()`` (a hash moved in from another
platform, stored in its Credential table: docs/migration.md).

A hook (``CustomerFieldHook``):

- ``name``: the request field and the import column;
- ``customer_values``: the customer's own columns a stored value sets (``{"has_old_password_hash": True}``);
- ``check(value)``: the parsed value, or a ServiceError with the reason (400, or the row in the import's
  error file). Pure and cheap: the import calls it for every row in its row reader, without the database;
- ``store(application, values, actor, *, new)``: ``values`` = ``[(customer_id, parsed), …]``, written
  set-based in the caller's transaction; ``new`` when none of these customers existed before it (the
  import's new customers: nothing to replace). Returns the ids of the customers whose value changed
  (the same value again is no change: no flag, no audit entry).
"""

from __future__ import annotations

from typing import Any, Protocol

from core.actors import Actor
from core.api.errors import ValidationFailed

# The fields a hook may fill: the serializers and the import know their names, not their meaning.
FIELDS = ("password_hash",)


class CustomerFieldHook(Protocol):
    name: str
    customer_values: dict

    def check(self, value: str) -> Any: ...

    def store(self, application, values: list[tuple[str, Any]], actor: Actor, *, new: bool) -> set[str]: ...


_hooks: dict[str, CustomerFieldHook] = {}


def register_customer_field(hook: CustomerFieldHook) -> None:
    if hook.name not in FIELDS:
        raise ValueError(f"{hook.name!r} is not one of users.hooks.FIELDS")
    _hooks[hook.name] = hook


def hook(name: str) -> CustomerFieldHook | None:
    return _hooks.get(name)


def checked(data: dict) -> dict[str, Any]:
    """The hooked fields of validated request ``data`` that are given: name -> parsed value."""
    parsed = {}
    for name in FIELDS:
        value = data.get(name)
        if value is None:
            continue
        registered = _hooks.get(name)
        if registered is None:
            raise ValidationFailed(f"{name}: not supported by this deployment.")
        parsed[name] = registered.check(value)
    return parsed


def customer_values(parsed: dict[str, Any]) -> dict:
    """The customer's own columns that the given fields set."""
    values = {}
    for name in parsed:
        values.update(_hooks[name].customer_values)
    return values


def store(application, customer_id: str, parsed: dict[str, Any], actor: Actor, *, new: bool) -> list[str]:
    """One customer's given fields, each to its hook (createUser / updateUser): the names that changed."""
    return [name for name, value in parsed.items()
            if customer_id in _hooks[name].store(application, [(customer_id, value)], actor, new=new)]
