"""X12Reader envelopes: ISA/GS/ST nesting, counts and control numbers, unknown sets, errors."""

from __future__ import annotations

import json
from datetime import date

import pytest

from revcycle.model.claim import ClaimBatch, ClaimType
from revcycle.x12.envelope import X12Document, X12Reader, parse_date8
from revcycle.x12.errors import X12ElementError, X12EnvelopeError, X12Error, X12StructureError
from revcycle.x12.read837 import parse_837

PARSERS = {"837": parse_837}

# Distinctive synthetic values: none may ever appear in an error message.
LAST, FIRST, MEMBER, PCN = "ZQXLASTNAME", "ZQXFIRSTNAME", "ZQXMEMBER998877", "ZQXPCN4411"
SECRETS = (LAST, FIRST, MEMBER, PCN)


def professional(claims: int = 1) -> list[str]:
    """A minimal valid 837P body (between ST and SE) with ``claims`` claims."""
    segments = [
        "BHT*0019*00*BATCH0001*20240203*0405*CH",
        "NM1*41*2*SYNTHETIC SUBMITTER*****46*S0001",
        "PER*IC*SYNTHETIC CONTACT*TE*5550000000",
        "NM1*40*2*SYNTHETIC RECEIVER*****46*R0001",
        "HL*1**20*1",
        "NM1*85*2*SYNTHETIC CLINIC*****XX*1234567893",
        "N3*1 TEST STREET",
        "N4*TESTTOWN*NY*12345",
        "REF*EI*123456789",
        "HL*2*1*22*0",
        "SBR*P*18*******CI",
        f"NM1*IL*1*{LAST}*{FIRST}****MI*{MEMBER}",
        "DMG*D8*19800102*F",
        "NM1*PR*2*SYNTHETIC PAYER*****PI*P0001",
    ]
    for n in range(1, claims + 1):
        segments += [
            f"CLM*{PCN}{n}*100***11:B:1*Y*A*Y*Y",
            "HI*ABK:J449*ABF:E119",
            "LX*1",
            "SV1*HC:99213*100*UN*1***1:2",
            "DTP*472*D8*20240105",
        ]
    return segments


def institutional() -> list[str]:
    """A minimal valid 837I body."""
    return [
        "BHT*0019*00*BATCH0002*20240203*0405*CH",
        "NM1*41*2*SYNTHETIC SUBMITTER*****46*S0001",
        "PER*IC*SYNTHETIC CONTACT*TE*5550000000",
        "NM1*40*2*SYNTHETIC RECEIVER*****46*R0001",
        "HL*1**20*1",
        "NM1*85*2*SYNTHETIC HOSPITAL*****XX*1234567893",
        "N3*2 TEST STREET",
        "N4*TESTTOWN*NY*12345",
        "REF*EI*123456789",
        "HL*2*1*22*0",
        "SBR*P*18*******MC",
        f"NM1*IL*1*{LAST}*{FIRST}****MI*{MEMBER}",
        "NM1*PR*2*SYNTHETIC PAYER*****PI*P0001",
        f"CLM*{PCN}I*200***13:A:1**A*Y*Y",
        "DTP*434*RD8*20240101-20240103",
        "CL1*1*7*01",
        "HI*ABK:J449",
        "LX*1",
        "SV2*0450*HC:99283*200*UN*1",
        "DTP*472*D8*20240101",
    ]


def enrollment() -> list[str]:
    """The body of an 834, a set no parser is registered for."""
    return ["BGN*00*REF01*20240203", "INS*Y*18*030*XN*A", f"NM1*IL*1*{LAST}*{FIRST}"]


def transaction(body: list[str], control: str = "0001", set_id: str = "837",
                version: str = "005010X222A1", count: int | None = None,
                se_control: str | None = None) -> list[str]:
    st = f"ST*{set_id}*{control}*{version}"
    se_count = len(body) + 2 if count is None else count
    return [st, *body, f"SE*{se_count}*{control if se_control is None else se_control}"]


def group(transactions: list[list[str]], control: str = "1", functional_id: str = "HC",
          version: str = "005010X222A1", count: int | None = None,
          ge_control: str | None = None) -> list[str]:
    gs = f"GS*{functional_id}*SENDERID*RECEIVERID*20240203*0405*{control}*X*{version}"
    ge_count = len(transactions) if count is None else count
    ge = f"GE*{ge_count}*{control if ge_control is None else ge_control}"
    return [gs, *(s for t in transactions for s in t), ge]


