"""Routing a payer's answer by what it says: to the tenant (and payer) it is for.

Payer mailboxes are tenant-neutral (one per payer for the whole billing vendor), so where a
file came from says nothing about whose it is. Each transaction set is routed on its own
content, asking a :class:`Directory` what our records say:

- a **999** by the group it acknowledges (AK102 -> the submission that sent that GS06;
  group numbers come from one sequence, so they are unique in the installation), its AK202
  sets checked against the submission's sets and its sender (ISA06) against the
  submission's payer when the sender is a payer we know;
- a **277CA** by its receiver (2100B NM109 must be our submitter id), its source
  (2100A NM1*PR -> the payer) and its claims (2200D TRN02, our CLM01, and REF*1K, the
  payer's claim number) -> the tenants who sent them to that payer;
- an **835** by its payee (N1*PE NPI, else its tax id: N103 FI or REF*TJ) -> the tenant,
  and its payer (N1*PR N104, REF*2U, TRN03, else the N102 name); the payee's tenant must
  have sent some of the CLPs' claims to that payer, or none of them to anyone.

A set that routes nowhere, or to more than one place, is :class:`Unrouted` with a typed
:class:`Reason` and a sentence for an operator; nothing is dropped or guessed. Messages
name our ids, group numbers, NPIs, payer ids and counts, and a tax id by its last four
digits only: never a patient control number, name, member id or amount.

A file with several sets is split: each set is handed on in an interchange of its own
(:func:`revcycle.x12.split.split_sets`), so the stages read it like any payer file and no
tenant receives another's sets. A one-set file is handed on as it came.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from revcycle.model.acknowledgment import ClaimAckReport, FunctionalAck
from revcycle.model.remittance import Remittance, RemittancePayee
from revcycle.x12.ack277 import parse_277
from revcycle.x12.ack999 import parse_999
from revcycle.x12.envelope import Interchange, TransactionSet, X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.remit835 import parse_835
from revcycle.x12.split import split_sets

PARSERS = {"999": parse_999, "277": parse_277, "835": parse_835}
KINDS = {"999": "999", "277": "277CA", "835": "835"}  # ST01 -> the name the stages use


class Reason(StrEnum):
    """Why a file or set was not routed."""

    UNREADABLE = "UNREADABLE"  # not X12 we can read, or no transaction set in it
    UNSUPPORTED = "UNSUPPORTED"  # a set the mailbox does not take (an 837, a 834, ...)
    UNKNOWN_SUBMISSION = "UNKNOWN_SUBMISSION"  # a 999 for a group we never sent
    AMBIGUOUS_SUBMISSION = "AMBIGUOUS_SUBMISSION"  # a group number two submissions carry
    SET_MISMATCH = "SET_MISMATCH"  # a 999 naming sets its group never held
    NOT_FOR_US = "NOT_FOR_US"  # a 277CA for another information receiver
    UNKNOWN_PAYER = "UNKNOWN_PAYER"
    PAYER_MISMATCH = "PAYER_MISMATCH"  # the payer named and the claims' payer differ
    NO_MATCHING_CLAIMS = "NO_MATCHING_CLAIMS"
    AMBIGUOUS_CLAIMS = "AMBIGUOUS_CLAIMS"  # every claim matches the same several tenants
    MIXED_TENANTS = "MIXED_TENANTS"  # one set's claims belong to several tenants
    UNKNOWN_PAYEE = "UNKNOWN_PAYEE"
    AMBIGUOUS_PAYEE = "AMBIGUOUS_PAYEE"  # a tax id several tenants share, no NPI of ours
    PAYEE_MISMATCH = "PAYEE_MISMATCH"  # the payee's NPI, tax id or claims disagree


@dataclass(frozen=True, slots=True)
class SubmissionRef:
    """A file we sent: whose, in which batch, to which payer, with which sets (ST02)."""

    id: int
    tenant: str
    batch: str
    payer: str
    set_control_numbers: frozenset[str]


class Directory(Protocol):
    """What the router asks of our records. Every answer is about ids; none is a guess."""

    def tenant_of_npi(self, npi: str) -> str | None: ...

    def tenants_of_tin(self, tin: str) -> set[str]: ...

    def submissions_of_group(self, group_control_number: str) -> list[SubmissionRef]:
        """Every submission that sent this GS06 (leading zeros aside): one, or none."""
        ...

    def claims_of(self, patient_control_numbers: Collection[str],
                  payer_id: str | None = None) -> dict[str, set[str]]:
        """Patient control number -> the tenants with a claim of that number (sent to
        ``payer_id`` when given); numbers nobody has are left out."""
        ...

    def claims_of_payer_numbers(self, numbers: Collection[str],
                                payer_id: str | None = None) -> dict[str, set[str]]:
        """The same, by the payer's claim control number (277CA REF*1K, 835 CLP07)."""
        ...

    def payer_of(self, value: str) -> str | None:
        """Our payer id for a payer id, alias (a payer module's receiver id, a TRN03) or
        name; None when it is no payer of ours or names more than one."""
        ...


