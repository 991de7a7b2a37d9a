"""The review pack: one protocol explained for a clinical governance committee, as A4 HTML.

Clinicians on the committee do not read YAML. The pack gives, in their language (kk/ru/en):
purpose and scope, the pathway diagram, every step, every decision point as a decision table
(rows = transitions, columns = the inputs they read, cells in words, each row with its
citation and source line), the overrides that can interrupt the pathway, the facility each
region's children are sent to, the test cases and what they cover, the validator's open
warnings, the sources, and what changes for which children against the last approved
version. :func:`pedonc_routing.render.pdf.print_to_pdf` turns it into a PDF.

Clinical texts come from the protocol in the chosen language (English where a translation is
missing); condition cells use the symbols of the condition language (``<``, ``≥``, ``=``),
which read the same in every language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from pedonc_routing.analysis.coverage import ProtocolCoverage, measure_coverage
from pedonc_routing.analysis.diff import DiffReport, diff_bundles
from pedonc_routing.analysis.samples import Case
from pedonc_routing.bundle import Bundle
from pedonc_routing.compiler.compiled import CompiledProtocol
from pedonc_routing.compiler.pathway import CompiledStep, CompiledTransition
from pedonc_routing.governance.approvals import ApprovalState, content_hash
from pedonc_routing.model.conditions import AllOf, Condition, Test
from pedonc_routing.model.documents import Language, LocalizedText
from pedonc_routing.render.svg import to_svg
from pedonc_routing.render.words import SYMBOLS, in_words
from pedonc_routing.routing.network import Need
from pedonc_routing.vocabulary.inputs import kz_region_codes

#: Interface texts of the pack, per language.
UI: dict[str, dict[Language, str]] = {
    "pack": {
        "en": "Review pack",
        "ru": "Материалы для рассмотрения",
        "kk": "Қарауға арналған материалдар",
    },
    "draft": {
        "en": "DRAFT. Not a standard of care until the local clinical governance body approves this exact content.",
        "ru": "ПРОЕКТ. Не является стандартом помощи, пока местный орган клинического управления не утвердит именно это содержание.",
        "kk": "ЖОБА. Жергілікті клиникалық басқару органы дәл осы мазмұнды бекітпейінше, көмек стандарты болып саналмайды.",
    },
    "scope": {
        "en": "Purpose and scope",
        "ru": "Назначение и область применения",
        "kk": "Мақсаты мен қолданылу аясы",
    },
    "applies": {
        "en": "Applies to children with",
        "ru": "Применяется к детям, у которых",
        "kk": "Қолданылады:",
    },
    "no_applies": {
        "en": "No diagnosis selects this protocol: children enter it from another protocol or an override.",
        "ru": "Протокол не выбирается по диагнозу: дети попадают в него из другого протокола или по экстренному правилу.",
        "kk": "Хаттама диагноз бойынша таңдалмайды: балалар оған басқа хаттамадан немесе шұғыл ереже бойынша түседі.",
    },
    "diagram": {"en": "Pathway diagram", "ru": "Схема маршрута", "kk": "Бағыт сызбасы"},
    "steps": {"en": "Steps", "ru": "Этапы", "kk": "Кезеңдер"},
    "decisions": {"en": "Decision tables", "ru": "Таблицы решений", "kk": "Шешім кестелері"},
    "overrides": {
        "en": "Overrides that can interrupt this pathway",
        "ru": "Правила, которые могут прервать маршрут",
        "kk": "Бағытты үзе алатын ережелер",
    },
    "facilities": {
        "en": "Facilities by region",
        "ru": "Медицинские организации по регионам",
        "kk": "Өңірлер бойынша медициналық ұйымдар",
    },
    "cases": {
        "en": "Test cases and coverage",
        "ru": "Тестовые случаи и покрытие",
        "kk": "Сынақ жағдайлары және қамту",
    },
    "warnings": {
        "en": "Open validator warnings",
        "ru": "Открытые предупреждения валидатора",
        "kk": "Валидатордың ашық ескертулері",
    },
    "sources": {"en": "Sources", "ru": "Источники", "kk": "Дереккөздер"},
    "diff": {
        "en": "Changes against the last approved version",
        "ru": "Изменения относительно последней утверждённой версии",
        "kk": "Соңғы бекітілген нұсқамен салыстырғандағы өзгерістер",
    },
    "approval": {"en": "Approval", "ru": "Утверждение", "kk": "Бекіту"},
    "step": {"en": "Step", "ru": "Этап", "kk": "Кезең"},
    "kind": {"en": "Kind", "ru": "Тип", "kk": "Түрі"},
    "level": {"en": "Minimum level", "ru": "Минимальный уровень", "kk": "Ең төменгі деңгей"},
    "specialist": {"en": "Specialist", "ru": "Специалист", "kk": "Маман"},
    "capabilities": {"en": "Capabilities", "ru": "Возможности", "kk": "Мүмкіндіктер"},
    "timing": {"en": "Timing", "ru": "Сроки", "kk": "Мерзімдер"},
    "to": {"en": "Then", "ru": "Далее", "kk": "Содан кейін"},
    "because": {"en": "Because", "ru": "Обоснование", "kk": "Негіздеме"},
    "source": {"en": "Source", "ru": "Источник", "kk": "Дереккөз"},
    "other": {"en": "Other condition", "ru": "Другое условие", "kk": "Басқа шарт"},
    "condition": {"en": "Condition", "ru": "Условие", "kk": "Шарт"},
    "known": {"en": "known", "ru": "известно", "kk": "белгілі"},
    "unknown": {"en": "unknown", "ru": "неизвестно", "kk": "белгісіз"},
    "yes": {"en": "yes", "ru": "да", "kk": "иә"},
    "no": {"en": "no", "ru": "нет", "kk": "жоқ"},
    "otherwise": {"en": "otherwise", "ru": "иначе", "kk": "әйтпесе"},
    "any": {"en": "any", "ru": "любое", "kk": "кез келген"},
    "region": {"en": "Region", "ru": "Регион", "kk": "Өңір"},
    "none": {"en": "none", "ru": "нет", "kk": "жоқ"},
    "hours": {"en": "within {n} h", "ru": "в течение {n} ч", "kk": "{n} сағ ішінде"},
    "months": {"en": "every {n} months", "ru": "каждые {n} мес.", "kk": "әр {n} ай сайын"},
    "covered": {
        "en": "{covered} of {total} covered",
        "ru": "покрыто {covered} из {total}",
        "kk": "{total} ішінен {covered} қамтылған",
    },
    "boundaries": {"en": "threshold boundaries", "ru": "пороговые границы", "kk": "шекті мәндер"},
    "transitions": {"en": "transitions", "ru": "переходы", "kk": "өтулер"},
    "n_cases": {
        "en": "{n} test cases route into this protocol.",
        "ru": "{n} тестовых случаев проходят через этот протокол.",
        "kk": "Осы хаттама арқылы {n} сынақ жағдайы өтеді.",
    },
    "not_covered": {"en": "Not covered", "ru": "Не покрыто", "kk": "Қамтылмаған"},
    "no_warnings": {
        "en": "No open warnings.",
        "ru": "Открытых предупреждений нет.",
        "kk": "Ашық ескертулер жоқ.",
    },
    "no_baseline": {
        "en": "No approved version was given to compare with (review --approved DIR).",
        "ru": "Утверждённая версия для сравнения не указана (review --approved DIR).",
        "kk": "Салыстыруға бекітілген нұсқа берілмеген (review --approved DIR).",
    },
    "no_change": {
        "en": "No child's decision changes.",
        "ru": "Ни для одного ребёнка решение не меняется.",
        "kk": "Ешбір бала үшін шешім өзгермейді.",
    },
    "changed_for": {
        "en": "{n} children (generated and recorded) get a different decision.",
        "ru": "Для {n} детей (сгенерированных и записанных) решение меняется.",
        "kk": "{n} бала үшін (жасалған және жазылған) шешім өзгереді.",
    },
    "example": {"en": "example", "ru": "пример", "kk": "мысал"},
    "state": {"en": "State", "ru": "Состояние", "kk": "Күйі"},
    "hash": {"en": "Content hash", "ru": "Хэш содержания", "kk": "Мазмұн хэші"},
    "generated": {"en": "Generated on", "ru": "Сформировано", "kk": "Жасалған күні"},
    "level_primary": {"en": "primary", "ru": "первичный", "kk": "бастапқы"},
    "level_district": {"en": "district", "ru": "районный", "kk": "аудандық"},
    "level_regional": {"en": "regional", "ru": "областной", "kk": "облыстық"},
    "level_republican": {"en": "republican", "ru": "республиканский", "kk": "республикалық"},
}

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; line-height: 1.35; color: #111;
       max-width: 186mm; margin: 0 auto; overflow-wrap: anywhere; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
h2 { font-size: 12.5pt; margin: 14pt 0 4pt; border-bottom: 1px solid #999; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 8pt 0 3pt; }
.draft { border: 2px solid #b00; padding: 4pt 6pt; font-weight: bold; color: #900; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: 3pt 0 6pt; }
th, td { border: 1px solid #aaa; padding: 2pt 3pt; vertical-align: top; text-align: left; }
th { background: #eee; font-weight: bold; } tr { break-inside: avoid; }
.diagram svg { max-width: 100%; height: auto; } .diagram { break-inside: avoid; }
.muted { color: #555; font-size: 8.5pt; } code { font-size: 8.5pt; }
"""


