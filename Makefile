# ferrozmq: the commands CI and developers run. `make test` is what CI runs.

CARGO = cargo
CBINDGEN = cbindgen
JOBS = -j2

# Where `make install` puts things (DESTDIR is prepended for staged installs).
PREFIX = /usr/local
LIBDIR = $(PREFIX)/lib
INCLUDEDIR = $(PREFIX)/include
PKGCONFIGDIR = $(LIBDIR)/pkgconfig
CMAKEDIR = $(LIBDIR)/cmake/ZeroMQ
DESTDIR =

# The version we implement, read from the committed header, and the file name
# libzmq 4.3.4's libtool gives its shared library (SONAME libzmq.so.5).
ZMQ_VERSION := $(shell sed -n 's/^\#define ZMQ_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' include/zmq.h | paste -sd.)
SO_FULL = libzmq.so.5.2.4
SO_MAJOR = libzmq.so.5

RELEASE = target/release
# What the library is built from: an install whose artefacts are newer than
# all of these copies them without running cargo (so not as root).
RUST_SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock build.rs

.PHONY: all build static header check-header test test-ecosystem test-pyzmq demo \
	install uninstall clean

all: build static

# Programs built against libzmq ask the loader for libzmq.so.5: give ours
# that name too, so LD_LIBRARY_PATH=target/release finds it.
build:
	$(CARGO) build --release $(JOBS)
	ln -sf libzmq.so $(RELEASE)/libzmq.so.5

# The static library: the same crate built once more as a staticlib (a few
# seconds; Cargo.toml keeps cdylib + rlib so `cargo build` stays as it was).
static:
	$(CARGO) rustc --release $(JOBS) --lib --crate-type staticlib

$(RELEASE)/libzmq.so: $(RUST_SOURCES)
	$(CARGO) build --release $(JOBS)

$(RELEASE)/libzmq.a: $(RUST_SOURCES)
	$(CARGO) rustc --release $(JOBS) --lib --crate-type staticlib

# include/zmq.h is generated from src/ffi/ and cbindgen.toml, and committed.
header:
	$(CBINDGEN) --quiet --config cbindgen.toml --output include/zmq.h src/ffi/mod.rs

# Fails when include/zmq.h is not what `make header` would write.
check-header:
	@tmp=$$(mktemp) && \
	$(CBINDGEN) --quiet --config cbindgen.toml --output "$$tmp" src/ffi/mod.rs && \
	if diff -u include/zmq.h "$$tmp"; then rm -f "$$tmp"; \
	else rm -f "$$tmp"; echo "include/zmq.h is stale: run 'make header'" >&2; exit 1; fi

test: check-header
	$(CARGO) test --release $(JOBS)
	# The draft API (zmq_poller_*, versioned monitor): its unit and C tests.
	$(CARGO) test --release $(JOBS) --features draft --lib --test capi
	$(MAKE) --no-print-directory test-ecosystem
	$(MAKE) --no-print-directory test-pyzmq

# Installs into a scratch prefix and builds and runs a program through each
# way in: pkg-config, CMake, LD_LIBRARY_PATH, LD_PRELOAD (tests/ecosystem/).
test-ecosystem: all
	bash tests/ecosystem/run.sh

# pyzmq's own test suite on ferrozmq installed under target/pyzmq/ (kept, so
# its venvs can be used afterwards) and on Debian's libzmq.
PYZMQ_PREFIX = $(CURDIR)/target/pyzmq/ferrozmq-prefix
test-pyzmq: all
	rm -rf $(PYZMQ_PREFIX)
	$(MAKE) --no-print-directory -s install PREFIX=$(PYZMQ_PREFIX) >/dev/null
	bash bindings/pyzmq/test.sh $(PYZMQ_PREFIX)

# Substitutes the install paths into a template of packaging/.
subst = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(ZMQ_VERSION)|g' \
	-e 's|@SO_FULL@|$(SO_FULL)|g' -e 's|@SO_MAJOR@|$(SO_MAJOR)|g' \
	-e "s|@SIZEOF_VOID_P@|$$(($$(getconf LONG_BIT) / 8))|g"

# libzmq's layout: the shared library under its libtool name with the SONAME
# and development links, the static library, both headers, libzmq.pc, and
# the CMake package with the imported targets libzmq and libzmq-static.
# Depends on the built files, not on `build`: after `make`, `sudo make
# install` only copies.
install: $(RELEASE)/libzmq.so $(RELEASE)/libzmq.a
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(CMAKEDIR)
	install -m 755 $(RELEASE)/libzmq.so $(DESTDIR)$(LIBDIR)/$(SO_FULL)
	ln -sf $(SO_FULL) $(DESTDIR)$(LIBDIR)/$(SO_MAJOR)
	ln -sf $(SO_FULL) $(DESTDIR)$(LIBDIR)/libzmq.so
	install -m 644 $(RELEASE)/libzmq.a $(DESTDIR)$(LIBDIR)/libzmq.a
	install -m 644 include/zmq.h include/zmq_utils.h $(DESTDIR)$(INCLUDEDIR)/
	$(subst) packaging/libzmq.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libzmq.pc
	$(subst) packaging/ZeroMQConfig.cmake.in > $(DESTDIR)$(CMAKEDIR)/ZeroMQConfig.cmake
	$(subst) packaging/ZeroMQConfigVersion.cmake.in > $(DESTDIR)$(CMAKEDIR)/ZeroMQConfigVersion.cmake
	$(subst) packaging/ZeroMQTargets.cmake.in > $(DESTDIR)$(CMAKEDIR)/ZeroMQTargets.cmake

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(SO_FULL) $(DESTDIR)$(LIBDIR)/$(SO_MAJOR) \
		$(DESTDIR)$(LIBDIR)/libzmq.so $(DESTDIR)$(LIBDIR)/libzmq.a \
		$(DESTDIR)$(INCLUDEDIR)/zmq.h $(DESTDIR)$(INCLUDEDIR)/zmq_utils.h \
		$(DESTDIR)$(PKGCONFIGDIR)/libzmq.pc \
		$(DESTDIR)$(CMAKEDIR)/ZeroMQConfig.cmake \
		$(DESTDIR)$(CMAKEDIR)/ZeroMQConfigVersion.cmake \
		$(DESTDIR)$(CMAKEDIR)/ZeroMQTargets.cmake
	-rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null

# The examples with all their parties in one process, then with one
# process per party.
demo: build
	sh examples/run.sh inproc
	sh examples/run.sh tcp
	sh examples/run.sh ipc
	sh examples/run.sh tcp 2proc
	sh examples/run.sh ipc 2proc

clean:
	$(CARGO) clean
