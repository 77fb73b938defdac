"""What the pipeline needs to know about a payer: ids, envelope, channel, rules, policy.

Each payer is one small module in ``tasks/payers/`` that defines ``PAYER``; dropping a
module there adds the payer. The domain core only ever receives these definitions.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from revcycle.channels.options import ChannelOptionsError, ChannelSpec, parse_options
from revcycle.scrub import RuleSet
from revcycle.x12.charset import CHARACTER_SETS, DEFAULT_CHARACTER_SET, CharacterPolicy


def _keep(rules: RuleSet) -> RuleSet:
    return rules


@dataclass(frozen=True)
class PayerDefinition:
    payer_id: str  # as it appears in 2010BB NM109 and on the 835
    name: str
    receiver_id: str  # ISA08 / GS03 of what we send this payer
    receiver_qualifier: str = "ZZ"
    # How files reach the payer, in priority order: the next channel takes a file when
    # one fails past its retries (see revcycle.channels).
    channels: tuple[ChannelSpec, ...] = (ChannelSpec("simulator"),)
    # ISA15 of what we send this payer: "T" while testing with it, "P" once live; empty:
    # the setting REVCYCLE_USAGE_INDICATOR.
    usage_indicator: str = ""
    # Companion-guide differences: a function from the default scrub rules to this
    # payer's (drop, add or change rules).
    scrub_rules: Callable[[RuleSet], RuleSet] = _keep
    timely_filing_days: int = 365
    max_claims_per_file: int = 5000
    concurrency: int = 1  # submit steps to this payer at once (tag payer:<id>)
    # The characters the payer's companion guide takes ("basic", "basic+lowercase" or
    # "ascii"; see revcycle.x12.charset), and whether names and addresses outside them are
    # transliterated (a FIX-04 warning) rather than rejected (a CHAR-01 error).
    character_set: str = DEFAULT_CHARACTER_SET
    transliterate: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.max_claims_per_file <= 5000:  # one transaction set per file
            raise ValueError("max_claims_per_file must be 1 to 5000")
        if self.character_set not in CHARACTER_SETS:
            raise ValueError(f"character_set must be one of {', '.join(CHARACTER_SETS)}")

    @property
    def simulated(self) -> bool:
        """Whether the payer simulator is its only channel (a payer world may play it)."""
        return all(spec.kind == "simulator" for spec in self.channels)

    @property
    def character_policy(self) -> CharacterPolicy:
        return CharacterPolicy(self.character_set, self.transliterate)


def payer_tag(payer_id: str) -> str:
    """The tag every submit step to the payer carries: a Prefect tag concurrency limit on
    it caps the payer's sends at once (``revcycle payers limits``)."""
    return f"payer:{payer_id}"


class PayerModuleError(Exception):
    """A payer module that cannot be used. The message names the module and the field;
    the payer is disabled and its claims wait, the other payers go on."""


def definition_problems(definition: PayerDefinition) -> list[str]:
    """What is wrong with a definition that loaded: no channel, an unknown channel, an
    option missing, unknown or of the wrong type, a usage indicator other than T or P.
    Each problem names the field."""
    problems = []
    if not definition.channels:
        problems.append("field channels: lists no channel")
    for number, spec in enumerate(definition.channels):
        if not isinstance(spec, ChannelSpec):
            problems.append(f"field channels[{number}]: is not a ChannelSpec")
            continue
        try:
            parse_options(spec, f"channels[{number}]")
        except ChannelOptionsError as exc:
            problems.append(str(exc))
    labels = [spec.name for spec in definition.channels if isinstance(spec, ChannelSpec)]
    if len(set(labels)) < len(labels):
        problems.append("field channels: two channels share a label (set label=)")
    if definition.usage_indicator not in ("", "T", "P"):
        problems.append("field usage_indicator: must be 'T', 'P' or empty (the setting)")
    return problems


@dataclass(frozen=True)
class BrokenPayerModule:
    module: str  # the module's name in the payer package
    problem: str  # what is wrong, naming the field or the exception's type and line
    payer_id: str = ""  # known when the module defined PAYER but a field is wrong


