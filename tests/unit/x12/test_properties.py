"""Property tests: 837 claims survive write and read; damaged files fail only with X12Error.

(a) Arbitrary valid synthetic claims (professional and institutional) written by
``write_837`` and read back by ``X12Reader`` are equal to the originals.
(b) Random damage to valid files (segments deleted, duplicated or swapped; characters
dropped, inserted or flipped; truncation; a delimiter replaced) makes the readers either
succeed or raise an ``X12Error`` subclass: never IndexError, KeyError, ValueError, ...
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revcycle.model.claim import (
    Address,
    Claim,
    ClaimType,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)
from revcycle.x12.envelope import X12Reader
from revcycle.x12.errors import X12Error
from revcycle.x12.read837 import parse_837
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers, InterchangeHeader, Party
from tests.x12_validation import pyx12_errors

try:  # the registry of every reader, once all of them exist
    from revcycle.x12.reader import PARSERS
except ImportError:
    PARSERS = {"837": parse_837}

HEADER = InterchangeHeader(Party("SENDERID"), Party("RECEIVERID"), usage_indicator="T",
                           created=datetime(2024, 2, 3, 4, 5))
SUBMITTER = Submitter("SYNTHETIC BILLING", "S0001", "SYNTHETIC CONTACT", "5550000000")
RECEIVER = Receiver("SYNTHETIC CLEARINGHOUSE", "R0001")

# -- strategies ------------------------------------------------------------------------------

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
LETTERS = ALNUM[:26]
DIGITS = ALNUM[26:]


def safe_text(max_size: int = 20, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    """A-Z, 0-9 and inner spaces: no delimiter, no leading or trailing space."""
    return st.builds(
        lambda first, middle, last: first + middle + last,
        st.sampled_from(alphabet),
        st.text(alphabet + " ", max_size=max(0, max_size - 2)),
        st.sampled_from(alphabet),
    ) | st.sampled_from(alphabet)


def code(min_size: int, max_size: int, alphabet: str = ALNUM) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def optional(strategy: st.SearchStrategy, empty: object = "") -> st.SearchStrategy:
    return st.one_of(st.just(empty), strategy)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: Decimal(c).scaleb(-2))
units = st.one_of(st.integers(1, 999).map(Decimal),
                  st.integers(1, 9999).map(lambda n: Decimal(n).scaleb(-1)))
npis = optional(code(10, 10, DIGITS))
addresses = st.builds(Address, line1=safe_text(30), city=safe_text(20),
                      state=code(2, 2, LETTERS), postal_code=code(5, 9, DIGITS),
                      line2=optional(safe_text(20)))


@st.composite
def providers(draw: st.DrawFn, *, billing: bool = False, taxonomy: bool = True,
              address: bool = False) -> Provider:
    entity = draw(st.sampled_from("12"))
    tax_id = draw(code(9, 9, DIGITS)) if billing and draw(st.booleans()) else ""
    return Provider(
        entity_type=entity,
        last_name=draw(safe_text(30)),
        first_name=draw(safe_text(15)) if entity == "1" else "",
        npi=draw(npis),
        taxonomy=draw(optional(code(10, 10))) if taxonomy else "",
        tax_id=tax_id,
        tax_id_qualifier=draw(st.sampled_from(["EI", "SY"])) if tax_id else "",
        address=draw(addresses) if billing else
        (draw(optional(addresses, None)) if address else None),
    )


@st.composite
def subscribers(draw: st.DrawFn) -> Subscriber:
    birth_date = draw(optional(dates, None))
    return Subscriber(
        last_name=draw(safe_text(30)),
        first_name=draw(optional(safe_text(15))),
        member_id=draw(code(1, 20)),
        birth_date=birth_date,
        sex=draw(st.sampled_from("FMU")) if birth_date else "",
        middle_name=draw(optional(safe_text(10))),
        name_suffix=draw(optional(st.sampled_from(["JR", "SR", "III"]))),
        address=draw(optional(addresses, None)),
        payer_responsibility=draw(st.sampled_from("PST")),
        group_number=draw(optional(code(1, 15))),
        claim_filing_indicator=draw(st.sampled_from(["CI", "MB", "MC", "BL", "HM"])),
    )


@st.composite
def patients(draw: st.DrawFn) -> Patient:
    birth_date = draw(optional(dates, None))
    return Patient(
        last_name=draw(safe_text(30)),
        first_name=draw(safe_text(15)),
        relationship=draw(st.sampled_from(["01", "19", "20", "21", "G8"])),
        birth_date=birth_date,
        sex=draw(st.sampled_from("FMU")) if birth_date else "",
        middle_name=draw(optional(safe_text(10))),
        name_suffix=draw(optional(st.sampled_from(["JR", "II"]))),
        address=draw(optional(addresses, None)),
    )


@st.composite
def service_lines(draw: st.DrawFn, professional: bool, diagnoses: int) -> ServiceLine:
    service_date = draw(optional(dates, None))
    end = draw(optional(st.dates(service_date, date(2099, 12, 31)), None)) \
        if service_date else None
    has_procedure = professional or draw(st.booleans())
    procedure = draw(code(5, 5)) if has_procedure else ""
    return ServiceLine(
        procedure_code=procedure,
        charge=draw(cents),
        units=draw(units),
        service_date=service_date,
        service_date_end=end,
        modifiers=tuple(draw(st.lists(code(2, 2), max_size=4))) if procedure else (),
        # A revenue-code-only 837I line reads back with the model's default qualifier.
        procedure_qualifier=draw(st.sampled_from(["HC", "HC", "ER", "WK"])) if procedure
        else "HC",
        unit_basis=draw(st.sampled_from(["UN", "MJ"] if professional else ["UN", "DA"])),
        place_of_service=draw(optional(code(2, 2, DIGITS))) if professional else "",
        diagnosis_pointers=tuple(draw(st.lists(st.integers(1, diagnoses), min_size=1,
                                               max_size=min(4, diagnoses), unique=True)))
        if professional else (),
        revenue_code="" if professional else draw(code(4, 4, DIGITS)),
        line_control_number=draw(optional(code(1, 30))),
    )


@st.composite
def claims(draw: st.DrawFn, claim_type: ClaimType) -> Claim:
    pro = claim_type is ClaimType.PROFESSIONAL
    diagnoses = tuple(draw(st.lists(code(3, 7), min_size=1, max_size=12)))
    lines = draw(st.lists(service_lines(pro, len(diagnoses)), min_size=1, max_size=50))
    frequency = draw(st.sampled_from("178"))
    statement = draw(optional(st.tuples(dates, dates).map(sorted), None))
    # CL1 is written whole or not at all.
    admission = draw(optional(st.tuples(code(1, 1, DIGITS), code(1, 1, DIGITS),
                                        code(2, 2, DIGITS)), ("", "", ""))) if not pro else (
        "", "", "")
    return Claim(
        claim_type=claim_type,
        patient_control_number=draw(code(1, 20)),
        total_charge=sum((line.charge for line in lines), Decimal(0)),
        facility_code=draw(code(2, 2, DIGITS)),
        billing_provider=draw(providers(billing=True)),
        subscriber=draw(subscribers()),
        payer=Payer(draw(safe_text(30)), draw(code(2, 15)), draw(optional(addresses, None))),
        diagnoses=diagnoses,
        service_lines=lines,
        patient=draw(optional(patients(), None)),
        frequency_code=frequency,
        original_claim_reference=draw(code(1, 30)) if frequency != "1" else "",
        prior_authorization=draw(optional(code(1, 30))),
        provider_signature=draw(st.sampled_from("YN")) if pro else "",
        assignment=draw(st.sampled_from("ABC")),
        benefits_assigned=draw(st.sampled_from("YNW")),
        release_of_information=draw(st.sampled_from("YI")),
        # Only 837P 2310B carries the rendering provider's taxonomy (PRV); 837I 2310D has none.
        rendering_provider=draw(optional(providers(taxonomy=pro), None)),
        attending_provider=None if pro else draw(optional(providers(), None)),
        service_facility=draw(optional(providers(taxonomy=False, address=True), None)),
        onset_date=draw(optional(dates, None)) if pro else None,
        statement_from=None if pro or statement is None else statement[0],
        statement_to=None if pro or statement is None else statement[1],
        admission_date=None if pro else draw(optional(dates, None)),
        admission_type=admission[0],
        admission_source=admission[1],
        patient_status=admission[2],
        admitting_diagnosis="" if pro else draw(optional(code(3, 7))),
        icd9=draw(st.booleans()),
    )


def claim_batches(claim_type: ClaimType) -> st.SearchStrategy[list[Claim]]:
    return st.lists(claims(claim_type), min_size=1, max_size=3)


def round_trip(originals: list[Claim], per_set: int = 5000) -> list[Claim]:
    written = write_837(originals, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER,
                        max_claims_per_set=per_set)
    doc = X12Reader(written.text.encode(), {"837": parse_837}).read()
    assert not [d for d in doc.defects if d.code != "BILLING_TAX_ID_MISSING"]
    batches = doc.bodies()
    assert all(b.submitter == SUBMITTER and b.receiver == RECEIVER for b in batches)
    return [claim for batch in batches for claim in batch.claims]


# -- (a) round trip ----------------------------------------------------------------------------

ROUND_TRIP = settings(max_examples=30, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@ROUND_TRIP
@given(claim_batches(ClaimType.PROFESSIONAL))
def test_professional_claims_round_trip(originals: list[Claim]) -> None:
    assert round_trip(originals) == originals


@ROUND_TRIP
@given(claim_batches(ClaimType.INSTITUTIONAL))
def test_institutional_claims_round_trip(originals: list[Claim]) -> None:
    assert round_trip(originals) == originals


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(claim_batches(ClaimType.PROFESSIONAL), st.integers(1, 2))
def test_claims_round_trip_across_transaction_sets(originals: list[Claim],
                                                   per_set: int) -> None:
    assert round_trip(originals, per_set) == originals


@settings(max_examples=5, deadline=None)
@given(claims(ClaimType.INSTITUTIONAL))
def test_round_trip_comparison_sees_a_difference(claim: Claim) -> None:
    """The round-trip comparison is not vacuous: one changed field makes claims unequal."""
    (back,) = round_trip([claim])
    assert back == claim
    back.service_lines[-1].units += 1
    assert back != claim


# -- (b) damaged files -------------------------------------------------------------------------

def _seed_claims(claim_type: ClaimType) -> list[Claim]:
    """Two claims with most loops filled, one of them for a dependent patient."""
    pro = claim_type is ClaimType.PROFESSIONAL
    address = Address("1 TEST STREET", "TESTTOWN", "NY", "123456789", "SUITE 2")
    billing = Provider("2", "SYNTHETIC CLINIC", npi="1234567893", taxonomy="207Q00000X",
                       tax_id="123456789", tax_id_qualifier="EI", address=address)
    subscriber = Subscriber("SYNTHLAST", "SYNTHFIRST", "MEMBER0001", date(1980, 1, 2), "F",
                            address=address, group_number="GRP01")
    payer = Payer("SYNTHETIC PAYER", "P0001", address)
    patient = Patient("SYNTHLAST", "SYNTHCHILD", "19", date(2015, 6, 7), "M", address=address)
    doctor = Provider("1", "SYNTHDOC", "ANNA", npi="1234567893",
                      taxonomy="207Q00000X" if pro else "")
    attending = Provider("1", "SYNTHATTENDING", "BO", npi="1234567893", taxonomy="207Q00000X")
    facility = Provider("2", "SYNTHETIC FACILITY", npi="1234567893", address=address)
    institutional = {} if pro else {
        "statement_from": date(2024, 1, 1), "statement_to": date(2024, 1, 4),
        "admission_type": "1", "admission_source": "7", "patient_status": "01"}

    def line(n: int) -> ServiceLine:
        return ServiceLine(
            f"9921{n}", Decimal(f"{n}0.25"), Decimal(n), date(2024, 1, n),
            date(2024, 1, n + 1) if n % 2 else None, ("25",) if n == 1 else (),
            unit_basis="UN", place_of_service="11" if pro and n == 2 else "",
            diagnosis_pointers=(1, 2) if pro else (), revenue_code="" if pro else "0450",
            line_control_number=f"LINE{n}")

    lines = [line(1), line(2), line(3)]
    first = Claim(
        claim_type, "PCN0001", sum((ln.charge for ln in lines), Decimal(0)),
        "11" if pro else "13", billing, subscriber, payer, ("J449", "E119", "I10"), lines,
        prior_authorization="AUTH01", provider_signature="Y" if pro else "",
        rendering_provider=doctor, service_facility=facility,
        attending_provider=None if pro else attending,
        onset_date=date(2023, 12, 30) if pro else None,
        admitting_diagnosis="" if pro else "R079", **institutional)
    second = Claim(
        claim_type, "PCN0002", Decimal("10.25"), "11" if pro else "13", billing, subscriber,
        payer, ("Z0000",), [line(1)], patient=patient, frequency_code="7",
        original_claim_reference="ORIG0001", provider_signature="Y" if pro else "",
        **institutional)
    return [first, second]


def _written(claim_type: ClaimType) -> bytes:
    claims = _seed_claims(claim_type)
    text = write_837(claims, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text
    return text.encode()


SEEDS_837 = {"837P": _written(ClaimType.PROFESSIONAL),
             "837I": _written(ClaimType.INSTITUTIONAL)}


def test_seed_files_are_valid_and_read_back() -> None:
    for claim_type, seed in zip(ClaimType, SEEDS_837.values(), strict=True):
        assert pyx12_errors(seed.decode()) == []
        (batch,) = X12Reader(seed, PARSERS).read().bodies()
        assert batch.claims == _seed_claims(claim_type)


DELIMITER_BYTES = b"*:~^"


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with one to three kinds of random damage (always changed)."""
    data = original
    for _ in range(draw(st.integers(1, 3))):
        segments = data.split(b"~")
        kind = draw(st.sampled_from(["delete", "duplicate", "swap", "drop", "insert",
                                     "truncate", "flip", "delimiter"]))
        if kind in ("delete", "duplicate", "swap"):
            i = draw(st.integers(0, len(segments) - 1))
            j = draw(st.integers(0, len(segments) - 1))
            if kind == "delete":
                del segments[i]
            elif kind == "duplicate":
                segments.insert(j, segments[i])
            else:
                segments[i], segments[j] = segments[j], segments[i]
            data = b"~".join(segments)
            continue
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "drop":
            data = data[:at] + data[at + draw(st.integers(1, 8)):]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4) | st.sampled_from(
                [b"*", b":", b"~", b"^", b"~\n", b"*1", b"\xc3", b"\xff"])) + data[at:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "flip":
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + \
                data[at + 1:]
        else:
            positions = [n for n, b in enumerate(data) if b in DELIMITER_BYTES]
            if positions:
                n = draw(st.sampled_from(positions))
                choices = [c for c in b"*:~^|A \n" if c != data[n]]
                data = data[:n] + bytes([draw(st.sampled_from(choices))]) + data[n + 1:]
    # A swap of equal segments or a duplicate undone by a delete leaves the file intact.
    return data if data != original else original[:-2]


def read_or_x12_error(data: bytes) -> None:
    """Read fully (kept and streamed): success or an X12Error are the only outcomes."""
    for consume in (lambda r: r.read(), lambda r: list(r.items())):
        try:
            consume(X12Reader(data, PARSERS))
        except X12Error as error:
            assert isinstance(error.reason, str) and error.to_dict()["code"]


FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("seed", list(SEEDS_837))
@FUZZ
@given(data=st.data())
def test_damaged_837_raises_only_x12_errors(seed: str, data: st.DataObject) -> None:
    read_or_x12_error(data.draw(mutated(SEEDS_837[seed])))


def _sample_seeds(folder: Path, set_id: str) -> list[bytes]:
    """The public sample files of a transaction set that read without error."""
    found = []
    with (folder / "INDEX.tsv").open() as index:
        for row in csv.DictReader(index, delimiter="\t"):
            path = folder / row["repo"].split("/")[1] / row["original_path"]
            if row["ST01"] != set_id or not path.is_file():
                continue
            try:
                X12Reader(path.read_bytes(), PARSERS).read()
            except X12Error:
                continue
            found.append(path.read_bytes())
    return found


@pytest.mark.parametrize("set_id", ["835", "999", "277"])
def test_damaged_acknowledgments_and_remittances_raise_only_x12_errors(
        set_id: str, x12_samples: Path) -> None:
    if set_id not in PARSERS:
        pytest.skip(f"no {set_id} reader registered yet (revcycle.x12.reader)")
    seeds = _sample_seeds(x12_samples, set_id)
    assert seeds, f"no {set_id} sample in the corpus reads cleanly"

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        read_or_x12_error(data.draw(mutated(data.draw(st.sampled_from(seeds)))))

    fuzz()


@pytest.mark.parametrize("entity", ["41", "40"])
def test_n3_in_submitter_or_receiver_loop_raises_an_x12_error(entity: str) -> None:
    text = SEEDS_837["837P"].decode()
    start = text.index(f"NM1*{entity}*")
    end = text.index("~", start) + 1
    damaged = (text[:end] + "\nN3*1 TEST STREET~" + text[end:]).encode()
    with pytest.raises(X12Error):
        X12Reader(damaged, PARSERS).read()

