"""docs/checks.md is generated from the docstrings of the modules that report each code, and
every code the source can report is documented there."""

from __future__ import annotations

import re
from pathlib import Path

from pedonc_routing.validation import checks_doc

ROOT = Path(__file__).resolve().parents[2]


def test_committed_page_is_the_rendering() -> None:
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == checks_doc.render(), (
        "docs/checks.md is stale: python -m pedonc_routing.validation.checks_doc > docs/checks.md"
    )


def test_every_reported_code_is_documented() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "src" / "pedonc_routing").rglob("*.py")
        if path.name != "sarif.py"  # titles of codes, not reports
    )
    reported = set(re.findall(r'"([YSRTGCFE]\d{3})"', source))
    assert reported, "no codes found: the pattern is stale"
    assert reported <= set(checks_doc.sections())


def test_each_section_has_a_failing_example() -> None:
    for code, section in checks_doc.sections().items():
        if code == "G008":
            continue  # a guard too complex to analyse is described, not reproduced
        assert "FAIL" in section, code
