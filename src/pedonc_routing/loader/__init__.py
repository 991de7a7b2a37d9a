"""Stage 1, loading: YAML files -> plain data + source map -> pydantic documents.

Reads safely (no tags, bounded aliases, depth and size), records the 1-based position of every
node, and reports every problem as an :class:`~pedonc_routing.issues.Issue`.
"""

from pedonc_routing.loader.documents import (
    DocumentSet,
    Sourced,
    default_protocols_dir,
    read_document_texts,
    read_documents,
)
from pedonc_routing.loader.yaml_reader import (
    LoadedDocument,
    read_yaml_bytes,
    read_yaml_file,
    read_yaml_text,
)

__all__ = [
    "DocumentSet",
    "LoadedDocument",
    "Sourced",
    "default_protocols_dir",
    "read_document_texts",
    "read_documents",
    "read_yaml_bytes",
    "read_yaml_file",
    "read_yaml_text",
]
