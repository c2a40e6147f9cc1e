# Shared helpers for the benchmark suites (sourced, not run).
#
# A suite script (bench/certificates.sh, bench/ce.sh, ...) sources this file
# and uses:
#   fresh_database BACKEND        -> prints a database URL (a new PostgreSQL
#                                    database or a new SQLite file), removed on exit
#   start_server URL              -> starts the release server on a free port;
#                                    sets SERVER_PID and BASE_URL
#   stop_server                   -> stops it
#   migrate URL                   -> start_server + stop_server (runs migrations,
#                                    creates the admin account)
#   run_sql BACKEND URL FILE [psql -v args...] -> runs an SQL file
#   query BACKEND URL SQL         -> prints the result rows, one per line
#   measure SUITE BACKEND LABEL PATH [LUA_SCRIPT [LUA_ARGS...]]
#                                 -> warms up, runs wrk, records one result row
#   print_summary                 -> the table of every recorded row
# Settings (environment): BENCH_DURATION (20s), BENCH_WARMUP (5s),
# BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_POSTGRES_URL
# (postgres://postgres@127.0.0.1:5432/postgres), GUILD_BIN.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
: "${GUILD_BIN:=$REPO_DIR/target/release/guild}"
: "${BENCH_DURATION:=20s}"
: "${BENCH_WARMUP:=5s}"
: "${BENCH_CONNECTIONS:=64}"
: "${BENCH_THREADS:=2}"
: "${BENCH_POSTGRES_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
: "${BENCH_ADMIN_PASSWORD:=Bench-Pass-2026}"
export GUILD_BIN BENCH_DURATION BENCH_WARMUP BENCH_CONNECTIONS BENCH_THREADS BENCH_POSTGRES_URL

# One work folder per top-level run; suites started by run.sh share it (and
# its results file); a suite run on its own makes its own.
if [[ -z "${BENCH_WORK:-}" ]]; then
    BENCH_WORK=$(mktemp -d "${TMPDIR:-/tmp}/guild-bench.XXXXXX")
    BENCH_OWNS_WORK=1
else
    BENCH_OWNS_WORK=0
fi
: "${BENCH_RESULTS:=$BENCH_WORK/results.tsv}"
export BENCH_WORK BENCH_RESULTS

SERVER_PID=""
BASE_URL=""
# The PostgreSQL databases this script created, one per line, dropped on exit.
# A file, not a variable: `url=$(fresh_database ...)` runs in a subshell, and
# `$$` there is still this script's process id.
_PG_DATABASES_FILE="$BENCH_WORK/pg-databases.$$"

die() {
    echo "bench: $*" >&2
    exit 1
}

note() {
    echo "bench: $*" >&2
}

# need TOOL HINT: stops with a clear message when TOOL is not installed.
need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

