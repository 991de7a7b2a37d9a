"""Regenerate examples/fhir/: every examples/patients/NN_*.yaml through patient_to_fhir, plus
two hand-edited bundles with non-default units. Run: .venv/bin/python examples/fhir/make_examples.py
"""
import copy, glob, json, yaml, pathlib
from pedonc_routing.interop.fhir import patient_to_fhir
from pedonc_routing.interop.fhir import codes
out = pathlib.Path('examples/fhir')
def dump(name, data):
    (out / name).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
for f in sorted(glob.glob('examples/patients/[0-9]*.yaml')):
    p = yaml.safe_load(open(f))
    dump(pathlib.Path(f).stem + '.json', patient_to_fhir(p))

# Hand-edited 1: febrile neutropenia, temperature in [degF], ANC in cells/uL, daunorubicin in two
# administrations, an older temperature, an unrelated heart rate and a result after as_of.
p = yaml.safe_load(open('examples/patients/febrile_neutropenia/01_fires_from_all_consolidation.yaml'))
b = patient_to_fhir(p)
subject = b['entry'][0]['fullUrl']
def find(code):
    for e in b['entry']:
        r = e['resource']
        for c in (r.get('code') or r.get('medicationCodeableConcept') or {}).get('coding', []):
            if c['code'] == code: return e
temp = find('8310-5')['resource']
temp['valueQuantity'] = {"value": 101.3, "unit": "°F", "system": codes.UCUM, "code": "[degF]"}
anc = find('751-8')['resource']
anc['valueQuantity'] = {"value": 300, "unit": "cells/uL", "system": codes.UCUM, "code": "/uL"}
dauno = find('L01DB02')
dauno['resource']['dosage'] = {"dose": {"value": 30, "unit": "mg/m2", "system": codes.UCUM, "code": "mg/m2"}}
dauno['resource']['effectiveDateTime'] = "2026-10-20T10:00:00+05:00"
second = copy.deepcopy(dauno)
second['fullUrl'] = "urn:uuid:5f0c0d52-93a4-4a51-9d0e-7c1a0e2b2a01"
second['resource']['effectiveDateTime'] = "2026-10-27T10:00:00+05:00"
older = copy.deepcopy(find('8310-5'))
older['fullUrl'] = "urn:uuid:5f0c0d52-93a4-4a51-9d0e-7c1a0e2b2a02"
older['resource']['effectiveDateTime'] = "2026-11-21T20:00:00+05:00"
older['resource']['valueQuantity'] = {"value": 36.6, "unit": "°C", "system": codes.UCUM, "code": "Cel"}
heart_rate = {"fullUrl": "urn:uuid:5f0c0d52-93a4-4a51-9d0e-7c1a0e2b2a03", "resource": {
    "resourceType": "Observation", "status": "final",
    "code": {"coding": [{"system": codes.LOINC, "code": "8867-4", "display": "Heart rate"}]},
    "subject": {"reference": subject}, "effectiveDateTime": "2026-11-22T08:50:00+05:00",
    "valueQuantity": {"value": 128, "unit": "/min", "system": codes.UCUM, "code": "/min"}}}
later = copy.deepcopy(find('8310-5'))
later['fullUrl'] = "urn:uuid:5f0c0d52-93a4-4a51-9d0e-7c1a0e2b2a04"
later['resource']['effectiveDateTime'] = "2026-11-22T12:00:00+05:00"
later['resource']['valueQuantity'] = {"value": 37.0, "unit": "°C", "system": codes.UCUM, "code": "Cel"}
b['entry'] += [second, older, heart_rate, later]
dump('hand_febrile_neutropenia_degF_cells_per_uL.json', b)

# Hand-edited 2: survivor, heart radiation in cGy (2 courses), doxorubicin as a cumulative
# Observation from the referring hospital plus a later administration in g/m2.
p = yaml.safe_load(open('examples/patients/survivorship/09_heart_rt_15_moderate.yaml'))
b = patient_to_fhir(p)
rt = next(e for e in b['entry'] if e['resource']['resourceType'] == 'Procedure' and e['resource']['bodySite'][0]['coding'][0]['code'] == '80891009')
rt['resource']['extension'][0]['valueQuantity'] = {"value": 900, "unit": "cGy", "system": codes.UCUM, "code": "cGy"}
rt['resource']['performedDateTime'] = "2023-03-01T09:00:00+05:00"
rt2 = copy.deepcopy(rt)
rt2['fullUrl'] = "urn:uuid:5f0c0d52-93a4-4a51-9d0e-7c1a0e2b2a05"
rt2['resource']['extension'][0]['valueQuantity'] = {"value": 600, "unit": "cGy", "system": codes.UCUM, "code": "cGy"}
rt2['resource']['performedDateTime'] = "2023-04-01T09:00:00+05:00"
b['entry'].append(rt2)
dump('hand_survivor_heart_rt_cgy.json', b)
print(sorted(x.name for x in out.iterdir()))
