"""Shared builders for the tests: hand-made master data and small configs."""
