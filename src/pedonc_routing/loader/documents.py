r"""Read a folder (or files) of YAML into typed documents with source maps.

Each file is read safely (:mod:`.yaml_reader`), its ``kind`` picks the model, and pydantic's
errors are mapped back onto ``file:line:col`` through the source map. Never raises on bad
content: every problem is an :class:`Issue`.

### S001 error: the document does not fit its kind

The file is not a mapping, misses a required key, has an unknown key, or a value has the
wrong type or value. The message names the path inside the document.

FAIL:

```yaml
status: approved
```

```
demo.yaml:4:9: S001 error: status: Input should be 'draft' or 'reviewed'
```

Other forms:

```
demo.yaml:11:1: S001 error: colour: unknown key 'colour'
demo.yaml:1:1: S001 error: document: missing entry
```

Fix: follow [authoring.md](authoring.md) for the document's `kind`.

### S002 error: unknown document kind

FAIL:

```yaml
kind: protocl
```

```
demo.yaml:1:7: S002 error: unknown document kind 'protocl' (one of: vocabulary, care_catalogue, protocol, facility_registry, catchments, referral_links, routing_rules, approvals); did you mean 'protocol'?
```

Fix: use one of the listed kinds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from pedonc_routing.issues import Issue
from pedonc_routing.loader.yaml_reader import LoadedDocument, read_file_bytes, read_yaml_bytes
from pedonc_routing.model.conditions import CONDITION_TAGS
from pedonc_routing.model.documents import (
    DOCUMENT_KINDS,
    Approvals,
    CareCatalogue,
    Catchments,
    Document,
    FacilityRegistry,
    Protocol,
    ReferralLinks,
    RoutingRules,
    Vocabulary,
)
from pedonc_routing.source import LogicalPath, SourceMap, format_path
from pedonc_routing.suggestions import did_you_mean

MAX_FILES = 2000  # a safety bound: far above any real bundle, below a runaway folder

DocumentT = TypeVar("DocumentT", bound=Document)


@dataclass(frozen=True)
class Sourced(Generic[DocumentT]):
    """A validated document and the positions of its nodes."""

    model: DocumentT
    source_map: SourceMap

    @property
    def file(self) -> str:
        return self.source_map.file


@dataclass
class DocumentSet:
    """Every document of a bundle by kind, plus the issues found reading them."""

    vocabularies: list[Sourced[Vocabulary]] = field(default_factory=list)
    care_catalogues: list[Sourced[CareCatalogue]] = field(default_factory=list)
    protocols: list[Sourced[Protocol]] = field(default_factory=list)
    registries: list[Sourced[FacilityRegistry]] = field(default_factory=list)
    catchments: list[Sourced[Catchments]] = field(default_factory=list)
    links: list[Sourced[ReferralLinks]] = field(default_factory=list)
    routing_rules: list[Sourced[RoutingRules]] = field(default_factory=list)
    approvals: list[Sourced[Approvals]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    content_hash: str = ""

    def add(self, document: Document, source_map: SourceMap) -> None:
        if isinstance(document, Vocabulary):
            self.vocabularies.append(Sourced(document, source_map))
        elif isinstance(document, CareCatalogue):
            self.care_catalogues.append(Sourced(document, source_map))
        elif isinstance(document, Protocol):
            self.protocols.append(Sourced(document, source_map))
        elif isinstance(document, FacilityRegistry):
            self.registries.append(Sourced(document, source_map))
        elif isinstance(document, Catchments):
            self.catchments.append(Sourced(document, source_map))
        elif isinstance(document, ReferralLinks):
            self.links.append(Sourced(document, source_map))
        elif isinstance(document, Approvals):
            self.approvals.append(Sourced(document, source_map))
        else:
            self.routing_rules.append(Sourced(document, source_map))


def default_protocols_dir() -> Path:
    """The shipped protocols: packaged in the wheel, or the source tree's ``protocols/``."""
    package_dir = Path(__file__).resolve().parent.parent
    packaged = package_dir / "_protocols"
    if packaged.is_dir():
        return packaged
    return package_dir.parent.parent / "protocols"


def _collect_files(paths: Sequence[Path]) -> tuple[list[tuple[Path, str]], list[Issue]]:
    files: list[tuple[Path, str]] = []
    issues: list[Issue] = []
    for root in paths:
        name = root.resolve().name if root.name in ("", ".", "..") else root.name
        label = "protocols" if name == "_protocols" else name
        if root.is_dir():
            found = sorted(
                path
                for path in root.rglob("*")
                if path.suffix in (".yaml", ".yml") and path.is_file()
            )
            files.extend((path, f"{label}/{path.relative_to(root).as_posix()}") for path in found)
        elif root.is_file():
            files.append((root, root.as_posix()))
        else:
            issues.append(Issue("Y008", "error", "no such file or folder", root.as_posix(), 1, 1))
    if len(files) > MAX_FILES:
        issues.append(
            Issue("Y006", "error", f"more than {MAX_FILES} YAML files", files[0][1], 1, 1)
        )
        files = files[:MAX_FILES]
    return files, issues


