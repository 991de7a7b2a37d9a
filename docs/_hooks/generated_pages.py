"""MkDocs hook: the pages that are generated from the source at build time.

Pathway pages, schemas and the CLI and API references are rendered from the shipped
protocols and the code on every build, so they cannot go stale and are never committed.
The functions that render pages are plain Python (no mkdocs import at module level), so a
unit test can check them on a machine without the docs extra.

Generated pages:

- ``pathways/index.md`` and ``pathways/<protocol_id>.md`` for every shipped protocol;
- ``reference/api.md`` (mkdocstrings), ``reference/cli.md`` (mkdocs-click);
- ``reference/decision-schema.md``, ``reference/patient-state-schema.md`` and
  ``reference/file-schemas.md`` (JSON Schemas generated from the pydantic models).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pedonc_routing as pr
from pedonc_routing.classification import classify
from pedonc_routing.classification.representatives import REPRESENTATIVES
from pedonc_routing.compiler.compiled import CompiledProtocol
from pedonc_routing.compiler.pathway import RETURN, CompiledStep, CompiledTransition
from pedonc_routing.decision.model import Decision
from pedonc_routing.interop.json_schema import all_schemas
from pedonc_routing.render.diagram import to_mermaid
from pedonc_routing.render.words import in_words

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files
    from mkdocs.structure.pages import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS_DIR = REPO_ROOT / "protocols"
PATHWAYS_INDEX = "pathways/index.md"

#: Modules of the API reference, in reading order, with the reason a reader opens each.
API_MODULES: tuple[tuple[str, str], ...] = (
    ("pedonc_routing.bundle", "Validating, loading and routing with a bundle."),
    ("pedonc_routing.router", "A bundle that reloads itself when the protocols change."),
    ("pedonc_routing.decision.model", "The decision and its parts (the decision JSON)."),
    ("pedonc_routing.model.patient", "The patient state."),
    ("pedonc_routing.issues", "Validation issues and the report."),
    ("pedonc_routing.errors", "The exception tree."),
    ("pedonc_routing.testing.patients", "Hypothesis strategies for valid patients."),
    ("pedonc_routing.testing.bundles", "The shipped bundle and generated ones, in memory."),
    ("pedonc_routing.testing.properties", "Ready-made properties of a bundle."),
    ("pedonc_routing.testing.stateful", "A stateful walk through a bundle's pathways."),
)

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|#])")


def _text(value: str) -> str:
    """Plain text safe inside Markdown (tables included): no markup, no HTML."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", html.escape(value, quote=False))


def _code(value: str) -> str:
    """A code span, also when ``value`` holds a backtick."""
    if "`" in value:
        return f"`` {value} ``"
    return f"`{value}`"


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


# --- pathway pages ------------------------------------------------------------------------


def _target(transition: CompiledTransition, protocol_id: str) -> str:
    if transition.to_step == RETURN:
        return f"{_code(RETURN)} (the pathway the override interrupted)"
    if transition.to_protocol == protocol_id:
        return _code(transition.to_step)
    return f"{_code(transition.to_step)} of [{transition.to_protocol}]({transition.to_protocol}.md)"


def _transition_line(transition: CompiledTransition, protocol_id: str) -> str:
    if transition.condition is None:
        when, priority = "otherwise (no guard above holds)", ""
    else:
        when = f"when {_code(in_words(transition.condition))}"
        priority = f" (priority {transition.priority})" if transition.priority else ""
    because = f": {_text(transition.because)}" if transition.because else ""
    return f"- to {_target(transition, protocol_id)} {when}{priority}{because}"


def _steps_table(protocol: CompiledProtocol, specialists: Mapping[str, str]) -> list[str]:
    lines = [
        "| step | kind | title | due within (hours) | specialist |",
        "|---|---|---|---|---|",
    ]
    for step_id, step in protocol.graph.steps.items():
        model = step.model
        entry = " (entry)" if step_id == protocol.model.entry else ""
        specialist = model.care.specialist
        title = specialists.get(specialist)
        who = f"{_text(title)} ({_code(specialist)})" if title else _code(specialist)
        lines.append(
            f"| {_code(step_id)}{entry} | {model.kind} | {_text(model.title.en)} "
            f"| {_hours(model.timing.due_within_hours)} | {who} |"
        )
    return lines


