"""Codec benchmark: our X12 readers and writer against a naive split, pyx12 and edi-835-parser.

Builds a synthetic 837P (``revcycle.simulator``) and an 835 paying its claims, then times,
in one run and on the same input bytes:

- a naive ``str.split`` of each file into segments and elements (the floor any reader pays);
- our readers (``X12Reader`` with ``parse_837`` / ``parse_835``) into domain objects;
- pyx12 4 on a slice of the 837: ``x12n_document`` with no outputs, i.e. its map-walking
  TR3 validation, which is how pyx12 turns segments into loops (its ``X12Reader``
  segment iteration alone is shown too, for reference);
- edi-835-parser on the 835: ``parse(path).to_dataframe()``, its normal output;
- our 837P writer (``write_837``).

Each figure is the best of a few ``time.perf_counter`` runs (see ``settle`` on the collector);
peak memory is measured by ``tracemalloc`` in a separate pass, so tracing does not distort
the timings. It prints a table, the targets and whether each is met, and, as its last
line, one JSON object with every figure.

The 835 is derived from the claims here on purpose (CO-45 write-downs, PR-1/2/3 patient
shares, a claim-level CAS on every fourth claim, a few PLBs): one remittance, one payer,
one payee, as edi-835-parser reads one transaction set per file.

Run: ``python bench/x12_bench.py [--claims N] [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import platform
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import edi_835_parser
import pyx12.map_if
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

from revcycle.model.claim import Claim, ClaimType, Receiver, ServiceLine, Submitter
from revcycle.model.remittance import (
    Adjustment,
    ClaimPayment,
    Contact,
    Entity,
    ProviderAdjustment,
    Remittance,
    RemittancePayee,
    RemittancePayer,
    ServicePayment,
    balance_problems,
)
from revcycle.simulator import generate_claims
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from revcycle.x12.remit835 import parse_835, write_835
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party

SEED = 20261102
PYX12_SLICE = 1000
PYX12_TRACED = 100  # pyx12's memory is its maps plus ~3 KiB a claim; tracing is slow
CREATED = datetime(2026, 11, 2, 9, 30)
MIB = 1 << 20
CENT = Decimal("0.01")
ALLOWED_SHARE = Decimal("0.72")
COINSURANCE = Decimal("0.20")

TARGETS = {
    "read_837_vs_naive": ("our 837 reader within 2x of the naive split's time", "<=", 2.0),
    "read_835_vs_naive": ("our 835 reader within 2x of the naive split's time", "<=", 2.0),
    "read_vs_pyx12": ("our 837 reader >= 50x pyx12's claims/s", ">=", 50.0),
    "read_835_vs_edi835": ("our 835 reader >= 3x edi-835-parser's claims/s", ">=", 3.0),
    "write_837_claims_per_s": ("837P writer >= 20,000 claims/s", ">=", 20000.0),
}


# ---------------------------------------------------------------------------- inputs

def make_claims(count: int) -> list[Claim]:
    """``count`` clean synthetic 837P claims, the same ones for the same count."""
    return generate_claims(count, SEED, ClaimType.PROFESSIONAL, tenant="BENCH")


def _header() -> InterchangeHeader:
    return InterchangeHeader(Party("BENCHSUBMIT"), Party("BENCHPAYER"), usage_indicator="T",
                             created=CREATED)


def write_claims(claims: Sequence[Claim]) -> str:
    """The claims as one 837P interchange to a clearinghouse (5,000 claims per set)."""
    submitter = Submitter("BENCH BILLING", "BENCH01", contact_name="DESK",
                          contact_phone="2175550100")
    receiver = Receiver("BENCH CLEARINGHOUSE", "BENCHCH")
    return write_837(claims, _header(), CounterControlNumbers(), submitter, receiver).text


def _service_payment(line: ServiceLine, pr_reason: str) -> tuple[ServicePayment, Decimal]:
    """One line paid at a fixed share of its charge, less a patient share; its PR amount."""
    allowed = (line.charge * ALLOWED_SHARE).quantize(CENT)
    if pr_reason == "3":  # copay
        patient = min(Decimal(20), allowed)
    elif pr_reason == "2":  # coinsurance
        patient = (allowed * COINSURANCE).quantize(CENT)
    else:  # deductible
        patient = min(Decimal(35), allowed)
    adjustments = [Adjustment("CO", "45", line.charge - allowed)]
    if patient:
        adjustments.append(Adjustment("PR", pr_reason, patient))
    payment = ServicePayment(
        line.procedure_code, line.charge, allowed - patient,
        procedure_qualifier=line.procedure_qualifier, modifiers=line.modifiers,
        units_paid=None if line.units == 1 else line.units, service_date=line.service_date,
        adjustments=adjustments, line_control_number=line.line_control_number,
        allowed_amount=allowed)
    return payment, patient


def _claim_payment(number: int, claim: Claim) -> ClaimPayment:
    """The claim paid as primary; the patient share rotates copay, coinsurance, deductible."""
    pr_reason = "123"[number % 3]
    lines = [_service_payment(line, pr_reason) for line in claim.service_lines]
    paid = sum((s.paid for s, _ in lines), Decimal(0))
    patient_share = sum((p for _, p in lines), Decimal(0))
    claim_cas: list[Adjustment] = []
    if number % 4 == 0 and paid > 0:  # a claim-level deductible, as some payers send it
        deductible = min(Decimal(10), paid)
        claim_cas.append(Adjustment("PR", "1", deductible))
        paid -= deductible
        patient_share += deductible
    subscriber = claim.subscriber
    person = claim.patient or subscriber
    patient = Entity("1", person.last_name, person.first_name, id_qualifier="MI",
                     id=subscriber.member_id)
    insured = None
    if claim.patient is not None:
        insured = Entity("1", subscriber.last_name, subscriber.first_name, id_qualifier="MI",
                         id=subscriber.member_id)
    rendering = claim.rendering_provider
    provider = None
    if rendering is not None:
        provider = Entity(rendering.entity_type, rendering.last_name, rendering.first_name,
                          id_qualifier="XX", id=rendering.npi)
    return ClaimPayment(
        claim.patient_control_number, "1", claim.total_charge, paid, patient_share,
        claim_filing_indicator=subscriber.claim_filing_indicator,
        payer_claim_control_number=f"BP{number:012d}", facility_code=claim.facility_code,
        frequency_code=claim.frequency_code, patient=patient, insured=insured,
        service_provider=provider, adjustments=claim_cas,
        service_payments=[s for s, _ in lines], received_date=CREATED.date())


def make_remittance(claims: Sequence[Claim]) -> Remittance:
    """One payer's remittance paying every claim, with a few provider-level adjustments."""
    payments = [_claim_payment(n, c) for n, c in enumerate(claims)]
    billing = claims[0].billing_provider
    period_end = date(CREATED.year, 12, 31)
    plbs = [
        ProviderAdjustment(billing.npi, period_end, "WO", Decimal("25.00"),
                           payments[0].payer_claim_control_number),
        ProviderAdjustment(billing.npi, period_end, "L6", Decimal("-3.17")),
        ProviderAdjustment(billing.npi, period_end, "FB", Decimal("12.50"), "FB0001"),
    ]
    total = sum((p.paid for p in payments), Decimal(0)) - sum(a.amount for a in plbs)
    payer = claims[0].payer
    remittance = Remittance(
        "I", total, "C", "CHK", CREATED.date(), "CHK0000012345", "1260000000",
        # The payer id goes in REF*2U: edi-835-parser fails on an N104 that is not a number.
        payer=RemittancePayer(payer.name, address=payer.address, payer_identifier=payer.payer_id,
                              contacts=[Contact("BL", "EDI HELP", (("TE", "8005550100"),))]),
        payee=RemittancePayee(billing.last_name, "XX", billing.npi, billing.address,
                              tax_id=billing.tax_id),
        production_date=CREATED.date(), claims=payments, provider_adjustments=plbs)
    problems = balance_problems(remittance)
    if problems:
        raise RuntimeError(f"derived remittance does not balance: {problems[:3]}")
    return remittance


