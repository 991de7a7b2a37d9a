"""Shared fixtures: the shipped bundle (both engines), the example patients, tiny bundles.

Also registers the hypothesis profiles: ``ci`` (derandomized, 200 examples, the default) and
``deep`` (5,000 examples), selected with the environment variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

import pedonc_routing as pr

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTOCOLS_DIR = REPO_ROOT / "protocols"
EXAMPLES_DIR = REPO_ROOT / "examples" / "patients"

settings.register_profile("ci", derandomize=True, max_examples=200, deadline=None)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: (file name, patient mapping, expected entry of examples/patients/expected.yaml)
ExamplePatient = tuple[str, dict[str, Any], dict[str, Any]]

#: Care text used by tiny test protocols: every language present, so no C002 warnings.
TEXT = "{en: Text, ru: Текст, kk: Мәтін}"


def load_example_patients() -> list[ExamplePatient]:
    """Every example patient with its expected outcome (usable at collection time)."""
    expected = yaml.safe_load((EXAMPLES_DIR / "expected.yaml").read_text(encoding="utf-8"))
    by_file = {entry["file"]: entry for entry in expected}
    patients: list[ExamplePatient] = []
    for path in sorted(EXAMPLES_DIR.glob("[0-9]*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        patients.append((path.name, data, by_file[path.name]))
    return patients


@pytest.fixture(scope="session")
def shipped_bundle() -> pr.Bundle:
    """The shipped protocols with the default engine (durable-rules where it imports)."""
    return pr.load_bundle(PROTOCOLS_DIR)


@pytest.fixture(scope="session")
def reference_bundle() -> pr.Bundle:
    """The shipped protocols with the pure-Python reference evaluator."""
    return pr.load_bundle(PROTOCOLS_DIR, engine="reference")


@pytest.fixture(scope="session")
def example_patients() -> list[ExamplePatient]:
    return load_example_patients()


def write_bundle(
    root: Path,
    protocols: str | Mapping[str, str],
    *,
    extra: Mapping[str, str] | None = None,
) -> Path:
    """A bundle folder at ``root``: the shipped vocabulary, care catalogue and facilities,
    plus the protocol file(s) given as YAML text (``{file name: text}`` or one text).

    ``extra`` files are written last (relative paths), so they may replace shipped files,
    e.g. ``{"facilities/registry.yaml": ...}``.
    """
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROTOCOLS_DIR / "vocabulary.yaml", root / "vocabulary.yaml")
    shutil.copy(PROTOCOLS_DIR / "care.yaml", root / "care.yaml")
    shutil.copytree(PROTOCOLS_DIR / "facilities", root / "facilities", dirs_exist_ok=True)
    files = {"protocol.yaml": protocols} if isinstance(protocols, str) else dict(protocols)
    for name, text in {**files, **(extra or {})}.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def make_bundle(tmp_path: Path) -> Callable[..., Path]:
    """``make_bundle(protocol_text_or_files, extra=...)`` -> a bundle folder in tmp_path."""
    counter = iter(range(1_000_000))

    def make(protocols: str | Mapping[str, str], **kwargs: Any) -> Path:
        return write_bundle(tmp_path / f"bundle{next(counter)}", protocols, **kwargs)

    return make