def interchange(groups: list[list[str]], control: str = "000000001", count: int | None = None,
                iea_control: str | None = None) -> list[str]:
    isa = ("ISA*00*          *00*          *ZZ*SENDERID       *ZZ*RECEIVERID     *240203*0405*^"
           f"*00501*{control}*0*T*:")
    assert len(isa) == 105
    iea_count = len(groups) if count is None else count
    iea = f"IEA*{iea_count}*{control if iea_control is None else iea_control}"
    return [isa, *(s for g in groups for s in g), iea]


def render(segments: list[str]) -> bytes:
    return "".join(s + "~\n" for s in segments).encode()


def simple(body: list[str] | None = None) -> list[str]:
    return interchange([group([transaction(body or professional())])])


def read(segments: list[str]) -> X12Document:
    return X12Reader(render(segments), PARSERS).read()


def raises(segments: list[str], kind: type[X12Error] = X12Error) -> X12Error:
    with pytest.raises(kind) as caught:
        read(segments)
    return caught.value


# -- a valid file ------------------------------------------------------------------------


def test_a_valid_file_reads_without_defects() -> None:
    doc = read(simple(professional(2)))
    assert doc.defects == []
    (isa,) = doc.interchanges
    assert (isa.sender_id, isa.receiver_id, isa.control_number) == (
        "SENDERID", "RECEIVERID", "000000001")
    assert isa.date == date(2024, 2, 3) and isa.usage_indicator == "T"
    (gs,) = isa.groups
    assert (gs.functional_id, gs.control_number, gs.version) == ("HC", "1", "005010X222A1")
    assert gs.date == date(2024, 2, 3)
    (st,) = gs.transactions
    assert (st.set_id, st.control_number, st.implementation_reference) == (
        "837", "0001", "005010X222A1")
    assert st.segment_count == len(professional(2)) + 2
    assert isinstance(st.body, ClaimBatch)
    assert [c.patient_control_number for c in st.body.claims] == [f"{PCN}1", f"{PCN}2"]


def test_items_streams_the_claims() -> None:
    reader = X12Reader(render(simple(professional(3))), PARSERS)
    claims = list(reader.items())
    assert [c.patient_control_number for c in claims] == [f"{PCN}{n}" for n in (1, 2, 3)]
    assert reader.transaction is not None
    assert reader.transaction.body.claims == []  # streamed, not kept


def test_parse_date8() -> None:
    assert parse_date8("20240229") == date(2024, 2, 29)
    for bad in ("20230229", "2024021", "2024-2-1", "", "ABCDEFGH", "20241301",
                "2026110\u00b2", "\uff12\uff10\uff12\uff16\uff11\uff11\uff10\uff12"):
        assert parse_date8(bad) is None  # superscript and full-width digits are not digits


def test_an_isa_date_with_a_superscript_digit_is_a_defect() -> None:
    # Found by bench/fuzz.py: str.isdigit() says yes to '²', int() says no.
    from revcycle.x12.envelope import _parse_date6

    assert _parse_date6("\u00b261102") is None


# -- count and control-number mismatches are defects --------------------------------------


MISMATCHES = {
    "SE01_COUNT": lambda: interchange([group([transaction(professional(), count=99)])]),
    "SE02_CONTROL": lambda: interchange([group([transaction(professional(),
                                                            se_control="0002")])]),
    "GE01_COUNT": lambda: interchange([group([transaction(professional())], count=2)]),
    "GE02_CONTROL": lambda: interchange([group([transaction(professional())],
                                               ge_control="7")]),
    "IEA01_COUNT": lambda: interchange([group([transaction(professional())])], count=3),
    "IEA02_CONTROL": lambda: interchange([group([transaction(professional())])],
                                         iea_control="000000002"),
}


@pytest.mark.parametrize("code", list(MISMATCHES))
def test_trailer_mismatch_is_a_defect_not_an_error(code: str) -> None:
    segments = MISMATCHES[code]()
    doc = read(segments)
    assert [d.code for d in doc.defects] == [code]
    assert len(doc.bodies(ClaimBatch)[0].claims) == 1
    trailer = code[:-len("01_COUNT")] if code.endswith("COUNT") else code[:-len("02_CONTROL")]
    number = next(n for n, s in enumerate(segments, 1) if s.startswith(trailer + "*"))
    assert doc.defects[0].segment_number == number


def test_control_numbers_compare_without_leading_zeros() -> None:
    segments = interchange([group([transaction(professional(), control="0001",
                                               se_control="1")], control="000001",
                                  ge_control="1")])
    assert read(segments).defects == []


def test_several_mismatches_are_all_reported() -> None:
    segments = interchange([group([transaction(professional(), count=1, se_control="9")],
                                  count=5)], count=0)
    codes = sorted(d.code for d in read(segments).defects)
    assert codes == ["GE01_COUNT", "IEA01_COUNT", "SE01_COUNT", "SE02_CONTROL"]


def test_repeated_st02_in_a_group_is_a_defect() -> None:
    segments = interchange([group([transaction(professional()), transaction(professional())])])
    doc = read(segments)
    assert [d.code for d in doc.defects] == ["ST02_DUPLICATE"]
    assert len(doc.bodies()) == 2


def test_u_in_isa11_of_a_5010_file_is_a_defect() -> None:
    segments = simple()
    segments[0] = segments[0].replace("*0405*^*", "*0405*U*")
    assert [d.code for d in read(segments).defects] == ["ISA11_NOT_SEPARATOR"]


# -- several interchanges, groups and sets ------------------------------------------------


def test_several_interchanges_groups_and_sets() -> None:
    first = interchange([
        group([transaction(professional(1), "0001"), transaction(professional(2), "0002")],
              control="11"),
        group([transaction(institutional(), "0003", version="005010X223A2")], control="12",
              version="005010X223A2"),
    ], control="000000101")
    second = interchange([
        group([transaction(enrollment(), "0004", set_id="834", version="005010X220A1")],
              control="21", functional_id="BE", version="005010X220A1"),
        group([transaction(professional(3), "0005")], control="22"),
    ], control="000000102")
    doc = read(first + second)
    assert doc.defects == []
    assert [i.control_number for i in doc.interchanges] == ["000000101", "000000102"]
    assert [[g.control_number for g in i.groups] for i in doc.interchanges] == [
        ["11", "12"], ["21", "22"]]
    sets = list(doc.transactions())
    assert [t.control_number for t in sets] == ["0001", "0002", "0003", "0004", "0005"]
    assert [t.set_id for t in sets] == ["837", "837", "837", "834", "837"]
    assert [len(t.body.claims) if t.body else None for t in sets] == [1, 2, 1, None, 3]
    assert sets[2].body.claim_type is ClaimType.INSTITUTIONAL
    assert [t.segment_count for t in sets] == [
        len(professional(1)) + 2, len(professional(2)) + 2, len(institutional()) + 2,
        len(enrollment()) + 2, len(professional(3)) + 2]
    assert len(doc.bodies(ClaimBatch)) == 4


def test_unknown_transaction_set_is_skipped() -> None:
    segments = interchange([group([
        transaction(enrollment(), "0001", set_id="834", version="005010X220A1"),
        transaction(professional(), "0002"),
    ])])
    doc = read(segments)
    skipped, parsed = doc.transactions()
    assert skipped.set_id == "834" and skipped.body is None
    assert skipped.segment_count == len(enrollment()) + 2
    assert len(parsed.body.claims) == 1
    assert doc.defects == []


def test_unknown_transaction_set_counts_are_still_checked() -> None:
    segments = interchange([group([transaction(enrollment(), set_id="834", count=3)])])
    assert [d.code for d in read(segments).defects] == ["SE01_COUNT"]


# -- truncated files ---------------------------------------------------------------------


def _without(segments: list[str], *prefixes: str) -> list[str]:
    return [s for s in segments if not s.startswith(prefixes)]


@pytest.mark.parametrize("body", [professional(2), enrollment()], ids=["837", "834"])
@pytest.mark.parametrize(("cut", "dropped"), [
    ("st-without-se", ("SE*", "GE*", "IEA*")),
    ("se-missing-ge-follows", ("SE*",)),
    ("gs-without-ge", ("GE*", "IEA*")),
    ("ge-missing-iea-follows", ("GE*",)),
    ("isa-without-iea", ("IEA*",)),
])
def test_truncated_file_raises(body: list[str], cut: str, dropped: tuple[str, ...]) -> None:
    set_id = "834" if body[0].startswith("BGN") else "837"
    segments = interchange([group([transaction(body, set_id=set_id)])])
    raises(_without(segments, *dropped), X12EnvelopeError)


def test_file_cut_in_the_middle_of_a_claim_raises() -> None:
    segments = simple(professional(2))
    cut = next(n for n, s in enumerate(segments) if s.startswith("SV1"))
    raises(segments[:cut + 1], X12EnvelopeError)


