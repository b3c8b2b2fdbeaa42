/* Multipart messages are atomic: all frames or none, together. */
#include "testutil.h"

static void *ctx;

static void test_frames_arrive_together (void)
{
    char ep[256], buf[16];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "mp", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);

    send_str (push, "a", ZMQ_SNDMORE);
    send_str (push, "b", ZMQ_SNDMORE);
    /* Until the last frame is sent, nothing is visible to the reader. */
    msleep (50);
    FAILS_WITH (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
    CHECK_INT (zmq_poll (&it, 1, 50), 0);
    send_str (push, "c", 0);

    recv_expect (pull, "a", 1);
    /* Once the first frame is in, the rest is already there. */
    CHECK_INT (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), 1);
    CHECK_INT (get_int (pull, ZMQ_RCVMORE), 1);
    CHECK_INT (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), 1);
    CHECK_INT (get_int (pull, ZMQ_RCVMORE), 0);
    tclose (push);
    tclose (pull);
}

static void test_many_and_empty_frames (void)
{
    char ep[256], buf[16];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "mp-many", ep, sizeof ep);
    connect_ep (b, ep);
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 0)
            CHECK_INT (zmq_send (a, "", 0, ZMQ_SNDMORE), 0);
        else {
            snprintf (buf, sizeof buf, "f%d", i);
            send_str (a, buf, ZMQ_SNDMORE);
        }
    }
    CHECK_INT (zmq_send (a, "", 0, 0), 0);
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 0)
            recv_expect (b, "", 1);
        else {
            snprintf (buf, sizeof buf, "f%d", i);
            recv_expect (b, buf, 1);
        }
    }
    recv_expect (b, "", 0);
    tclose (a);
    tclose (b);
}

static void test_interleaved_senders_stay_whole (void)
{
    char ep[256], buf[16];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "mp-inter", ep, sizeof ep);
    void *p1 = tsock (ctx, ZMQ_PUSH);
    void *p2 = tsock (ctx, ZMQ_PUSH);
    connect_ep (p1, ep);
    connect_ep (p2, ep);
    /* Frames of two senders never mix within one message. */
    send_str (p1, "1a", ZMQ_SNDMORE);
    send_str (p2, "2a", ZMQ_SNDMORE);
    send_str (p1, "1b", ZMQ_SNDMORE);
    send_str (p2, "2b", 0);
    send_str (p1, "1c", 0);
    for (int m = 0; m < 2; m++) {
        recv_str (pull, buf, sizeof buf);
        if (buf[0] == '1') {
            CHECK (strcmp (buf, "1a") == 0);
            recv_expect (pull, "1b", 1);
            recv_expect (pull, "1c", 0);
        } else {
            CHECK (strcmp (buf, "2a") == 0);
            recv_expect (pull, "2b", 0);
        }
    }
    tclose (p1);
    tclose (p2);
    tclose (pull);
}

static void test_partial_message_discarded_on_close (void)
{
    char ep[256], buf[16];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "mp-partial", ep, sizeof ep);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    send_str (push, "whole", 0);
    send_str (push, "half", ZMQ_SNDMORE);
    /* Closing mid-message rolls the unfinished message back. */
    OK (zmq_close (push));
    recv_expect (pull, "whole", 0);
    set_int (pull, ZMQ_RCVTIMEO, 200);
    FAILS_WITH (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    tclose (pull);
}

static void test_multipart_through_router_dealer (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    bind_ep (router, "mp-rd", ep, sizeof ep);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    OK (zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "id", 2));
    connect_ep (dealer, ep);
    send_str (dealer, "x", ZMQ_SNDMORE);
    send_str (dealer, "y", ZMQ_SNDMORE);
    send_str (dealer, "z", 0);
    recv_expect (router, "id", 1);
    recv_expect (router, "x", 1);
    recv_expect (router, "y", 1);
    recv_expect (router, "z", 0);
    tclose (dealer);
    tclose (router);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_frames_arrive_together);
    RUN (test_many_and_empty_frames);
    RUN (test_interleaved_senders_stay_whole);
    RUN (test_partial_message_discarded_on_close);
    RUN (test_multipart_through_router_dealer);
    tctx_term (ctx);
    return 0;
}
