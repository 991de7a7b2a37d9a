"""An index from a child's ICD-10 code to the protocols whose ``applies_to`` can hold.

Choosing a protocol for a child not yet on a pathway evaluates every ``applies_to``: with many
protocols that is the largest cost of a route (1,000 synthetic protocols: 1.6 ms p50,
docs/performance.md). Most ``applies_to`` require the diagnosis to fall in some ICD-10 codes,
and such a guard is *false* (not unknown) for a known code outside them, whatever the other
inputs are. So, when the child's code is known, only the protocols that can apply to it, and
those with no such requirement, need evaluating; every other one is known not to apply.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pedonc_routing.model.conditions import AllOf, AnyOf, Condition, Test
from pedonc_routing.vocabulary.codes import icd10_pattern

Interval = tuple[int, int]  # closed interval of ICD-10 keys (vocabulary.codes.icd10_key)


def icd10_requirement(condition: Condition) -> tuple[Interval, ...] | None:
    """ICD-10 key intervals outside which ``condition`` is false for a *known* code, or None
    when no such bound follows from its form.

    Sound by construction: ``icd10_in`` is false outside its patterns; ``all`` is false when
    any part is (one bounded part bounds it); ``any`` only when every part is (the union of
    their bounds). ``not`` and every other test give no bound.
    """
    if isinstance(condition, Test):
        if condition.input == "icd10" and condition.icd10_in is not None:
            return tuple(icd10_pattern(pattern) for pattern in condition.icd10_in)
        return None
    if isinstance(condition, AllOf):
        bounded = [icd10_requirement(part) for part in condition.all]
        found = [bound for bound in bounded if bound is not None]
        return min(found, key=_width) if found else None
    if isinstance(condition, AnyOf):
        union: list[Interval] = []
        for part in condition.any:
            bound = icd10_requirement(part)
            if bound is None:
                return None
            union.extend(bound)
        return tuple(union)
    return None  # Not: its part being false says nothing bounded about it


def _width(intervals: Sequence[Interval]) -> int:
    return sum(high - low + 1 for low, high in intervals)


@dataclass(frozen=True)
class SelectionIndex:
    """For each stretch of ICD-10 keys, the protocols (in selection order) that may apply.

    ``starts`` are the sorted keys where the candidate set changes; ``candidates[i]`` holds
    for keys in ``[starts[i], starts[i + 1])``. Keys below ``starts[0]`` get ``unbounded``.
    """

    starts: tuple[int, ...]
    candidates: tuple[frozenset[str], ...]
    unbounded: frozenset[str]
    bounds: Mapping[str, Sequence[Interval] | None]

    @classmethod
    def build(cls, applies_to: Mapping[str, Condition]) -> SelectionIndex:
        return cls.of_bounds({pid: icd10_requirement(c) for pid, c in applies_to.items()})

    @classmethod
    def of_bounds(cls, bounds: Mapping[str, Sequence[Interval] | None]) -> SelectionIndex:
        """From each protocol's requirement (None: none, the protocol is always a candidate)."""
        unbounded = frozenset(pid for pid, bound in bounds.items() if bound is None)
        # A sweep over interval ends: +1 where a protocol's interval opens, -1 after it closes.
        changes: dict[int, Counter[str]] = defaultdict(Counter)
        for pid, bound in bounds.items():
            for low, high in bound or ():
                changes[low][pid] += 1
                changes[high + 1][pid] -= 1
        open_intervals: Counter[str] = Counter()
        starts, candidates = [], []
        for edge in sorted(changes):
            open_intervals.update(changes[edge])
            starts.append(edge)
            candidates.append(unbounded | {pid for pid, count in open_intervals.items() if count})
        return cls(tuple(starts), tuple(candidates), unbounded, dict(bounds))

    def chunks(self, size: int) -> list[list[str]]:
        """The protocols in groups of ``size``: those with no requirement first, then by the
        lowest code they require, so a code's candidates sit in few groups."""
        lowest = {pid: min(low for low, _ in bound) for pid, bound in self.bounds.items() if bound}
        ordered = sorted(self.bounds, key=lambda pid: (pid in lowest, lowest.get(pid, 0), pid))
        return [ordered[start : start + size] for start in range(0, len(ordered), size)]

    def may_apply(self, icd10_key: int) -> frozenset[str]:
        """The protocols whose ``applies_to`` is not certainly false for this code."""
        index = bisect_right(self.starts, icd10_key) - 1
        return self.unbounded if index < 0 else self.candidates[index]
