"""``pedonc-routing``: validate protocols, route a patient, draw a pathway, export schemas,
measure test-case coverage and diff two versions of a bundle.

Exit codes: 0 success (validate: no errors; diff: no change), 1 validation errors, a patient
that cannot be routed because its data is invalid, or (diff) decisions that changed, 2 usage
or I/O error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from pedonc_routing.analysis.coverage import format_coverage, measure_coverage
from pedonc_routing.analysis.diff import DEFAULT_MAX_EXAMPLES, diff_bundles, format_diff
from pedonc_routing.analysis.samples import Case, CaseFileError, read_cases
from pedonc_routing.bundle import Bundle, load_bundle, validate
from pedonc_routing.decision.model import Decision
from pedonc_routing.engine import EngineName
from pedonc_routing.errors import (
    ApprovalRequired,
    PatientDataError,
    UnknownProtocolError,
    ValidationFailed,
)
from pedonc_routing.interop.json_schema import all_schemas, write_schemas
from pedonc_routing.interop.sarif import to_sarif
from pedonc_routing.issues import Issue
from pedonc_routing.loader.yaml_reader import MAX_FILE_BYTES, read_yaml_file
from pedonc_routing.model.documents import Language
from pedonc_routing.model.patient import PatientState
from pedonc_routing.render.diagram import Highlight, route_highlight, to_dot, to_mermaid
from pedonc_routing.render.family import (
    build_family_guide,
    guide_html,
    guide_text,
)
from pedonc_routing.render.svg import to_svg

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pedonc-routing")
def main() -> None:
    """Executable pediatric oncology care pathways (draft protocols: see docs/)."""


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    help="text: one line per issue; json: the report; sarif: SARIF 2.1.0 for code scanning.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
def validate_command(paths: tuple[Path, ...], output_format: str, strict: bool) -> None:
    """Validate protocol bundles (default: the shipped protocols)."""
    for path in paths:
        if not path.exists():
            click.echo(f"error: no such file or folder: {path}", err=True)
            sys.exit(EXIT_USAGE)
    report = validate(list(paths) if paths else None)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif output_format == "sarif":
        click.echo(json.dumps(to_sarif(report), ensure_ascii=False, indent=2))
    else:
        for issue in report.issues:
            click.echo(format_issue(issue))
        click.echo(
            f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)",
            err=bool(report.issues),
        )
    failed = not report.ok or (strict and report.warnings)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


def format_issue(issue: Issue) -> str:
    """The issue line, then its counterexample patient (if any) as indented YAML.

    A guard overlap or gap is easiest to fix when the author sees the concrete child that
    triggers it, in the same shape as a patient file.
    """
    if issue.example is None:
        return str(issue)
    snippet = yaml.safe_dump(issue.example, sort_keys=True, allow_unicode=True)
    indented = "\n".join(f"    {line}" for line in snippet.rstrip("\n").splitlines())
    return f"{issue}\n    example patient:\n{indented}"


@main.command("schema")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write KIND.schema.json files into (created if missing).",
)
def schema_command(output: Path | None) -> None:
    """Export JSON Schemas of the YAML kinds and the patient state (for editors)."""
    if output is None:
        click.echo(json.dumps(all_schemas(), ensure_ascii=False, indent=2))
        return
    try:
        written = write_schemas(output)
    except OSError as error:
        click.echo(f"error: cannot write schemas to {output}: {error}", err=True)
        sys.exit(EXIT_USAGE)
    for path in written:
        click.echo(str(path))


def _load(
    protocols: Path | None, engine: EngineName | None = None, *, require_approved: bool = False
) -> Bundle:
    try:
        return load_bundle(protocols, engine=engine, require_approved=require_approved)
    except ApprovalRequired as refused:
        for problem in refused.problems:
            click.echo(f"error: not approved: {problem}", err=True)
        click.echo("error: production mode refuses unapproved protocols", err=True)
        sys.exit(EXIT_FINDINGS)
    except ValidationFailed as failure:
        for issue in failure.issues:
            if issue.severity == "error":
                click.echo(str(issue), err=True)
        click.echo("error: the protocols do not validate", err=True)
        sys.exit(EXIT_FINDINGS)


@contextmanager
def _invalid_patient_exits() -> Iterator[None]:
    """An invalid patient state: every problem on stderr (never the id), exit 1."""
    try:
        yield
    except PatientDataError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_FINDINGS)


def _read_patient(path: Path) -> Any:
    """A patient file: JSON by its suffix, otherwise YAML through the safe reader (same
    bounds as protocol files); a file that cannot be read is a usage error naming it."""
    if path.suffix == ".json":
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            click.echo(f"error: cannot read {path}: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except RecursionError:  # the stdlib JSON parser recurses per nesting level
            click.echo(f"error: cannot read {path}: JSON nested too deeply", err=True)
            sys.exit(EXIT_USAGE)
    loaded, issues = read_yaml_file(path, str(path))
    if loaded is None or issues:
        for issue in issues:
            click.echo(str(issue), err=True)
        sys.exit(EXIT_USAGE)
    return loaded.data


@main.command("route")
@click.argument(
    "patient_file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--protocols", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option("--lang", type=click.Choice(["en", "ru", "kk"]), default="en")
@click.option(
    "--batch",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Route every *.yaml/*.json patient under this folder; JSON lines on stdout.",
)
@click.option("--workers", type=int, default=None, help="Processes for --batch (default: cores).")
@click.option("--fhir", "fhir_input", is_flag=True, help="PATIENT_FILE is a FHIR R4 Bundle (JSON).")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="With --fhir: the moment of the decision (ISO date-time with zone); default: the"
    " Bundle's timestamp.",
)
@click.option(
    "--fhir-patient",
    "fhir_patient",
    default=None,
    help="With --fhir: the child's Patient (resource id or fullUrl) when the Bundle holds several.",
)
@click.option(
    "--requester",
    default=None,
    help="With --output fhir: the requester reference (e.g. PractitionerRole/123) of every"
    " ServiceRequest and Task.",
)
@click.option(
    "--output",
    "output_kind",
    type=click.Choice(["decision", "fhir"]),
    default="decision",
    help="fhir: the decision as a FHIR Bundle (CarePlan, ServiceRequest, Task) in JSON.",
)
def route_command(
    patient_file: Path | None,
    protocols: Path | None,
    output_format: str,
    lang: str,
    batch: Path | None,
    workers: int | None,
    fhir_input: bool,
    as_of: str | None,
    fhir_patient: str | None,
    requester: str | None,
    output_kind: str,
) -> None:
    """Route one patient (YAML or JSON shaped as docs/patient-state.md, or a FHIR Bundle
    with --fhir), or a folder."""
    if (patient_file is None) == (batch is None):
        click.echo("error: give a PATIENT_FILE or --batch DIR (one of them)", err=True)
        sys.exit(EXIT_USAGE)
    if batch is not None and (fhir_input or output_kind == "fhir"):
        click.echo("error: --fhir and --output fhir take one PATIENT_FILE, not --batch", err=True)
        sys.exit(EXIT_USAGE)
    if not fhir_input and (as_of is not None or fhir_patient is not None):
        click.echo("error: --as-of and --fhir-patient go with --fhir", err=True)
        sys.exit(EXIT_USAGE)
    bundle = _load(protocols)
    if batch is not None:
        _route_batch(bundle, batch, workers, lang)
        return
    assert patient_file is not None
    subject = None
    with _invalid_patient_exits():
        if fhir_input:
            patient, subject = _read_fhir_patient(patient_file, as_of, fhir_patient)
        else:
            patient = _read_patient(patient_file)
        decision = bundle.route(patient, lang=lang)  # type: ignore[arg-type]
    if output_kind == "fhir":
        from pedonc_routing.interop.fhir import decision_to_fhir

        # route() accepted the patient, so its shape is valid
        state = PatientState.model_validate(patient)
        fhir_bundle = decision_to_fhir(decision, state, subject=subject, requester=requester)
        click.echo(json.dumps(fhir_bundle, ensure_ascii=False, indent=2))
        return
    if output_format == "json":
        click.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_decision(decision))


def _read_fhir_patient(
    path: Path, as_of: str | None, patient: str | None
) -> tuple[PatientState, str | None]:
    """A FHIR Bundle file as a patient state (``as_of``: the Bundle's timestamp unless
    given) and the reference of its Patient resource (the decision's subject)."""
    from pedonc_routing.interop.fhir import read_fhir_patient

    try:
        text = path.read_bytes()
    except OSError as error:
        click.echo(f"error: cannot read {path}: {error}", err=True)
        sys.exit(EXIT_USAGE)
    read = read_fhir_patient(text, as_of=as_of, patient=patient)
    return read.patient, read.reference


def _route_batch(bundle: Bundle, folder: Path, workers: int | None, lang: str) -> None:
    """JSON lines on stdout, in file-name order, one per patient (a decision, or
    ``{"error": "patient_data", ...}``); progress on stderr. Exit 1 if any patient was invalid."""
    files = sorted(path for path in folder.rglob("*") if path.suffix in (".yaml", ".yml", ".json"))
    patients = [_read_patient(path) for path in files]
    invalid = 0
    with click.progressbar(length=len(patients), label="routing", file=sys.stderr) as bar:
        results = bundle.route_many_json(patients, workers=workers, lang=lang, chunksize=64)  # type: ignore[arg-type]
        for line in results:
            click.echo(line)
            invalid += line.startswith('{"error": "patient_data"')
            bar.update(1)
    click.echo(f"{len(patients)} patient(s), {invalid} with invalid data", err=True)
    sys.exit(EXIT_FINDINGS if invalid else EXIT_OK)


def format_decision(decision: Decision) -> str:
    """A decision as a few readable lines for a terminal."""
    lines = [f"status:     {decision.status}"]
    if decision.protocol:
        lines.append(f"protocol:   {decision.protocol.id} {decision.protocol.version}")
    if decision.from_step:
        lines.append(f"from step:  {decision.from_step}")
    if decision.step:
        due = (
            f", due within {decision.step.due_within_hours:g} h"
            if decision.step.due_within_hours is not None
            else ""
        )
        lines.append(f"step:       {decision.step.id} ({decision.step.title}){due}")
    if decision.urgency:
        lines.append(f"urgency:    {decision.urgency}")
    if decision.facility:
        travel = (
            f", ~{decision.facility.travel_hours:g} h away"
            if decision.facility.travel_hours
            else ""
        )
        lines.append(
            f"facility:   {decision.facility.name} [{decision.facility.level}, "
            f"{decision.facility.region}]{travel}"
        )
    if decision.specialist:
        lines.append(f"specialist: {decision.specialist.title}")
    for follow_up in decision.follow_ups:
        every = f" every {follow_up.interval_months} months" if follow_up.interval_months else ""
        lines.append(f"follow-up:  {follow_up.title}{every}")
    if decision.missing:
        lines.append(f"missing:    {', '.join(decision.missing)}")
    lines.append("why:")
    for item in decision.explanation:
        facts = ", ".join(f"{key}={value}" for key, value in item.facts.items())
        where = f" [{item.source}]" if item.source else ""
        lines.append(f"  - {item.because}{where}" + (f" ({facts})" if facts else ""))
    return "\n".join(lines)


@main.command("graph")
@click.argument("protocol_id")
@click.option("--protocols", type=click.Path(exists=True, path_type=Path), default=None)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    help="svg: a standalone picture drawn without Graphviz.",
)
@click.option(
    "--patient",
    "patient_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Highlight this patient's route (YAML or JSON patient state).",
)
def graph_command(
    protocol_id: str, protocols: Path | None, output_format: str, patient_file: Path | None
) -> None:
    """Draw a protocol's pathway as Mermaid, Graphviz DOT or SVG."""
    bundle = _load(protocols)
    try:
        bundle.protocol(protocol_id)
    except UnknownProtocolError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    graph = bundle.compiled.protocols[protocol_id].graph
    highlight: Highlight | None = None
    if patient_file is not None:
        patient = _read_patient(patient_file)
        with _invalid_patient_exits():
            decision = bundle.route(patient)
        position = patient.get("position") if isinstance(patient, dict) else None
        where = (position["protocol"], position["step"]) if position else None
        highlight = route_highlight(graph, decision, where)
    render = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[output_format]
    click.echo(render(graph, highlight), nl=output_format != "svg")


