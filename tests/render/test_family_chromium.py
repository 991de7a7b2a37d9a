"""The family guide's HTML rendered by headless Chromium at A4 width: the expected text is
in the rendered page in every language and nothing overflows.

A test-only script (never part of the shipped page) measures, after layout, every element
wider than its box (scrollWidth > clientWidth) or reaching past the A4 width of 794 CSS px,
and writes the result into the DOM, which ``--dump-dom`` prints. Skipped without
``chromium`` unless ``PEDONC_REQUIRE_CHROMIUM=1`` (set by ``make test``): then it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

import pytest
from render_patients import PATIENT_BY_STATUS, read_patient

import pedonc_routing as pr
from pedonc_routing.model.documents import Language
from pedonc_routing.render.family import UI, build_family_guide, guide_html
from pedonc_routing.render.pdf import CHROMIUM_FLAGS

A4_WIDTH_PX = 794
KAZAKH_LETTERS = "әғқңөұүһі"
CHROMIUM = shutil.which("chromium")

if CHROMIUM is None:
    if os.environ.get("PEDONC_REQUIRE_CHROMIUM") == "1":
        pytest.fail("chromium is required (PEDONC_REQUIRE_CHROMIUM=1): run `make chromium`")
    pytest.skip("chromium not installed (make chromium)", allow_module_level=True)

MEASURE = f"""
<script>
(() => {{
  const bad = [];
  for (const el of document.body.querySelectorAll("*")) {{
    const box = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 || box.right > {A4_WIDTH_PX} + 0.5) {{
      bad.push(el.tagName + ": " + (el.textContent || "").slice(0, 60));
    }}
  }}
  const out = document.createElement("pre");
  out.id = "overflow-report";
  out.textContent = JSON.stringify({{bad: bad, width: document.documentElement.scrollWidth}});
  document.body.appendChild(out);
}})();
</script>
"""

#: (patient status, language): the default run; PEDONC_CHROMIUM_ALL=1 renders every pair.
CASES = [("routed_override", "kk"), ("routed", "ru"), ("needs_data", "en"), ("follow_ups", "kk")]
if os.environ.get("PEDONC_CHROMIUM_ALL") == "1":
    CASES = [(status, lang) for status in PATIENT_BY_STATUS for lang in ("en", "ru", "kk")]


def _render(html: str, workdir: Path) -> str:
    page = workdir / "page.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={workdir / 'profile'}",
        f"--window-size={A4_WIDTH_PX},1123",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _rendered_text(dom: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def rendered(
    shipped_bundle: pr.Bundle,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], tuple[pr.Decision, str]]:
    """Every case rendered once, two Chromiums at a time (each launch is ~1 s of start-up)."""
    jobs = {}
    for status, lang in CASES:
        patient = read_patient(PATIENT_BY_STATUS[status])
        guide = build_family_guide(shipped_bundle, patient, lang)  # type: ignore[arg-type]
        jobs[(status, lang)] = (shipped_bundle.route(patient, lang=lang), guide_html(guide))  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=2) as pool:
        doms = pool.map(
            lambda key: _render(jobs[key][1], tmp_path_factory.mktemp("chromium")), list(jobs)
        )
        return {key: (jobs[key][0], dom) for key, dom in zip(jobs, doms, strict=True)}


@pytest.mark.parametrize(("status", "lang"), CASES)
def test_rendered_page_has_the_text_and_nothing_overflows(
    rendered: dict[tuple[str, str], tuple[pr.Decision, str]], status: str, lang: Language
) -> None:
    decision, dom = rendered[(status, lang)]
    report = re.search(r'<pre id="overflow-report">(.*?)</pre>', dom, re.S)
    assert report is not None, "the measuring script did not run"
    measured = json.loads(unescape(report.group(1)))
    assert measured["bad"] == []
    assert measured["width"] <= A4_WIDTH_PX
    text = _rendered_text(dom)
    assert UI["title"][lang] in text
    assert UI["notice_heading"][lang] in text
    if decision.step is not None and decision.status == "routed":
        assert decision.step.title in text
    if decision.facility is not None:
        assert decision.facility.name in text
    if decision.specialist is not None:
        assert decision.specialist.title in text
    for item in decision.follow_ups:
        assert item.title in text
    if lang == "kk":
        assert set(KAZAKH_LETTERS) & set(text)


def test_fonts_cover_kazakh_letters() -> None:
    """A font with every Kazakh-specific letter is installed (else Chromium draws boxes)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        if os.environ.get("PEDONC_REQUIRE_CHROMIUM") == "1":
            pytest.fail("fontconfig's fc-list not found (make chromium installs it)")
        pytest.skip("fontconfig's fc-list not found")
    charset = " ".join(f"{ord(letter):x}" for letter in KAZAKH_LETTERS)
    done = subprocess.run(
        [fc_list, f":charset={charset}", "family"], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip(), "no installed font has all Kazakh letters (fonts-dejavu-core)"
