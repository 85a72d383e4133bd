#!/usr/bin/env bash
# HTTP benchmark of /metrics against nginx serving the very same bytes, on loopback, in one run:
# nginx (worker_processes auto) is the limit for serving those bytes on this machine, so our
# requests/s are reported as a ratio of nginx's. Also measures RSS per series, the time from start
# to the first answered scrape, and idle CPU.
#
# Usage: scripts/bench-http.sh [DURATION_SECONDS] [IDLE_SECONDS]   (defaults 10 and 60)
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

# User and system CPU time of process $1 so far, in clock ticks.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

# Requests/s that wrk reports for a URL.
wrk_rps() {
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" >"$WORK/wrk.txt"
    awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt"
}

# Serves file $1 at /metrics with nginx on a free port; sets NGINX_PORT.
start_nginx() {
    NGINX_PORT=$(free_port)
    cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location = /metrics { default_type "text/plain; version=0.0.4; charset=utf-8"; alias $1; }
    }
}
EOF
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

echo "== /metrics requests/s: exporter vs nginx serving the same bytes (wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s)"
printf '%-22s %10s %12s %12s %7s %10s %18s\n' config bytes exporter nginx ratio "p99 ours" "CPU/request ours"
ROUNDS=${ROUNDS:-2}
for series in example 100000; do
    # A tick an hour: every request of the run gets the same bytes as nginx serves.
    if [[ $series == example ]]; then start_exporter --interval 1h; else start_exporter --interval 1h --config "$(big_config "$series")"; fi
    curl -fsS "http://127.0.0.1:$PORT/metrics" >"$WORK/body.txt"
    chmod 644 "$WORK/body.txt"
    start_nginx "$WORK/body.txt"
    # Alternating rounds, best of each: the other core's load varies, and this keeps it fair.
    ours=0; theirs=0; p99=; cpu=
    for _ in $(seq "$ROUNDS"); do
        read -r user0 system0 < <(cpu_ticks "$PID")
        rps=$(wrk_rps "http://127.0.0.1:$PORT/metrics")
        read -r user1 system1 < <(cpu_ticks "$PID")
        if python3 -c "import sys; sys.exit(0 if $rps > $ours else 1)"; then
            ours=$rps
            p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
            # The exporter's CPU time per request, user + system, from /proc/PID/stat.
            requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
            cpu=$(python3 -c "t = 1e6 / $(getconf CLK_TCK) / max($requests, 1); print(f'{($user1 - $user0) * t:.1f}+{($system1 - $system0) * t:.1f} us')")
        fi
        rps=$(wrk_rps "http://127.0.0.1:$NGINX_PORT/metrics")
        if python3 -c "import sys; sys.exit(0 if $rps > $theirs else 1)"; then theirs=$rps; fi
    done
    stop_nginx
    kill "$PID"
    ratio=$(python3 -c "print(f'{$ours / $theirs:.2f}')")
    printf '%-22s %10s %12s %12s %7s %10s %18s\n' "$series" "$(stat -c %s "$WORK/body.txt")" "$ours" "$theirs" "$ratio" "$p99" "$cpu"
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