def read_documents(paths: Iterable[Path | str]) -> DocumentSet:
    """Read and model every YAML file under ``paths`` (folders are searched recursively)."""
    files, issues = _collect_files([Path(path) for path in paths])
    # One bounded read serves the hash and the parse: the hash is of the bytes validated
    # (not of a second read that may differ), and a huge file is never read whole.
    return _read_all(((display, read_file_bytes(path, display)) for path, display in files), issues)


def read_document_texts(texts: Iterable[tuple[str, str]]) -> DocumentSet:
    """Model documents held in memory as ``(file name, YAML text)`` pairs (generated
    bundles, editors): the same reading, positions and content hash as files of that
    name and text on disk."""
    return _read_all(((name, (text.encode("utf-8"), [])) for name, text in texts), [])


def _read_all(
    files: Iterable[tuple[str, tuple[bytes | None, list[Issue]]]], issues: list[Issue]
) -> DocumentSet:
    """Hash, parse and model each ``(display name, (bytes or None, read issues))``."""
    documents = DocumentSet()
    documents.issues.extend(issues)
    digest = hashlib.sha256()
    for display, (raw, read_issues) in files:
        digest.update(display.encode() + b"\0" + (raw if raw is not None else b"") + b"\0")
        loaded = None
        if raw is not None:
            loaded, read_issues = read_yaml_bytes(raw, display)
        documents.issues.extend(read_issues)
        if loaded is None:
            continue
        model, model_issues = model_document(loaded)
        documents.issues.extend(model_issues)
        if model is not None:
            documents.add(model, loaded.source_map)
    documents.content_hash = "sha256:" + digest.hexdigest()
    return documents


def model_document(loaded: LoadedDocument) -> tuple[Document | None, list[Issue]]:
    """Validate plain YAML data against the model its ``kind`` names."""
    data, source_map = loaded.data, loaded.source_map
    if not isinstance(data, dict):
        return None, [Issue.at(source_map.span(()), "S001", "a document must be a mapping")]
    kind = data.get("kind")
    model_type = DOCUMENT_KINDS.get(kind) if isinstance(kind, str) else None
    if model_type is None:
        hint = did_you_mean(str(kind), DOCUMENT_KINDS) if kind is not None else None
        known = ", ".join(DOCUMENT_KINDS)
        shown = repr(kind) if len(repr(kind)) <= 80 else repr(kind)[:77] + "..."
        message = f"unknown document kind {shown} (one of: {known})" + (
            f"; did you mean {hint!r}?" if hint else ""
        )
        return None, [Issue.at(source_map.span(("kind",)), "S002", message)]
    try:
        return model_type.model_validate(data), []
    except ValidationError as error:
        return None, pydantic_issues(error, data, source_map)


def project_loc(loc: Sequence[str | int], data: Any) -> tuple[LogicalPath, bool]:
    """Project a pydantic error location onto the data's own path.

    Pydantic adds union tags and type names to locations; only keys and indexes that exist in
    the data are kept. Returns the path and whether it was followed to its end.
    """
    path: list[str | int] = []
    node = data
    complete = True
    for part in loc:
        if part in CONDITION_TAGS:
            continue
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            path.append(part)
            node = node[part]
        else:
            complete = False
            if isinstance(node, dict):
                break
    return tuple(path), complete


def pydantic_issues(
    error: ValidationError, data: Any, source_map: SourceMap, code: str = "S001"
) -> list[Issue]:
    """Map pydantic errors to issues at ``file:line:col``, one per location."""
    grouped: dict[LogicalPath, list[dict[str, Any]]] = {}
    for detail in error.errors(include_url=False):
        path, _ = project_loc(detail["loc"], data)
        grouped.setdefault(path, []).append(dict(detail))
    issues: list[Issue] = []
    for path, details in grouped.items():
        issues.append(_issue_for(path, details, source_map, code))
    return issues


def _issue_for(
    path: LogicalPath, details: list[dict[str, Any]], source_map: SourceMap, code: str
) -> Issue:
    where = format_path(path) or "document"
    first = details[0]
    if first["type"] == "extra_forbidden":
        key = first["loc"][-1]
        span = source_map.key_span((*path,)) if path and path[-1] == key else source_map.span(path)
        return Issue.at(span, code, f"{where}: unknown key {key!r}")
    if first["type"] == "missing":
        names = sorted(
            {str(detail["loc"][-1]) for detail in details if detail["type"] == "missing"}
        )
        return Issue.at(source_map.span(path), code, f"{where}: missing {', '.join(names)}")
    messages: list[str] = []
    for detail in details:
        message = str(detail["msg"]).removeprefix("Value error, ")
        if message not in messages:
            messages.append(message)
    text = messages[0] if len(messages) == 1 else "; or ".join(messages[:3])
    return Issue.at(source_map.span(path), code, f"{where}: {text}")
