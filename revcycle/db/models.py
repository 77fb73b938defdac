"""The database schema (SQLAlchemy 2 ORM). Alembic migrations in ``migrations/`` build it.

A claim's full content stays in its raw file in the object store (PHI lives there and
here only); a claim row carries what the stages query and report on, and the raw file and
ordinal that rebuild the whole claim. Money columns are exact (see ``Money``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

CENT = Decimal("0.01")


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(14,2) where the database has it, integer cents on SQLite
    (whose NUMERIC is a float). Python always sees a ``Decimal``."""

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(CENT)
        return int(value * 100) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, Decimal: Money}


def _now() -> datetime:
    return datetime.now()


class Installation(Base):
    """One row: this database's identity, made when it is created. Cached pipeline steps
    are keyed on it, so a new or restored database never reuses another one's results."""

    __tablename__ = "installation"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Tenant(Base):
    """A provider client of the billing vendor."""

    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class BillingProvider(Base):
    """A tenant's billing provider (the 2010AA loop of its claims). An NPI is one tenant's in
    the installation, so an NPI on an 835 or an 837 names one tenant; a tax id may be
    several NPIs' (a group's practices)."""

    __tablename__ = "billing_providers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    npi: Mapped[str] = mapped_column(String(10), unique=True)
    tin: Mapped[str] = mapped_column(String(9), index=True)  # EIN or SSN: nine digits
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Payer(Base):
    __tablename__ = "payers"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # the payer id (NM109)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40))


class Batch(Base):
    """One tenant's business day: the unit every stage runs on."""

    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class File(Base):
    """Every object ingested or received: where it is, what it was, what became of it."""

    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("tenant_id", "direction", "sha256"),
                      Index("ix_files_tenant_isa13", "tenant_id", "interchange_control_number"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    direction: Mapped[str] = mapped_column(String(10))  # "in" from providers/payers
    sha256: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(400))
    source_key: Mapped[str] = mapped_column(String(400))  # where it was found
    size: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(20), default="")  # 837P, 837I, CSV, 999, ...
    status: Mapped[str] = mapped_column(String(20))  # RAW, QUARANTINED, PROCESSED
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    # Departures from the standard the file was read despite (code, message, segment
    # number, byte offset: never a value), as ``revcycle x12 inspect`` lists them.
    defects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Landing keys the same content arrived under later (provider-chosen names: kept here
    # only, never shown).
    other_source_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ISA13 of the file's first interchange: a later file reusing it is a defect.
    interchange_control_number: Mapped[str] = mapped_column(String(9), default="")


class Claim(Base):
    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_batch_status", "batch_id", "status"),
        Index("ix_claims_tenant_pcn", "tenant_id", "patient_control_number"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    ordinal: Mapped[int] = mapped_column(Integer)  # position of the claim in its file
    payer_id: Mapped[str] = mapped_column(ForeignKey("payers.id"))
    claim_type: Mapped[str] = mapped_column(String(4))
    patient_control_number: Mapped[str] = mapped_column(String(38))
    frequency_code: Mapped[str] = mapped_column(String(1))
    billing_npi: Mapped[str] = mapped_column(String(10))
    service_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    total_charge: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))
    duplicate_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"),
                                                      nullable=True, index=True)
    payer_claim_control_number: Mapped[str] = mapped_column(String(50), default="")
    paid: Mapped[Decimal] = mapped_column(default=Decimal(0))
    adjusted: Mapped[Decimal] = mapped_column(default=Decimal(0))
    patient_responsibility: Mapped[Decimal] = mapped_column(default=Decimal(0))
    # SBR01 as we sent it: P primary, S secondary, T tertiary ("" if ingested before 0017).
    payer_responsibility: Mapped[str] = mapped_column(String(1), default="",
                                                      server_default="")
    # On a secondary/tertiary claim we made: the claim the prior payer adjudicated (0021).
    # At most one per prior claim (0022: the index is unique).
    prior_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True,
                                                       index=True, unique=True)
    # The payer the claim's content names after this one (a 2320 loop, SBR01 S or T, not
    # adjudicated yet), "" when none: posting bills it the patient's share (0022).
    next_payer_id: Mapped[str] = mapped_column(String(80), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)
    lines: Mapped[list[ServiceLine]] = relationship(back_populates="claim",
                                                    order_by="ServiceLine.line_number")


