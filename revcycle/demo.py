"""The demo's business day: provider clients' files dropped in landing, as they would be.

Generates a day of synthetic claims (default 2,000) for several tenants and payers, drops
each tenant's 837P and 837I files (and, for one tenant, a claims CSV) into its landing
zone, plus one malformed file that ingest must quarantine. The daily flow does the rest.
Given the installation's sessions, it first registers each tenant's billing providers
(idempotently), so its claims are checked against them at scrub (TENANT-01).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from revcycle.csvclaims import write_csv_claims
from revcycle.model.claim import ClaimType, Receiver
from revcycle.pipeline.tenants import register_providers
from revcycle.simulator import DEFAULT_PAYERS, ClaimFactory, PayerProfile
from revcycle.storage import ObjectStore, object_key
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
DEMO_TENANTS = ("northside", "lakeview", "riverbend")
DEMO_DATE = date(2026, 11, 2)
MALFORMED = b"ISA*00*NOT AN INTERCHANGE~GS*HC~"


@dataclass(frozen=True)
class DroppedDay:
    business_date: date
    tenants: tuple[str, ...]
    files: int
    claims: int
    defects: dict[str, tuple[str, ...]]  # patient control number -> seeded defect tags


def drop_business_day(store: ObjectStore, *, claims: int = 2000, seed: int = 7,
                      business_date: date = DEMO_DATE, tenants: tuple[str, ...] = DEMO_TENANTS,
                      payers: int | Sequence[PayerProfile] = 4,
                      defect_rate: float = 0.05,
                      sessions: sessionmaker[Session] | None = None,
                      cob_rate: float = 0.0) -> DroppedDay:
    """Drop the day's files; ``payers`` is how many of the simulator's payers the claims
    bill, or the payers' profiles themselves (see ``revcycle.simulator.profile_for``).
    With ``sessions``, each tenant's billing providers are registered first. ``cob_rate``:
    the share of each tenant's members with a second coverage, another of ``payers``
    (their claims carry it as a 2320 secondary payer, not yet paid)."""
    profiles = tuple(DEFAULT_PAYERS[:payers]) if isinstance(payers, int) else tuple(payers)
    files = 0
    defects: dict[str, tuple[str, ...]] = {}
    per_tenant = [claims // len(tenants) + (1 if i < claims % len(tenants) else 0)
                  for i in range(len(tenants))]
    for number, (tenant, count) in enumerate(zip(tenants, per_tenant, strict=True)):
        factory = ClaimFactory(seed + number, tenant.upper()[:8], as_of=business_date,
                               payers=profiles, cob_rate=cob_rate)
        if sessions is not None:
            _register(sessions, tenant, factory)
        day = factory.generate(count, defect_rate=defect_rate)
        defects.update(day.defects)
        header = InterchangeHeader(Party(f"{tenant.upper()[:12]}"), Party("REVCYCLE"),
                                   usage_indicator="T",
                                   created=datetime.combine(business_date, datetime.min.time()))
        numbers = CounterControlNumbers()
        batch = "drop"
        as_csv = number == len(tenants) - 1  # the last tenant sends its professional claims
        for claim_type in (ClaimType.PROFESSIONAL, ClaimType.INSTITUTIONAL):
            group = [c for c in day.claims if c.claim_type is claim_type]
            if not group:
                continue
            if as_csv and claim_type is ClaimType.PROFESSIONAL:
                body, name = write_csv_claims(group), "professional-claims.csv"
            else:
                written = write_837(group, header, numbers, factory.submitter,
                                    Receiver("REVCYCLE", "REVCYCLE"))
                body, name = written.text.encode(), f"{claim_type.value.lower()}-claims.x12"
            store.put(object_key(tenant, "landing", business_date, batch, name), body)
            files += 1
    store.put(object_key(tenants[0], "landing", business_date, "drop", "damaged.x12"),
              MALFORMED)
    return DroppedDay(business_date, tenants, files + 1, claims, defects)


def _register(sessions: sessionmaker[Session], tenant: str, factory: ClaimFactory) -> None:
    """The tenant's simulated billing providers, registered. An NPI another tenant has (two
    demo tenants simulated from the same seed and prefix on different runs) stays that
    tenant's, and this tenant's claims billed under it are TENANT-01's to reject."""
    with sessions() as session:
        for taken in register_providers(session, tenant,
                                        [(p.npi, p.tax_id, p.last_name)
                                         for p in factory.billing_providers]):
            log.warning("demo tenant %s: %s", tenant, taken)
        session.commit()
