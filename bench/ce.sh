#!/usr/bin/env bash
# The CE register benchmark (CED-5, CED-6) on PostgreSQL.
#
# A fresh database, one server start to migrate it, BENCH_CE_CREDITS credit
# records (default 1,000,000) with their people, providers, activities and
# yearly roll-up seeded with SQL (bench/sql/ce.postgres.sql), the server
# started again, then, one request at a time with curl (%{time_total}):
#   - GET /api/v1/ce/statistics?year=BENCH_CE_YEAR&by=... for each dimension,
#     BENCH_CE_STAT_SAMPLES times each after one warm-up (target < 1 s);
#   - GET /api/v1/ce/compliance/{person}?year=BENCH_CE_YEAR for
#     BENCH_CE_SAMPLES random people over one kept-alive connection
#     (target < 20 ms).
# Prints p50/p99/max per endpoint (a target holds when p99 is under it) and records them in the summary table of
# `make bench` (req/s there is sequential: one request at a time).
# BENCH_CE_ENFORCE=1 makes a missed target fail the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${BENCH_CE_CREDITS:=1000000}"
: "${BENCH_CE_YEAR:=2025}"
: "${BENCH_CE_STAT_SAMPLES:=7}"
: "${BENCH_CE_SAMPLES:=1000}"
: "${BENCH_CE_ENFORCE:=0}"
for v in BENCH_CE_CREDITS BENCH_CE_STAT_SAMPLES BENCH_CE_SAMPLES; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number"
done
[[ "$BENCH_CE_YEAR" =~ ^20(24|25|26)$ ]] || die "BENCH_CE_YEAR must be 2024, 2025 or 2026 (the seeded years)"
need curl "install curl"
need psql "install the PostgreSQL client (apt-get install postgresql-client)"

STATISTICS_TARGET_MS=1000
COMPLIANCE_TARGET_MS=20
MISSED=0

