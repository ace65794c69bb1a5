"""CompanySharing: which company's tickets a customer sees, the one answer the tickets' and the
portal's use cases share (the reader port replaced a late-bound lambda between the two)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from helpdesk_platform.auth import Principal, Role
from ticket_service.domain.customers import Customer
from ticket_service.service_layer.company_sharing import CompanySharing

COMPANY = uuid.uuid4()
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RECORD = Customer(
    id=uuid.uuid4(), version=1, name="Budi", email="budi@example.co.id", phone=None, tags=(),
    gender=None, channel=None, ip_address=None, company_id=COMPANY, job_title=None, role=None,
    created_at=T0, updated_at=T0,
)  # fmt: skip


class Records:
    def __init__(self, record: Customer | None) -> None:
        self.record = record
        self.reads = 0

    async def own_record(self, who: Principal) -> Customer | None:
        self.reads += 1
        return self.record


class Companies:
    def __init__(self, sharing: set[uuid.UUID]) -> None:
        self.sharing = sharing

    async def company_shares_tickets(self, company_id: uuid.UUID) -> bool:
        return company_id in self.sharing


def customer() -> Principal:
    return Principal(subject=str(uuid.uuid4()), role=Role.CUSTOMER)


async def test_a_customer_of_a_sharing_company_gets_it() -> None:
    sharing = CompanySharing(Records(RECORD), Companies({COMPANY}))
    assert await sharing.shared_company(customer()) == COMPANY


async def test_no_company_when_it_does_not_share_or_there_is_none() -> None:
    assert (
        await CompanySharing(Records(RECORD), Companies(set())).shared_company(customer()) is None
    )
    no_company = replace(RECORD, company_id=None)
    sharing = CompanySharing(Records(no_company), Companies({COMPANY}))
    assert await sharing.shared_company(customer()) is None
    assert (
        await CompanySharing(Records(None), Companies({COMPANY})).shared_company(customer()) is None
    )


async def test_staff_never_get_a_shared_company() -> None:
    records = Records(RECORD)
    sharing = CompanySharing(records, Companies({COMPANY}))
    agent = Principal(subject=str(uuid.uuid4()), role=Role.AGENT)
    assert await sharing.shared_company(agent) is None
    assert records.reads == 0


async def test_answers_are_cached_until_a_change_is_forgotten() -> None:
    records, companies = Records(RECORD), Companies({COMPANY})
    sharing = CompanySharing(records, companies)
    who = customer()
    assert await sharing.shared_company(who) == COMPANY
    companies.sharing.clear()  # the manager stops sharing
    assert await sharing.shared_company(who) == COMPANY and records.reads == 1
    sharing.forget()
    assert await sharing.shared_company(who) is None and records.reads == 2
