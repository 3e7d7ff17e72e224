"""The one way admin pages write: a form that validates, and a service call from ``save_model``.

A ``ServiceAdminForm`` validates its input in ``clean()`` (with the API's serializers where there is
one) and does the write in ``write(actor)``, which calls the app's service and returns the saved
instance. ``ServiceAdminMixin`` calls ``write`` from ``save_model``. When the service refuses (a
``ServiceError`` raised at write time, e.g. a conflict that only the database sees), the admin's
transaction is rolled back and the page is shown again with the user's input and the service's
message as a form error, as if ``clean()`` had found it. ``checked_by_serializer`` checks a form's data
with the API's serializer and puts its errors on the form (the console's own pages: customers, webhooks).
"""

from django import forms

from core.actors import Actor
from core.api.errors import ServiceError


class ServiceAdminForm(forms.ModelForm):
    service_errors: tuple[str, ...] = ()  # set by ServiceAdminMixin when showing the form again

    def clean(self):
        cleaned = super().clean()
        for message in self.service_errors:
            self.add_error(None, message)
        return cleaned

    def _post_clean(self):
        """No model checks on the form's instance: it is never filled from the form; ``write()`` hands the
        input to the service, which checks and saves it."""

    def write(self, actor: Actor):
        """Save through the service and return the saved model instance."""
        raise NotImplementedError


class _Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ServiceAdminMixin:
    """For ModelAdmins whose form is a ServiceAdminForm."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        errors = getattr(request, "_service_errors", ())
        return type(form.__name__, (form,), {"service_errors": tuple(errors)}) if errors else form

    def save_model(self, request, obj, form, change):
        try:
            saved = form.write(Actor.from_request(request))
        except ServiceError as exc:
            raise _Refused(exc.message) from exc
        if saved is not None and saved is not obj:
            obj.__dict__.update(saved.__dict__)  # the admin goes on with `obj` (its pk, its log entry)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:  # changeform_view's transaction is rolled back: nothing half-written
            request._service_errors = (refused.message,)
            for upload in request.FILES.values():
                upload.seek(0)
            return super().changeform_view(request, object_id, form_url, extra_context)


def checked_by_serializer(form: forms.Form, serializer_class, data: dict) -> dict | None:
    """``data`` validated by the API's serializer, or None with its errors on ``form`` (a field's own, when the
    form has that field; else above the form, named)."""
    checked = serializer_class(data=data)
    if checked.is_valid():
        return checked.validated_data
    for field, problems in checked.errors.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            if field in form.fields:
                form.add_error(field, str(problem))
            else:
                form.add_error(None, f"{field}: {problem}")
    return None
