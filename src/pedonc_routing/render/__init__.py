"""Rendering: conditions in words, pathways as Mermaid or Graphviz DOT."""
