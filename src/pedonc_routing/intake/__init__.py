"""Patient intake: reading a child's state into the facts the guards read (route time)."""

from pedonc_routing.intake.patient import PatientFacts, read_patient, shape_problems

__all__ = ["PatientFacts", "read_patient", "shape_problems"]
