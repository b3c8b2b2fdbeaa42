/* inproc allows connecting to a name before it is bound: the connector can
 * queue messages, and the binder receives them once it binds. */
#include "testutil.h"

static void *ctx;

static void check_pair_of (int ctype, int btype, const char *tag)
{
    char ep[256];
    unique_name (ep, sizeof ep, tag);
    void *c = tsock (ctx, ctype);
    if (btype == ZMQ_ROUTER)
        OK (zmq_setsockopt (c, ZMQ_ROUTING_ID, "early", 5));
    connect_ep (c, ep);

    /* Queued before anyone is there: must not block. */
    CHECK_INT (zmq_send (c, "queued", 6, ZMQ_DONTWAIT), 6);

    msleep (20);
    void *b = tsock (ctx, btype);
    OK (zmq_bind (b, ep));

    if (btype == ZMQ_ROUTER)
        recv_expect (b, "early", 1);
    recv_expect (b, "queued", 0);
    tclose (b);
    tclose (c);
}

static void test_push_pull (void)
{
    check_pair_of (ZMQ_PUSH, ZMQ_PULL, "cbb-pp");
}

static void test_pair (void)
{
    check_pair_of (ZMQ_PAIR, ZMQ_PAIR, "cbb-pair");
}

static void test_dealer_router (void)
{
    check_pair_of (ZMQ_DEALER, ZMQ_ROUTER, "cbb-dr");
}

static void test_req_rep (void)
{
    char ep[256];
    unique_name (ep, sizeof ep, "cbb-reqrep");
    void *req = tsock (ctx, ZMQ_REQ);
    connect_ep (req, ep);
    send_str (req, "early request", 0);
    void *rep = tsock (ctx, ZMQ_REP);
    OK (zmq_bind (rep, ep));
    recv_expect (rep, "early request", 0);
    send_str (rep, "late reply", 0);
    recv_expect (req, "late reply", 0);
    tclose (rep);
    tclose (req);
}

static void test_pub_sub_subscription_survives (void)
{
    char ep[256];
    unique_name (ep, sizeof ep, "cbb-pubsub");
    void *sub = tsock (ctx, ZMQ_SUB);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "t", 1));
    connect_ep (sub, ep);
    void *pub = tsock (ctx, ZMQ_PUB);
    OK (zmq_bind (pub, ep));
    /* The subscription made before the bind reaches the publisher. */
    msleep (SETTLE_MS);
    send_str (pub, "x-dropped", 0);
    send_str (pub, "t-kept", 0);
    recv_expect (sub, "t-kept", 0);
    tclose (pub);
    tclose (sub);
}

static void test_many_queued_then_bind (void)
{
    char ep[256], buf[16];
    unique_name (ep, sizeof ep, "cbb-many");
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    for (int i = 0; i < 50; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        send_str (push, buf, ZMQ_DONTWAIT);
    }
    void *pull = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (pull, ep));
    for (int i = 0; i < 50; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        recv_expect (pull, buf, 0);
    }
    tclose (pull);
    tclose (push);
}

static void test_two_connectors_before_bind (void)
{
    char ep[256], buf[16];
    unique_name (ep, sizeof ep, "cbb-two");
    void *p1 = tsock (ctx, ZMQ_PUSH);
    void *p2 = tsock (ctx, ZMQ_PUSH);
    connect_ep (p1, ep);
    connect_ep (p2, ep);
    send_str (p1, "one", 0);
    send_str (p2, "two", 0);
    void *pull = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (pull, ep));
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        recv_str (pull, buf, sizeof buf);
        seen |= strcmp (buf, "one") == 0 ? 1 : strcmp (buf, "two") == 0 ? 2 : 4;
    }
    CHECK_INT (seen, 3);
    tclose (pull);
    tclose (p1);
    tclose (p2);
}

static void test_unbound_name_stays_pending (void)
{
    /* A connect to an unbound name succeeds; nothing ever arrives. */
    char ep[256], buf[8];
    unique_name (ep, sizeof ep, "cbb-never");
    void *pull = tsock (ctx, ZMQ_PULL);
    connect_ep (pull, ep);
    set_int (pull, ZMQ_RCVTIMEO, 50);
    FAILS_WITH (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    tclose (pull);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_push_pull);
    RUN (test_pair);
    RUN (test_dealer_router);
    RUN (test_req_rep);
    RUN (test_pub_sub_subscription_survives);
    RUN (test_many_queued_then_bind);
    RUN (test_two_connectors_before_bind);
    RUN (test_unbound_name_stays_pending);
    tctx_term (ctx);
    return 0;
}
