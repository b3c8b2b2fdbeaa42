/* Socket options: documented defaults, read-backs, and the behavior of the
 * options that change delivery. */
#include "testutil.h"

static void *ctx;

static void test_int_defaults (void)
{
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    CHECK (s);
    CHECK_INT (get_int (s, ZMQ_TYPE), ZMQ_DEALER);
    CHECK_INT (get_int (s, ZMQ_SNDHWM), 1000);
    CHECK_INT (get_int (s, ZMQ_RCVHWM), 1000);
    CHECK_INT (get_int (s, ZMQ_LINGER), -1);
    CHECK_INT (get_int (s, ZMQ_RCVTIMEO), -1);
    CHECK_INT (get_int (s, ZMQ_SNDTIMEO), -1);
    CHECK_INT (get_int (s, ZMQ_RCVMORE), 0);
    CHECK_INT (get_int (s, ZMQ_RECONNECT_IVL), 100);
    CHECK_INT (get_int (s, ZMQ_RECONNECT_IVL_MAX), 0);
    CHECK_INT (get_int (s, ZMQ_BACKLOG), 100);
    CHECK_INT (get_int (s, ZMQ_RATE), 100);
    CHECK_INT (get_int (s, ZMQ_RECOVERY_IVL), 10000);
    CHECK_INT (get_int (s, ZMQ_SNDBUF), -1);
    CHECK_INT (get_int (s, ZMQ_RCVBUF), -1);
    CHECK_INT (get_int (s, ZMQ_MULTICAST_HOPS), 1);
    CHECK_INT (get_int (s, ZMQ_IMMEDIATE), 0);
    CHECK_INT (get_int (s, ZMQ_IPV6), 0);
    CHECK_INT (get_int (s, ZMQ_CONFLATE), 0);
    CHECK_INT (get_int (s, ZMQ_TCP_KEEPALIVE), -1);
    CHECK_INT (get_int (s, ZMQ_HANDSHAKE_IVL), 30000);
    CHECK_INT (get_int (s, ZMQ_MECHANISM), ZMQ_NULL);

    int64_t maxmsgsize = 0;
    size_t sz = sizeof maxmsgsize;
    OK (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &maxmsgsize, &sz));
    CHECK_INT (sz, 8);
    CHECK_INT (maxmsgsize, -1);
    uint64_t affinity = 99;
    sz = sizeof affinity;
    OK (zmq_getsockopt (s, ZMQ_AFFINITY, &affinity, &sz));
    CHECK_INT (affinity, 0);

    /* No routing id until one is set. */
    char id[256];
    sz = sizeof id;
    OK (zmq_getsockopt (s, ZMQ_ROUTING_ID, id, &sz));
    CHECK_INT (sz, 0);
    tclose (s);
}

static void test_type_of_every_socket (void)
{
    int types[] = {ZMQ_PAIR, ZMQ_PUB,  ZMQ_SUB,    ZMQ_REQ,
                   ZMQ_REP,  ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PULL,
                   ZMQ_PUSH, ZMQ_XPUB, ZMQ_XSUB,   ZMQ_STREAM};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        void *s = zmq_socket (ctx, types[i]);
        CHECK (s);
        CHECK_INT (get_int (s, ZMQ_TYPE), types[i]);
        tclose (s);
    }
}

static void test_set_and_read_back (void)
{
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    set_int (s, ZMQ_SNDHWM, 7);
    CHECK_INT (get_int (s, ZMQ_SNDHWM), 7);
    set_int (s, ZMQ_RCVHWM, 0);
    CHECK_INT (get_int (s, ZMQ_RCVHWM), 0);
    set_int (s, ZMQ_LINGER, 250);
    CHECK_INT (get_int (s, ZMQ_LINGER), 250);
    set_int (s, ZMQ_RCVTIMEO, 12);
    CHECK_INT (get_int (s, ZMQ_RCVTIMEO), 12);
    set_int (s, ZMQ_SNDTIMEO, 0);
    CHECK_INT (get_int (s, ZMQ_SNDTIMEO), 0);
    int64_t v = 1234;
    OK (zmq_setsockopt (s, ZMQ_MAXMSGSIZE, &v, sizeof v));
    v = 0;
    size_t sz = sizeof v;
    OK (zmq_getsockopt (s, ZMQ_MAXMSGSIZE, &v, &sz));
    CHECK_INT (v, 1234);
    tclose (s);
}

static void test_invalid_options (void)
{
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    int v = 1;
    /* Unknown options and wrong sizes are EINVAL. */
    FAILS_WITH (zmq_setsockopt (s, 9999, &v, sizeof v), EINVAL);
    FAILS_WITH (zmq_setsockopt (s, ZMQ_SNDHWM, &v, 2), EINVAL);
    size_t sz = sizeof v;
    FAILS_WITH (zmq_getsockopt (s, 9999, &v, &sz), EINVAL);
    sz = 2;
    FAILS_WITH (zmq_getsockopt (s, ZMQ_SNDHWM, &v, &sz), EINVAL);
    /* Negative HWMs are meaningless. */
    v = -1;
    FAILS_WITH (zmq_setsockopt (s, ZMQ_SNDHWM, &v, sizeof v), EINVAL);
    /* SUBSCRIBE belongs to SUB sockets. */
    FAILS_WITH (zmq_setsockopt (s, ZMQ_SUBSCRIBE, "", 0), EINVAL);
    tclose (s);
}

