"""Company scoping for the admin console: staff see and change only their own company's rows.

Who sees what:

- a superuser sees everything;
- an active staff user with a ``StaffProfile`` sees the rows of ``profile.company`` only;
- any other user (staff without a profile, ...) sees nothing.

Use :class:`CompanyScopedAdminMixin` on every ``ModelAdmin`` (and inline) of company data and set
``company_field`` to the ORM path from the model to ``core.Company``::

    @admin.register(Customer)
    class CustomerAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
        company_field = "application__company"

The mixin filters ``get_queryset`` (so the changelist, the change / delete / history pages, actions,
autocomplete and raw-id popups are all scoped: another company's object URL redirects to the admin
index with "doesn't exist", as Django does for any missing object) and limits the choices of
foreign keys and many-to-many fields to the same company.

Two small mixins spell out who may write: :class:`ReadOnlyAdminMixin` (nobody adds, changes or
deletes) and :class:`SuperuserWritesMixin` (only superusers do). Neither touches the view rules.
"""

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured

from core.tenancy.models import Company

ALL_COMPANIES = "all"  # what company_scope() answers for a superuser


def company_scope(request):
    """``ALL_COMPANIES`` for a superuser, the company id of a staff user, else ``None`` (nothing).

    Cached on the request: one StaffProfile query per request at most.
    """
    cached = getattr(request, "_admin_company_scope", False)
    if cached is not False:
        return cached
    user = getattr(request, "user", None)
    scope = None
    if user is not None and user.is_active and user.is_authenticated:
        if user.is_superuser:
            scope = ALL_COMPANIES
        elif user.is_staff:
            from core.tenancy.models import StaffProfile

            scope = StaffProfile.objects.filter(user_id=user.pk).values_list("company_id", flat=True).first()
    request._admin_company_scope = scope
    return scope


def is_active_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def manages_integrations(request) -> bool:
    """A superuser, or company staff of the full role: may issue, rotate and revoke API credentials."""
    if is_active_superuser(request):
        return True
    from core.tenancy.models import StaffProfile

    user = request.user
    return user.is_active and user.is_staff and \
        StaffProfile.objects.filter(user_id=user.pk, role=StaffProfile.FULL).exists()


def is_company_staff(request) -> bool:
    """A staff user tied to a company (not a superuser)."""
    scope = company_scope(request)
    return scope is not None and scope != ALL_COMPANIES


def scope_queryset(queryset, company_field: str, request):
    """Filter ``queryset`` to the rows ``request.user`` may see through ``company_field``."""
    scope = company_scope(request)
    if scope == ALL_COMPANIES:
        return queryset
    if scope is None:
        return queryset.none()
    path = "pk" if company_field in ("pk", "id", "") else f"{company_field}_id"
    return queryset.filter(**{path: scope})


def scoped_related_queryset(admin_site, request, model, queryset=None):
    """The rows of ``model`` the user may pick in a form, or None when ``model`` has no company.

    A model is company data when it is ``Company`` itself or its admin in ``admin_site`` uses
    :class:`CompanyScopedAdminMixin` (its ``company_field`` is reused).
    """
    queryset = model._default_manager.all() if queryset is None else queryset
    if model is Company:
        return scope_queryset(queryset, "pk", request)
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, CompanyScopedAdminMixin) and model_admin.company_field is not None:
        return scope_queryset(queryset, model_admin.company_field, request)
    return None


class CompanyScopedAdminMixin:
    """Scope a ModelAdmin or InlineModelAdmin to the user's company (see the module docstring).

    ``staff_can_view = True`` also lets company staff *view* the model (the index lists it) without
    any model permission; use it for company data that staff may look at but not edit.
    """

    company_field: str | None = None
    staff_can_view: bool = False

    def get_queryset(self, request):
        if self.company_field is None:
            raise ImproperlyConfigured(f"{type(self).__name__}.company_field is not set.")
        return scope_queryset(super().get_queryset(request), self.company_field, request)

    def _scope_choices(self, db_field, request, kwargs):
        """Set ``kwargs["queryset"]`` to the company's rows when the related model is company data."""
        if "queryset" not in kwargs:
            queryset = scoped_related_queryset(self.admin_site, request, db_field.remote_field.model,
                                               self.get_field_queryset(None, db_field, request))
            if queryset is not None:
                kwargs["queryset"] = queryset
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._scope_choices(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request, **self._scope_choices(db_field, request, kwargs))

    def has_module_permission(self, request):
        if self.staff_can_view and is_company_staff(request) and request.user.is_staff:
            return True
        return super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if self.staff_can_view and is_company_staff(request) and request.user.is_staff:
            return True
        return super().has_view_permission(request, obj)


class ReadOnlyAdminMixin:
    """Nobody adds, changes or deletes here, whatever their permissions (for a ModelAdmin or an inline)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserWritesMixin:
    """Only active superusers add, change or delete, whatever permissions a staff user holds."""

    def has_add_permission(self, request, obj=None):
        return is_active_superuser(request)

    def has_change_permission(self, request, obj=None):
        return is_active_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return is_active_superuser(request)


class CompanyScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A ``list_filter`` on a foreign key that offers only the user's company's rows
    (the stock filter would list every company's applications)."""

    def field_choices(self, field, request, model_admin):
        queryset = scoped_related_queryset(model_admin.admin_site, request, field.related_model)
        if queryset is None:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset[:500]]
