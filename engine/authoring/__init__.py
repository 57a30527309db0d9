"""For rule authors: validation, table tests, what-if trials, generated docs and schemas."""
