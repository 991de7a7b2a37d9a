"""The library version, at the bottom of the import layers (SARIF output reads it)."""

__version__ = "0.1.0"
