"""ICCC-3 classification (pedonc_routing.classification): one representative ICD-O-3
morphology + topography per subgroup, and the edge cases (behaviour digit, site-dependent
subgroups, missing topography)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pedonc_routing.classification import Iccc3Class, classify, subgroups
from pedonc_routing.classification.representatives import REPRESENTATIVES


def test_every_subgroup_has_a_representative() -> None:
    assert set(REPRESENTATIVES) == set(subgroups())
    assert len(subgroups()) == 48  # 47 subgroups + group V, which has none


@pytest.mark.parametrize("subgroup", sorted(REPRESENTATIVES))
def test_representative_classifies_to_its_subgroup(subgroup: str) -> None:
    _icd10, morphology, topography = REPRESENTATIVES[subgroup]
    found = classify(morphology, topography)
    assert found is not None
    assert found.subgroup == subgroup
    assert subgroup.startswith(found.main_group)
    assert found.name


def test_divisions_of_the_extended_classification() -> None:
    assert classify("9836/3", "C42.1") == Iccc3Class(
        main_group="I",
        main_group_name="Leukemias, myeloproliferative diseases, and myelodysplastic diseases",
        subgroup="Ia",
        subgroup_name="Lymphoid leukemias",
        division="Ia.1",
        division_name="Precursor cell leukemias",
    )
    assert _division("9826/3", "C42.1") == "Ia.2"  # Burkitt cell leukaemia: mature B
    assert _division("9831/3", "C42.1") == "Ia.3"
    assert _division("9820/3", "C42.1") == "Ia.4"
    assert _division("9727/3", "C77.1") == "IIb.1"
    assert _division("9680/3", "C77.2") == "IIb.2"  # DLBCL
    assert _division("9714/3", "C77.0") == "IIb.3"  # ALCL
    assert _division("9591/3", "C77.9") == "IIb.4"
    assert _division("9861/3", "C42.1") is None  # Ib has no divisions transcribed


def _division(morphology: str, topography: str) -> str | None:
    found = classify(morphology, topography)
    assert found is not None
    return found.division


@pytest.mark.parametrize(
    ("morphology", "topography", "expected"),
    [
        # Behaviour digit: only /3, and /0-/1 at intracranial/intraspinal sites.
        ("9530/0", "C70.0", "IIIe"),  # meningioma, benign, cerebral meninges
        ("9421/1", "C72.3", "IIIb"),  # optic pathway pilocytic astrocytoma, /1
        ("9530/0", "C41.0", None),  # benign meningioma code outside the CNS sites
        ("8960/1", "C64.9", None),  # non-malignant outside the CNS
        ("9836/2", "C42.1", None),  # in situ: not in ICCC-3
        ("9836/6", "C42.1", None),  # metastatic: not a primary
        ("9080/0", "C71.0", "Xa"),  # intracranial mature teratoma, /0: counted in Xa
        ("9080/0", "C56.9", None),  # ovarian mature teratoma: not counted
        ("9500/1", "C71.0", None),  # non-malignant but not a group III / Xa category
        # Retinoblastoma is morphology-defined; other eye tumours are not group V.
        ("9510/3", "C69.2", "V"),
        ("9510/3", None, "V"),
        ("8720/3", "C69.4", "XId"),  # uveal melanoma
        # Germ cell tumours: CNS vs extracranial extragonadal vs gonadal.
        ("9064/3", "C75.3", "Xa"),
        ("9064/3", "C38.1", "Xb"),  # mediastinal germinoma
        ("9064/3", "C62.9", "Xc"),
        ("9064/3", None, None),  # site unknown: undecidable
        # Embryonal CNS tumours vs peripheral neuroepithelioma by site.
        ("9501/3", "C71.6", "IIIc"),
        ("9501/3", "C69.4", "IVb"),
        ("9501/3", None, None),
        # 9380 glioma: astrocytoma at the optic nerve, other glioma elsewhere in the CNS.
        ("9380/3", "C72.3", "IIIb"),
        ("9380/3", "C71.0", "IIId"),
        # Bone vs soft tissue.
        ("9180/3", "C40.2", "VIIIa"),
        ("9180/3", "C49.1", "IXd"),  # extraskeletal osteosarcoma
        ("9260/3", "C49.2", "IXd"),  # extraosseous Ewing sarcoma
        ("8963/3", "C64.9", "VIa"),  # rhabdoid tumour of the kidney
        ("8963/3", "C49.2", "IXd"),  # extrarenal rhabdoid tumour
        # Carcinoma by site.
        ("8140/3", "C22.0", "VIIb"),
        ("8140/3", "C73.9", "XIb"),
        ("8140/3", "C18.0", "XIf"),
        # Outside the table.
        ("9999/3", "C80.9", None),
    ],
)
def test_edge_cases(morphology: str, topography: str | None, expected: str | None) -> None:
    found = classify(morphology, topography)
    assert (found.subgroup if found is not None else None) == expected


@pytest.mark.parametrize("bad", ["9836", "98363", "abc/3", ""])
def test_malformed_morphology_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="morphology"):
        classify(bad, "C42.1")


def test_malformed_topography_raises() -> None:
    with pytest.raises(ValueError, match="topography"):
        classify("9836/3", "42.1")


def test_topography_with_or_without_dot() -> None:
    assert classify("9510/3", "C692") == classify("9510/3", "C69.2")


def test_imports_nothing_else_from_pedonc_routing() -> None:
    package = Path(__file__).resolve().parents[2] / "src" / "pedonc_routing" / "classification"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("pedonc_routing"), (module, node.module)
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("pedonc_routing") for a in node.names)


def test_the_data_file_cites_its_source() -> None:
    text = (
        Path(__file__).resolve().parents[2]
        / "src"
        / "pedonc_routing"
        / "classification"
        / "iccc3.json"
    ).read_text(encoding="utf-8")
    assert "Steliarova-Foucher" in text
    assert "Cancer. 2005;103(7):1457-1467" in text