@dataclass(frozen=True)
class PayerRegistry:
    """The payer modules of a package: the usable payers, and the modules that are not."""

    payers: dict[str, PayerDefinition]
    broken: tuple[BrokenPayerModule, ...] = ()
    fingerprint: str = ""  # changes when any module's source changes, is added or removed

    def disabled(self) -> dict[str, str]:
        """Payer id -> why its module is disabled (for the modules whose id is known)."""
        return {b.payer_id: f"payer module {b.module} is disabled: {b.problem}"
                for b in self.broken if b.payer_id}

    def unknown_broken(self) -> tuple[str, ...]:
        """Modules so broken that their payer id is unknown (they failed to import)."""
        return tuple(b.module for b in self.broken if not b.payer_id)


def load_payer_modules(package: str, paths: Iterable[str]) -> PayerRegistry:
    """Import every module of the payer package. A module that fails to import, defines
    no ``PAYER`` or names an unknown channel is listed as broken with its problem; two
    modules with one payer id are both broken, and so is a module name found in two of the
    folders (which one is right is for a person to say). A broken module never stops the
    other modules from loading."""
    payers: dict[str, PayerDefinition] = {}
    owners: dict[str, str] = {}
    paths = list(paths)
    twins = _names_in_two_folders(paths)
    broken = [BrokenPayerModule(name, "is a module name in two payer folders: rename one")
              for name in sorted(twins)]
    for info in _modules(paths):
        if info.name in twins:
            continue
        try:
            module = importlib.import_module(f"{package}.{info.name}")
        except Exception as exc:  # a broken module must not stop the others
            broken.append(BrokenPayerModule(info.name, _import_problem(exc)))
            continue
        definition = getattr(module, "PAYER", None)
        if not isinstance(definition, PayerDefinition):
            broken.append(BrokenPayerModule(info.name, "defines no PAYER (a PayerDefinition)"))
            continue
        problems = definition_problems(definition)
        if definition.payer_id in owners:  # which one is right? neither is used
            first = owners[definition.payer_id]
            problems.append(f"field payer_id: {definition.payer_id} is defined by module"
                            f" {first} too")
            if payers.pop(definition.payer_id, None) is not None:
                broken.append(BrokenPayerModule(first, f"field payer_id:"
                                                f" {definition.payer_id} is defined by"
                                                f" module {info.name} too",
                                                definition.payer_id))
        if problems:
            broken.append(BrokenPayerModule(info.name, "; ".join(problems),
                                            definition.payer_id))
            owners.setdefault(definition.payer_id, info.name)
            continue
        payers[definition.payer_id] = definition
        owners[definition.payer_id] = info.name
    return PayerRegistry(payers, tuple(broken), modules_fingerprint(paths))


def modules_fingerprint(paths: Iterable[str]) -> str:
    """What changes when any payer module's source changes, is added or removed: read from
    the files, without importing them (a cache key asks for it on every step)."""
    digest = hashlib.sha256()
    for info in _modules(list(paths)):
        digest.update(info.name.encode() + _source_digest(info))
    return digest.hexdigest()[:16]


def _modules(paths: list[str]) -> list[pkgutil.ModuleInfo]:
    return sorted(pkgutil.iter_modules(paths), key=lambda m: m.name)


def _names_in_two_folders(paths: list[str]) -> set[str]:
    """Module names found in more than one of the folders (Python would import the first
    folder's and never see the other)."""
    found = Counter(info.name for path in paths for info in pkgutil.iter_modules([path]))
    return {name for name, folders in found.items() if folders > 1}


def _source_digest(info: pkgutil.ModuleInfo) -> bytes:
    path = Path(getattr(info.module_finder, "path", "")) / f"{info.name}.py"
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return b""


def _import_problem(exc: Exception) -> str:
    """The exception's type and where it was raised: its message may quote anything."""
    if isinstance(exc, SyntaxError):
        return f"does not import: SyntaxError at line {exc.lineno}"
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at line {frame.tb_lineno}" if frame is not None else ""
    detail = f" ({exc})" if isinstance(exc, ValueError | TypeError) else ""
    return f"does not import: {type(exc).__name__}{where}{detail}"
