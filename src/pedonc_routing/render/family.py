"""The family guide: one plain-language page for the child's family, as text or printable HTML.

Content comes from the decision (in the family's language) and from the protocols' own
plain-language texts (each step's ``family_info``), never from the clinical reasons, which
are written for clinicians in English. The page says: where the child is, what comes next,
where and when, whom to ask for, the check-ups due, the support services (psychosocial
support and rehabilitation, nearest first), and that the pathways are drafts.

No identifier of the child is ever read or written: the family knows the child's name, the
page does not need it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from pedonc_routing.bundle import Bundle
from pedonc_routing.decision.model import Decision
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.model.documents import Facility, Language, LocalizedText, Step
from pedonc_routing.model.patient import PatientState
from pedonc_routing.routing.network import ATTACHED_PRIMARY_CARE

#: The supportive-care steps whose ``family_info`` describes the support on offer
#: (contract ids of ``protocols/supportive_care.yaml``). Palliative care is not listed among
#: general options: it is shown when it is the child's own step.
SUPPORT_STEPS = (("supportive_care", "psychosocial_support"), ("supportive_care", "rehabilitation"))
SUPPORT_CAPABILITIES = ("psychosocial_support", "rehabilitation")
NEAREST_REHABILITATION = 2  # how many rehabilitation centres to list when none is at home

#: Every fixed text of the page, in the three languages. ``{}`` fields are filled by name.
UI: dict[str, dict[Language, str]] = {
    "title": {
        "en": "Your child's care: what happens next",
        "ru": "Лечение вашего ребёнка: что будет дальше",
        "kk": "Балаңыздың емі: әрі қарай не болады",
    },
    "prepared": {
        "en": "Prepared on {date}.",
        "ru": "Дата составления: {date}",
        "kk": "Дайындалған күні: {date}.",
    },
    "notice_heading": {"en": "Please note", "ru": "Обратите внимание", "kk": "Назар аударыңыз"},
    "notice": {
        "en": "A computer program made this page from draft care pathways that doctors have "
        "not yet approved. Your child's doctors decide your child's care. If anything here "
        "differs from what they tell you, follow the doctors and ask them.",
        "ru": "Эту страницу составила компьютерная программа по проектам схем лечения, которые "
        "врачи ещё не утвердили. Решения о лечении принимают врачи вашего ребёнка. Если здесь "
        "что-то расходится с их словами, следуйте указаниям врачей и задайте им вопрос.",
        "kk": "Бұл бетті компьютерлік бағдарлама дәрігерлер әлі бекітпеген емдеу жолдарының "
        "жобасы бойынша жасады. Балаңыздың емі туралы шешімді дәрігерлер қабылдайды. Мұндағы "
        "ақпарат дәрігердің айтқанынан өзгеше болса, дәрігердің нұсқауын орындаңыз және "
        "одан сұраңыз.",
    },
    "now_heading": {
        "en": "Where your child is now",
        "ru": "Где сейчас ваш ребёнок",
        "kk": "Балаңыз қазір қай кезеңде",
    },
    "not_on_pathway": {
        "en": "Your child has not started a care pathway yet.",
        "ru": "Ваш ребёнок ещё не начал путь лечения.",
        "kk": "Балаңыз әлі емдеу жолын бастаған жоқ.",
    },
    "next_heading": {"en": "What comes next", "ru": "Что дальше", "kk": "Келесі қадам"},
    "where_heading": {"en": "Where", "ru": "Где", "kk": "Қайда"},
    "when_heading": {"en": "When", "ru": "Когда", "kk": "Қашан"},
    "contact_heading": {
        "en": "Whom to ask for",
        "ru": "К кому обращаться",
        "kk": "Кімге жүгіну керек",
    },
    "contact": {
        "en": "{title}. Ask for this doctor when you arrive.",
        "ru": "{title}. Спросите этого врача, когда придёте.",
        "kk": "{title}. Келгенде осы дәрігерді сұраңыз.",
    },
    "travel": {
        "en": "About {hours} h of travel.",
        "ru": "Дорога: около {hours} ч.",
        "kk": "Жол жүру уақыты: шамамен {hours} сағат.",
    },
    "polyclinic": {
        "en": "Your local polyclinic (primary care)",
        "ru": "Ваша поликлиника по месту жительства",
        "kk": "Тұрғылықты жердегі емханаңыз",
    },
    "level_primary": {"en": "primary care", "ru": "первичная помощь", "kk": "алғашқы көмек"},
    "level_district": {
        "en": "district or city hospital",
        "ru": "районная или городская больница",
        "kk": "аудандық немесе қалалық аурухана",
    },
    "level_regional": {"en": "regional centre", "ru": "областной центр", "kk": "облыстық орталық"},
    "level_republican": {
        "en": "national (republican) centre",
        "ru": "республиканский центр",
        "kk": "республикалық орталық",
    },
    "due_by": {
        "en": "Due by {when} (local time, {zone}), that is {within}.",
        "ru": "Срок: {when} (местное время, {zone}), то есть {within}.",
        "kk": "Мерзімі: {when} (жергілікті уақыт, {zone}), яғни {within}.",
    },
    "no_time": {
        "en": "The care team will tell you the date and time.",
        "ru": "Дату и время вам сообщит команда врачей.",
        "kk": "Күні мен уақытын дәрігерлер тобы айтады.",
    },
    "urgency_emergency": {
        "en": "This is an emergency: go now.",
        "ru": "Это экстренная ситуация: обратитесь немедленно.",
        "kk": "Бұл шұғыл жағдай: дереу барыңыз.",
    },
    "urgency_urgent": {
        "en": "This is urgent: please do not put it off.",
        "ru": "Это срочно: пожалуйста, не откладывайте.",
        "kk": "Бұл асығыс: кейінге қалдырмаңыз.",
    },
    "urgency_routine": {
        "en": "This is planned care.",
        "ru": "Это плановая помощь.",
        "kk": "Бұл жоспарлы көмек.",
    },
    "followups_heading": {
        "en": "Check-ups and tests",
        "ru": "Осмотры и обследования",
        "kk": "Тексерулер мен зерттеулер",
    },
    "support_heading": {
        "en": "Support for your child and family",
        "ru": "Поддержка для ребёнка и семьи",
        "kk": "Балаға және отбасына қолдау",
    },
    "support_near": {
        "en": "Where to find it:",
        "ru": "Где это можно получить:",
        "kk": "Қайдан алуға болады:",
    },
    "support_ask": {
        "en": "Ask your child's doctor for a referral.",
        "ru": "Попросите направление у врача вашего ребёнка.",
        "kk": "Балаңыздың дәрігерінен жолдама сұраңыз.",
    },
    "needs_heading": {
        "en": "What the care team needs",
        "ru": "Что нужно команде врачей",
        "kk": "Дәрігерлер тобына не қажет",
    },
    "needs": {
        "en": "Before the next step can be chosen, the care team needs these results:",
        "ru": "Чтобы выбрать следующий шаг, команде врачей нужны эти результаты:",
        "kk": "Келесі қадамды таңдау үшін дәрігерлер тобына мына нәтижелер қажет:",
    },
    "needs_after": {
        "en": "When the results are ready, the team will tell you what comes next.",
        "ru": "Когда результаты будут готовы, команда скажет, что будет дальше.",
        "kk": "Нәтижелер дайын болғанда, топ әрі қарай не болатынын айтады.",
    },
    "no_route": {
        "en": "The next step needs a decision by the care team. Please talk to your child's "
        "doctor.",
        "ru": "Следующий шаг должна определить команда врачей. Пожалуйста, поговорите с врачом "
        "вашего ребёнка.",
        "kk": "Келесі қадамды дәрігерлер тобы анықтауы керек. Балаңыздың дәрігерімен сөйлесіңіз.",
    },
    "completed": {
        "en": "This part of your child's care is complete. There is no further step on this "
        "care pathway.",
        "ru": "Этот этап помощи вашему ребёнку завершён. Дальнейших шагов на этом пути лечения "
        "нет.",
        "kk": "Балаңызға көмектің бұл кезеңі аяқталды. Осы емдеу жолында келесі қадам жоқ.",
    },
    "not_applicable": {
        "en": "The care pathways in this guide do not cover your child's illness. Your child's "
        "doctor will explain the plan of care.",
        "ru": "Схемы лечения в этом руководстве не охватывают заболевание вашего ребёнка. "
        "План лечения объяснит врач вашего ребёнка.",
        "kk": "Бұл нұсқаулықтағы емдеу жолдары балаңыздың ауруын қамтымайды. Ем жоспарын "
        "балаңыздың дәрігері түсіндіреді.",
    },
    "input_return_to": {
        "en": "which treatment step your child goes back to",
        "ru": "к какому этапу лечения вернётся ребёнок",
        "kk": "бала емнің қай кезеңіне қайтады",
    },
    "input_age": {
        "en": "your child's age (date of birth)",
        "ru": "возраст ребёнка (дата рождения)",
        "kk": "баланың жасы (туған күні)",
    },
    "input_diagnosis": {"en": "the exact diagnosis", "ru": "точный диагноз", "kk": "нақты диагноз"},
    "input_sex": {"en": "your child's sex", "ru": "пол ребёнка", "kk": "баланың жынысы"},
    "input_other": {
        "en": "another result (the care team will explain)",
        "ru": "другой результат (врачи объяснят)",
        "kk": "басқа нәтиже (дәрігерлер түсіндіреді)",
    },
}

#: ISO 3166-2:KZ subdivisions in the three languages.
REGION_NAMES: dict[str, dict[Language, str]] = {
    "KZ-10": {"en": "Abai Region", "ru": "Абайская область", "kk": "Абай облысы"},
    "KZ-11": {"en": "Akmola Region", "ru": "Акмолинская область", "kk": "Ақмола облысы"},
    "KZ-15": {"en": "Aktobe Region", "ru": "Актюбинская область", "kk": "Ақтөбе облысы"},
    "KZ-19": {"en": "Almaty Region", "ru": "Алматинская область", "kk": "Алматы облысы"},
    "KZ-23": {"en": "Atyrau Region", "ru": "Атырауская область", "kk": "Атырау облысы"},
    "KZ-27": {
        "en": "West Kazakhstan Region",
        "ru": "Западно-Казахстанская область",
        "kk": "Батыс Қазақстан облысы",
    },
    "KZ-31": {"en": "Zhambyl Region", "ru": "Жамбылская область", "kk": "Жамбыл облысы"},
    "KZ-33": {"en": "Zhetisu Region", "ru": "область Жетісу", "kk": "Жетісу облысы"},
    "KZ-35": {"en": "Karaganda Region", "ru": "Карагандинская область", "kk": "Қарағанды облысы"},
    "KZ-39": {"en": "Kostanay Region", "ru": "Костанайская область", "kk": "Қостанай облысы"},
    "KZ-43": {"en": "Kyzylorda Region", "ru": "Кызылординская область", "kk": "Қызылорда облысы"},
    "KZ-47": {"en": "Mangystau Region", "ru": "Мангистауская область", "kk": "Маңғыстау облысы"},
    "KZ-55": {"en": "Pavlodar Region", "ru": "Павлодарская область", "kk": "Павлодар облысы"},
    "KZ-59": {
        "en": "North Kazakhstan Region",
        "ru": "Северо-Казахстанская область",
        "kk": "Солтүстік Қазақстан облысы",
    },
    "KZ-61": {"en": "Turkistan Region", "ru": "Туркестанская область", "kk": "Түркістан облысы"},
    "KZ-62": {"en": "Ulytau Region", "ru": "область Ұлытау", "kk": "Ұлытау облысы"},
    "KZ-63": {
        "en": "East Kazakhstan Region",
        "ru": "Восточно-Казахстанская область",
        "kk": "Шығыс Қазақстан облысы",
    },
    "KZ-71": {"en": "Astana", "ru": "Астана", "kk": "Астана"},
    "KZ-75": {"en": "Almaty", "ru": "Алматы", "kk": "Алматы"},
    "KZ-79": {"en": "Shymkent", "ru": "Шымкент", "kk": "Шымкент"},
}

_MONTHS: dict[Language, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "ru": (
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ),
    "kk": (
        "қаңтар",
        "ақпан",
        "наурыз",
        "сәуір",
        "мамыр",
        "маусым",
        "шілде",
        "тамыз",
        "қыркүйек",
        "қазан",
        "қараша",
        "желтоқсан",
    ),
}

_BUILTIN_INPUTS = {
    "position.return_to": "input_return_to",
    "age_years": "input_age",
    "age_months": "input_age",
    "birth_date": "input_age",
    "icd10": "input_diagnosis",
    "icdo3_morphology": "input_diagnosis",
    "icdo3_topography": "input_diagnosis",
    "sex": "input_sex",
}


# -- the guide as data -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    """A heading with paragraphs, then a bulleted list, then closing paragraphs."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    kind: str = "plain"  # plain | notice | next
    closing: tuple[str, ...] = ()  # paragraphs after the list


