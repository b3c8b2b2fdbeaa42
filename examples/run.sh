#!/bin/sh
# Builds and runs the C examples.
#
#   sh examples/run.sh [inproc|tcp|ipc] [EXAMPLE...]
#       each example with all its parties as threads of one process
#   sh examples/run.sh tcp|ipc 2proc [EXAMPLE...]
#       each party of each example as its own process
#
# EXAMPLE is pair, pubsub, pipeline or rrbroker (default: all four).
#
# By default they are compiled against our include/zmq.h and linked to
# target/release/libzmq.so. With ZMQ_REF=1 they use the system libzmq
# instead, to compare the output with the reference implementation. With
# EXAMPLES_BIN=DIR they are not compiled: DIR holds them (the tests do so).
#
# Two-process runs over tcp bind `tcp://127.0.0.1:*` and hand the port each
# binder printed to the connectors; over ipc, whose paths are known
# beforehand, the connectors start first, and pair swaps who binds.
# Every process runs under `timeout`; its exit status must be 0.
set -eu
cd "$(dirname "$0")/.."

transport=${1:-inproc}
[ $# -gt 0 ] && shift
mode=threads
if [ "${1:-}" = 2proc ]; then
    mode=processes
    shift
fi
examples=${*:-pair pubsub pipeline rrbroker}
case "$mode $transport" in
    "threads inproc" | "threads tcp" | "threads ipc" | "processes tcp" | "processes ipc") ;;
    *)
        echo "usage: sh examples/run.sh [inproc|tcp|ipc] [EXAMPLE...]" >&2
        echo "       sh examples/run.sh tcp|ipc 2proc [EXAMPLE...]" >&2
        exit 2
        ;;
esac
for ex in $examples; do
    case $ex in
        pair | pubsub | pipeline | rrbroker) ;;
        *)
            echo "no example named $ex" >&2
            exit 2
            ;;
    esac
done

CC=${CC:-cc}
if [ -n "${EXAMPLES_BIN:-}" ]; then
    bin=$EXAMPLES_BIN
    echo "== examples from $bin"
else
    bin=target/examples
    mkdir -p "$bin"
    if [ "${ZMQ_REF:-0}" = 1 ]; then
        flags="-lzmq"
        echo "== examples against the system libzmq"
    else
        if [ ! -f target/release/libzmq.so ]; then
            cargo build --release --lib
        fi
        # Programs ask the loader for the SONAME, libzmq.so.5, which cargo
        # does not create; without this link the rpath would miss and the
        # system libzmq would be loaded instead of ours.
        lib="$(pwd)/$bin/lib"
        mkdir -p "$lib"
        ln -sf "$(pwd)/target/release/libzmq.so" "$lib/libzmq.so.5"
        flags="-Iinclude -Ltarget/release -lzmq -Wl,-rpath,$lib"
        echo "== examples against ferrozmq ($lib/libzmq.so.5)"
    fi
    for ex in $examples; do
        # shellcheck disable=SC2086
        $CC -Wall -O2 -o "$bin/$ex" "examples/$ex.c" $flags -lpthread
    done
fi

# A scratch directory per run for the processes' output and ipc files.
run=$(mktemp -d "/tmp/ferrozmq-examples-$$.XXXXXX")
trap 'rm -rf "$run"' EXIT

# start NAME EXAMPLE ARG...: runs one party in the background, its output
# in $run/NAME.log.
start() {
    name=$1
    shift
    echo "\$ $*"
    echo "$*" >"$run/$name.cmd"
    prog=$1
    shift
    timeout -k 5 30 "$bin/$prog" "$@" >"$run/$name.log" 2>&1 &
    echo $! >"$run/$name.pid"
    parties="$parties $name"
}

# endpoint NAME N: the N-th endpoint party NAME printed as "... bound to EP".
endpoint() {
    tries=0
    while :; do
        ep=$(sed -n 's/.* bound to //p' "$run/$1.log" | sed -n "$2p")
        if [ -n "$ep" ]; then
            echo "$ep"
            return 0
        fi
        tries=$((tries + 1))
        if [ $tries -gt 200 ] || ! kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; then
            echo "$1 printed no endpoint" >&2
            echo "-"
            return 0
        fi
        sleep 0.05
    done
}

