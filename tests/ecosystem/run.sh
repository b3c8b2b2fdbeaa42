#!/usr/bin/env bash
# Installs ferrozmq the way a user would and checks every way a libzmq user
# gets at it: the installed layout, pkg-config (shared, rpath or
# LD_LIBRARY_PATH, and static), CMake's find_package(ZeroMQ) with the
# imported targets libzmq and libzmq-static, and a binary built against
# Debian's libzmq3-dev switched to ours with LD_LIBRARY_PATH and LD_PRELOAD.
# Each program checks in /proc/self/maps which libzmq the loader mapped.
#
#   bash tests/ecosystem/run.sh           make install into a scratch prefix
#                                         (and a DESTDIR staging + uninstall)
#   bash tests/ecosystem/run.sh PREFIX    test what is installed at PREFIX
#
# Needs cc, pkg-config, ldd and readelf/nm; cmake for the CMake cases;
# Debian's libzmq3-dev for the drop-in cases. A missing tool skips its cases
# with a message, except under CI=true, where it fails them (.ci/run installs
# everything). KEEP=1 keeps the scratch directory. Ends with
# "ecosystem: N passed, M failed[, K skipped]"; exits 1 if any failed.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
APP_SRC=$ROOT/tests/ecosystem/app.c
# Debian's libzmq, the reference the drop-in cases switch away from.
SYS_LIBDIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ferrozmq-ecosystem.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then
    echo "ecosystem: scratch directory kept: $SCRATCH"
else
    trap 'rm -rf "$SCRATCH"' EXIT
fi

# Only the rpath, LD_LIBRARY_PATH or LD_PRELOAD a case sets may pick the
# library (cargo test and users' shells may have these set).
unset LD_LIBRARY_PATH LD_PRELOAD PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH

if [ $# -ge 1 ]; then
    PREFIX=$(cd "$1" && pwd)
    INSTALLED_HERE=0
else
    PREFIX=$SCRATCH/prefix
    INSTALLED_HERE=1
    if ! make --no-print-directory -s install PREFIX="$PREFIX" >"$SCRATCH/install.log" 2>&1; then
        cat "$SCRATCH/install.log"
        echo "ecosystem: make install PREFIX=$PREFIX failed"
        echo "ecosystem: 0 passed, 1 failed"
        exit 1
    fi
fi
LIBDIR=$PREFIX/lib

passed=0 failed=0 skipped=0
failed_names=""

# Runs case NAME (a function case_NAME) with set -e, its output in a log
# that is shown when it fails. A case exits 77 to skip.
run_case() {
    local name=$1 log=$SCRATCH/$1.log st
    ( set -e; mkdir -p "$SCRATCH/$name"; cd "$SCRATCH/$name"; "case_$name" ) >"$log" 2>&1
    st=$?
    case $st in
        0)
            passed=$((passed + 1))
            echo "ecosystem: $name ... ok"
            ;;
        77)
            skipped=$((skipped + 1))
            echo "ecosystem: $name ... SKIPPED: $(tail -n 1 "$log")"
            ;;
        *)
            failed=$((failed + 1))
            failed_names="$failed_names $name"
            echo "ecosystem: $name ... FAILED"
            sed 's/^/    | /' "$log"
            ;;
    esac
}

# Skips (exit 77) when a tool is missing, or fails under CI.
need() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            if [ "${CI:-}" = true ]; then
                echo "$tool not found (CI must install it: see .ci/run)"
                exit 1
            fi
            echo "$tool not found; install it to run this case"
            exit 77
        fi
    done
}

need_debian_libzmq() {
    if [ ! -e /usr/include/zmq.h ] || [ ! -e "$SYS_LIBDIR/libzmq.so.5" ]; then
        if [ "${CI:-}" = true ]; then
            echo "Debian's libzmq3-dev not found (CI must install it: see .ci/run)"
            exit 1
        fi
        echo "Debian's libzmq3-dev not found; apt-get install libzmq3-dev to run this case"
        exit 77
    fi
}

fail() {
    echo "FAIL: $*"
    exit 1
}

# The libzmq.so.5 ldd resolves for binary $1 (with the current environment).
ldd_libzmq() {
    ldd "$1" | awk '$1 == "libzmq.so.5" { print $3 }'
}

# Runs ./app with expectation $2 (a directory, or "static") under `timeout`.
run_app() {
    echo "+ $*"
    timeout 60 "$@"
}

# --- cases -----------------------------------------------------------------

