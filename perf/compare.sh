#!/bin/sh
# Runs the same benchmark binaries on ferrozmq and on the system libzmq,
# alternating, switching only LD_LIBRARY_PATH, and prints both and the ratio.
# Usage: perf/compare.sh [ROUNDS]   (set PIN=1 to run every process on CPU 0)
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SYS=$(dirname "$(ldconfig -p | awk '/libzmq\.so\.5 /{print $NF; exit}')")
BIN=$PWD/target/perf
# The binaries ask for libzmq.so.5: give ours under that name.
OURS=$BIN/ours
mkdir -p "$OURS"
cargo build --release -j2 --lib
ln -sf "$PWD/target/release/libzmq.so" "$OURS/libzmq.so.5"
# Built once, against the system header and library: the drop-in case.
for p in inproc_thr inproc_lat; do
    cc -O2 -o "$BIN/$p" "perf/$p.c" -lzmq -lpthread
done
# Refuse to report a comparison of libzmq with itself.
LD_LIBRARY_PATH=$OURS ldd "$BIN/inproc_thr" | grep -q "$OURS/libzmq.so.5" || {
    echo "compare.sh: our library is not the one loaded" >&2; exit 1; }
run() { # lib-dir bench args...
    d=$1; shift
    if [ "${PIN:-0}" = 1 ]; then
        LD_LIBRARY_PATH=$d taskset -c 0 "$@"
    else
        LD_LIBRARY_PATH=$d "$@"
    fi
}
metric() { tr ' ' '\n' | awk -F= -v k="$1" '$1==k{print $2}'; }
best() { sort -g | if [ "$1" = max ]; then tail -n1; else head -n1; fi; }
printf '%-28s %14s %14s %8s\n' benchmark libzmq ferrozmq ratio
for size in 64 1024 65536; do
    count=2000000; [ "$size" -ge 65536 ] && count=100000
    o=""; s=""
    for _ in $(seq "$ROUNDS"); do
        s="$s $(run "$SYS" "$BIN/inproc_thr" $size $count | metric msg/s)"
        o="$o $(run "$OURS" "$BIN/inproc_thr" $size $count | metric msg/s)"
    done
    sb=$(echo $s | tr ' ' '\n' | best max); ob=$(echo $o | tr ' ' '\n' | best max)
    printf '%-28s %14s %14s %8.2f\n' "inproc_thr ${size}B msg/s" "$sb" "$ob" "$(awk -v a="$ob" -v b="$sb" 'BEGIN{print a/b}')"
done
for size in 64 1024; do
    o=""; s=""
    for _ in $(seq "$ROUNDS"); do
        s="$s $(run "$SYS" "$BIN/inproc_lat" $size 100000 | metric latency_us)"
        o="$o $(run "$OURS" "$BIN/inproc_lat" $size 100000 | metric latency_us)"
    done
    sb=$(echo $s | tr ' ' '\n' | best min); ob=$(echo $o | tr ' ' '\n' | best min)
    printf '%-28s %14s %14s %8.2f\n' "inproc_lat ${size}B us" "$sb" "$ob" "$(awk -v a="$ob" -v b="$sb" 'BEGIN{print a/b}')"
done
