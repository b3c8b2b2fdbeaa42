/* High-water marks and volume: a blocked PUSH resuming without loss,
 * duplicates or reordering; a slow SUB losing whole messages only; 1000-frame
 * messages; 8 MiB and empty frames; ROUTER with 100 peers, peers rejoining
 * under the same routing id, ROUTER_MANDATORY against a full pipe.
 * Every check was first run against Debian's libzmq 4.3.4. */
#include "testutil.h"

static void *ctx;

/* ---- PUSH blocks at the HWM, then resumes: 1e5 messages in order ---- */

#define HWM_MSGS 100000

struct hw
{
    const char *ep;
    int blocked; /* sends that had to wait */
};

static void *hw_sender (void *p)
{
    struct hw *a = p;
    void *s = tsock (ctx, ZMQ_PUSH);
    set_int (s, ZMQ_SNDHWM, 10);
    connect_ep (s, a->ep);
    for (uint32_t i = 0; i < HWM_MSGS; i++) {
        if (zmq_send (s, &i, 4, ZMQ_DONTWAIT) == 4)
            continue;
        CHECK_INT (zmq_errno (), EAGAIN);
        a->blocked++;
        CHECK_INT (zmq_send (s, &i, 4, 0), 4);
    }
    tclose (s);
    return NULL;
}

static void test_push_blocks_at_hwm_then_resumes (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 10);
    bind_ep (pull, "hwm", ep, sizeof ep);
    struct hw a = {ep, 0};
    pthread_t t = tthread (hw_sender, &a);
    msleep (100); /* the sender fills the pipe and blocks */
    for (uint32_t i = 0; i < HWM_MSGS; i++) {
        uint32_t v = 0;
        CHECK_INT (zmq_recv (pull, &v, 4, 0), 4);
        if (v != i) {
            printf ("message %u: got %u\n", i, v);
            CHECK_INT (v, i);
        }
        if (i < 200 && i % 20 == 0)
            msleep (1); /* slow at first: the sender must block */
    }
    pthread_join (t, NULL);
    expect_nothing (pull, 50);
    CHECK (a.blocked > 0);
    tclose (pull);
}

/* ---- a slow SUB drops whole multipart messages, never parts ---- */

#define PS_MSGS 20000

static void test_slow_subscriber_drops_whole_messages (void)
{
    char ep[256];
    void *pub = tsock (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_SNDHWM, 20);
    bind_ep (pub, "slow", ep, sizeof ep);
    void *sub = tsock (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_RCVHWM, 20);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    connect_ep (sub, ep);
    msleep (SETTLE_MS);
    for (uint32_t i = 0; i < PS_MSGS; i++) {
        uint32_t v[3] = {i, i * 7u, ~i};
        CHECK_INT (zmq_send (pub, &v[0], 4, ZMQ_SNDMORE), 4);
        CHECK_INT (zmq_send (pub, &v[1], 4, ZMQ_SNDMORE), 4);
        CHECK_INT (zmq_send (pub, &v[2], 4, 0), 4);
        if (i == PS_MSGS / 2) {
            /* read a little mid-way so the pipe drains and refills */
            for (int k = 0; k < 5; k++) {
                uint32_t w;
                CHECK_INT (zmq_recv (sub, &w, 4, 0), 4);
                CHECK_INT (zmq_recv (sub, &w, 4, 0), 4);
                CHECK_INT (zmq_recv (sub, &w, 4, 0), 4);
                CHECK_INT (get_int (sub, ZMQ_RCVMORE), 0);
            }
        }
    }
    int got = 0;
    int64_t last = -1;
    for (;;) {
        uint32_t a, b, c;
        int rc = zmq_recv (sub, &a, 4, ZMQ_DONTWAIT);
        if (rc < 0) {
            CHECK_INT (zmq_errno (), EAGAIN);
            break;
        }
        CHECK_INT (rc, 4);
        CHECK_INT (get_int (sub, ZMQ_RCVMORE), 1);
        CHECK_INT (zmq_recv (sub, &b, 4, 0), 4);
        CHECK_INT (get_int (sub, ZMQ_RCVMORE), 1);
        CHECK_INT (zmq_recv (sub, &c, 4, 0), 4);
        CHECK_INT (get_int (sub, ZMQ_RCVMORE), 0);
        CHECK_INT (b, a * 7u);
        CHECK_INT (c, ~a);
        CHECK ((int64_t) a > last);
        last = a;
        got++;
    }
    /* the queue holds SNDHWM + RCVHWM messages, no more */
    printf ("  slow subscriber kept %d of %d messages\n", got, PS_MSGS);
    CHECK (got > 0 && got <= 40);
    tclose (pub);
    tclose (sub);
}

