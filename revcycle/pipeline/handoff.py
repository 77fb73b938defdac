"""Parsed claims handed from one stage to the next in the same process.

Quality, scrub and write each need a batch's claims as objects, and reading them (the
provider's file fetched from the store and parsed) costs about as much at each stage as
at the first. When a day's steps run in one process (the default thread pool), a stage
done with its claims puts them on the process's shelf for the next, which takes them:
from then on they are the taker's own, not a copy, so a correction scrub makes in place
(a transliterated name) is seen by no one but the stage after it. A claim not on the
shelf (another process ran the step, a re-run after a restart, more claims than the shelf
holds) is read as before: the shelf saves reading, it never decides content.

A claim is taken only as the content it was put as. Its key is the installation
(:attr:`~revcycle.pipeline.resources.Resources.instance_id`), the claim's id and what its
content is: a place in a raw file named by the hash of the file's bytes, or a stored
version by its row and time (a correction made meanwhile is a new version, so the old
content is never taken for it).

The shelf holds at most ``REVCYCLE_HANDOFF_CLAIMS`` claims (about 5 KB each); the oldest
go first. 0 turns it off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from revcycle.model.claim import Claim
from revcycle.x12.charset import CharacterPolicy

if TYPE_CHECKING:
    from revcycle.pipeline.resources import Resources

# What a claim's content is: ("file", sha256, format, ordinal) or ("version", id, time).
ContentKey = tuple[Hashable, ...]


def file_key(sha256: str, fmt: str, ordinal: int) -> ContentKey:
    """A claim read from a raw file: the same bytes parse to the same claim, whichever
    database the ids came from."""
    return ("file", sha256, fmt, ordinal)


def version_key(version_id: int, changed_at: datetime) -> ContentKey:
    """A claim as a stored version (by its row and time)."""
    return ("version", version_id, changed_at)


class ClaimShelf:
    """Claims put down by one stage for the next: thread-safe, bounded, oldest out first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: OrderedDict[tuple[str, int, ContentKey],
                                  tuple[Claim, CharacterPolicy | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._claims)

    def put(self, instance: str,
            claims: Iterable[tuple[int, ContentKey, Claim, CharacterPolicy | None]],
            limit: int) -> None:
        """Shelve ``(claim id, content key, claim, policy)``s; the policy: the character
        policy already applied to the claim (scrub's corrections), if any."""
        if limit <= 0:
            return
        with self._lock:
            for claim_id, key, claim, corrected_for in claims:
                self._claims[(instance, claim_id, key)] = (claim, corrected_for)
            while len(self._claims) > limit:
                self._claims.popitem(last=False)

    def take(self, instance: str, keys: Mapping[int, ContentKey]
             ) -> dict[int, tuple[Claim, CharacterPolicy | None]]:
        """Take off the shelf the claims stored under ``keys`` (claim id -> content key)."""
        found = {}
        with self._lock:
            for claim_id, key in keys.items():
                shelved = self._claims.pop((instance, claim_id, key), None)
                if shelved is not None:
                    found[claim_id] = shelved
        return found


SHELF = ClaimShelf()


class Handoff:
    """One stage's use of the shelf: what it took, the content key of every claim it
    loaded, and what it puts down for the next stage."""

    def __init__(self, instance: str, limit: int, shelf: ClaimShelf = SHELF) -> None:
        self.instance, self.limit, self.shelf = instance, limit, shelf
        self.keys: dict[int, ContentKey] = {}
        self.corrected: dict[int, CharacterPolicy] = {}  # taken already corrected, by policy
        self.taken = 0

    def take(self, keys: Mapping[int, ContentKey]) -> dict[int, Claim]:
        """The claims of ``keys`` that are on the shelf (``current_claims`` reads the
        rest); every key is remembered for :meth:`put`."""
        self.keys.update(keys)
        if self.limit <= 0:
            return {}
        found = self.shelf.take(self.instance, keys)
        self.taken += len(found)
        self.corrected.update({claim_id: policy for claim_id, (_, policy) in found.items()
                               if policy is not None})
        return {claim_id: claim for claim_id, (claim, _) in found.items()}

    def put(self, claims: Iterable[tuple[int, Claim]],
            corrected_for: Callable[[Claim], CharacterPolicy] | None = None) -> None:
        """Put ``(claim id, claim)``s this stage loaded on the shelf for the next stage,
        once this stage's work is committed; ``corrected_for`` gives the character policy
        a claim was corrected for, when the stage corrected them."""
        self.shelf.put(self.instance, (
            (claim_id, self.keys[claim_id], claim,
             corrected_for(claim) if corrected_for else None) for claim_id, claim in claims),
            self.limit)

    def put_read(self, claims: Iterable[tuple[int, ContentKey, Claim]]) -> None:
        """Put ``(claim id, content key, claim)``s this stage read itself (ingest) on the
        shelf, once its work is committed."""
        self.shelf.put(self.instance, ((claim_id, key, claim, None)
                                       for claim_id, key, claim in claims), self.limit)


def handoff_for(res: Resources) -> Handoff:
    """A stage's handoff on the process's shelf, for the installation ``res`` works on."""
    return Handoff(res.instance_id, res.settings.handoff_claims)
