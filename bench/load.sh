#!/usr/bin/env bash
# Load benchmark: gunicorn (2 workers) on 127.0.0.1 against PostgreSQL with demo data for
# 5,000 learners, measured with wrk. Prints requests/s and p99 latency per page and each page's
# ratio to the floor. A benchmark, not a test: it prints figures and says which targets are met.
#
#   bench/load.sh                 # seed a fresh bench database, then measure
#   REUSE_DB=1 bench/load.sh      # keep the bench database from an earlier run (skip seeding)
#
# Environment (all optional):
#   BENCH_DATABASE_URL  PostgreSQL database to create and fill (default .../academy_bench; it is
#                       DROPPED and re-created unless REUSE_DB=1)
#   BENCH_CACHE_URL     cache for rate-limit counters (default redis://127.0.0.1:6379/11 when
#                       Redis answers, else in-process memory)
#   LEARNERS=5000  CONNECTIONS=32  DURATION=10s  WRK_THREADS=1  PORT=(a free port)
#
# Targets (pages measured as they are, with no whole-page cache): each page >= 10 % of the floor's requests/s, and p99 under 250 ms at 32 connections.
# The floor is /healthz/: one "SELECT 1" through the whole middleware stack (no broker is
# configured here, so it does not touch Redis). The verification page's rate limit is raised for
# the run (bench/load_settings.py), or wrk would measure its "too many requests" answer. Only 127.0.0.1 is used. Everything this script
# starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
[ -x "$PY" ] || { echo "No .venv: run 'make install' first." >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is missing: apt-get install curl" >&2; exit 2; }

LEARNERS=${LEARNERS:-5000}
CONNECTIONS=${CONNECTIONS:-32}
DURATION=${DURATION:-10s}
WRK_THREADS=${WRK_THREADS:-1}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/academy_bench}
case "$BENCH_DATABASE_URL" in
  postgres://*@127.0.0.1:*|postgres://*@localhost:*) ;;
  *) echo "BENCH_DATABASE_URL must be a PostgreSQL database on 127.0.0.1" >&2; exit 2 ;;
