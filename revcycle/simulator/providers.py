"""A simulated provider client: its practices, hospital and patients, and the claims it bills.

:class:`ClaimFactory` builds a tenant from a seed (billing providers with well-formed NPIs
and EINs, physicians, a member roster across a few payers) and then draws 837P and 837I
claims that the whole scrub catalog passes without a finding: valid NPIs, billable
ICD-10-CM codes that fit the patient's age and sex and that no Excludes1 note keeps apart,
diagnosis pointers in range and reaching every diagnosis, CLM02 equal to the sum of the
lines, dates of service before the business date, unique control numbers, places of
service and modifiers that go together, and no two claims for one patient on one day.

Everything is drawn from one ``random.Random`` seeded from the tenant and the seed, and
dates count back from ``as_of`` (the business date), so the same arguments always give
the same claims. Names, streets and member ids are made up; the procedure codes are
bare codes (CPT descriptors are AMA content and are not shipped).

``generate(..., defect_rate=)`` then breaks a share of the claims on purpose, one known
defect each (now and then two), named by the scrub rule it trips, and says which: the
scrubber's tests check that exactly those claims trip exactly those rules. A rule id of
the catalog is a tag (:data:`ALL_DEFECT_TAGS`, each with its :data:`DEFECT_SEVERITY`); by
default only the errors that reach the pipeline's scrub stage are drawn
(:data:`DEFECT_TAGS`). The defects are drawn from a second stream, so the claims left
clean are the same whatever the rate; ``corrections=True`` adds formatting that
auto-correction undoes (:data:`CORRECTION_TAGS`) from a third. :class:`SimulatedReference`
holds the small made-up HCPCS, NCCI and MUE tables the defects of the rules that need
loaded tables are built against.

Every string is X12-safe: no ``*``, ``:``, ``~`` or ``^``; person names use only A-Z,
spaces and hyphens.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from revcycle.codesets.npi import calc_check_digit
from revcycle.model.claim import (
    Address,
    Claim,
    ClaimBatch,
    ClaimType,
    OtherPayer,
    OtherSubscriber,
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)

DEFAULT_AS_OF = date(2026, 11, 2)

DEFECT_TAGS: tuple[str, ...] = (
    "NPI-01", "DX-01", "BAL-01", "DT-01", "PTR-01", "DUP-01",
    "SYN-03", "SYN-06", "ID-01", "ID-02", "ID-03", "ID-04", "DEM-02", "DT-03", "DX-04",
    "DX-05", "PROC-01", "PROC-03", "MOD-01", "MOD-03", "MOD-04", "POS-01", "POS-02", "DUP-02",
)
"""The seeded defects ``generate`` draws by default, named by the scrub rule each trips.

Each is an ERROR that travels in an 837 (and in the claims CSV) and passes the quality
suites (``expectations/``), so in the pipeline it is the scrub stage that stops it:

- ``NPI-01`` a provider NPI with a wrong check digit;
- ``DX-01`` a diagnosis that is not a billable ICD-10-CM code;
- ``BAL-01`` CLM02 different from the sum of the line charges;
- ``DT-01`` the claim moved so that its last date of service is after the business date;
- ``PTR-01`` a diagnosis pointer past the claim's diagnoses (837P);
- ``DUP-01`` a second copy of an earlier claim of the batch, under its own control number;
- ``SYN-03`` a replacement or void (frequency 7 or 8) without its original claim reference;
- ``SYN-06`` a line without a line control number, or with another line's;
- ``ID-01`` the billing provider's tax id one digit short or long;
- ``ID-02`` the billing provider's taxonomy code mistyped (no final X, a letter among the
  first three characters);
- ``ID-03`` the billing provider's street address replaced by a post office box;
- ``ID-04`` the billing provider's ZIP code cut to five digits;
- ``DEM-02`` a patient loop repeating the subscriber (who is the patient);
- ``DT-03`` the claim moved back past the payer's filing limit (``filing_limit_days``);
- ``DX-04`` an external-cause code (V00-Y99) as the first diagnosis;
- ``DX-05`` two diagnoses that an ICD-10-CM Excludes1 note keeps apart;
- ``PROC-01`` a procedure code mistyped (a letter among its digits);
- ``PROC-03`` an add-on procedure code without any of its primary codes;
- ``MOD-01`` a modifier that is not in the modifier list;
- ``MOD-03`` the same modifier twice on a line;
- ``MOD-04`` conflicting modifiers on a line (26 and TC, 59 and an X modifier, 50 and a side);
- ``POS-01`` a place of service that CMS has not assigned (the claim's or a line's);
- ``POS-02`` a facility place of service (hospital) without the service facility loop;
- ``DUP-02`` a line billed twice on the claim (same code, modifiers and date).

The other tags are drawn only when ``defects=`` names them:
:data:`QUALITY_DEFECT_TAGS`, :data:`WARNING_DEFECT_TAGS` and :data:`REFERENCE_DEFECT_TAGS`.
Each defect changes a clean claim as little as it can, so that it trips its rule and no
other (at any severity).
"""

QUALITY_DEFECT_TAGS: tuple[str, ...] = ("SYN-01", "SYN-04", "SYN-05", "DEM-01", "DX-06",
                                        "MOD-02")
"""ERROR defects that the pipeline stops before the scrub (the quality suites, or the
837 writer), so they are not drawn by default:

- ``SYN-01`` a patient control number of 21 to 24 characters (DQ-CLM-03);
- ``SYN-04`` a line charge of zero or less, CLM02 still their sum (DQ-LIN-07);
- ``SYN-05`` a line with zero or negative units (DQ-LIN-09);
- ``DEM-01`` a birth date missing (837P), in the future, after the date of service or more
  than 120 years before it (DQ-CLM-21/23/25/26 for all but the last);
- ``DX-06`` an 837P with 13 or 14 diagnoses (``write_837`` refuses it; DQ-CLM-08);
- ``MOD-02`` five or six modifiers on a line (SV101 holds four; DQ-LIN-14).
"""

WARNING_DEFECT_TAGS: tuple[str, ...] = ("SYN-02", "DX-02", "DX-03", "DX-07")
"""Defects that a WARNING rule flags (the claim is still sent):

- ``SYN-02`` a patient control number of 18 to 20 characters;
- ``DX-02`` a diagnosis meant for another age (a newborn code past the first year, an
  adult examination for a baby);
- ``DX-03`` a diagnosis meant for the other sex;
- ``DX-07`` a diagnosis that no line points at (837P).
"""

REFERENCE_DEFECT_TAGS: tuple[str, ...] = ("PROC-02", "NCCI-01", "MUE-01")
"""Defects that only a loaded reference table can catch; their rules say they did not run
without one. :class:`SimulatedReference` holds the tables they are built against:

- ``PROC-02`` a HCPCS Level II code that was discontinued before the date of service;
- ``NCCI-01`` a line added with a code that an NCCI edit bundles into another line's code
  on the same date, without a bypass modifier;
- ``MUE-01`` a line's units above the code's medically unlikely edit.
"""

CORRECTION_TAGS: tuple[str, ...] = ("FIX-01", "FIX-02", "FIX-03")
"""Correctable formatting (``generate(..., corrections=True)``), named by the
auto-correction that undoes it: ``FIX-01`` a code or taxonomy in lower case, ``FIX-02`` an
NPI or tax id with dashes or spaces, ``FIX-03`` a nine-digit ZIP code written ZIP+4 style
(``62701-1234``). Corrected, the claim is exactly the clean claim it was made from.
"""

ALL_DEFECT_TAGS: tuple[str, ...] = (
    *DEFECT_TAGS, *QUALITY_DEFECT_TAGS, *WARNING_DEFECT_TAGS, *REFERENCE_DEFECT_TAGS)
"""Every tag ``defects=`` accepts."""

DEFECT_SEVERITY: dict[str, str] = {
    tag: "WARNING" if tag in WARNING_DEFECT_TAGS or tag in CORRECTION_TAGS else "ERROR"
    for tag in (*ALL_DEFECT_TAGS, *CORRECTION_TAGS)
}
"""The severity ("ERROR" or "WARNING") of the finding each tag's rule raises by default."""

# ------------------------------------------------------------------ people and places

_LAST_NAMES = (
    "TESTWELL", "SAMPLEFORD", "MOCKRIDGE", "FAKEWORTH", "DUMMERTON", "SYNTHWOOD",
    "PLACEHOLM", "EXAMPLAR", "FICTONE", "MADEUPSON", "PRETENDER", "NOTAREAL", "TESTMAN",
    "SAMPLESON", "MOCKINGTON", "FAUXBERRY", "SIMULANT", "DEMOLANE", "TRIALBY", "PROTOTYPE",
    "MOCK-TESTWELL", "SAMPLE-FAUX", "DE TESTA", "VAN SAMPLE",
)
_FIRST_NAMES = {
    "F": ("ANNA", "BETH", "CARLA", "DANA", "ELLA", "FAYE", "GINA", "HANNA", "IRIS", "JUNE",
          "KARA", "LENA", "MAYA", "NORA", "OLIVE", "PAIGE", "RUBY", "SARA", "TESS", "VERA",
          "ANNE-MARIE"),
    "M": ("ADAM", "BEN", "CARL", "DEAN", "ERIC", "FRED", "GARY", "HANK", "IVAN", "JACK",
          "KURT", "LEO", "MAX", "NED", "OWEN", "PAUL", "REX", "SAM", "TOM", "WADE",
          "JEAN-LUC"),
}
_INITIALS = "ABCDEFGHJKLMNPRSTW"
_SUFFIXES = ("JR", "SR", "II", "III")
_STREETS = (
    "TESTING", "SAMPLE", "MOCKINGBIRD", "PLACEHOLDER", "EXAMPLE", "FICTION", "DEMO",
    "PRETEND", "SYNTHETIC", "MAKEBELIEVE", "DUMMY", "IMAGINARY",
)
_STREET_TYPES = ("ST", "AVE", "RD", "LN", "DR", "CT", "WAY", "BLVD", "PL")
# A few real city / state / ZIP triples (public geography) so addresses are coherent.
_REGIONS = {
    "IL": (("SPRINGFIELD", "62701"), ("PEORIA", "61602"), ("CHAMPAIGN", "61820")),
    "OH": (("COLUMBUS", "43215"), ("DAYTON", "45402"), ("TOLEDO", "43604")),
    "TX": (("AUSTIN", "78701"), ("WACO", "76701"), ("TYLER", "75702")),
    "CO": (("DENVER", "80202"), ("BOULDER", "80302"), ("PUEBLO", "81003")),
    "NC": (("RALEIGH", "27601"), ("DURHAM", "27701"), ("CARY", "27511")),
    "WI": (("MADISON", "53703"), ("GREEN BAY", "54301"), ("APPLETON", "54911")),
}
_STATES = tuple(_REGIONS)
# Campus prefixes the IRS assigns, so the EINs look like EINs.
_EIN_PREFIXES = ("20", "26", "27", "45", "46", "47", "81", "82", "83", "84")
_MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # the MBI never uses S, L, O, I, B, Z
_MBI_ALNUM = "0123456789" + _MBI_LETTERS
_DIGITS = "0123456789"

