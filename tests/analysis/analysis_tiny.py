"""Tiny protocol text for the analysis tests, self-contained on purpose: importing the
shared ``conftest`` by name breaks when another test folder has a ``conftest.py`` too."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS_DIR = REPO_ROOT / "protocols"
TEXT = "{en: Text, ru: Текст, kk: Мәтін}"
CARE = "{specialist: pediatric_oncohematologist, min_level: regional, setting: inpatient}"


def transition(tid: str, to: str, when: str) -> str:
    return f'{{id: {tid}, to: "{to}", when: {when}, because: "{tid}"}}'


def step(
    name: str,
    *,
    kind: str = "treatment_phase",
    passthrough: bool = False,
    next_: Sequence[str] = (),
    otherwise: str | None = None,
) -> str:
    lines = [
        f"{name}:",
        f"  kind: {kind}",
        f"  title: {TEXT}",
        f"  family_info: {TEXT}",
        f"  care: {CARE}",
        "  urgency: routine",
    ]
    if passthrough:
        lines.append("  passthrough: true")
    if next_:
        lines.append("  next:")
        lines.extend(f"    - {item}" for item in next_)
    if otherwise is not None:
        lines.append(f'  otherwise: {{to: "{otherwise}", because: "otherwise to {otherwise}"}}')
    return "\n".join(lines)


def protocol(
    pid: str, steps: Sequence[str], *, entry: str, inputs: Sequence[str], applies_to: str
) -> str:
    lines = [
        "kind: protocol",
        f"id: {pid}",
        'version: "0.1"',
        "status: draft",
        f"title: {TEXT}",
        "sources:",
        '  - {id: src, citation: "Test citation for a tiny protocol, 2026."}',
        f"inputs: [{', '.join(inputs)}]",
        f"entry: {entry}",
        f"applies_to: {applies_to}",
        "steps:",
    ]
    for block in steps:
        lines.extend("  " + line for line in block.splitlines())
    return "\n".join(lines) + "\n"