@dataclass(frozen=True)
class ReviewInputs:
    """What the pack is built from besides the bundle: cases, the approved version, the date."""

    cases: Sequence[Case] = ()
    approved: Bundle | None = None
    generated_on: date | None = None


def _t(key: str, lang: Language, **values: object) -> str:
    return UI[key][lang].format(**values)


def _local(text: LocalizedText | None, lang: Language) -> str:
    return text.get(lang) if text is not None else ""


def _operand_text(value: object, lang: Language) -> str:
    if isinstance(value, bool):
        return _t("yes" if value else "no", lang)
    return str(value)


def _cell_text(test: Test, lang: Language) -> str:
    """What a test says of its input, the input itself being the column."""
    operator, operand = test.operator, test.operand
    if operator in SYMBOLS:
        return f"{SYMBOLS[operator]} {_operand_text(operand, lang)}"
    if operator == "between":
        return f"{_operand_text(operand[0], lang)} – {_operand_text(operand[1], lang)}"
    if operator in ("present", "absent"):
        return _t("known" if operator == "present" else "unknown", lang)
    return ", ".join(_operand_text(value, lang) for value in operand)  # in, codes


def _cells_of(condition: Condition, lang: Language) -> dict[str, str]:
    """A guard as cells: one per input for a conjunction of tests, else one 'other' cell
    (keyed "") with the whole condition in words."""
    tests: list[Condition] = list(condition.all) if isinstance(condition, AllOf) else [condition]
    if not all(isinstance(test, Test) for test in tests):
        return {"": in_words(condition)}
    cells: dict[str, list[str]] = {}
    for test in tests:
        assert isinstance(test, Test)
        cells.setdefault(test.input, []).append(_cell_text(test, lang))
    return {name: " ∧ ".join(parts) for name, parts in cells.items()}