# ---------------------------------------------------------------------------- measuring

def settle() -> None:
    """Collect garbage and move every live object out of the collector's sight.

    Without this, each run would pay for the cyclic collector walking the benchmark's own
    heap (the claims, earlier results), and the more it allocates the more it pays: the
    naive split most of all. Each run still pays for collecting what it allocates itself.
    """
    gc.collect()
    gc.freeze()


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The best wall time of ``repeat`` runs, and the last run's result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        result = None
        settle()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_mib(fn: Callable[[], Any]) -> float:
    """Peak memory traced while ``fn`` runs (its result included), in MiB."""
    settle()
    tracemalloc.start()
    try:
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / MIB


def naive_split(data: bytes) -> list[list[str]]:
    return [segment.split("*") for segment in data.decode("utf-8").split("~")]


def read_837(data: bytes) -> list[Claim]:
    document = X12Reader(data, {"837": parse_837}).read()
    return [claim for batch in document.bodies() for claim in batch.claims]


def read_835(data: bytes) -> list[Remittance]:
    return X12Reader(data, {"835": parse_835}).read().bodies()


def pyx12_validate(text: str) -> bool:
    """pyx12's full parse: segments walked through the 837P map and validated."""
    return pyx12.x12n_document.x12n_document(pyx12.params.ParamsBase(), io.StringIO(text),
                                             fd_997=None, fd_html=None)


