"""Interchange formats for other tools: SARIF reports (code scanning) and JSON Schemas (editors).

Both are thin views of existing data: the validation report and the pydantic models. They
add no checks of their own, so the CLI, CI and an editor all see the same rules.
"""

from pedonc_routing.interop.json_schema import SCHEMA_MODELS, all_schemas, write_schemas
from pedonc_routing.interop.sarif import RULE_TITLES, to_sarif

__all__ = ["RULE_TITLES", "SCHEMA_MODELS", "all_schemas", "to_sarif", "write_schemas"]
