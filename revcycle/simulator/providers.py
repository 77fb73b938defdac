"""A simulated provider client: its practices, hospital and patients, and the claims it bills.

:class:`ClaimFactory` builds a tenant from a seed (billing providers with well-formed NPIs
and EINs, physicians, a member roster across a few payers) and then draws 837P and 837I
claims that a scrubber would pass: valid NPIs, billable ICD-10-CM codes, diagnosis
pointers in range, CLM02 equal to the sum of the lines, dates of service before the
business date, unique control numbers, and no two claims for one patient on one day.

Everything is drawn from one ``random.Random`` seeded from the tenant and the seed, and
dates count back from ``as_of`` (the business date), so the same arguments always give
the same claims. Names, streets and member ids are made up; the procedure codes are
bare codes (CPT descriptors are AMA content and are not shipped).

``generate(..., defect_rate=)`` then breaks a share of the claims on purpose, one known
defect each (see :data:`DEFECT_TAGS`), and says which: the scrubber's tests check that
exactly those claims trip exactly those rules. The defects are drawn from a second
stream, so the claims left clean are the same whatever the rate.

Every string is X12-safe: no ``*``, ``:``, ``~`` or ``^``; person names use only A-Z,
spaces and hyphens.
"""

from __future__ import annotations

import copy
import random
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
    Patient,
    Payer,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)

DEFAULT_AS_OF = date(2026, 11, 2)