# login: an admin access token.
login() {
    local body
    body=$(curl -fsS -H 'content-type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$BENCH_ADMIN_PASSWORD\"}" \
        "$BASE_URL/api/v1/auth/login") || die "cannot log in as admin"
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$body"
}

# percentiles FILE: "count p50 p99 max total" in ms of the seconds in FILE.
percentiles() {
    sort -g "$1" | awk '
        { v[NR] = $1 * 1000; sum += $1 }
        END {
            if (NR == 0) { print "0 0 0 0 0"; exit }
            p50 = v[int((NR - 1) * 0.50) + 1]
            p99 = v[int((NR - 1) * 0.99) + 1]
            printf "%d %.2f %.2f %.2f %.3f\n", NR, p50, p99, v[NR], sum
        }'
}

# record LABEL PATH FILE TARGET_MS: prints and records one endpoint's timings.
record() {
    local label=$1 path=$2 file=$3 target=$4 count p50 p99 max total rps verdict non2xx
    read -r count p50 p99 max total < <(percentiles "$file")
    rps=$(awk -v n="$count" -v t="$total" 'BEGIN { printf "%.0f", (t > 0) ? n / t : 0 }')
    non2xx=$(grep -vc '^200$' "$file.status" || true)
    if awk -v m="$p99" -v t="$target" 'BEGIN { exit !(m < t) }' && [[ "$non2xx" == 0 ]]; then
        verdict="ok (< $target ms)"
    else
        verdict="MISSED (target < $target ms)"
        MISSED=1
    fi
    printf '  %-30s %6d requests   p50 %8s ms   p99 %8s ms   max %8s ms   non-200 %s   %s\n' \
        "$label" "$count" "$p50" "$p99" "$max" "$non2xx" "$verdict"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' ce postgres "$label" "$rps" "$p50" "$p99" \
        "$non2xx" 0 "$path" >>"$BENCH_RESULTS"
}

# timed FILE URL...: GETs each URL in turn over one connection, appending
# time_total (seconds) to FILE and the status to FILE.status.
timed() {
    local file=$1
    shift
    local config="$file.curl" url
    : >"$config"
    for url in "$@"; do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$config"
    done
    curl -sS -K "$config" -H "authorization: Bearer $TOKEN" -w '%{http_code} %{time_total}\n' \
        >"$file.raw" || die "curl failed (see $file.raw)"
    awk '{ print $2 }' "$file.raw" >>"$file"
    awk '{ print $1 }' "$file.raw" >>"$file.status"
}

note "ce/postgres: creating and migrating a fresh database"
url=$(fresh_database postgres)
migrate "$url"
note "ce/postgres: seeding $BENCH_CE_CREDITS credit records"
started=$(date +%s)
run_sql postgres "$url" "$BENCH_DIR/sql/ce.postgres.sql" -v n="$BENCH_CE_CREDITS"
credits=$(query postgres "$url" "SELECT count(*) FROM ce_credits")
person_years=$(query postgres "$url" "SELECT count(*) FROM ce_person_years")
year_credits=$(query postgres "$url" "SELECT count(*) FROM ce_credits WHERE year = $BENCH_CE_YEAR")
note "ce/postgres: seeded $credits credits ($year_credits in $BENCH_CE_YEAR), $person_years person-years in $(($(date +%s) - started)) s"
[[ "$credits" -ge "$BENCH_CE_CREDITS" ]] || die "expected at least $BENCH_CE_CREDITS credits, found $credits"
people="$BENCH_WORK/ce.people.txt"
query postgres "$url" "SELECT person_id FROM ce_person_years WHERE year = $BENCH_CE_YEAR ORDER BY random() LIMIT $BENCH_CE_SAMPLES" >"$people"

start_server "$url"
TOKEN=$(login)
[[ -n "$TOKEN" ]] || die "no access token in the login answer"

# The answers are right before anything is measured.
check=$(curl -fsS -H "authorization: Bearer $TOKEN" "$BASE_URL/api/v1/ce/statistics?year=$BENCH_CE_YEAR&by=region") \
    || die "GET /api/v1/ce/statistics failed"
[[ "$check" == *"\"people\":$(query postgres "$url" "SELECT count(*) FROM ce_person_years WHERE year = $BENCH_CE_YEAR")"* ]] \
    || die "unexpected statistics answer: ${check:0:400}"
first=$(head -n1 "$people")
check=$(curl -fsS -H "authorization: Bearer $TOKEN" "$BASE_URL/api/v1/ce/compliance/$first?year=$BENCH_CE_YEAR") \
    || die "GET /api/v1/ce/compliance/$first failed"
[[ "$check" == *'"met":'* && "$check" == *'"records":8'* ]] || die "unexpected compliance answer: $check"

echo "CE register on PostgreSQL: $credits credit records, $person_years person-years; year $BENCH_CE_YEAR has $year_credits credits"
for by in region organisation occupation provider year; do
    path="/api/v1/ce/statistics?year=$BENCH_CE_YEAR&by=$by"
    out="$BENCH_WORK/ce.statistics.$by"
    : >"$out.warmup"
    timed "$out.warmup" "$BASE_URL$path"
    urls=()
    for _ in $(seq 1 "$BENCH_CE_STAT_SAMPLES"); do urls+=("$BASE_URL$path"); done
    : >"$out"
    : >"$out.status"
    timed "$out" "${urls[@]}"
    record "statistics by=$by" "$path" "$out" "$STATISTICS_TARGET_MS"
done

out="$BENCH_WORK/ce.compliance"
urls=()
while read -r person; do
    urls+=("$BASE_URL/api/v1/ce/compliance/$person?year=$BENCH_CE_YEAR")
done <"$people"
: >"$out.warmup"
timed "$out.warmup" "${urls[@]:0:50}"
: >"$out"
: >"$out.status"
timed "$out" "${urls[@]}"
record "compliance/{person}" "/api/v1/ce/compliance/{person}?year=$BENCH_CE_YEAR" "$out" "$COMPLIANCE_TARGET_MS"

stop_server

if [[ "$MISSED" == 1 ]]; then
    note "ce: a target was missed (see above)"
    [[ "$BENCH_CE_ENFORCE" == 1 ]] && exit 1
fi
exit 0
