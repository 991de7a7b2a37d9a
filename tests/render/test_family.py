"""The family guide: content per decision status and language, no identifiers, printable
self-contained HTML, and the CLI commands."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from render_patients import EXAMPLES, PATIENT_BY_STATUS, input_titles, read_patient

import pedonc_routing as pr
from pedonc_routing.cli import main
from pedonc_routing.model.documents import LANGUAGES, Language
from pedonc_routing.render.family import (
    UI,
    FamilyGuide,
    _ru_count,
    _ru_genitive,
    build_family_guide,
    guide_html,
    guide_text,
)

SECRET_ID = "anon-SECRET-4711"


def _guide(bundle: pr.Bundle, status: str, lang: Language) -> tuple[FamilyGuide, dict[str, object]]:
    patient = read_patient(PATIENT_BY_STATUS[status])
    patient["patient_id"] = SECRET_ID
    return build_family_guide(bundle, patient, lang), patient


def _flat(text: str) -> str:
    """Text without line wrapping or list marks, to find phrases the wrapper split."""
    return " ".join(text.replace("\n- ", " ").split())


def _step_model(bundle: pr.Bundle, protocol: str, step: str) -> object:
    return bundle.compiled.protocols[protocol].graph.steps[step].model


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("status", sorted(PATIENT_BY_STATUS))
def test_every_status_in_every_language(
    shipped_bundle: pr.Bundle,
    status: str,
    lang: Language,
) -> None:
    guide, patient = _guide(shipped_bundle, status, lang)
    text, html = _flat(guide_text(guide)), guide_html(guide)
    decision = shipped_bundle.route(patient, lang=lang)
    for page in (text, html):
        assert SECRET_ID not in page
        assert UI["notice_heading"][lang] in page
    assert f'<html lang="{lang}">' in html
    position = patient.get("position")
    if position:  # where the child is: the current step's title and family text
        step = shipped_bundle.compiled.protocols[position["protocol"]].graph.steps[position["step"]]
        assert _flat(step.model.title.get(lang)) in text
        assert _flat(step.model.family_info.get(lang)) in text
    else:
        assert UI["not_on_pathway"][lang] in text
    if decision.status == "routed":
        assert decision.step is not None
        assert decision.step.title in text
        if decision.facility is not None:
            assert decision.facility.name in text
        assert decision.specialist is not None
        assert decision.specialist.title in text
    else:
        key = "needs" if decision.status == "needs_data" else decision.status
        assert _flat(UI[key][lang]) in text
    for item in decision.follow_ups:
        assert item.title in text


def test_needs_data_names_results_by_title(shipped_bundle: pr.Bundle) -> None:
    guide, _ = _guide(shipped_bundle, "needs_data", "ru")
    text = _flat(guide_text(guide))
    assert "mrd_end_induction_percent" not in text
    assert _flat(input_titles()["mrd_end_induction_percent"].get("ru")) in text


def test_when_is_in_the_patients_time_zone(shipped_bundle: pr.Bundle) -> None:
    guide, _ = _guide(shipped_bundle, "routed_override", "en")
    text = _flat(guide_text(guide))
    # as_of 2026-11-22T09:00+05:00, first antibiotic within 1 hour
    assert "Due by 22 November 2026, 10:00 (local time, UTC+05:00), that is within 1 hour." in text
    assert UI["urgency_emergency"]["en"] in text
    kk = _flat(guide_text(_guide(shipped_bundle, "routed_override", "kk")[0]))
    assert "2026 жылғы 22 қараша, 10:00" in kk
    assert "Қарағанды облысы" in kk  # the facility's region in Kazakh


def test_follow_up_intervals_in_words(shipped_bundle: pr.Bundle) -> None:
    guide, _ = _guide(shipped_bundle, "follow_ups", "ru")
    text = _flat(guide_text(guide))
    assert "раз в 60 месяцев" in text
    assert "раз в 12 месяцев" in text


def test_support_lists_home_region_services_and_nearest_rehabilitation(
    shipped_bundle: pr.Bundle,
) -> None:
    guide, patient = _guide(shipped_bundle, "routed_override", "en")
    support = guide.sections[-1]
    assert support.heading == UI["support_heading"]["en"]
    network = shipped_bundle.compiled.network
    home = [
        f
        for f in network.facilities.values()
        if f.region == patient["home_region"] and "psychosocial_support" in f.capabilities
    ]
    assert home
    assert all(any(f.name.en in item for item in support.items) for f in home)
    assert any("rehabilitation" in item.lower() for item in support.items)
    rehab_title = _step_model(shipped_bundle, "supportive_care", "rehabilitation").title.en  # type: ignore[attr-defined]
    assert rehab_title in support.paragraphs


def test_invalid_patient_raises_without_the_id(shipped_bundle: pr.Bundle) -> None:
    patient = read_patient(PATIENT_BY_STATUS["routed"])
    patient["patient_id"] = SECRET_ID
    patient["home_region"] = "KZ-99"
    with pytest.raises(pr.PatientDataError) as raised:
        build_family_guide(shipped_bundle, patient, "en")
    assert SECRET_ID not in str(raised.value)


def test_html_is_self_contained_and_balanced(shipped_bundle: pr.Bundle) -> None:
    html = guide_html(_guide(shipped_bundle, "routed", "kk")[0])
    lowered = html.lower()
    for forbidden in ("<script", "<link", "@import", "url(", "src=", "http"):
        assert forbidden not in lowered
    for required in ("@page", "size: a4", "overflow-wrap: anywhere", '<meta charset="utf-8">'):
        assert required in lowered

    class Balance(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag not in ("meta",):
                self.open.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert self.open.pop() == tag

    parser = Balance()
    parser.feed(html)
    assert parser.open == []


def test_escaping() -> None:
    guide = FamilyGuide("en", "A <b> & c", "x", ())
    assert "<title>A &lt;b&gt; &amp; c</title>" in guide_html(guide)


@pytest.mark.parametrize(
    ("number", "expected"),
    [(1, "месяц"), (3, "месяца"), (12, "месяцев"), (21, "месяц"), (24, "месяца"), (60, "месяцев")],
)
def test_russian_month_forms(number: int, expected: str) -> None:
    assert _ru_count(number, "месяц", "месяца", "месяцев") == expected


@pytest.mark.parametrize(
    ("number", "expected"), [(1, "часа"), (11, "часов"), (21, "часа"), (72, "часов"), (0.5, "часа")]
)
def test_russian_hours_after_v_techenie(number: float, expected: str) -> None:
    assert _ru_genitive(number, "часа", "часов") == expected


def test_cli_family_text_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    patient = EXAMPLES / PATIENT_BY_STATUS["routed"]
    result = runner.invoke(main, ["family", str(patient), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(UI["title"]["ru"])
    assert "anon-0001" not in result.output
    out = tmp_path / "guide.html"
    result = runner.invoke(main, ["family", str(patient), "--lang", "kk", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert '<html lang="kk">' in out.read_text(encoding="utf-8")


def test_cli_family_invalid_patient(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (EXAMPLES / PATIENT_BY_STATUS["routed"])
        .read_text(encoding="utf-8")
        .replace("home_region: KZ-75", "home_region: KZ-99"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["family", str(bad)])
    assert result.exit_code == 1
    assert "anon-0001" not in result.output
    assert "Traceback" not in result.output


def test_cli_graph_svg_with_patient() -> None:
    patient = EXAMPLES / PATIENT_BY_STATUS["routed"]
    result = CliRunner().invoke(
        main, ["graph", "all", "--format", "svg", "--patient", str(patient)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("<?xml")
    assert 'class="node step route target" data-step="induction_standard_risk"' in result.output


def test_input_titles_keep_abbreviations_inside_the_first_sentence() -> None:
    titles = input_titles()
    # "The acute emergency at presentation (e.g. hyperleukocytosis ...) is controlled, ..."
    assert "(e.g. hyperleukocytosis" in titles["emergency_stabilised"].en
    assert titles["emergency_stabilised"].en.endswith("as judged by the treating team")
