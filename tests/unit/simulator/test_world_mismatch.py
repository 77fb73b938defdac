"""The payer world's matching mismatches, its pend 277CA and its truth of what it remitted.

Each mismatch kind is switched on alone at rate 1 (so every eligible claim or line has
it) and checked in the 835 the world wrote: as the contract says, balanced, parsed back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from revcycle.model.claim import Claim
from revcycle.model.remittance import REVERSAL, ClaimPayment, Remittance, balance_problems
from revcycle.simulator.mismatch import KINDS, Mismatches
from revcycle.simulator.sftp_server import SftpTestServer
from revcycle.simulator.world import PayerWorld, WorldPayer
from tests.unit.simulator.test_world import (
    PASSWORD,
    PAYER,
    START,
    USER,
    an_837,
    claims,
    remittances,
    reports,
)
from tests.x12_validation import pyx12_errors

UPLOADS = (0, 1, 2, 3, 4)  # days after START (a Monday): a file of three claims each
QUIET = {"two_step_rate": 0.0, "take_back_rate": 0.0, "pend_rate": 0.0}


@dataclass
class Run:
    world: PayerWorld
    files: dict[str, bytes]  # every answer in the outbound folder, by name
    sent: dict[str, Claim]  # our claims by patient control number

    def eras(self) -> list[tuple[str, list[Remittance]]]:
        return [(n, remittances(d)) for n, d in sorted(self.files.items())
                if n.startswith("ERA_")]

    def clps(self, reversals: bool = False) -> list[ClaimPayment]:
        return [c for _, items in self.eras() for r in items for c in r.claims
                if reversals or c.status_code != REVERSAL]

    def ours(self, payer_number: str) -> str:
        """Our patient control number for a CLP07 (a correction's or repeat's too: the
        simulator adds two digits to the number the 277CA gave)."""
        given = {number: pcn for pcn, seen in self.statuses().items()
                 for _, number in seen if number}
        return given.get(payer_number) or given[payer_number[:-2]]

    def statuses(self) -> dict[str, list[tuple[str, str]]]:
        """PCN -> (category, payer claim number) in file-name (day) order."""
        found: dict[str, list[tuple[str, str]]] = {}
        for name in sorted(n for n in self.files if n.startswith("277CA_")):
            for report in reports(self.files[name]):
                for claim in report.claims:
                    found.setdefault(claim.patient_control_number, []).append(
                        (claim.categories[0], claim.payer_claim_control_number))
        return found

    def counted(self, kind: str) -> int:
        return sum(d.get(kind, 0) for d in self.world.summary().values())


@contextmanager
def served() -> Iterator[SftpTestServer]:
    with SftpTestServer() as server:
        server.add_user(USER, password=PASSWORD)
        yield server


def run(mismatches: Mismatches, weeks: int = 4, uploads: tuple[int, ...] = UPLOADS,
        **options: Any) -> Run:
    """Uploads on ``uploads`` days, the world played ``weeks`` weeks, Monday payment runs."""
    options = {**QUIET, **options}
    with served() as server:
        world = PayerWorld([WorldPayer.of(PAYER, seed=11, sftp=server, sftp_user=USER,
                                          payment_weekday=START.weekday(),
                                          mismatches=mismatches, **options)], START)
        sent: dict[str, Claim] = {}
        for offset in uploads:
            data = an_837("ZETA", START + timedelta(days=offset), 300 + offset)
            sent.update({c.patient_control_number: c for c in claims(data)})
            server.folder(USER).joinpath(f"{offset:03d}.837").write_bytes(data)
            world.advance(START + timedelta(days=offset))
        world.advance(START + timedelta(weeks=weeks))
        files = {p.name: p.read_bytes() for p in server.folder(USER, "outbound").iterdir()}
    return Run(world, files, sent)


@cache
def alone(kind: str) -> Run:
    return run(Mismatches(**{kind: 1.0}))


def assert_sound(r: Run) -> None:
    """Every ERA balances and parses; a CLP of ours is never without a remitted claim."""
    eras = r.eras()
    assert eras
    for _, items in eras:
        assert all(balance_problems(item) == [] for item in items)


def test_rates_default_to_off_and_realistic_rates_are_small() -> None:
    assert all(getattr(Mismatches(), kind) == 0.0 for kind in KINDS)
    real = Mismatches.realistic()
    assert 0 < max(getattr(real, kind) for kind in KINDS) <= 0.05
    assert real.scaled(5).missing_line_ref == pytest.approx(0.25)
    assert real.scaled(100).split == 1.0
    with pytest.raises(ValueError, match="split"):
        Mismatches(split=1.5)


def test_off_the_world_writes_what_it_wrote_before() -> None:
    plain = run(Mismatches())
    assert all(plain.counted(kind) == 0 for kind in KINDS)
    for clp in plain.clps():
        ours = plain.sent[clp.patient_control_number]
        assert [s.line_control_number for s in clp.service_payments] == [
            ln.line_control_number for ln in ours.service_lines][:len(clp.service_payments)]
        assert all(s.original_procedure is None for s in clp.service_payments)


def test_missing_line_ref_drops_every_ref_6r_of_a_claim() -> None:
    r = alone("missing_line_ref")
    assert_sound(r)
    lined = [c for c in r.clps() if c.service_payments]
    assert lined and all(not s.line_control_number for c in lined for s in c.service_payments)
    assert r.counted("missing_line_ref") == len(lined)
    truth = r.world.remitted()
    for clp in lined:  # the truth still keys the lines by our numbers
        ours = r.sent[clp.patient_control_number]
        remitted = truth[PAYER.payer_id, clp.patient_control_number]
        assert set(remitted.line_paid) == {ln.line_control_number for ln in ours.service_lines}
        assert sum(remitted.line_paid.values(), Decimal(0)) == remitted.paid
        assert remitted.mismatches == ("missing_line_ref",)


def test_changed_code_pays_another_code_and_sends_ours_in_svc06() -> None:
    r = alone("changed_code")
    assert_sound(r)
    lines = [(c, s) for c in r.clps() for s in c.service_payments]
    assert lines
    dropped = 0
    for clp, service in lines:
        ours = r.sent[clp.patient_control_number]
        original = service.original_procedure
        assert original is not None and original.qualifier == "HC"
        assert service.procedure_code != original.code
        assert re.fullmatch(r"[0-9A-Z]\d{4}", service.procedure_code)
        billed = {(ln.procedure_code, ln.modifiers) for ln in ours.service_lines}
        assert (original.code, original.modifiers) in billed
        if service.line_control_number:
            line = next(ln for ln in ours.service_lines
                        if ln.line_control_number == service.line_control_number)
            assert (original.code, original.modifiers) == (line.procedure_code,
                                                          line.modifiers)
        else:
            dropped += 1
    assert 0.25 < dropped / len(lines) < 0.75, "about half lose their REF*6R as well"
    assert r.counted("changed_code") == len({c.payer_claim_control_number for c, _ in lines})


def test_truncated_pcn_cuts_three_characters_and_the_277ca_keeps_ours() -> None:
    r = alone("truncated_pcn")
    assert_sound(r)
    ours = set(r.sent)
    written = [c.patient_control_number for c in r.clps()]
    assert written and not set(written) & ours
    statuses = r.statuses()
    truth = r.world.remitted()
    for clp in r.clps():
        full = r.ours(clp.payer_claim_control_number)
        assert clp.patient_control_number == full[:max(6, len(full) - 3)]
        assert "truncated_pcn" in truth[PAYER.payer_id, full].mismatches
    assert set(statuses) <= ours  # the 277CA answered with the whole numbers


def test_renumbered_claims_carry_a_payer_number_and_our_clp07() -> None:
    r = alone("renumbered")
    assert_sound(r)
    clps = r.clps()
    assert clps
    for clp in clps:
        assert re.fullmatch(r"P\d{10}", clp.patient_control_number)
        assert clp.patient_control_number not in r.sent
        ours = r.ours(clp.payer_claim_control_number)
        assert "renumbered" in r.world.remitted()[PAYER.payer_id, ours].mismatches
    assert r.counted("renumbered") == len(clps)


def test_a_split_claim_is_answered_a5_and_paid_in_two_balanced_parts() -> None:
    r = run(Mismatches(split=1.0), take_back_rate=1.0)
    assert_sound(r)
    statuses = r.statuses()
    split = {pcn for pcn, seen in statuses.items() if seen[0][0] == "A5"}
    assert split, "claims of two lines or more are split"
    parts: dict[str, list[tuple[str, ClaimPayment]]] = {}
    for name, items in r.eras():
        for remittance in items:
            for clp in remittance.claims:
                parts.setdefault(clp.patient_control_number, []).append((name, clp))
    later = 0
    truth = r.world.remitted()
    for pcn in split:
        base = statuses[pcn][0][1]
        assert base, "a split claim keeps its payer claim number"
        written = parts[pcn]
        assert all(c.status_code != REVERSAL for _, c in written), "never taken back"
        assert sorted(c.payer_claim_control_number for _, c in written) == [base + "1",
                                                                          base + "2"]
        assert all(not c.adjustments for _, c in written)
        ours = r.sent[pcn]
        assert sum((c.charge for _, c in written), Decimal(0)) == ours.total_charge
        first, second = sorted(written, key=lambda w: w[1].payer_claim_control_number)
        assert [s.line_control_number for s in first[1].service_payments
                + second[1].service_payments] == [ln.line_control_number
                                                  for ln in ours.service_lines]
        for _, clp in written:
            patient = sum((a.amount for s in clp.service_payments for a in s.adjustments
                           if a.group_code == "PR"), Decimal(0))
            assert (clp.patient_responsibility or Decimal(0)) == patient
            assert clp.paid == sum((s.paid for s in clp.service_payments), Decimal(0))
        later += first[0] != second[0]
        remitted = truth[PAYER.payer_id, pcn]
        assert (remitted.charge, remitted.clps, remitted.mismatches) == (
            ours.total_charge, 2, ("split",))
        assert remitted.paid == first[1].paid + second[1].paid
    assert 0 < later < len(split) or len(split) < 4, "half the second parts come a run later"
    assert r.counted("split") == len(split)


def test_wo_recoupment_takes_part_of_last_runs_payment_with_a_plb() -> None:
    r = alone("wo_recoupment")
    assert_sound(r)
    eras = r.eras()
    paid_before: dict[str, ClaimPayment] = {}
    recouped = 0
    truth = r.world.remitted()
    for _, items in eras:
        for remittance in items:
            for plb in remittance.provider_adjustments:
                if plb.reason_code != "WO":
                    continue
                recouped += 1
                claim = paid_before[plb.reference]
                assert Decimal("0.1") * claim.paid - Decimal("0.01") <= plb.amount
                assert plb.amount <= Decimal("0.5") * claim.paid + Decimal("0.01")
                remitted = truth[PAYER.payer_id, claim.patient_control_number]
                assert remitted.recouped == plb.amount
                assert remitted.paid == claim.paid  # not reduced by the PLB
                assert "wo_recoupment" in remitted.mismatches
            total = (sum((c.paid for c in remittance.claims), Decimal(0))
                     - sum((p.amount for p in remittance.provider_adjustments), Decimal(0)))
            assert remittance.credit_debit_flag == ("D" if total < 0 else "C")
        paid_before.update({c.payer_claim_control_number: c for r_ in items
                            for c in r_.claims if c.paid > 0})
    assert recouped > 0 and r.counted("wo_recoupment") == recouped


def test_pended_claims_get_a_p1_277ca_before_they_are_paid() -> None:
    r = run(Mismatches(), weeks=7, uploads=(0, 1), pend_rate=1.0)
    assert_sound(r)
    pend_files = []
    for name in sorted(n for n in r.files if n.startswith("277CA_")):
        for report in reports(r.files[name]):
            if any(c.categories == ("P1",) for c in report.claims):
                assert all(c.categories == ("P1",) for c in report.claims)
                pend_files.append(name)
    assert pend_files and r.counted("pend-277") == len(set(pend_files))
    statuses = r.statuses()
    accepted = {pcn for pcn, seen in statuses.items() if seen[0][0] == "A2"}
    assert accepted
    for pcn in accepted:
        (first, number), (pending, kept) = statuses[pcn]
        assert (first, pending, kept) == ("A2", "P1", number)
    first_era = min(n.split("_")[2] for n in r.files if n.startswith("ERA_"))
    assert max(n.split("_")[2][:8] for n in pend_files) < first_era


def test_the_truth_counts_only_delivered_files() -> None:
    mismatches = Mismatches.realistic().scaled(5)
    with served() as server:
        world = PayerWorld([WorldPayer.of(PAYER, seed=11, sftp=server, sftp_user=USER,
                                          payment_weekday=START.weekday(),
                                          mismatches=mismatches, two_step_rate=0.3)],
                           START)
        server.folder(USER).joinpath("one.837").write_bytes(an_837("ETA", START, 400))
        world.advance(START + timedelta(days=6))
        assert world.remitted() == {}  # nothing paid before the first payment run
        world.advance(START + timedelta(days=7))
        files = {p.name: p.read_bytes() for p in server.folder(USER, "outbound").iterdir()}
    truth = world.remitted()
    clps = [c for n, d in files.items() if n.startswith("ERA_") for r in remittances(d)
            for c in r.claims]
    assert truth and sum(t.clps for t in truth.values()) == len(clps)
    assert set().union(*(t.payer_claim_numbers for t in truth.values())) == {
        c.payer_claim_control_number for c in clps}
    assert sum((t.paid for t in truth.values()), Decimal(0)) == sum(
        (c.paid for c in clps), Decimal(0))
    refused = {(PAYER.payer_id, c.patient_control_number)
               for n, d in files.items() if n.startswith("277CA_") for r in reports(d)
               for c in r.claims if c.rejected}
    assert world.rejected() == refused
    assert not {pcn for _, pcn in refused} & {pcn for _, pcn in truth}


def test_the_same_seed_gives_the_same_bytes_with_mismatches() -> None:
    rates = Mismatches.realistic().scaled(5)
    first, again = run(rates, take_back_rate=0.1), run(rates, take_back_rate=0.1)
    assert first.files == again.files
    assert first.world.remitted() == again.world.remitted()
    assert first.world.summary() == again.world.summary()
    assert any(first.counted(kind) for kind in KINDS)
    assert_sound(first)
    other = run(Mismatches.realistic().scaled(10), take_back_rate=0.1)
    assert other.files != first.files


def test_mismatches_never_touch_a_take_back() -> None:
    r = run(Mismatches(missing_line_ref=1.0, renumbered=1.0, changed_code=1.0),
            take_back_rate=1.0)
    assert_sound(r)
    taken_back = {number for _, number in r.world.take_backs}
    reversals = [c for c in r.clps(reversals=True) if c.status_code == REVERSAL]
    assert taken_back and reversals
    for clp in reversals:
        ours = r.sent[clp.patient_control_number]
        assert {s.line_control_number for s in clp.service_payments} <= {
            ln.line_control_number for ln in ours.service_lines}
        assert all(s.original_procedure is None for s in clp.service_payments)
        if clp.payer_claim_control_number in taken_back:
            remitted = r.world.remitted()[PAYER.payer_id, clp.patient_control_number]
            assert remitted.status_code == REVERSAL


def test_every_file_of_a_mismatched_world_passes_pyx12() -> None:
    """Split, changed-code, PLB-only (a recovery from a payee with no claim that run),
    A5 and P1 277CAs: all still valid X12."""
    r = run(Mismatches.realistic().scaled(20), weeks=6, pend_rate=0.3, two_step_rate=0.2,
            take_back_rate=0.1)
    assert_sound(r)
    assert {name[:3] for name in r.files} == {"999", "277", "ERA"}
    recovered = alone("wo_recoupment")
    plb_only = [rem for _, items in recovered.eras() for rem in items if not rem.claims]
    assert plb_only, "a recovery from a payee with nothing paid that run"
    assert all(rem.credit_debit_flag == "D" for rem in plb_only)
    categories = {c.categories[0] for n, d in r.files.items() if n.startswith("277CA_")
                  for rep in reports(d) for c in rep.claims}
    assert {"A5", "P1"} <= categories
    for name, data in sorted([*r.files.items(), *recovered.files.items()]):
        assert pyx12_errors(data.decode()) == [], name
