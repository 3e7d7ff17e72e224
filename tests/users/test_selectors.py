"""users.selectors' single-customer reads: one query each, the customer with its contacts as with_contacts()
prefetches them (primary first, then oldest), and nothing of another application."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from users import selectors
from users.contacts import parse_phone
from users.models import Customer, CustomerEmail, CustomerPhone


def _customer(application, username="asha"):
    customer = Customer.objects.create(application=application, username=username, first_name="Asha")
    for i, primary in enumerate((False, False, True)):  # the primary one is the newest
        CustomerEmail.objects.create(customer=customer, application=application, email=f"{username}{i}@example.com",
                                     primary=primary)
    phone = parse_phone("9876543210", 91)
    CustomerPhone.objects.create(customer=customer, application=application, phone=phone.national,
                                 country_code=phone.country_code, e164=phone.e164, primary=True)
    return customer


def _contacts(customer):
    return ([(e.email, e.primary) for e in customer.emails.all()], [p.e164 for p in customer.phones.all()])


def test_each_single_read_brings_the_contacts_in_with_contacts_order_in_one_query(application):
    made = _customer(application)
    expected = _contacts(selectors.with_contacts(Customer.objects.filter(pk=made.pk)).get())
    assert expected[0] == [("asha2@example.com", True), ("asha0@example.com", False), ("asha1@example.com", False)]
    reads = {
        "by id": lambda: selectors.customer_with_contacts(application.id, made.id),
        "by email": lambda: selectors.customer_by_contact(application, email="asha1@example.com"),
        "by phone": lambda: selectors.customer_by_contact(application, phone=parse_phone("+919876543210")),
    }
    for name, read in reads.items():
        with CaptureQueriesContext(connection) as queries:
            customer = read()
            contacts = _contacts(customer)
        assert customer.pk == made.pk and customer.first_name == "Asha", name
        assert contacts == expected, name
        assert len(queries) == 1, name
        assert all(e.customer is customer for e in customer.emails.all())  # each contact knows its customer
        # the cached relation is still a real, filtered queryset
        assert list(customer.emails.filter(primary=False).values_list("email", flat=True)) == [
            "asha0@example.com", "asha1@example.com"]


def test_extras_come_with_the_customer_and_nobody_is_none(application, other_application):
    made = _customer(application)
    customer, (username, count) = selectors.customer_and_extras_by_contact(
        application, email="asha0@example.com",
        extra=["c.username", "(SELECT count(*) FROM users_customeremail e WHERE e.customer_id = c.id)"])
    assert customer.pk == made.pk and (username, count) == ("asha", 3)
    assert selectors.customer_and_extras_by_contact(other_application, email="asha0@example.com",
                                                    extra=["c.username"]) == (None, (None,))
    assert selectors.customer_with_contacts(other_application.id, made.id) is None
    Customer.objects.filter(pk=made.pk).update(archived=True)
    CustomerEmail.objects.filter(customer=made).update(is_live=False)
    assert selectors.customer_by_contact(application, email="asha0@example.com") is None  # archived: not live
    assert selectors.customer_with_contacts(application.id, made.id).archived  # by id: archived or not
