"""JSON-lines batch: records, the streaming reader, the worker pool, progress and Dask."""