class ServiceLine(Base):
    __tablename__ = "service_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    procedure_code: Mapped[str] = mapped_column(String(10), default="")
    revenue_code: Mapped[str] = mapped_column(String(4), default="")
    modifiers: Mapped[str] = mapped_column(String(20), default="")
    charge: Mapped[Decimal]
    units: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    service_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    line_control_number: Mapped[str] = mapped_column(String(50), default="")
    paid: Mapped[Decimal] = mapped_column(default=Decimal(0))
    claim: Mapped[Claim] = relationship(back_populates="lines")


class ClaimEvent(Base):
    """One status change of one claim: the claim's history, never overwritten."""

    __tablename__ = "claim_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class ClaimVersion(Base):
    """One version of a claim's content, written when the claim is first corrected or
    re-checked (version 1 is then the provider's file as read, kept whole) and at each
    correction after. ``diff`` lists the field paths that changed from the previous
    version and how (``changed``, ``added``, ``removed``), never values: the values are in
    ``content``. ``batch_id`` is the batch the claim was put in by this version."""

    __tablename__ = "claim_versions"
    __table_args__ = (UniqueConstraint("claim_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(20))  # provider-file, biller, recheck
    changed_by: Mapped[str] = mapped_column(String(60), default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    diff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))


class Edit(Base):
    """A finding on a claim: a failed expectation, a scrub edit, a payer rejection."""

    __tablename__ = "edits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    line_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stage: Mapped[str] = mapped_column(String(20))  # quality, scrub, acknowledgment
    rule_id: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(60), default="")
    code_set: Mapped[str] = mapped_column(String(40), default="")  # release checked against


class ControlNumber(Base):
    """The sequences X12 control numbers come from (ISA13, GS06, ST02)."""

    __tablename__ = "control_numbers"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger)


class Submission(Base):
    """The outbox: the intent to send a file is recorded before the file is sent, and its
    interchange control number is the idempotency key, so a retry never sends twice."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    payer_id: Mapped[str] = mapped_column(ForeignKey("payers.id"))
    claim_type: Mapped[str] = mapped_column(String(4))
    interchange_control_number: Mapped[str] = mapped_column(String(9), unique=True)
    group_control_number: Mapped[str] = mapped_column(String(9))
    transaction_control_numbers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    key: Mapped[str] = mapped_column(String(400))
    claim_count: Mapped[int] = mapped_column(Integer)
    total_charge: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))  # PENDING, SENDING, SENT
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The run that claimed the send (PENDING -> SENDING) and when: one run sends; another
    # takes over only once that claim is older than the send lease (its sender died).
    sending_run: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sending_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Claims to send so far: a submission tried before asks the payer's channels whether
    # they have it before it is sent again. Then the channel that took it, and its name
    # for the file.
    send_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_via: Mapped[str | None] = mapped_column(String(40), nullable=True)
    remote_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class MailboxFile(Base):
    """A file collected from a payer's channel, kept as it came (tenant-neutral): routed by
    what it says, one transaction set at a time (``mailbox_routes``)."""

    __tablename__ = "mailbox_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    payer_id: Mapped[str] = mapped_column(String(80))  # whose channel it came from
    channel: Mapped[str] = mapped_column(String(40))
    remote_name: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(400))
    size: Mapped[int] = mapped_column(BigInteger)
    collected_on: Mapped[date] = mapped_column(Date)
    collected_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    status: Mapped[str] = mapped_column(String(20))  # COLLECTED, ROUTED, PARTLY_ROUTED, ...


class MailboxRoute(Base):
    """Where one transaction set of a mailbox file went: a tenant (its piece in the
    tenant's inbound zone), or nowhere, with the reason (the unrouted queue)."""

    __tablename__ = "mailbox_routes"
    __table_args__ = (UniqueConstraint("file_id", "set_index"),
                      Index("ix_mailbox_routes_tenant_payer_kind", "tenant_id", "payer_id",
                            "kind"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("mailbox_files.id"))
    set_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # 999, 277CA, 835 ("" if unreadable)
    control_number: Mapped[str] = mapped_column(String(9), default="")  # ST02
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), nullable=True)
    payer_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    key: Mapped[str | None] = mapped_column(String(400), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matched_by: Mapped[str | None] = mapped_column(String(400), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str | None] = mapped_column(String(400), nullable=True)
    routed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Acknowledgment(Base):
    __tablename__ = "acknowledgments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"),
                                                      nullable=True)
    kind: Mapped[str] = mapped_column(String(10))  # 999, 277CA
    status: Mapped[str] = mapped_column(String(10))
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)


