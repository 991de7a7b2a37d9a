"""One representative diagnosis per ICCC-3 subgroup: (ICD-10, ICD-O-3 morphology, ICD-O-3
topography), a typical childhood tumour of each subgroup. Used by the tests that route every
subgroup and by the documentation page of which protocol routes each subgroup."""

from __future__ import annotations

#: subgroup -> (ICD-10, ICD-O-3 morphology, ICD-O-3 topography), one representative each.
REPRESENTATIVES: dict[str, tuple[str, str, str]] = {
    "Ia": ("C91.0", "9836/3", "C42.1"),  # B-cell precursor ALL
    "Ib": ("C92.0", "9861/3", "C42.1"),  # AML
    "Ic": ("C92.1", "9875/3", "C42.1"),  # CML, BCR-ABL1 positive
    "Id": ("C93.3", "9946/3", "C42.1"),  # JMML
    "Ie": ("C95.0", "9801/3", "C42.1"),  # acute leukaemia of ambiguous lineage
    "IIa": ("C81.1", "9663/3", "C77.1"),  # nodular sclerosis Hodgkin lymphoma
    "IIb": ("C83.5", "9729/3", "C38.3"),  # T-lymphoblastic lymphoma (mediastinum)
    "IIc": ("C83.7", "9687/3", "C18.0"),  # Burkitt lymphoma
    "IId": ("C96.0", "9754/3", "C42.1"),  # Langerhans cell histiocytosis, disseminated
    "IIe": ("C85.9", "9590/3", "C77.9"),  # malignant lymphoma, NOS
    "IIIa": ("C71.7", "9391/3", "C71.7"),  # ependymoma
    "IIIb": ("C71.6", "9421/3", "C71.6"),  # pilocytic astrocytoma (cerebellum)
    "IIIc": ("C71.6", "9470/3", "C71.6"),  # medulloblastoma
    "IIId": ("C71.1", "9450/3", "C71.1"),  # oligodendroglioma
    "IIIe": ("D44.4", "9350/1", "C75.2"),  # craniopharyngioma
    "IIIf": ("C71.9", "8000/3", "C71.9"),  # malignant neoplasm of brain, unspecified
    "IVa": ("C74.9", "9500/3", "C74.9"),  # neuroblastoma
    "IVb": ("C74.1", "8700/3", "C74.1"),  # malignant pheochromocytoma
    "V": ("C69.2", "9510/3", "C69.2"),  # retinoblastoma
    "VIa": ("C64", "8960/3", "C64.9"),  # nephroblastoma
    "VIb": ("C64", "8312/3", "C64.9"),  # renal cell carcinoma
    "VIc": ("C64", "8000/3", "C64.9"),  # malignant renal tumour, unspecified
    "VIIa": ("C22.2", "8970/3", "C22.0"),  # hepatoblastoma
    "VIIb": ("C22.0", "8170/3", "C22.0"),  # hepatocellular carcinoma
    "VIIc": ("C22.9", "8000/3", "C22.0"),  # malignant hepatic tumour, unspecified
    "VIIIa": ("C40.2", "9180/3", "C40.2"),  # osteosarcoma (femur)
    "VIIIb": ("C41.4", "9220/3", "C41.4"),  # chondrosarcoma (pelvis)
    "VIIIc": ("C41.4", "9260/3", "C41.4"),  # Ewing sarcoma of bone (pelvis)
    "VIIId": ("C41.4", "9370/3", "C41.4"),  # chordoma (sacrum)
    "VIIIe": ("C40.2", "8800/3", "C40.2"),  # sarcoma NOS of bone
    "IXa": ("C49.0", "8910/3", "C49.0"),  # embryonal rhabdomyosarcoma
    "IXb": ("C47.2", "9540/3", "C47.2"),  # MPNST
    "IXc": ("C46.9", "9140/3", "C44.5"),  # Kaposi sarcoma
    "IXd": ("C49.2", "9040/3", "C49.2"),  # synovial sarcoma
    "IXe": ("C49.9", "8800/3", "C49.9"),  # sarcoma NOS of soft tissue
    "Xa": ("C75.3", "9064/3", "C75.3"),  # pineal germinoma
    "Xb": ("C49.5", "9071/3", "C49.5"),  # sacrococcygeal yolk sac tumour
    "Xc": ("C62.9", "9071/3", "C62.9"),  # testicular yolk sac tumour
    "Xd": ("C56", "8441/3", "C56.9"),  # serous carcinoma of the ovary
    "Xe": ("C56", "8620/3", "C56.9"),  # granulosa cell tumour, malignant
    "XIa": ("C74.0", "8370/3", "C74.0"),  # adrenocortical carcinoma
    "XIb": ("C73", "8260/3", "C73.9"),  # papillary thyroid carcinoma
    "XIc": ("C11.9", "8070/3", "C11.9"),  # nasopharyngeal carcinoma
    "XId": ("C43.5", "8720/3", "C44.5"),  # melanoma
    "XIe": ("C44.3", "8090/3", "C44.3"),  # basal cell carcinoma
    "XIf": ("C18.0", "8140/3", "C18.0"),  # adenocarcinoma of the colon
    "XIIa": ("C25.9", "8971/3", "C25.9"),  # pancreatoblastoma
    "XIIb": ("C80.9", "8000/3", "C80.9"),  # malignant neoplasm, unspecified site
}
