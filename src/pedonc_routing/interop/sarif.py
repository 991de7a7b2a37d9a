"""A validation report as SARIF 2.1.0, the format GitHub code scanning and many IDEs read.

SARIF lets CI show each issue as an annotation on the protocol line that caused it, without a
custom parser for our ``FILE:LINE:COL`` lines.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pedonc_routing._version import __version__
from pedonc_routing.issues import Issue, ValidationReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "pedonc-routing"

#: One short title per issue code: the headings of docs/checks.md, plus the guard-analysis
#: and facility codes. Hardcoded so a SARIF viewer gets a readable rule name offline; keep in
#: step with docs/checks.md when a code is added.
RULE_TITLES: dict[str, str] = {
    "Y001": "not valid YAML",
    "Y002": "duplicate key",
    "Y003": "tag or merge key",
    "Y004": "too many aliases",
    "Y005": "nesting too deep",
    "Y006": "too large",
    "Y007": "complex mapping key",
    "Y008": "cannot read",
    "S001": "the document does not fit its kind",
    "S002": "unknown document kind",
    "S003": "bundle shape",
    "R001": "unknown step",
    "R002": "unknown input",
    "R003": "unknown capability",
    "R004": "unknown specialist",
    "R005": "unknown facility",
    "R006": "unknown region",
    "R007": "unknown protocol",
    "R008": "unknown source",
    "R009": "duplicate id",
    "T001": "operator or constant does not fit the input's type",
    "T002": "constant outside the plausible range",
    "T003": "enum value not declared",
    "T004": "input not listed in the protocol's `inputs`",
    "T005": "constant more precise than the input",
    "T006": "bad code pattern",
    "G001": "unreachable step",
    "G002": "dead end",
    "G003": "passthrough cycle",
    "G004": "guards overlap",
    "G005": "guard never true",
    "G006": "gap: no transition holds",
    "G007": "protocols overlap",
    "G008": "guards too complex to analyse",
    "G009": "transition never chosen",
    "G010": "cycle with no exit",
    "C001": "protocol without sources",
    "C002": "text missing a language",
    "C003": "reviewed protocol without reviewer and date",
    "A001": "protocol content differs from its approval",
    "A002": "approval of an unknown protocol",
    "F001": "no facility can provide a step",
    "F002": "region without a catchment",
    "F003": "emergency care outside the region",
    "E001": "protocol too large for durable-rules",
}


def tool_version() -> str:
    """The installed package version (the same one ``--version`` prints)."""
    try:
        return metadata.version(TOOL_NAME)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return __version__


def _rule_name(title: str) -> str:
    """``guards overlap`` -> ``GuardsOverlap``: SARIF wants a readable identifier as name."""
    words = re.findall(r"[A-Za-z0-9]+", title.replace("'", ""))
    return "".join(word[:1].upper() + word[1:] for word in words)


def _rule(code: str) -> dict[str, Any]:
    title = RULE_TITLES.get(code, code)
    return {
        "id": code,
        "name": _rule_name(title),
        "shortDescription": {"text": title},
        "help": {"text": f"{code}: {title}. See docs/checks.md in pedonc-routing."},
    }


def _uri(file: str) -> str:
    """A relative file stays a relative URI reference (what code scanning resolves against
    the checkout); an absolute one becomes a ``file://`` URI, as SARIF asks."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(file.replace("\\", "/"), safe="/")


def _result(issue: Issue, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": issue.code,
        "ruleIndex": rule_index,
        "level": issue.severity,
        "message": {"text": issue.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(issue.file)},
                    # SARIF lines and columns are 1-based, like ours; never emit 0.
                    "region": {
                        "startLine": max(issue.line, 1),
                        "startColumn": max(issue.column, 1),
                    },
                }
            }
        ],
    }
    if issue.example is not None:
        result["properties"] = {"example": issue.example}
    return result


def to_sarif(report: ValidationReport, *, version: str | None = None) -> dict[str, Any]:
    """The report as one SARIF 2.1.0 log with a single run; rules are the codes that occur."""
    codes = sorted({issue.code for issue in report.issues})
    index = {code: position for position, code in enumerate(codes)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": version if version is not None else tool_version(),
                        "rules": [_rule(code) for code in codes],
                    }
                },
                # PyYAML columns count characters, not UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "results": [_result(issue, index[issue.code]) for issue in report.issues],
            }
        ],
    }