# The files libzmq installs, under the same names, and a shared library
# whose SONAME is libzmq.so.5.
case_layout() {
    need readelf pkg-config
    for f in lib/libzmq.so.5.2.4 lib/libzmq.a include/zmq.h include/zmq_utils.h \
        lib/pkgconfig/libzmq.pc lib/cmake/ZeroMQ/ZeroMQConfig.cmake \
        lib/cmake/ZeroMQ/ZeroMQConfigVersion.cmake lib/cmake/ZeroMQ/ZeroMQTargets.cmake; do
        [ -f "$PREFIX/$f" ] || fail "$PREFIX/$f missing"
    done
    [ "$(readlink "$LIBDIR/libzmq.so.5")" = libzmq.so.5.2.4 ] || fail "libzmq.so.5 is not a link to libzmq.so.5.2.4"
    [ "$(readlink "$LIBDIR/libzmq.so")" = libzmq.so.5.2.4 ] || fail "libzmq.so is not a link to libzmq.so.5.2.4"
    readelf -d "$LIBDIR/libzmq.so.5.2.4" | grep -F 'Library soname: [libzmq.so.5]' \
        || fail "SONAME of libzmq.so.5.2.4 is not libzmq.so.5"
    cmp "$PREFIX/include/zmq.h" "$ROOT/include/zmq.h" || fail "installed zmq.h differs from include/zmq.h"
    export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
    [ "$(pkg-config --variable=prefix libzmq)" = "$PREFIX" ] || fail "pkg-config finds another libzmq.pc"
    pkg-config --modversion libzmq
    pkg-config --atleast-version=4.3 libzmq || fail "libzmq.pc version below 4.3"
    pkg-config --print-errors --validate libzmq 2>/dev/null || pkg-config --print-errors --exists libzmq
}

# cc $(pkg-config --cflags --libs libzmq), with an rpath to pkg-config's
# libdir: our header at compile time, our library at run time.
case_pkgconfig() {
    need cc pkg-config ldd
    export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
    # The zmq.h the compiler reads is ours, not /usr/include/zmq.h.
    hdr=$(echo '#include <zmq.h>' | cc $(pkg-config --cflags libzmq) -E -x c - | awk -F'"' '/zmq\.h"/ { print $2; exit }')
    echo "zmq.h used: $hdr"
    [ "$hdr" = "$PREFIX/include/zmq.h" ] || fail "compiled against $hdr"
    cc -o app "$APP_SRC" $(pkg-config --cflags --libs libzmq) \
        -Wl,-rpath,"$(pkg-config --variable=libdir libzmq)"
    echo "ldd: $(ldd_libzmq app)"
    [ "$(ldd_libzmq app)" = "$LIBDIR/libzmq.so.5" ] || fail "ldd resolves $(ldd_libzmq app)"
    run_app ./app "$LIBDIR"
}

# The same build without an rpath: the loader finds Debian's libzmq unless
# LD_LIBRARY_PATH points at the prefix (which proves the check can tell).
case_pkgconfig_ld_library_path() {
    need cc pkg-config ldd
    export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
    cc -o app "$APP_SRC" $(pkg-config --cflags --libs libzmq)
    if [ -e "$SYS_LIBDIR/libzmq.so.5" ]; then
        echo "without LD_LIBRARY_PATH: $(ldd_libzmq app)"
        run_app ./app "$SYS_LIBDIR"
    fi
    export LD_LIBRARY_PATH=$LIBDIR
    echo "with LD_LIBRARY_PATH: $(ldd_libzmq app)"
    [ "$(ldd_libzmq app)" = "$LIBDIR/libzmq.so.5" ] || fail "ldd resolves $(ldd_libzmq app)"
    run_app ./app "$LIBDIR"
}

# cc -static $(pkg-config --static --cflags --libs libzmq): libzmq.a and
# Libs.private are enough for a fully static program.
case_pkgconfig_static() {
    need cc pkg-config nm
    export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
    # glibc warns that getaddrinfo in a static program needs glibc's shared
    # libraries at run time; that is expected.
    cc -static -o app "$APP_SRC" $(pkg-config --static --cflags --libs libzmq)
    # Ours, not Debian's libzmq.a: the Rust runtime is in it.
    nm app | grep -q ' T rust_eh_personality$' || fail "app does not contain ferrozmq's libzmq.a"
    run_app ./app static
}