/* ---- 1000-frame messages, large and empty frames ---- */

static void test_thousand_frames (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "kframes", ep, sizeof ep);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "D", 1));
    connect_ep (dealer, ep);
    for (int round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 1000; i++)
            CHECK_INT (zmq_send (dealer, &i, i % 5 == 0 ? 0 : 4,
                                 i < 999 ? ZMQ_SNDMORE : 0),
                       i % 5 == 0 ? 0 : 4);
    }
    for (int round = 0; round < 3; round++) {
        recv_expect (router, "D", 1);
        for (uint32_t i = 0; i < 1000; i++) {
            uint32_t v = 0xdeadbeef;
            int rc = zmq_recv (router, &v, 4, 0);
            CHECK_INT (rc, i % 5 == 0 ? 0 : 4);
            if (rc == 4)
                CHECK_INT (v, i);
            CHECK_INT (get_int (router, ZMQ_RCVMORE), i < 999);
        }
    }
    /* and back, through the ROUTER */
    send_str (router, "D", ZMQ_SNDMORE);
    for (uint32_t i = 0; i < 1000; i++)
        CHECK_INT (zmq_send (router, &i, 4, i < 999 ? ZMQ_SNDMORE : 0), 4);
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t v;
        CHECK_INT (zmq_recv (dealer, &v, 4, 0), 4);
        CHECK_INT (v, i);
        CHECK_INT (get_int (dealer, ZMQ_RCVMORE), i < 999);
    }
    tclose (router);
    tclose (dealer);
}

static void fill_pattern (unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char) ((i * 31u + seed) >> 3);
}

static void test_large_and_empty_messages (void)
{
    const size_t big = 8u << 20;
    unsigned char *buf = malloc (big);
    CHECK (buf);
    fill_pattern (buf, big, 1);
    char ep[256];
    void *pub = tsock (ctx, ZMQ_PUB);
    bind_ep (pub, "big", ep, sizeof ep);
    void *subs[3];
    for (int i = 0; i < 3; i++) {
        subs[i] = tsock (ctx, ZMQ_SUB);
        OK (zmq_setsockopt (subs[i], ZMQ_SUBSCRIBE, "", 0));
        connect_ep (subs[i], ep);
    }
    msleep (SETTLE_MS);
    size_t sizes[] = {0, 1, 255, 65536, 1u << 20, big};
    for (int k = 0; k < 6; k++) {
        CHECK_INT (zmq_send (pub, buf, sizes[k], ZMQ_SNDMORE), (int) sizes[k]);
        CHECK_INT (zmq_send (pub, "", 0, 0), 0);
    }
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 6; k++) {
            zmq_msg_t m;
            OK (zmq_msg_init (&m));
            CHECK_INT (zmq_msg_recv (&m, subs[i], 0), (int) sizes[k]);
            CHECK_INT (zmq_msg_size (&m), sizes[k]);
            CHECK (sizes[k] == 0
                   || memcmp (zmq_msg_data (&m), buf, sizes[k]) == 0);
            CHECK_INT (zmq_msg_more (&m), 1);
            OK (zmq_msg_close (&m));
            CHECK_INT (zmq_recv (subs[i], NULL, 0, 0), 0);
            CHECK_INT (get_int (subs[i], ZMQ_RCVMORE), 0);
        }
        tclose (subs[i]);
    }
    /* zmq_recv into a short buffer reports the full size, copies a prefix */
    void *push = tsock (ctx, ZMQ_PUSH), *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "big2", ep, sizeof ep);
    connect_ep (push, ep);
    CHECK_INT (zmq_send (push, buf, big, 0), (int) big);
    unsigned char small[16];
    CHECK_INT (zmq_recv (pull, small, sizeof small, 0), (int) big);
    CHECK (memcmp (small, buf, sizeof small) == 0);
    tclose (push);
    tclose (pull);
    tclose (pub);
    free (buf);
}

