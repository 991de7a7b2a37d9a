"""The documentation site's generated pages and nav, checked without mkdocs installed.

``docs/_hooks/generated_pages.py`` renders the pathway pages, schemas and references at
build time; ``mkdocs.yml`` names the pages in its nav. A protocol missing from the site, a
diagram missing a step, or a nav entry naming a page that does not exist would otherwise
only show up when someone runs ``make docs``.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

import pedonc_routing as pr

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
HOOK = DOCS / "_hooks" / "generated_pages.py"

_MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_EDGE = re.compile(r"-->|-\.->|==>")
#: Step ids are lower case; other nodes (other protocols' steps, overrides) are upper case.
_NODE = re.compile(r"^\s+([a-z][a-z0-9_]*)\s*[\[{(]")


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generated_pages", HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _MkDocsLoader(yaml.SafeLoader):
    """Safe loading that reads ``!!python/name:x`` (used by mkdocs.yml) as the string x."""


_MkDocsLoader.add_multi_constructor(
    "tag:yaml.org,2002:python/name:", lambda _loader, suffix, _node: suffix
)


@pytest.fixture(scope="module")
def mkdocs_config() -> dict[str, Any]:
    loaded = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_MkDocsLoader)
    assert isinstance(loaded, dict)
    return loaded


def shipped_protocols() -> dict[str, set[str]]:
    """Protocol id -> step ids, read straight from the YAML (not through the bundle)."""
    protocols: dict[str, set[str]] = {}
    for path in sorted((ROOT / "protocols").rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and document.get("kind") == "protocol":
            protocols[document["id"]] = set(document["steps"])
    return protocols


def diagram_nodes(page: str) -> set[str]:
    """Ids of the nodes the page's mermaid block defines on their own line."""
    blocks = _MERMAID_BLOCK.findall(page)
    assert len(blocks) == 1, "expected exactly one mermaid block"
    nodes: set[str] = set()
    for line in blocks[0].splitlines()[1:]:
        match = _NODE.match(line)
        if match and not _EDGE.search(line):
            nodes.add(match.group(1))
    return nodes


def nav_paths(nav: list[Any]) -> Iterator[str]:
    for item in nav:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from nav_paths(value) if isinstance(value, list) else [value]


def test_every_shipped_protocol_has_a_page_whose_diagram_draws_every_step(
    hook: ModuleType, shipped_bundle: pr.Bundle
) -> None:
    pages = hook.pathway_pages(shipped_bundle)
    protocols = shipped_protocols()
    assert len(protocols) >= 9
    assert set(pages) == {"pathways/index.md"} | {f"pathways/{pid}.md" for pid in protocols}
    for protocol_id, steps in protocols.items():
        page = pages[f"pathways/{protocol_id}.md"]
        assert diagram_nodes(page) == steps, protocol_id
        assert f"Protocol `{protocol_id}`" in page
        assert "## Sources" in page
        assert f"[{protocol_id}]({protocol_id}.md)" in pages["pathways/index.md"]


def test_draft_protocols_carry_the_draft_banner(
    hook: ModuleType, shipped_bundle: pr.Bundle
) -> None:
    pages = hook.pathway_pages(shipped_bundle)
    for protocol_id in shipped_bundle.protocol_ids:
        has_banner = "Draft: not clinically reviewed" in pages[f"pathways/{protocol_id}.md"]
        assert has_banner == (shipped_bundle.protocol(protocol_id).status == "draft")


def test_nav_names_only_pages_that_exist_or_are_generated(
    hook: ModuleType, mkdocs_config: dict[str, Any]
) -> None:
    generated = set(hook.generated_pages())
    named = list(nav_paths(mkdocs_config["nav"]))
    missing = [path for path in named if path not in generated and not (DOCS / path).is_file()]
    assert named
    assert missing == []
    assert {"checks.md", "reference/api.md", "reference/cli.md"} <= set(named)


def test_nav_gets_one_entry_per_pathway_after_the_index(hook: ModuleType) -> None:
    nav = [{"Home": "index.md"}, {"Pathways": ["pathways/index.md"]}, {"API": "api.md"}]
    pages = {"pathways/index.md": "", "pathways/a.md": "", "pathways/b.md": "", "x.md": ""}
    assert hook.expand_pathways_nav(nav, pages) == [
        {"Home": "index.md"},
        {"Pathways": ["pathways/index.md", {"a": "pathways/a.md"}, {"b": "pathways/b.md"}]},
        {"API": "api.md"},
    ]


def test_diagrams_use_the_mermaid_fence(mkdocs_config: dict[str, Any]) -> None:
    extensions = mkdocs_config["markdown_extensions"]
    superfences = next(e for e in extensions if isinstance(e, dict) and "pymdownx.superfences" in e)
    fences = superfences["pymdownx.superfences"]["custom_fences"]
    assert {"name": "mermaid", "class": "mermaid"}.items() <= fences[0].items()
    assert fences[0]["format"] == "pymdownx.superfences.fence_code_format"


def test_every_export_is_documented_where_it_is_defined(hook: ModuleType) -> None:
    documented = {module for module, _ in hook.API_MODULES}
    exports = hook.exported_names()
    assert set(exports) == set(pr.__all__) - {"__version__"}
    assert {name: module for name, module in exports.items() if module not in documented} == {}


def test_schema_pages_hold_valid_json_for_every_kind(hook: ModuleType) -> None:
    pages = hook.schema_pages()
    decision = pages["reference/decision-schema.md"]
    assert '"bundle_hash"' in decision
    assert '"follow_ups"' in decision
    assert '"patient_id"' in pages["reference/patient-state-schema.md"]
    for kind in ("protocol", "vocabulary", "facility_registry"):
        assert f"## `{kind}`" in pages["reference/file-schemas.md"]


def test_sphinx_roles_are_dropped_from_the_api_html(hook: ModuleType) -> None:
    html = (
        "raises :class:<code>~pedonc_routing.errors.PatientDataError</code>, :func:<code>x</code>"
    )
    assert hook.without_sphinx_roles(html) == (
        "raises <code>PatientDataError</code>, <code>x</code>"
    )
