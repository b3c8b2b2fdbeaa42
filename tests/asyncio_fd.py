#!/usr/bin/env python3
"""An asyncio event loop driving a PULL socket through ZMQ_FD, as pyzmq's
asyncio support does, on whichever libzmq.so it is given.

libzmq's contract for ZMQ_FD is edge-like: the descriptor only tells that
something *may* have changed; the application then reads ZMQ_EVENTS and works
(here: receives with ZMQ_DONTWAIT) until ZMQ_EVENTS has no POLLIN, and only
then goes back to waiting. The loop must never miss a message (the fd must
signal every change it has not yet been told about) and never spin (the fd
must go quiet once ZMQ_EVENTS was read).

    asyncio_fd.py --lib PATH --transport inproc|tcp|ipc [--count N]

A sender (a thread for inproc, another process for tcp and ipc) sends N
numbered messages with small high-water marks and short pauses, so the
receiver keeps running dry and going back to sleep. The receiver checks
every number, counts the loop's wake-ups, then stays idle for a while and
counts the wake-ups and CPU time of that quiet period. It prints one summary
line, and fails (exit 1) on a miss, a hang or a spin.

Only the standard library is used: ctypes for libzmq, asyncio for the loop.
"""

import argparse
import asyncio
import ctypes
import os
import struct
import subprocess
import sys
import threading
import time

ZMQ_PULL = 7
ZMQ_PUSH = 8
ZMQ_FD = 14
ZMQ_EVENTS = 15
ZMQ_LINGER = 17
ZMQ_SNDHWM = 23
ZMQ_RCVHWM = 24
ZMQ_LAST_ENDPOINT = 32
ZMQ_DONTWAIT = 1
ZMQ_POLLIN = 1
EAGAIN = 11

HWM = 100
PAUSE_EVERY = 5000
IDLE_SECONDS = 0.5
TIMEOUT_SECONDS = 60


def load(path):
    """libzmq's functions used here, typed for ctypes."""
    lib = ctypes.CDLL(path)
    vp, i, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
    sigs = {
        "zmq_ctx_new": (vp, []),
        "zmq_ctx_term": (i, [vp]),
        "zmq_socket": (vp, [vp, i]),
        "zmq_close": (i, [vp]),
        "zmq_bind": (i, [vp, ctypes.c_char_p]),
        "zmq_connect": (i, [vp, ctypes.c_char_p]),
        "zmq_setsockopt": (i, [vp, i, vp, sz]),
        "zmq_getsockopt": (i, [vp, i, vp, ctypes.POINTER(sz)]),
        "zmq_send": (i, [vp, vp, sz, i]),
        "zmq_recv": (i, [vp, vp, sz, i]),
        "zmq_errno": (i, []),
        "zmq_strerror": (ctypes.c_char_p, [i]),
        "zmq_version": (None, [ctypes.POINTER(i)] * 3),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


class Zmq:
    def __init__(self, path):
        self.lib = load(path)

    def check(self, rc, what):
        if rc == -1 or rc is None:
            e = self.lib.zmq_errno()
            raise OSError(e, "%s: %s" % (what, self.lib.zmq_strerror(e).decode()))
        return rc

    def set_int(self, s, opt, value):
        v = ctypes.c_int(value)
        self.check(
            self.lib.zmq_setsockopt(s, opt, ctypes.byref(v), ctypes.sizeof(v)),
            "zmq_setsockopt(%d)" % opt,
        )

    def get_int(self, s, opt):
        v = ctypes.c_int(-1)
        size = ctypes.c_size_t(ctypes.sizeof(v))
        self.check(
            self.lib.zmq_getsockopt(s, opt, ctypes.byref(v), ctypes.byref(size)),
            "zmq_getsockopt(%d)" % opt,
        )
        return v.value

    def last_endpoint(self, s):
        buf = ctypes.create_string_buffer(256)
        size = ctypes.c_size_t(256)
        self.check(
            self.lib.zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, ctypes.byref(size)),
            "ZMQ_LAST_ENDPOINT",
        )
        return buf.value.decode()


