"""Claims as a CSV file, for provider clients that cannot produce X12.

One row per service line; the claim's columns repeat on each of its lines, and
consecutive rows with the same ``patient_control_number`` make one claim. The header must
be exactly ``CSV_COLUMNS`` (the README documents each column). Dates are ISO
(YYYY-MM-DD), money is a plain decimal, lists (diagnoses, modifiers, pointers) are
space-separated. Empty patient columns mean the patient is the subscriber.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Payer,
    Provider,
    ServiceLine,
    Subscriber,
)
from revcycle.x12.charset import decode_text

CSV_COLUMNS: tuple[str, ...] = (
    "patient_control_number", "claim_type", "total_charge", "facility_code",
    "frequency_code", "original_claim_reference", "payer_id", "payer_name",
    "billing_npi", "billing_name", "billing_tax_id", "billing_taxonomy", "billing_address",
    "billing_city", "billing_state", "billing_postal_code",
    "subscriber_member_id", "subscriber_last_name", "subscriber_first_name",
    "subscriber_birth_date", "subscriber_sex", "subscriber_address", "subscriber_city",
    "subscriber_state", "subscriber_postal_code", "group_number", "claim_filing_indicator",
    "patient_relationship", "patient_last_name", "patient_first_name", "patient_birth_date",
    "patient_sex", "patient_address", "patient_city", "patient_state", "patient_postal_code",
    "rendering_npi", "rendering_last_name", "rendering_first_name",
    "attending_npi", "attending_last_name", "attending_first_name",
    "facility_npi", "facility_name", "facility_address", "facility_city", "facility_state",
    "facility_postal_code",
    "diagnoses", "admitting_diagnosis", "statement_from", "statement_to",
    "admission_type", "admission_source", "patient_status",
    "line_control_number", "procedure_code", "modifiers", "revenue_code", "charge", "units",
    "service_date", "place_of_service", "diagnosis_pointers",
)
CSV_HEADER_START = ",".join(CSV_COLUMNS[:3])
# The claim's own columns, repeated on each of its lines; the rest describe the line.
CLAIM_COLUMNS = CSV_COLUMNS[:CSV_COLUMNS.index("line_control_number")]


class CsvClaimError(Exception):
    """A claims CSV that cannot be read; names the row and column, never the value."""

    def __init__(self, reason: str, row: int | None = None, column: str | None = None) -> None:
        where = f" (row {row}{f', column {column}' if column else ''})" if row else ""
        super().__init__(f"{reason}{where}")
        self.reason, self.row, self.column = reason, row, column

    def to_dict(self) -> dict[str, object]:
        return {"error": "CsvClaimError", "code": "CSV", "reason": self.reason,
                "row": self.row, "column": self.column}


class _Row:
    __slots__ = ("number", "values")

    def __init__(self, number: int, values: dict[str, str]) -> None:
        self.number, self.values = number, values

    def text(self, column: str, required: bool = False) -> str:
        value = self.values[column].strip()
        if required and not value:
            raise CsvClaimError("required value is empty", self.number, column)
        return value

    def money(self, column: str) -> Decimal:
        try:
            value = Decimal(self.text(column, required=True))
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise CsvClaimError("not a decimal number", self.number, column)
        return value

    def day(self, column: str, required: bool = False) -> date | None:
        value = self.text(column, required)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CsvClaimError("not a YYYY-MM-DD date", self.number, column) from None

    def words(self, column: str) -> tuple[str, ...]:
        return tuple(self.text(column).split())


def read_csv_claims(data: bytes, defects: list[dict[str, object]] | None = None
                    ) -> list[Claim]:
    """The claims of a claims CSV. Bytes that are not UTF-8 are read as Windows-1252 (as
    in an 837; see :mod:`revcycle.x12.tokenizer`), with a ``NOT_UTF8`` defect appended
    to ``defects``."""
    text, undecoded = decode_text(data.removeprefix(b"\xef\xbb\xbf"))
    if undecoded and defects is not None:
        defects.append({"code": "NOT_UTF8", "message": "bytes that are not UTF-8 were read"
                        " as Windows-1252"})
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise CsvClaimError("the header is not the documented claims CSV header", 1)
    claims: list[Claim] = []
    group: list[_Row] = []
    for number, values in enumerate(reader, start=2):
        if None in values or any(v is None for v in values.values()):
            raise CsvClaimError("row has the wrong number of columns", number)
        row = _Row(number, values)
        if group and row.text("patient_control_number") != group[0].text(
                "patient_control_number"):
            claims.append(_claim(group))
            group = []
        group.append(row)
    if group:
        claims.append(_claim(group))
    return claims


def _address(row: _Row, prefix: str) -> Address | None:
    line1 = row.text(f"{prefix}_address")
    if not line1:
        return None
    return Address(line1, row.text(f"{prefix}_city"), row.text(f"{prefix}_state"),
                   row.text(f"{prefix}_postal_code"))


def _person(row: _Row, role: str) -> Provider | None:
    """The rendering or attending provider, when the row names one."""
    if not row.text(f"{role}_npi"):
        return None
    return Provider("1", row.text(f"{role}_last_name", required=True),
                    row.text(f"{role}_first_name"), npi=row.text(f"{role}_npi"))


def _claim(rows: Sequence[_Row]) -> Claim:
    first = rows[0]
    try:
        claim_type = ClaimType(first.text("claim_type", required=True))
    except ValueError:
        raise CsvClaimError("claim_type must be 837P or 837I", first.number,
                            "claim_type") from None
    pro = claim_type is ClaimType.PROFESSIONAL
    patient = None
    if first.text("patient_last_name"):
        patient = Patient(first.text("patient_last_name"), first.text("patient_first_name"),
                          first.text("patient_relationship", required=True),
                          first.day("patient_birth_date"), first.text("patient_sex"),
                          address=_address(first, "patient"))
    rendering = _person(first, "rendering")
    attending = _person(first, "attending")
    facility = None
    if first.text("facility_name"):
        facility = Provider("2", first.text("facility_name"), npi=first.text("facility_npi"),
                            address=_address(first, "facility"))
    claim = Claim(
        claim_type=claim_type,
        patient_control_number=first.text("patient_control_number", required=True),
        total_charge=first.money("total_charge"),
        facility_code=first.text("facility_code", required=True),
        billing_provider=Provider(
            "2", first.text("billing_name", required=True), npi=first.text("billing_npi"),
            taxonomy=first.text("billing_taxonomy"), tax_id=first.text("billing_tax_id"),
            tax_id_qualifier="EI" if first.text("billing_tax_id") else "",
            address=_address(first, "billing")),
        subscriber=Subscriber(
            first.text("subscriber_last_name", required=True),
            first.text("subscriber_first_name"),
            first.text("subscriber_member_id", required=True),
            first.day("subscriber_birth_date"), first.text("subscriber_sex"),
            address=_address(first, "subscriber"), group_number=first.text("group_number"),
            claim_filing_indicator=first.text("claim_filing_indicator") or "CI"),
        payer=Payer(first.text("payer_name", required=True), first.text("payer_id",
                                                                          required=True)),
        diagnoses=first.words("diagnoses"),
        patient=patient,
        frequency_code=first.text("frequency_code") or "1",
        original_claim_reference=first.text("original_claim_reference"),
        provider_signature="Y" if pro else "",
        rendering_provider=rendering,
        attending_provider=attending,
        service_facility=facility,
        statement_from=first.day("statement_from"),
        statement_to=first.day("statement_to"),
        admission_type=first.text("admission_type"),
        admission_source=first.text("admission_source"),
        patient_status=first.text("patient_status"),
        admitting_diagnosis=first.text("admitting_diagnosis"),
    )
    for row in rows[1:]:
        # Rows that disagree are not one claim (two claims sharing a control number, or
        # an edit applied to some lines only): taking the first row's values would bill
        # lines under the wrong claim.
        for column in CLAIM_COLUMNS:
            if row.text(column) != first.text(column):
                raise CsvClaimError("a claim column differs from the claim's first row",
                                    row.number, column)
    for row in rows:
        pointers = row.words("diagnosis_pointers")
        if not all(p.isascii() and p.isdigit() for p in pointers):
            raise CsvClaimError("diagnosis pointers must be numbers", row.number,
                                "diagnosis_pointers")
        claim.service_lines.append(ServiceLine(
            procedure_code=row.text("procedure_code"),
            charge=row.money("charge"),
            units=row.money("units"),
            service_date=row.day("service_date", required=True),
            modifiers=row.words("modifiers"),
            place_of_service=row.text("place_of_service"),
            diagnosis_pointers=tuple(int(p) for p in pointers),
            revenue_code=row.text("revenue_code"),
            line_control_number=row.text("line_control_number"),
        ))
    return claim


def write_csv_claims(claims: Sequence[Claim]) -> bytes:
    """The CSV form of claims (what the simulator drops for CSV-submitting clients)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for claim in claims:
        writer.writerows(_rows(claim))
    return out.getvalue().encode()


