#!/bin/bash
# One run of the load scenario against a checkout, for alternating comparisons (two checkouts, two virtualenvs):
#   bench/load_once.sh CHECKOUT [DURATION]      e.g. bench/load_once.sh /tmp/old 50s
# The same steps as bench/bench_40_load.py (prepare_users, gunicorn with LOAD_WORKERS sync workers on loopback,
# locust headless with 200 enumerators and 20 offices) without the runner's migrate and collectstatic, on the
# bench database. VENV picks the virtualenv (default: the checkout's .venv). Prints submissions per second,
# failures and percentiles.
set -euo pipefail
DIR=$(cd "${1:?checkout}" && pwd)
DURATION=${2:-60s}
source "${VENV:-$DIR/.venv}/bin/activate"
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/census_bench}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/1}
export SECRET_KEY=${SECRET_KEY:-bench-only-secret-key-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}
export SIGNATURE_LEDGER_KEY=${SIGNATURE_LEDGER_KEY:-bench-only-signature-ledger-key-0123456789}
export CENSUS_PSEUDONYM_KEY=${CENSUS_PSEUDONYM_KEY:-bench-only-pseudonym-key-0123456789abcdef}
export ALLOWED_HOSTS='*' SECURE_COOKIES=False DEBUG=False
WORK=$(mktemp -d)
cd "$DIR"
python -c "import django, json, os, sys; sys.path.insert(0, '.'); os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'census.settings'); django.setup(); from bench.load_users import prepare_users; print(json.dumps(prepare_users(enumerators=200, offices=20)))" | tail -1 > "$WORK/users.json"
PORT=$(python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
gunicorn census.wsgi:application --bind "127.0.0.1:$PORT" --workers "${LOAD_WORKERS:-3}" --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
until python -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do sleep 0.3; done
CENSUS_LOAD_USERS="$WORK/users.json" locust -f bench/locustfile.py --headless -u 220 -r 50 -t "$DURATION" \
    --host "http://127.0.0.1:$PORT" --csv "$WORK/stats" --only-summary --stop-timeout 10 > "$WORK/locust.out" 2>&1 || true
python - "$WORK" <<'PY'
import csv, sys
work = sys.argv[1]
rows = {row["Name"]: row for row in csv.DictReader(open(f"{work}/stats_stats.csv"))}
history = list(csv.DictReader(open(f"{work}/stats_stats_history.csv")))
seconds = max(1, int(history[-1]["Timestamp"]) - int(history[0]["Timestamp"]))
submit, total = rows["submit household"], rows["Aggregated"]
print(f'{float(submit["Request Count"]) / seconds:.1f} submissions/s, {total["Failure Count"]} failures of '
      f'{total["Request Count"]} requests in {seconds} s, p50 {total["50%"]} ms p95 {total["95%"]} ms')
PY
