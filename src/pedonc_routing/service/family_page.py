"""The family-guide entry page (``GET /family``): what the page is, in kk, ru and en."""

from __future__ import annotations

from html import escape

from pedonc_routing.model.documents import Language

_TEXT: dict[str, tuple[str, str, str]] = {
    "en": (
        "Guide for the family",
        "This page shows a child's next care step in plain words. Open it from the link "
        "in your doctor's system, or have the system send the child's data to this address "
        "(POST, JSON patient state or FHIR Bundle).",
        "This link has expired or is damaged. Ask the doctor to open it again.",
    ),
    "ru": (
        "Памятка для семьи",
        "Эта страница простыми словами описывает следующий этап лечения ребёнка. Откройте "
        "её по ссылке из системы врача или отправьте данные ребёнка на этот адрес "
        "(POST, состояние пациента в JSON или FHIR Bundle).",
        "Срок действия ссылки истёк или она повреждена. Попросите врача открыть её снова.",
    ),
    "kk": (
        "Отбасыға жадынама",
        "Бұл бет баланың емдеудегі келесі кезеңін қарапайым сөзбен түсіндіреді. Оны "
        "дәрігер жүйесіндегі сілтеме арқылы ашыңыз немесе баланың деректерін осы мекенжайға "
        "жіберіңіз (POST, JSON күйі немесе FHIR Bundle).",
        "Сілтеменің мерзімі өтті немесе ол бүлінген. Дәрігерден оны қайта ашуды сұраңыз.",
    ),
}


def form_page(lang: Language, *, expired: bool = False) -> str:
    title, about, gone = _TEXT[lang]
    message = gone if expired else about
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n"
        f"<p>{escape(message)}</p>\n<p>"
        + " | ".join(f'<a href="?lang={code}">{code}</a>' for code in _TEXT)
        + "</p>\n</body>\n</html>\n"
    )
