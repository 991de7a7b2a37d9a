"""Render docs/checks.md from the docstrings of the modules that implement the checks.

Each check's reference (severity, meaning, a FAIL example with the validator's real output,
and the fix) lives in the docstring of the module that reports it, as a ``### CODE
severity: title`` section. ``python -m pedonc_routing.validation.checks_doc > docs/checks.md``
regenerates the page; a test keeps the committed page equal to the rendering.
"""

from __future__ import annotations

import re
from types import ModuleType

from pedonc_routing.loader import documents, yaml_reader
from pedonc_routing.validation.checks import CHECKS

#: The modules whose docstrings document codes: the loader's (codes reported while reading
#: and modelling each file), then the registry's checks in the order they run.
MODULES: tuple[ModuleType, ...] = (yaml_reader, documents, *CHECKS)

FAMILIES: dict[str, tuple[str, str]] = {
    "Y": (
        "safe YAML reading",
        "Each file is read with a safe loader. A `Y` issue means the file is not used any further.",
    ),
    "S": ("document shape", ""),
    "R": ("references", "Most `R` messages add `did you mean '...'?` when a close name exists."),
    "T": ("types", ""),
    "G": (
        "graph and guard analysis",
        "Graph checks read the pathway graph; the guard analysis (G004-G009) reasons over every\npatient symbolically, boundary-exact, and gives a counterexample patient where there is one.",
    ),
    "C": ("clinical hygiene", ""),
    "A": ("clinical governance", "See [governance.md](governance.md)."),
    "F": ("facilities", ""),
    "E": ("engine limits", ""),
}

INTRO = r"""# Validation checks

`pr.validate()` and `pedonc-routing validate` report problems as issues:

```
FILE:LINE:COL: CODE severity: message
```

- An **error** fails validation: `load_bundle` raises `ValidationFailed` and the CLI exits `1`.
- A **warning** does not, unless you pass `--strict` to the CLI.
- Validation never raises on bad content. It reports every issue it can find.

Codes are stable. The first letter gives the family:

| family | stage | codes |
|---|---|---|
| `Y` | safe YAML reading | Y001-Y008 |
| `S` | document shape | S001-S003 |
| `R` | references between files | R001-R009 |
| `T` | types of inputs and constants | T001-T006 |
| `G` | pathway graph and guard analysis | G001-G010 |
| `C` | clinical hygiene (sources, languages, review) | C001-C003 |
| `A` | clinical governance (approvals bound to content) | A001-A002 |
| `F` | facilities | F001-F003 |
| `E` | engine limits | E001 |

{order}
## The test bundle

Every example below starts from this small valid bundle, changes one thing, and shows the
real output of `pedonc-routing validate` on it. File names are printed as `FOLDER/FILE`; the
folder part is left out here.

`vocabulary.yaml`:

```yaml
kind: vocabulary
version: "1"
inputs:
  wbc_10e9_l:
    type: number
    group: observations
    unit: "10^9/L"
    range: [0, 2000]
    precision: 2
    description: {en: "White blood cell count"}
  immunophenotype:
    type: enum
    group: observations
    values: [B, T]
    description: {en: "ALL lineage"}
```

`care.yaml`:

```yaml
kind: care_catalogue
version: "1"
capabilities:
  flow_cytometry: {en: "Flow cytometry", ru: "Проточная цитометрия", kk: "Ағынды цитометрия"}
specialists:
  pediatric_oncohematologist: {en: "Paediatric oncohaematologist", ru: "Детский онкогематолог", kk: "Балалар онкогематологы"}
```

`registry.yaml`:

```yaml
kind: facility_registry
version: "1"
facilities:
  - id: kz75_centre
    name: {en: "Centre", ru: "Центр", kk: "Орталық"}
    region: KZ-75
    level: republican
    type: republican_centre
    capabilities: [flow_cytometry]
    specialists: [pediatric_oncohematologist]
    location: {lat: 43.238, lon: 76.946}
    cover_24h: true
    sources: ["illustrative"]
```

`demo.yaml`:

```yaml
kind: protocol
id: demo
version: "1"
status: draft
title: {en: "Demo", ru: "Демо", kk: "Демо"}
sources:
  - {id: src, citation: "Example citation, 2026."}
inputs: [wbc_10e9_l, immunophenotype]
applies_to: {input: icd10, icd10_in: ["C91.0"]}
entry: diagnosis
steps:
  diagnosis:
    kind: diagnostic
    title: {en: "Diagnosis", ru: "Диагностика", kk: "Диагностика"}
    family_info: {en: "...", ru: "...", kk: "..."}
    care: {specialist: pediatric_oncohematologist, capabilities: [flow_cytometry], min_level: regional, setting: inpatient}
    urgency: urgent
    timing: {due_within_hours: 72}
    next:
      - id: high_wbc
        to: done
        when: {input: wbc_10e9_l, gte: 50}
        because: "WBC >= 50"
        source: src
    otherwise: {to: done, because: "WBC < 50", source: src}
  done:
    kind: terminal
    title: {en: "Done", ru: "Готово", kk: "Дайын"}
    family_info: {en: "...", ru: "...", kk: "..."}
    care: {specialist: pediatric_oncohematologist, min_level: regional}
```

```console
$ pedonc-routing validate /tmp/mini
0 error(s), 0 warning(s)
```
"""

_SECTION = re.compile(r"^### ([A-Z]\d{3}) ", re.MULTILINE)


def module_sections(module: ModuleType) -> dict[str, str]:
    """The codes a module's docstring documents, each with its markdown section."""
    text = module.__doc__ or ""
    starts = [match.start() for match in _SECTION.finditer(text)]
    found: dict[str, str] = {}
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        section = text[begin:end].strip() + "\n"
        found[section[4:8]] = section
    return found


def sections() -> dict[str, str]:
    """Every documented code and its markdown section."""
    return {code: text for module in MODULES for code, text in module_sections(module).items()}


def owners(code: str) -> list[ModuleType]:
    """The modules that document ``code`` (exactly one, for a code the validator reports)."""
    return [module for module in MODULES if code in module_sections(module)]


def run_order() -> str:
    """The paragraph and table of the order the checks run in, and what each waits for."""
    rows = []
    for position, module in enumerate(CHECKS, start=1):
        codes = ", ".join(f"`{code}`" for code in module.CODES)
        also = getattr(module, "ALSO_REPORTS", ())
        if also:
            codes += f" (and {', '.join(f'`{code}`' for code in also)} in its documents)"
        name = module.__name__.rsplit(".", 1)[1]
        rows.append(f"| {position} | `{name}` | {codes} | {module.GATE.value} |")
    return (
        "A file that cannot be read (`Y`) or modelled (`S001`, `S002`) is left out of the\n"
        "later checks. The others run in this order, and some wait for the ones before them\n"
        "(a protocol's guards are analysed only once its names and types are right):\n\n"
        "| order | check (`validation/`) | codes | runs |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n"
    )


def render() -> str:
    """The whole checks page."""
    by_code = sections()
    parts = [INTRO.replace("{order}", run_order()).rstrip() + "\n"]
    for letter, (name, lead) in FAMILIES.items():
        parts.append(f"## {letter}: {name}\n")
        if lead:
            parts.append(lead.rstrip() + "\n")
        for code in sorted(c for c in by_code if c.startswith(letter)):
            parts.append(by_code[code])
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