_cleanup() {
    local status=$?
    stop_server
    local db
    if [[ -f "$_PG_DATABASES_FILE" ]]; then
        while read -r db; do
            psql -q -X "$BENCH_POSTGRES_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
                >/dev/null 2>&1 || note "could not drop the database $db"
        done <"$_PG_DATABASES_FILE"
        rm -f "$_PG_DATABASES_FILE"
    fi
    if [[ "$BENCH_OWNS_WORK" == 1 ]]; then
        rm -rf "$BENCH_WORK"
    fi
    return "$status"
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The release binary must exist (run.sh builds it).
ensure_binary() {
    if [[ ! -x "$GUILD_BIN" ]]; then
        note "building the release server (cargo build --release -p guild-api)"
        (cd "$REPO_DIR" && cargo build --release -p guild-api) || die "the release build failed"
    fi
}

# pg_url_for DATABASE: the server URL with its database name replaced.
pg_url_for() {
    local base=${BENCH_POSTGRES_URL%%\?*}
    local query=""
    [[ "$BENCH_POSTGRES_URL" == *\?* ]] && query="?${BENCH_POSTGRES_URL#*\?}"
    local rest=${base#*://}
    local scheme=${base%%://*}
    local host=${rest%%/*}
    echo "$scheme://$host/$1$query"
}

# fresh_database BACKEND: prints the URL of a new, empty database.
fresh_database() {
    case "$1" in
        postgres)
            need psql "install the PostgreSQL client (apt-get install postgresql-client)"
            local db
            db="guild_bench_$(date +%s)_$RANDOM"
            psql -q -X -v ON_ERROR_STOP=1 "$BENCH_POSTGRES_URL" -c "CREATE DATABASE \"$db\"" >/dev/null \
                || die "cannot create a database on $BENCH_POSTGRES_URL (set BENCH_POSTGRES_URL to a server where this role may CREATE DATABASE)"
            echo "$db" >>"$_PG_DATABASES_FILE"
            pg_url_for "$db"
            ;;
        sqlite)
            need sqlite3 "install the SQLite shell (apt-get install sqlite3)"
            echo "sqlite://$(mktemp -d "$BENCH_WORK/sqlite.XXXXXX")/guild.db"
            ;;
        *) die "unknown backend $1 (postgres or sqlite)" ;;
    esac
}

# start_server URL: starts the release server against URL on a free port
# (GUILD_BIND=127.0.0.1:0; the port is read from its log) and waits for /healthz.
start_server() {
    local url=$1
    stop_server
    ensure_binary
    local log="$BENCH_WORK/server.$(date +%s%N).log"
    GUILD_DATABASE_URL="$url" GUILD_BIND=127.0.0.1:0 GUILD_ADMIN_PASSWORD="$BENCH_ADMIN_PASSWORD" \
        NO_COLOR=1 "$GUILD_BIN" serve >"$log" 2>&1 &
    SERVER_PID=$!
    local port="" i
    for i in $(seq 1 600); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            cat "$log" >&2
            die "the server stopped during start (log above)"
        fi
        port=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'port=[0-9]*' | head -n1 | cut -d= -f2 || true)
        if [[ -n "$port" ]] && curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            BASE_URL="http://127.0.0.1:$port"
            return 0
        fi
        sleep 0.1
    done
    cat "$log" >&2
    die "the server did not answer /healthz within 60 s (log above)"
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        BASE_URL=""
    fi
}

# migrate URL: one start of the server runs the migrations and creates `admin`.
migrate() {
    start_server "$1"
    stop_server
}

# run_sql BACKEND URL FILE [psql args...]: runs FILE, stopping at the first error.
# SQLite files are run with the shell's `.bail on`.
run_sql() {
    local backend=$1 url=$2 file=$3
    shift 3
    case "$backend" in
        postgres) psql -q -X -v ON_ERROR_STOP=1 "$@" -f "$file" "$url" >/dev/null ;;
        sqlite) sqlite3 -bail "${url#sqlite://}" <"$file" >/dev/null ;;
    esac
}

# query BACKEND URL SQL: prints the rows, one per line, unaligned.
query() {
    local backend=$1 url=$2 sql=$3
    case "$backend" in
        postgres) psql -X -At -v ON_ERROR_STOP=1 -c "$sql" "$url" ;;
        sqlite) sqlite3 -bail "${url#sqlite://}" "$sql" ;;
    esac
}

# _to_ms VALUE: wrk's `520.00us`, `1.20ms`, `1.05s` or `1.00m` in milliseconds.
_to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000
        else if (v ~ /ms$/) n = n
        else if (v ~ /m$/) n = n * 60000
        else if (v ~ /s$/) n = n * 1000
        printf "%.2f", n
    }'
}

# wrk_run OUT PATH [LUA [ARGS...]]: one measured wrk run, output in OUT.
_wrk() {
    local duration=$1 out=$2 path=$3
    shift 3
    local args=(-t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$duration" --latency)
    if [[ $# -gt 0 ]]; then
        args+=(-s "$1")
        shift
    fi
    wrk "${args[@]}" "$BASE_URL$path" ${1+--} "$@" >"$out" 2>&1 || {
        cat "$out" >&2
        die "wrk failed on $path"
    }
}

# _server_cpu: the server's CPU time so far (user + system), in clock ticks.
_server_cpu() {
    awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
}

# measure SUITE BACKEND LABEL PATH [LUA [ARGS...]]: warm-up run, then the
# measured run; appends `suite backend label rps p50 p99 non2xx errors path
# server-cpu-us-per-request`.
measure() {
    local suite=$1 backend=$2 label=$3 path=$4
    shift 4
    need wrk "install wrk (apt-get install wrk)"
    local out="$BENCH_WORK/wrk.$suite.$backend.$label.txt"
    note "$suite/$backend: warming up $label ($BENCH_WARMUP)"
    _wrk "$BENCH_WARMUP" "$out.warmup" "$path" "$@"
    note "$suite/$backend: measuring $label ($BENCH_DURATION, $BENCH_CONNECTIONS connections, $BENCH_THREADS threads)"
    local cpu_before cpu_after
    cpu_before=$(_server_cpu)
    _wrk "$BENCH_DURATION" "$out" "$path" "$@"
    cpu_after=$(_server_cpu)
    local rps p50 p99 non2xx errors requests cpu_us
    requests=$(awk '/requests in/ {print $1; exit}' "$out")
    cpu_us=$(awk -v c=$((cpu_after - cpu_before)) -v n="${requests:-0}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { if (n > 0) printf "%.1f", c * 1000000 / hz / n; else print "-" }')
    rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    p50=$(_to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(_to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    errors=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$out")
    [[ -n "$rps" ]] || {
        cat "$out" >&2
        die "could not read wrk's output for $label"
    }
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$suite" "$backend" "$label" "$rps" "$p50" "$p99" \
        "${non2xx:-0}" "${errors:-0}" "$path" "$cpu_us" >>"$BENCH_RESULTS"
    printf '  %-28s %10s req/s   p50 %8s ms   p99 %8s ms   server CPU %6s us/request   non-2xx %s   socket errors %s\n' \
        "$label" "$rps" "$p50" "$p99" "$cpu_us" "${non2xx:-0}" "${errors:-0}" >&2
}

# print_summary: every recorded row; `vs healthz` is the row's throughput
# against the /healthz row of the same suite and backend; `server us/req` is
# the server process's CPU time (all its threads) per request during the run.
print_summary() {
    [[ -s "$BENCH_RESULTS" ]] || {
        note "no results recorded"
        return 0
    }
    echo
    echo "wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d$BENCH_DURATION --latency  ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
    awk -F'\t' '
        { rows[NR] = $0; if ($3 == "healthz") ceiling[$1 "/" $2] = $4 }
        END {
            printf "%-14s %-9s %-28s %10s %9s %9s %10s %8s %14s\n", "suite", "backend", "endpoint", "req/s", "p50 ms", "p99 ms", "vs healthz", "non-2xx", "server us/req"
            for (i = 1; i <= NR; i++) {
                n = split(rows[i], f, "\t")
                c = ceiling[f[1] "/" f[2]]
                ratio = (c > 0) ? sprintf("%.0f%%", 100 * f[4] / c) : "-"
                cpu = (n >= 10 && f[10] != "") ? f[10] : "-"
                printf "%-14s %-9s %-28s %10s %9s %9s %10s %8s %14s\n", f[1], f[2], f[3], f[4], f[5], f[6], ratio, f[7] + f[8], cpu
            }
        }' "$BENCH_RESULTS"
}
