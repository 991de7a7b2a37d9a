"""Positions in YAML files: 1-based spans recorded at load time, keyed by logical path."""

from __future__ import annotations

from dataclasses import dataclass

#: A logical path into a document, e.g. ("steps", "diagnosis", "next", 1, "when").
LogicalPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """Where a YAML node starts: file, 1-based line and 1-based column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def short(self) -> str:
        """``file:line``, as used in decision explanations."""
        return f"{self.file}:{self.line}"


def format_path(path: LogicalPath) -> str:
    """Render a logical path as ``steps.diagnosis.next[1].when``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class SourceMap:
    """Side table from logical path to the span of the node at that path.

    Looking up a path that has no node of its own (for example a missing key) returns the
    span of its nearest ancestor, so every issue has a position.
    """

    __slots__ = ("_file", "_spans")

    def __init__(self, file: str, spans: dict[LogicalPath, SourceSpan] | None = None) -> None:
        self._file = file
        self._spans: dict[LogicalPath, SourceSpan] = spans if spans is not None else {}

    @property
    def file(self) -> str:
        return self._file

    def record(self, path: LogicalPath, span: SourceSpan) -> None:
        self._spans[path] = span

    def span(self, path: LogicalPath) -> SourceSpan:
        for end in range(len(path), -1, -1):
            found = self._spans.get(path[:end])
            if found is not None:
                return found
        return SourceSpan(self._file, 1, 1)

    def key_span(self, path: LogicalPath) -> SourceSpan:
        """Span of the mapping key at ``path`` (falls back to the value's span)."""
        found = self._spans.get((*path, "<key>"))
        return found if found is not None else self.span(path)