# ------------------------------------------------------------------ payers


@dataclass(frozen=True, slots=True)
class PayerProfile:
    """A payer of the simulated market, and what its members and claims look like."""

    name: str
    payer_id: str
    professional_filing: str  # SBR09 on 837P claims
    institutional_filing: str  # SBR09 on 837I claims (Medicare Part A is MA, Part B MB)
    member_id_style: str  # "mbi" (Medicare shape), "digits" (11 digits) or "prefixed"
    member_id_prefix: str = ""  # three letters, for the "prefixed" style
    dependents: bool = False  # whether a patient can be a subscriber's spouse or child
    min_age: int = 0  # subscriber ages
    max_age: int = 64
    weight: int = 1  # share of the tenant's members
    street: str = "1 CLAIMS PLAZA"
    state: str = "IL"

    def payer(self) -> Payer:
        city, zip5 = _REGIONS[self.state][0]
        return Payer(self.name, self.payer_id, Address(self.street, city, self.state, zip5))


DEFAULT_PAYERS: tuple[PayerProfile, ...] = (
    PayerProfile("SIMULATED MEDICARE", "SIMA1", "MB", "MA", "mbi",
                 min_age=65, max_age=92, weight=3, street="100 MEDICARE SIMULATION WAY"),
    PayerProfile("SIMULATED MEDICAID", "SIMD1", "MC", "MC", "digits",
                 weight=2, street="200 STATE PLAN RD", state="OH"),
    PayerProfile("SAMPLE BLUE PLAN", "SIMB1", "BL", "BL", "prefixed", "XQB",
                 dependents=True, min_age=18, weight=3, street="300 SAMPLE BLUE AVE",
                 state="TX"),
    PayerProfile("TESTCARE COMMERCIAL", "SIMC1", "CI", "CI", "prefixed", "TCX",
                 dependents=True, min_age=18, weight=3, street="400 TESTCARE BLVD",
                 state="CO"),
    PayerProfile("MOCK HMO HEALTH", "SIMH1", "HM", "HM", "prefixed", "MHH",
                 dependents=True, min_age=18, weight=1, street="500 MOCK HMO DR",
                 state="NC"),
)

def profile_for(payer_id: str, name: str) -> PayerProfile:
    """The simulator's profile of a payer: its own for the payers it plays, else a plain
    commercial plan under the payer's id and name (so a day can be billed to a payer module
    someone just added)."""
    for profile in DEFAULT_PAYERS:
        if profile.payer_id == payer_id:
            return profile
    return PayerProfile(name, payer_id, "CI", "CI", "prefixed", "NEW", dependents=True,
                        min_age=18)


# ------------------------------------------------------------------ code sets

# Billable (leaf) ICD-10-CM codes, without the dot: code, sex ("" any), min age, max age.
_DIAGNOSES = (
    ("Z0000", "", 18, 120), ("Z0001", "", 18, 120), ("Z00121", "", 0, 17),
    ("Z00129", "", 0, 17), ("Z23", "", 0, 120), ("Z1231", "F", 40, 120),
    ("Z1211", "", 45, 120), ("Z79899", "", 18, 120), ("Z7901", "", 18, 120),
    ("Z6841", "", 20, 120), ("Z87891", "", 18, 120),
    ("E119", "", 18, 120), ("E1165", "", 18, 120), ("E1122", "", 18, 120),
    ("E785", "", 18, 120), ("E782", "", 18, 120), ("E039", "", 0, 120), ("E669", "", 0, 120),
    ("E6601", "", 0, 120), ("E559", "", 0, 120), ("D649", "", 0, 120), ("D509", "", 0, 120),
    ("I10", "", 18, 120), ("I2510", "", 30, 120), ("I4891", "", 30, 120),
    ("I509", "", 30, 120), ("N184", "", 18, 120), ("R7303", "", 18, 120),
    ("J069", "", 0, 120), ("J029", "", 0, 120), ("J0190", "", 0, 120), ("J209", "", 0, 120),
    ("J45909", "", 0, 120), ("J449", "", 40, 120), ("J189", "", 0, 120), ("J301", "", 0, 120),
    ("K219", "", 0, 120), ("K5900", "", 0, 120), ("K30", "", 0, 120), ("N390", "", 0, 120),
    ("N400", "M", 40, 120), ("R051", "", 0, 120), ("R0602", "", 0, 120), ("R079", "", 0, 120),
    ("R109", "", 0, 120), ("R519", "", 0, 120), ("R5383", "", 0, 120), ("R42", "", 0, 120),
    ("R112", "", 0, 120), ("M5450", "", 0, 120), ("M5416", "", 18, 120),
    ("M1711", "", 40, 120), ("M25561", "", 0, 120), ("M25562", "", 0, 120),
    ("M79601", "", 0, 120), ("M7918", "", 0, 120), ("F329", "", 12, 120),
    ("F411", "", 12, 120), ("F17210", "", 12, 120), ("G4700", "", 0, 120),
    ("G43909", "", 0, 120), ("G8929", "", 0, 120), ("H6590", "", 0, 120),
    ("H6691", "", 0, 120), ("L309", "", 0, 120), ("L700", "", 10, 120), ("B349", "", 0, 120),
    ("S93401A", "", 0, 120), ("S0990XA", "", 0, 120), ("S161XXA", "", 0, 120),
    ("S39012A", "", 0, 120), ("T7840XA", "", 0, 120),
)
_FIRST_LISTED_ONLY = frozenset({"Z0000", "Z0001", "Z00121", "Z00129"})
# Codes that guidelines combine into another code (hypertension with CKD or heart failure):
# a claim gets at most one of them.
_COMBINED = frozenset({"I10", "N184", "I509"})
_INJURY_PREFIXES = ("S", "T")
# Principal-diagnosis pools per kind of encounter (filtered by the patient's sex and age).
_DX_WELLNESS = ("Z0000", "Z0001", "Z00121", "Z00129")
_DX_THERAPY = ("M5450", "M5416", "M1711", "M25561", "M25562", "M79601", "S93401A",
               "S161XXA", "S39012A")
_DX_IMAGING = ("R079", "R109", "R0602", "M25561", "M25562", "S93401A", "M5450", "R519",
               "R42", "M79601", "S0990XA")
_DX_EMERGENCY = ("R079", "R109", "R0602", "R112", "R42", "R519", "S0990XA", "S93401A",
                 "T7840XA", "J069", "N390", "J189")
_DX_INPATIENT = ("J189", "I509", "N390", "J449", "I4891", "R079", "E1165", "D649")
_DX_ADMITTING = ("R0602", "R079", "R109", "R112", "R42", "R5383", "R051")
_DX_LAB = ("E119", "E785", "E039", "D649", "R5383", "R7303", "Z79899", "E559", "N184")
# Codes that are not billable ICD-10-CM codes (categories and retired codes), for DX-01.
_INVALID_DX = ("E11", "M545", "J45", "I25", "S934", "R10", "Z00")
_DX_COUNTS = (1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12)
# Pairs of the codes above that an ICD-10-CM Excludes1 note keeps off one claim (prediabetes
# and diabetes, tobacco dependence and its history, hay fever and allergic asthma or an
# allergic reaction, low back pain and a low back strain). Pairs within one category are
# kept apart by the one-code-per-category draw already.
_EXCLUDES1_PAIRS = (
    ("R7303", "E119"), ("R7303", "E1165"), ("R7303", "E1122"), ("F17210", "Z87891"),
    ("J301", "J45909"), ("J301", "T7840XA"), ("M5450", "S39012A"),
)


