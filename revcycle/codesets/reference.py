"""Reference tables that operators load from CMS files: HCPCS Level II, NCCI
procedure-to-procedure edits, medically unlikely edits (MUE).

They carry AMA CPT content and are never shipped, so a rule that needs one asks this
interface, and gets ``None`` when the table is not loaded: the rule then reports that it
did not run, and never passes silently.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol


class ReferenceData(Protocol):
    def loaded(self, table: str, claim_type: str | None = None) -> bool:
        """Whether ``table`` ("hcpcs", "ncci_ptp", "mue") holds data (for ``claim_type``,
        "837P" or "837I", when given: NCCI and MUE come per claim type)."""
        ...

    def hcpcs_active(self, code: str, on: date) -> bool | None:
        """Whether a HCPCS Level II code is active on a date; None when not loaded."""
        ...

    def ncci_modifier_indicator(self, column1: str, column2: str, on: date,
                                claim_type: str = "837P") -> str | None:
        """The NCCI PTP edit's modifier indicator ("0", "1", "9") for a code pair in
        effect on a date (practitioner edits for 837P, hospital outpatient for 837I);
        None when there is no such edit or the table is not loaded."""
        ...

    def mue_limit(self, code: str, on: date, claim_type: str) -> Decimal | None:
        """Most units of service a payer accepts for a code on a date (practitioner
        table for 837P, outpatient hospital for 837I); None when unknown."""
        ...


class NoReferenceData:
    """Nothing loaded: every lookup answers None."""

    def loaded(self, table: str, claim_type: str | None = None) -> bool:
        return False

    def hcpcs_active(self, code: str, on: date) -> bool | None:
        return None

    def ncci_modifier_indicator(self, column1: str, column2: str, on: date,
                                claim_type: str = "837P") -> str | None:
        return None

    def mue_limit(self, code: str, on: date, claim_type: str) -> Decimal | None:
        return None
