"""The signed-in customer's contacts and their verification (``ApplicationClient.user`` of SDK 3.4.2):
thin views over accounts/profile.py. All need the session (StorefrontView) except verifyEmail /
verifyMobile, which a verification link opens anywhere (application credentials only)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts import profile, profile_schema, schema
from accounts import profile_serializers as bodies
from accounts.services import Visit, email_contact, phone_contact
from accounts.views import PLATFORM, VisitorView, visit_of
from core.api.schema import answers
from core.api.views import validated
from sessions_app.storefront import StorefrontView
from users.presenters import customer_dict

ENTITY = OpenApiParameter("entity", str, OpenApiParameter.PATH, enum=list(profile.ENTITIES),
                          description="Which contact: email or mobile.")


def with_user(changed: profile.Changed) -> Response:
    return Response({**changed.fields, "user": customer_dict(changed.customer)})


def query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CustomerView(StorefrontView):
    def visit(self, request) -> Visit:
        return visit_of(request)


class EmailView(CustomerView):
    @extend_schema(operation_id="addEmail", summary="Add an email to the signed-in customer; a verification link "
                   "goes to it (storefront)", parameters=[PLATFORM], request=bodies.EditEmailSerializer,
                   responses=answers(profile_schema.VerifyEmailOTPSuccess, 400, 401, 404, 409, 429))
    def put(self, request):
        contact = email_contact(validated(bodies.EditEmailSerializer, request).get("email"))
        return with_user(profile.add_contact(self.visit(request), request.user.customer, contact))

    @extend_schema(operation_id="deleteEmail", summary="Delete one of the signed-in customer's emails (storefront)",
                   parameters=[PLATFORM, bodies.DeleteEmailQuery], responses=answers(schema.LoginSuccess, 400, 401, 404))
    def delete(self, request):
        contact = email_contact(query(bodies.DeleteEmailQuery, request).get("email"))
        return with_user(profile.delete_contact(self.visit(request), request.user.customer, contact))


class PrimaryEmailView(CustomerView):
    @extend_schema(operation_id="setEmailAsPrimary", summary="Make a verified email the primary one (storefront)",
                   request=bodies.EditEmailSerializer, responses=answers(schema.LoginSuccess, 400, 401, 404))
    def post(self, request):
        contact = email_contact(validated(bodies.EditEmailSerializer, request).get("email"))
        return with_user(profile.set_primary(self.visit(request), request.user.customer, contact))


class MobileView(CustomerView):
    @extend_schema(operation_id="addMobileNumber", summary="Add a mobile number to the signed-in customer; a "
                   "verification link goes to it (storefront)", parameters=[PLATFORM], request=bodies.EditMobileSerializer,
                   responses=answers(profile_schema.VerifyMobileOTPSuccess, 400, 401, 404, 409, 429))
    def put(self, request):
        data = validated(bodies.EditMobileSerializer, request)
        contact = phone_contact(data.get("phone"), data.get("country_code"), "phone")
        return with_user(profile.add_contact(self.visit(request), request.user.customer, contact))

    @extend_schema(operation_id="deleteMobileNumber", summary="Delete one of the signed-in customer's mobile numbers "
                   "(storefront)", parameters=[PLATFORM, bodies.DeleteMobileQuery],
                   responses=answers(schema.LoginSuccess, 400, 401, 404))
    def delete(self, request):
        data = query(bodies.DeleteMobileQuery, request)
        contact = phone_contact(data.get("phone"), data.get("country_code"), "phone")
        return with_user(profile.delete_contact(self.visit(request), request.user.customer, contact))


class PrimaryMobileView(CustomerView):
    @extend_schema(operation_id="setMobileNumberAsPrimary", summary="Make a verified mobile number the primary one "
                   "(storefront)", request=bodies.MobileLinkSerializer, responses=answers(schema.LoginSuccess, 400, 401, 404))
    def post(self, request):
        data = validated(bodies.MobileLinkSerializer, request)
        contact = phone_contact(data.get("phone"), data.get("country_code"), "phone")
        return with_user(profile.set_primary(self.visit(request), request.user.customer, contact))


class EmailLinkView(CustomerView):
    @extend_schema(operation_id="sendVerificationLinkToEmail", summary="Send a verification link to one of the "
                   "signed-in customer's emails (storefront)", parameters=[PLATFORM], request=bodies.EditEmailSerializer,
                   responses=answers(profile_schema.SendEmailVerifyLinkSuccess, 400, 401, 404, 429))
    def post(self, request):
        contact = email_contact(validated(bodies.EditEmailSerializer, request).get("email"))
        sent = profile.send_verification_link(self.visit(request), request.user.customer, contact)
        return Response({"verify_email_link": sent})


class MobileLinkView(CustomerView):
    @extend_schema(operation_id="sendVerificationLinkToMobile", summary="Send a verification link to one of the "
                   "signed-in customer's mobile numbers (storefront)", parameters=[PLATFORM],
                   request=bodies.MobileLinkSerializer,
                   responses=answers(profile_schema.SendMobileVerifyLinkSuccess, 400, 401, 404, 429))
    def post(self, request):
        data = validated(bodies.MobileLinkSerializer, request)
        contact = phone_contact(data.get("phone"), data.get("country_code"), "phone")
        sent = profile.send_verification_link(self.visit(request), request.user.customer, contact)
        return Response({"verify_mobile_link": sent})


class VerifyEmailLinkView(VisitorView):
    entity = "email"

    @extend_schema(operation_id="verifyEmail", summary="Verify an email with the code of its verification link "
                   "(storefront)", request=bodies.CodeSerializer, responses=answers(schema.VerifyEmailSuccess, 400, 429))
    def post(self, request):
        profile.verify_link(visit_of(request), self.entity, validated(bodies.CodeSerializer, request).get("code"))
        return Response({"message": "verified"}, headers={"Cache-Control": "no-store"})


class VerifyMobileLinkView(VerifyEmailLinkView):
    entity = "mobile"

    @extend_schema(operation_id="verifyMobile", summary="Verify a mobile number with the code of its verification "
                   "link (storefront)", request=bodies.CodeSerializer, responses=answers(schema.VerifyEmailSuccess, 400, 429))
    def post(self, request):
        return super().post(request)


# ----------------------------------------------------------------------------- v2.0

class PrimaryOtpSendView(CustomerView):
    @extend_schema(operation_id="sendOTPOnPrimary", summary="Send a code to the primary email or mobile number, to "
                   "re-verify it before a change (storefront)", parameters=[ENTITY],
                   request=bodies.EntityOtpSendSerializer, responses=answers(schema.SendOtpSuccess, 400, 401, 429))
    def post(self, request, entity):
        entity = profile.entity_of(entity)
        data = validated(bodies.EntityOtpSendSerializer, request)
        named = profile.contact_in(entity, data) if data.get("email" if entity == "email" else "mobile") else None
        return Response(profile.send_primary_code(self.visit(request), request.user.customer, entity, named))


class PrimaryOtpVerifyView(CustomerView):
    @extend_schema(operation_id="verifyOTPonPrimary", summary="Check the primary's code: contacts may change for "
                   "the next minutes, in this session (storefront)", parameters=[ENTITY],
                   request=bodies.EntityOtpVerifySerializer,
                   responses=answers(profile_schema.VerifyPrimaryOTPSuccess, 400, 401, 403, 429))
    def post(self, request, entity):
        entity = profile.entity_of(entity)
        data = validated(bodies.EntityOtpVerifySerializer, request)
        return with_user(profile.verify_primary_code(self.visit(request), request.user.customer,
                                                     request.user.session.session_id, entity,
                                                     request_id=data.get("request_id"), code=data.get("otp")))


class UpdateOtpSendView(CustomerView):
    @extend_schema(operation_id="sendOTPForUpdate", summary="Send a code to a new email or mobile number, after "
                   "verifyOTPonPrimary (storefront)", parameters=[ENTITY], request=bodies.EntityOtpSendSerializer,
                   responses=answers(schema.SendOtpSuccess, 400, 401, 403, 409, 429))
    def post(self, request, entity):
        entity = profile.entity_of(entity)
        contact = profile.contact_in(entity, validated(bodies.EntityOtpSendSerializer, request))
        return Response(profile.send_update_code(self.visit(request), request.user.customer,
                                                 request.user.session.session_id, contact))


class UpdateOtpVerifyView(CustomerView):
    @extend_schema(operation_id="verifyOTPForUpdate", summary="Check the new contact's code: it becomes the "
                   "verified primary (storefront)", parameters=[ENTITY], request=bodies.EntityOtpVerifySerializer,
                   responses=answers(schema.VerifyOtpSuccess, 400, 401, 403, 409, 429))
    def post(self, request, entity):
        entity = profile.entity_of(entity)
        data = validated(bodies.EntityOtpVerifySerializer, request)
        contact = email_contact(data.get("email")) if entity == "email" and not data.get("request_id") else None
        return with_user(profile.verify_update_code(self.visit(request), request.user.customer,
                                                    request.user.session.session_id, entity, contact=contact,
                                                    request_id=data.get("request_id"), code=data.get("otp")))