esac
if [ -z "${BENCH_CACHE_URL:-}" ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then BENCH_CACHE_URL=redis://127.0.0.1:6379/11; fi
fi
PORT=${PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/academy-load.XXXXXX")

# Production settings, served over plain HTTP on 127.0.0.1 (no TLS proxy in front here), with the
# verification page's rate limit raised (bench/load_settings.py).
export PYTHONPATH=$PWD/bench${PYTHONPATH:+:$PYTHONPATH}
export DJANGO_SETTINGS_MODULE=load_settings
export DJANGO_ENV=production
export SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(64)[:60])')
export ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=false
export DATABASE_URL=$BENCH_DATABASE_URL
export REDIS_URL= CELERY_BROKER_URL=
export CACHE_URL=${BENCH_CACHE_URL:-}
export EMAIL_URL=dummymail://  # the seed's certificate e-mails go nowhere
export MEDIA_ROOT=$WORK/media
export LOG_LEVEL=WARNING

GUNICORN_PID=
cleanup() {
  if [ -n "$GUNICORN_PID" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$GUNICORN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }

# A development signing key, so that the demo's completed learners get real signed certificates.
timeout 60 "$PY" manage.py create_signing_key --dir "$WORK/keys" >/dev/null
export CERTIFICATE_SIGNING_KEY=$WORK/keys/signing-key.pem
export CERTIFICATE_SIGNING_CERT=$WORK/keys/signing-cert.pem
export CERTIFICATE_SIGNING_CHAIN=$WORK/keys/ca-cert.pem
export CERTIFICATE_CREDENTIAL_KEY=$WORK/keys/credential-key.pem

if [ "${REUSE_DB:-0}" != 1 ]; then
  step "Creating the bench database and seeding $LEARNERS learners"
  timeout 60 "$PY" bench/load_setup.py recreate-database
  timeout 600 "$PY" manage.py migrate --noinput -v 0
  timeout 1200 "$PY" manage.py seed_demo --learners "$LEARNERS" -v 2 >"$WORK/seed.log" 2>&1 \
    || { tail -40 "$WORK/seed.log" >&2; exit 1; }
  grep -E "^  .*: [0-9.]+ s$|enrolments" "$WORK/seed.log" || true
else
  step "Reusing the bench database"
  timeout 600 "$PY" manage.py migrate --noinput -v 0
fi
timeout 300 "$PY" manage.py collectstatic --noinput -v 0

step "Choosing pages and signing people in"
timeout 120 "$PY" bench/load_setup.py targets >"$WORK/targets.sh"
# shellcheck disable=SC1091
. "$WORK/targets.sh"

step "Starting gunicorn (2 workers) on 127.0.0.1:$PORT"
timeout 900 .venv/bin/gunicorn academy.wsgi --workers 2 --bind "127.0.0.1:$PORT" \
  --log-level warning --error-logfile "$WORK/gunicorn.log" >>"$WORK/gunicorn.log" 2>&1 &
GUNICORN_PID=$!
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz/" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz/" || { cat "$WORK/gunicorn.log" >&2; exit 1; }

# name|path|cookie
PAGES=(
  "floor (/healthz/)|/healthz/|"
  "learner dashboard|$LEARNER_PATH|sessionid=$LEARNER_SESSION; csrftoken=$CSRF_COOKIE"
  "partner cohort page|$COHORT_PATH|sessionid=$COORDINATOR_SESSION; csrftoken=$CSRF_COOKIE"
  "verification page|$VERIFY_PATH|csrftoken=$CSRF_COOKIE"
)

# Every page must answer 200 (not a redirect to sign in) before it is measured.
for entry in "${PAGES[@]}"; do
  IFS='|' read -r name path cookie <<<"$entry"
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$PORT$path")
  if [ "$status" != 200 ]; then
    echo "$name $path answered $status, not 200: nothing to measure." >&2
    exit 1
  fi
done

to_ms() {  # wrk prints 812.00us, 12.34ms or 1.20s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.1f", n }'
}

RESULTS=()
for entry in "${PAGES[@]}"; do
  IFS='|' read -r name path cookie <<<"$entry"
  step "wrk: $name  $path  ($CONNECTIONS connections, $DURATION)"
  header=()
  [ -n "$cookie" ] && header=(-H "Cookie: $cookie")
  # A short warm-up so each worker has its connections and caches, then the measured run.
  timeout 30 wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d2s "${header[@]}" "http://127.0.0.1:$PORT$path" >/dev/null
  timeout 120 wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency "${header[@]}" \
    "http://127.0.0.1:$PORT$path" | tee "$WORK/wrk.txt"
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")")
  bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$WORK/wrk.txt")
  errors=$(awk '/Socket errors:/ { print }' "$WORK/wrk.txt")
  RESULTS+=("$name|$path|$rps|$p99|${bad:-0}|${errors:-}")
done

step "Results ($LEARNERS learners, gunicorn 2 workers, $CONNECTIONS connections, $DURATION each)"
floor_rps=$(echo "${RESULTS[0]}" | cut -d'|' -f3)
printf '%-22s %10s %9s %8s  %s\n' "page" "req/s" "p99 ms" "ratio" "targets (>= 10 % of floor, p99 < 250 ms)"
missed=0
for result in "${RESULTS[@]}"; do
  IFS='|' read -r name path rps p99 bad errors <<<"$result"
  ratio=$(awk -v a="$rps" -v b="$floor_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  verdict=$(awk -v a="$rps" -v b="$floor_rps" -v p="$p99" -v bad="$bad" 'BEGIN {
    ok_ratio = (a >= 0.1 * b); ok_p99 = (p < 250); ok_status = (bad == 0)
    printf "%s", (ok_ratio && ok_p99 && ok_status) ? "met" : "MISSED:"
    if (!ok_ratio) printf " ratio"; if (!ok_p99) printf " p99"; if (!ok_status) printf " %s non-2xx/3xx", bad }')
  [[ "$verdict" == met ]] || missed=1
  printf '%-22s %10.1f %9s %8s  %s %s\n' "$name" "$rps" "$p99" "$ratio" "$verdict" "$errors"
done
echo
echo "Pages (their query counts are printed above, under 'Choosing pages'): learner $LEARNER_PATH, cohort $COHORT_PATH, verify $VERIFY_PATH"
[ "$missed" = 0 ] && echo "All targets met." || echo "Some targets were missed (see above)."