static void test_rcvtimeo (void)
{
    void *s = zmq_socket (ctx, ZMQ_PULL);
    char buf[8], ep[256];
    bind_ep (s, "opt-rcvtimeo", ep, sizeof ep);
    set_int (s, ZMQ_RCVTIMEO, 0);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
    CHECK (now_ms () - t0 < 50);
    set_int (s, ZMQ_RCVTIMEO, 150);
    t0 = now_ms ();
    FAILS_WITH (zmq_recv (s, buf, sizeof buf, 0), EAGAIN);
    int64_t el = now_ms () - t0;
    CHECK (el >= 130);
    CHECK (el < 1500);
    tclose (s);
}

static void test_rcvmore (void)
{
    char ep[256], buf[8];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "opt-more", ep, sizeof ep);
    connect_ep (b, ep);
    send_str (a, "1", ZMQ_SNDMORE);
    send_str (a, "2", 0);
    CHECK_INT (zmq_recv (b, buf, sizeof buf, 0), 1);
    CHECK_INT (get_int (b, ZMQ_RCVMORE), 1);
    CHECK_INT (zmq_recv (b, buf, sizeof buf, 0), 1);
    CHECK_INT (get_int (b, ZMQ_RCVMORE), 0);
    tclose (a);
    tclose (b);
}

static void test_last_endpoint (void)
{
    void *s = zmq_socket (ctx, ZMQ_PULL);
    char buf[256];
    size_t sz = sizeof buf;
    /* Nothing bound yet: an empty, NUL-terminated string. */
    OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz));
    CHECK_INT (sz, 1);
    CHECK_INT (buf[0], 0);

    char ep[256];
    unique_name (ep, sizeof ep, "opt-last");
    OK (zmq_bind (s, ep));
    sz = sizeof buf;
    OK (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &sz));
    CHECK (strcmp (buf, ep) == 0);
    CHECK_INT (sz, strlen (ep) + 1);

    /* Connects count too. */
    void *c = zmq_socket (ctx, ZMQ_PUSH);
    OK (zmq_connect (c, ep));
    sz = sizeof buf;
    OK (zmq_getsockopt (c, ZMQ_LAST_ENDPOINT, buf, &sz));
    CHECK (strcmp (buf, ep) == 0);
    tclose (c);
    tclose (s);
}

static void test_conflate_keeps_last (void)
{
    char ep[256], buf[16];
    void *push = tsock (ctx, ZMQ_PUSH);
    bind_ep (push, "conflate", ep, sizeof ep);
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_CONFLATE, 1);
    CHECK_INT (get_int (pull, ZMQ_CONFLATE), 1);
    connect_ep (pull, ep);
    if (strcmp (tu_transport, "inproc") != 0)
        msleep (SETTLE_MS);
    for (int i = 0; i < 20; i++) {
        snprintf (buf, sizeof buf, "v%d", i);
        send_str (push, buf, 0);
    }
    msleep (SETTLE_MS);
    /* Only the newest message is kept. */
    recv_expect (pull, "v19", 0);
    set_int (pull, ZMQ_RCVTIMEO, 50);
    FAILS_WITH (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    tclose (pull);
    tclose (push);
}

static void test_events_option (void)
{
    char ep[256], buf[8];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    /* Unconnected PAIR: can neither send nor receive. */
    CHECK_INT (get_int (a, ZMQ_EVENTS), 0);
    bind_ep (a, "opt-events", ep, sizeof ep);
    connect_ep (b, ep);
    CHECK_INT (get_int (b, ZMQ_EVENTS), ZMQ_POLLOUT);
    send_str (b, "x", 0);
    zmq_pollitem_t it = {a, 0, ZMQ_POLLIN, 0};
    CHECK_INT (zmq_poll (&it, 1, TU_TIMEOUT_MS), 1); /* for wires */
    CHECK_INT (get_int (a, ZMQ_EVENTS), ZMQ_POLLIN | ZMQ_POLLOUT);
    CHECK_INT (zmq_recv (a, buf, sizeof buf, 0), 1);
    CHECK_INT (get_int (a, ZMQ_EVENTS), ZMQ_POLLOUT);
    tclose (a);
    tclose (b);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_int_defaults);
    RUN (test_type_of_every_socket);
    RUN (test_set_and_read_back);
    RUN (test_invalid_options);
    RUN (test_rcvtimeo);
    RUN (test_rcvmore);
    RUN (test_last_endpoint);
    RUN (test_conflate_keeps_last);
    RUN (test_events_option);
    tctx_term (ctx);
    return 0;
}
