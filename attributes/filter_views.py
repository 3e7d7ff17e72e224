"""filterUsersByAttributes (POST …/user_attribute/users): a search, so it needs the read scope."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from attributes import filtering
from attributes.presenters import attribute_dict
from attributes.serializers import FilterUsersSerializer
from core.api.pagination import page_info
from core.api.views import validated
from core.tenancy.models import SCOPE_CUSTOMERS_READ
from core.api.schema import platform_answers
from core.tenancy.views import ApplicationScopedMixin
from attributes.schema import FilteredUser, FilteredUserList
from users.presenters import customer_dict


def filtered_customer_dict(customer, attributes) -> FilteredUser:
    """The SDK's UserAttributeFilteredList: the customer and the chosen attribute values. Unlike the
    customer list's UserSchema, its UserPhoneNumbers carry ``country_code`` as a string."""
    data = customer_dict(customer)
    for phone in data["phone_numbers"]:
        phone["country_code"] = str(phone["country_code"])
    return {**data, "is_encrypted": False,
            "attributes": [attribute_dict(attribute, definition) for attribute, definition in attributes]}


class FilterUsersView(ApplicationScopedMixin, APIView):
    required_scopes = {"POST": SCOPE_CUSTOMERS_READ}

    @extend_schema(operation_id="filterUsersByAttributes",
                   summary="Customers whose attribute values match conditions (and / or), one page",
                   request=FilterUsersSerializer, responses=platform_answers(FilteredUserList, 400))
    def post(self, request, **kwargs):
        query = filtering.filter_query(self.application, validated(FilterUsersSerializer, request))
        customers, total, values = filtering.filter_customers(self.application, query)
        return Response({"items": [filtered_customer_dict(c, values.get(c.id, [])) for c in customers],
                         "page": page_info(query.page, total)})
