"""The example patients as the JSON a hospital system would send (service tests, bench)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patients"


def example_patient(relative: str) -> dict[str, Any]:
    """An example patient file (path below examples/patients) as JSON data."""
    data = yaml.safe_load((EXAMPLES / relative).read_text(encoding="utf-8"))
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def all_example_patients() -> list[dict[str, Any]]:
    paths = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "expected.yaml")
    return [example_patient(str(path.relative_to(EXAMPLES))) for path in paths]
