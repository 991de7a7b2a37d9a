"""The issue record every stage reports, and the report that collects them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pedonc_routing.source import SourceSpan

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a bundle, at a 1-based ``file:line:column``.

    Attributes:
        code: stable code, e.g. ``R001``; see docs/checks.md.
        severity: ``error`` fails validation; ``warning`` does not.
        message: what is wrong, with a "did you mean" hint where one helps.
        file, line, column: where, 1-based.
        example: an optional counterexample (e.g. a patient) as plain data.
    """

    code: str
    severity: Severity
    message: str
    file: str
    line: int
    column: int
    example: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def at(
        cls,
        span: SourceSpan,
        code: str,
        message: str,
        severity: Severity = "error",
        example: dict[str, Any] | None = None,
    ) -> Issue:
        return cls(code, severity, message, span.file, span.line, span.column, example)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.code} {self.severity}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }
        if self.example is not None:
            data["example"] = self.example
        return data


@dataclass(frozen=True)
class ValidationReport:
    """Every issue of a bundle, sorted by file and line."""

    issues: tuple[Issue, ...]

    @classmethod
    def of(cls, issues: Iterable[Issue]) -> ValidationReport:
        return cls(tuple(sorted(set(issues), key=Issue.sort_key)))

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == "warning")

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [issue.to_dict() for issue in self.issues],
        }
