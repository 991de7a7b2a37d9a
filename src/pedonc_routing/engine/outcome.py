"""What a walk found, as typed values: the decision builder (:mod:`pedonc_routing.decision`)
turns it into the :class:`~pedonc_routing.decision.model.Decision` in the caller's language.

Nothing here is localized or serialised: steps, transitions and follow-ups are the compiled
objects themselves, the facility choice is the network's :class:`FacilityChoice`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal, NamedTuple

from pedonc_routing.compiler.compiled import CompiledProtocol
from pedonc_routing.compiler.pathway import CompiledOverride, CompiledStep, CompiledTransition
from pedonc_routing.model.documents import FollowUp
from pedonc_routing.routing.network import FacilityChoice
from pedonc_routing.vocabulary.inputs import FactValue

Status = Literal["routed", "needs_data", "no_route", "not_applicable", "completed"]


# Named tuples, not frozen dataclasses: a walk creates several reasons and one outcome per
# route, and a frozen dataclass sets each field through object.__setattr__ (measured with
# callgrind: the typed outcome cost ~8 % of a route's instructions as frozen dataclasses).
class Reason(NamedTuple):
    """One rule that contributed: its id, ``file:line``, the reason, and the facts it read."""

    rule: str
    source: str
    because: str
    facts: Mapping[str, FactValue]
    citation: str | None = None


class Resume(NamedTuple):
    """Where the child resumes after an override's pathway."""

    protocol: str
    step: str


class Outcome(NamedTuple):
    """One walk's result: where the child is sent (or why not) and every reason for it.

    ``transition`` is the last transition taken and ``override`` the override that fired, if
    any; ``facility`` is set for a routed step (a choice without a facility is the attached
    polyclinic); ``due_at`` is the step's due time from ``as_of``, for a routed step only.
    """

    status: Status
    as_of: datetime
    home_region: str
    protocol: CompiledProtocol | None = None
    from_step: str | None = None
    step: CompiledStep | None = None
    transition: CompiledTransition | None = None
    override: CompiledOverride | None = None
    facility: FacilityChoice | None = None
    due_at: datetime | None = None
    follow_ups: tuple[FollowUp, ...] = ()
    #: Follow-ups of the step whose guard the data cannot decide, each with what it needs.
    undecided_follow_ups: tuple[tuple[FollowUp, frozenset[str]], ...] = ()
    missing: frozenset[str] = frozenset()
    reasons: tuple[Reason, ...] = ()
    return_to: Resume | None = None
