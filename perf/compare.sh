#!/bin/sh
# Runs the same benchmark binaries on ferrozmq and on the system libzmq,
# alternating, switching only LD_LIBRARY_PATH, and prints both and the ratio
# (ferrozmq / libzmq: above 1 is better for msg/s, worse for us).
# inproc: one process, two threads. tcp and ipc: two processes (local_* binds,
# remote_* connects), both on the same library.
# CURVE rows: tcp with the binding side as CURVE server (the programs' last
# argument "curve"), libzmq's libsodium boxes against ours.
# Usage: perf/compare.sh [ROUNDS]   (set PIN=1 to run every process on CPU 0;
# ONLY=curve runs the CURVE rows alone, ONLY=null all but them)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SYS=$(dirname "$(ldconfig -p | awk '/libzmq\.so\.5 /{print $NF; exit}')")
BIN=$PWD/target/perf
# The binaries ask for libzmq.so.5: give ours under that name.
OURS=$BIN/ours
mkdir -p "$OURS"
cargo build --release -j2 --lib
# A copy, not a symlink: a build running elsewhere in target/ must not swap
# the library under us halfway through the rounds.
rm -f "$OURS/libzmq.so.5"
cp "$PWD/target/release/libzmq.so" "$OURS/libzmq.so.5"
PROGS="inproc_thr inproc_lat local_thr remote_thr local_lat remote_lat"
# Built once, against the system header and library: the drop-in case.
for p in $PROGS; do
    cc -O2 -Iperf -o "$BIN/$p" "perf/$p.c" -lzmq -lpthread
done
# Refuse to report a comparison of libzmq with itself.
for p in $PROGS; do
    LD_LIBRARY_PATH=$OURS ldd "$BIN/$p" | grep -q "$OURS/libzmq.so.5" || {
        echo "compare.sh: our library is not the one loaded by $p" >&2; exit 1; }
done
TMP=$(mktemp -d /tmp/ferrozmq-perf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM
run() { # lib-dir bench args...
    d=$1; shift
    if [ "${PIN:-0}" = 1 ]; then
        LD_LIBRARY_PATH=$d timeout 120 taskset -c 0 "$@"
    else
        LD_LIBRARY_PATH=$d timeout 120 "$@"
    fi
}
metric() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k{print $2}'; }
best() { sort -g | if [ "$1" = max ]; then tail -n1; else head -n1; fi; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
endpoint() { # tcp|ipc: a fresh endpoint for one run
    case $1 in
        tcp) echo "tcp://127.0.0.1:$(free_port)" ;;
        ipc) echo "ipc://$(mktemp -u "$TMP/sXXXXXX")" ;;
    esac
}
listening() { # endpoint: true once local_* has bound it
    case $1 in
        tcp://*) ss -ltnH "sport = :${1##*:}" | grep -q . ;;
        ipc://*) [ -S "${1#ipc://}" ] ;;
    esac
}
pair() { # lib-dir local remote endpoint size count [mechanism]: runs both, prints both outputs
    lib=$1 loc=$2 rem=$3 ep=$4 size=$5 count=$6 mech=${7:-null}
    run "$lib" "$BIN/$loc" "$ep" "$size" "$count" "$mech" >"$TMP/local.out" &
    lpid=$!
    # Connect only once the listener is up, so no reconnect delay is counted.
    i=0
    until listening "$ep"; do
        i=$((i + 1)); [ $i -lt 500 ] || { echo "compare.sh: $loc never bound $ep" >&2; break; }
        sleep 0.01
    done
    run "$lib" "$BIN/$rem" "$ep" "$size" "$count" "$mech" || echo "compare.sh: $rem failed ($ep)" >&2
    wait $lpid || { echo "compare.sh: $loc failed ($ep):" >&2; cat "$TMP/local.out" >&2; }
    cat "$TMP/local.out"
}
row() { # label max|min sys-results ours-results
    sb=$(echo $3 | tr ' ' '\n' | best "$2"); ob=$(echo $4 | tr ' ' '\n' | best "$2")
    printf '%-28s %14s %14s %8s\n' "$1" "${sb:-fail}" "${ob:-fail}" \
        "$(awk -v a="$ob" -v b="$sb" 'BEGIN{ if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a/b }')"
}
printf '%-28s %14s %14s %8s\n' benchmark libzmq ferrozmq ratio
if [ "${ONLY:-}" != curve ]; then
for size in 64 1024 65536; do
    count=2000000; [ "$size" -ge 65536 ] && count=100000
    o=""; s=""
    for _ in $(seq "$ROUNDS"); do
        s="$s $(run "$SYS" "$BIN/inproc_thr" $size $count | metric msg/s)"
        o="$o $(run "$OURS" "$BIN/inproc_thr" $size $count | metric msg/s)"
    done
    row "inproc_thr ${size}B msg/s" max "$s" "$o"
done
for size in 64 1024; do
    o=""; s=""
    for _ in $(seq "$ROUNDS"); do
        s="$s $(run "$SYS" "$BIN/inproc_lat" $size 100000 | metric latency_us)"
        o="$o $(run "$OURS" "$BIN/inproc_lat" $size 100000 | metric latency_us)"
    done
    row "inproc_lat ${size}B us" min "$s" "$o"
done
# Counts are sized for roughly 1-2 s per run on loopback.
for tr in tcp ipc; do
    for size in 64 1024 65536 1048576; do
        case $size in
            64) count=2000000 ;; 1024) count=1000000 ;;
            65536) count=40000 ;; *) count=3000 ;;
        esac
        o=""; s=""
        for _ in $(seq "$ROUNDS"); do
            s="$s $(pair "$SYS" local_thr remote_thr "$(endpoint $tr)" $size $count | metric msg/s)"
            o="$o $(pair "$OURS" local_thr remote_thr "$(endpoint $tr)" $size $count | metric msg/s)"
        done
        row "${tr}_thr ${size}B msg/s" max "$s" "$o"
    done
    for size in 64 1024; do
        o=""; s=""
        for _ in $(seq "$ROUNDS"); do
            s="$s $(pair "$SYS" local_lat remote_lat "$(endpoint $tr)" $size 20000 | metric latency_us)"
            o="$o $(pair "$OURS" local_lat remote_lat "$(endpoint $tr)" $size 20000 | metric latency_us)"
        done
        row "${tr}_lat ${size}B us" min "$s" "$o"
    done
done
fi
if [ "${ONLY:-}" != null ]; then
    # Counts are sized for roughly 1-2 s per run with libsodium.
    for size in 64 1024 65536; do
        case $size in
            64) count=500000 ;; 1024) count=300000 ;; *) count=15000 ;;
        esac
        o=""; s=""
        for _ in $(seq "$ROUNDS"); do
            s="$s $(pair "$SYS" local_thr remote_thr "$(endpoint tcp)" $size $count curve | metric msg/s)"
            o="$o $(pair "$OURS" local_thr remote_thr "$(endpoint tcp)" $size $count curve | metric msg/s)"
        done
        row "tcp_thr ${size}B curve msg/s" max "$s" "$o"
    done
    for size in 64 1024; do
        o=""; s=""
        for _ in $(seq "$ROUNDS"); do
            s="$s $(pair "$SYS" local_lat remote_lat "$(endpoint tcp)" $size 20000 curve | metric latency_us)"
            o="$o $(pair "$OURS" local_lat remote_lat "$(endpoint tcp)" $size 20000 curve | metric latency_us)"
        done
        row "tcp_lat ${size}B curve us" min "$s" "$o"
    done
fi
