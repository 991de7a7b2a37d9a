"""JSON Schemas of the YAML file kinds and of the patient state, generated from the models.

Editors (yaml-language-server) use them for completion and inline shape errors while a
protocol is being written. Generating them from the pydantic models keeps one source of
truth: the schema cannot drift from what the loader accepts. Cross-file checks (steps,
inputs, facilities) are not expressible here; ``pedonc-routing validate`` does those.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pedonc_routing.model.documents import DOCUMENT_KINDS
from pedonc_routing.model.patient import PatientState

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

#: The model behind each schema, by kind (the ``kind:`` value; ``patient_state`` for patients).
SCHEMA_MODELS: dict[str, type[BaseModel]] = {**DOCUMENT_KINDS, "patient_state": PatientState}

_TITLES: dict[str, str] = {
    "vocabulary": "pedonc-routing vocabulary file",
    "care_catalogue": "pedonc-routing care catalogue file",
    "protocol": "pedonc-routing protocol file",
    "facility_registry": "pedonc-routing facility registry file",
    "catchments": "pedonc-routing catchments file",
    "referral_links": "pedonc-routing referral links file",
    "routing_rules": "pedonc-routing routing rules file",
    "patient_state": "pedonc-routing patient state",
}


def schema_for(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one kind, as the loader validates it."""
    model = SCHEMA_MODELS[kind]
    generated = model.model_json_schema(by_alias=True, mode="validation")
    # $schema and title first, so a reader of the file sees what it is at once.
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": _TITLES.get(kind, kind),
    }
    schema.update((key, value) for key, value in generated.items() if key != "title")
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema, by kind."""
    return {kind: schema_for(kind) for kind in SCHEMA_MODELS}


def schema_file_name(kind: str) -> str:
    """``protocol`` -> ``protocol.schema.json``."""
    return f"{kind}.schema.json"


def write_schemas(directory: Path) -> list[Path]:
    """Write ``KIND.schema.json`` for every kind into ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind, schema in all_schemas().items():
        path = directory / schema_file_name(kind)
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