DEFECT_TAGS: tuple[str, ...] = ("NPI-01", "DX-01", "BAL-01", "DT-01", "PTR-01", "DUP-01")
"""Seeded defects, named by the scrub rule each should trip:

- ``NPI-01`` a provider NPI with a wrong check digit;
- ``DX-01`` a diagnosis that is not a billable ICD-10-CM code;
- ``BAL-01`` CLM02 different from the sum of the line charges;
- ``DT-01`` a date of service after the business date;
- ``PTR-01`` a diagnosis pointer past the claim's diagnoses (837P only);
- ``DUP-01`` a second copy of an earlier claim of the batch, under its own control number.
"""

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
        self.tenant = tenant
        self.as_of = as_of
        self.lookback_days = lookback_days
        self.institutional_share = institutional_share
        self._prefix = _tenant_prefix(tenant)
        key = f"{self._prefix}:{seed}"
        self._rng = _Random(key)
        self._defect_rng = random.Random(f"{key}:defects")
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

    def _diagnoses(self, m: _Member, principal: tuple[str, ...] | None, low: int) -> list[str]:
        rng = self._rng
        pool = self._pool(m.patient_sex, m.age, False)
        if principal:
            first = rng.choice(self._principals(principal, m.patient_sex, m.age))
        else:
            first = pool[int(rng.random() * len(pool))]
        codes = [first]
        categories = {"I10" if first in _COMBINED else first[:3]}
        want = max(low, rng.choice(_DX_COUNTS))
        for _ in range(want * 4):
            if len(codes) >= want:
                break
            code = pool[int(rng.random() * len(pool))]
            category = "I10" if code in _COMBINED else code[:3]
            if category in categories:
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
        return claim

    def _payer_fields(self, index: int) -> tuple[str, str, Address | None]:
        p = self._payers[index]
        return p.name, p.payer_id, _copy_address(p.address) if p.address else None

    def _professional(self, m: _Member, plan: _Plan, start: date) -> Claim:
        rng = self._rng
        billing = self._billing[plan.role]
        prices = self._prices[billing.npi]
        diagnoses = self._diagnoses(m, plan.principal, 1)
        lines = []
        for number, item in enumerate(plan.items):
            lines.append(ServiceLine(
                item.code, prices[item.code] * _UNITS[item.units], _UNITS[item.units],
                start + timedelta(days=item.day) if item.day else start,
                modifiers=item.modifiers,
                diagnosis_pointers=self._pointers(len(diagnoses), number)))
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
                item.code, price * units, units, day, last,
                unit_basis=item.unit_basis,
                revenue_code=item.revenue))
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
    ) -> Simulation:
        """``n`` claims, a ``defect_rate`` share of them broken on purpose.

        Each broken claim carries one defect from ``defects`` (now and then two), and the
        result maps its patient control number to the tags. Defects come from their own
        random stream: the clean claims are the same whatever the rate.
        """
        if not 0.0 <= defect_rate <= 1.0:
            raise ValueError("defect_rate must be between 0 and 1")
        unknown = set(defects) - set(DEFECT_TAGS)
        if unknown:
            raise ValueError(f"unknown defect tags: {sorted(unknown)}")
        claims = self.claims(n, claim_type)
        tags: dict[str, tuple[str, ...]] = {}
        if not defect_rate or not defects:
            return Simulation(claims, tags)
        rng = self._defect_rng
        clean: list[int] = []  # earlier claims left whole, which DUP-01 may copy
        for i, claim in enumerate(claims):
            if rng.random() >= defect_rate:
                clean.append(i)
                continue
            kinds = [tag for tag in defects if self._applies(tag, claim, clean)]
            if not kinds:
                clean.append(i)
                continue
            chosen = [rng.choice(kinds)]
            others = [tag for tag in kinds if tag not in chosen and tag != "DUP-01"]
            if chosen[0] != "DUP-01" and others and rng.random() < 0.1:
                chosen.append(rng.choice(others))
            for tag in chosen:
                if tag == "DUP-01":
                    claims[i] = claim = self._duplicate(claims[rng.choice(clean)], claim)
                else:
                    self._break(tag, claim)
            tags[claim.patient_control_number] = tuple(chosen)
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

    @staticmethod
    def _applies(tag: str, claim: Claim, clean: list[int]) -> bool:
        if tag == "PTR-01":
            return claim.claim_type is ClaimType.PROFESSIONAL
        if tag == "DUP-01":
            return bool(clean)
        return True

    def _break(self, tag: str, claim: Claim) -> None:
        rng = self._defect_rng
        if tag == "NPI-01":
            targets = [p for p in (claim.billing_provider, claim.rendering_provider,
                                   claim.attending_provider) if p is not None and p.npi]
            target = targets[0] if rng.random() < 0.6 else rng.choice(targets)
            wrong = (int(target.npi[-1]) + rng.randint(1, 9)) % 10
            target.npi = target.npi[:-1] + str(wrong)
        elif tag == "DX-01":
            codes = list(claim.diagnoses)
            codes[rng.randrange(len(codes))] = rng.choice(
                [c for c in _INVALID_DX if c not in codes])
            claim.diagnoses = tuple(codes)
        elif tag == "BAL-01":
            delta = rng.choice((Decimal("0.01"), Decimal("1.00"), Decimal("10.00")))
            if claim.total_charge > delta and rng.random() < 0.5:
                delta = -delta
            claim.total_charge += delta
        elif tag == "DT-01":
            self._move_to_future(claim, rng.randint(1, 30))
        elif tag == "PTR-01":
            if len(claim.diagnoses) == 12:  # pointers stop at 12: make room past the end
                claim.diagnoses = claim.diagnoses[:-1]
            line = rng.choice(claim.service_lines)
            line.diagnosis_pointers = (*line.diagnosis_pointers[:-1], len(claim.diagnoses) + 1)

    def _move_to_future(self, claim: Claim, days_after: int) -> None:
        """Shift every date of the claim so that its last date of service is in the future."""
        last = max(ln.service_date_end or ln.service_date for ln in claim.service_lines
                   if ln.service_date)
        if claim.statement_to is not None:
            last = max(last, claim.statement_to)
        shift = self.as_of + timedelta(days=days_after) - last
        for line in claim.service_lines:
            if line.service_date:
                line.service_date += shift
            if line.service_date_end:
                line.service_date_end += shift
        for name in ("statement_from", "statement_to", "admission_date", "onset_date"):
            value = getattr(claim, name)
            if value is not None:
                setattr(claim, name, value + shift)

    @staticmethod
    def _duplicate(original: Claim, replaced: Claim) -> Claim:
        """The original claim billed again under the replaced claim's control number."""
        claim = copy.deepcopy(original)
        claim.patient_control_number = pcn = replaced.patient_control_number
        for number, line in enumerate(claim.service_lines, 1):
            line.line_control_number = f"{pcn}-{number}"
        return claim


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
) -> Simulation:
    """``n`` synthetic claims with a share of seeded defects (see :data:`DEFECT_TAGS`)."""
    factory = ClaimFactory(seed, tenant, as_of=as_of)
    return factory.generate(n, claim_type, defect_rate=defect_rate, defects=defects)
