"""Who performs a write: an API client, a staff user in the admin, or the system (beat, commands)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    type: str
    id: str = ""
    name: str = ""
    request_id: str = ""

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user
        request_id = getattr(request, "request_id", "")
        if getattr(user, "actor_type", None) == "api_client":
            return cls("api_client", user.actor_id, user.actor_name, request_id)
        return cls("staff", str(user.pk), user.get_username(), request_id)

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls("system", "", name)