/* ---- ROUTER with 100 peers ---- */

#define NPEERS 100

static void test_router_hundred_peers (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    bind_ep (router, "r100", ep, sizeof ep);
    void *d[NPEERS];
    for (int i = 0; i < NPEERS; i++) {
        d[i] = tsock (ctx, ZMQ_DEALER);
        char id[16];
        int n = snprintf (id, sizeof id, "peer-%03d", i);
        OK (zmq_setsockopt (d[i], ZMQ_ROUTING_ID, id, n));
        connect_ep (d[i], ep);
    }
    /* each peer says hello; the router answers each by id, in reverse */
    for (int i = 0; i < NPEERS; i++) {
        char m[16];
        int n = snprintf (m, sizeof m, "hello-%d", i);
        CHECK_INT (zmq_send (d[i], m, n, 0), n);
    }
    int seen[NPEERS] = {0};
    for (int i = 0; i < NPEERS; i++) {
        char id[32], body[32];
        recv_str (router, id, sizeof id);
        CHECK_INT (get_int (router, ZMQ_RCVMORE), 1);
        recv_str (router, body, sizeof body);
        int k = atoi (id + 5);
        CHECK (k >= 0 && k < NPEERS);
        CHECK_INT (atoi (body + 6), k);
        seen[k]++;
    }
    for (int i = 0; i < NPEERS; i++)
        CHECK_INT (seen[i], 1);
    for (int i = NPEERS - 1; i >= 0; i--) {
        char id[16], m[16];
        int n = snprintf (id, sizeof id, "peer-%03d", i);
        CHECK_INT (zmq_send (router, id, n, ZMQ_SNDMORE), n);
        n = snprintf (m, sizeof m, "to-%d", i);
        CHECK_INT (zmq_send (router, m, n, 0), n);
    }
    for (int i = 0; i < NPEERS; i++) {
        char m[16];
        snprintf (m, sizeof m, "to-%d", i);
        recv_expect (d[i], m, 0);
    }
    /* every other peer leaves; routing to them becomes EHOSTUNREACH */
    for (int i = 0; i < NPEERS; i += 2)
        tclose (d[i]);
    msleep (50);
    for (int i = 0; i < NPEERS; i++) {
        char id[16];
        int n = snprintf (id, sizeof id, "peer-%03d", i);
        if (i % 2 == 0) {
            FAILS_WITH (zmq_send (router, id, n, ZMQ_SNDMORE), EHOSTUNREACH);
        } else {
            CHECK_INT (zmq_send (router, id, n, ZMQ_SNDMORE), n);
            send_str (router, "still-here", 0);
        }
    }
    for (int i = 1; i < NPEERS; i += 2) {
        recv_expect (d[i], "still-here", 0);
        tclose (d[i]);
    }
    tclose (router);
}

/* ---- a peer leaves and rejoins with the same routing id ---- */