def _partners(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Each code of the pairs, and the codes it is paired with."""
    found: dict[str, set[str]] = {}
    for a, b in pairs:
        found.setdefault(a, set()).add(b)
        found.setdefault(b, set()).add(a)
    return {code: frozenset(others) for code, others in found.items()}


# The same for the non-billable codes of the DX-01 defect (an Excludes1 note names a
# category: R73 excludes E08-E13, M54.5 excludes S39.012).
_INVALID_DX_PAIRS = (("R7303", "E11"), ("S39012A", "M545"))
_EXCLUDES1 = _partners((*_EXCLUDES1_PAIRS, *_INVALID_DX_PAIRS))
_NO_CODES: frozenset[str] = frozenset()
_MAX_POINTERS = 4  # an 837P line points at four diagnoses at most (SV107)


def _fees(table: str) -> dict[str, Decimal]:
    fees = {}
    for pair in table.split():
        code, amount = pair.split("=")
        fees[code] = Decimal(amount)
    return fees


# Base charge per unit, before each billing provider's own fee-schedule factor.
_FEES = _fees("""
    99391=170 99392=180 99393=180 99394=200 99395=210 99396=230 99397=250
    99202=120 99203=180 99204=270 99212=90 99213=140 99214=200 99215=280
    99221=210 99222=280 99223=380 99231=110 99232=160 99283=190 99284=320 99285=470
    36415=15 80053=55 80061=60 85025=35 83036=40 84443=50 81002=12 87880=30 82947=15
    71046=95 73030=90 73610=90 72100=110 70450=650 74177=1200 76700=380 93000=60 93005=45
    96372=45 90471=35 90686=40 20610=180 97110=60 97140=55
    J1100=12 J3301=20 J1885=10 J0696=25 G0439=190 G0008=35 G2211=30 G0463=150
""")
# 837I lines billed by revenue code alone (inpatient), per unit.
_REVENUE_FEES = _fees("""
    0120=2400 0250=18 0270=25 0300=45 0320=180 0410=90 0450=950 0730=120
""")
_NEW_VISITS = ("99202", "99203", "99204")
# Established-patient preventive visits by age: (below this age, code).
_PREVENTIVE_VISITS = ((1, "99391"), (5, "99392"), (12, "99393"), (18, "99394"),
                      (40, "99395"), (65, "99396"), (200, "99397"))
_VISITS = ("99212", "99213", "99213", "99214", "99214", "99215")
_TELEHEALTH_VISITS = ("99212", "99213", "99214")
_ED_VISITS = ("99283", "99284", "99284", "99285")
_LABS = ("80053", "80061", "85025", "83036", "84443", "82947", "81002", "87880")
_DRUGS = (("J1100", 4, 10), ("J3301", 1, 4), ("J1885", 1, 2), ("J0696", 1, 4))
_SIDED_XRAYS = ("73030", "73610")
_READS = ("71046", "73030", "73610", "72100", "70450", "74177", "76700")
_NEEDS_AUTH = frozenset({"70450", "74177"})
_SIDES = ("LT", "RT")
# 837I outpatient: revenue code and the HCPCS codes billed under it.
_OUTPATIENT_REVENUE = {
    "lab": ("0300", ("80053", "80061", "85025", "83036", "84443", "36415")),
    "xray": ("0320", ("71046", "73030", "73610", "72100")),
    "ct": ("0350", ("70450", "74177")),
    "ultrasound": ("0402", ("76700",)),
    "ekg": ("0730", ("93005",)),
    "therapy": ("0420", ("97110", "97140")),
    "clinic": ("0510", ("G0463",)),
}
_INPATIENT_ANCILLARY = (("0250", 3, 20), ("0270", 1, 10), ("0300", 2, 10), ("0320", 1, 2),
                        ("0410", 1, 8), ("0730", 1, 1))
_PATIENT_STATUS = ("01", "01", "01", "01", "01", "01", "06", "03", "62")

_TAXONOMY = {
    "primary": ("207Q00000X", "207R00000X", "363LF0000X"),
    "therapy": ("225100000X",),
    "emergency": ("207P00000X",),
    "radiology": ("2085R0202X",),
    "hospitalist": ("208M00000X",),
}
_CENT = Decimal("0.01")
_UNITS = tuple(Decimal(n) for n in range(0, 31))

# ------------------------------------------------------------------ what the defects use

# Who may carry which diagnosis: code -> (sex or "", youngest, oldest), from _DIAGNOSES.
_DX_FIT = {code: (sex, low, high) for code, sex, low, high in _DIAGNOSES}
# Codes meant for one age (the scrub's age edits): newborn conditions for anyone past the
# first year, an adult examination for a baby.
_NEWBORN_ONLY = ("P0739", "P0730", "P929", "P810", "P832")
_ADULT_ONLY = ("Z0000", "Z0001")
# Codes meant for one sex: female pelvic organs, male genital organs.
_FEMALE_ONLY = ("N946", "N926", "N912", "N898")
_MALE_ONLY = ("N400", "N529", "N5201", "N471", "N411")
# External causes (V00-Y99): they tell how an injury happened, never what was treated.
_EXTERNAL_CAUSES = ("W010XXA", "W1830XA", "W19XXXA", "X58XXXA", "V0300XA", "W2209XA",
                    "W540XXA", "X500XXA")
# Add-on codes whose primaries the simulated practices never bill.
_ORPHAN_ADDONS = ("11045", "15101", "22614", "64480", "96367", "11103", "17003")
# Add-on codes the clean claims carry, and their primaries: a defect never takes away
# the primary of an add-on on the claim.
_ADDON_PRIMARIES = {"G2211": frozenset({"99202", "99203", "99204", "99205", "99211", "99212",
                                        "99213", "99214", "99215"})}
# Two characters that are no modifier, and modifiers that conflict with nothing here.
_BAD_MODIFIERS = ("ZZ", "Z1", "0Z", "Y9", "9Y", "WW")
_SAFE_MODIFIERS = ("KX", "GA", "GP", "76", "CR", "AI", "Q6")
_CONFLICTS = {"26": ("TC",), "TC": ("26",), "LT": ("50",), "RT": ("50",),
              "59": ("XE", "XP", "XS", "XU")}
_CONFLICTING_PAIRS = (("26", "TC"), ("59", "XU"), ("59", "XS"), ("50", "RT"), ("50", "LT"))
# Place of service codes CMS has left unassigned, and the facility places the plans use.
_UNASSIGNED_PLACES = ("00", "28", "30", "35", "38", "45", "48", "70", "80", "90", "96")
_FACILITY_PLACES = ("21", "22", "23")
_PO_BOXES = ("PO BOX", "P.O. BOX", "P O BOX", "POST OFFICE BOX")

# The reference tables of the simulated market (SimulatedReference), made up for the
# simulator over the codes it bills: codes only, no descriptors.
_RETIRED_HCPCS = ("G0202", "G0204", "G0206")  # discontinued on 2018-01-01
_RETIRED_ON = date(2018, 1, 1)
_ACTIVE_HCPCS = frozenset(code for code in _FEES if code[0].isalpha())
# NCCI: each billed code bundles two needle codes on the same date (indicator 1: a bypass
# modifier lets them through; 0: never); 97140 with 97110 passes with its 59.
_NCCI_PARTNERS = {"36000": ("1", Decimal("20.00")), "36410": ("0", Decimal("25.00"))}
_NCCI = {(code, partner): indicator for code in _FEES
         for partner, (indicator, _) in _NCCI_PARTNERS.items()}
_NCCI[("97110", "97140")] = "1"
# MUE: at least twice what a clean claim bills, so a line billed twice stays within.
_MUE = {code: Decimal(units) for code, units in (
    ("97110", 8), ("97140", 8), ("J1100", 20), ("J3301", 8), ("J1885", 4), ("J0696", 8),
    ("36415", 2), ("96372", 2), ("20610", 2), ("90471", 2), ("90686", 2), ("93000", 2),
    ("85025", 2), ("80053", 2))}


class SimulatedReference:
    """The HCPCS, NCCI and MUE tables of the simulated market, in memory.

    Implements :class:`revcycle.codesets.reference.ReferenceData` with small made-up
    tables over the codes the simulator bills, so that the ``PROC-02``, ``NCCI-01`` and
    ``MUE-01`` defects can be caught without CMS files: every HCPCS Level II code a clean
    claim carries is active, and the clean claims stay within every edit.
    """

    def loaded(self, table: str, claim_type: str | None = None) -> bool:
        return table in ("hcpcs", "ncci_ptp", "mue")

    def hcpcs_active(self, code: str, on: date) -> bool | None:
        if code in _RETIRED_HCPCS:
            return on < _RETIRED_ON
        return code in _ACTIVE_HCPCS

    def ncci_modifier_indicator(self, column1: str, column2: str, on: date,
                                claim_type: str = "837P") -> str | None:
        return _NCCI.get((column1, column2))

    def mue_limit(self, code: str, on: date, claim_type: str) -> Decimal | None:
        return _MUE.get(code)


# ------------------------------------------------------------------ results


class Simulation(NamedTuple):
    """Claims, and the defect tags each deliberately broken claim carries."""

    claims: list[Claim]
    defects: dict[str, tuple[str, ...]]  # patient control number -> tags


@dataclass(slots=True)
class _Member:
    """One covered person (the subscriber) and, for a dependent's claims, the patient."""

    payer: int  # index into the factory's payers
    last_name: str
    first_name: str
    middle_name: str
    name_suffix: str
    birth_date: date
    sex: str
    address: Address
    member_id: str
    group_number: str
    patient: Patient | None
    age: int  # the patient's age in years on the business date
    patient_sex: str


@dataclass(slots=True)
class _Item:
    """A line of a plan, before dates, prices and pointers."""

    code: str
    units: int = 1
    modifiers: tuple[str, ...] = ()
    day: int = 0  # days after the claim's first date
    revenue: str = ""
    unit_basis: str = "UN"
    days: int = 0  # a line spanning days (room and board)


@dataclass(slots=True)
class _Plan:
    """What an encounter bills: where, by whom, which lines, and what it was for."""

    place: str
    role: str
    items: list[_Item]
    principal: tuple[str, ...] | None = None  # pool for the first diagnosis
    facility: str = ""  # "hospital" or "clinic" when the service was not at the billing site
    emergency: bool = False  # 837I: admitted through the emergency room


class _Random(random.Random):
    """``choice``, ``randint`` and ``sample`` from one ``random()`` draw per pick.

    The standard versions reject and redraw to be exactly uniform; the claims do not
    need that, and the benchmarks need many claims fast.
    """

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def sample(self, population, k, *, counts=None):  # type: ignore[override]
        if counts is not None or not 0 <= k <= len(population):
            return super().sample(population, k, counts=counts)
        pool = list(population)
        n = len(pool)
        for i in range(k):  # the first k steps of a Fisher-Yates shuffle
            j = i + int(self.random() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


def _copy_address(a: Address) -> Address:
    return Address(a.line1, a.city, a.state, a.postal_code, a.line2)


def _copy_provider(p: Provider) -> Provider:
    return Provider(p.entity_type, p.last_name, p.first_name, p.npi, p.taxonomy, p.tax_id,
                    p.tax_id_qualifier, _copy_address(p.address) if p.address else None)


def _cover(pointers: list[tuple[int, ...]], count: int) -> list[tuple[int, ...]]:
    """The lines' pointers with each of ``count`` diagnoses pointed at by some line: one
    not pointed at goes on a line with room, or takes the place of a pointer that another
    line holds too (there is one when every line is full: ``count`` fits the lines)."""
    held = Counter(p for line in pointers for p in line)
    for p in range(1, count + 1):
        if held[p]:
            continue
        room = next((n for n, line in enumerate(pointers) if len(line) < _MAX_POINTERS), None)
        if room is not None:
            pointers[room] = (*pointers[room], p)
        else:
            room, spare = next((n, q) for n, line in enumerate(pointers) for q in line
                               if held[q] > 1)
            pointers[room] = tuple(p if q == spare else q for q in pointers[room])
            held[spare] -= 1
        held[p] += 1
    return pointers


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _tenant_prefix(tenant: str) -> str:
    prefix = "".join(c for c in tenant.upper() if c.isascii() and c.isalnum())[:6]
    if not prefix:
        raise ValueError("tenant must contain at least one ASCII letter or digit")
    return prefix


# ------------------------------------------------------------------ the factory


class ClaimFactory:
    """A simulated provider client (tenant) that bills claims, deterministic for its seed.

    Successive calls continue the same streams: control numbers keep counting and no
    patient gets two claims of one type on one day across calls.

    ``cob_rate`` (default 0: none) is the share of members with a second coverage with
    another of ``payers``: their claims name it in a 2320/2330 loop as the secondary
    payer (SBR01 S, not yet paid), the claim's own payer being primary.
    """

    def __init__(
        self,
        seed: int,
        tenant: str = "SIMULATED",
        *,
        as_of: date = DEFAULT_AS_OF,
        payers: Sequence[PayerProfile] = DEFAULT_PAYERS,
        members: int = 400,
        lookback_days: int = 90,
        institutional_share: float = 0.2,
        cob_rate: float = 0.0,
    ) -> None:
        if isinstance(as_of, datetime):
            as_of = as_of.date()
        if not payers:
            raise ValueError("at least one payer profile is needed")
        if not 14 <= lookback_days <= 300:
            raise ValueError("lookback_days must be between 14 and 300")
        if members < 1:
            raise ValueError("members must be at least 1")
        if not 0.0 <= institutional_share <= 1.0:
            raise ValueError("institutional_share must be between 0 and 1")
        if not 0.0 <= cob_rate <= 1.0:
            raise ValueError("cob_rate must be between 0 and 1")
        self.cob_rate = cob_rate
        self.tenant = tenant
        self.as_of = as_of
        self.lookback_days = lookback_days
        self.institutional_share = institutional_share
        self._prefix = _tenant_prefix(tenant)
        key = f"{self._prefix}:{seed}"
        self._rng = _Random(key)
        self._defect_rng = random.Random(f"{key}:defects")
        self._correction_rng = random.Random(f"{key}:corrections")
        self._cob_key = f"{key}:cob"
        self._filing_limit = 365
        rng = self._rng
        self._token = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
        self._sequence = 0
        self._batches = 0
        self._profiles = tuple(payers)
        self._payers = tuple(p.payer() for p in payers)
        self._payer_weights = [p.weight for p in payers]
        self._npis: set[str] = set()
        self._member_ids: set[str] = set()
        self._used: set[tuple[int, str, int]] = set()  # (member, claim type, day ordinal)
        self._pools: dict[tuple[str, int, bool], tuple[str, ...]] = {}
        self._principal_pools: dict[tuple[tuple[str, ...], str, int], tuple[str, ...]] = {}
        self._build_roster()
        self._members = [self._new_member() for _ in range(members)]

    # ---------------------------------------------------------------- the tenant's roster

    def _build_roster(self) -> None:
        rng = self._rng
        self.state = rng.choice(_STATES)
        surnames = rng.sample(_LAST_NAMES, 5)
        self.primary_group = self._organization(f"{surnames[0]} FAMILY MEDICINE", "261QP2300X")
        self.hospital_group = self._organization(f"{surnames[1]} HOSPITAL PHYSICIANS",
                                                 "193200000X")
        self.hospital = self._organization(f"{surnames[2]} GENERAL HOSPITAL", "282N00000X")
        clinic_address = self._address(self.state, business=True)
        self.clinic = Provider("2", f"{surnames[0]} CLINIC NORTH",
                               npi=self._npi("2"), address=clinic_address)
        self.submitter = Submitter(f"{surnames[3]} BILLING SERVICES", f"SIM{self._prefix}",
                                   contact_name="BILLING DESK", contact_phone="2175550100")
        self.physicians: dict[str, list[Provider]] = {}
        for role, taxonomies in _TAXONOMY.items():
            count = 4 if role in ("primary", "hospitalist") else 2
            self.physicians[role] = [self._person(rng.choice(taxonomies)) for _ in range(count)]
        self._billing = {
            "primary": self.primary_group, "therapy": self.primary_group,
            "emergency": self.hospital_group, "radiology": self.hospital_group,
            "hospitalist": self.hospital_group,
        }
        # Each billing provider charges its own multiple of the base fees.
        self._prices: dict[str, dict[str, Decimal]] = {}
        for provider in (self.primary_group, self.hospital_group, self.hospital):
            factor = Decimal(rng.randint(90, 160)) / 100
            table = {code: (fee * factor).quantize(_CENT) for code, fee in _FEES.items()}
            table.update({f"R{code}": (fee * factor).quantize(_CENT)
                          for code, fee in _REVENUE_FEES.items()})
            self._prices[provider.npi] = table

    @property
    def billing_providers(self) -> tuple[Provider, ...]:
        """The providers this tenant's claims are billed under (2010AA): its two groups and
        its hospital, each with an NPI, an EIN and a name."""
        return (self.primary_group, self.hospital_group, self.hospital)

    def _npi(self, first: str) -> str:
        rng = self._rng
        while True:
            body = first + "".join(rng.choices(_DIGITS, k=8))
            number = body + calc_check_digit(body)
            if number not in self._npis:
                self._npis.add(number)
                return number

    def _organization(self, name: str, taxonomy: str) -> Provider:
        rng = self._rng
        ein = rng.choice(_EIN_PREFIXES) + "".join(rng.choices(_DIGITS, k=7))
        return Provider("2", name, npi=self._npi("2"), taxonomy=taxonomy, tax_id=ein,
                        tax_id_qualifier="EI", address=self._address(self.state, business=True))

    def _person(self, taxonomy: str) -> Provider:
        rng = self._rng
        return Provider("1", rng.choice(_LAST_NAMES), rng.choice(_FIRST_NAMES[rng.choice("FM")]),
                        npi=self._npi("1"), taxonomy=taxonomy)

    def _address(self, state: str, *, business: bool = False) -> Address:
        rng = self._rng
        city, zip5 = rng.choice(_REGIONS[state])
        line1 = f"{rng.randint(10, 9899)} {rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
        if business:  # billing providers: a street address and a ZIP+4
            return Address(line1, city, state, f"{zip5}{rng.randint(1000, 9999)}",
                           f"STE {rng.randint(1, 6)}{rng.randint(0, 9)}0")
        line2 = f"APT {rng.randint(1, 40)}" if rng.random() < 0.2 else ""
        postal = f"{zip5}{rng.randint(1000, 9999)}" if rng.random() < 0.5 else zip5
        return Address(line1, city, state, postal, line2)

    # ---------------------------------------------------------------- members

    def _member_id(self, profile: PayerProfile) -> str:
        rng = self._rng
        while True:
            if profile.member_id_style == "mbi":
                c = rng.choice
                value = (c("123456789") + c(_MBI_LETTERS) + c(_MBI_ALNUM) + c(_DIGITS)
                         + c(_MBI_LETTERS) + c(_MBI_ALNUM) + c(_DIGITS) + c(_MBI_LETTERS)
                         + c(_MBI_LETTERS) + c(_DIGITS) + c(_DIGITS))
            elif profile.member_id_style == "digits":
                value = rng.choice("123456789") + "".join(rng.choices(_DIGITS, k=10))
            else:
                value = profile.member_id_prefix + "".join(rng.choices(_DIGITS, k=9))
            if value not in self._member_ids:
                self._member_ids.add(value)
                return value

    def _birth_date(self, age: int) -> date:
        """A birth date that makes the person ``age`` on every date a claim can carry.

        No birthday falls in the lookback period (nor the month before it, for onset
        dates), so age-specific codes fit on every date of service.
        """
        anniversary = _years_before(self.as_of, age)
        return anniversary - timedelta(days=self._rng.randint(self.lookback_days + 31, 364))

    def _new_member(self) -> _Member:
        rng = self._rng
        index = rng.choices(range(len(self._profiles)), self._payer_weights)[0]
        profile = self._profiles[index]
        age = rng.randint(profile.min_age, profile.max_age)
        sex = rng.choice("FM")
        last = rng.choice(_LAST_NAMES)
        middle = rng.choice(_INITIALS) if rng.random() < 0.4 else ""
        suffix = rng.choice(_SUFFIXES) if sex == "M" and rng.random() < 0.05 else ""
        address = self._address(self.state if rng.random() < 0.85 else rng.choice(_STATES))
        group = f"G{rng.randint(10000, 99999)}" if profile.member_id_style == "prefixed" else ""
        member = _Member(index, last, rng.choice(_FIRST_NAMES[sex]), middle, suffix,
                         self._birth_date(age), sex, address, self._member_id(profile), group,
                         None, age, sex)
        if profile.dependents and age >= 17 and rng.random() < 0.3:
            if rng.random() < 0.7:
                oldest = min(25, age - 17)  # a child is at least 16 years younger
                relationship, dep_age, dep_last = "19", rng.randint(0, oldest), last
            else:
                relationship, dep_age = "01", rng.randint(18, 64)
                dep_last = last if rng.random() < 0.8 else rng.choice(_LAST_NAMES)
            dep_sex = rng.choice("FM")
            member.patient = Patient(dep_last, rng.choice(_FIRST_NAMES[dep_sex]), relationship,
                                     self._birth_date(dep_age), dep_sex,
                                     address=_copy_address(address))
            member.age, member.patient_sex = dep_age, dep_sex
        return member

    def _subscriber(self, m: _Member, claim_type: ClaimType) -> Subscriber:
        profile = self._profiles[m.payer]
        filing = (profile.institutional_filing if claim_type is ClaimType.INSTITUTIONAL
                  else profile.professional_filing)
        return Subscriber(m.last_name, m.first_name, m.member_id, m.birth_date, m.sex,
                          m.middle_name, m.name_suffix, _copy_address(m.address),
                          group_number=m.group_number, claim_filing_indicator=filing)

    def _patient(self, m: _Member) -> Patient | None:
        p = m.patient
        if p is None:
            return None
        return Patient(p.last_name, p.first_name, p.relationship, p.birth_date, p.sex,
                       address=_copy_address(p.address) if p.address else None)

    # ---------------------------------------------------------------- diagnoses

    def _pool(self, sex: str, age: int, first: bool) -> tuple[str, ...]:
        key = (sex, age, first)
        pool = self._pools.get(key)
        if pool is None:
            pool = tuple(code for code, s, low, high in _DIAGNOSES
                         if (not s or s == sex) and low <= age <= high
                         and (first or code not in _FIRST_LISTED_ONLY))
            self._pools[key] = pool
        return pool

    def _principals(self, pool: tuple[str, ...], sex: str, age: int) -> tuple[str, ...]:
        key = (pool, sex, age)
        codes = self._principal_pools.get(key)
        if codes is None:
            allowed = self._pool(sex, age, True)
            codes = tuple(code for code in pool if code in allowed) or ("R5383",)
            self._principal_pools[key] = codes
        return codes

    def _diagnoses(self, m: _Member, principal: tuple[str, ...] | None, low: int,
                   most: int = 12) -> list[str]:
        rng = self._rng
        pool = self._pool(m.patient_sex, m.age, False)
        if principal:
            first = rng.choice(self._principals(principal, m.patient_sex, m.age))
        else:
            first = pool[int(rng.random() * len(pool))]
        codes = [first]
        categories = {"I10" if first in _COMBINED else first[:3]}
        want = min(max(low, rng.choice(_DX_COUNTS)), most)
        for _ in range(want * 4):
            if len(codes) >= want:
                break
            code = pool[int(rng.random() * len(pool))]
            category = "I10" if code in _COMBINED else code[:3]
            if category in categories or not _EXCLUDES1.get(code, _NO_CODES).isdisjoint(codes):
                continue
            codes.append(code)
            categories.add(category)
        return codes

    def _pointers(self, count: int, line: int) -> tuple[int, ...]:
        rng = self._rng
        if count == 1:
            return (1,)
        first = 1 if line == 0 or rng.random() < 0.6 else rng.randint(1, count)
        k = min(count, rng.choice((1, 1, 1, 2, 2, 3, 4)))
        if k == 1:
            return (first,)
        rest = [p for p in range(1, count + 1) if p != first]
        return (first, *rng.sample(rest, k - 1))

    # ---------------------------------------------------------------- plans (837P)

    def _professional_plan(self, m: _Member) -> _Plan:
        rng = self._rng
        medicare = self._profiles[m.payer].member_id_style == "mbi"
        roll = rng.random()
        if roll < 0.40:
            return self._office(m, medicare)
        if roll < 0.50:
            visit = _Item(rng.choice(_TELEHEALTH_VISITS),
                          modifiers=("GT",) if rng.random() < 0.15 else ("95",))
            return _Plan(rng.choice(("10", "02")), "primary", [visit])
        if roll < 0.58:
            return self._vaccine(medicare)
        if roll < 0.65:
            items = [_Item("97110", units=rng.randint(1, 4))]
            if rng.random() < 0.6:
                items.append(_Item("97140", units=rng.randint(1, 2), modifiers=("59",)))
            return _Plan("11", "therapy", items, _DX_THERAPY)
        if roll < 0.75:
            return _Plan("23", "emergency", [_Item(rng.choice(_ED_VISITS))], _DX_EMERGENCY,
                         facility="hospital")
        if roll < 0.88:
            return self._reads()
        stay = rng.randint(0, 4)
        items = [_Item(rng.choice(("99221", "99222", "99223")))]
        items += [_Item(rng.choice(("99231", "99232")), day=d) for d in range(1, stay + 1)]
        return _Plan("21", "hospitalist", items, _DX_INPATIENT, facility="hospital")

    def _office(self, m: _Member, medicare: bool) -> _Plan:
        rng = self._rng
        principal: tuple[str, ...] | None = None
        if not medicare and rng.random() < 0.12:  # a preventive visit, coded by age
            code = next(code for limit, code in _PREVENTIVE_VISITS if m.age < limit)
            visit = _Item(code)
            principal = _DX_WELLNESS
        elif rng.random() < 0.25:
            visit = _Item(rng.choice(_NEW_VISITS))
        else:
            visit = _Item(rng.choice(_VISITS))
        items = [visit]
        procedure = rng.random()
        if procedure < 0.15:  # an injection: the visit is a separate service (25)
            drug, low, high = rng.choice(_DRUGS)
            items += [_Item("96372"), _Item(drug, units=rng.randint(low, high))]
            visit.modifiers = ("25",)
        elif procedure < 0.22:  # a major-joint injection on one side
            items += [_Item("20610", modifiers=(rng.choice(_SIDES),)), _Item("J3301")]
            visit.modifiers = ("25",)
            principal = ("M1711", "M25561", "M25562")
        if rng.random() < 0.3:
            labs = rng.sample(_LABS, rng.randint(1, 3))
            items += [_Item("36415")] + [_Item(code) for code in labs]
            principal = principal or _DX_LAB
        if rng.random() < 0.1:
            items.append(_Item(rng.choice(_SIDED_XRAYS), modifiers=(rng.choice(_SIDES),)))
        if rng.random() < 0.08:
            items.append(_Item("93000"))
        if medicare and visit.code in _VISITS and not visit.modifiers and rng.random() < 0.2:
            items.append(_Item("G2211"))
        return _Plan("11", "primary", items[:6], principal,
                     facility="clinic" if rng.random() < 0.2 else "")

    def _vaccine(self, medicare: bool) -> _Plan:
        rng = self._rng
        items = [_Item("90686"), _Item("G0008" if medicare else "90471")]
        if medicare and rng.random() < 0.4:
            items.insert(0, _Item("G0439"))
        elif rng.random() < 0.3:
            items.insert(0, _Item(rng.choice(_VISITS), modifiers=("25",)))
        return _Plan("11", "primary", items, ("Z23",))

    def _reads(self) -> _Plan:
        rng = self._rng
        technical = rng.random() < 0.15  # the practice's own equipment, read elsewhere
        items = []
        for code in rng.sample(_READS, rng.choice((1, 1, 1, 2, 3))):
            mods = ("TC",) if technical else ("26",)
            if code in _SIDED_XRAYS:
                mods = (*mods, rng.choice(_SIDES))
            items.append(_Item(code, modifiers=mods))
        if technical:
            return _Plan("11", "primary", items, _DX_IMAGING)
        return _Plan(rng.choice(("22", "22", "21", "23")), "radiology", items, _DX_IMAGING,
                     facility="hospital")

    # ---------------------------------------------------------------- plans (837I)

    def _institutional_plan(self) -> tuple[str, _Plan]:
        rng = self._rng
        if rng.random() < 0.3:
            stay = rng.randint(1, 6)
            items = [_Item("", units=stay, revenue="0120", unit_basis="DA", days=stay)]
            emergency = rng.random() < 0.5  # admitted through the emergency room
            if emergency:
                items.insert(0, _Item("", revenue="0450"))
            for revenue, low, high in rng.sample(_INPATIENT_ANCILLARY, rng.randint(2, 4)):
                items.append(_Item("", units=rng.randint(low, high), revenue=revenue,
                                   day=rng.randint(0, stay)))
            return "11", _Plan("", "hospitalist", items, _DX_INPATIENT, emergency=emergency)
        kinds = rng.sample(tuple(_OUTPATIENT_REVENUE), rng.randint(1, 3))
        span = 1 if rng.random() < 0.1 else 0
        items = []
        for kind in kinds:
            revenue, codes = _OUTPATIENT_REVENUE[kind]
            chosen = rng.sample(codes, min(len(codes), rng.randint(1, 2)))
            for code in chosen:
                units = rng.randint(1, 4) if kind == "therapy" else 1
                mods: tuple[str, ...] = ()
                if code in _SIDED_XRAYS:
                    mods = (rng.choice(_SIDES),)
                elif code == "97140" and len(chosen) > 1:
                    mods = ("59",)
                items.append(_Item(code, units, mods, day=rng.randint(0, span), revenue=revenue))
        if rng.random() < 0.15:  # a drug given in the department
            drug, low, high = rng.choice(_DRUGS)
            items.append(_Item(drug, units=rng.randint(low, high), revenue="0636"))
        principal = _DX_THERAPY if "therapy" in kinds else _DX_LAB if "lab" in kinds else (
            _DX_IMAGING)
        return "13", _Plan("", "primary", items[:6], principal)

    # ---------------------------------------------------------------- claims

    def _next_pcn(self) -> str:
        self._sequence += 1
        pcn = f"{self._prefix}{self._token}{self._sequence:07d}"
        if len(pcn) > 20:
            raise ValueError("patient control numbers exhausted for this factory")
        return pcn

    def _claim(self, claim_type: ClaimType | None) -> Claim:
        rng = self._rng
        if claim_type is None:
            institutional = rng.random() < self.institutional_share
            claim_type = ClaimType.INSTITUTIONAL if institutional else ClaimType.PROFESSIONAL
        kind = claim_type.value
        # Find a member and dates on which that member has no claim of this type yet, so
        # that only the DUP-01 defect ever makes a duplicate. A new member is always free.
        for attempt in range(12):
            if attempt < 10:
                index = int(rng.random() * len(self._members))
            else:
                index = len(self._members)
                self._members.append(self._new_member())
            member = self._members[index]
            if claim_type is ClaimType.INSTITUTIONAL:
                facility_code, plan = self._institutional_plan()
            else:
                plan = self._professional_plan(member)
                facility_code = plan.place
            span = max(item.day + item.days for item in plan.items)
            start = self.as_of - timedelta(days=rng.randint(span + 1, self.lookback_days))
            first = start.toordinal()
            days = [(index, kind, d) for d in range(first, first + span + 1)]
            if not any(day in self._used for day in days):
                self._used.update(days)
                if claim_type is ClaimType.INSTITUTIONAL:
                    return self._institutional(member, plan, facility_code, start)
                return self._professional(member, plan, start)
        raise RuntimeError("no free date for a new member")  # pragma: no cover

    def _common(self, m: _Member, claim_type: ClaimType, billing: Provider,
                lines: list[ServiceLine], diagnoses: list[str], facility_code: str) -> Claim:
        rng = self._rng
        pcn = self._next_pcn()
        for number, line in enumerate(lines, 1):
            line.line_control_number = f"{pcn}-{number}"
        claim = Claim(
            claim_type, pcn, sum((ln.charge for ln in lines), Decimal("0.00")), facility_code,
            _copy_provider(billing), self._subscriber(m, claim_type),
            Payer(*self._payer_fields(m.payer)), tuple(diagnoses), lines,
            patient=self._patient(m))
        if rng.random() < 0.03:
            claim.frequency_code = "7"
            claim.original_claim_reference = rng.choice("123456789") + "".join(
                rng.choices(_DIGITS, k=13))
        if self.cob_rate:
            other = self._other_coverage(m, claim_type)
            if other is not None:
                claim.other_payers.append(other)
        return claim

    def _other_coverage(self, m: _Member, claim_type: ClaimType) -> OtherPayer | None:
        """The member's second coverage (2320/2330A/2330B), with another of the tenant's
        payers, for a ``cob_rate`` share of the members; None for the others.

        The claim's payer is primary (SBR01 P) and this one secondary (2320 SBR01 S),
        not yet paid: no AMT*D, no CAS. Drawn from a hash of the member (its own stream:
        the claims are otherwise the same whatever the rate), so every claim of the member
        names the same payer and member id."""
        if len(self._profiles) < 2:
            return None
        draws = random.Random(f"{self._cob_key}:{m.member_id}")
        if draws.random() >= self.cob_rate:
            return None
        others = [i for i in range(len(self._profiles)) if i != m.payer]
        profile = self._profiles[others[int(draws.random() * len(others))]]
        if profile.member_id_style == "mbi":
            c = draws.choice
            member_id = (c("123456789") + c(_MBI_LETTERS) + c(_MBI_ALNUM) + c(_DIGITS)
                         + c(_MBI_LETTERS) + c(_MBI_ALNUM) + c(_DIGITS) + c(_MBI_LETTERS)
                         + c(_MBI_LETTERS) + c(_DIGITS) + c(_DIGITS))
        elif profile.member_id_style == "digits":
            member_id = draws.choice("123456789") + "".join(draws.choices(_DIGITS, k=10))
        else:
            member_id = profile.member_id_prefix + "".join(draws.choices(_DIGITS, k=9))
        group = (f"G{draws.randint(10000, 99999)}" if profile.member_id_style == "prefixed"
                 else "")
        filing = (profile.institutional_filing if claim_type is ClaimType.INSTITUTIONAL
                  else profile.professional_filing)
        payer = profile.payer()
        return OtherPayer(
            "S", m.patient.relationship if m.patient is not None else "18",
            OtherSubscriber(m.last_name, member_id, m.first_name, m.middle_name,
                            m.name_suffix, address=_copy_address(m.address)),
            Payer(payer.name, payer.payer_id, payer.address), group_number=group,
            claim_filing_indicator=filing)

    def _payer_fields(self, index: int) -> tuple[str, str, Address | None]:
        p = self._payers[index]
        return p.name, p.payer_id, _copy_address(p.address) if p.address else None

    def _professional(self, m: _Member, plan: _Plan, start: date) -> Claim:
        rng = self._rng
        billing = self._billing[plan.role]
        prices = self._prices[billing.npi]
        # No more diagnoses than the lines can point at, and each pointed at by a line.
        diagnoses = self._diagnoses(m, plan.principal, 1, _MAX_POINTERS * len(plan.items))
        pointers = _cover([self._pointers(len(diagnoses), n) for n in range(len(plan.items))],
                          len(diagnoses))
        lines = []
        for item, line_pointers in zip(plan.items, pointers, strict=True):
            lines.append(ServiceLine(
                item.code, prices[item.code] * _UNITS[item.units], _UNITS[item.units],
                start + timedelta(days=item.day) if item.day else start,
                modifiers=item.modifiers, diagnosis_pointers=line_pointers))
        claim = self._common(m, ClaimType.PROFESSIONAL, billing, lines, diagnoses, plan.place)
        claim.rendering_provider = _copy_provider(rng.choice(self.physicians[plan.role]))
        if plan.facility == "hospital":
            h = self.hospital
            claim.service_facility = Provider("2", h.last_name, npi=h.npi,
                                              address=_copy_address(h.address))
        elif plan.facility == "clinic":
            claim.service_facility = _copy_provider(self.clinic)
        if any(code.startswith(_INJURY_PREFIXES) for code in diagnoses):
            claim.onset_date = start - timedelta(days=rng.randint(0, 10))
        if any(item.code in _NEEDS_AUTH for item in plan.items):
            claim.prior_authorization = "PA" + "".join(rng.choices(_DIGITS, k=8))
        return claim

    def _institutional(self, m: _Member, plan: _Plan, bill_type: str, start: date) -> Claim:
        rng = self._rng
        prices = self._prices[self.hospital.npi]
        inpatient = bill_type == "11"
        diagnoses = self._diagnoses(m, plan.principal, 3 if inpatient else 1)
        lines = []
        end = start
        for item in plan.items:
            units = _UNITS[item.units]
            price = prices[item.code] if item.code else prices["R" + item.revenue]
            day = start + timedelta(days=item.day)
            last = day + timedelta(days=item.days - 1) if item.days else None
            end = max(end, last or day)
            lines.append(ServiceLine(
                item.code, price * units, units, day, last, modifiers=item.modifiers,
                unit_basis=item.unit_basis, revenue_code=item.revenue))
        claim = self._common(m, ClaimType.INSTITUTIONAL, self.hospital, lines, diagnoses,
                             bill_type)
        claim.statement_from, claim.statement_to = start, end
        claim.provider_signature = ""  # CLM06 is not used on the 837I
        claim.attending_provider = _copy_provider(rng.choice(self.physicians[plan.role]))
        claim.patient_status = "01"
        if inpatient:
            # Discharged the day after the last night billed as room and board.
            nights = max(item.days for item in plan.items)
            claim.statement_to = max(end, start + timedelta(days=nights))
            claim.admission_date = start
            claim.admission_type = "1" if plan.emergency else rng.choice(("2", "3"))
            claim.admission_source = rng.choice(("1", "1", "2", "4"))
            claim.patient_status = rng.choice(_PATIENT_STATUS)
            claim.admitting_diagnosis = rng.choice(_DX_ADMITTING)
        else:
            claim.admission_type = "3"  # elective: scheduled tests and therapy
            claim.admission_source = rng.choice(("1", "2"))
        return claim

    # ---------------------------------------------------------------- public

    def claims(self, n: int, claim_type: ClaimType | None = None) -> list[Claim]:
        """``n`` clean claims; of both types (see ``institutional_share``) unless one is given."""
        if n < 0:
            raise ValueError("n must not be negative")
        return [self._claim(claim_type) for _ in range(n)]

    def generate(
        self,
        n: int,
        claim_type: ClaimType | None = None,
        *,
        defect_rate: float = 0.0,
        defects: Sequence[str] = DEFECT_TAGS,
        corrections: bool = False,
        filing_limit_days: int = 365,
    ) -> Simulation:
        """``n`` claims, a ``defect_rate`` share of them broken on purpose.

        Each broken claim carries one defect from ``defects`` (now and then two that
        change different parts of it), and the result maps its patient control number to
        the tags. The tags are dealt evenly among the claims each fits. Defects come from
        their own random stream: the clean claims are the same whatever the rate.

        ``filing_limit_days`` is the payer's filing limit a ``DT-03`` claim is past (at
        least ``lookback_days``, or clean claims would be late too). With
        ``corrections=True`` a ``defect_rate`` share of the claims left clean get
        correctable formatting too (:data:`CORRECTION_TAGS`, from a third stream: the
        defects are the same either way), tagged like the defects.
        """
        if not 0.0 <= defect_rate <= 1.0:
            raise ValueError("defect_rate must be between 0 and 1")
        unknown = set(defects) - set(ALL_DEFECT_TAGS)
        if unknown:
            raise ValueError(f"unknown defect tags: {sorted(unknown)}")
        if filing_limit_days < self.lookback_days:
            raise ValueError("filing_limit_days must be at least lookback_days")
        self._filing_limit = filing_limit_days
        claims = self.claims(n, claim_type)
        tags: dict[str, tuple[str, ...]] = {}
        if not defect_rate:
            return Simulation(claims, tags)
        rng = self._defect_rng
        clean: list[int] = []  # earlier claims left whole, which DUP-01 may copy
        deck: list[str] = []
        for i, claim in enumerate(claims):
            if not defects or rng.random() >= defect_rate:
                clean.append(i)
                continue
            kinds = [tag for tag in defects if (clean if tag == "DUP-01" else
                                                self._applies(tag, claim))]
            if not kinds:
                clean.append(i)
                continue
            first = self._deal(deck, kinds, defects)
            chosen = [first]
            others = [tag for tag in kinds if tag != "DUP-01" and _AREAS[tag].isdisjoint(
                _AREAS[first])]
            if first != "DUP-01" and others and rng.random() < 0.1:
                chosen.append(rng.choice(others))
            for tag in chosen:
                if tag == "DUP-01":
                    claims[i] = claim = self._duplicate(claims[rng.choice(clean)], claim)
                else:
                    self._break(tag, claim)
            tags[claim.patient_control_number] = tuple(chosen)
        if corrections:
            for i in clean:
                if self._correction_rng.random() < defect_rate:
                    claim = claims[i]
                    tags[claim.patient_control_number] = self._make_correctable(claim)
        return Simulation(claims, tags)

    def batches(self, claims: Iterable[Claim]) -> list[ClaimBatch]:
        """The claims as 837 transaction bodies: one per claim type and payer, in order."""
        groups: dict[tuple[ClaimType, str], ClaimBatch] = {}
        for claim in claims:
            key = (claim.claim_type, claim.payer.payer_id)
            batch = groups.get(key)
            if batch is None:
                self._batches += 1
                batch = ClaimBatch(
                    claim.claim_type, f"{self._prefix}{self._token}B{self._batches:04d}",
                    self.as_of, "0800", copy.copy(self.submitter),
                    Receiver(claim.payer.name, claim.payer.payer_id))
                groups[key] = batch
            batch.add(claim)
        return list(groups.values())

    # ---------------------------------------------------------------- defects

    def _deal(self, deck: list[str], kinds: list[str], defects: Sequence[str]) -> str:
        """The first tag of the deck that fits the claim, taken off the deck.

        The deck holds the tags of ``defects``, shuffled, and is dealt out before it is
        dealt again: each tag gets its share of the broken claims, even in a small batch.
        A tag that fits no claim for a while stays on top of the deck (once) for the next.
        """
        fits = set(kinds)
        while True:
            for at, tag in enumerate(deck):
                if tag in fits:
                    del deck[at]
                    return tag
            fresh = [tag for tag in defects if tag not in deck]
            self._defect_rng.shuffle(fresh)
            deck.extend(fresh)

    def _applies(self, tag: str, claim: Claim) -> bool:
        """Whether the defect ``tag`` can be made on this claim (DUP-01 aside)."""
        professional = claim.claim_type is ClaimType.PROFESSIONAL
        lines = claim.service_lines
        if tag == "PTR-01":
            return professional and any(len(ln.diagnosis_pointers) < _MAX_POINTERS
                                        for ln in lines)
        if tag == "SYN-04":
            return len(lines) > 1  # the claim still charges something
        if tag == "DEM-02":
            return claim.patient is None
        if tag == "DX-06":
            return professional and len(lines) >= 3  # enough lines to point at twelve
        if tag == "DX-07":
            return professional and len(claim.diagnoses) < 12
        if tag == "POS-01":
            return professional
        if tag == "POS-02":
            facility = claim.service_facility is not None
            if claim.facility_code in _FACILITY_PLACES:
                return professional and facility
            return professional and claim.facility_code == "11" and not facility
        if tag in ("PROC-01", "PROC-02", "PROC-03"):
            return bool(_changeable(claim))
        if tag == "MOD-01":
            return bool(_modifiable(claim, 1))
        if tag in ("MOD-03", "MOD-04"):
            return bool(_modifiable(claim, 2))
        if tag in ("MOD-02", "DUP-02"):
            return any(ln.procedure_code for ln in lines)
        if tag == "NCCI-01":
            return any((ln.procedure_code, "36000") in _NCCI for ln in lines)
        if tag == "MUE-01":
            return any(ln.procedure_code in _MUE for ln in lines)
        return True

    def _break(self, tag: str, claim: Claim) -> None:
        getattr(self, _BREAKERS[tag])(claim)

    # The rules the scrub started with.

    def _break_npi(self, claim: Claim) -> None:
        rng = self._defect_rng
        targets = [p for p in (claim.billing_provider, claim.rendering_provider,
                               claim.attending_provider) if p is not None and p.npi]
        target = targets[0] if rng.random() < 0.6 else rng.choice(targets)
        wrong = (int(target.npi[-1]) + rng.randint(1, 9)) % 10
        target.npi = target.npi[:-1] + str(wrong)

    def _break_billable(self, claim: Claim) -> None:
        rng = self._defect_rng
        codes = list(claim.diagnoses)
        codes[rng.randrange(len(codes))] = rng.choice(
            [c for c in _INVALID_DX if c not in codes
             and _EXCLUDES1.get(c, _NO_CODES).isdisjoint(codes)])
        claim.diagnoses = tuple(codes)

    def _break_balance(self, claim: Claim) -> None:
        rng = self._defect_rng
        delta = rng.choice((Decimal("0.01"), Decimal("1.00"), Decimal("10.00")))
        if claim.total_charge > delta and rng.random() < 0.5:
            delta = -delta
        claim.total_charge += delta

    def _break_future(self, claim: Claim) -> None:
        """The claim moved so that its last date of service is 1 to 30 days ahead (birth
        dates with it: ages stay what the diagnoses fit, and no birth date gets ahead of
        the business date, as none is within ``lookback_days + 31`` days of it)."""
        last = max(ln.service_date_end or ln.service_date for ln in claim.service_lines
                   if ln.service_date)
        if claim.statement_to is not None:
            last = max(last, claim.statement_to)
        _shift(claim, self.as_of + timedelta(days=self._defect_rng.randint(1, 30)) - last)

    def _break_pointer(self, claim: Claim) -> None:
        if len(claim.diagnoses) == 12:  # pointers stop at 12: make room past the end
            claim.diagnoses = claim.diagnoses[:-1]
        line = self._defect_rng.choice([ln for ln in claim.service_lines
                                        if len(ln.diagnosis_pointers) < _MAX_POINTERS])
        line.diagnosis_pointers = (*line.diagnosis_pointers, len(claim.diagnoses) + 1)

    # Syntax.

    def _break_pcn_length(self, claim: Claim, low: int, high: int) -> None:
        # Padded with zeros: the other claims' numbers are shorter, so it stays unique.
        length = self._defect_rng.randint(low, high)
        claim.patient_control_number = claim.patient_control_number.ljust(length, "0")

    def _break_pcn_too_long(self, claim: Claim) -> None:
        self._break_pcn_length(claim, 21, 24)

    def _break_pcn_long(self, claim: Claim) -> None:
        self._break_pcn_length(claim, 18, 20)

    def _break_original_reference(self, claim: Claim) -> None:
        claim.frequency_code = self._defect_rng.choice(("7", "8"))
        claim.original_claim_reference = ""

    def _break_charge(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice(claim.service_lines)
        charge = Decimal("0.00")
        if rng.random() < 0.3 and claim.total_charge > 2 * line.charge:
            charge = -line.charge  # a credit line; the claim still charges something
        claim.total_charge += charge - line.charge  # CLM02 stays the sum of the lines
        line.charge = charge

    def _break_units(self, claim: Claim) -> None:
        rng = self._defect_rng
        rng.choice(claim.service_lines).units = Decimal(0) if rng.random() < 0.7 else (
            Decimal(-1))

    def _break_line_control(self, claim: Claim) -> None:
        rng = self._defect_rng
        lines = claim.service_lines
        if len(lines) > 1 and rng.random() < 0.5:
            first, second = rng.sample(range(len(lines)), 2)
            lines[second].line_control_number = lines[first].line_control_number
        else:
            rng.choice(lines).line_control_number = ""

    # Identifiers.

    def _break_tax_id(self, claim: Claim) -> None:
        rng = self._defect_rng
        billing = claim.billing_provider
        if rng.random() < 0.5:
            at = rng.randrange(9)
            billing.tax_id = billing.tax_id[:at] + billing.tax_id[at + 1:]
        else:
            billing.tax_id += rng.choice(_DIGITS)

    def _break_taxonomy(self, claim: Claim) -> None:
        billing = claim.billing_provider
        code = billing.taxonomy
        billing.taxonomy = self._defect_rng.choice(
            (code[:-1], code[:-1] + "0", code[0] + "O" + code[2:]))

    def _break_po_box(self, claim: Claim) -> None:
        rng = self._defect_rng
        address = claim.billing_provider.address
        assert address is not None
        address.line1 = f"{rng.choice(_PO_BOXES)} {rng.randint(1, 9999)}"
        address.line2 = ""

    def _break_zip(self, claim: Claim) -> None:
        address = claim.billing_provider.address
        assert address is not None
        address.postal_code = address.postal_code[:5]

    # Demographics and dates.

    def _break_birth_date(self, claim: Claim) -> None:
        """A birth date missing (837P, the person treated), in the future, after the first
        date of service, or 121 to 123 years before it (never a child's: an age of 121
        would conflict with a child's diagnosis too)."""
        rng = self._defect_rng
        first = claim.service_date
        assert first is not None
        treated = claim.patient or claim.subscriber
        variants = ["future", "after", "old"]
        if claim.claim_type is ClaimType.PROFESSIONAL:
            variants.append("missing")
        variant = rng.choice(variants)
        who: Subscriber | Patient = treated
        if variant != "missing" and claim.patient is not None and rng.random() < 0.3:
            who = claim.subscriber
        if variant == "old" and who is treated and any(
                _DX_FIT.get(code, ("", 0, 120))[2] < 120 for code in claim.diagnoses):
            variant = "after"
        if variant == "missing":
            who.birth_date = None
        elif variant == "future":
            who.birth_date = self.as_of + timedelta(days=rng.randint(1, 365))
        elif variant == "after":
            who.birth_date = first + timedelta(days=rng.randint(1, (self.as_of - first).days))
        else:
            who.birth_date = _years_before(first, rng.randint(121, 123)) - timedelta(
                days=rng.randint(1, 200))

    def _break_patient_loop(self, claim: Claim) -> None:
        s = claim.subscriber
        claim.patient = Patient(s.last_name, s.first_name, self._defect_rng.choice(
            ("01", "19", "G8")), s.birth_date, s.sex, s.middle_name, s.name_suffix,
            _copy_address(s.address) if s.address else None)

    def _break_filing(self, claim: Claim) -> None:
        """The claim (birth dates with it) moved back so that the date the limit counts
        from (an 837I's through date, else the first date of service: see DT-03) is 1 to
        120 days past the filing limit."""
        start = (claim.statement_to if claim.claim_type is ClaimType.INSTITUTIONAL
                 and claim.statement_to is not None else claim.service_date)
        assert start is not None
        late = self._filing_limit + self._defect_rng.randint(1, 120)
        _shift(claim, self.as_of - timedelta(days=late) - start)

    # Diagnoses.

    def _break_age(self, claim: Claim) -> None:
        rng = self._defect_rng
        treated = claim.patient or claim.subscriber
        assert treated.birth_date is not None and claim.service_date is not None
        codes = list(claim.diagnoses)
        at = len(codes) - 1
        if _age(treated.birth_date, claim.service_date) >= 1:
            code = rng.choice(_NEWBORN_ONLY)
        else:  # a baby: an adult examination, in place of the child's one if there is one
            code = rng.choice(_ADULT_ONLY)
            at = next((i for i, c in enumerate(codes) if c.startswith("Z001")), at)
        codes[at] = code
        claim.diagnoses = tuple(codes)

    def _break_sex(self, claim: Claim) -> None:
        treated = claim.patient or claim.subscriber
        codes = list(claim.diagnoses)
        codes[-1] = self._defect_rng.choice(_FEMALE_ONLY if treated.sex == "M" else _MALE_ONLY)
        claim.diagnoses = tuple(codes)

    def _break_external_cause(self, claim: Claim) -> None:
        claim.diagnoses = (self._defect_rng.choice(_EXTERNAL_CAUSES), *claim.diagnoses[1:])

    def _break_excludes1(self, claim: Claim) -> None:
        """Both codes of an Excludes1 pair on the claim, in place of others (the principal
        stays if it can): a code of the pair already there gets its partner."""
        rng = self._defect_rng
        sex, age = _sex_and_age(claim)
        codes = list(claim.diagnoses)
        pair = rng.choice([p for p in _EXCLUDES1_PAIRS if _fits(p[0], sex, age)
                           and _fits(p[1], sex, age)])
        kept = [codes.index(c) for c in pair if c in codes]
        new = [c for c in pair if c not in codes]
        slots = [i for i in range(1, len(codes)) if i not in kept]
        if len(slots) < len(new):
            slots = [i for i in range(len(codes)) if i not in kept]
        for code in new:
            if slots:
                at = rng.choice(slots)
                slots.remove(at)
                codes[at] = code
            else:
                codes.append(code)
                _point_at(claim, len(codes))
        claim.diagnoses = tuple(codes)

    def _break_too_many_diagnoses(self, claim: Claim) -> None:
        rng = self._defect_rng
        count = rng.randint(13, 14)
        claim.diagnoses = (*claim.diagnoses,
                           *self._more_diagnoses(claim, count - len(claim.diagnoses)))
        lines = claim.service_lines
        pointers = _cover([ln.diagnosis_pointers for ln in lines], 12)
        for line, line_pointers in zip(lines, pointers, strict=True):
            line.diagnosis_pointers = line_pointers

    def _break_unpointed(self, claim: Claim) -> None:
        claim.diagnoses = (*claim.diagnoses, *self._more_diagnoses(claim, 1))

    def _more_diagnoses(self, claim: Claim, count: int) -> list[str]:
        """``count`` codes that fit the patient, each of a category the claim lacks and
        with no Excludes1 partner on it."""
        sex, age = _sex_and_age(claim)
        have = list(claim.diagnoses)
        categories = {"I10" if c in _COMBINED else c[:3] for c in have}
        pool = [c for c in _DX_FIT if c not in _FIRST_LISTED_ONLY and _fits(c, sex, age)]
        self._defect_rng.shuffle(pool)
        chosen: list[str] = []
        for code in pool:
            category = "I10" if code in _COMBINED else code[:3]
            if category in categories or not _EXCLUDES1.get(code, _NO_CODES).isdisjoint(have):
                continue
            chosen.append(code)
            have.append(code)
            categories.add(category)
            if len(chosen) == count:
                return chosen
        raise RuntimeError("not enough diagnoses fit the patient")  # pragma: no cover

    # Procedures and modifiers.

    def _break_procedure(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice(_changeable(claim))
        at = rng.randint(1, 3)  # the first and last characters stay: a typo inside
        code = line.procedure_code
        line.procedure_code = code[:at] + rng.choice("OILSZB") + code[at + 1:]

    def _break_hcpcs(self, claim: Claim) -> None:
        rng = self._defect_rng
        rng.choice(_changeable(claim)).procedure_code = rng.choice(_RETIRED_HCPCS)

    def _break_addon(self, claim: Claim) -> None:
        rng = self._defect_rng
        rng.choice(_changeable(claim)).procedure_code = rng.choice(_ORPHAN_ADDONS)

    def _break_modifier(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice(_modifiable(claim, 1))
        line.modifiers = (*line.modifiers, rng.choice(_BAD_MODIFIERS))

    def _break_modifier_count(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice([ln for ln in claim.service_lines if ln.procedure_code])
        extra = [m for m in _SAFE_MODIFIERS if m not in line.modifiers]
        line.modifiers = (*line.modifiers, *rng.sample(
            extra, rng.randint(5, 6) - len(line.modifiers)))

    def _break_modifier_twice(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice(_modifiable(claim, 2))
        twice = rng.choice(line.modifiers or _SAFE_MODIFIERS)
        line.modifiers = (*line.modifiers, twice) if line.modifiers else (twice, twice)

    def _break_modifier_conflict(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice(_modifiable(claim, 2))
        held = [m for m in line.modifiers if m in _CONFLICTS]
        if held:
            line.modifiers = (*line.modifiers, rng.choice(_CONFLICTS[rng.choice(held)]))
        else:
            line.modifiers = (*line.modifiers, *rng.choice(_CONFLICTING_PAIRS))

    def _break_ncci(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice([ln for ln in claim.service_lines
                           if (ln.procedure_code, "36000") in _NCCI])
        partner = rng.choice(tuple(_NCCI_PARTNERS))
        charge = _NCCI_PARTNERS[partner][1]
        _add_line(claim, ServiceLine(
            partner, charge, Decimal(1), line.service_date,
            diagnosis_pointers=line.diagnosis_pointers[:1], revenue_code=line.revenue_code))

    def _break_mue(self, claim: Claim) -> None:
        rng = self._defect_rng
        line = rng.choice([ln for ln in claim.service_lines if ln.procedure_code in _MUE])
        line.units = _MUE[line.procedure_code] + rng.randint(1, 3)

    # Place of service and duplicate lines.

    def _break_place(self, claim: Claim) -> None:
        rng = self._defect_rng
        place = rng.choice(_UNASSIGNED_PLACES)
        if rng.random() < 0.5:
            claim.facility_code = place
        else:
            rng.choice(claim.service_lines).place_of_service = place

    def _break_facility(self, claim: Claim) -> None:
        if claim.service_facility is not None:
            claim.service_facility = None
        else:  # an office claim with one line given in a hospital
            rng = self._defect_rng
            rng.choice(claim.service_lines).place_of_service = rng.choice(_FACILITY_PLACES)

    def _break_duplicate_line(self, claim: Claim) -> None:
        line = self._defect_rng.choice([ln for ln in claim.service_lines if ln.procedure_code])
        _add_line(claim, dataclasses.replace(line))

    @staticmethod
    def _duplicate(original: Claim, replaced: Claim) -> Claim:
        """The original claim billed again under the replaced claim's control number."""
        claim = copy.deepcopy(original)
        claim.patient_control_number = pcn = replaced.patient_control_number
        for number, line in enumerate(claim.service_lines, 1):
            line.line_control_number = f"{pcn}-{number}"
        return claim

    # ---------------------------------------------------------------- corrections

    def _make_correctable(self, claim: Claim) -> tuple[str, ...]:
        """Give a clean claim formatting that auto-correction undoes; return the tags."""
        rng = self._correction_rng
        chosen = rng.sample(CORRECTION_TAGS, 1 if rng.random() < 0.8 else 2)
        for tag in chosen:
            if tag == "FIX-01":
                self._lower_case(claim)
            elif tag == "FIX-02":
                providers = [p for p in (claim.billing_provider, claim.rendering_provider,
                                         claim.attending_provider) if p is not None]
                if rng.random() < 0.5:
                    billing = claim.billing_provider
                    billing.tax_id = f"{billing.tax_id[:2]}-{billing.tax_id[2:]}"
                else:
                    provider = rng.choice(providers)
                    number = provider.npi
                    provider.npi = rng.choice((f"{number[:4]}-{number[4:7]}-{number[7:]}",
                                               f"{number[:5]} {number[5:]}"))
            else:
                addresses = [a for a in (claim.billing_provider.address,
                                         claim.subscriber.address,
                                         claim.patient.address if claim.patient else None)
                             if a is not None and len(a.postal_code) == 9]
                address = rng.choice(addresses)
                address.postal_code = f"{address.postal_code[:5]}-{address.postal_code[5:]}"
        return tuple(sorted(chosen))

    def _lower_case(self, claim: Claim) -> None:
        rng = self._correction_rng
        lettered = [ln for ln in claim.service_lines if ln.procedure_code[:1].isalpha()]
        modified = [ln for ln in claim.service_lines
                    if any(m.isalpha() for m in ln.modifiers)]
        kinds = ["diagnosis", "taxonomy"] + ["code"] * bool(lettered) + (
            ["modifiers"] * bool(modified))
        kind = rng.choice(kinds)
        if kind == "diagnosis":
            codes = list(claim.diagnoses)
            at = rng.randrange(len(codes))
            codes[at] = codes[at].lower()
            claim.diagnoses = tuple(codes)
        elif kind == "taxonomy":
            provider = rng.choice([p for p in (claim.billing_provider, claim.rendering_provider,
                                               claim.attending_provider)
                                   if p is not None and p.taxonomy])
            provider.taxonomy = provider.taxonomy.lower()
        elif kind == "code":
            line = rng.choice(lettered)
            line.procedure_code = line.procedure_code.lower()
        else:
            line = rng.choice(modified)
            line.modifiers = tuple(m.lower() for m in line.modifiers)


_BREAKERS = {
    "NPI-01": "_break_npi", "DX-01": "_break_billable", "BAL-01": "_break_balance",
    "DT-01": "_break_future", "PTR-01": "_break_pointer",
    "SYN-01": "_break_pcn_too_long", "SYN-02": "_break_pcn_long",
    "SYN-03": "_break_original_reference", "SYN-04": "_break_charge",
    "SYN-05": "_break_units", "SYN-06": "_break_line_control",
    "ID-01": "_break_tax_id", "ID-02": "_break_taxonomy", "ID-03": "_break_po_box",
    "ID-04": "_break_zip", "DEM-01": "_break_birth_date", "DEM-02": "_break_patient_loop",
    "DT-03": "_break_filing", "DX-02": "_break_age", "DX-03": "_break_sex",
    "DX-04": "_break_external_cause", "DX-05": "_break_excludes1",
    "DX-06": "_break_too_many_diagnoses", "DX-07": "_break_unpointed",
    "PROC-01": "_break_procedure", "PROC-02": "_break_hcpcs", "PROC-03": "_break_addon",
    "MOD-01": "_break_modifier", "MOD-02": "_break_modifier_count",
    "MOD-03": "_break_modifier_twice", "MOD-04": "_break_modifier_conflict",
    "NCCI-01": "_break_ncci", "MUE-01": "_break_mue", "POS-01": "_break_place",
    "POS-02": "_break_facility", "DUP-02": "_break_duplicate_line",
}
"""How each tag (but DUP-01, which replaces the claim) breaks a claim."""

# What each defect changes: two defects on one claim never change the same thing, so
# neither undoes the other. DUP-01 replaces the whole claim and is never combined.
_AREAS: dict[str, frozenset[str]] = {tag: frozenset(areas.split()) for tag, areas in {
    "NPI-01": "npi", "DX-01": "dx", "BAL-01": "money", "DT-01": "dates", "PTR-01": "dx",
    "DUP-01": "claim", "SYN-01": "pcn", "SYN-02": "pcn", "SYN-03": "frequency",
    "SYN-04": "money lines", "SYN-05": "lines", "SYN-06": "lines", "ID-01": "provider",
    "ID-02": "provider", "ID-03": "provider", "ID-04": "provider",
    "DEM-01": "people dates", "DEM-02": "people", "DT-03": "dates",
    "DX-02": "dx people dates", "DX-03": "dx people", "DX-04": "dx", "DX-05": "dx people",
    "DX-06": "dx people", "DX-07": "dx people", "PROC-01": "codes", "PROC-02": "codes",
    "PROC-03": "codes",
    "MOD-01": "modifiers", "MOD-02": "modifiers", "MOD-03": "modifiers",
    "MOD-04": "modifiers", "NCCI-01": "lines codes modifiers", "MUE-01": "lines codes",
    "POS-01": "place", "POS-02": "place", "DUP-02": "lines codes modifiers",
}.items()}


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _sex_and_age(claim: Claim) -> tuple[str, int]:
    """The sex and age (on the first date of service) of the person treated."""
    treated = claim.patient or claim.subscriber
    assert treated.birth_date is not None and claim.service_date is not None
    return treated.sex, _age(treated.birth_date, claim.service_date)


def _fits(code: str, sex: str, age: int) -> bool:
    """Whether the simulator would give ``code`` to this patient (see ``_DIAGNOSES``)."""
    want, low, high = _DX_FIT[code]
    return (not want or want == sex) and low <= age <= high


def _changeable(claim: Claim) -> list[ServiceLine]:
    """Lines with a procedure code that is no add-on's only reason to be on the claim."""
    codes = {ln.procedure_code for ln in claim.service_lines}
    kept = frozenset().union(*(_ADDON_PRIMARIES[c] for c in codes if c in _ADDON_PRIMARIES))
    return [ln for ln in claim.service_lines
            if ln.procedure_code and ln.procedure_code not in kept]


def _modifiable(claim: Claim, room: int) -> list[ServiceLine]:
    """Lines with a procedure code and room for ``room`` more modifiers (of four)."""
    return [ln for ln in claim.service_lines
            if ln.procedure_code and len(ln.modifiers) + room <= 4]


def _point_at(claim: Claim, pointer: int) -> None:
    """Have an 837P line with room point at diagnosis ``pointer`` too."""
    if claim.claim_type is ClaimType.PROFESSIONAL:
        line = next(ln for ln in claim.service_lines
                    if len(ln.diagnosis_pointers) < _MAX_POINTERS)
        line.diagnosis_pointers = (*line.diagnosis_pointers, pointer)


def _add_line(claim: Claim, line: ServiceLine) -> None:
    """Append a line with a line control number of its own; CLM02 stays the sum."""
    line.line_control_number = f"{claim.patient_control_number}-{len(claim.service_lines) + 1}"
    claim.service_lines.append(line)
    claim.total_charge += line.charge


def _shift(claim: Claim, by: timedelta) -> None:
    """Move every date of the claim, and the birth dates of the people on it, by ``by``."""
    for line in claim.service_lines:
        if line.service_date:
            line.service_date += by
        if line.service_date_end:
            line.service_date_end += by
    for name in ("statement_from", "statement_to", "admission_date", "onset_date"):
        value = getattr(claim, name)
        if value is not None:
            setattr(claim, name, value + by)
    for person in (claim.subscriber, claim.patient):
        if person is not None and person.birth_date is not None:
            person.birth_date += by


def generate_claims(
    n: int,
    seed: int,
    claim_type: ClaimType | None = None,
    *,
    tenant: str = "SIMULATED",
    as_of: date = DEFAULT_AS_OF,
) -> list[Claim]:
    """``n`` clean synthetic claims, the same for the same arguments."""
    return ClaimFactory(seed, tenant, as_of=as_of).claims(n, claim_type)


def generate(
    n: int,
    seed: int,
    claim_type: ClaimType | None = None,
    *,
    tenant: str = "SIMULATED",
    as_of: date = DEFAULT_AS_OF,
    defect_rate: float = 0.0,
    defects: Sequence[str] = DEFECT_TAGS,
    corrections: bool = False,
    filing_limit_days: int = 365,
    cob_rate: float = 0.0,
) -> Simulation:
    """``n`` synthetic claims with a share of seeded defects (see :data:`DEFECT_TAGS` and
    :meth:`ClaimFactory.generate`); ``cob_rate``: the share of members with a second
    coverage (see :class:`ClaimFactory`)."""
    factory = ClaimFactory(seed, tenant, as_of=as_of, cob_rate=cob_rate)
    return factory.generate(n, claim_type, defect_rate=defect_rate, defects=defects,
                            corrections=corrections, filing_limit_days=filing_limit_days)