class Remittance(Base):
    """One 835 transaction set. A posted (tenant, payer, trace number) makes a re-import a
    no-op; a held one does not, so the payer's corrected re-send under the same trace posts.
    Another tenant's trace number is not this tenant's: it never makes an 835 a duplicate."""

    __tablename__ = "remittances"
    __table_args__ = (
        Index("uq_remittances_posted_trace", "tenant_id", "payer_id", "trace_number",
              unique=True,
              sqlite_where=text("status = 'POSTED'"),
              postgresql_where=text("status = 'POSTED'")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    payer_id: Mapped[str] = mapped_column(ForeignKey("payers.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    trace_number: Mapped[str] = mapped_column(String(50))
    payment_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    total_paid: Mapped[Decimal]  # BPR02, signed: negative for a debit (BPR03 D)
    status: Mapped[str] = mapped_column(String(10))  # POSTED, HELD
    reason: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Payment(Base):
    """One claim of an 835 (a CLP): matched to our claim, or left for a human."""

    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True,
                                                 index=True)
    clp_index: Mapped[int] = mapped_column(Integer)
    claim_status_code: Mapped[str] = mapped_column(String(2))
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    patient_responsibility: Mapped[Decimal]
    payer_claim_control_number: Mapped[str] = mapped_column(String(50), default="")
    exception: Mapped[str] = mapped_column(String(200), default="")
    # Where the CLP is, so a biller working the exception queue can open the 835 at it.
    source_key: Mapped[str] = mapped_column(String(400), default="")
    segment_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # An exception a biller has worked (posted by hand, refunded, sent back to the payer):
    # when, by whom, and what was done. Open exceptions have no ``resolved_at``.
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(60), default="", server_default="")
    resolution: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Who posted it from the exception queue ("" for posting with no human step).
    posted_by: Mapped[str] = mapped_column(String(60), default="", server_default="")
    # Which rule matched the CLP to its claim and how its SVCs were matched to lines (see
    # revcycle.pipeline.matching); both "" for an exception.
    claim_match: Mapped[str] = mapped_column(String(30), default="", server_default="")
    line_match: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The payer a crossover claim (CLP02 19-21) was forwarded to (NM1*TT): an id and name.
    crossover_payer_id: Mapped[str] = mapped_column(String(80), default="", server_default="")
    crossover_payer_name: Mapped[str] = mapped_column(String(60), default="",
                                                      server_default="")
    # Why a CLP was recorded but not posted as a payment (a predetermination, CLP02 25).
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Adjustment(Base):
    __tablename__ = "adjustments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    line_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group_code: Mapped[str] = mapped_column(String(2))
    reason_code: Mapped[str] = mapped_column(String(5))
    amount: Mapped[Decimal]


class ProviderLevelAdjustment(Base):
    """One PLB adjustment of a posted remittance, and where posting put it: on a claim (a
    WO naming it), interest income (L6), the forwarding balance (FB), or provider-level
    adjustment and the PLB queue (``queued``) until a biller resolves it. See
    :mod:`revcycle.pipeline.plb`."""

    __tablename__ = "provider_adjustments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # which PLB pair of the remittance, from 0
    reason_code: Mapped[str] = mapped_column(String(5))  # PLB03-1
    reference: Mapped[str] = mapped_column(String(50), default="")  # PLB03-2
    amount: Mapped[Decimal]  # PLB04: positive withheld from the payment, negative added
    account: Mapped[str] = mapped_column(String(20))  # booked against CASH
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True)
    queued: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")  # why queued
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(60), default="")
    resolution: Mapped[str] = mapped_column(String(200), default="")


