"""The case file: the typed model of an AI project or a compute facility, its field types and its validation."""