static void rejoin_case (int handover)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    if (handover)
        set_int (router, ZMQ_ROUTER_HANDOVER, 1);
    bind_ep (router, "rejoin", ep, sizeof ep);

    /* leave, then rejoin: the id is free again either way */
    void *a = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (a, ZMQ_ROUTING_ID, "same", 4));
    connect_ep (a, ep);
    send_str (a, "a1", 0);
    recv_expect (router, "same", 1);
    recv_expect (router, "a1", 0);
    tclose (a);
    /* a ROUTER notices a peer left when it next looks at its input
     * (libzmq reads the pipe up to its end marker), so poll it once */
    expect_nothing (router, 50);
    FAILS_WITH (zmq_send (router, "same", 4, ZMQ_SNDMORE), EHOSTUNREACH);
    void *b = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (b, ZMQ_ROUTING_ID, "same", 4));
    connect_ep (b, ep);
    send_str (b, "b1", 0);
    recv_expect (router, "same", 1);
    recv_expect (router, "b1", 0);
    send_str (router, "same", ZMQ_SNDMORE);
    send_str (router, "to-b", 0);
    recv_expect (b, "to-b", 0);

    /* a second peer takes the id while the first is still connected */
    void *c = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (c, ZMQ_ROUTING_ID, "same", 4));
    connect_ep (c, ep);
    send_str (c, "c1", 0);
    msleep (50);
    send_str (router, "same", ZMQ_SNDMORE);
    send_str (router, "who", 0);
    if (handover) {
        /* the newcomer takes over: replies go to it; b is cut off */
        recv_expect (router, "same", 1);
        recv_expect (router, "c1", 0);
        recv_expect (c, "who", 0);
        expect_nothing (b, 50);
    } else {
        /* the newcomer is ignored: its message never shows, and the
         * id still routes to the first peer */
        expect_nothing (router, 100);
        recv_expect (b, "who", 0);
        expect_nothing (c, 50);
        /* once the first peer leaves, the id is unknown, even though
         * the ignored newcomer is still connected */
        tclose (b);
        b = NULL;
        expect_nothing (router, 50);
        FAILS_WITH (zmq_send (router, "same", 4, ZMQ_SNDMORE), EHOSTUNREACH);
    }
    if (b)
        tclose (b);
    tclose (c);
    tclose (router);
}

static void test_router_rejoin_no_handover (void)
{
    rejoin_case (0);
}

static void test_router_rejoin_handover (void)
{
    rejoin_case (1);
}

/* ---- ROUTER_MANDATORY against a full pipe ---- */

static void test_router_mandatory_full_pipe (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    set_int (router, ZMQ_ROUTER_MANDATORY, 1);
    set_int (router, ZMQ_SNDHWM, 1);
    bind_ep (router, "full", ep, sizeof ep);
    void *d = tsock (ctx, ZMQ_DEALER);
    set_int (d, ZMQ_RCVHWM, 1);
    OK (zmq_setsockopt (d, ZMQ_ROUTING_ID, "D", 1));
    connect_ep (d, ep);
    send_str (d, "hi", 0);
    recv_expect (router, "D", 1);
    recv_expect (router, "hi", 0);
    int sent = 0;
    for (int i = 0; i < 100; i++) {
        if (zmq_send (router, "D", 1, ZMQ_SNDMORE | ZMQ_DONTWAIT) != 1) {
            CHECK_INT (zmq_errno (), EAGAIN);
            break;
        }
        send_str (router, "m", 0);
        sent++;
    }
    CHECK (sent >= 1 && sent < 100);
    printf ("  pipe took %d messages before EAGAIN\n", sent);
    /* blocking with a send timeout: waits, then EAGAIN */
    set_int (router, ZMQ_SNDTIMEO, 150);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_send (router, "D", 1, ZMQ_SNDMORE), EAGAIN);
    int64_t el = now_ms () - t0;
    CHECK (el >= 100 && el < 1500);
    /* ZMQ_EVENTS has no POLLOUT while the only peer is full */
    CHECK_INT (get_int (router, ZMQ_EVENTS) & ZMQ_POLLOUT, 0);
    /* drain, and sending works again */
    for (int i = 0; i < sent; i++)
        recv_expect (d, "m", 0);
    set_int (router, ZMQ_SNDTIMEO, 1000);
    send_str (router, "D", ZMQ_SNDMORE);
    send_str (router, "after", 0);
    recv_expect (d, "after", 0);
    tclose (d);
    tclose (router);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    alarm (28);
    ctx = tctx_new ();
    RUN_UNLESS_SKIPPED (test_push_blocks_at_hwm_then_resumes);
    RUN_UNLESS_SKIPPED (test_slow_subscriber_drops_whole_messages);
    RUN_UNLESS_SKIPPED (test_thousand_frames);
    RUN_UNLESS_SKIPPED (test_large_and_empty_messages);
    RUN_UNLESS_SKIPPED (test_router_hundred_peers);
    RUN_UNLESS_SKIPPED (test_router_rejoin_no_handover);
    RUN_UNLESS_SKIPPED (test_router_rejoin_handover);
    RUN_UNLESS_SKIPPED (test_router_mandatory_full_pipe);
    tctx_term (ctx);
    return 0;
}
