"""The characters a payer takes in an 837, and how a value is spelled with them.

X12 defines a basic character set (upper-case letters, digits, space and
``! " & ' ( ) * + , - . / : ; ? =``) and an extended one that adds lower-case letters and
further special characters; the TR3s leave the extended set to the trading partners'
agreement, and each payer's companion guide says what it takes. Most take the basic set
plus lower case; letters such as ``Ü`` or ``é`` are in neither set that payers take.

A :class:`CharacterPolicy` names one of :data:`CHARACTER_SETS` and whether names and
addresses may be transliterated into it (``MÜLLER`` to ``MULLER``, ``José`` to ``Jose``,
or ``JOSE`` where the set has no lower case). Identifiers and codes are never
transliterated: a different spelling is a different id.

>>> DEFAULT_POLICY.transliterate_value("Müller-Lüdenscheidt")
'Muller-Ludenscheidt'
>>> CharacterPolicy("basic").transliterate_value("José")
'JOSE'
>>> DEFAULT_POLICY.transliterate_value("李") is None
True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_BASIC = "A-Z0-9 !\"&'()*+,\\-./:;?="
CHARACTER_SETS: dict[str, re.Pattern[str]] = {
    # What lies outside each set.
    "basic": re.compile(f"[^{_BASIC}]"),
    "basic+lowercase": re.compile(f"[^{_BASIC}a-z]"),
    # Every printable ASCII character: the basic and the extended sets' ASCII part.
    "ascii": re.compile("[^ -~]"),
}
DEFAULT_CHARACTER_SET = "ascii"


def _windows_1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in cp1252, Latin-1's


# Each escaped byte (a lone surrogate U+DC80..U+DCFF, as the ``surrogateescape`` error
# handler leaves a byte that is not UTF-8) to the character it is in Windows-1252.
AS_WINDOWS_1252 = {0xDC00 + byte: _windows_1252(byte) for byte in range(0x80, 0x100)}


def decode_text(data: bytes) -> tuple[str, bool]:
    """``data`` as UTF-8, each byte that is not UTF-8 read as Windows-1252; and whether
    there was such a byte.

    >>> decode_text("MÜLLER".encode("latin-1"))
    ('MÜLLER', True)
    """
    text = data.decode("utf-8", "surrogateescape")
    undecoded = not text.isascii() and text != (clean := text.translate(AS_WINDOWS_1252))
    return (clean, True) if undecoded else (text, False)

# Letters and punctuation that Unicode does not decompose into an ASCII base character.
_SPELLED = str.maketrans({
    "ß": "ss", "ẞ": "SS", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
    "Ð": "D", "ð": "d", "Đ": "D", "đ": "d", "Þ": "TH", "þ": "th", "Ł": "L", "ł": "l",
    "ı": "i", "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "–": "-",
    "—": "-", "…": "...", "\u00a0": " ",
})


def _ascii_spelling(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPELLED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class CharacterPolicy:
    """What a payer takes: ``character_set`` (a name in :data:`CHARACTER_SETS`), and
    whether names and addresses outside it may be ``transliterate``-d into it."""

    character_set: str = DEFAULT_CHARACTER_SET
    transliterate: bool = True

    def __post_init__(self) -> None:
        if self.character_set not in CHARACTER_SETS:
            raise ValueError(f"character_set must be one of {', '.join(CHARACTER_SETS)}")

    def outside(self, value: str) -> bool:
        """Whether ``value`` holds a character outside the set."""
        return CHARACTER_SETS[self.character_set].search(value) is not None

    def transliterate_value(self, value: str) -> str | None:
        """``value`` spelled inside the set (letters without their accents, upper-cased
        where the set has no lower case), or None when it cannot be."""
        spelled = _ascii_spelling(value)
        if self.character_set == "basic":
            spelled = spelled.upper()
        return None if self.outside(spelled) else spelled


DEFAULT_POLICY = CharacterPolicy()
