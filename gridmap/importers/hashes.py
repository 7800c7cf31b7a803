"""A set of 64-bit hashes at 8 bytes each: what a streamed file keeps of the keys it has met.

A Python set of ints costs about 70 bytes a member (the int, the slot, the spare slots); a
county's 545k visits, each with a key and a unique field set, held 80 MiB of them through the
largest file of the load. Here only the latest members are in a set; the rest are settled
into one sorted int64 array, looked up a chunk of rows at a time (`look_ahead`), so that
asking about each row stays a set lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SETTLE_AT = 65_536  # members kept in the set before they are settled into the array


class Hashes:
    """Members are ints that fit 64 bits (Python's `hash`); asked about a chunk at a time:
    `look_ahead(tokens)` before asking `token in hashes` of those tokens."""

    def __init__(self, settle_at: int | None = None):
        self.settle_at = settle_at or SETTLE_AT
        self.settled = np.empty(0, dtype=np.int64)
        self.recent: set[int] = set()
        self.ahead: set[int] = set()  # the chunk's tokens found among the settled

    def look_ahead(self, tokens: Iterable[int]) -> None:
        """Prepare to be asked about `tokens` (and tokens added meanwhile)."""
        if len(self.recent) >= self.settle_at:
            fresh = np.fromiter(self.recent, dtype=np.int64, count=len(self.recent))
            self.settled = np.union1d(self.settled, fresh)
            self.recent = set()
        wanted = np.fromiter(tokens, dtype=np.int64)
        if not len(self.settled) or not len(wanted):
            self.ahead = set()
            return
        at = np.searchsorted(self.settled, wanted)
        at[at == len(self.settled)] = 0
        self.ahead = set(wanted[self.settled[at] == wanted].tolist())

    def __contains__(self, token: int) -> bool:
        return token in self.recent or token in self.ahead

    def isdisjoint(self, tokens: list[int]) -> bool:
        """Whether none of `tokens` (looked ahead) is a member."""
        return self.recent.isdisjoint(tokens) and self.ahead.isdisjoint(tokens)

    def update(self, tokens: list[int]) -> None:
        """`add` each of `tokens`."""
        self.recent.update(tokens)

    def add(self, token: int) -> None:
        """Add a member (it stays in the set until the next `look_ahead` settles a full set)."""
        self.recent.add(token)
