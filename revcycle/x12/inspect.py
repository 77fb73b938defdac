"""A file's structure and defects, counted while streaming: what ``revcycle x12 inspect``
prints. Carries ids, control numbers and counts only, never claim content."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from revcycle.model.acknowledgment import ClaimStatus
from revcycle.model.claim import Claim
from revcycle.model.remittance import ClaimPayment, Remittance
from revcycle.x12.envelope import TransactionSet
from revcycle.x12.reader import open_reader
from revcycle.x12.tokenizer import Source


@dataclass(slots=True)
class SetSummary:
    set_id: str
    control_number: str
    version: str
    segments: int = 0
    claims: int = 0
    service_lines: int = 0
    claim_payments: int = 0
    provider_adjustments: int = 0
    acknowledged_sets: int = 0
    claim_statuses: int = 0


@dataclass(slots=True)
class GroupSummary:
    functional_id: str
    control_number: str
    version: str
    sets: list[SetSummary] = field(default_factory=list)


@dataclass(slots=True)
class InterchangeSummary:
    sender_id: str
    receiver_id: str
    control_number: str
    date: str
    usage_indicator: str
    groups: list[GroupSummary] = field(default_factory=list)


@dataclass(slots=True)
class FileSummary:
    interchanges: list[InterchangeSummary]
    defects: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(summary: SetSummary, item: object) -> None:
    if isinstance(item, Claim):
        summary.claims += 1
        summary.service_lines += len(item.service_lines)
    elif isinstance(item, ClaimPayment):
        summary.claim_payments += 1
        summary.service_lines += len(item.service_payments)
    elif isinstance(item, ClaimStatus):
        summary.claim_statuses += 1
    else:
        summary.acknowledged_sets += 1


def inspect_file(source: Source) -> FileSummary:
    """Summarize a file; raises ``X12Error`` when it cannot be read."""
    reader = open_reader(source)
    summaries: dict[int, SetSummary] = {}
    for item in reader.items():
        transaction = reader.transaction
        summary = summaries.get(id(transaction))
        if summary is None:
            summary = summaries[id(transaction)] = _new_summary(transaction)
        _count(summary, item)
    interchanges = []
    for interchange in reader.document.interchanges:
        groups = []
        for group in interchange.groups:
            sets = []
            for transaction in group.transactions:
                summary = summaries.get(id(transaction)) or _new_summary(transaction)
                summary.segments = transaction.segment_count
                if isinstance(transaction.body, Remittance):
                    summary.provider_adjustments = len(transaction.body.provider_adjustments)
                sets.append(summary)
            groups.append(GroupSummary(group.functional_id, group.control_number,
                                       group.version, sets))
        interchanges.append(InterchangeSummary(
            interchange.sender_id, interchange.receiver_id, interchange.control_number,
            interchange.date.isoformat() if interchange.date else "",
            interchange.usage_indicator, groups))
    return FileSummary(interchanges, [d.to_dict() for d in reader.document.defects])


def _new_summary(transaction: TransactionSet) -> SetSummary:
    return SetSummary(transaction.set_id, transaction.control_number,
                      transaction.implementation_reference)

