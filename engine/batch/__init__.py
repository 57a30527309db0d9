"""JSON-lines batch, one module per responsibility: ``records`` (one record per input line, and
their counts), ``reader`` (the streaming line reader and ``LineFeed``), ``pool`` (worker
processes, chunks, ordering), ``progress`` (the progress line, ``Stats`` and the summary),
``interrupts`` (signals and a closed pipe), ``run`` (``run_batch``) and ``distributed`` (Dask)."""
