"""The engine version, reported in every assessment's provenance."""

__version__ = "0.1.0"