@dataclass(frozen=True, slots=True)
class FamilyGuide:
    """The page's content in one language; render it with :func:`guide_text` or
    :func:`guide_html`."""

    language: Language
    title: str
    subtitle: str
    sections: tuple[Section, ...]


def input_titles(bundle: Bundle) -> dict[str, LocalizedText]:
    """Each vocabulary input's short title: the first sentence of its description."""
    return {
        name: _first_sentences(spec.description)
        for name, spec in bundle.compiled.schema.inputs.items()
        if spec.description is not None
    }


#: A sentence ends at ". " before a capital letter (Latin or Cyrillic, Kazakh letters
#: included), so "e.g. lung" or "(e.g. 2.0 = ...)" does not end one.
_SENTENCE_END = re.compile(r"\.\s+(?=[A-ZА-ЯЁӘҒҚҢӨҰҮҺІ])")


def _first_sentences(text: LocalizedText) -> LocalizedText:
    def first(value: str | None) -> str | None:
        return _SENTENCE_END.split(value)[0].rstrip(".") if value else value

    return LocalizedText(en=first(text.en) or text.en, ru=first(text.ru), kk=first(text.kk))


def build_family_guide(
    bundle: Bundle,
    patient: PatientState | Mapping[str, Any],
    lang: Language = "en",
) -> FamilyGuide:
    """Route the child and write the page's content in ``lang``.

    Raises :class:`~pedonc_routing.errors.PatientDataError` (without the patient id) when
    the state is invalid, as :meth:`Bundle.route` does.
    """
    state = read_patient(bundle.compiled.schema, patient, bundle.compiled.steps_by_protocol).state
    decision = bundle.route(state, lang=lang)
    return _Writer(bundle, state, decision, lang).guide()