@main.command("family")
@click.argument("patient_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--protocols", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--lang", type=click.Choice(["en", "ru", "kk"]), default="en")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write a printable HTML page (A4) here instead of text on stdout.",
)
def family_command(
    patient_file: Path, protocols: Path | None, lang: str, html_file: Path | None
) -> None:
    """A plain-language page for the child's family: where, what next, when, whom to ask."""
    bundle = _load(protocols)
    patient = _read_patient(patient_file)
    with _invalid_patient_exits():
        guide = build_family_guide(bundle, patient, lang)  # type: ignore[arg-type]
    if html_file is None:
        click.echo(guide_text(guide), nl=False)
        return
    try:
        html_file.write_text(guide_html(guide), encoding="utf-8")
    except OSError as error:
        click.echo(f"error: cannot write {html_file}: {error}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(str(html_file))


def _cases(paths: tuple[Path, ...]) -> list[Case]:
    try:
        return read_cases(paths)
    except CaseFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)


@main.command("coverage")
@click.argument("cases", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--protocols", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def coverage_command(cases: tuple[Path, ...], protocols: Path | None, output_format: str) -> None:
    """Steps, transitions, overrides and guard boundaries that YAML test cases exercise.

    CASES are case files in the tests/cases format, or folders of them. Always exits 0
    (coverage informs; it does not gate), 2 on unreadable case files.
    """
    recorded = _cases(cases)
    bundle = _load(protocols, engine="reference")
    report = measure_coverage(bundle, recorded)
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_coverage(report))


