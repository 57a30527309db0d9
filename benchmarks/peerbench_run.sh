#!/usr/bin/env bash
# Run shared/peerbench with airisk as its --extra engine (1 and 2 worker processes).
#
#   benchmarks/peerbench_run.sh                 # 3 interleaved rounds, every peer
#   benchmarks/peerbench_run.sh --rounds 1 --only python-lambdas,cel-expr-python
#
# Translates peerbench's rules.yaml (or $PEERBENCH_RULES_FILE) with
# benchmarks/peerbench_translate.py into $PEERBENCH_WORK/build/airisk-rules.yaml, then
# calls peerbench's run_all.sh; extra arguments go to it. airisk runs from this checkout's
# Python ($AIRISK_PYTHON, default the interpreter that has `engine` importable).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PB="${PEERBENCH_HOME:-$ROOT/../shared/peerbench}"
export PEERBENCH_WORK="${PEERBENCH_WORK:-/tmp/peerbench}"
PY="${AIRISK_PYTHON:-$(command -v python)}"
mkdir -p "$PEERBENCH_WORK/build"
"$PY" "$HERE/peerbench_translate.py" "${PEERBENCH_RULES_FILE:-$PB/rules.yaml}" "$PEERBENCH_WORK/build/airisk-rules.yaml"
VERSION="airisk $("$PY" -c 'import engine; print(engine.__version__)') (durable-rules 2.0.28)"
CMD="$PY -m engine.cli batch --no-bundled --rules \$PEERBENCH_WORK/build/airisk-rules.yaml --as-of 2026-11-22 --no-progress"
cd "$PB"
exec ./run_all.sh \
  --extra "airisk-w1=$CMD --workers 1" --extra-version "$VERSION, 1 worker" \
  --extra "airisk-w2=$CMD --workers 2" --extra-version "$VERSION, 2 workers" \
  "$@"
