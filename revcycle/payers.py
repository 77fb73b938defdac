"""What the pipeline needs to know about a payer: ids, envelope, channel, rules, policy.

Each payer is one small module in ``tasks/payers/`` that defines ``PAYER``; dropping a
module there adds the payer. The domain core only ever receives these definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from revcycle.scrub import RuleSet


def _keep(rules: RuleSet) -> RuleSet:
    return rules


@dataclass(frozen=True)
class PayerDefinition:
    payer_id: str  # as it appears in 2010BB NM109 and on the 835
    name: str
    receiver_id: str  # ISA08 / GS03 of what we send this payer
    receiver_qualifier: str = "ZZ"
    channel: str = "simulator"  # how files reach the payer; see revcycle.channels
    channel_options: dict[str, str] = field(default_factory=dict)
    # Companion-guide differences: a function from the default scrub rules to this
    # payer's (drop, add or change rules).
    scrub_rules: Callable[[RuleSet], RuleSet] = _keep
    timely_filing_days: int = 365
    max_claims_per_file: int = 5000
    send_retries: int = 3  # transient channel failures
    send_retry_delay_s: float = 2.0
    concurrency: int = 1  # submissions in flight at once to this payer

    def __post_init__(self) -> None:
        if not 1 <= self.max_claims_per_file <= 5000:  # one transaction set per file
            raise ValueError("max_claims_per_file must be 1 to 5000")