def _load_for_diff(path: Path) -> Bundle:
    """A bundle that does not validate is a usage error here (exit 1 means "changed")."""
    try:
        return load_bundle(path, engine="reference")
    except ValidationFailed as failure:
        for issue in failure.issues:
            if issue.severity == "error":
                click.echo(str(issue), err=True)
        click.echo(f"error: the protocols in {path} do not validate", err=True)
        sys.exit(EXIT_USAGE)


@main.command("diff")
@click.argument("old_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("new_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--cases",
    "case_paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Case files or folders (tests/cases format) to route too; repeatable.",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_EXAMPLES,
    show_default=True,
    help="At most this many generated patients per step.",
)
def diff_command(
    old_dir: Path,
    new_dir: Path,
    case_paths: tuple[Path, ...],
    output_format: str,
    max_examples: int,
) -> None:
    """Every kind of decision change between two bundle versions, with an example each.

    Exit 0 when nothing changed, 1 when decisions (or steps, or protocols) changed.
    """
    recorded = _cases(case_paths)
    old = _load_for_diff(old_dir)
    new = _load_for_diff(new_dir)
    report = diff_bundles(
        old,
        new,
        recorded,
        max_examples=max_examples,
        old_name=str(old_dir),
        new_name=str(new_dir),
    )
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_diff(report))
    sys.exit(EXIT_FINDINGS if report.has_changes else EXIT_OK)


@main.group("fhir")
def fhir_group() -> None:
    """FHIR R4 exports (docs/fhir.md)."""


@fhir_group.command("plan-definition")
@click.argument("protocol_id")
@click.option("--protocols", type=click.Path(exists=True, path_type=Path), default=None)
def fhir_plan_definition_command(protocol_id: str, protocols: Path | None) -> None:
    """Print a protocol as a FHIR PlanDefinition (JSON)."""
    from pedonc_routing.interop.fhir import plan_definition

    bundle = _load(protocols)
    try:
        definition = plan_definition(bundle, protocol_id)
    except UnknownProtocolError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(json.dumps(definition, ensure_ascii=False, indent=2))


# -- clinical governance (docs/governance.md) ---------------------------------------------


def _protocols_dir(protocols: Path | None) -> Path:
    from pedonc_routing.loader.documents import default_protocols_dir

    return protocols if protocols is not None else default_protocols_dir()


@main.command("approve")
@click.argument("protocol_id")
@click.option("--protocols", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--body", required=True, help="The approving body, e.g. 'Protocol committee, ...'.")
@click.option("--role", required=True, help="The role of whoever signs for the body.")
@click.option(
    "--decision",
    type=click.Choice(["approved", "changes_requested"]),
    default="approved",
    show_default=True,
)
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today."
)
@click.option("--note", default=None, help="Optional remark, e.g. the minutes' reference.")
def approve_command(
    protocol_id: str,
    protocols: Path | None,
    body: str,
    role: str,
    decision: str,
    on: datetime | None,
    note: str | None,
) -> None:
    """Record a governance decision on PROTOCOL_ID's current content in approvals.yaml."""
    from pedonc_routing.governance import APPROVALS_FILE, append_approval, approval_record

    folder = _protocols_dir(protocols)
    bundle = _load(folder)  # a protocol that does not validate cannot be approved
    try:
        protocol = bundle.protocol(protocol_id)
    except UnknownProtocolError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    record = approval_record(
        protocol,
        body=body,
        role=role,
        decision="approved" if decision == "approved" else "changes_requested",
        on=(on or datetime.now()).date(),
        note=note,
    )
    try:
        append_approval(folder / APPROVALS_FILE, record)
    except OSError as error:
        click.echo(f"error: cannot write {folder / APPROVALS_FILE}: {error.strerror}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{protocol.id} {protocol.version}: {decision} ({record.content_hash})")