def send_all(zmq, ctx, endpoint, count, received):
    """Connects a PUSH socket and sends `count` numbered messages, pausing
    now and then so the receiver runs dry. Stays connected until
    `received()` returns: libzmq 4.3.4 loses the messages a connection still
    holds when the peer disconnects while the receiver's pipe is full (over
    tcp and ipc), which is not what this test is about."""
    s = zmq.check(zmq.lib.zmq_socket(ctx, ZMQ_PUSH), "zmq_socket")
    zmq.set_int(s, ZMQ_SNDHWM, HWM)
    zmq.set_int(s, ZMQ_LINGER, -1)
    zmq.check(zmq.lib.zmq_connect(s, endpoint.encode()), "zmq_connect")
    buf = ctypes.create_string_buffer(4)
    for n in range(count):
        struct.pack_into("<I", buf, 0, n)
        zmq.check(zmq.lib.zmq_send(s, buf, 4, 0), "zmq_send")
        if n % PAUSE_EVERY == 0:
            time.sleep(0.001)
    received()
    zmq.check(zmq.lib.zmq_close(s), "zmq_close")


def sender_process(args):
    zmq = Zmq(args.lib)
    ctx = zmq.lib.zmq_ctx_new()
    # The receiver closes our stdin once it has every message.
    send_all(zmq, ctx, args.endpoint, args.count, sys.stdin.read)
    zmq.check(zmq.lib.zmq_ctx_term(ctx), "zmq_ctx_term")


