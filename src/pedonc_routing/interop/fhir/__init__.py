"""FHIR R4 in and out (``fhir.resources``, R4B models).

    FHIR Bundle --patient_in--> PatientState --Bundle.route--> Decision
    PatientState --patient_out--> FHIR Bundle         (examples, round trips)
    Decision --decision_out--> Bundle: CarePlan + ServiceRequest + Task
    Decision --proposal_out--> CarePlan proposal + RequestGroup (what $apply returns)
    Protocol --plan_definition--> PlanDefinition

The mapping tables (codes, units, extensions) are in ``codes.py``; docs/fhir.md explains
each element. Needs the ``fhir`` extra (``pip install pedonc-routing[fhir]``).
"""

from pedonc_routing.interop.fhir.decision_out import decision_to_fhir
from pedonc_routing.interop.fhir.patient_in import (
    FhirPatient,
    patient_from_fhir,
    read_fhir_patient,
)
from pedonc_routing.interop.fhir.patient_out import patient_to_fhir
from pedonc_routing.interop.fhir.plan_definition import plan_definition
from pedonc_routing.interop.fhir.proposal_out import decision_to_proposal

__all__ = [
    "FhirPatient",
    "decision_to_fhir",
    "decision_to_proposal",
    "patient_from_fhir",
    "patient_to_fhir",
    "plan_definition",
    "read_fhir_patient",
]
