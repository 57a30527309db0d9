"""Output: the format registry (json, text, markdown) and atomic output sinks."""
