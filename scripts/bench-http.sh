#!/usr/bin/env bash
# HTTP benchmark of /metrics against nginx serving the very same bytes, on loopback, in one run:
# nginx, tuned for static files (sendfile, open_file_cache, keep-alive never recycled, gzip_static
# for the OpenMetrics+gzip case that Prometheus requests), is the limit for serving those bytes on
# this machine, so our requests/s are reported as a ratio of nginx's, with both sides' CPU per
# request. A wrk run with any non-2xx answer or socket error fails the script. Also measures RSS per series, the time from start
# to the first answered scrape, and idle CPU.
#
# Usage: scripts/bench-http.sh [DURATION_SECONDS] [IDLE_SECONDS]   (defaults 10 and 60)
#        ROUNDS=N (default 2): rounds per case, alternating which side runs first
#        CASES="example 10000 100000 10000-om-gzip" (the default): the cases
# Needs: wrk and nginx (Debian packages `wrk` and `nginx`), python3, a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
IDLE=${2:-60}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
for tool in wrk nginx python3; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (apt-get install wrk nginx)" >&2; exit 2; }
done

cargo build --release --locked --quiet
BIN=target/release/metrics-generator
WORK=$(mktemp -d)
# nginx workers run as an unprivileged user: they must be able to read the body file.
chmod 755 "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f $WORK/nginx.pid ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts the exporter with the given args on a free port; sets PORT and PID.
start_exporter() {
    PORT=$(free_port)
    "$BIN" --listen-address "127.0.0.1:$PORT" "$@" 2>"$WORK/exporter.log" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 200); do
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "error: the exporter did not start" >&2; cat "$WORK/exporter.log" >&2; exit 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Runs wrk against URL $1 with the extra wrk args that follow; prints requests/s and leaves the
# report in $WORK/wrk.txt. A run with any answer that is not 2xx or 3xx, or any socket error, is
# a failed run: the script stops, as a figure made of errors could flatter either side.
wrk_rps() {
    local url=$1; shift
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$WORK/wrk.txt"
    if grep -qE '^ *(Non-2xx or 3xx responses|Socket errors):' "$WORK/wrk.txt"; then
        echo "error: a failed run against $url:" >&2
        cat "$WORK/wrk.txt" >&2
        exit 1
    fi
    awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt"
}

# CPU time (user + system, clock ticks) of process $1 and its children (nginx's workers).
tree_cpu_ticks() {
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}

# Microseconds of CPU per request of the last wrk run, from CPU tick counts before ($1) and after ($2).
cpu_per_request() {
    local requests
    requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
    python3 -c "print(f'{($2 - $1) * 1e6 / $(getconf CLK_TCK) / max($requests, 1):.1f} us')"
}

# Serves $WORK/www/metrics at /metrics with nginx on a free port, with content type $1, tuned as
# anyone would tune it for static files: sendfile, open_file_cache (no open and stat per request),
# keep-alive connections that are never recycled, and gzip_static (a request that accepts gzip
# gets metrics.gz as is: the bytes the exporter sends to a Prometheus); sets NGINX_PORT.
start_nginx() {
    NGINX_PORT=$(free_port)
    cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=16 inactive=600s;
    open_file_cache_valid 600s;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    gzip_static on;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /metrics { default_type "$1"; alias $WORK/www/metrics; }
    }
}
NGINX
    nginx -c "$WORK/nginx.conf"
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$NGINX_PORT/metrics" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "error: nginx did not start" >&2; cat "$WORK/nginx-error.log" >&2; exit 1
}

stop_nginx() { kill "$(cat "$WORK/nginx.pid")"; sleep 0.5; rm -f "$WORK/nginx.pid"; }

# A config of N series: one fanned-out gauge of FUNCTION (default uniform: seeded noise, a value
# of its own per series; square: one sequence shared by all series).
big_config() {
    local function=${2:-uniform}
    printf '[{"name": "load", "metric_type": "gauge", "custom_function": "%s", "series": %s, "labels": {"job": "bench"}}]\n' "$function" "$1" >"$WORK/big-$1-$function.json"
    echo "$WORK/big-$1-$function.json"
}

