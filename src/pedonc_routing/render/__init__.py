"""Rendering: conditions in words, pathways as Mermaid, Graphviz DOT or SVG (with one
child's route highlighted), and the family guide as text or printable HTML."""