class _Writer:
    def __init__(
        self,
        bundle: Bundle,
        state: PatientState,
        decision: Decision,
        lang: Language,
    ) -> None:
        self.bundle = bundle
        self.state = state
        self.decision = decision
        self.lang = lang

    def ui(self, key: str, **fields: object) -> str:
        return UI[key][self.lang].format(**fields)

    def step(self, protocol_id: str, step_id: str) -> Step | None:
        protocol = self.bundle.compiled.protocols.get(protocol_id)
        if protocol is None or step_id not in protocol.graph.steps:
            return None
        return protocol.graph.steps[step_id].model

    def guide(self) -> FamilyGuide:
        sections = [Section(self.ui("notice_heading"), (self.ui("notice"),), kind="notice")]
        sections.append(self.now())
        sections.extend(self.next_steps())
        if self.decision.follow_ups:
            sections.append(self.follow_ups())
        support = self.support()
        if support is not None:
            sections.append(support)
        return FamilyGuide(
            language=self.lang,
            title=self.ui("title"),
            subtitle=self.ui("prepared", date=self.date(self.state.as_of, with_time=False)),
            sections=tuple(sections),
        )

    # -- sections --------------------------------------------------------------------------

    def now(self) -> Section:
        heading = self.ui("now_heading")
        position = self.state.position
        step = self.step(position.protocol, position.step) if position is not None else None
        if step is None:
            return Section(heading, (self.ui("not_on_pathway"),))
        return Section(heading, (step.title.get(self.lang), step.family_info.get(self.lang)))

    def next_steps(self) -> list[Section]:
        decision = self.decision
        if decision.status == "not_applicable":
            return [Section(self.ui("next_heading"), (self.ui("not_applicable"),))]
        if decision.status == "completed":
            return [Section(self.ui("next_heading"), (self.ui("completed"),))]
        if decision.status == "needs_data":
            return [
                Section(
                    self.ui("needs_heading"),
                    (self.ui("needs"),),
                    tuple(self.input_title(name) for name in decision.missing),
                ),
                Section(self.ui("next_heading"), (self.ui("needs_after"),)),
            ]
        if decision.status == "no_route":
            sections = [Section(self.ui("next_heading"), (self.ui("no_route"),))]
            contact = self.current_specialist()
            if contact:
                sections.append(
                    Section(self.ui("contact_heading"), (self.ui("contact", title=contact),))
                )
            return sections
        return self.routed()

    def routed(self) -> list[Section]:
        decision = self.decision
        assert decision.step is not None
        assert decision.protocol is not None
        step = self.step(decision.protocol.id, decision.step.id)
        texts = [decision.step.title]
        if decision.urgency:
            texts.append(self.ui(f"urgency_{decision.urgency}"))
        if step is not None:
            texts.append(step.family_info.get(self.lang))
        sections = [Section(self.ui("next_heading"), tuple(texts), kind="next")]
        if decision.facility is not None:
            sections.append(Section(self.ui("where_heading"), self.where()))
        sections.append(Section(self.ui("when_heading"), (self.when(),)))
        if decision.specialist is not None:
            sections.append(
                Section(
                    self.ui("contact_heading"),
                    (self.ui("contact", title=decision.specialist.title),),
                )
            )
        return sections

    def where(self) -> tuple[str, ...]:
        facility = self.decision.facility
        assert facility is not None
        if facility.id == ATTACHED_PRIMARY_CARE:
            return (self.ui("polyclinic"),)
        place = f"{self.region(facility.region)}, {self.ui(f'level_{facility.level}')}"
        lines = [facility.name, place]
        if facility.travel_hours:
            lines.append(self.ui("travel", hours=f"{facility.travel_hours:g}"))
        return tuple(lines)

    def when(self) -> str:
        step = self.decision.step
        assert step is not None
        if step.due_at is None or step.due_within_hours is None:
            return self.ui("no_time")
        due = datetime.fromisoformat(step.due_at)  # in the time zone of the state's as_of
        return self.ui(
            "due_by",
            when=self.date(due, with_time=True),
            zone=_zone(due),
            within=self.within_hours(step.due_within_hours),
        )

    def follow_ups(self) -> Section:
        items = []
        for item in self.decision.follow_ups:
            parts = [item.title]
            if item.interval_months:
                parts.append(self.every_months(item.interval_months))
            if item.for_years:
                parts.append(self.for_years(item.for_years))
            if item.due_within_hours:
                parts.append(self.within_hours(item.due_within_hours))
            items.append(f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0])
        return Section(self.ui("followups_heading"), (), tuple(items))

    def support(self) -> Section | None:
        texts: list[str] = []
        for protocol_id, step_id in SUPPORT_STEPS:
            step = self.step(protocol_id, step_id)
            if step is not None:
                texts.extend((step.title.get(self.lang), step.family_info.get(self.lang)))
        places = [self.facility_line(f) for f in self.support_facilities()]
        if not texts and not places:
            return None
        if places:
            texts.append(self.ui("support_near"))
        return Section(
            self.ui("support_heading"),
            tuple(texts),
            tuple(places),
            kind="support",
            closing=(self.ui("support_ask"),),
        )

    # -- pieces ----------------------------------------------------------------------------

    def support_facilities(self) -> list[Facility]:
        """Support services in the home region, then the nearest rehabilitation centres when
        the home region has none."""
        network = self.bundle.compiled.network
        home = self.state.home_region
        offering = [
            f
            for f in network.facilities.values()
            if any(capability in f.capabilities for capability in SUPPORT_CAPABILITIES)
        ]
        chosen = [f for f in offering if f.region == home]
        if not any("rehabilitation" in f.capabilities for f in chosen):
            origin = network.origin_of(home, self.state.current_facility)
            centres = [f for f in offering if "rehabilitation" in f.capabilities]
            if origin is not None:
                centres.sort(key=lambda f: (network.travel_hours(origin, f), f.id))
            chosen.extend(centres[:NEAREST_REHABILITATION])
        return chosen

    def facility_line(self, facility: Facility) -> str:
        care = self.bundle.compiled.care
        services = [
            care.capabilities[c].get(self.lang) if care and c in care.capabilities else c
            for c in SUPPORT_CAPABILITIES
            if c in facility.capabilities
        ]
        name = facility.name.get(self.lang)
        return f"{name} ({self.region(facility.region)}): {', '.join(services)}"

    def current_specialist(self) -> str | None:
        position = self.state.position
        step = self.step(position.protocol, position.step) if position is not None else None
        care = self.bundle.compiled.care
        if step is None or care is None or step.care.specialist not in care.specialists:
            return None
        return care.specialists[step.care.specialist].get(self.lang)

    def input_title(self, name: str) -> str:
        spec = self.bundle.compiled.schema.inputs.get(name)
        if spec is not None and spec.description is not None:
            return _first_sentences(spec.description).get(self.lang)
        return self.ui(_BUILTIN_INPUTS.get(name, "input_other"))

    def region(self, code: str) -> str:
        names = REGION_NAMES.get(code)
        return names[self.lang] if names else code

    def date(self, moment: datetime, *, with_time: bool) -> str:
        month = _MONTHS[self.lang][moment.month - 1]
        if self.lang == "kk":
            text = f"{moment.year} жылғы {moment.day} {month}"
        elif self.lang == "ru":
            text = f"{moment.day} {month} {moment.year} г."
        else:
            text = f"{moment.day} {month} {moment.year}"
        return f"{text}, {moment:%H:%M}" if with_time else text

    def within_hours(self, hours: float) -> str:
        number = f"{hours:g}"
        if self.lang == "kk":
            return f"{number} сағат ішінде"
        if self.lang == "ru":
            return f"в течение {number} {_ru_genitive(hours, 'часа', 'часов')}"
        return f"within {number} hour{'' if hours == 1 else 's'}"

    def every_months(self, months: int) -> str:
        if self.lang == "kk":
            return f"{months} ай сайын"
        if self.lang == "ru":
            return f"раз в {months} {_ru_count(months, 'месяц', 'месяца', 'месяцев')}"
        return "every month" if months == 1 else f"every {months} months"

    def for_years(self, years: float) -> str:
        number = f"{years:g}"
        if self.lang == "kk":
            return f"{number} жыл бойы"
        if self.lang == "ru":
            return f"в течение {number} {_ru_genitive(years, 'года', 'лет')}"
        return f"for {number} year{'' if years == 1 else 's'}"


