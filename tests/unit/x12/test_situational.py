"""Whatever pyx12 accepts, we read: situational segments and loops left out of valid 837s.

pyx12's maps carry the TR3 usage (Required, Situational, Not used) of every loop and
segment; ``pyx12_usage`` says which map node each segment of a file matches. Starting from
valid files our writer makes, each situational segment, and each repeat of a situational
loop, is left out (SE01 recounted) and pyx12 judges the result. Whenever pyx12 finds no
error, our reader must read the file: no exception, one claim per CLM left in it; and what
it read, written again, must validate too.

(a) every situational segment and loop of two rich seed files (837P, 837I), one at a time;
(b) hypothesis: simulated claims (``ClaimFactory``: valid content, varied shape) written by
``write_837``, several situational segments and loops left out at once.

pyx12 takes ~0.2-0.5 s a file here (it loads its maps for each), so (a) and (b) together
validate about 100 files: ~30-50 s on a 2-core machine.
"""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from revcycle.model.claim import Claim, ClaimType
from revcycle.simulator import ClaimFactory
from revcycle.x12.envelope import X12Reader
from revcycle.x12.read837 import parse_837
from revcycle.x12.write837 import write_837
from revcycle.x12.writer import CounterControlNumbers
from tests.unit.x12.test_properties import HEADER, RECEIVER, SUBMITTER, _seed_claims
from tests.x12_validation import pyx12_errors, pyx12_walk

# Situational segments and loops the model keeps as ``other_segments``, added to the seeds
# so that leaving them out is tried too.
PAY_TO = (("NM1", "87", "2"), ("N3", "PO BOX 9"), ("N4", "TESTTOWN", "NY", "12345"))
BILLING_CONTACT = ("PER", "IC", "SYNTHETIC DESK", "TE", "5550000002")
SUBSCRIBER_SSN = ("REF", "SY", "123456789")
PAYER_SECONDARY = ("REF", "2U", "PAYER2U")
CLAIM_NOTE = ("NTE", "ADD", "SYNTHETIC NOTE")
OTHER_SUBSCRIBER = (  # 2320 with its 2330A and 2330B
    ("SBR", "S", "18", "", "", "", "", "", "", "CI"),
    ("OI", "", "", "Y", "", "", "Y"),
    ("NM1", "IL", "1", "OTHERLAST", "OTHERFIRST", "", "", "", "MI", "OTHER0001"),
    ("NM1", "PR", "2", "OTHER PAYER", "", "", "", "", "PI", "OTHERPAYER"),
)
SUPERVISING = {ClaimType.PROFESSIONAL: ("NM1", "DQ", "1", "SYNTHSUPER", "SAM"),  # 2310D
               ClaimType.INSTITUTIONAL: ("NM1", "DN", "1", "SYNTHREFER", "RAE")}  # 2310F


def _rich_claims(claim_type: ClaimType) -> list[Claim]:
    first, second = _seed_claims(claim_type)
    first.billing_provider.other_segments = (BILLING_CONTACT, *PAY_TO)
    first.subscriber.other_segments = (SUBSCRIBER_SSN,)
    first.payer.other_segments = (PAYER_SECONDARY,)
    first.other_segments = (CLAIM_NOTE, SUPERVISING[claim_type], *OTHER_SUBSCRIBER)
    return [first, second]


def _write(claims_: list[Claim]) -> str:
    return write_837(claims_, HEADER, CounterControlNumbers(), SUBMITTER, RECEIVER).text


def _segments(text: str) -> list[str]:
    return [s.strip() for s in text.split("~") if s.strip()]


@cache
def situational(text: str) -> tuple[tuple[str, int, int], ...]:
    """(what, start, end) of each situational segment, and each repeat of a situational
    loop, of the valid file ``text`` (segments ``start`` to ``end`` - 1), by pyx12's map."""
    errors, usage = pyx12_walk(text)
    assert errors == []
    assert len(usage) == len(_segments(text)), "pyx12 did not place every segment"
    found = []
    for start, node in enumerate(usage):
        if node.starts_loop and node.loop_usage == "S":
            end = start + 1
            while end < len(usage) and usage[end].path.startswith(node.loop + "/") and not (
                    usage[end].starts_loop and usage[end].loop == node.loop):
                end += 1
            found.append((f"loop {node.loop.rsplit('/', 1)[1]}", start, end))
        elif not node.starts_loop and node.usage == "S":
            loop, segment = node.path.rsplit("/", 2)[1:]
            found.append((f"{loop} {segment}", start, start + 1))
    return tuple(found)


def without(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the segments of ``spans``; each SE01 recounted."""
    dropped = {n for start, end in spans for n in range(start, end)}
    kept = [s for n, s in enumerate(_segments(text)) if n not in dropped]
    for n, segment in enumerate(kept):
        if segment.startswith("ST*"):
            st = n
        elif segment.startswith("SE*"):
            kept[n] = f"SE*{n - st + 1}*{segment.split('*')[2]}"
    return "~\n".join(kept) + "~\n"


def read_claims(text: str) -> list[Claim]:
    document = X12Reader(text.encode(), {"837": parse_837}).read()
    return [claim for body in document.bodies() for claim in body.claims]


def check_read(text: str) -> list[Claim]:
    """The oracle's bargain: a file pyx12 accepts is read, one claim per CLM."""
    claims_ = read_claims(text)
    assert len(claims_) == sum(s.startswith("CLM*") for s in _segments(text))
    return claims_


# -- (a) each situational segment and loop of the rich seeds, one at a time --------------------

@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_each_situational_segment_left_out_is_read_when_pyx12_accepts(
        claim_type: ClaimType) -> None:
    seed = _write(_rich_claims(claim_type))
    candidates = situational(seed)
    tried: set[str] = set()
    accepted: list[str] = []
    read_back: list[Claim] = []
    for what, start, end in candidates:
        if what in tried:  # a second repeat of the same map node adds nothing
            continue
        tried.add(what)
        text = without(seed, [(start, end)])
        if pyx12_errors(text):
            continue
        accepted.append(what)
        read_back += check_read(text)
    # Not vacuous: the payer's address, the pay-to loop, the COB loop, notes, ... are tried.
    assert {"2010BB N3", "2010BB N4", "2010BA N3", "loop 2010AB", "loop 2320",
            "2300 NTE"} <= {what.split("[")[0] for what in accepted}, accepted
    # What was read from the files left short is written as a valid file again.
    assert pyx12_errors(_write(read_back)) == []


# -- (b) simulated claims, several situational segments left out at once ---------------------

# No shrinking: with pyx12 in the loop it takes minutes; the failing example is printed.
@settings(max_examples=10, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.sampled_from(list(ClaimType)), st.integers(1, 2), st.data())
def test_simulated_claims_without_situational_segments_are_read_when_pyx12_accepts(
        seed: int, claim_type: ClaimType, count: int, data: st.DataObject) -> None:
    seed_text = _write(ClaimFactory(seed, "situational").claims(count, claim_type))
    candidates = situational(seed_text)
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=4,
                                unique=True))
    text = without(seed_text, [(start, end) for _, start, end in chosen])
    if pyx12_errors(text):
        event("pyx12 refuses the file")
        return
    event("pyx12 accepts the file")
    read_back = check_read(text)
    if read_back:  # a 2300 loop is situational in 2000B: the only claim may be left out
        assert pyx12_errors(_write(read_back)) == []
