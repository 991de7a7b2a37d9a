"""Approvals bound to content, production mode and the release manifest (issue 16)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import pedonc_routing as pr
from pedonc_routing.cli import main
from pedonc_routing.governance import (
    APPROVALS_FILE,
    append_approval,
    approval_record,
    content_hash,
)
from pedonc_routing.loader.documents import default_protocols_dir

ROOT = Path(__file__).resolve().parents[2]
GUARD_LINE = "            - {input: wbc_10e9_l, lt: 50}\n"


@pytest.fixture
def protocols(tmp_path: Path) -> Path:
    folder = tmp_path / "protocols"
    shutil.copytree(default_protocols_dir(), folder)
    return folder


def approve_all(folder: Path, decision: str = "approved") -> None:
    bundle = pr.load_bundle(folder, engine="reference")
    for protocol_id in bundle.protocol_ids:
        record = approval_record(
            bundle.protocol(protocol_id),
            body="Protocol committee (test)",
            role="Chair",
            decision="approved" if decision == "approved" else "changes_requested",
            on=date(2026, 12, 1),
        )
        append_approval(folder / APPROVALS_FILE, record)


def test_shipped_protocols_are_unapproved_and_production_mode_refuses_each() -> None:
    with pytest.raises(pr.ApprovalRequired) as refused:
        pr.load_bundle(engine="reference", require_approved=True)
    bundle = pr.load_bundle(engine="reference")
    assert len(refused.value.problems) == len(bundle.protocol_ids)
    for protocol_id in bundle.protocol_ids:
        assert any(p.startswith(f"{protocol_id} ") for p in refused.value.problems)
        assert bundle.approvals[protocol_id].state == "unapproved"


def test_approved_bundle_loads_in_production_mode_and_routes(protocols: Path) -> None:
    approve_all(protocols)
    bundle = pr.load_bundle(protocols, engine="reference", require_approved=True)
    assert all(state.approved for state in bundle.approvals.values())
    assert pr.validate(protocols).ok  # the approvals file is a valid document


def test_plan_definition_is_active_only_for_approved_content(protocols: Path) -> None:
    from pedonc_routing.interop.fhir import plan_definition

    approve_all(protocols)
    approved = pr.load_bundle(protocols, engine="reference")
    assert plan_definition(approved, "all")["status"] == "active"
    text = (protocols / "all.yaml").read_text(encoding="utf-8")
    (protocols / "all.yaml").write_text(
        text.replace(GUARD_LINE, GUARD_LINE.replace("lt: 50", "lt: 60")), encoding="utf-8"
    )
    edited = pr.load_bundle(protocols, engine="reference")
    assert plan_definition(edited, "all")["status"] == "draft"
    assert plan_definition(edited, "wilms_tumour")["status"] == "active"


def test_every_decision_says_whether_its_protocol_is_approved(protocols: Path) -> None:
    patient = yaml.safe_load(
        (ROOT / "examples" / "patients" / "01_b_all_standard_risk.yaml").read_text("utf-8")
    )
    draft = pr.load_bundle(engine="reference").route(patient)
    assert draft.to_dict()["protocol"] == {"id": "all", "version": "2026.1", "approval": "draft"}
    approve_all(protocols)
    approved = pr.load_bundle(protocols, engine="reference").route(patient)
    assert approved.to_dict()["protocol"]["approval"] == "approved"
    assert approved.step == draft.step


def test_editing_one_guard_is_refused_naming_protocol_and_place(protocols: Path) -> None:
    approve_all(protocols)
    text = (protocols / "all.yaml").read_text(encoding="utf-8")
    assert text.count(GUARD_LINE) == 1
    edited = text.replace(GUARD_LINE, GUARD_LINE.replace("lt: 50", "lt: 60"))
    (protocols / "all.yaml").write_text(edited, encoding="utf-8")
    line = edited[: edited.index("lt: 60")].count("\n") + 1

    with pytest.raises(pr.ApprovalRequired) as refused:
        pr.load_bundle(protocols, engine="reference", require_approved=True)
    assert len(refused.value.problems) == 1
    problem = refused.value.problems[0]
    assert problem.startswith("all 2026.1: content differs")
    assert "steps.risk_stratification.next.nci_standard_risk changed" in problem
    # The transition's own position, a few lines above the edited guard.
    located = problem.rsplit(" at ", 1)[1]
    file, at_line, _ = located.split(":")
    assert file == "protocols/all.yaml"
    assert line - 10 < int(at_line) <= line
    # Without production mode the bundle still loads, and says the protocol changed.
    assert pr.load_bundle(protocols, engine="reference").approvals["all"].state == "changed"


def test_comments_layout_and_status_do_not_void_an_approval(protocols: Path) -> None:
    approve_all(protocols)
    path = protocols / "all.yaml"
    text = path.read_text(encoding="utf-8")
    reviewed = "status: reviewed\nreviewed_by: Protocol committee\nreviewed_on: '2026-12-01'"
    text = "# a new comment\n" + text.replace(
        "status: draft\nreviewed_by: null\nreviewed_on: null", reviewed
    )
    spaced = GUARD_LINE.replace("{input: wbc_10e9_l, lt: 50}", "{ input: wbc_10e9_l,  lt: 50 }")
    text = text.replace(GUARD_LINE, spaced)
    path.write_text(text, encoding="utf-8")
    bundle = pr.load_bundle(protocols, engine="reference", require_approved=True)
    assert bundle.approvals["all"].approved


def test_changes_requested_is_refused_with_the_body(protocols: Path) -> None:
    approve_all(protocols)
    bundle = pr.load_bundle(protocols, engine="reference")
    append_approval(
        protocols / APPROVALS_FILE,
        approval_record(
            bundle.protocol("wilms_tumour"),
            body="Oncology board",
            role="Secretary",
            decision="changes_requested",
            on=date(2026, 12, 2),
        ),
    )
    with pytest.raises(pr.ApprovalRequired) as refused:
        pr.load_bundle(protocols, engine="reference", require_approved=True)
    assert refused.value.problems == [
        "wilms_tumour 2026.1: changes requested by Oncology board (Secretary), 2026-12-02"
    ]


def test_cli_approve_writes_a_record_bound_to_the_content(protocols: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["approve", "hodgkin_lymphoma", "--protocols", str(protocols),
         "--body", "Republican protocol committee", "--role", "Chair", "--date", "2026-12-03"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bundle = pr.load_bundle(protocols, engine="reference")
    state = bundle.approvals["hodgkin_lymphoma"]
    assert state.approved
    assert state.approval is not None
    assert state.approval.content_hash == content_hash(bundle.protocol("hodgkin_lymphoma"))
    assert (state.approval.date, state.approval.body) == (
        "2026-12-03",
        "Republican protocol committee",
    )
    assert content_hash(bundle.protocol("hodgkin_lymphoma")) in result.output


def test_cli_refuses_to_approve_an_unknown_or_invalid_protocol(protocols: Path) -> None:
    args = ["--protocols", str(protocols), "--body", "B", "--role", "R"]
    unknown = CliRunner().invoke(main, ["approve", "hodgkin", *args])
    assert unknown.exit_code == 2
    assert "did you mean 'hodgkin_lymphoma'" in unknown.output
    (protocols / "all.yaml").write_text("kind: protocol\nid: all\n", encoding="utf-8")
    invalid = CliRunner().invoke(main, ["approve", "wilms_tumour", *args])
    assert invalid.exit_code == 1
    assert not (protocols / APPROVALS_FILE).exists()


def test_a_malformed_approvals_file_is_a_located_error(protocols: Path) -> None:
    (protocols / APPROVALS_FILE).write_text(
        "kind: approvals\napprovals:\n  - protocol: all\n    version: '1'\n"
        "    content_hash: md5:abc\n    parts: {}\n    date: 2026-12-01\n"
        "    body: B\n    role: R\n    decision: yes\n",
        encoding="utf-8",
    )
    report = pr.validate(protocols)
    codes = {(issue.code, issue.file, issue.line) for issue in report.errors}
    assert ("S001", f"protocols/{APPROVALS_FILE}", 5) in codes  # content_hash
    assert any(issue.line == 10 for issue in report.errors)  # decision: yes is a boolean


def test_release_manifest_names_bundle_protocols_and_approvals(protocols: Path) -> None:
    runner = CliRunner()
    pending = runner.invoke(
        main, ["release", "--protocols", str(protocols), "--date", "2026-12-06"]
    )
    assert pending.exit_code == 1
    approve_all(protocols)
    out = protocols.parent / "release.json"
    done = runner.invoke(
        main,
        ["release", "--protocols", str(protocols), "--output", str(out), "--date", "2026-12-06"],
    )
    assert done.exit_code == 0, done.output
    manifest = json.loads(out.read_text(encoding="utf-8"))
    bundle = pr.load_bundle(protocols, engine="reference")
    assert manifest["bundle_hash"] == bundle.content_hash
    assert manifest["library"]["version"] == pr.__version__
    assert manifest["all_approved"] is True
    assert [entry["id"] for entry in manifest["protocols"]] == sorted(bundle.protocol_ids)
    for entry in manifest["protocols"]:
        assert entry["content_hash"] == content_hash(bundle.protocol(entry["id"]))
        assert entry["approval"]["state"] == "approved"
        assert entry["approval"]["approval"]["body"] == "Protocol committee (test)"


def test_validate_reports_a_changed_protocol_and_an_unknown_approval(protocols: Path) -> None:
    approve_all(protocols)
    assert not [issue for issue in pr.validate(protocols).issues if issue.code.startswith("A")]
    text = (protocols / "all.yaml").read_text(encoding="utf-8")
    (protocols / "all.yaml").write_text(
        text.replace(GUARD_LINE, GUARD_LINE.replace("lt: 50", "lt: 60")), encoding="utf-8"
    )
    bundle = pr.load_bundle(protocols, engine="reference")
    record = approval_record(
        bundle.protocol("wilms_tumour"), body="B", role="R", decision="approved", on=date.today()
    )
    append_approval(
        protocols / APPROVALS_FILE, record.model_copy(update={"protocol": "wilms_tumor"})
    )
    issues = {issue.code: issue for issue in pr.validate(protocols).issues}
    changed = issues["A001"]
    assert (changed.severity, changed.file) == ("warning", "protocols/all.yaml")
    assert "steps.risk_stratification.next.nci_standard_risk changed" in changed.message
    unknown = issues["A002"]
    assert unknown.file == f"protocols/{APPROVALS_FILE}"
    assert "did you mean 'wilms_tumour'?" in unknown.message


def test_serve_in_production_mode_refuses_unapproved_protocols(protocols: Path) -> None:
    """`serve --require-approved` stops before any worker starts, naming each protocol."""
    audit = f"sqlite:///{protocols.parent / 'audit.sqlite3'}"
    args = ["serve", "--protocols", str(protocols), "--allow-anonymous", "--require-approved",
            "--audit", audit, "--port", "1"]  # fmt: skip
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1, refused.output
    assert "error: not approved: wilms_tumour 2026.1: no approval recorded" in refused.output