def _ru_genitive(number: float, singular: str, plural: str) -> str:
    """Genitive after «в течение»: 1, 21, 31... and fractions take the singular."""
    if not float(number).is_integer():
        return singular
    whole = int(number)
    return singular if whole % 10 == 1 and whole % 100 != 11 else plural


def _ru_count(number: int, one: str, few: str, many: str) -> str:
    """Accusative after a numeral: 1 месяц, 2-4 месяца, 5-20 месяцев, 21 месяц..."""
    if number % 10 == 1 and number % 100 != 11:
        return one
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return few
    return many


def _zone(moment: datetime) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- rendering -------------------------------------------------------------------------------


def guide_text(guide: FamilyGuide, width: int = 78) -> str:
    """Plain text for a terminal or a message: headings underlined, lists with dashes."""
    lines = [guide.title, "=" * len(guide.title), guide.subtitle]
    for section in guide.sections:
        lines.extend(("", section.heading, "-" * len(section.heading)))
        for paragraph in section.paragraphs:
            lines.extend(textwrap.wrap(paragraph, width, break_long_words=False) or [""])
        for item in section.items:
            lines.extend(
                textwrap.wrap(
                    item,
                    width,
                    initial_indent="- ",
                    subsequent_indent="  ",
                    break_long_words=False,
                )
            )
        for paragraph in section.closing:
            lines.extend(textwrap.wrap(paragraph, width, break_long_words=False) or [""])
    return "\n".join(lines) + "\n"


