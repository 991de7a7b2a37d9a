"""The vocabulary of the FHIR mapping: system URIs, and which standard code means which input.

One table per resource kind, so a reader sees every code in one place and docs/fhir.md can
cite its sources. Inputs without a standard code use the project code system
(:data:`INPUT_SYSTEM`) with the input's own name as the code, so nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = "https://pedonc-routing.kz/fhir"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"

#: Project code systems and identifier systems.
INPUT_SYSTEM = f"{BASE}/CodeSystem/input"  # code = the vocabulary input name
INPUT_VALUE_SYSTEM = f"{BASE}/CodeSystem/input-value"  # code = an enum input's value
STEP_SYSTEM = f"{BASE}/CodeSystem/pathway-step"  # code = "PROTOCOL.STEP"
FOLLOW_UP_SYSTEM = f"{BASE}/CodeSystem/follow-up"  # code = "PROTOCOL.STEP.FOLLOW_UP"
RULE_SYSTEM = f"{BASE}/CodeSystem/rule"  # code = the explanation's rule id
SPECIALIST_SYSTEM = f"{BASE}/CodeSystem/specialist"
TASK_SYSTEM = f"{BASE}/CodeSystem/task"  # code = "collect-data"
DECISION_STATUS_SYSTEM = f"{BASE}/CodeSystem/decision-status"
BUNDLE_HASH_SYSTEM = f"{BASE}/CodeSystem/bundle-hash"
FACILITY_ID_SYSTEM = f"{BASE}/sid/facility"
PATIENT_ID_SYSTEM = f"{BASE}/sid/patient"
PLAN_DEFINITION_BASE = f"{BASE}/PlanDefinition"
CONDITION_LANGUAGE = "text/x-pedonc-condition"
#: Expression extension carrying the guard in our condition language beside its FHIRPath.
CONDITION_EXTENSION = f"{BASE}/StructureDefinition/condition-language"

#: Extensions (defined by this project; documented in docs/fhir.md).
POSITION_EXTENSION = f"{BASE}/StructureDefinition/pathway-position"
DOSE_EXTENSION = f"{BASE}/StructureDefinition/radiation-dose-delivered"


@dataclass(frozen=True, slots=True)
class Coded:
    """A standard code that stands for one input."""

    system: str
    code: str
    display: str
    input: str


#: Observation.code (or Observation.component.code) -> input; numbers keep their vocabulary
#: unit (units.py converts). The first code of each input is the one written on export.
#: Several LOINC codes measure the same quantity (automated, manual or method-less counts;
#: body temperature and oral temperature): EHRs send any of them. Sources, docs/fhir.md.
LOINC_OBSERVATIONS: tuple[Coded, ...] = (
    Coded(LOINC, "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "wbc_10e9_l"),
    Coded(LOINC, "26464-8", "Leukocytes [#/volume] in Blood", "wbc_10e9_l"),
    Coded(LOINC, "751-8", "Neutrophils [#/volume] in Blood by Automated count", "anc_10e9_l"),
    Coded(LOINC, "753-4", "Neutrophils [#/volume] in Blood by Manual count", "anc_10e9_l"),
    Coded(LOINC, "26499-4", "Neutrophils [#/volume] in Blood", "anc_10e9_l"),
    Coded(LOINC, "8310-5", "Body temperature", "temperature_c"),
    Coded(LOINC, "8331-1", "Oral temperature", "temperature_c"),
)

#: Observation.category of vital signs (FHIR R4 vital-signs profile requires it).
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: mCODE: the morphology of a cancer Condition (ICD-O-3 morphology, or SNOMED CT).
MCODE_MORPHOLOGY_EXTENSION = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)

#: Observation.code for the child's age when the birth date is not known.
AGE_CODE = Coded(LOINC, "30525-0", "Age", "age")

#: MedicationAdministration.medicationCodeableConcept -> cumulative exposure input.
#: Sources: WHO ATC/DDD index (L01DB anthracyclines, L01XA01), RxNorm ingredient codes.
DRUGS: tuple[Coded, ...] = (
    Coded(ATC, "L01DB01", "doxorubicin", "doxorubicin_mg_m2"),
    Coded(ATC, "L01DB02", "daunorubicin", "daunorubicin_mg_m2"),
    Coded(ATC, "L01DB03", "epirubicin", "epirubicin_mg_m2"),
    Coded(ATC, "L01DB06", "idarubicin", "idarubicin_mg_m2"),
    Coded(ATC, "L01DB07", "mitoxantrone", "mitoxantrone_mg_m2"),
    Coded(ATC, "L01XA01", "cisplatin", "cisplatin_mg_m2"),
    Coded(RXNORM, "3639", "doxorubicin", "doxorubicin_mg_m2"),
    Coded(RXNORM, "3995", "epirubicin", "epirubicin_mg_m2"),
    Coded(RXNORM, "2555", "cisplatin", "cisplatin_mg_m2"),
)

#: Procedure.bodySite of a radiotherapy Procedure -> radiation dose input.
#: Source: SNOMED CT body structures (80891009 heart, 12738006 brain, 69748006 thyroid,
#: 76752008 breast).
RADIATION_SITES: tuple[Coded, ...] = (
    Coded(SNOMED, "80891009", "Heart structure", "heart_rt_gy"),
    Coded(SNOMED, "12738006", "Brain structure", "cranial_rt_gy"),
    Coded(SNOMED, "69748006", "Thyroid structure", "neck_rt_gy"),
    Coded(SNOMED, "76752008", "Breast structure", "chest_rt_gy"),
)

#: SNOMED CT 108290001 "Radiation oncology AND/OR radiotherapy": Procedure.code on export.
RADIOTHERAPY = Coded(SNOMED, "108290001", "Radiation oncology AND/OR radiotherapy", "")

#: The canonical UCUM unit of every number input of the shipped vocabulary (its ``unit``).
#: Inputs missing here take a unitless value (booleans, enums, integers without unit).
INPUT_UNITS: dict[str, str] = {
    "wbc_10e9_l": "10*9/L",
    "anc_10e9_l": "10*9/L",
    "temperature_c": "Cel",
    "mrd_end_induction_percent": "%",
    "bone_marrow_blasts_percent": "%",
    "cop_tumour_reduction_percent": "%",
    "ldh_uln_ratio": "1",
    "aml_mrd_end_induction1_percent": "%",
    "cml_bcr_abl1_is_percent": "%",
    "mds_marrow_blasts_percent": "%",
    "mds_blood_blasts_percent": "%",
    "doxorubicin_mg_m2": "mg/m2",
    "daunorubicin_mg_m2": "mg/m2",
    "epirubicin_mg_m2": "mg/m2",
    "idarubicin_mg_m2": "mg/m2",
    "mitoxantrone_mg_m2": "mg/m2",
    "cisplatin_mg_m2": "mg/m2",
    "cyclophosphamide_equivalent_dose_mg_m2": "mg/m2",
    "heart_rt_gy": "Gy",
    "cranial_rt_gy": "Gy",
    "neck_rt_gy": "Gy",
    "chest_rt_gy": "Gy",
    "years_since_chest_rt": "a",
    "lbl_day33_tumour_regression_percent": "%",
    "alcl_months_diagnosis_to_relapse": "mo",
    "gonadal_rt_gy": "Gy",
    "tbi_gy": "Gy",
    "upper_abdominal_rt_gy": "Gy",
    "years_since_upper_abdominal_rt": "a",
    "carboplatin_mg_m2": "mg/m2",
    "mibg_131i_mbq_kg": "MBq/kg",
    "mb_residual_tumour_cm2": "cm2",
    "cnsgct_afp_ng_ml": "ng/mL",
    "cnsgct_bhcg_iu_l": "[IU]/L",
    # extracranial solid tumours (protocols/vocabulary_solid.yaml)
    "bone_sarcoma_viable_tumour_percent": "%",
    "hb_afp_ng_ml": "ng/mL",
    "es_tumour_volume_ml": "mL",
    "rms_tumour_size_cm": "cm",
    "gct_afp_ng_ml": "ng/mL",
    "gct_bhcg_iu_l": "[IU]/L",
    "acc_tumour_weight_g": "g",
    "acc_tumour_volume_ml": "mL",
    "mel_breslow_mm": "mm",
    "mel_mitotic_rate_per_mm2": "/mm2",
    # Oncologic emergencies (protocols/vocabulary_emergencies.yaml).
    "uric_acid_umol_l": "umol/L",
    "potassium_mmol_l": "mmol/L",
    "phosphate_mmol_l": "mmol/L",
    "calcium_mmol_l": "mmol/L",
    "creatinine_umol_l": "umol/L",
    "creatinine_x_uln": "1",
    "ldh_u_l": "U/L",
    "platelets_10e9_l": "10*9/L",
    "fibrinogen_g_l": "g/L",
}

#: Inputs of group ``exposures`` (the others are ``observations``).
EXPOSURE_INPUTS = frozenset(
    {
        *(coded.input for coded in DRUGS),
        *(coded.input for coded in RADIATION_SITES),
        "cyclophosphamide_equivalent_dose_mg_m2",
        "years_since_chest_rt",
        "gonadal_rt_gy",
        "tbi_gy",
        "upper_abdominal_rt_gy",
        "years_since_upper_abdominal_rt",
        "carboplatin_mg_m2",
        "mibg_131i_mbq_kg",
    }
)

#: The vocabulary's unit text -> its UCUM code (checked against the vocabulary by the tests).
VOCABULARY_UNIT_TO_UCUM: dict[str, str] = {
    "10^9/L": "10*9/L",
    "°C": "Cel",
    "%": "%",
    "x ULN": "1",
    "mg/m2": "mg/m2",
    "Gy": "Gy",
    "years": "a",
    "months": "mo",
    "MBq/kg": "MBq/kg",
    "cm2": "cm2",
    "ng/mL": "ng/mL",
    "IU/L": "[IU]/L",
    "mL": "mL",
    "cm": "cm",
    "g": "g",
    "mm": "mm",
    "/mm2": "/mm2",
    "umol/L": "umol/L",
    "mmol/L": "mmol/L",
    "U/L": "U/L",
    "g/L": "g/L",
}

#: Gender (Patient.gender) <-> sex; other/unknown map to "not known".
GENDER_TO_SEX: dict[str, str] = {"female": "F", "male": "M"}
SEX_TO_GENDER: dict[str, str] = {sex: gender for gender, sex in GENDER_TO_SEX.items()}


def by_code(table: tuple[Coded, ...]) -> dict[tuple[str, str], Coded]:
    """``(system, code) -> Coded`` for fast lookup."""
    return {(coded.system, coded.code): coded for coded in table}


def standard_code_of(input_name: str) -> Coded | None:
    """The LOINC code of an observation input, or None (project code)."""
    for coded in LOINC_OBSERVATIONS:
        if coded.input == input_name:
            return coded
    return None


def fhir_id(name: str) -> str:
    """A step or protocol id as a FHIR ``id`` (no underscores allowed): ``_`` -> ``-``.

    Our ids never contain ``-``, so the mapping is reversible.
    """
    return name.replace("_", "-")


def plan_definition_url(protocol_id: str) -> str:
    """The canonical URL; it ends with the PlanDefinition's ``id``, as FHIR expects."""
    return f"{PLAN_DEFINITION_BASE}/{fhir_id(protocol_id)}"
