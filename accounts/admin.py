"""The customer's sign-in on their admin page: lockout state and password, and the "Unlock sign-in" and
"End all sessions" actions.

The users app owns the customer admin and knows nothing of accounts; this app extends it (a subclass
registered in its place, keeping what other apps added to the registered one) rather than the other way
round (docs/architecture.md)."""

from django.contrib import admin
from django.utils.html import format_html

from accounts import services
from sessions_app import services as session_services
from users.admin import CustomerAdmin
from users.models import Customer


_registered = admin.site.get_model_admin(Customer)  # users' CustomerAdmin, as the apps before this one left it


class AccountCustomerAdmin(type(_registered)):
    inlines = _registered.inlines  # e.g. the attribute values the attributes app added
    actions = (*CustomerAdmin.actions, "unlock_customers", "end_sessions")
    fieldsets = (*CustomerAdmin.fieldsets[:2], ("Sign-in", {"fields": ("sign_in",)}), *CustomerAdmin.fieldsets[2:])
    readonly_fields = (*CustomerAdmin.readonly_fields, "sign_in")

    @admin.display(description="sign-in")
    def sign_in(self, obj):
        state = services.sign_in_state(obj.application_id, obj.pk)
        password = "has a password" if state["has_password"] else "no password"
        failures = ", ".join(f"{kind} {count}" for kind, count in (state.get("failures") or {}).items() if count)
        if state.get("locked"):
            return format_html("<strong>Locked</strong> until {} ({}); failures: {}. Use the “Unlock sign-in” "
                               "action of the customer list to lift it.", state.get("locked_until") or "?",
                               password, failures or "none")
        return format_html("Not locked ({}); recent failures: {}", password, failures or "none")

    @admin.action(description="Unlock sign-in of selected customers", permissions=["manage"])
    def unlock_customers(self, request, queryset):
        self._each_customer(request, queryset, "Unlocked", lambda application, customer, actor, reason:
                            services.unlock(application, customer.pk, actor))


    @admin.action(description="End all sessions of selected customers", permissions=["manage"])
    def end_sessions(self, request, queryset):
        """Signed out everywhere (a lost phone, a shared computer): every live session ends at once; the
        customer signs in again (an audit event per customer, naming the staff user)."""
        self._each_customer(request, queryset, "Signed out", lambda application, customer, actor, reason:
                            session_services.end_all_sessions(application, customer.pk, reason, actor))


admin.site.unregister(Customer)
admin.site.register(Customer, AccountCustomerAdmin)