_CSS = """
@page { size: A4; margin: 15mm; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Noto Sans", Verdana, Arial, sans-serif; font-size: 12pt;
       line-height: 1.45; color: #111; background: #fff; }
body { margin: 0 auto; max-width: 180mm; padding: 6mm; overflow-wrap: anywhere;
       hyphens: auto; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 13.5pt; margin: 6mm 0 2mm; padding-bottom: 1mm; border-bottom: 1px solid #999;
     break-after: avoid; }
p, li { margin: 0 0 2mm; }
ul { padding-left: 6mm; margin: 0; }
section { break-inside: avoid; }
.subtitle { color: #444; margin-bottom: 4mm; }
.notice { border: 2px solid #b35c00; background: #fff4e6; padding: 2mm 4mm; }
.notice h2 { border: 0; margin-top: 1mm; }
.next p:first-of-type { font-size: 14pt; font-weight: bold; }
.support p:nth-of-type(odd) { font-weight: bold; margin-bottom: 1mm; }
@media print { body { padding: 0; max-width: none; } }
""".strip()


def guide_html(guide: FamilyGuide) -> str:
    """A self-contained printable HTML page (inline CSS, A4, no scripts or external files)."""
    body = [f"<h1>{escape(guide.title)}</h1>", f'<p class="subtitle">{escape(guide.subtitle)}</p>']
    for section in guide.sections:
        body.append(f'<section class="{escape(section.kind)}">')
        body.append(f"<h2>{escape(section.heading)}</h2>")
        body.extend(f"<p>{escape(paragraph)}</p>" for paragraph in section.paragraphs)
        if section.items:
            body.append("<ul>")
            body.extend(f"<li>{escape(item)}</li>" for item in section.items)
            body.append("</ul>")
        body.extend(f"<p>{escape(paragraph)}</p>" for paragraph in section.closing)
        body.append("</section>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{guide.language}">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(guide.title)}</title>",
            f"<style>\n{_CSS}\n</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )
