"""Company isolation and per-operation scopes, enforced on every API call."""

from rest_framework import exceptions, permissions

from core.tenancy.models import SCOPE_CUSTOMERS_READ, SCOPE_CUSTOMERS_WRITE


class HasCompanyScope(permissions.BasePermission):
    """The token must belong to the company in the URL and carry the scope the operation needs.

    A view states its scopes in ``required_scopes``: a dict from action name (viewsets) or HTTP
    method to a scope; by default reads need customers/read and writes customers/write.
    """

    def has_permission(self, request, view):
        principal = request.user
        if principal is None or not getattr(principal, "is_authenticated", False):
            raise exceptions.NotAuthenticated("An access token is required (Authorization: Bearer <token>).")
        company_id = view.kwargs.get("company_id")
        if company_id is not None and str(principal.company_id) != str(company_id):
            raise exceptions.PermissionDenied("This token is not valid for company %s." % company_id)
        scope = required_scope(request, view)
        if scope and scope not in principal.scopes:
            raise exceptions.PermissionDenied(f"This operation needs the '{scope}' scope.")
        return True


def required_scope(request, view) -> str | None:
    declared = getattr(view, "required_scopes", {}) or {}
    action = getattr(view, "action", None)
    if action and action in declared:
        return declared[action]
    if request.method in declared:
        return declared[request.method]
    return SCOPE_CUSTOMERS_READ if request.method in permissions.SAFE_METHODS else SCOPE_CUSTOMERS_WRITE