class _Writer:
    def __init__(
        self, bundle: Bundle, protocol: CompiledProtocol, lang: Language, extra: ReviewInputs
    ) -> None:
        self.bundle = bundle
        self.compiled = bundle.compiled
        self.protocol = protocol
        self.lang = lang
        self.extra = extra
        self.parts: list[str] = []

    # -- building blocks ---------------------------------------------------------------

    def add(self, html: str) -> None:
        self.parts.append(html)

    def heading(self, key: str) -> None:
        self.add(f"<h2>{escape(_t(key, self.lang))}</h2>")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
        )
        self.add(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def step_title(self, protocol_id: str, step_id: str) -> str:
        target = self.compiled.protocols.get(protocol_id)
        if target is None or step_id not in target.model.steps:
            return step_id
        title = target.model.steps[step_id].title.get(self.lang)
        return title if protocol_id == self.protocol.model.id else f"{title} ({protocol_id})"

    def specialist(self, specialist_id: str) -> str:
        care = self.compiled.care
        if care is not None and specialist_id in care.specialists:
            return care.specialists[specialist_id].get(self.lang)
        return specialist_id

    def input_title(self, name: str) -> str:
        spec = self.compiled.schema.inputs.get(name)
        description = spec.description if spec is not None else None
        if description is None:
            return name
        first = description.get(self.lang).split(". ")[0].rstrip(".")
        unit = f", {spec.unit}" if spec is not None and spec.unit else ""
        return f"{first}{unit} [{name}]"

    def citation(self, source_id: str | None) -> str:
        """The source's id; the Sources section gives each id's full citation once."""
        return source_id or ""

    # -- sections ----------------------------------------------------------------------

    def header(self, state: ApprovalState | None) -> None:
        model = self.protocol.model
        self.add(f"<h1>{escape(model.title.get(self.lang))}</h1>")
        when = (self.extra.generated_on or date.today()).isoformat()
        self.add(
            f"<p class='muted'>{escape(_t('pack', self.lang))}: <code>{escape(model.id)}</code> "
            f"{escape(model.version)} ({escape(model.status)}) · {escape(_t('hash', self.lang))}: "
            f"<code>{escape(content_hash(model))}</code> · {escape(_t('generated', self.lang))} "
            f"{when}</p>"
        )
        self.add(f"<p class='draft'>{escape(_t('draft', self.lang))}</p>")
        if state is not None:
            approval = state.approval
            said = (
                f"{approval.decision}: {approval.body} ({approval.role}), {approval.date}, "
                f"{approval.version}"
                if approval is not None
                else ""
            )
            self.add(
                f"<p><b>{escape(_t('approval', self.lang))}</b>: {escape(state.state)}"
                f"{escape(' · ' + said) if said else ''}</p>"
            )

    def scope(self) -> None:
        self.heading("scope")
        applies = self.protocol.model.applies_to
        if applies is None:
            self.add(f"<p>{escape(_t('no_applies', self.lang))}</p>")
        else:
            self.add(
                f"<p>{escape(_t('applies', self.lang))}: <code>{escape(in_words(applies))}</code> "
                f"<span class='muted'>[{escape(self.protocol.applies_span)}]</span></p>"
            )

    def diagram(self) -> None:
        self.heading("diagram")
        self.add(f"<div class='diagram'>{to_svg(self.protocol.graph)}</div>")

    def steps(self) -> None:
        self.heading("steps")
        rows = []
        for step_id, step in self.protocol.model.steps.items():
            timing = []
            if step.timing.due_within_hours is not None:
                timing.append(_t("hours", self.lang, n=f"{step.timing.due_within_hours:g}"))
            if step.timing.repeat_every_months is not None:
                timing.append(_t("months", self.lang, n=step.timing.repeat_every_months))
            rows.append(
                [
                    f"{step.title.get(self.lang)} [{step_id}]",
                    f"{step.kind}, {step.urgency}, {step.care.setting}",
                    _t(f"level_{step.care.min_level}", self.lang),
                    self.specialist(step.care.specialist),
                    ", ".join(step.care.capabilities) or "—",
                    "; ".join(timing) or "—",
                ]
            )
        self.table([_t(key, self.lang) for key in ("step", "kind", "level", "specialist",
                                                   "capabilities", "timing")], rows)  # fmt: skip

    def decision_tables(self) -> None:
        self.heading("decisions")
        for step_id, step in self.protocol.graph.steps.items():
            if not step.transitions:
                continue
            self.add(
                f"<h3>{escape(self.step_title(self.protocol.model.id, step_id))} "
                f"<span class='muted'>[{escape(step.span)}]</span></h3>"
            )
            self.decision_table(step)

    def decision_table(self, step: CompiledStep) -> None:
        transitions: list[CompiledTransition] = list(step.transitions)
        cells = [
            _cells_of(t.condition, self.lang) if t.condition is not None else {}
            for t in transitions
        ]
        columns: list[str] = []
        for row in cells:
            columns.extend(name for name in row if name not in columns)
        header = [
            "#",
            *(self.input_title(c) if c else _t("other", self.lang) for c in columns),
            _t("to", self.lang),
            _t("because", self.lang),
            _t("source", self.lang),
        ]
        rows = []
        for index, (transition, row) in enumerate(zip(transitions, cells, strict=True), 1):
            rows.append(
                [
                    f"{index} ({transition.id}, p{transition.priority})",
                    *(row.get(column, _t("any", self.lang)) for column in columns),
                    self.step_title(transition.to_protocol, transition.to_step),
                    transition.because,
                    f"{self.citation(transition.source_id)} [{transition.span}]",
                ]
            )
        if step.otherwise is not None:
            other = step.otherwise
            rows.append(
                [
                    _t("otherwise", self.lang),
                    *(_t("any", self.lang) for _ in columns),
                    self.step_title(other.to_protocol, other.to_step),
                    other.because,
                    f"{self.citation(other.source_id)} [{other.span}]",
                ]
            )
        self.table(header, rows)

    def overrides(self) -> None:
        self.heading("overrides")
        rows = [
            [
                f"{override.protocol}:{override.to_step} (p{override.priority})",
                in_words(override.condition),
                override.because,
                override.span,
            ]
            for override in self.protocol.overrides
        ]
        if rows:
            header = [_t("to", self.lang), _t("condition", self.lang), _t("because", self.lang)]
            self.table([*header, _t("source", self.lang)], rows)
        else:
            self.add(f"<p>{escape(_t('none', self.lang))}</p>")

    def facilities(self) -> None:
        """Where children of each region are sent, per group of steps with the same needs:
        one row per facility with the regions it serves (a new child, no current facility)."""
        self.heading("facilities")
        network = self.compiled.network
        steps_by_need: dict[Need, list[str]] = {}
        for step_id, need in self.protocol.needs.items():
            if not self.protocol.graph.steps[step_id].model.passthrough:
                steps_by_need.setdefault(need, []).append(step_id)
        regions = sorted(kz_region_codes())
        for need, step_ids in steps_by_need.items():
            served: dict[str, list[str]] = {}
            for region in regions:
                choice = network.choose(need, region, None, None)
                facility = choice.facility
                label = (
                    f"{facility.name.get(self.lang)} ({facility.region}, "
                    f"{_t('level_' + facility.level, self.lang)})"
                    if facility is not None
                    else f"{_t('none', self.lang)}: {choice.because}"
                )
                served.setdefault(label, []).append(region)
            titles = "; ".join(self.step_title(self.protocol.model.id, s) for s in step_ids)
            self.add(f"<h3>{escape(titles)}</h3>")
            self.table(
                [_t("facilities", self.lang), _t("region", self.lang)],
                [[label, ", ".join(codes)] for label, codes in served.items()],
            )

    def cases(self) -> None:
        self.heading("cases")
        coverage = _coverage_of(self.bundle, self.extra.cases, self.protocol.model.id)
        if coverage is None:
            self.add(f"<p>{escape(_t('n_cases', self.lang, n=0))}</p>")
            return
        summary = coverage.to_dict()
        self.add(f"<p>{escape(_t('n_cases', self.lang, n=coverage.cases))}</p>")
        rows = [
            [
                _t(label, self.lang),
                _t("covered", self.lang, **{n: summary[key][n] for n in ("covered", "total")}),
                "; ".join(_missed_text(item) for item in summary[key]["missed"]) or "—",
            ]
            for key, label in (("steps", "steps"), ("transitions", "transitions"),
                               ("boundaries", "boundaries"))
        ]  # fmt: skip
        self.table(["", "%", _t("not_covered", self.lang)], rows)

    def warnings(self) -> None:
        self.heading("warnings")
        own = [issue for issue in self.bundle.report.warnings if issue.file == self.protocol.file]
        if not own:
            self.add(f"<p>{escape(_t('no_warnings', self.lang))}</p>")
            return
        self.table(["", ""], [[f"{i.file}:{i.line}:{i.column} {i.code}", i.message] for i in own])

    def sources(self) -> None:
        self.heading("sources")
        rows = [
            [source.id, source.citation, source.used_for or "", source.url or ""]
            for source in self.protocol.model.sources
        ]
        self.table(["id", _t("source", self.lang), _t("because", self.lang), "URL"], rows)

    def changes(self) -> None:
        self.heading("diff")
        if self.extra.approved is None:
            self.add(f"<p>{escape(_t('no_baseline', self.lang))}</p>")
            return
        report = diff_bundles(self.extra.approved, self.bundle, self.extra.cases)
        own = [locus for locus in report.loci if locus.protocol == self.protocol.model.id]
        if not own and not _structure_touches(report, self.protocol.model.id):
            self.add(f"<p>{escape(_t('no_change', self.lang))}</p>")
            return
        patients = sum(locus.patients for locus in own)
        self.add(f"<p>{escape(_t('changed_for', self.lang, n=patients))}</p>")
        rows = []
        for locus in own:
            for kind in locus.sorted_kinds():
                example = ", ".join(
                    f"{key}={value}" for key, value in _example_facts(kind.example).items()
                )
                rows.append(
                    [
                        self.step_title(locus.protocol, locus.step),
                        f"{kind.field}: {kind.old} → {kind.new}",
                        str(kind.patients),
                        f"{_t('example', self.lang)}: {example}",
                    ]
                )
        self.table([_t("step", self.lang), "", "n", _t("example", self.lang)], rows)


def _coverage_of(
    bundle: Bundle, cases: Sequence[Case], protocol_id: str
) -> ProtocolCoverage | None:
    report = measure_coverage(bundle, cases)
    return next((p for p in report.protocols if p.protocol == protocol_id), None)


def _missed_text(item: dict[str, object]) -> str:
    if "transition" in item:
        return f"{item['step']}.{item['transition']}"
    if "input" in item:
        return f"{item['owner']}: {item['input']} {item['operator']} {item['constant']}"
    return str(item.get("step", item.get("override", "")))


def _structure_touches(report: DiffReport, protocol_id: str) -> bool:
    structure = report.structure
    return any(
        change["protocol"] == protocol_id
        for change in [*structure.steps_added, *structure.steps_removed, *structure.versions]
    )


def _example_facts(patient: dict[str, object]) -> dict[str, object]:
    """The clinical facts of a generated example (never an identifier)."""
    facts: dict[str, object] = {}
    for key in ("age_years", "age_months", "sex", "diagnosis"):
        if key in patient:
            facts[key] = patient[key]
    for group in ("observations", "exposures"):
        values = patient.get(group)
        if isinstance(values, dict):
            facts.update(values)
    return facts


def review_html(
    bundle: Bundle, protocol_id: str, lang: Language = "en", extra: ReviewInputs | None = None
) -> str:
    """The review pack of ``protocol_id`` as one self-contained A4 HTML page."""
    protocol = bundle.compiled.protocols[protocol_id]  # KeyError: callers check the id first
    writer = _Writer(bundle, protocol, lang, extra or ReviewInputs())
    writer.header(bundle.approvals.get(protocol_id))
    for section in (
        writer.scope,
        writer.diagram,
        writer.steps,
        writer.decision_tables,
        writer.overrides,
        writer.facilities,
        writer.cases,
        writer.warnings,
        writer.sources,
        writer.changes,
    ):
        section()
    title = escape(protocol.model.title.get(lang))
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        + "".join(writer.parts)
        + "</body></html>"
    )
