/* tcp addresses as libzmq 4.3.4 resolves them, and several I/O threads,
 * pinned against Debian's libzmq. zmq_connect checks the syntax only (an
 * address that cannot resolve is accepted and retried); binds and the
 * source of `src;dst` take interface names but no DNS names. No case
 * asks a DNS server: names are `lo` and `localhost` (/etc/hosts). */
#include "testutil.h"

static void last_endpoint (void *s, char *out, size_t n)
{
    OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &n));
}

static int port_of (const char *ep)
{
    return atoi (strrchr (ep, ':') + 1);
}

static void test_connect_checks_syntax_only (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = tsock (ctx, ZMQ_PUSH);
    /* Resolved at each attempt, failing (and retried) there. */
    OK (zmq_connect (s, "tcp://[::1]:5555"));
    OK (zmq_connect (s, "tcp://nosuchif0:0;127.0.0.1:5555"));
    OK (zmq_connect (s, "tcp://127.0.0.1:0"));
    FAILS_WITH (zmq_connect (s, "tcp://*:5555"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://foo"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://foo:"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://foo:abc"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://-x:1"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://a b:1"), EINVAL);
    FAILS_WITH (zmq_connect (s, "tcp://_x:1"), EINVAL);
    OK (zmq_disconnect (s, "tcp://[::1]:5555"));
    int64_t t = now_ms ();
    tclose (s);
    OK (zmq_ctx_term (ctx));
    CHECK (now_ms () - t < 1000);
}

static void test_bind_by_interface (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = tsock (ctx, ZMQ_PULL);
    char ep[256], to[300];
    OK (zmq_bind (pull, "tcp://lo:*"));
    last_endpoint (pull, ep, sizeof ep);
    CHECK (strncmp (ep, "tcp://127.0.0.1:", 16) == 0);
    FAILS_WITH (zmq_bind (pull, "tcp://nosuchif0:*"), ENODEV);
    FAILS_WITH (zmq_bind (pull, "tcp://localhost:*"), ENODEV);
    FAILS_WITH (zmq_bind (pull, "tcp://[::1]:*"), ENODEV);
    FAILS_WITH (zmq_bind (pull, "tcp://:5555"), ENODEV);
    FAILS_WITH (zmq_bind (pull, "tcp://127.0.0.1:abc"), EINVAL);

    /* A name for the peer, an interface for the source. */
    void *a = tsock (ctx, ZMQ_PUSH);
    snprintf (to, sizeof to, "tcp://localhost:%d", port_of (ep));
    OK (zmq_connect (a, to));
    void *b = tsock (ctx, ZMQ_PUSH);
    snprintf (to, sizeof to, "tcp://lo:0;127.0.0.1:%d", port_of (ep));
    OK (zmq_connect (b, to));
    send_str (a, "by name", 0);
    send_str (b, "from lo", 0);
    char buf[16];
    int got = 0;
    for (int i = 0; i < 2; i++) {
        int n = zmq_recv (pull, buf, sizeof buf, 0);
        CHECK (n == 7);
        got |= memcmp (buf, "by name", 7) == 0 ? 1 : 2;
    }
    CHECK (got == 3);

    /* With ZMQ_IPV6 an interface gives its IPv6 address. */
    void *six = tsock (ctx, ZMQ_PULL);
    set_int (six, ZMQ_IPV6, 1);
    OK (zmq_bind (six, "tcp://lo:*"));
    last_endpoint (six, ep, sizeof ep);
    CHECK (strncmp (ep, "tcp://[::1]:", 12) == 0);
    OK (zmq_bind (six, "tcp://127.0.0.1:*"));
    last_endpoint (six, ep, sizeof ep);
    CHECK (strncmp (ep, "tcp://[::ffff:127.0.0.1]:", 25) == 0);
    tclose (six);
    tclose (a);
    tclose (b);
    tclose (pull);
    OK (zmq_ctx_term (ctx));
}

static void test_zero_io_threads (void)
{
    void *ctx = zmq_ctx_new ();
    OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 0));
    void *pull = tsock (ctx, ZMQ_PULL);
    FAILS_WITH (zmq_bind (pull, "tcp://127.0.0.1:*"), EMTHREAD);
    FAILS_WITH (zmq_connect (pull, "tcp://127.0.0.1:5555"), EMTHREAD);
    OK (zmq_bind (pull, "inproc://zero-io"));
    void *push = tsock (ctx, ZMQ_PUSH);
    OK (zmq_connect (push, "inproc://zero-io"));
    send_str (push, "x", 0);
    recv_expect (pull, "x", 0);
    tclose (push);
    tclose (pull);
    OK (zmq_ctx_term (ctx));
}

#define PAIRS 16
#define MSGS 200

static void test_four_io_threads (void)
{
    void *ctx = zmq_ctx_new ();
    OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 4));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 4);
    void *pull[PAIRS], *push[PAIRS];
    char ep[256];
    for (int i = 0; i < PAIRS; i++) {
        pull[i] = tsock (ctx, ZMQ_PULL);
        OK (zmq_bind (pull[i], "tcp://127.0.0.1:*"));
        last_endpoint (pull[i], ep, sizeof ep);
        push[i] = tsock (ctx, ZMQ_PUSH);
        OK (zmq_connect (push[i], ep));
    }
    for (int m = 0; m < MSGS; m++)
        for (int i = 0; i < PAIRS; i++)
            CHECK (zmq_send (push[i], &m, sizeof m, 0) == sizeof m);
    for (int i = 0; i < PAIRS; i++)
        for (int m = 0; m < MSGS; m++) {
            int v = -1;
            CHECK (zmq_recv (pull[i], &v, sizeof v, 0) == sizeof v);
            CHECK_INT (v, m);
        }
    for (int i = 0; i < PAIRS; i++) {
        tclose (push[i]);
        tclose (pull[i]);
    }
    int64_t t = now_ms ();
    OK (zmq_ctx_term (ctx));
    CHECK (now_ms () - t < 1000);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    RUN (test_connect_checks_syntax_only);
    RUN (test_bind_by_interface);
    RUN (test_zero_io_threads);
    RUN (test_four_io_threads);
    return 0;
}
