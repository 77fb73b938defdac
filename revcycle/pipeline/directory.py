"""The routing :class:`~revcycle.pipeline.routing.Directory` over the pipeline's tables.

Submissions, claims and payers are read from the database. Which tenant a provider (NPI,
tax id) belongs to is passed in, as a mapping or a function (``npis``: NPI -> tenant,
``tins``: tax id -> tenants); :func:`directory_for` passes the tenants' registered billing
providers (``revcycle.pipeline.tenants``).

``payer_aliases`` maps other names of a payer to its id: the receiver ids of the payer
modules (:func:`payer_aliases`) and the TRN03 payer ids of its 835s, which no table holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revcycle.db.bulk import CHUNK, among
from revcycle.db.models import Claim, Payer, Submission
from revcycle.payers import PayerDefinition
from revcycle.pipeline.resources import Resources
from revcycle.pipeline.routing import SubmissionRef
from revcycle.pipeline.tenants import tenant_of_npi, tenant_of_tin

NpiLookup = Mapping[str, str] | Callable[[str], str | None]
TinLookup = Mapping[str, Collection[str]] | Callable[[str], Collection[str]]


def payer_aliases(definitions: Iterable[PayerDefinition]) -> dict[str, str]:
    """Receiver id (ISA08 of what we send, ISA06 of what the payer answers) -> payer id,
    for the receiver ids one payer module alone uses (a clearinghouse's serves many)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for definition in definitions:
        owners[definition.receiver_id].add(definition.payer_id)
    return {receiver: next(iter(ids)) for receiver, ids in owners.items() if len(ids) == 1}


class DatabaseDirectory:
    """Answers the router from the database (``sessions``: ``Resources.sessions``)."""

    def __init__(self, sessions: Callable[[], Session], *, npis: NpiLookup | None = None,
                 tins: TinLookup | None = None,
                 payer_aliases: Mapping[str, str] | None = None) -> None:
        self.sessions = sessions
        self._npis = npis or {}
        self._tins = tins or {}
        self._aliases = dict(payer_aliases or {})

    def tenant_of_npi(self, npi: str) -> str | None:
        lookup = self._npis
        return lookup.get(npi) if isinstance(lookup, Mapping) else lookup(npi)

    def tenants_of_tin(self, tin: str) -> set[str]:
        lookup = self._tins
        return set(lookup.get(tin, ()) if isinstance(lookup, Mapping) else lookup(tin))

    def submissions_of_group(self, group_control_number: str) -> list[SubmissionRef]:
        # Written without leading zeros (GS06 has no fixed width); a payer may add them.
        number = group_control_number.lstrip("0") or "0"
        with self.sessions() as session:
            rows = session.scalars(select(Submission).where(
                Submission.group_control_number == number).order_by(Submission.id))
            return [SubmissionRef(s.id, s.tenant_id, s.batch_id, s.payer_id,
                                  frozenset(s.transaction_control_numbers)) for s in rows]

    def claims_of(self, patient_control_numbers: Collection[str],
                  payer_id: str | None = None) -> dict[str, set[str]]:
        return self._owners(Claim.patient_control_number, patient_control_numbers, payer_id)

    def claims_of_payer_numbers(self, numbers: Collection[str],
                                payer_id: str | None = None) -> dict[str, set[str]]:
        return self._owners(Claim.payer_claim_control_number, set(numbers) - {""}, payer_id)

    def payer_of(self, value: str) -> str | None:
        value = value.strip()
        if not value:
            return None
        if value in self._aliases:
            return self._aliases[value]
        with self.sessions() as session:
            if session.get(Payer, value) is not None:
                return value
            named = session.scalars(select(Payer.id).where(
                func.upper(Payer.name) == value.upper()).limit(2)).all()
        return named[0] if len(named) == 1 else None

    def _owners(self, column: Any, values: Collection[str],
                payer_id: str | None) -> dict[str, set[str]]:
        numbers = sorted(values)
        owners: dict[str, set[str]] = defaultdict(set)
        with self.sessions() as session:
            for start in range(0, len(numbers), CHUNK):
                query = select(column, Claim.tenant_id).distinct().where(
                    among(session, column, numbers[start:start + CHUNK]))
                if payer_id is not None:
                    query = query.where(Claim.payer_id == payer_id)
                for number, tenant in session.execute(query):
                    owners[number].add(tenant)
        return dict(owners)


def directory_for(res: Resources, payers: Iterable[PayerDefinition]) -> DatabaseDirectory:
    """The installation's directory: its submissions, claims and payers, the payer
    modules' receiver ids as payer aliases, the tenants' registered billing providers."""
    def npi_owner(npi: str) -> str | None:
        with res.sessions() as session:
            return tenant_of_npi(session, npi)

    def tin_owners(tin: str) -> tuple[str, ...]:
        with res.sessions() as session:
            return tenant_of_tin(session, tin).tenants

    return DatabaseDirectory(res.sessions, npis=npi_owner, tins=tin_owners,
                             payer_aliases=payer_aliases(payers))