# One case: NAME, then "text" (text format, uncompressed) or "om-gzip" (OpenMetrics with gzip,
# the scrape Prometheus sends), then the exporter's args. Both sides serve the same bytes; the
# rounds alternate which side runs first, and the best round of each side counts.
bench_case() {
    local name=$1 kind=$2 ours=0 theirs=0 p99="" cpu_ours="" cpu_theirs="" round side rps before after bytes
    shift 2
    local headers=() type="text/plain; version=0.0.4; charset=utf-8"
    if [[ $kind == om-gzip ]]; then
        headers=(-H "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" -H "Accept-Encoding: gzip")
        type="application/openmetrics-text; version=1.0.0; charset=utf-8"
    fi
    # A tick an hour: every request of the run gets the same bytes as nginx serves.
    start_exporter --interval 1h "$@"
    rm -rf "$WORK/www"; mkdir -p "$WORK/www"; chmod 755 "$WORK/www"
    curl -fsS "${headers[@]}" "http://127.0.0.1:$PORT/metrics" -o "$WORK/www/metrics"
    if [[ $kind == om-gzip ]]; then
        mv "$WORK/www/metrics" "$WORK/www/metrics.gz"
        gzip -dc "$WORK/www/metrics.gz" >"$WORK/www/metrics"
    fi
    chmod 644 "$WORK/www"/*
    start_nginx "$type"
    cmp -s <(curl -fsS "${headers[@]}" "http://127.0.0.1:$PORT/metrics") \
        <(curl -fsS "${headers[@]}" "http://127.0.0.1:$NGINX_PORT/metrics") \
        || { echo "error: $name: nginx does not serve the exporter's bytes" >&2; exit 1; }
    bytes=$(curl -fsS "${headers[@]}" "http://127.0.0.1:$PORT/metrics" | wc -c)
    for round in $(seq "$ROUNDS"); do
        local sides=(ours theirs)
        if (( round % 2 == 0 )); then sides=(theirs ours); fi
        for side in "${sides[@]}"; do
            if [[ $side == ours ]]; then
                before=$(tree_cpu_ticks "$PID")
                rps=$(wrk_rps "http://127.0.0.1:$PORT/metrics" "${headers[@]}")
                after=$(tree_cpu_ticks "$PID")
                if python3 -c "import sys; sys.exit(0 if $rps > $ours else 1)"; then
                    ours=$rps
                    p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
                    cpu_ours=$(cpu_per_request "$before" "$after")
                fi
            else
                before=$(tree_cpu_ticks "$(cat "$WORK/nginx.pid")")
                rps=$(wrk_rps "http://127.0.0.1:$NGINX_PORT/metrics" "${headers[@]}")
                after=$(tree_cpu_ticks "$(cat "$WORK/nginx.pid")")
                if python3 -c "import sys; sys.exit(0 if $rps > $theirs else 1)"; then
                    theirs=$rps
                    cpu_theirs=$(cpu_per_request "$before" "$after")
                fi
            fi
        done
    done
    stop_nginx
    kill "$PID"
    printf '%-30s %9s %10s %10s %6s %9s %12s %13s\n' "$name" "$bytes" "$ours" "$theirs" \
        "$(python3 -c "print(f'{$ours / $theirs:.2f}')")" "$p99" "$cpu_ours" "$cpu_theirs"
}

ROUNDS=${ROUNDS:-2}
CASES=${CASES:-example 10000 100000 10000-om-gzip}
echo "== /metrics requests/s: exporter vs tuned nginx serving the same bytes (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s, best of $ROUNDS rounds)"
echo "   targets: example >= 1.0 of nginx; 10,000 and 100,000 series >= 0.9"
printf '%-30s %9s %10s %10s %6s %9s %12s %13s\n' case bytes exporter nginx ratio "p99 ours" "CPU/req ours" "CPU/req nginx"
for case in $CASES; do
    case $case in
        example) bench_case "example" text ;;
        *-om-gzip) bench_case "${case%-om-gzip} series, OpenMetrics+gzip" om-gzip --config "$(big_config "${case%-om-gzip}")" ;;
        *) bench_case "$case series" text --config "$(big_config "$case")" ;;
    esac
done

echo
echo "== RSS per series (after one text and one gzip OpenMetrics scrape)"
start_exporter --config "$(big_config 1)"
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/metrics"
base=$(rss_kib "$PID")
kill "$PID"
echo "base (1 series): $base KiB"
# square: series that share one value; uniform, normal, random_walk: seeded series with a value of
# their own each (computed by lanes from one lead sequence, see src/series.rs).
for function in square uniform normal random_walk; do
    for series in 100000 1000000; do
        start_exporter --config "$(big_config "$series" "$function")"
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT/metrics"
        curl -fsS -o /dev/null -H 'Accept: application/openmetrics-text' -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT/metrics"
        rss=$(rss_kib "$PID")
        kill "$PID"
        python3 -c "print(f'{\"$function\":>11} {$series:>8} series: {$rss} KiB, {($rss - $base) * 1024 / $series:.1f} bytes per series above the base')"
    done
done

echo
echo "== start-up to the first answered scrape (release binary, example config)"
python3 - "$BIN" <<'EOF'
import socket, subprocess, sys, time
times = []
for _ in range(10):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.argv[1], "--listen-address", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
    while True:
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=1)
            c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if c.recv(12).startswith(b"HTTP/1.1 200"):
                times.append((time.perf_counter() - t0) * 1000)
                c.close()
                break
        except OSError:
            time.sleep(0.0005)
    p.kill(); p.wait()
times.sort()
print(f"median {times[len(times)//2]:.1f} ms, worst {times[-1]:.1f} ms over {len(times)} starts")
EOF

echo
echo "== idle CPU over ${IDLE} s (example config, default 60 s interval, no scrapes)"
start_exporter
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(ticks "$PID")
sleep "$IDLE"
after=$(ticks "$PID")
hz=$(getconf CLK_TCK)
python3 -c "print(f'{($after - $before) / $hz * 1000:.0f} ms of CPU in ${IDLE} s ({($after - $before) / $hz / $IDLE * 100:.3f}% of one core)')"
