"""Planted faults for the toolkit tests: copies of the shipped bundle with one edit.

A helper module, not a conftest: `from conftest import ...` in other test folders must keep
finding the root tests/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import pedonc_routing as pr

PROTOCOLS_DIR = Path(__file__).resolve().parents[2] / "protocols"

#: Planted-fault bundles use the reference evaluator: durable-rules rulesets are never freed.
Plant = Callable[..., pr.Bundle]


@pytest.fixture(name="plant")
def plant_fixture(tmp_path: Path) -> Plant:
    """``plant(file, old, new, ...)``: the shipped bundle with ``old`` replaced by ``new`` in
    ``file`` (each pair must occur exactly once), loaded with the reference engine."""
    counter = iter(range(1000))

    def make(file: str, *edits: str) -> pr.Bundle:
        root = tmp_path / f"planted{next(counter)}"
        shutil.copytree(PROTOCOLS_DIR, root)
        text = (root / file).read_text(encoding="utf-8")
        for old, new in zip(edits[::2], edits[1::2], strict=True):
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {file}"
            text = text.replace(old, new)
        (root / file).write_text(text, encoding="utf-8")
        return pr.load_bundle(root, engine="reference")

    return make