@main.command("release")
@click.option("--protocols", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today."
)
def release_command(protocols: Path | None, output: Path | None, on: datetime | None) -> None:
    """Write the release manifest (bundle hash, protocol versions and approvals) as JSON.

    Exit 1 when some protocol is not approved (the manifest is still written)."""
    from pedonc_routing.governance import release_manifest

    bundle = _load(protocols)
    protocol_models = {pid: bundle.protocol(pid) for pid in bundle.protocol_ids}
    manifest = release_manifest(
        bundle.content_hash, protocol_models, bundle.approvals, on=(on or datetime.now()).date()
    )
    text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            click.echo(f"error: cannot write {output}: {error.strerror}", err=True)
            sys.exit(EXIT_USAGE)
    if not manifest["all_approved"]:
        pending = sum(1 for state in bundle.approvals.values() if not state.approved)
        click.echo(f"{pending} protocol(s) not approved", err=True)
        sys.exit(EXIT_FINDINGS)


@main.command("review")
@click.argument("protocol_id")
@click.option("--protocols", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["en", "ru", "kk"]), default="en")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--cases",
    "case_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YAML case files or folders (default: tests/cases beside the protocols, if present).",
)
@click.option(
    "--approved",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The last approved bundle, to show what changes for which children.",
)
def review_command(
    protocol_id: str,
    protocols: Path | None,
    lang: str,
    html_file: Path,
    pdf_file: Path | None,
    case_paths: tuple[Path, ...],
    approved: Path | None,
) -> None:
    """Write the review pack of PROTOCOL_ID for a clinical governance committee (A4 HTML,
    optionally PDF through headless Chromium)."""
    from pedonc_routing.render.pdf import PdfError, print_to_pdf
    from pedonc_routing.render.review import ReviewInputs, review_html

    bundle = _load(protocols)
    try:
        bundle.protocol(protocol_id)
    except UnknownProtocolError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    if not case_paths:
        beside = _protocols_dir(protocols).parent / "tests" / "cases"
        case_paths = (beside,) if beside.is_dir() else ()
    extra = ReviewInputs(
        cases=_cases(case_paths) if case_paths else (),
        approved=_load_for_diff(approved) if approved is not None else None,
    )
    language: Language = "ru" if lang == "ru" else "kk" if lang == "kk" else "en"
    html = review_html(bundle, protocol_id, language, extra)
    try:
        html_file.write_text(html, encoding="utf-8")
        if pdf_file is not None:
            print_to_pdf(html, pdf_file)
    except OSError as error:
        click.echo(f"error: cannot write the review pack: {error.strerror}", err=True)
        sys.exit(EXIT_USAGE)
    except PdfError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":  # pragma: no cover
    main()


