/* Smoke test of every pattern over one transport: argv[1] is "inproc"
 * (default), "tcp" or "ipc", so the wire work can reuse it unchanged.
 * The other test_*.c programs take the same argument. */
#include "testutil.h"

static void *ctx;

static void *pair_up (int btype, int ctype, void **connector, const char *tag)
{
    char ep[256];
    void *b = tsock (ctx, btype);
    bind_ep (b, tag, ep, sizeof ep);
    *connector = tsock (ctx, ctype);
    connect_ep (*connector, ep);
    return b;
}

static void test_pair (void)
{
    void *c, *b = pair_up (ZMQ_PAIR, ZMQ_PAIR, &c, "p-pair");
    send_str (c, "to-b", 0);
    recv_expect (b, "to-b", 0);
    send_str (b, "to-c", 0);
    recv_expect (c, "to-c", 0);
    tclose (b);
    tclose (c);
}

static void test_pubsub (void)
{
    void *sub, *pub = pair_up (ZMQ_PUB, ZMQ_SUB, &sub, "p-pubsub");
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "yes", 3));
    msleep (SETTLE_MS);
    send_str (pub, "no", 0);
    send_str (pub, "yes", ZMQ_SNDMORE);
    send_str (pub, "body", 0);
    recv_expect (sub, "yes", 1);
    recv_expect (sub, "body", 0);
    tclose (sub);
    tclose (pub);
}

static void test_xpub_xsub (void)
{
    char buf[16];
    void *xsub, *xpub = pair_up (ZMQ_XPUB, ZMQ_XSUB, &xsub, "p-xpubxsub");
    CHECK_INT (zmq_send (xsub, "\1t", 2, 0), 2);
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 2);
    CHECK (memcmp (buf, "\1t", 2) == 0);
    send_str (xpub, "t1", 0);
    recv_expect (xsub, "t1", 0);
    tclose (xsub);
    tclose (xpub);
}

static void test_pushpull (void)
{
    void *push, *pull = pair_up (ZMQ_PULL, ZMQ_PUSH, &push, "p-pushpull");
    for (int i = 0; i < 10; i++)
        send_str (push, "job", 0);
    for (int i = 0; i < 10; i++)
        recv_expect (pull, "job", 0);
    tclose (push);
    tclose (pull);
}

static void test_reqrep (void)
{
    void *req, *rep = pair_up (ZMQ_REP, ZMQ_REQ, &req, "p-reqrep");
    for (int i = 0; i < 3; i++) {
        send_str (req, "q", 0);
        recv_expect (rep, "q", 0);
        send_str (rep, "a", 0);
        recv_expect (req, "a", 0);
    }
    tclose (req);
    tclose (rep);
}

static void test_dealer_router (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "p-dealerrouter", ep, sizeof ep);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "dd", 2));
    connect_ep (dealer, ep);
    send_str (dealer, "hi", 0);
    recv_expect (router, "dd", 1);
    recv_expect (router, "hi", 0);
    send_str (router, "dd", ZMQ_SNDMORE);
    send_str (router, "yo", 0);
    recv_expect (dealer, "yo", 0);
    tclose (dealer);
    tclose (router);
}

static void test_req_router_rep_dealer (void)
{
    /* REQ and REP interoperate with the async types through envelopes. */
    void *req, *router = pair_up (ZMQ_ROUTER, ZMQ_REQ, &req, "p-req-router");
    char id[256];
    send_str (req, "ask", 0);
    int n = zmq_recv (router, id, sizeof id, 0);
    CHECK (n > 0);
    recv_expect (router, "", 1);
    recv_expect (router, "ask", 0);
    CHECK_INT (zmq_send (router, id, n, ZMQ_SNDMORE), n);
    send_str (router, "", ZMQ_SNDMORE);
    send_str (router, "answer", 0);
    recv_expect (req, "answer", 0);
    tclose (req);
    tclose (router);

    void *dealer, *rep = pair_up (ZMQ_REP, ZMQ_DEALER, &dealer, "p-dealer-rep");
    send_str (dealer, "", ZMQ_SNDMORE);
    send_str (dealer, "ask", 0);
    recv_expect (rep, "ask", 0);
    send_str (rep, "answer", 0);
    recv_expect (dealer, "", 1);
    recv_expect (dealer, "answer", 0);
    tclose (dealer);
    tclose (rep);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    printf ("transport: %s\n", tu_transport);
    ctx = tctx_new ();
    RUN (test_pair);
    RUN (test_pubsub);
    RUN (test_xpub_xsub);
    RUN (test_pushpull);
    RUN (test_reqrep);
    RUN (test_dealer_router);
    RUN (test_req_router_rep_dealer);
    tctx_term (ctx);
    return 0;
}
