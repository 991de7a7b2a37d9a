"""Tests of `pedonc-routing serve` against a real server.

A package, so that its conftest does not shadow tests/conftest.py for `from conftest import`.
"""
