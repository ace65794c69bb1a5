"""Contact and company rules (pure domain, no servers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from helpdesk_events import DomainEvent
from helpdesk_events.customers import (
    CompanyFieldChange,
    CompanyProfileChanged,
    CustomerFieldChange,
    CustomerProfileChanged,
    CustomerRegistered,
    CustomerTagsChanged,
)
from ticket_service.domain import customers as rules
from ticket_service.domain.customers import (
    Company,
    CompanyNotFound,
    ContactExists,
    Customer,
    CustomerNotFound,
    InvalidCustomerData,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_customer(**overrides: object) -> Customer:
    fields: dict[str, object] = {
        "name": "  Budi Santoso ",
        "email": "  Budi@Example.CO.ID ",
        "phone": " +62 812 555 ",
        "tags": ["VIP", "vip", " ", "Jakarta"],
        "channel": "whatsapp",
        "ip_address": "10.0.0.7",
    } | overrides
    registered = rules.register_customer(**fields)
    return rules.apply_customer(None, uuid.uuid4(), registered, T0)


def new_company() -> Company:
    registered = rules.register_company(name=" PT Maju ", website="maju.co.id", city="Bandung")
    return rules.apply_company(None, uuid.uuid4(), registered, T0)


# --- registering ------------------------------------------------------------------------------


def test_register_normalises_email_text_and_tags() -> None:
    customer = new_customer()
    assert customer.email == "budi@example.co.id"
    assert (customer.name, customer.phone) == ("Budi Santoso", "+62 812 555")
    assert customer.tags == ("vip", "jakarta")
    assert (customer.version, customer.created_at, customer.updated_at) == (1, T0, T0)


def test_register_without_email_is_allowed_and_blank_values_mean_none() -> None:
    customer = new_customer(email="   ", gender="", job_title=" ")
    assert (customer.email, customer.gender, customer.job_title) == (None, None, None)


@pytest.mark.parametrize("name", ["", "   "])
def test_a_contact_needs_a_name(name: str) -> None:
    with pytest.raises(InvalidCustomerData, match="name: a contact needs a name"):
        rules.register_customer(name=name)


def test_invalid_email_and_ip_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidCustomerData, match="email"):
        rules.register_customer(name="Budi", email="not-an-email")
    with pytest.raises(InvalidCustomerData, match=r"ip_address '999\.1\.1\.1'"):
        rules.register_customer(name="Budi", ip_address="999.1.1.1")


def test_ipv6_is_kept_in_canonical_form() -> None:
    assert new_customer(ip_address="2001:DB8:0:0::1").ip_address == "2001:db8::1"


def test_contract_limits_become_domain_errors() -> None:
    with pytest.raises(InvalidCustomerData, match="phone"):
        rules.register_customer(name="Budi", phone="1" * 51)


def test_contact_exists_names_the_existing_contact() -> None:
    existing = uuid.uuid4()
    error = ContactExists("budi@example.co.id", existing)
    assert f"contact with this email exists: {existing}" in str(error)
    assert error.existing_id == existing


# --- editing ----------------------------------------------------------------------------------


def test_profile_change_records_only_real_changes_with_old_and_new() -> None:
    customer = new_customer()
    company_id = uuid.uuid4()
    event = rules.change_customer_profile(
        customer,
        {
            "name": "Budi Santoso",  # unchanged: not recorded
            "email": " BUDI.S@Example.co.id",
            "phone": None,
            "company_id": company_id,
        },
    )
    assert event == CustomerProfileChanged(
        changes=(
            CustomerFieldChange(
                field="email", old="budi@example.co.id", new="budi.s@example.co.id"
            ),
            CustomerFieldChange(field="phone", old="+62 812 555", new=None),
            CustomerFieldChange(field="company_id", old=None, new=str(company_id)),
        )
    )
    changed = rules.apply_customer(customer, customer.id, event, T0 + timedelta(minutes=1))
    assert (changed.email, changed.phone, changed.company_id) == (
        "budi.s@example.co.id",
        None,
        company_id,
    )
    assert (changed.version, changed.updated_at) == (2, T0 + timedelta(minutes=1))


def test_profile_change_that_changes_nothing_is_none() -> None:
    customer = new_customer()
    assert rules.change_customer_profile(customer, {"email": "BUDI@example.co.id "}) is None
    assert rules.change_customer_profile(customer, {}) is None


def test_profile_change_refuses_removing_the_name_and_bad_values() -> None:
    customer = new_customer()
    with pytest.raises(InvalidCustomerData, match="needs a name"):
        rules.change_customer_profile(customer, {"name": None})
    with pytest.raises(InvalidCustomerData, match="not an IPv4 or IPv6"):
        rules.change_customer_profile(customer, {"ip_address": "localhost"})
    with pytest.raises(InvalidCustomerData, match="company_id 'acme' is not a UUID"):
        rules.change_customer_profile(customer, {"company_id": "acme"})
    with pytest.raises(InvalidCustomerData, match="unknown contact field 'shoe_size'"):
        rules.change_customer_profile(customer, {"shoe_size": "44"})


def test_tags_change_to_exactly_the_given_set() -> None:
    customer = new_customer()  # vip, jakarta
    event = rules.change_customer_tags(customer, ["Jakarta", "reseller", "RESELLER"])
    assert event == CustomerTagsChanged(added=("reseller",), removed=("vip",))
    assert event is not None
    changed = rules.apply_customer(customer, customer.id, event, T0)
    assert changed.tags == ("jakarta", "reseller")
    assert rules.change_customer_tags(changed, ["reseller", "jakarta"]) is None


def test_replay_folds_in_order_and_unknown_history_is_not_found() -> None:
    customer_id = uuid.uuid4()
    history: list[tuple[DomainEvent, datetime]] = [
        (CustomerRegistered(name="Sari", email="Sari@Example.com"), T0),
        (CustomerTagsChanged(added=("a", "b")), T0),
        (CustomerTagsChanged(removed=("a",), added=("c",)), T0),
        (
            CustomerProfileChanged(
                changes=(CustomerFieldChange(field="job_title", old=None, new="CFO"),)
            ),
            T0,
        ),
    ]
    customer = rules.replay_customer(customer_id, history)
    assert (customer.version, customer.email, customer.tags, customer.job_title) == (
        4,
        "sari@example.com",
        ("b", "c"),
        "CFO",
    )
    with pytest.raises(CustomerNotFound):
        rules.replay_customer(customer_id, [])
    with pytest.raises(ValueError, match="before registration"):
        rules.apply_customer(None, customer_id, CustomerTagsChanged(added=("x",)), T0)


# --- companies --------------------------------------------------------------------------------


def test_company_register_and_edit() -> None:
    company = new_company()
    assert (company.name, company.website, company.phone) == ("PT Maju", "https://maju.co.id", None)
    event = rules.change_company_profile(
        company, {"city": "Jakarta", "website": "", "name": "PT Maju"}
    )
    assert event == CompanyProfileChanged(
        changes=(
            CompanyFieldChange(field="city", old="Bandung", new="Jakarta"),
            CompanyFieldChange(field="website", old="https://maju.co.id", new=None),
        )
    )
    changed = rules.apply_company(company, company.id, event, T0)
    assert (changed.city, changed.website, changed.name, changed.version) == (
        "Jakarta",
        None,
        "PT Maju",
        2,
    )
    assert rules.change_company_profile(changed, {"city": " Jakarta "}) is None


def test_company_needs_a_name_and_known_fields() -> None:
    with pytest.raises(InvalidCustomerData, match="a company needs a name"):
        rules.register_company(name=" ")
    company = new_company()
    with pytest.raises(InvalidCustomerData, match="a company needs a name"):
        rules.change_company_profile(company, {"name": ""})
    with pytest.raises(InvalidCustomerData, match="unknown company field 'email'"):
        rules.change_company_profile(company, {"email": "x@y.z"})
    with pytest.raises(CompanyNotFound):
        rules.replay_company(uuid.uuid4(), [])


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https://",
        "https://exa mple.com",
        'https://example.com/"onmouseover="alert(1)',
        "http://[::1",
        "https://exa\x00mple.com",
    ],
)
def test_a_company_website_is_an_http_url_only(website: str) -> None:
    """Issue #11: a website is rendered as a link, so only http(s) URLs are stored."""
    with pytest.raises(InvalidCustomerData, match="website"):
        rules.register_company(name="PT Maju", website=website)
    company = rules.apply_company(
        None, uuid.uuid4(), rules.register_company(name="PT Maju"), datetime.now(UTC)
    )
    with pytest.raises(InvalidCustomerData, match="website"):
        rules.change_company_profile(company, {"website": website})


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("maju.co.id", "https://maju.co.id"),
        ("http://maju.co.id/kontak", "http://maju.co.id/kontak"),
        ("HTTPS://Maju.co.id", "HTTPS://Maju.co.id"),
        ("  ", None),
    ],
)
def test_a_company_website_keeps_http_urls(given: str, stored: str | None) -> None:
    assert rules.register_company(name="PT Maju", website=given).website == stored
