/* PUB/SUB and XPUB/XSUB: prefix filtering, subscription messages, and the
 * XPUB options libzmq 4.3 documents. */
#include "testutil.h"

static void *ctx;

static void subscribe (void *s, const char *topic)
{
    OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic)));
}

static void unsubscribe (void *s, const char *topic)
{
    OK (zmq_setsockopt (s, ZMQ_UNSUBSCRIBE, topic, strlen (topic)));
}

/* Receives until "END", concatenating frames as "a|b|" for easy checking. */
static void collect (void *s, char *out, size_t n)
{
    out[0] = 0;
    char buf[256];
    for (;;) {
        recv_str (s, buf, sizeof buf);
        if (strcmp (buf, "END") == 0)
            return;
        strncat (out, buf, n - strlen (out) - 2);
        strcat (out, "|");
    }
}

static void test_prefix_and_multiple_subscribers (void)
{
    char ep[256], got[1024];
    void *pub = tsock (ctx, ZMQ_PUB);
    void *s1 = tsock (ctx, ZMQ_SUB);
    void *s2 = tsock (ctx, ZMQ_SUB);
    void *s3 = tsock (ctx, ZMQ_SUB);
    bind_ep (pub, "pubsub", ep, sizeof ep);
    subscribe (s1, "news.");
    subscribe (s1, "END");
    subscribe (s2, ""); /* the empty prefix matches everything */
    subscribe (s3, "weather");
    subscribe (s3, "END");
    connect_ep (s1, ep);
    connect_ep (s2, ep);
    connect_ep (s3, ep);
    msleep (SETTLE_MS);

    send_str (pub, "news.sport", 0);
    send_str (pub, "weather.rain", 0);
    send_str (pub, "news", 0); /* shorter than the prefix: no match */
    send_str (pub, "news.tech", 0);
    send_str (pub, "", 0);
    send_str (pub, "END", 0);

    collect (s1, got, sizeof got);
    CHECK (strcmp (got, "news.sport|news.tech|") == 0);
    collect (s2, got, sizeof got);
    CHECK (strcmp (got, "news.sport|weather.rain|news|news.tech||") == 0);
    collect (s3, got, sizeof got);
    CHECK (strcmp (got, "weather.rain|") == 0);

    /* A subscriber that never subscribed receives nothing at all. */
    void *s4 = tsock (ctx, ZMQ_SUB);
    connect_ep (s4, ep);
    msleep (SETTLE_MS);
    send_str (pub, "news.x", 0);
    expect_nothing (s4, 100);

    tclose (s4);
    tclose (s1);
    tclose (s2);
    tclose (s3);
    tclose (pub);
}

static void test_unsubscribe (void)
{
    char ep[256], got[1024];
    void *pub = tsock (ctx, ZMQ_PUB);
    void *sub = tsock (ctx, ZMQ_SUB);
    bind_ep (pub, "unsub", ep, sizeof ep);
    subscribe (sub, "a");
    subscribe (sub, "b");
    subscribe (sub, "b"); /* a second instance of the same filter */
    subscribe (sub, "END");
    connect_ep (sub, ep);
    msleep (SETTLE_MS);

    send_str (pub, "a1", 0);
    send_str (pub, "b1", 0);
    send_str (pub, "END", 0);
    collect (sub, got, sizeof got);
    CHECK (strcmp (got, "a1|b1|") == 0);

    /* Unsubscribing removes one instance only; "b" stays once. */
    unsubscribe (sub, "a");
    unsubscribe (sub, "b");
    msleep (SETTLE_MS);
    send_str (pub, "a2", 0);
    send_str (pub, "b2", 0);
    send_str (pub, "END", 0);
    collect (sub, got, sizeof got);
    CHECK (strcmp (got, "b2|") == 0);

    unsubscribe (sub, "b");
    msleep (SETTLE_MS);
    send_str (pub, "b3", 0);
    send_str (pub, "END", 0);
    collect (sub, got, sizeof got);
    CHECK (strcmp (got, "") == 0);

    tclose (sub);
    tclose (pub);
}

