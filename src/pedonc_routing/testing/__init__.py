"""Tools for methodologists: hypothesis strategies, ready-made properties, a pytest plugin."""