# -- segments outside a transaction set ----------------------------------------------------


@pytest.mark.parametrize(("where", "segment"), [
    ("after-isa", "NM1*41*2*STRAY"),
    ("after-gs", "NM1*41*2*STRAY"),
    ("before-iea", "NM1*41*2*STRAY"),
    ("after-iea", "NM1*41*2*STRAY"),
    ("after-gs", "SE*2*0001"),
    ("after-isa", "GE*1*1"),
    ("after-gs", "IEA*1*000000001"),
    ("after-isa", "ST*837*0009*005010X222A1"),
    ("after-gs", "GS*HC*A*B*20240203*0405*2*X*005010X222A1"),
    ("after-gs", "ISA*00*X"),
])
def test_segment_outside_a_transaction_set_raises(where: str, segment: str) -> None:
    segments = simple()
    index = {"after-isa": 1, "after-gs": 2, "before-iea": len(segments) - 1,
             "after-iea": len(segments)}[where]
    segments.insert(index, segment)
    error = raises(segments, X12EnvelopeError)
    assert error.segment_number == index + 1


def test_st_without_control_number_raises() -> None:
    segments = simple()
    segments[2] = "ST*837"
    raises(segments, X12EnvelopeError)


# -- no element values in errors ------------------------------------------------------------


def _replace(segments: list[str], old: str, new: str) -> list[str]:
    text = "\n".join(segments)
    assert old in text
    return text.replace(old, new, 1).split("\n")


ERROR_CASES = {
    "bad-birth-date": (lambda s: _replace(s, "DMG*D8*19800102", f"DMG*D8*{MEMBER}"),
                       X12ElementError),
    "bad-charge": (lambda s: _replace(s, f"CLM*{PCN}1*100*", f"CLM*{PCN}1*{LAST}*"),
                   X12ElementError),
    "bad-units": (lambda s: _replace(s, "*UN*1*", f"*UN*{FIRST}*"), X12ElementError),
    "bad-service-date": (lambda s: _replace(s, "DTP*472*D8*20240105", f"DTP*472*D8*{LAST}"),
                         X12ElementError),
    "unknown-entity": (lambda s: _replace(s, f"NM1*IL*1*{LAST}", f"NM1*ZQ*1*{LAST}"),
                       X12StructureError),
    "missing-payer": (lambda s: _without(s, "NM1*PR"), X12StructureError),
    "unexpected-segment": (lambda s: _replace(s, "LX*1", f"LX*1\nSV1*HC:99213*1*UN*1\n"
                                              f"ZZZ*{LAST}*{MEMBER}"), X12StructureError),
    "segment-out-of-order": (lambda s: _replace(s, "DMG*D8*19800102*F",
                                                f"DMG*D8*19800102*F\nN3*{LAST}"),
                             X12StructureError),
    "truncated": (lambda s: _without(s, "SE*", "GE*", "IEA*"), X12EnvelopeError),
    "stray-segment": (lambda s: [*s[:-1], f"NM1*IL*1*{LAST}*{FIRST}****MI*{MEMBER}", s[-1]],
                      X12EnvelopeError),
    "bad-id-in-place-of-segment": (lambda s: _replace(s, "HI*", f"{LAST}*"),
                                   X12StructureError),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_never_contain_element_values(case: str) -> None:
    mutate, kind = ERROR_CASES[case]
    error = raises(mutate(simple(professional(1))), kind)
    rendered = str(error) + json.dumps(error.to_dict())
    for secret in SECRETS:
        assert secret not in rendered
        assert secret[:3] not in rendered  # not even a fragment
    assert error.segment_number is not None and error.byte_offset is not None


def test_garbled_segment_outside_a_set_does_not_echo_its_text() -> None:
    segments = simple()
    segments.insert(len(segments) - 1, f"{LAST.lower()}")
    error = raises(segments, X12EnvelopeError)
    assert LAST.lower()[:3] not in str(error)


def test_garbled_segment_after_lx_does_not_echo_its_text() -> None:
    segments = _replace(simple(), "SV1*", f"{LAST}*")
    error = raises(segments, X12StructureError)
    assert LAST not in str(error)


def test_defect_messages_carry_no_values() -> None:
    segments = interchange([group([transaction(professional(), count=99,
                                               se_control=MEMBER[-4:])])])
    for defect in read(segments).defects:
        assert MEMBER[-4:] not in defect.message
        assert json.dumps(defect.to_dict())