def loaded_libzmq():
    """The libzmq file this process mapped (to prove which one ran)."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "libzmq" in os.path.basename(path):
                return os.path.realpath(path)
    return "?"


class Receiver:
    """Receives on `pull` from an asyncio reader callback on its ZMQ_FD."""

    def __init__(self, zmq, pull, count, done):
        self.zmq, self.pull, self.count, self.done = zmq, pull, count, done
        self.next = 0
        self.wakeups = 0  # reader callbacks
        self.idle_wakeups = 0  # callbacks that found nothing to receive
        self.events_reads = 0
        self.buf = ctypes.create_string_buffer(16)
        self.error = None

    def pollin(self):
        self.events_reads += 1
        return self.zmq.get_int(self.pull, ZMQ_EVENTS) & ZMQ_POLLIN

    def drain(self):
        """Receives until ZMQ_EVENTS says there is nothing more: the edge
        contract (the fd will not signal what is already queued)."""
        got = 0
        lib = self.zmq.lib
        while self.pollin():
            while True:
                n = lib.zmq_recv(self.pull, self.buf, 16, ZMQ_DONTWAIT)
                if n == -1:
                    e = lib.zmq_errno()
                    if e != EAGAIN:
                        raise OSError(e, lib.zmq_strerror(e).decode())
                    break
                if n != 4:
                    raise AssertionError("message of %d bytes" % n)
                (v,) = struct.unpack_from("<I", self.buf, 0)
                if v != self.next:
                    raise AssertionError("expected message %d, got %d" % (self.next, v))
                self.next += 1
                got += 1
        return got

    def on_readable(self):
        self.wakeups += 1
        try:
            if self.drain() == 0:
                self.idle_wakeups += 1
            if self.next >= self.count and not self.done.done():
                self.done.set_result(None)
        except Exception as e:  # surfaced by run() through the future
            if not self.done.done():
                self.done.set_exception(e)


async def receive(args, zmq, ctx):
    loop = asyncio.get_running_loop()
    pull = zmq.check(zmq.lib.zmq_socket(ctx, ZMQ_PULL), "zmq_socket")
    zmq.set_int(pull, ZMQ_RCVHWM, HWM)
    zmq.set_int(pull, ZMQ_LINGER, 0)
    if args.transport == "inproc":
        bind = "inproc://asyncio-fd"
    elif args.transport == "tcp":
        bind = "tcp://127.0.0.1:*"
    else:
        bind = "ipc:///tmp/ferro-asyncio-%d" % os.getpid()
    zmq.check(zmq.lib.zmq_bind(pull, bind.encode()), "zmq_bind")
    endpoint = zmq.last_endpoint(pull)

    done = loop.create_future()
    rx = Receiver(zmq, pull, args.count, done)
    fd = zmq.get_int(pull, ZMQ_FD)
    loop.add_reader(fd, rx.on_readable)
    # The fd only tells about changes from now on: look once first.
    rx.on_readable()
    rx.wakeups -= 1

    sender = None
    thread = None
    all_received = threading.Event()
    if args.transport == "inproc":
        thread = threading.Thread(
            target=send_all,
            args=(zmq, ctx, endpoint, args.count, all_received.wait),
        )
        thread.start()
    else:
        sender = subprocess.Popen(
            [sys.executable, __file__, "--role", "sender", "--lib", args.lib,
             "--endpoint", endpoint, "--count", str(args.count)],
            stdin=subprocess.PIPE,
        )

    def release_sender():
        all_received.set()
        if sender:
            sender.stdin.close()
    started = time.monotonic()
    try:
        try:
            await asyncio.wait_for(done, TIMEOUT_SECONDS)
        finally:
            release_sender()
    except asyncio.TimeoutError:
        # Tell a silent fd (messages queued, nothing signalled) from messages
        # that never came.
        import select
        readable = bool(select.select([fd], [], [], 0)[0])
        pollin = zmq.get_int(pull, ZMQ_EVENTS) & ZMQ_POLLIN
        late = rx.drain()
        raise AssertionError(
            "timed out at message %d of %d after %d wake-ups; then ZMQ_FD readable: %s, "
            "ZMQ_EVENTS POLLIN: %s, %d more messages received without waiting, "
            "sender %s"
            % (rx.next - late, args.count, rx.wakeups, readable, bool(pollin), late,
               "exited %s" % sender.poll() if sender else
               ("running" if thread.is_alive() else "done"))
        )
    elapsed = time.monotonic() - started
    if thread:
        thread.join()
    if sender and sender.wait(TIMEOUT_SECONDS) != 0:
        raise AssertionError("sender process failed")

    # Quiet period: the peer is gone (tcp/ipc) or idle; the loop must sleep.
    busy = (rx.wakeups, rx.idle_wakeups)
    cpu0 = time.process_time()
    await asyncio.sleep(IDLE_SECONDS)
    idle_cpu = time.process_time() - cpu0
    quiet_wakeups = rx.wakeups - busy[0]
    loop.remove_reader(fd)
    zmq.check(zmq.lib.zmq_close(pull), "zmq_close")

    print(
        "asyncio %s: %d messages in %.2f s: %d wake-ups (%d with nothing to read), "
        "%d ZMQ_EVENTS reads; idle %.1f s: %d wake-ups, %.0f ms CPU; libzmq %s"
        % (args.transport, rx.next, elapsed, busy[0], busy[1], rx.events_reads,
           IDLE_SECONDS, quiet_wakeups, idle_cpu * 1000, loaded_libzmq())
    )
    failures = []
    if rx.next != args.count:
        failures.append("received %d of %d" % (rx.next, args.count))
    # Not spinning: far fewer wake-ups than messages, and mostly useful ones.
    if busy[0] >= args.count // 4:
        failures.append("%d wake-ups for %d messages" % (busy[0], args.count))
    if busy[1] > busy[0] // 2 + 10:
        failures.append("%d of %d wake-ups found nothing" % (busy[1], busy[0]))
    # Idle means idle: a disconnecting peer may ring once or twice.
    if quiet_wakeups > 3:
        failures.append("%d wake-ups while idle" % quiet_wakeups)
    if idle_cpu > IDLE_SECONDS / 5:
        failures.append("%.0f ms CPU while idle" % (idle_cpu * 1000))
    if failures:
        raise AssertionError("; ".join(failures))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", required=True)
    p.add_argument("--transport", choices=["inproc", "tcp", "ipc"], default="inproc")
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--role", choices=["receiver", "sender"], default="receiver")
    p.add_argument("--endpoint")
    args = p.parse_args()
    if args.role == "sender":
        sender_process(args)
        return
    zmq = Zmq(args.lib)
    ctx = zmq.check(zmq.lib.zmq_ctx_new(), "zmq_ctx_new")
    try:
        asyncio.run(receive(args, zmq, ctx))
    except AssertionError as e:
        print("FAIL: asyncio %s on %s: %s" % (args.transport, loaded_libzmq(), e))
        sys.exit(1)
    zmq.check(zmq.lib.zmq_ctx_term(ctx), "zmq_ctx_term")


if __name__ == "__main__":
    main()
