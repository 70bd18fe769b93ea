#!/usr/bin/env bash
# Each engine's benchmark prints its throughput and peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in bench/bench_*.py; do
  echo "== $bench"
  .venv/bin/python "$bench" "$@"
done
# Opt-in, not run by `make bench` (several minutes): a caisse of Paris' size,
#   .venv/bin/python bench/bench_liquider.py --grand
