/* PAIR: one exclusive bidirectional peer. */
#include "testutil.h"

static void *ctx;

static void test_bidirectional (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "pair", ep, sizeof ep);
    connect_ep (b, ep);

    send_str (b, "ping", 0);
    recv_expect (a, "ping", 0);
    send_str (a, "pong", 0);
    recv_expect (b, "pong", 0);

    /* Messages keep their order. */
    char buf[32];
    for (int i = 0; i < 100; i++) {
        snprintf (buf, sizeof buf, "m%d", i);
        send_str (a, buf, 0);
    }
    for (int i = 0; i < 100; i++) {
        snprintf (buf, sizeof buf, "m%d", i);
        recv_expect (b, buf, 0);
    }

    /* Empty frames are legal messages. */
    CHECK_INT (zmq_send (a, "", 0, 0), 0);
    CHECK_INT (zmq_recv (b, buf, sizeof buf, 0), 0);

    tclose (a);
    tclose (b);
}

static void test_large_message (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "pair-large", ep, sizeof ep);
    connect_ep (b, ep);

    size_t n = 1 << 20;
    unsigned char *data = malloc (n);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char) (i * 7);
    CHECK_INT (zmq_send (a, data, n, 0), (int) n);

    zmq_msg_t m;
    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_msg_recv (&m, b, 0), (int) n);
    CHECK_INT (zmq_msg_size (&m), n);
    CHECK (memcmp (zmq_msg_data (&m), data, n) == 0);
    OK (zmq_msg_close (&m));
    free (data);
    tclose (a);
    tclose (b);
}

static void test_no_peer_would_block (void)
{
    void *a = tsock (ctx, ZMQ_PAIR);
    char ep[256];
    bind_ep (a, "pair-lonely", ep, sizeof ep);
    /* Without a peer there is nowhere to queue. */
    FAILS_WITH (zmq_send (a, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    char buf[8];
    FAILS_WITH (zmq_recv (a, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    tclose (a);
}

static void test_peer_closes_after_send (void)
{
    /* A message sent before the sender closes (LINGER -1) still arrives. */
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (b);
    bind_ep (a, "pair-close", ep, sizeof ep);
    connect_ep (b, ep);
    send_str (b, "last words", 0);
    tclose (b);
    recv_expect (a, "last words", 0);
    tclose (a);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_bidirectional);
    RUN (test_large_message);
    RUN (test_no_peer_would_block);
    RUN (test_peer_closes_after_send);
    tctx_term (ctx);
    return 0;
}
