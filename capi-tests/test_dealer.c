/* DEALER: asynchronous request-reply, round-robin out, fair-queue in. */
#include "testutil.h"

static void *ctx;

static void test_dealer_to_rep (void)
{
    char ep[256];
    void *rep = tsock (ctx, ZMQ_REP);
    bind_ep (rep, "dealer-rep", ep, sizeof ep);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    connect_ep (dealer, ep);

    /* DEALER talks to REP by supplying the empty delimiter itself. */
    send_str (dealer, "", ZMQ_SNDMORE);
    send_str (dealer, "request", 0);
    recv_expect (rep, "request", 0);
    send_str (rep, "reply", 0);
    recv_expect (dealer, "", 1);
    recv_expect (dealer, "reply", 0);
    tclose (dealer);
    tclose (rep);
}

static void test_dealer_pipelines_requests (void)
{
    char ep[256], buf[32];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "dealer-async", ep, sizeof ep);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "d", 1));
    connect_ep (dealer, ep);

    /* Unlike REQ, a DEALER may send many messages without replies. */
    for (int i = 0; i < 5; i++) {
        snprintf (buf, sizeof buf, "q%d", i);
        send_str (dealer, buf, 0);
    }
    for (int i = 0; i < 5; i++) {
        snprintf (buf, sizeof buf, "q%d", i);
        recv_expect (router, "d", 1);
        recv_expect (router, buf, 0);
    }
    for (int i = 0; i < 5; i++) {
        snprintf (buf, sizeof buf, "r%d", i);
        send_str (router, "d", ZMQ_SNDMORE);
        send_str (router, buf, 0);
    }
    for (int i = 0; i < 5; i++) {
        snprintf (buf, sizeof buf, "r%d", i);
        recv_expect (dealer, buf, 0);
    }
    tclose (dealer);
    tclose (router);
}

static void test_dealer_round_robin (void)
{
    char ep[2][256], buf[32];
    void *pulls[2];
    void *dealer = tsock (ctx, ZMQ_DEALER);
    for (int i = 0; i < 2; i++) {
        /* Peers must be a valid pairing for the wire's type check. */
        pulls[i] = tsock (ctx, ZMQ_DEALER);
        bind_ep (pulls[i], "dealer-rr", ep[i], sizeof ep[i]);
        connect_ep (dealer, ep[i]);
    }
    if (strcmp (tu_transport, "inproc") != 0)
        msleep (SETTLE_MS);
    /* Multipart messages stay whole while the peers alternate. */
    for (int i = 0; i < 4; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        send_str (dealer, buf, ZMQ_SNDMORE);
        send_str (dealer, "tail", 0);
    }
    for (int i = 0; i < 2; i++) {
        char first[32];
        recv_str (pulls[i], first, sizeof first);
        recv_expect (pulls[i], "tail", 0);
        recv_str (pulls[i], buf, sizeof buf);
        recv_expect (pulls[i], "tail", 0);
        CHECK_INT (atoi (buf) - atoi (first), 2);
    }
    for (int i = 0; i < 2; i++)
        tclose (pulls[i]);
    tclose (dealer);
}

static void test_dealer_fair_queue (void)
{
    char ep[256], buf[32];
    void *dealer = tsock (ctx, ZMQ_DEALER);
    bind_ep (dealer, "dealer-fq", ep, sizeof ep);
    void *a = tsock (ctx, ZMQ_DEALER);
    void *b = tsock (ctx, ZMQ_DEALER);
    connect_ep (a, ep);
    connect_ep (b, ep);
    for (int i = 0; i < 3; i++) {
        send_str (a, "a", 0);
        send_str (b, "b", 0);
    }
    msleep (SETTLE_MS);
    /* Both queues are non-empty, so the reads alternate. */
    char prev = 0;
    for (int i = 0; i < 6; i++) {
        recv_str (dealer, buf, sizeof buf);
        CHECK (buf[0] != prev);
        prev = buf[0];
    }
    tclose (a);
    tclose (b);
    tclose (dealer);
}

static void test_dealer_no_peers (void)
{
    void *dealer = tsock (ctx, ZMQ_DEALER);
    FAILS_WITH (zmq_send (dealer, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    char buf[8];
    FAILS_WITH (zmq_recv (dealer, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    tclose (dealer);
}

static void test_dealer_to_dealer (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_DEALER);
    void *b = tsock (ctx, ZMQ_DEALER);
    bind_ep (a, "d2d", ep, sizeof ep);
    connect_ep (b, ep);
    send_str (b, "x", 0);
    send_str (b, "y", 0);
    recv_expect (a, "x", 0);
    send_str (a, "z", 0);
    recv_expect (a, "y", 0);
    recv_expect (b, "z", 0);
    tclose (a);
    tclose (b);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_dealer_to_rep);
    RUN (test_dealer_pipelines_requests);
    RUN (test_dealer_round_robin);
    RUN (test_dealer_fair_queue);
    RUN (test_dealer_no_peers);
    RUN (test_dealer_to_dealer);
    tctx_term (ctx);
    return 0;
}