def pyx12_load_maps() -> None:
    """What ``x12n_document`` does once per file before reading a segment of an 837P."""
    params = pyx12.params.ParamsBase()
    pyx12.map_if.load_map_file("x12.control.00501.xml", params)
    pyx12.map_if.load_map_file("837.5010.X222.A1.xml", params)


def pyx12_segments(text: str) -> int:
    return sum(1 for _ in pyx12.x12file.X12Reader(io.StringIO(text)))


def edi835_dataframe(path: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it warns for every segment it does not handle
        return edi_835_parser.parse(path).to_dataframe()


class Bench:
    """Runs each measurement, collects the figures and the table rows."""

    HEADING = (f"{'measurement':<52} {'best s':>8} {'claims':>7} {'claims/s':>10}"
               f" {'MB/s':>7} {'peak MiB':>9}")

    def __init__(self) -> None:
        self.figures: dict[str, Any] = {}
        self.rows: list[str] = []
        self.notes: list[str] = []

    def measure(self, key: str, label: str, fn: Callable[[], Any], claims: int, size: int,
                repeat: int, memory: tuple[Callable[[], Any], int] | None = None) -> Any:
        """Times ``fn`` (best of ``repeat``), then traces its peak memory; returns its result.

        ``memory`` is (a smaller run, its claim count) for a peer too slow to trace whole.
        """
        seconds, result = best_of(fn, repeat)
        peak = peak_mib(memory[0] if memory else fn)
        rate, mbps = claims / seconds, size / 1e6 / seconds
        self.figures.update({f"{key}_s": seconds, f"{key}_claims_per_s": rate,
                             f"{key}_mb_per_s": mbps, f"{key}_peak_mib": peak})
        mark = " "
        if memory:
            self.figures[f"{key}_peak_claims"] = memory[1]
            self.notes.append(f"* {label.strip()}: peak memory traced on {memory[1]:,} claims")
            mark = "*"
        self.rows.append(f"{label:<52} {seconds:8.3f} {claims:7d} {rate:10,.0f} {mbps:7.1f}"
                         f" {peak:8.1f}{mark}")
        return result

    def part(self, key: str, label: str, seconds: float) -> None:
        """A share of the row above, in seconds only."""
        self.figures[key] = seconds
        self.rows.append(f"{label:<52} {seconds:8.3f}")

    def compare(self, key: str, value: float, note: str) -> None:
        self.figures[key] = value
        self.rows.append(f"{'  ratio: ' + note:<88} {value:8.2f}x")

    def table(self) -> str:
        return "\n".join([self.HEADING, "-" * len(self.HEADING), *self.rows, *self.notes])


def _targets(figures: dict[str, Any]) -> tuple[list[str], dict[str, bool]]:
    lines, met = [], {}
    for key, (text, op, bound) in TARGETS.items():
        value = figures[key]
        ok = value <= bound if op == "<=" else value >= bound
        met[key] = ok
        lines.append(f"  [{'MET ' if ok else 'MISS'}] {text}: {value:,.2f}")
    return lines, met


def run(claim_count: int, quick: bool) -> dict[str, Any]:
    """Builds the inputs, runs every measurement, prints the report; returns the figures."""
    # Repetitions: ours and the split are fast and noisy; the peers are slow and steady.
    fast, slow, pyx12_runs = (1, 1, 1) if quick else (3, 3, 2)
    pyx12_count = min(claim_count, 100 if quick else PYX12_SLICE)
    pyx12_traced = min(pyx12_count, PYX12_TRACED)
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)

    start = time.perf_counter()
    claims = make_claims(claim_count)
    data_837 = write_claims(claims).encode("utf-8")
    slice_837 = write_claims(claims[:pyx12_count])
    traced_837 = write_claims(claims[:pyx12_traced])
    remittance = make_remittance(claims)
    data_835 = write_835([remittance], _header(), CounterControlNumbers()).text.encode("utf-8")
    build_s = time.perf_counter() - start

    bench = Bench()
    f = bench.figures
    size_837, size_835, size_slice = len(data_837), len(data_835), len(slice_837)
    f.update(claims=claim_count, pyx12_claims=pyx12_count, bytes_837=size_837,
             bytes_835=size_835, pyx12_slice_bytes=size_slice, repeat=fast,
             repeat_peers=slow, repeat_pyx12=pyx12_runs, build_inputs_s=build_s)

    bench.measure("naive_split_837", "837P naive split (decode, '~', '*')",
                  lambda: naive_split(data_837), claim_count, size_837, fast)
    read = bench.measure("read_837", "837P ours: X12Reader + parse_837 -> Claim",
                         lambda: read_837(data_837), claim_count, size_837, fast)
    bench.compare("read_837_vs_naive", f["read_837_s"] / f["naive_split_837_s"],
                  "ours time / naive split time (target <= 2)")
    valid = bench.measure("pyx12", "837P pyx12 x12n_document (map walk + validation)",
                          lambda: pyx12_validate(slice_837), pyx12_count, size_slice,
                          pyx12_runs, memory=(lambda: pyx12_validate(traced_837),
                                              pyx12_traced))
    bench.part("pyx12_map_load_s", "  of which: loading its two maps (once per file)",
               best_of(pyx12_load_maps, slow)[0])
    bench.measure("pyx12_segments", "837P pyx12 x12file.X12Reader (segments only)",
                  lambda: pyx12_segments(slice_837), pyx12_count, size_slice, slow)
    f["pyx12_claims_per_s_excl_maps"] = pyx12_count / (f["pyx12_s"] - f["pyx12_map_load_s"])
    bench.compare("read_vs_pyx12", f["read_837_claims_per_s"] / f["pyx12_claims_per_s"],
                  "ours claims/s / pyx12 claims/s (target >= 50)")
    bench.compare("read_vs_pyx12_excl_maps",
                  f["read_837_claims_per_s"] / f["pyx12_claims_per_s_excl_maps"],
                  "the same, pyx12's map loading left out")
    bench.measure("write_837", "837P ours: write_837 (Claim -> text)",
                  lambda: write_claims(claims), claim_count, size_837, fast)

    bench.measure("naive_split_835", "835 naive split (decode, '~', '*')",
                  lambda: naive_split(data_835), claim_count, size_835, fast)
    remits = bench.measure("read_835", "835 ours: X12Reader + parse_835 -> Remittance",
                           lambda: read_835(data_835), claim_count, size_835, fast)
    bench.compare("read_835_vs_naive", f["read_835_s"] / f["naive_split_835_s"],
                  "ours time / naive split time (target <= 2)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.835"
        path.write_bytes(data_835)
        frame = bench.measure("edi835", "835 edi-835-parser parse(path).to_dataframe()",
                              lambda: edi835_dataframe(str(path)), claim_count, size_835,
                              slow)
    bench.compare("read_835_vs_edi835", f["read_835_claims_per_s"] / f["edi835_claims_per_s"],
                  "ours claims/s / edi-835-parser claims/s (target >= 3)")

    # What each side kept (outside the timings): edi-835-parser's frame has line CAS only.
    ours = remits[0]
    line_cas = sum((a.amount for c in ours.claims for s in c.service_payments
                    for a in s.adjustments), Decimal(0))
    claim_cas = sum((a.amount for c in ours.claims for a in c.adjustments), Decimal(0))
    amounts = [c for c in frame.columns if c.startswith("adj_") and c.endswith("_amount")]
    edi_cas = Decimal(str(round(float(frame[amounts].fillna(0).to_numpy().sum()), 2)))
    f.update(
        pyx12_valid=bool(valid),
        read_837_claims=len(read),
        read_835_claims=len(ours.claims),
        read_835_claim_cas=sum(len(c.adjustments) for c in ours.claims),
        read_835_plb=len(ours.provider_adjustments),
        read_835_line_cas_total=float(line_cas),
        read_835_claim_cas_total=float(claim_cas),
        edi835_rows=len(frame),
        edi835_cas_total=float(edi_cas),
        edi835_keeps_claim_cas=bool(claim_cas) and edi_cas == line_cas + claim_cas,
        edi835_keeps_plb=any("plb" in str(c).lower() for c in frame.columns),
    )
    if len(read) != claim_count or len(ours.claims) != claim_count:
        raise RuntimeError("a reader returned the wrong number of claims")
    lines, met = _targets(f)
    f["targets_met"] = met
    f["python"] = platform.python_version()

    print(f"revcycle X12 codec benchmark, {claim_count:,} claims: 837P {size_837 / MIB:.2f} MiB,"
          f" 835 {size_835 / MIB:.2f} MiB, pyx12 on the first {pyx12_count:,} claims"
          f" ({size_slice / MIB:.2f} MiB). Best of {fast} runs ({slow} for the peers, {pyx12_runs}"
          f" for pyx12's validation); inputs built in {build_s:.1f} s. MB/s: bytes read (written,"
          " for the writer) per second.")
    print(bench.table())
    print(f"pyx12 accepted the slice: {f['pyx12_valid']}. edi-835-parser kept the claim-level"
          f" CAS: {f['edi835_keeps_claim_cas']} (ours: {f['read_835_claim_cas']:,} adjustments,"
          f" {claim_cas} in all); the PLB: {f['edi835_keeps_plb']} (ours:"
          f" {f['read_835_plb']} adjustments).")
    print("targets:")
    print("\n".join(lines))
    return f


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=None,
                        help="claims in the 837P and CLPs in the 835 (default 10000,"
                             " 1000 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: one repetition, a 100-claim pyx12 slice")
    args = parser.parse_args(argv)
    count = args.claims if args.claims is not None else (1000 if args.quick else 10000)
    if count < 1:
        parser.error("--claims must be at least 1")
    figures = run(count, args.quick)
    print(json.dumps(figures, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