def _rows(claim: Claim) -> list[list[str]]:
    b, s, p = claim.billing_provider, claim.subscriber, claim.patient
    r, a, f = claim.rendering_provider, claim.attending_provider, claim.service_facility
    ba, sa, pa = b.address, s.address, p.address if p else None
    fa = f.address if f else None
    head = [
        claim.patient_control_number, claim.claim_type.value, str(claim.total_charge),
        claim.facility_code, claim.frequency_code, claim.original_claim_reference,
        claim.payer.payer_id, claim.payer.name, b.npi, b.last_name, b.tax_id, b.taxonomy,
        ba.line1 if ba else "", ba.city if ba else "", ba.state if ba else "",
        ba.postal_code if ba else "", s.member_id, s.last_name, s.first_name,
        s.birth_date.isoformat() if s.birth_date else "", s.sex, sa.line1 if sa else "",
        sa.city if sa else "", sa.state if sa else "", sa.postal_code if sa else "",
        s.group_number, s.claim_filing_indicator, p.relationship if p else "",
        p.last_name if p else "", p.first_name if p else "",
        p.birth_date.isoformat() if p and p.birth_date else "", p.sex if p else "",
        pa.line1 if pa else "", pa.city if pa else "", pa.state if pa else "",
        pa.postal_code if pa else "",
        r.npi if r else "", r.last_name if r else "", r.first_name if r else "",
        a.npi if a else "", a.last_name if a else "", a.first_name if a else "",
        f.npi if f else "", f.last_name if f else "", fa.line1 if fa else "",
        fa.city if fa else "", fa.state if fa else "", fa.postal_code if fa else "",
        " ".join(claim.diagnoses), claim.admitting_diagnosis,
        claim.statement_from.isoformat() if claim.statement_from else "",
        claim.statement_to.isoformat() if claim.statement_to else "",
        claim.admission_type, claim.admission_source, claim.patient_status,
    ]
    return [[*head, line.line_control_number, line.procedure_code, " ".join(line.modifiers),
             line.revenue_code, str(line.charge), str(line.units),
             line.service_date.isoformat() if line.service_date else "",
             line.place_of_service, " ".join(str(n) for n in line.diagnosis_pointers)]
            for line in claim.service_lines]