def _step_transitions(step: CompiledStep, protocol_id: str) -> list[str]:
    lines = [f"### {_code(step.id)}", ""]
    onward = [*step.transitions, *([step.otherwise] if step.otherwise else [])]
    if not onward:
        lines.append("The pathway ends here.")
    lines.extend(_transition_line(transition, protocol_id) for transition in onward)
    lines.append("")
    return lines


def _overrides(protocol: CompiledProtocol) -> list[str]:
    own = protocol.graph.overrides
    lines: list[str] = []
    if own:
        lines += ["## Overrides", "", "These interrupt a child on any other pathway:", ""]
        for override in own:
            during = ""
            if override.during:
                during = f" (only during {', '.join(sorted(override.during))})"
            lines.append(
                f"- {_code(override.id)}: to {_code(override.to_step)} when "
                f"{_code(in_words(override.condition))}{during}: {_text(override.because)}"
            )
        lines.append("")
    if protocol.overrides:
        lines += ["## Interrupted by", ""]
        for override in protocol.overrides:
            lines.append(
                f"- {_code(override.id)} of [{override.protocol}]({override.protocol}.md): "
                f"when {_code(in_words(override.condition))}"
            )
        lines.append("")
    return lines


def _sources(protocol: CompiledProtocol) -> list[str]:
    lines = ["## Sources", ""]
    for number, source in enumerate(protocol.model.sources, start=1):
        link = f" <{source.url}>" if source.url else ""
        lines.append(f"{number}. {_code(source.id)}: {_text(source.citation)}{link}")
        if source.used_for:
            lines += ["", f"    Used for: {_text(source.used_for)}", ""]
    if not protocol.model.sources:
        lines.append("This protocol cites no source.")
    lines.append("")
    return lines


def _status_banner(protocol: CompiledProtocol) -> list[str]:
    model = protocol.model
    if model.status == "draft":
        return [
            '!!! warning "Draft: not clinically reviewed"',
            "    This protocol is cited but not reviewed. Local clinical governance must review",
            "    and approve it before it routes real children.",
            "",
        ]
    by = f" by {_text(model.reviewed_by)}" if model.reviewed_by else ""
    on = f" on {_text(model.reviewed_on)}" if model.reviewed_on else ""
    return [f'!!! info "Reviewed{by}{on}"', "    Status `reviewed`.", ""]


def pathway_page(protocol: CompiledProtocol, specialists: Mapping[str, str]) -> str:
    """One protocol: banner, diagram, steps, transitions in words, overrides, sources."""
    model = protocol.model
    lines = [
        f"# {_text(model.title.en)}",
        "",
        f"Protocol {_code(model.id)}, version {_code(model.version)}, status "
        f"{_code(model.status)}, file {_code(protocol.file)}, entry step {_code(model.entry)}.",
        "",
        *_status_banner(protocol),
        "## Diagram",
        "",
        "Diamonds are staging steps, double boxes emergencies, rounded boxes the ends of a",
        "pathway. Solid arrows are guarded transitions, dotted arrows `otherwise`, thick",
        "arrows overrides. The same text comes from "
        f"`pedonc-routing graph {model.id} --format mermaid`.",
        "",
        "```mermaid",
        to_mermaid(protocol.graph),
        "```",
        "",
        "## Steps",
        "",
        *_steps_table(protocol, specialists),
        "",
        "## Transitions",
        "",
        "Each step's transitions in the order the walker tries them: the first guard that",
        "holds wins.",
        "",
    ]
    for step in protocol.graph.steps.values():
        lines += _step_transitions(step, model.id)
    lines += _overrides(protocol)
    lines += _sources(protocol)
    return "\n".join(lines)


def iccc3_routes(bundle: pr.Bundle) -> dict[str, tuple[str, str]]:
    """ICCC-3 subgroup -> (its name, the protocol that takes a newly diagnosed child with the
    subgroup's representative diagnosis), by routing that child with ``bundle``."""
    routes = {}
    for subgroup, (icd10, morphology, topography) in REPRESENTATIVES.items():
        found = classify(morphology, topography)
        decision = bundle.route(
            {
                "patient_id": "docs-iccc3",
                "as_of": "2026-11-22T09:00:00+05:00",
                "age_years": 8,
                "home_region": "KZ-75",
                "diagnosis": {
                    "icd10": icd10,
                    "icdo3_morphology": morphology,
                    "icdo3_topography": topography,
                },
            }
        )
        protocol = decision.protocol.id if decision.protocol is not None else decision.status
        routes[subgroup] = (found.subgroup_name if found else "?", protocol)
    return routes