class LedgerEntry(Base):
    """Double entry: each posting writes balanced debits and credits; a claim's A/R is the
    sum of its entries on the ``AR`` account."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True,
                                                 index=True)
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittances.id"),
                                                      nullable=True)
    account: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal]  # debit positive, credit negative
    entry_date: Mapped[date] = mapped_column(Date)
    memo: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class WriteOff(Base):
    """A balance a biller wrote off: which receivable, how much, why (a reason code of
    ``revcycle.pipeline.writeoffs.REASONS``), a note, and who approved it. Its ledger
    entries (``WRITE_OFF`` debit, the receivable credit) are booked with it."""

    __tablename__ = "write_offs"
    __table_args__ = (Index("ix_write_offs_tenant_reason", "tenant_id", "reason"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    account: Mapped[str] = mapped_column(String(20))  # AR_DENIED, AR or PATIENT_AR
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str] = mapped_column(String(60))
    entry_date: Mapped[date] = mapped_column(Date)
    written_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


# Reference tables operators load from CMS files (``revcycle codesets load``). Each table
# holds one release per claim type: a load replaces the previous one, and ``code_set_loads``
# keeps the history (which file, its sha256, the release label, how many rows).


class CodeSetLoad(Base):
    """One file loaded into a reference table; the latest per (table, claim type) is current."""

    __tablename__ = "code_set_loads"
    __table_args__ = (Index("ix_code_set_loads_table_claim_type", "table_name", "claim_type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(20))  # "hcpcs", "ncci_ptp", "mue"
    claim_type: Mapped[str] = mapped_column(String(20), default="")  # "" for hcpcs
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    release: Mapped[str] = mapped_column(String(80))
    rows: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class HcpcsCode(Base):
    """A HCPCS Level II code and the dates it may be billed (no descriptors are stored)."""

    __tablename__ = "hcpcs_codes"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("code_set_loads.id"), index=True)
    add_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    action_effective_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # last day
    action_code: Mapped[str] = mapped_column(String(1), default="")


class NcciEdit(Base):
    """An NCCI procedure-to-procedure edit: column 2 is not paid with column 1 on one date
    unless the modifier indicator (0 never, 1 with a bypass modifier, 9 n/a) allows it."""

    __tablename__ = "ncci_edits"
    __table_args__ = (Index("ix_ncci_edits_pair", "claim_type", "column1", "column2"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("code_set_loads.id"), index=True)
    claim_type: Mapped[str] = mapped_column(String(20))  # professional, institutional
    column1: Mapped[str] = mapped_column(String(5))
    column2: Mapped[str] = mapped_column(String(5))
    effective_date: Mapped[date] = mapped_column(Date)
    deletion_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # first day off
    modifier_indicator: Mapped[str] = mapped_column(String(1))
    prior_1996: Mapped[bool] = mapped_column(default=False)


class MueLimit(Base):
    """A medically unlikely edit: the most units of a code a payer accepts (per line or per
    date of service, as the adjudication indicator says)."""

    __tablename__ = "mue_limits"
    __table_args__ = (UniqueConstraint("claim_type", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("code_set_loads.id"), index=True)
    claim_type: Mapped[str] = mapped_column(String(20))  # professional, institutional, dme
    code: Mapped[str] = mapped_column(String(5))
    mue_value: Mapped[int] = mapped_column(Integer)
    adjudication_indicator: Mapped[str] = mapped_column(String(1))  # 1 line, 2/3 date
    rationale: Mapped[str] = mapped_column(String(100), default="")
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    effective_to: Mapped[date | None] = mapped_column(Date, nullable=True)


class StageRun(Base):
    """Append-only: which run touched which batch, in which stage, when, and what it did
    (counts only: never a claim value). The code inserts rows and never updates or deletes
    them (``revcycle.pipeline.audit``); ``revcycle audit`` reads them."""

    __tablename__ = "stage_runs"
    __table_args__ = (Index("ix_stage_runs_tenant_at", "tenant_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64))  # the Prefect flow run, else the process
    stage: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[str] = mapped_column(String(100), index=True)
    tenant_id: Mapped[str] = mapped_column(String(64))
    payer_id: Mapped[str] = mapped_column(String(80), default="")  # "" for a whole batch
    at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
