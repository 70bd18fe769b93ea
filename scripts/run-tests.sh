#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL when it answers (always in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
WORKERS=${PYTEST_WORKERS:-2}

if [ ! -x /usr/bin/chromium ] && [ -z "${CAISSE_CHROMIUM:-}" ]; then
  echo "Chromium absent (/usr/bin/chromium) : les tests de navigateur seront ignorés." >&2
  echo "  (installez-le avec : apt-get install chromium)" >&2
fi

echo "== Tests sur SQLite (base embarquée)"
env -u CAISSE_DATABASE_URL "$BIN/pytest" -q -n "$WORKERS" "$@"

if "$BIN/python" - "$PG_URL" <<'PY'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
then
  echo "== Tests sur PostgreSQL ($PG_URL)"
  CAISSE_DATABASE_URL="$PG_URL" "$BIN/pytest" -q -n "$WORKERS" -m "not browser and not slow" "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL ne répond pas à $PG_URL : il est obligatoire en CI." >&2
  exit 1
else
  echo "PostgreSQL ne répond pas à $PG_URL : tests PostgreSQL ignorés." >&2
fi
