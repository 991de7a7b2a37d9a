""" "Did you mean ...?" for unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, or None when nothing is close."""
    candidates = list(known)
    # difflib's ratio is at most 2*len(short)/(len(a)+len(b)): a name over 3x the longest
    # candidate can never reach 0.6, and comparing a multi-megabyte one takes seconds.
    if not candidates or len(name) > 3 * max(len(candidate) for candidate in candidates):
        return None
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def with_hint(message: str, name: str, known: Iterable[str]) -> str:
    """``message`` plus a "did you mean" suffix when a close name exists."""
    hint = did_you_mean(name, known)
    return f"{message}; did you mean {hint!r}?" if hint else message
