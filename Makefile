# ferrozmq: the commands CI and developers run. `make test` is what CI runs.

CARGO = cargo
CBINDGEN = cbindgen
JOBS = -j2

.PHONY: all build header check-header test demo clean

all: build

# Programs built against libzmq ask the loader for libzmq.so.5: give ours
# that name too, so LD_LIBRARY_PATH=target/release finds it.
build:
	$(CARGO) build --release $(JOBS)
	ln -sf libzmq.so target/release/libzmq.so.5

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
