/* ROUTER: addressing peers by routing id, and its routing options. */
#include "testutil.h"

static void *ctx;

static void test_explicit_routing_ids (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "router", ep, sizeof ep);
    void *d1 = tsock (ctx, ZMQ_DEALER);
    void *d2 = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "D1", 2));
    OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "D2", 2));
    connect_ep (d1, ep);
    connect_ep (d2, ep);

    send_str (d1, "from1", 0);
    recv_expect (router, "D1", 1);
    recv_expect (router, "from1", 0);
    send_str (d2, "from2", 0);
    recv_expect (router, "D2", 1);
    recv_expect (router, "from2", 0);

    /* Replies go to the peer named by the first frame. */
    send_str (router, "D2", ZMQ_SNDMORE);
    send_str (router, "to2", 0);
    send_str (router, "D1", ZMQ_SNDMORE);
    send_str (router, "to1", ZMQ_SNDMORE);
    send_str (router, "more", 0);
    recv_expect (d1, "to1", 1);
    recv_expect (d1, "more", 0);
    recv_expect (d2, "to2", 0);
    expect_nothing (d1, 20);

    /* The option reads back what was set. */
    char id[256];
    size_t sz = sizeof id;
    OK (zmq_getsockopt (d1, ZMQ_ROUTING_ID, id, &sz));
    CHECK_INT (sz, 2);
    CHECK (memcmp (id, "D1", 2) == 0);

    tclose (d1);
    tclose (d2);
    tclose (router);
}

static void test_generated_routing_ids (void)
{
    char ep[256];
    unsigned char id1[256], id2[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "router-gen", ep, sizeof ep);
    void *d1 = tsock (ctx, ZMQ_DEALER);
    void *d2 = tsock (ctx, ZMQ_DEALER);
    connect_ep (d1, ep);
    connect_ep (d2, ep);

    send_str (d1, "a", 0);
    int n1 = zmq_recv (router, id1, sizeof id1, 0);
    CHECK (n1 >= 1 && n1 <= 255);
    CHECK_INT (get_int (router, ZMQ_RCVMORE), 1);
    recv_expect (router, "a", 0);
    send_str (d2, "b", 0);
    int n2 = zmq_recv (router, id2, sizeof id2, 0);
    CHECK (n2 >= 1 && n2 <= 255);
    recv_expect (router, "b", 0);

    /* Ids the library makes up start with a zero byte (reserved for it),
     * and differ between peers. */
    CHECK_INT (id1[0], 0);
    CHECK_INT (id2[0], 0);
    CHECK (n1 != n2 || memcmp (id1, id2, n1) != 0);

    CHECK_INT (zmq_send (router, id2, n2, ZMQ_SNDMORE), n2);
    send_str (router, "for-b", 0);
    recv_expect (d2, "for-b", 0);
    CHECK_INT (zmq_send (router, id1, n1, ZMQ_SNDMORE), n1);
    send_str (router, "for-a", 0);
    recv_expect (d1, "for-a", 0);

    tclose (d1);
    tclose (d2);
    tclose (router);
}

static void test_unroutable_dropped_or_mandatory (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "router-mand", ep, sizeof ep);
    void *d = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "known", 5));
    connect_ep (d, ep);
    send_str (d, "hi", 0);
    recv_expect (router, "known", 1);
    recv_expect (router, "hi", 0);

    /* By default a message to an unknown peer is silently dropped. */
    send_str (router, "nobody", ZMQ_SNDMORE);
    send_str (router, "lost", 0);

    /* With ROUTER_MANDATORY the first frame is refused. */
    set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    FAILS_WITH (zmq_send (router, "nobody", 6, ZMQ_SNDMORE), EHOSTUNREACH);
    send_str (router, "known", ZMQ_SNDMORE);
    send_str (router, "delivered", 0);
    recv_expect (d, "delivered", 0);
    expect_nothing (d, 20);

    /* A peer that left is unknown again. */
    tclose (d);
    int64_t t0 = now_ms ();
    int rc;
    while ((rc = zmq_send (router, "known", 5, ZMQ_SNDMORE | ZMQ_DONTWAIT))
             == 5
           && now_ms () - t0 < TU_TIMEOUT_MS) {
        send_str (router, "x", 0);
        msleep (10);
    }
    CHECK_INT (rc, -1);
    CHECK_INT (zmq_errno (), EHOSTUNREACH);
    tclose (router);
}