# find_package(ZeroMQ 4.3) + target_link_libraries(app libzmq), and
# app-static with libzmq-static; the variables libzmq's package sets.
case_cmake() {
    need cc cmake ldd nm
    cmake -S "$ROOT/tests/ecosystem/cmake" -B build -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DAPP_SOURCE="$APP_SRC" -DCMAKE_BUILD_TYPE=Release
    cmake --build build
    cat build/zeromq-vars.txt
    grep -qx "ZeroMQ_FOUND=1" build/zeromq-vars.txt || fail "ZeroMQ_FOUND"
    grep -qx "ZeroMQ_VERSION=4.3.4" build/zeromq-vars.txt || fail "ZeroMQ_VERSION"
    grep -qx "ZeroMQ_INCLUDE_DIR=$PREFIX/include" build/zeromq-vars.txt || fail "ZeroMQ_INCLUDE_DIR"
    grep -qx "ZeroMQ_LIBRARY=$LIBDIR/libzmq.so.5.2.4" build/zeromq-vars.txt || fail "ZeroMQ_LIBRARY"
    grep -qx "ZeroMQ_STATIC_LIBRARY=$LIBDIR/libzmq.a" build/zeromq-vars.txt || fail "ZeroMQ_STATIC_LIBRARY"
    grep -qx "ZeroMQ_DIR=$LIBDIR/cmake/ZeroMQ" build/zeromq-vars.txt || fail "ZeroMQ_DIR"
    # CMake gives the build-tree program an rpath to the imported library.
    echo "ldd: $(ldd_libzmq build/app)"
    [ "$(ldd_libzmq build/app)" = "$LIBDIR/libzmq.so.5" ] || fail "ldd resolves $(ldd_libzmq build/app)"
    run_app build/app "$LIBDIR"
    nm build/app-static | grep -q ' T rust_eh_personality$' || fail "app-static does not contain ferrozmq's libzmq.a"
    run_app build/app-static static
}

# The version file: 4.0 and 4.3.4 are accepted (AnyNewerVersion), 4.4 and 5
# are not.
case_cmake_version() {
    need cc cmake
    for want in 4.0 4.3.4 4.4 5; do
        rm -rf "build-$want"
        if cmake -S "$ROOT/tests/ecosystem/cmake" -B "build-$want" -DCMAKE_PREFIX_PATH="$PREFIX" \
            -DAPP_SOURCE="$APP_SRC" -DZMQ_WANT="$want" >"cmake-$want.log" 2>&1; then
            result=accepted
        else
            result=refused
        fi
        echo "find_package(ZeroMQ $want): $result"
        case $want:$result in
            4.0:accepted | 4.3.4:accepted | 4.4:refused | 5:refused) ;;
            *)
                cat "cmake-$want.log"
                fail "find_package(ZeroMQ $want) $result"
                ;;
        esac
    done
}

# An unmodified program built against Debian's libzmq3-dev (its zmq.h, its
# libzmq.so), run on ours through LD_LIBRARY_PATH.
case_debian_binary_ld_library_path() {
    need cc ldd
    need_debian_libzmq
    cc -o app "$APP_SRC" -lzmq
    echo "as built: $(ldd_libzmq app)"
    run_app ./app "$SYS_LIBDIR"
    export LD_LIBRARY_PATH=$LIBDIR
    echo "with LD_LIBRARY_PATH: $(ldd_libzmq app)"
    [ "$(ldd_libzmq app)" = "$LIBDIR/libzmq.so.5" ] || fail "ldd resolves $(ldd_libzmq app)"
    run_app ./app "$LIBDIR"
}

# The same program with ours preloaded: the loader takes the preloaded
# libzmq.so.5 for the program's NEEDED entry and never maps Debian's.
case_debian_binary_ld_preload() {
    need cc ldd
    need_debian_libzmq
    cc -o app "$APP_SRC" -lzmq
    export LD_PRELOAD=$LIBDIR/libzmq.so.5
    ldd app | grep zmq
    run_app ./app "$LIBDIR"
}

# make install DESTDIR=... stages under DESTDIR with the final paths in
# libzmq.pc and the CMake package; make uninstall removes every file.
case_destdir_uninstall() {
    if [ "$INSTALLED_HERE" != 1 ]; then
        echo "PREFIX given: not installing"
        exit 77
    fi
    stage=$PWD/stage
    final=/opt/ferrozmq-staged
    make -C "$ROOT" --no-print-directory -s install DESTDIR="$stage" PREFIX="$final"
    (cd "$stage" && find . | sort)
    [ -f "$stage$final/lib/libzmq.so.5.2.4" ] || fail "not staged under DESTDIR"
    [ ! -e "$final" ] || fail "$final written outside DESTDIR"
    grep -qx "prefix=$final" "$stage$final/lib/pkgconfig/libzmq.pc" || fail "libzmq.pc prefix"
    grep -q "\"$final/lib/libzmq.so.5.2.4\"" "$stage$final/lib/cmake/ZeroMQ/ZeroMQTargets.cmake" \
        || fail "ZeroMQTargets.cmake location"
    make -C "$ROOT" --no-print-directory -s uninstall DESTDIR="$stage" PREFIX="$final"
    left=$(find "$stage" -type f -o -type l)
    [ -z "$left" ] || fail "left after uninstall: $left"
    echo "uninstall removed every file"
}

for c in layout pkgconfig pkgconfig_ld_library_path pkgconfig_static cmake cmake_version \
    debian_binary_ld_library_path debian_binary_ld_preload destdir_uninstall; do
    run_case "$c"
done

[ -z "$failed_names" ] || echo "ecosystem: failed:$failed_names"
summary="ecosystem: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