static void test_multipart_filtered_on_first_frame (void)
{
    char ep[256];
    void *pub = tsock (ctx, ZMQ_PUB);
    void *sub = tsock (ctx, ZMQ_SUB);
    bind_ep (pub, "pubsub-mp", ep, sizeof ep);
    subscribe (sub, "key");
    connect_ep (sub, ep);
    msleep (SETTLE_MS);

    send_str (pub, "other", ZMQ_SNDMORE);
    send_str (pub, "key-in-second-frame", 0);
    send_str (pub, "key", ZMQ_SNDMORE);
    send_str (pub, "body", ZMQ_SNDMORE);
    send_str (pub, "tail", 0);
    recv_expect (sub, "key", 1);
    recv_expect (sub, "body", 1);
    recv_expect (sub, "tail", 0);
    expect_nothing (sub, 50);
    tclose (sub);
    tclose (pub);
}

static void test_sub_cannot_send_pub_cannot_recv (void)
{
    void *pub = tsock (ctx, ZMQ_PUB);
    void *sub = tsock (ctx, ZMQ_SUB);
    char buf[8];
    FAILS_WITH (zmq_recv (pub, buf, sizeof buf, 0), ENOTSUP);
    FAILS_WITH (zmq_send (sub, "x", 1, 0), ENOTSUP);
    tclose (sub);
    tclose (pub);
}

static void test_xpub_subscription_messages (void)
{
    char ep[256], buf[64];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    void *s1 = tsock (ctx, ZMQ_SUB);
    void *s2 = tsock (ctx, ZMQ_SUB);
    bind_ep (xpub, "xpub", ep, sizeof ep);
    connect_ep (s1, ep);
    connect_ep (s2, ep);

    subscribe (s1, "topic");
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "\1topic", 6) == 0);

    /* A duplicate from another subscriber is not passed up by default. */
    subscribe (s2, "topic");
    expect_nothing (xpub, 100);

    send_str (xpub, "topic-data", 0);
    recv_expect (s1, "topic-data", 0);
    recv_expect (s2, "topic-data", 0);

    /* Only the last unsubscription of a topic is passed up. */
    unsubscribe (s1, "topic");
    expect_nothing (xpub, 100);
    unsubscribe (s2, "topic");
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "\0topic", 6) == 0);

    tclose (s1);
    tclose (s2);
    tclose (xpub);
}

static void test_xpub_verbose (void)
{
    char ep[256], buf[64];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_VERBOSE, 1);
    void *s1 = tsock (ctx, ZMQ_SUB);
    void *s2 = tsock (ctx, ZMQ_SUB);
    bind_ep (xpub, "xpub-verbose", ep, sizeof ep);
    connect_ep (s1, ep);
    connect_ep (s2, ep);

    subscribe (s1, "t");
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 2);
    CHECK (memcmp (buf, "\1t", 2) == 0);
    /* VERBOSE passes duplicates up too. */
    subscribe (s2, "t");
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 2);
    CHECK (memcmp (buf, "\1t", 2) == 0);

    tclose (s1);
    tclose (s2);
    tclose (xpub);
}

static void test_xpub_manual (void)
{
    char ep[256], buf[64];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_MANUAL, 1);
    void *sub = tsock (ctx, ZMQ_SUB);
    bind_ep (xpub, "xpub-manual", ep, sizeof ep);
    connect_ep (sub, ep);

    subscribe (sub, "A");
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 2);
    CHECK (memcmp (buf, "\1A", 2) == 0);

    /* Nothing is applied until the application subscribes the peer. */
    send_str (xpub, "A1", 0);
    expect_nothing (sub, 100);

    /* The subscription applies to the pipe the last message came from. */
    subscribe (xpub, "A");
    send_str (xpub, "A2", 0);
    recv_expect (sub, "A2", 0);

    tclose (sub);
    tclose (xpub);
}

static void test_xpub_welcome_msg (void)
{
    char ep[256], buf[64];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    OK (zmq_setsockopt (xpub, ZMQ_XPUB_WELCOME_MSG, "W", 1));
    void *sub = tsock (ctx, ZMQ_SUB);
    bind_ep (xpub, "xpub-welcome", ep, sizeof ep);
    subscribe (sub, "W");
    connect_ep (sub, ep);

    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 2);
    CHECK (memcmp (buf, "\1W", 2) == 0);
    recv_expect (sub, "W", 0);

    tclose (sub);
    tclose (xpub);
}

