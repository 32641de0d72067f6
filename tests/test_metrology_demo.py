"""The metrology demo (issue 18, "Done when"): loaded with the demo accounts, it holds instruments
of several kinds — the demo business's and a household's — some verified, some ending within the
reminder window, some overdue, one failed, one whose stamp was reported lost; the sweep has run,
so the business was reminded and the officers' list has warnings; the verification body's fixed
demo key reports. Loaded the week before Tết, when the reminder window stretches over the days off."""

from __future__ import annotations

import pytest
import time_machine
from sqlmodel import func, select

from tests.support import local
from tests.test_metrology import send, taxi
from workflows.db import reading
from workflows.demo import BUSINESS, SPECIALIST, create_demo_accounts, demo_user
from workflows.metrology import alerts, listing, registry, warning_list
from workflows.metrology.demo import DEMO_API_KEY, HOUSEHOLD_NAME, LOST_STAMP, create_metrology_demo
from workflows.metrology.models import Instrument
from workflows.outbox import OutboxEvent


@pytest.fixture
def before_tet():  # type: ignore[no-untyped-def]
    with time_machine.travel(local(2027, 2, 1, 8, 0), tick=False) as travel:
        yield travel


def test_the_demo_holds_instruments_in_every_state_warnings_and_a_body_key(client, rt, before_tet):
    create_demo_accounts(rt)
    assert create_metrology_demo(rt) is True

    mine = listing.own_by_urgency(rt, demo_user(rt, BUSINESS))
    assert mine.counts == {
        registry.OVERDUE: 1,
        registry.FAILED: 1,
        registry.NEVER: 0,
        registry.EXPIRING: 2,
        registry.VERIFIED_STATUS: 1,
    }
    with reading(rt.engine) as session:
        kinds = session.exec(select(func.count(func.distinct(Instrument.kind)))).one()
        households = session.exec(select(Instrument).where(Instrument.owner_type == "household")).all()
    assert kinds >= 5 and len(households) == 3
    assert alerts.counts(rt)["expiring_soon"] >= 1

    with reading(rt.engine) as session:
        reminded = session.exec(
            select(OutboxEvent.payload).where(OutboxEvent.type == alerts.REMINDER_EVENT)
        ).all()
    # The technical balance ends in a week: its owner (the demo business's account) was reminded.
    assert "KB-7781" in {p["serial_number"] for p in reminded}
    warnings = warning_list.warnings(rt, demo_user(rt, SPECIALIST)).items
    causes = sorted(row.warning.cause for row in warnings)
    assert causes == ["failed", "overdue", "overdue", "stamp_lost"]

    lost = client.get(f"/api/public/stamps/{LOST_STAMP}").json()
    assert lost["lost"] is True and lost["valid"] is False and lost["owner_name"] is None
    assert HOUSEHOLD_NAME not in client.get(f"/api/public/stamps/{LOST_STAMP}").text

    sent = send(
        client,
        DEMO_API_KEY,
        taxi(owner_tax_code="3200123452", verified_on="29/01/2027", valid_until="28/07/2028"),
    )
    assert sent.status_code == 201, sent.text

    assert create_metrology_demo(rt) is False  # loaded once: a second run adds nothing
    assert len(warning_list.warnings(rt, demo_user(rt, SPECIALIST)).items) == 4