# finish NAME...: waits for each party to exit and records its status.
finish() {
    for name in "$@"; do
        if wait "$(cat "$run/$name.pid")"; then
            echo 0 >"$run/$name.status"
        else
            echo $? >"$run/$name.status"
        fi
    done
}

# stop NAME...: asks the serving parties to stop (SIGTERM), then finishes.
stop() {
    for name in "$@"; do
        kill -TERM "$(cat "$run/$name.pid")" 2>/dev/null || true
    done
    finish "$@"
}

# report: prints each party's output and fails if one did not exit with 0.
report() {
    failed=0
    for name in $parties; do
        st=$(cat "$run/$name.status" 2>/dev/null || echo "not finished")
        echo "-- $(cat "$run/$name.cmd") (exit $st)"
        cat "$run/$name.log"
        [ "$st" = 0 ] || failed=1
    done
    return $failed
}

tcp_any="tcp://127.0.0.1:*"

pair_processes() {
    if [ "$transport" = tcp ]; then
        start step3 pair step3 "$tcp_any"
        start step2 pair step2 "$(endpoint step3 1)"
    else
        # The other way round: step2 binds, step3 connects first.
        start step3 pair step3 --connect "ipc://$run/pair"
        start step2 pair step2 --bind "ipc://$run/pair"
    fi
    finish step3 step2
}

pubsub_processes() {
    if [ "$transport" = tcp ]; then
        start publisher pubsub publisher "$tcp_any" "$tcp_any"
        updates=$(endpoint publisher 1)
        sync=$(endpoint publisher 2)
    else
        updates="ipc://$run/pubsub-updates"
        sync="ipc://$run/pubsub-sync"
    fi
    start weather pubsub subscriber "$updates" "$sync" weather.
    start sports pubsub subscriber "$updates" "$sync" sports. news.
    if [ "$transport" = ipc ]; then
        start publisher pubsub publisher "$updates" "$sync"
    fi
    finish weather sports publisher
}

pipeline_processes() {
    if [ "$transport" = tcp ]; then
        start sink pipeline sink "$tcp_any"
        results=$(endpoint sink 1)
        start ventilator pipeline ventilator "$tcp_any"
        tasks=$(endpoint ventilator 1)
    else
        tasks="ipc://$run/pipeline-tasks"
        results="ipc://$run/pipeline-results"
    fi
    for w in 1 2 3; do
        start "worker$w" pipeline worker "$tasks" "$results" "$w"
    done
    if [ "$transport" = ipc ]; then
        start sink pipeline sink "$results"
        start ventilator pipeline ventilator "$tasks"
    fi
    finish ventilator sink
    stop worker1 worker2 worker3
}

rrbroker_processes() {
    if [ "$transport" = tcp ]; then
        start broker rrbroker broker "$tcp_any" "$tcp_any"
        frontend=$(endpoint broker 1)
        backend=$(endpoint broker 2)
    else
        frontend="ipc://$run/rrbroker-frontend"
        backend="ipc://$run/rrbroker-backend"
    fi
    for w in 1 2 3; do
        start "worker$w" rrbroker worker "$backend" "$w"
    done
    start clientA rrbroker client "$frontend" A
    start clientB rrbroker client "$frontend" B
    if [ "$transport" = ipc ]; then
        start broker rrbroker broker "$frontend" "$backend"
    fi
    finish clientA clientB
    stop worker1 worker2 worker3 broker
}

status=0
for ex in $examples; do
    echo
    if [ $mode = threads ]; then
        echo "== $ex $transport"
        if ! timeout -k 5 30 "$bin/$ex" "$transport"; then
            echo "== $ex FAILED"
            status=1
        fi
    else
        echo "== $ex over $transport, one process per party"
        parties=""
        "${ex}_processes"
        if report; then
            echo "== $ex: every process exited with 0"
        else
            echo "== $ex FAILED"
            status=1
        fi
    fi
done
exit $status
