"""The review pack (issue 16): content in each language, a planted gap shown, and a PDF that
Chromium prints on A4 with extractable Cyrillic and Kazakh text."""

from __future__ import annotations

import os
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

import pedonc_routing as pr
from pedonc_routing.analysis.samples import read_cases
from pedonc_routing.cli import main
from pedonc_routing.loader.documents import default_protocols_dir
from pedonc_routing.render.review import UI, ReviewInputs, review_html

ROOT = Path(__file__).resolve().parents[2]
KAZAKH_LETTERS = set("әғқңөұүһі")
OTHERWISE = """    otherwise:
      to: induction_high_risk
      because: "NCI/Rome high risk: B-precursor ALL with age >= 10 years or WBC >= 50 x10^9/L"
      source: nci_pdq_all
"""


def text_of(html: str) -> str:
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def bundle() -> pr.Bundle:
    return pr.load_bundle(engine="reference")


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_pack_has_every_section_step_transition_and_source(bundle: pr.Bundle, lang: str) -> None:
    cases = read_cases([ROOT / "tests" / "cases" / "all.yaml"])
    html = review_html(bundle, "all", lang, ReviewInputs(cases=cases))  # type: ignore[arg-type]
    text = text_of(html)
    protocol = bundle.protocol("all")
    assert protocol.title.get(lang) in text  # type: ignore[arg-type]
    for key in ("scope", "diagram", "steps", "decisions", "overrides", "facilities", "cases",
                "warnings", "sources", "diff", "draft"):  # fmt: skip
        assert UI[key][lang] in text, key  # type: ignore[index]
    for step in protocol.steps.values():
        assert step.title.get(lang) in text  # type: ignore[arg-type]
    for step in protocol.steps.values():
        for transition in step.next:
            assert f"({transition.id}, p{transition.priority})" in text
    for source in protocol.sources:
        assert source.citation in text
    # The risk table: one column per input, the thresholds as cells, the source line.
    assert "[wbc_10e9_l]" in text
    assert "< 50" in text
    assert re.search(r"nci_rome_1996 \[protocols/all\.yaml:\d+\]", text)
    # Coverage of the shipped cases, and no patient identifier anywhere.
    assert UI["covered"][lang].split("{")[0].strip() in text  # type: ignore[index]
    assert "<svg" in html
    assert not any(case.patient.get("patient_id", "\0") in html for case in cases)


def test_pack_of_a_protocol_with_a_planted_gap_shows_the_warning(tmp_path: Path) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(default_protocols_dir(), folder)
    source = (folder / "all.yaml").read_text(encoding="utf-8")
    assert source.count(OTHERWISE) == 1
    (folder / "all.yaml").write_text(source.replace(OTHERWISE, ""), encoding="utf-8")
    gapped = pr.load_bundle(folder, engine="reference")
    warnings = [
        i for i in gapped.report.warnings if i.code == "G006" and i.file.endswith("all.yaml")
    ]
    assert warnings, [str(i) for i in gapped.report.warnings]
    text = text_of(review_html(gapped, "all", "en"))
    assert f"protocols/all.yaml:{warnings[0].line}:{warnings[0].column} G006" in text
    assert "no transition of step 'risk_stratification' holds" in text
    assert UI["no_warnings"]["en"] not in text


def test_pack_shows_what_changes_against_the_approved_version(tmp_path: Path) -> None:
    approved, edited = tmp_path / "approved", tmp_path / "edited"
    shutil.copytree(default_protocols_dir(), approved)
    shutil.copytree(default_protocols_dir(), edited)
    guard = "            - {input: wbc_10e9_l, lt: 50}\n"
    source = (edited / "all.yaml").read_text(encoding="utf-8")
    (edited / "all.yaml").write_text(source.replace(guard, guard.replace("50", "60")), "utf-8")
    extra = ReviewInputs(approved=pr.load_bundle(approved, engine="reference"))
    text = text_of(review_html(pr.load_bundle(edited, engine="reference"), "all", "en", extra))
    changed = re.search(r"(\d+) children \(generated and recorded\) get a different decision", text)
    assert changed is not None
    assert int(changed.group(1)) > 0
    assert "induction_high_risk → induction_standard_risk" in text
    # An example child between the old and the new threshold.
    examples = [float(v) for v in re.findall(r"wbc_10e9_l=(\d+(?:\.\d+)?)", text)]
    assert any(50 <= value < 60 for value in examples), examples


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("PEDONC_REQUIRE_CHROMIUM") != "1",
    reason="chromium not installed (make chromium)",
)
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_pdf_is_a4_readable_and_has_the_letters(tmp_path: Path, lang: str) -> None:
    pypdf = pytest.importorskip("pypdf")
    html_file, pdf_file = tmp_path / "pack.html", tmp_path / "pack.pdf"
    result = CliRunner().invoke(
        main, ["review", "all", "--lang", lang, "--html", str(html_file), "--pdf", str(pdf_file)]
    )
    assert result.exit_code == 0, result.output
    reader = pypdf.PdfReader(pdf_file)
    assert len(reader.pages) > 3
    for page in reader.pages:  # A4 is 595.3 x 841.9 points
        assert abs(float(page.mediabox.width) - 595.3) < 1.5
        assert abs(float(page.mediabox.height) - 841.9) < 1.5
    text = " ".join(page.extract_text() for page in reader.pages)
    assert UI["decisions"][lang] in " ".join(text.split())  # type: ignore[index]
    assert re.search("[А-Яа-я]", text)
    if lang == "kk":
        assert KAZAKH_LETTERS & set(text)