@dataclass(frozen=True, slots=True)
class Routed:
    """A set that is for one tenant: ``data`` is what to put in its inbound zone."""

    tenant: str
    payer: str
    kind: str  # 999, 277CA, 835
    matched_by: str  # e.g. "AK1 group 42", "payee NPI 1234567893; payer SIMC1 by REF*2U"
    data: bytes = field(repr=False)
    set_index: int = 0  # the set's position in the file, from 0
    control_number: str = ""  # its ST02
    submission: SubmissionRef | None = None  # a 999's submission (and so its batch)


@dataclass(frozen=True, slots=True)
class Unrouted:
    """A file or set left for an operator, with why. ``data`` is the set in its own
    interchange (the whole file when it cannot be read), to route again once fixed."""

    reason: Reason
    message: str
    data: bytes = field(repr=False)
    kind: str = ""
    set_index: int | None = None
    control_number: str = ""


class _NotRouted(Exception):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class _Match:
    tenant: str
    payer: str
    matched_by: str
    submission: SubmissionRef | None = None


def _tail(tin: str) -> str:
    return f"tax id ending {tin[-4:]}"


def _same(a: str, b: str) -> bool:
    """Control numbers equal but for leading zeros."""
    return a.lstrip("0") == b.lstrip("0")


class Router:
    """Routes payer files. ``receiver_ids``: our submitter ids (1000A NM109 of what we
    send); a 277CA for any other receiver is not ours. Empty: not checked."""

    def __init__(self, directory: Directory, receiver_ids: Collection[str] = ()) -> None:
        self.directory = directory
        self.receiver_ids = frozenset(receiver_ids)

    def route(self, data: bytes) -> list[Routed | Unrouted]:
        """One result per transaction set (one for a file that cannot be read)."""
        try:
            document = X12Reader(data, PARSERS).read()
        except X12Error as exc:
            return [Unrouted(Reason.UNREADABLE, f"the file cannot be read as X12: {exc}",
                             data)]
        sets = list(_sets(document.interchanges))
        if not sets:
            return [Unrouted(Reason.UNREADABLE, "the file holds no transaction set", data)]
        pieces = [data] if len(sets) == 1 else split_sets(data)
        results: list[Routed | Unrouted] = []
        for index, ((interchange, transaction), piece) in enumerate(
                zip(sets, pieces, strict=True)):
            kind = KINDS.get(transaction.set_id, transaction.set_id)
            try:
                match = self._route_set(interchange, transaction)
            except _NotRouted as miss:
                results.append(Unrouted(miss.reason, miss.message, piece, kind, index,
                                        transaction.control_number))
                continue
            results.append(Routed(match.tenant, match.payer, kind, match.matched_by, piece,
                                  index, transaction.control_number, match.submission))
        return results

    def _route_set(self, interchange: Interchange, transaction: TransactionSet) -> _Match:
        body = transaction.body
        if isinstance(body, FunctionalAck):
            return self._route_999(body, interchange)
        if isinstance(body, ClaimAckReport):
            return self._route_277(body)
        if isinstance(body, Remittance):
            return self._route_835(body)
        raise _NotRouted(Reason.UNSUPPORTED, f"a {transaction.set_id} transaction set is not"
                         " a payer answer we route (999, 277CA or 835)")

    # --- 999 ----------------------------------------------------------------------

    def _route_999(self, ack: FunctionalAck, interchange: Interchange) -> _Match:
        group = ack.group_control_number
        found = self.directory.submissions_of_group(group)
        if not found:
            raise _NotRouted(Reason.UNKNOWN_SUBMISSION, f"the 999 acknowledges group {group},"
                             " which we never sent")
        if len(found) > 1:
            raise _NotRouted(Reason.AMBIGUOUS_SUBMISSION, f"group {group} is on {len(found)}"
                             f" submissions ({', '.join(str(s.id) for s in found)}); it"
                             " should be on one")
        submission = found[0]
        strange = sorted(s.control_number for s in ack.set_acks
                         if not any(_same(s.control_number, ours)
                                    for ours in submission.set_control_numbers))
        if strange:
            raise _NotRouted(Reason.SET_MISMATCH, f"the 999 acknowledges group {group} of"
                             f" submission {submission.id} but names set(s)"
                             f" {', '.join(strange)}, which that submission did not hold")
        sender = self.directory.payer_of(interchange.sender_id)
        if sender is not None and sender != submission.payer:
            raise _NotRouted(Reason.PAYER_MISMATCH, f"the 999 comes from payer {sender} (ISA06)"
                             f" but group {group} was sent to payer {submission.payer}")
        return _Match(submission.tenant, submission.payer, f"AK1 group {group}", submission)

    # --- 277CA --------------------------------------------------------------------

    def _route_277(self, report: ClaimAckReport) -> _Match:
        entity = report.receiver.entity if report.receiver else None
        receiver = entity.id if entity else ""
        if self.receiver_ids and receiver not in self.receiver_ids:
            # An ETIN (46) is a submitter id; any other id may be a person's tax id.
            shown = f"'{receiver}'" if entity and entity.id_qualifier == "46" else (
                f"with {_tail(receiver)}")
            raise _NotRouted(Reason.NOT_FOR_US, f"the 277CA is for information receiver"
                             f" {shown} (2100B), not for our submitter id")
        source = report.source
        payer = None if source is None else (self.directory.payer_of(source.id)
                                             or self.directory.payer_of(source.last_name))
        if payer is None:
            raise _NotRouted(Reason.UNKNOWN_PAYER, "the 277CA's source (2100A NM1*PR) is no"
                             f" payer we know (id '{source.id if source else ''}')")
        claims = report.claims
        if not claims:
            raise _NotRouted(Reason.NO_MATCHING_CLAIMS, "the 277CA names no claim (a receiver"
                             " or provider level status only)")
        pcns = {c.patient_control_number for c in claims}
        by_pcn = self.directory.claims_of(pcns, payer)
        numbers = {c.payer_claim_control_number for c in claims} - {""}
        by_number = self.directory.claims_of_payer_numbers(numbers, payer) if numbers else {}
        candidates = []
        for claim in claims:
            found = [s for s in (by_pcn.get(claim.patient_control_number),
                                 by_number.get(claim.payer_claim_control_number)) if s]
            if found:
                candidates.append(set.intersection(*found) or set.union(*found))
        if not candidates:
            if self.directory.claims_of(pcns):
                raise _NotRouted(Reason.PAYER_MISMATCH, f"the 277CA comes from payer {payer}"
                                 " but the claims it names were sent to another payer")
            raise _NotRouted(Reason.NO_MATCHING_CLAIMS, f"none of the 277CA's {len(claims)}"
                             f" claims is one we sent to payer {payer}")
        tenant = _one_tenant(candidates)
        return _Match(tenant, payer, f"{len(candidates)} of {len(claims)} claims (TRN02/REF*1K)"
                      f" to payer {payer}")

    # --- 835 ----------------------------------------------------------------------

    def _route_835(self, remittance: Remittance) -> _Match:
        tenant, payee_by = self._payee(remittance.payee)
        payer, payer_by = self._payer(remittance)
        claims_by = self._check_claims(remittance, tenant, payer, payer_by)
        return _Match(tenant, payer, f"{payee_by}; payer {payer} by {payer_by}; {claims_by}")

    def _payee(self, payee: RemittancePayee) -> tuple[str, str]:
        npi = payee.id if payee.id_qualifier == "XX" else ""
        tins = sorted({t for t in (payee.id if payee.id_qualifier == "FI" else "",
                                   payee.tax_id) if t})
        owners = {tin: self.directory.tenants_of_tin(tin) for tin in tins}
        tenant = self.directory.tenant_of_npi(npi) if npi else None
        if tenant is not None:
            for tin, tenants in owners.items():
                if tenants and tenant not in tenants:
                    raise _NotRouted(Reason.PAYEE_MISMATCH, f"payee NPI {npi} is tenant"
                                     f" {tenant}'s but its {_tail(tin)} is not")
            return tenant, f"payee NPI {npi}"
        by_tin = set().union(*owners.values())
        named = f"payee NPI {npi} (not ours)" if npi else "payee"
        if len(by_tin) == 1:
            return by_tin.pop(), f"{named} by {', '.join(_tail(t) for t in tins)}"
        if by_tin:
            raise _NotRouted(Reason.AMBIGUOUS_PAYEE, f"the {named} {', '.join(map(_tail, tins))}"
                             f" belongs to {len(by_tin)} tenants ({', '.join(sorted(by_tin))})"
                             " and no NPI of ours tells them apart")
        what = ", ".join([f"NPI {npi}"] * bool(npi) + [_tail(t) for t in tins]) or "no id"
        raise _NotRouted(Reason.UNKNOWN_PAYEE, f"the payee (N1*PE: {what}) is no provider of"
                         " ours")

    def _payer(self, remittance: Remittance) -> tuple[str, str]:
        ids = (("N1*PR N104", remittance.payer.id), ("REF*2U", remittance.payer.payer_identifier),
               ("TRN03", remittance.originator_id))
        found = {label: payer for label, value in ids
                 if value and (payer := self.directory.payer_of(value))}
        if len(set(found.values())) > 1:
            raise _NotRouted(Reason.PAYER_MISMATCH, "the 835 names different payers: "
                             + ", ".join(f"{label} {payer}" for label, payer in found.items()))
        if not found and remittance.payer.name:
            payer = self.directory.payer_of(remittance.payer.name)
            if payer:
                found["N1*PR name"] = payer
        if not found:
            shown = ", ".join(f"{label} '{value}'" for label, value in ids if value)
            raise _NotRouted(Reason.UNKNOWN_PAYER, "the 835's payer (N1*PR, TRN03) is no payer"
                             f" we know ({shown or 'no id'})")
        label, payer = next(iter(found.items()))
        return payer, label

    def _check_claims(self, remittance: Remittance, tenant: str, payer: str,
                      payer_by: str) -> str:
        """The payee's tenant must have sent some of the CLPs' claims to the payer, or none
        of them to anyone (claims we never sent go to the exception queue)."""
        pcns = {c.patient_control_number for c in remittance.claims}
        if not pcns:
            return "no claims"
        ours = [p for p, tenants in self.directory.claims_of(pcns, payer).items()
                if tenant in tenants]
        if ours:
            return f"{len(ours)} of {len(pcns)} claims on file"
        anywhere = self.directory.claims_of(pcns)
        if any(tenant in tenants for tenants in anywhere.values()):
            raise _NotRouted(Reason.PAYER_MISMATCH, f"the 835 names payer {payer} ({payer_by}) but"
                             f" tenant {tenant}'s claims it pays were sent to another payer")
        if anywhere:
            others = sorted(set().union(*anywhere.values()))
            raise _NotRouted(Reason.PAYEE_MISMATCH, f"the payee is tenant {tenant}'s but the"
                             f" {len(anywhere)} claims on file it pays are"
                             f" {', '.join(others)}'s")
        return f"none of {len(pcns)} claims on file"


def _sets(interchanges: list[Interchange]) -> Iterator[tuple[Interchange, TransactionSet]]:
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                yield interchange, transaction


def _one_tenant(candidates: list[set[str]]) -> str:
    """The one tenant every matched claim can be; claims of tenants apart are mixed."""
    common = set.intersection(*candidates)
    if len(common) == 1:
        return common.pop()
    if common:
        raise _NotRouted(Reason.AMBIGUOUS_CLAIMS, "every claim of the 277CA matches"
                         f" {len(common)} tenants alike ({', '.join(sorted(common))})")
    tenants = sorted(set().union(*candidates))
    raise _NotRouted(Reason.MIXED_TENANTS, f"the 277CA's claims belong to {len(tenants)}"
                     f" tenants ({', '.join(tenants)}); one set is routed whole or not at all")