def pathways_index(bundle: pr.Bundle, routes: Mapping[str, tuple[str, str]]) -> str:
    by_protocol: dict[str, list[str]] = {}
    for subgroup, (_, protocol_id) in routes.items():
        by_protocol.setdefault(protocol_id, []).append(subgroup)
    lines = [
        "# Pathways",
        "",
        "Every shipped protocol, drawn from `protocols/` when this site was built. The ICCC-3",
        "subgroups are those whose representative diagnosis (below) the protocol takes.",
        "",
        "| protocol | title | version | status | steps | sources | ICCC-3 subgroups |",
        "|---|---|---|---|---|---|---|",
    ]
    for protocol_id in bundle.protocol_ids:
        protocol = bundle.compiled.protocols[protocol_id]
        model = protocol.model
        subgroups = ", ".join(by_protocol.get(protocol_id, [])) or "-"
        lines.append(
            f"| [{protocol_id}]({protocol_id}.md) | {_text(model.title.en)} | {model.version} "
            f"| {model.status} | {len(model.steps)} | {len(model.sources)} | {subgroups} |"
        )
    lines += [
        "",
        "## Every ICCC-3 subgroup",
        "",
        "Each subgroup of the International Classification of Childhood Cancer, third edition",
        "(Steliarova-Foucher et al., Cancer 2005), with the protocol a newly diagnosed child with",
        "its representative diagnosis is routed to when this site was built: a disease protocol,",
        "or the catch-all pathway `other_malignancy`. No subgroup is `not_applicable`.",
        "",
        "| subgroup | name | representative (ICD-10, ICD-O-3) | protocol |",
        "|---|---|---|---|",
    ]
    for subgroup, (name, protocol_id) in routes.items():
        icd10, morphology, topography = REPRESENTATIVES[subgroup]
        lines.append(
            f"| {subgroup} | {_text(name)} | {icd10}, {morphology}, {topography} "
            f"| [{protocol_id}]({protocol_id}.md) |"
        )
    lines.append("")
    return "\n".join(lines)


def pathway_pages(bundle: pr.Bundle) -> dict[str, str]:
    """``pathways/index.md`` and ``pathways/<protocol_id>.md`` for every protocol."""
    care = bundle.compiled.care
    specialists = {key: text.en for key, text in care.specialists.items()} if care else {}
    pages = {PATHWAYS_INDEX: pathways_index(bundle, iccc3_routes(bundle))}
    for protocol_id in bundle.protocol_ids:
        protocol = bundle.compiled.protocols[protocol_id]
        pages[f"pathways/{protocol_id}.md"] = pathway_page(protocol, specialists)
    return pages


# --- reference pages ----------------------------------------------------------------------


def _json_block(schema: Mapping[str, Any]) -> list[str]:
    return ["```json", json.dumps(schema, ensure_ascii=False, indent=2), "```", ""]


def schema_pages() -> dict[str, str]:
    """The JSON Schemas of the decision, the patient state and each YAML file kind."""
    schemas = all_schemas()
    # all_schemas() covers the inputs; the decision is the output, Decision.to_dict() is
    # its model_dump, so its serialization schema is exactly the JSON's.
    decision = schemas.pop("decision", None) or Decision.model_json_schema(mode="serialization")
    patient = schemas.pop("patient_state")
    decision_page = [
        "# Decision JSON Schema",
        "",
        "The schema of `Decision.to_dict()` and `pedonc-routing route --format json`, generated",
        "from the `Decision` model when this site was built. The fields are explained in",
        "[Decision JSON](../decision-json.md).",
        "",
        *_json_block(decision),
    ]
    patient_page = [
        "# Patient state JSON Schema",
        "",
        "The shape of a patient state as `bundle.route()` reads it, generated from",
        "`PatientState`. The names of observations and the data checks are in",
        "[Patient state](../patient-state.md); `pedonc-routing schema` writes the same file.",
        "",
        *_json_block(patient),
    ]
    files_page = [
        "# YAML file schemas",
        "",
        "One JSON Schema for each `kind:` of YAML file, generated from the models the loader",
        "validates with. `pedonc-routing schema --output DIR` writes them for an editor (see",
        "[Editor support](../editor.md)). Cross-file checks are not in a schema: see",
        "[Validation checks](../checks.md).",
        "",
    ]
    for kind, schema in schemas.items():
        files_page += [f"## `{kind}`", "", *_json_block(schema)]
    return {
        "reference/decision-schema.md": "\n".join(decision_page),
        "reference/patient-state-schema.md": "\n".join(patient_page),
        "reference/file-schemas.md": "\n".join(files_page),
    }


