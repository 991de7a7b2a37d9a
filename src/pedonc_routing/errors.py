"""One exception tree: :class:`PedoncRoutingError` and one subclass per stage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pedonc_routing.issues import Issue


class PedoncRoutingError(Exception):
    """Root of every error this library raises on purpose."""


class ValidationFailed(PedoncRoutingError):
    """A bundle could not be loaded because validation found errors.

    Attributes:
        issues: every issue found (errors and warnings), sorted by file and line.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        errors = [issue for issue in self.issues if issue.severity == "error"]
        lines = "\n".join(str(issue) for issue in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} validation error(s):\n{lines}{more}")


class PatientDataError(PedoncRoutingError, ValueError):
    """The patient state is invalid. Never contains the patient identifier.

    Attributes:
        problems: every problem found, each ``"field: message"``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid patient state ({len(self.problems)} problem(s)):\n{listing}")


class EngineError(PedoncRoutingError):
    """The rules engine failed; the bundle stays usable for the next decision."""


class UnknownProtocolError(PedoncRoutingError, KeyError):
    """A protocol id that is not in the bundle.

    Attributes:
        protocol_id: the id asked for.
        suggestion: the closest known id, or None.
    """

    def __init__(self, protocol_id: str, suggestion: str | None) -> None:
        self.protocol_id = protocol_id
        self.suggestion = suggestion
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        super().__init__(f"unknown protocol {protocol_id!r}{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class ApprovalRequired(PedoncRoutingError):
    """Production mode refused a bundle: some protocols lack an approval of their content.

    Attributes:
        problems: one line per refused protocol: its id and version, and why (no approval,
            changes requested, or the places whose content differs from what was approved).
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(
            f"{len(self.problems)} protocol(s) not approved for production use:\n{listing}"
        )