@main.command("serve")
@click.option(
    "--protocols",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Protocol folder (default: the shipped protocols).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (routing is CPU-bound: about one per core).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--public-url",
    envvar="PEDONC_PUBLIC_URL",
    default=None,
    help="The URL clients reach the service at (CDS Hooks JWT aud, card links).",
)
@click.option(
    "--api-keys-file",
    envvar="PEDONC_API_KEYS_FILE",
    type=click.Path(path_type=Path),
    default=None,
    help="SHA-256 hex digests of the JSON API keys, one a line.",
)
@click.option(
    "--api-key-hashes",
    envvar="PEDONC_API_KEY_HASHES",
    default=None,
    help="The same digests, comma-separated.",
)
@click.option(
    "--admin-keys-file",
    envvar="PEDONC_ADMIN_KEYS_FILE",
    type=click.Path(path_type=Path),
    default=None,
    help="SHA-256 hex digests of the keys that may POST /admin/reload.",
)
@click.option(
    "--allow-anonymous",
    is_flag=True,
    help="Serve the JSON API without API keys (a trusted network only).",
)
@click.option(
    "--audit",
    "audit_url",
    envvar="PEDONC_AUDIT_URL",
    default="sqlite:///pedonc-audit.sqlite3",
    show_default=True,
    help="sqlite:///PATH or postgresql://... (the decision audit store).",
)
@click.option(
    "--audit-key",
    envvar="PEDONC_AUDIT_KEY",
    default=None,
    help="HMAC key (hex) for patient keys; SQLite keeps one beside the file.",
)
@click.option(
    "--require-approved",
    is_flag=True,
    help="Production mode: refuse to start (or reload) unless every protocol's content is "
    "approved (docs/governance.md).",
)
@click.option(
    "--audit-group-commit",
    is_flag=True,
    help="SQLite: one transaction for records arriving together (each still committed first).",
)
@click.option(
    "--cds-issuers",
    envvar="PEDONC_CDS_ISSUERS",
    type=click.Path(path_type=Path),
    default=None,
    help='JSON: {"ISSUER": {"jwks_url": URL} or {"jwks": {...}}}.',
)
@click.option(
    "--jti-window",
    type=click.IntRange(10, 86400),
    default=600,
    show_default=True,
    help="Seconds a CDS Hooks JWT id is remembered (and a token may live).",
)
@click.option("--max-body-bytes", type=click.IntRange(1024), default=1024 * 1024, show_default=True)
@click.option("--request-timeout", type=click.FloatRange(0.1), default=10.0, show_default=True)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="Allow this origin (repeatable); CORS is off without one.",
)
def serve_command(
    protocols: Path | None,
    workers: int,
    host: str,
    port: int,
    public_url: str | None,
    api_keys_file: Path | None,
    api_key_hashes: str | None,
    admin_keys_file: Path | None,
    allow_anonymous: bool,
    audit_url: str,
    audit_key: str | None,
    require_approved: bool,
    audit_group_commit: bool,
    cds_issuers: Path | None,
    jti_window: int,
    max_body_bytes: int,
    request_timeout: float,
    cors_origins: tuple[str, ...],
) -> None:
    """Serve routing over HTTP: JSON API, CDS Hooks 2.0, FHIR $apply (docs/service.md)."""
    try:
        from pedonc_routing.service.audit import open_audit_store
        from pedonc_routing.service.server import serve
        from pedonc_routing.service.settings import (
            ServiceSettings,
            SettingsError,
            audit_key_for,
            read_key_file,
            read_key_hashes,
        )
    except ImportError:
        click.echo(
            "error: serve needs the service extra: pip install 'pedonc-routing[service]'", err=True
        )
        sys.exit(EXIT_USAGE)
    try:
        keys = read_key_file(api_keys_file) if api_keys_file else ()
        keys += read_key_hashes(api_key_hashes, "--api-key-hashes") if api_key_hashes else ()
        admin_keys = read_key_file(admin_keys_file) if admin_keys_file else ()
        if not keys and not allow_anonymous:
            raise SettingsError("give API keys (--api-keys-file) or --allow-anonymous")
        issuers = json.loads(cds_issuers.read_text(encoding="utf-8")) if cds_issuers else {}
        if not isinstance(issuers, dict):
            raise SettingsError("--cds-issuers: a JSON object of issuer -> JWKS")
        settings = ServiceSettings(
            protocols=str(protocols) if protocols else None,
            public_url=public_url or f"http://{host}:{port}",
            api_key_hashes=keys,
            admin_key_hashes=admin_keys,
            allow_anonymous=allow_anonymous,
            audit_url=audit_url,
            audit_key=audit_key_for(audit_url, audit_key),
            audit_group_commit=audit_group_commit,
            require_approved=require_approved,
            cds_issuers=issuers,
            jti_window_seconds=jti_window,
            max_body_bytes=max_body_bytes,
            request_timeout_seconds=request_timeout,
            cors_origins=cors_origins,
        )
        # Fail here, once and clearly, rather than in every worker: the bundle must validate
        # and the audit store must open (this also creates its tables before workers race).
        _load(protocols, require_approved=require_approved)
        open_audit_store(settings.audit_url, bytes.fromhex(settings.audit_key)).close()
    except (SettingsError, OSError, ValueError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as error:  # e.g. psycopg's OperationalError: the store is unreachable
        click.echo(f"error: cannot open the audit store ({type(error).__name__})", err=True)
        sys.exit(EXIT_USAGE)
    serve(settings, host=host, port=port, workers=workers)