#: Modules whose members without a docstring are still documented: the parts of the
#: decision are the decision JSON, each field is contract.
_UNDOCUMENTED_MEMBERS_SHOWN = frozenset({"pedonc_routing.decision.model"})


def exported_names() -> dict[str, str]:
    """Each name of ``pedonc_routing.__all__`` -> the module that defines it."""
    return {
        name: getattr(getattr(pr, name), "__module__", "pedonc_routing")
        for name in pr.__all__
        if name != "__version__"
    }


def api_page() -> str:
    """The top-level exports as links, then each module of :data:`API_MODULES` in full.

    The top-level package is rendered without members: each export is documented once,
    where it is defined, and linked from the table.
    """
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings when this site was built. For a guided tour with",
        "examples, read the [Python API guide](../api.md) first.",
        "",
        "## `pedonc_routing`",
        "",
        "::: pedonc_routing",
        "    options:",
        "      members: false",
        "",
        "| exported name | defined in |",
        "|---|---|",
    ]
    for name, module in exported_names().items():
        lines.append(f"| [`{name}`][{module}.{name}] | `{module}` |")
    lines.append("")
    for module, why in API_MODULES:
        lines += [f"## `{module}`", "", why, "", f"::: {module}"]
        if module in _UNDOCUMENTED_MEMBERS_SHOWN:
            lines += ["    options:", "      show_if_no_docstring: true"]
        lines.append("")
    return "\n".join(lines)


_SPHINX_ROLE = re.compile(r":(?:func|class|meth|mod|attr|exc|data|obj):<code>(~[\w.]*\.)?")


def without_sphinx_roles(page_html: str) -> str:
    """Drop the ``:class:`` prefixes the docstrings use (mkdocstrings leaves them as text)."""
    return _SPHINX_ROLE.sub("<code>", page_html)


def cli_page() -> str:
    return "\n".join(
        [
            "# CLI reference",
            "",
            "Generated from the `click` commands when this site was built. The",
            "[CLI guide](../cli.md) has examples with their output and the exit codes.",
            "",
            "::: mkdocs-click",
            "    :module: pedonc_routing.cli",
            "    :command: main",
            "    :prog_name: pedonc-routing",
            "    :depth: 1",
            "    :style: plain",
            "    :list_subcommands: true",
            "",
        ]
    )


def generated_pages(protocols_dir: Path = PROTOCOLS_DIR) -> dict[str, str]:
    """Every generated page, by path under ``docs/``."""
    bundle = pr.load_bundle(protocols_dir, engine="reference")
    return {
        **pathway_pages(bundle),
        **schema_pages(),
        "reference/api.md": api_page(),
        "reference/cli.md": cli_page(),
    }


def expand_pathways_nav(nav: list[Any], pages: Mapping[str, str]) -> list[Any]:
    """After the ``pathways/index.md`` entry of the nav, one entry per generated pathway page.

    The nav in mkdocs.yml names only the index, so a new protocol appears without editing it.
    """
    entries = [
        {path.removeprefix("pathways/").removesuffix(".md"): path}
        for path in pages
        if path.startswith("pathways/") and path != PATHWAYS_INDEX
    ]
    return _with_entries(nav, entries)


def _with_entries(nav: list[Any], entries: list[dict[str, str]]) -> list[Any]:
    expanded: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            item = {
                title: _with_entries(value, entries) if isinstance(value, list) else value
                for title, value in item.items()
            }
        expanded.append(item)
        if item == PATHWAYS_INDEX or (
            isinstance(item, dict) and [*item.values()] == [PATHWAYS_INDEX]
        ):
            expanded.extend(entries)
    return expanded


# --- mkdocs events ------------------------------------------------------------------------

_pages: dict[str, str] = {}


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _pages.clear()
    _pages.update(generated_pages())
    if config.nav is not None:
        config.nav = expand_pathways_nav(config.nav, _pages)
    return config


def on_page_content(page_html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return without_sphinx_roles(page_html) if page.file.src_uri == "reference/api.md" else page_html


def on_files(files: Files, config: MkDocsConfig) -> Files:
    from mkdocs.structure.files import File

    for path, content in _pages.items():
        files.append(File.generated(config, path, content=content))
    return files