static void test_invert_matching (void)
{
    char ep[256], got[256];
    void *pub = tsock (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_INVERT_MATCHING, 1);
    void *sub = tsock (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_INVERT_MATCHING, 1);
    bind_ep (pub, "invert", ep, sizeof ep);
    subscribe (sub, "A");
    connect_ep (sub, ep);
    msleep (SETTLE_MS);

    send_str (pub, "A1", 0);
    send_str (pub, "B1", 0);
    send_str (pub, "C1", 0);
    send_str (pub, "A2", 0);
    send_str (pub, "END", 0);
    collect (sub, got, sizeof got);
    CHECK (strcmp (got, "B1|C1|") == 0);
    tclose (sub);
    tclose (pub);
}

static void test_xsub_sends_subscriptions (void)
{
    char ep[256], buf[64];
    /* XSUB → PUB: the upstream PUB filters by what XSUB sent. */
    void *pub = tsock (ctx, ZMQ_PUB);
    void *xsub = tsock (ctx, ZMQ_XSUB);
    bind_ep (pub, "xsub", ep, sizeof ep);
    connect_ep (xsub, ep);
    CHECK_INT (zmq_send (xsub, "\1A", 2, 0), 2);
    msleep (SETTLE_MS);
    send_str (pub, "B1", 0);
    send_str (pub, "A1", 0);
    recv_expect (xsub, "A1", 0);
    expect_nothing (xsub, 50);

    CHECK_INT (zmq_send (xsub, "\0A", 2, 0), 2);
    msleep (SETTLE_MS);
    send_str (pub, "A2", 0);
    expect_nothing (xsub, 100);
    tclose (xsub);
    tclose (pub);

    /* XSUB → XPUB: the subscription message arrives verbatim. */
    void *xpub = tsock (ctx, ZMQ_XPUB);
    xsub = tsock (ctx, ZMQ_XSUB);
    bind_ep (xpub, "xsub-xpub", ep, sizeof ep);
    connect_ep (xsub, ep);
    CHECK_INT (zmq_send (xsub, "\1topic", 6, 0), 6);
    CHECK_INT (zmq_recv (xpub, buf, sizeof buf, 0), 6);
    CHECK (memcmp (buf, "\1topic", 6) == 0);
    send_str (xpub, "topic!", 0);
    recv_expect (xsub, "topic!", 0);
    tclose (xsub);
    tclose (xpub);
}

static void test_pub_drops_at_hwm (void)
{
    char ep[256], buf[64];
    void *pub = tsock (ctx, ZMQ_PUB);
    set_int (pub, ZMQ_SNDHWM, 10);
    void *sub = tsock (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_RCVHWM, 10);
    bind_ep (pub, "pub-hwm", ep, sizeof ep);
    subscribe (sub, "");
    connect_ep (sub, ep);
    msleep (SETTLE_MS);

    /* PUB never blocks: a slow subscriber loses messages instead. */
    int64_t t0 = now_ms ();
    for (int i = 0; i < 1000; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        send_str (pub, buf, 0);
    }
    CHECK (now_ms () - t0 < 1000);

    /* Over a wire the kept messages are still in flight; wait for them. */
    set_int (sub, ZMQ_RCVTIMEO, 300);
    int received = 0;
    while (zmq_recv (sub, buf, sizeof buf, 0) >= 0)
        received++;
    CHECK_INT (zmq_errno (), EAGAIN);
    printf ("  pub-hwm: subscriber kept %d of 1000\n", received);
    CHECK (received >= 1);
    CHECK (received < 1000);
    if (strcmp (tu_transport, "inproc") == 0)
        /* inproc's limit is the sum of both sides' HWMs. */
        CHECK_INT (received, 20);
    tclose (sub);
    tclose (pub);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_prefix_and_multiple_subscribers);
    RUN (test_unsubscribe);
    RUN (test_multipart_filtered_on_first_frame);
    RUN (test_sub_cannot_send_pub_cannot_recv);
    RUN (test_xpub_subscription_messages);
    RUN (test_xpub_verbose);
    RUN (test_xpub_manual);
    RUN (test_xpub_welcome_msg);
    RUN (test_invert_matching);
    RUN (test_xsub_sends_subscriptions);
    RUN (test_pub_drops_at_hwm);
    tctx_term (ctx);
    return 0;
}
