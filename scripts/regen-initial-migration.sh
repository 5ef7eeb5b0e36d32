#!/usr/bin/env bash
# Until the first release, the schema is one migration: rebuild it from the models.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f app/db/migrations/versions/0001_initial_schema.py
.venv/bin/python - "$tmp/schema.db" <<'PY'
import sys
from alembic import command
from app.db.migrate import alembic_config
command.revision(alembic_config(f"sqlite+aiosqlite:///{sys.argv[1]}"),
                 message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i "s/^Create Date: .*/Create Date: (generated)/" app/db/migrations/versions/0001_initial_schema.py
.venv/bin/ruff check -q --fix app/db/migrations/versions || true
.venv/bin/ruff format -q app/db/migrations/versions