static void test_router_handover (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    set_int (router, ZMQ_ROUTER_HANDOVER, 1);
    bind_ep (router, "handover", ep, sizeof ep);
    void *d1 = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (d1, ZMQ_ROUTING_ID, "X", 1));
    connect_ep (d1, ep);
    send_str (d1, "one", 0);
    recv_expect (router, "X", 1);
    recv_expect (router, "one", 0);

    /* A second peer with the same id takes the id over. */
    void *d2 = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (d2, ZMQ_ROUTING_ID, "X", 1));
    connect_ep (d2, ep);
    send_str (d2, "two", 0);
    recv_expect (router, "X", 1);
    recv_expect (router, "two", 0);

    send_str (router, "X", ZMQ_SNDMORE);
    send_str (router, "to-X", 0);
    recv_expect (d2, "to-X", 0);
    expect_nothing (d1, 50);

    tclose (d1);
    tclose (d2);
    tclose (router);
}

static void test_connect_routing_id (void)
{
    char ep[256];
    void *peer = tsock (ctx, ZMQ_DEALER);
    bind_ep (peer, "connect-rid", ep, sizeof ep);
    void *router = tsock (ctx, ZMQ_ROUTER);
    set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    OK (zmq_setsockopt (router, ZMQ_ROUTING_ID, "me", 2));
    /* The connecting ROUTER names the peer itself, so it can send first. */
    OK (zmq_setsockopt (router, ZMQ_CONNECT_ROUTING_ID, "peerB", 5));
    connect_ep (router, ep);
    if (strcmp (tu_transport, "inproc") != 0)
        msleep (SETTLE_MS);

    send_str (router, "peerB", ZMQ_SNDMORE);
    send_str (router, "hello", 0);
    recv_expect (peer, "hello", 0);
    send_str (peer, "back", 0);
    recv_expect (router, "peerB", 1);
    recv_expect (router, "back", 0);
    tclose (router);
    tclose (peer);
}

static void test_probe_router (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "probe", ep, sizeof ep);
    void *d = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "prober", 6));
    set_int (d, ZMQ_PROBE_ROUTER, 1);
    connect_ep (d, ep);

    /* The connection announces itself with an empty message. */
    recv_expect (router, "prober", 1);
    recv_expect (router, "", 0);
    send_str (router, "prober", ZMQ_SNDMORE);
    send_str (router, "welcome", 0);
    recv_expect (d, "welcome", 0);
    tclose (d);
    tclose (router);
}

static void test_router_to_router (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_ROUTER);
    void *b = tsock (ctx, ZMQ_ROUTER);
    OK (zmq_setsockopt (a, ZMQ_ROUTING_ID, "A", 1));
    OK (zmq_setsockopt (b, ZMQ_ROUTING_ID, "B", 1));
    bind_ep (b, "r2r", ep, sizeof ep);
    connect_ep (a, ep);
    set_int (a, ZMQ_ROUTER_MANDATORY, 1);
    /* The connector only knows B's id once the handshake is processed. */
    int64_t t0 = now_ms ();
    while (zmq_send (a, "B", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
        CHECK_INT (zmq_errno (), EHOSTUNREACH);
        CHECK (now_ms () - t0 < TU_TIMEOUT_MS);
        msleep (5);
    }
    send_str (a, "hi-B", 0);
    recv_expect (b, "A", 1);
    recv_expect (b, "hi-B", 0);
    send_str (b, "A", ZMQ_SNDMORE);
    send_str (b, "hi-A", 0);
    recv_expect (a, "B", 1);
    recv_expect (a, "hi-A", 0);
    tclose (a);
    tclose (b);
}

static void test_bad_routing_id_option (void)
{
    void *d = tsock (ctx, ZMQ_DEALER);
    char big[256];
    memset (big, 'x', sizeof big);
    /* A routing id is 1 to 255 bytes. */
    FAILS_WITH (zmq_setsockopt (d, ZMQ_ROUTING_ID, big, 256), EINVAL);
    FAILS_WITH (zmq_setsockopt (d, ZMQ_ROUTING_ID, big, 0), EINVAL);
    OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, big, 255));
    tclose (d);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_explicit_routing_ids);
    RUN (test_generated_routing_ids);
    RUN (test_unroutable_dropped_or_mandatory);
    RUN (test_router_handover);
    RUN (test_connect_routing_id);
    RUN (test_probe_router);
    RUN (test_router_to_router);
    RUN (test_bad_routing_id_option);
    tctx_term (ctx);
    return 0;
}
