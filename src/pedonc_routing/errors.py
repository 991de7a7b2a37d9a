"""One exception tree: :class:`PedoncRoutingError` and one subclass per stage.

An error first raised as a builtin one (``ValueError``, ``KeyError``) also subclasses it,
so handlers written for the builtin keep working.
"""

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


class UnknownLanguageError(PedoncRoutingError, ValueError):
    """A decision asked for in a language the protocols are not written in (a caller's
    mistake, caught before any routing). A ``ValueError`` too, as it was first raised.

    Attributes:
        lang: the language asked for (any value the caller passed).
        languages: the languages the protocols are written in.
    """

    def __init__(self, lang: object, languages: Sequence[str]) -> None:
        self.lang = lang
        self.languages = tuple(languages)
        super().__init__(f"lang must be one of {', '.join(self.languages)}, not {lang!r}")


class CaseFileError(PedoncRoutingError):
    """A file of recorded cases (``tests/cases/*.yaml`` format) that cannot be read, for a
    coverage or diff analysis. The message is ``FILE:LINE: problem``."""


class CaseError(PedoncRoutingError):
    """A YAML case of the pytest plugin (``pedonc_cases/*.yaml``) that does not fit the
    format. The message names the problem (and the file when the whole file is wrong)."""


class InvariantsError(PedoncRoutingError, ValueError):
    """An invariants file (``kind: invariants``) that cannot be read or does not fit the
    format. A ``ValueError`` too, as it was first raised.

    Attributes:
        problems: every problem found, each ``FILE:LINE:COL: message``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


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
