"""pytest plugin (entry point ``pytest11``): fixtures for testing protocol bundles."""
