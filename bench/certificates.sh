#!/usr/bin/env bash
# The public certificate verification benchmark (CRT-2, CRT-8).
#
# For each backend: a fresh database, one server start to migrate it, N
# certificates seeded with SQL (bench/sql/certificates.*.sql), the server
# started again, then wrk on /healthz (the ceiling: no database, no work) and
# on GET /api/v1/public/certificates/{code} with a random known code per
# request (bench/verify.lua). Settings: BENCH_CERTIFICATES (100000),
# BENCH_BACKENDS ("postgres sqlite"), and those of bench/lib.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${BENCH_CERTIFICATES:=100000}"
: "${BENCH_BACKENDS:=postgres sqlite}"
[[ "$BENCH_CERTIFICATES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_CERTIFICATES must be a positive number"
need wrk "install wrk (apt-get install wrk)"
need curl "install curl"

seed() {
    local backend=$1 url=$2
    case "$backend" in
        postgres)
            run_sql postgres "$url" "$BENCH_DIR/sql/certificates.postgres.sql" -v n="$BENCH_CERTIFICATES"
            ;;
        sqlite)
            local sql="$BENCH_WORK/certificates.sqlite.sql"
            sed "s/__N__/$BENCH_CERTIFICATES/g" "$BENCH_DIR/sql/certificates.sqlite.sql" >"$sql"
            run_sql sqlite "$url" "$sql"
            ;;
    esac
}

# check_answers CODE: the endpoint answers a known code and refuses an unknown
# one before anything is measured.
check_answers() {
    local code=$1 body
    body=$(curl -fsS "$BASE_URL/api/v1/public/certificates/$code") \
        || die "GET /api/v1/public/certificates/$code failed"
    [[ "$body" == *'"status":'* && "$body" == *'"holder_name":'* ]] \
        || die "unexpected verification answer: $body"
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/api/v1/public/certificates/AAAAAAAAAAAAAAAAAAAAAAAA")
    [[ "$status" == 404 ]] || die "an unknown code answered $status, not 404"
}

for backend in $BENCH_BACKENDS; do
    note "certificates/$backend: creating and migrating a fresh database"
    url=$(fresh_database "$backend")
    migrate "$url"
    note "certificates/$backend: seeding $BENCH_CERTIFICATES certificates"
    started=$(date +%s)
    seed "$backend" "$url"
    note "certificates/$backend: seeded in $(($(date +%s) - started)) s"
    codes="$BENCH_WORK/codes.$backend.txt"
    query "$backend" "$url" "SELECT code FROM certificates" >"$codes"
    count=$(wc -l <"$codes")
    [[ "$count" -eq "$BENCH_CERTIFICATES" ]] || die "expected $BENCH_CERTIFICATES codes, found $count"
    start_server "$url"
    check_answers "$(head -n1 "$codes")"
    measure certificates "$backend" healthz /healthz
    measure certificates "$backend" verify /api/v1/public/certificates/ "$BENCH_DIR/verify.lua" "$codes"
    stop_server
done
