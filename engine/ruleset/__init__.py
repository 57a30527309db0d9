"""Rulesets: the typed model, the JSON Schema, loading, combining and the meaning checks."""
