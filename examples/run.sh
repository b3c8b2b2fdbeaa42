#!/bin/sh
# Builds and runs the C examples: sh examples/run.sh [inproc|tcp|ipc]
#
# By default they are compiled against our include/zmq.h and linked to
# target/release/libzmq.so. With ZMQ_REF=1 they use the system libzmq
# instead, to compare the output with the reference implementation.
set -eu
cd "$(dirname "$0")/.."

out=target/examples
mkdir -p "$out"
CC=${CC:-cc}

if [ "${ZMQ_REF:-0}" = 1 ]; then
    flags="-lzmq"
    echo "== examples against the system libzmq"
else
    if [ ! -f target/release/libzmq.so ]; then
        cargo build --release --lib
    fi
    # Programs ask the loader for the SONAME, libzmq.so.5, which cargo does
    # not create; without this link the rpath would miss and the system
    # libzmq would be loaded instead of ours.
    lib="$(pwd)/$out/lib"
    mkdir -p "$lib"
    ln -sf "$(pwd)/target/release/libzmq.so" "$lib/libzmq.so.5"
    flags="-Iinclude -Ltarget/release -lzmq -Wl,-rpath,$lib"
    echo "== examples against ferrozmq ($lib/libzmq.so.5)"
fi

status=0
for ex in pair pubsub pipeline rrbroker; do
    # shellcheck disable=SC2086
    $CC -Wall -O2 -o "$out/$ex" "examples/$ex.c" $flags -lpthread
    echo
    echo "== $ex $*"
    if ! timeout 30 "$out/$ex" "$@"; then
        echo "== $ex FAILED"
        status=1
    fi
done
exit $status
