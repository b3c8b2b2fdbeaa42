/* zmq_msg_t lifecycle, zero-copy ownership, and the send/recv variants. */
#include "testutil.h"
#include <sys/uio.h>

static void *ctx;
static int freed;
static void *freed_hint;

static void count_free (void *data, void *hint)
{
    freed++;
    freed_hint = hint;
    free (data);
}

static void test_init_variants (void)
{
    zmq_msg_t m;
    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_msg_size (&m), 0);
    CHECK_INT (zmq_msg_more (&m), 0);
    OK (zmq_msg_close (&m));

    OK (zmq_msg_init_size (&m, 1000));
    CHECK_INT (zmq_msg_size (&m), 1000);
    CHECK (zmq_msg_data (&m) != NULL);
    memset (zmq_msg_data (&m), 0xab, 1000); /* the buffer is writable */
    OK (zmq_msg_close (&m));

    OK (zmq_msg_init_size (&m, 0));
    CHECK_INT (zmq_msg_size (&m), 0);
    OK (zmq_msg_close (&m));

    /* zmq_msg_t is the 64 bytes the context reports. */
    CHECK_INT (sizeof (zmq_msg_t), 64);
}

static void test_init_data_freed_once_when_closed (void)
{
    freed = 0;
    char *buf = malloc (100);
    memcpy (buf, "payload", 8);
    zmq_msg_t m;
    OK (zmq_msg_init_data (&m, buf, 100, count_free, (void *) 0x1234));
    CHECK (zmq_msg_data (&m) == buf); /* zero copy */
    CHECK_INT (zmq_msg_size (&m), 100);
    CHECK_INT (freed, 0);
    OK (zmq_msg_close (&m));
    CHECK_INT (freed, 1);
    CHECK (freed_hint == (void *) 0x1234);

    /* Small buffers too belong to the caller until released. */
    freed = 0;
    buf = malloc (4);
    OK (zmq_msg_init_data (&m, buf, 4, count_free, NULL));
    CHECK (zmq_msg_data (&m) == buf);
    OK (zmq_msg_close (&m));
    CHECK_INT (freed, 1);
}

static void test_init_data_freed_once_after_delivery (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-free", ep, sizeof ep);
    connect_ep (b, ep);

    freed = 0;
    char *buf = malloc (5000);
    memset (buf, 'z', 5000);
    zmq_msg_t m;
    OK (zmq_msg_init_data (&m, buf, 5000, count_free, NULL));
    CHECK_INT (zmq_msg_send (&m, a, 0), 5000);
    /* A sent message is emptied; closing it is still fine. */
    CHECK_INT (zmq_msg_size (&m), 0);
    OK (zmq_msg_close (&m));

    zmq_msg_t r;
    OK (zmq_msg_init (&r));
    CHECK_INT (zmq_msg_recv (&r, b, 0), 5000);
    CHECK_INT (zmq_msg_size (&r), 5000);
    CHECK (((char *) zmq_msg_data (&r))[4999] == 'z');
    OK (zmq_msg_close (&r));
    /* Give a deferred release (another thread) a moment, then count. */
    for (int i = 0; i < 100 && freed == 0; i++)
        msleep (10);
    CHECK_INT (freed, 1);
    tclose (a);
    tclose (b);
}

static void test_copy_shares_and_move (void)
{
    freed = 0;
    char *buf = malloc (1000);
    memset (buf, 'q', 1000);
    zmq_msg_t m, c, mv;
    OK (zmq_msg_init_data (&m, buf, 1000, count_free, NULL));
    CHECK_INT (zmq_msg_get (&m, ZMQ_SHARED), 0);
    OK (zmq_msg_init (&c));
    OK (zmq_msg_copy (&c, &m));
    CHECK_INT (zmq_msg_size (&c), 1000);
    /* A copy of a large message shares the buffer (no second allocation). */
    CHECK (zmq_msg_data (&c) == zmq_msg_data (&m));
    CHECK_INT (zmq_msg_get (&m, ZMQ_SHARED), 1);
    CHECK_INT (zmq_msg_get (&c, ZMQ_SHARED), 1);

    OK (zmq_msg_close (&m));
    CHECK_INT (freed, 0); /* the copy still holds it */
    CHECK (((char *) zmq_msg_data (&c))[999] == 'q');

    OK (zmq_msg_init (&mv));
    OK (zmq_msg_move (&mv, &c));
    CHECK_INT (zmq_msg_size (&mv), 1000);
    CHECK_INT (zmq_msg_size (&c), 0);
    OK (zmq_msg_close (&c));
    CHECK_INT (freed, 0);
    OK (zmq_msg_close (&mv));
    CHECK_INT (freed, 1);

    /* Copies of small messages are independent values. */
    OK (zmq_msg_init_size (&m, 3));
    memcpy (zmq_msg_data (&m), "abc", 3);
    OK (zmq_msg_init (&c));
    OK (zmq_msg_copy (&c, &m));
    CHECK_INT (zmq_msg_size (&c), 3);
    CHECK (memcmp (zmq_msg_data (&c), "abc", 3) == 0);
    OK (zmq_msg_close (&m));
    CHECK (memcmp (zmq_msg_data (&c), "abc", 3) == 0);
    OK (zmq_msg_close (&c));
}

static void test_more_flag (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-more", ep, sizeof ep);
    connect_ep (b, ep);

    zmq_msg_t m;
    OK (zmq_msg_init_size (&m, 2));
    memcpy (zmq_msg_data (&m), "p1", 2);
    CHECK_INT (zmq_msg_send (&m, a, ZMQ_SNDMORE), 2);
    OK (zmq_msg_init_size (&m, 2));
    memcpy (zmq_msg_data (&m), "p2", 2);
    CHECK_INT (zmq_msg_send (&m, a, 0), 2);

    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_msg_recv (&m, b, 0), 2);
    CHECK_INT (zmq_msg_more (&m), 1);
    CHECK_INT (zmq_msg_get (&m, ZMQ_MORE), 1);
    CHECK (memcmp (zmq_msg_data (&m), "p1", 2) == 0);
    /* Receiving into a message that holds content replaces it. */
    CHECK_INT (zmq_msg_recv (&m, b, 0), 2);
    CHECK_INT (zmq_msg_more (&m), 0);
    CHECK_INT (zmq_msg_get (&m, ZMQ_MORE), 0);
    CHECK (memcmp (zmq_msg_data (&m), "p2", 2) == 0);
    OK (zmq_msg_close (&m));
    tclose (a);
    tclose (b);
}

static void test_recv_truncates_but_reports_size (void)
{
    char ep[256], buf[4];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-trunc", ep, sizeof ep);
    connect_ep (b, ep);

    CHECK_INT (zmq_send (a, "0123456789", 10, 0), 10);
    memset (buf, 0, sizeof buf);
    /* The return value is the full size; only 4 bytes are stored. */
    CHECK_INT (zmq_recv (b, buf, 4, 0), 10);
    CHECK (memcmp (buf, "0123", 4) == 0);

    /* Zero-length buffers are fine too. */
    CHECK_INT (zmq_send (a, "xyz", 3, 0), 3);
    CHECK_INT (zmq_recv (b, NULL, 0, 0), 3);
    tclose (a);
    tclose (b);
}

static void test_send_const (void)
{
    static const char text[] = "constant data that lives forever";
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-const", ep, sizeof ep);
    connect_ep (b, ep);
    CHECK_INT (zmq_send_const (a, text, sizeof text - 1, ZMQ_SNDMORE),
               (int) sizeof text - 1);
    CHECK_INT (zmq_send_const (a, text, 8, 0), 8);
    recv_expect (b, text, 1);
    recv_expect (b, "constant", 0);
    tclose (a);
    tclose (b);
}

static void test_sendiov_recviov (void)
{
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-iov", ep, sizeof ep);
    connect_ep (b, ep);

    char p0[] = "first", p1[] = "second", p2[] = "third";
    struct iovec out[3] = {{p0, 5}, {p1, 6}, {p2, 5}};
    /* With ZMQ_SNDMORE the iovecs become the frames of one message (the
     * last frame goes without MORE); libzmq returns the last frame's size. */
    CHECK_INT (zmq_sendiov (a, out, 3, ZMQ_SNDMORE), 5);

    struct iovec in[8];
    size_t count = 8;
    /* zmq_recviov returns the number of frames; it allocates each part
     * with malloc and the caller frees them. */
    CHECK_INT (zmq_recviov (b, in, &count, 0), 3);
    CHECK_INT (count, 3);
    CHECK_INT (in[0].iov_len, 5);
    CHECK (memcmp (in[0].iov_base, "first", 5) == 0);
    CHECK_INT (in[1].iov_len, 6);
    CHECK (memcmp (in[1].iov_base, "second", 6) == 0);
    CHECK_INT (in[2].iov_len, 5);
    CHECK (memcmp (in[2].iov_base, "third", 5) == 0);
    for (size_t i = 0; i < count; i++)
        free (in[i].iov_base);

    /* Without ZMQ_SNDMORE each iovec is a message of its own. */
    CHECK_INT (zmq_sendiov (a, out, 2, 0), 6);
    recv_expect (b, "first", 0);
    recv_expect (b, "second", 0);

    /* recviov stops at *count frames; the rest stays readable. */
    CHECK_INT (zmq_sendiov (a, out, 3, ZMQ_SNDMORE), 5);
    count = 2;
    CHECK_INT (zmq_recviov (b, in, &count, 0), 2);
    CHECK_INT (count, 2);
    for (size_t i = 0; i < count; i++)
        free (in[i].iov_base);
    recv_expect (b, "third", 0);
    tclose (a);
    tclose (b);
}

static void test_msg_send_recv_aliases (void)
{
    /* zmq_sendmsg/zmq_recvmsg are the older names of the same calls. */
    char ep[256];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "msg-alias", ep, sizeof ep);
    connect_ep (b, ep);
    zmq_msg_t m;
    OK (zmq_msg_init_size (&m, 3));
    memcpy (zmq_msg_data (&m), "old", 3);
    CHECK_INT (zmq_sendmsg (a, &m, 0), 3);
    OK (zmq_msg_close (&m));
    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_recvmsg (b, &m, 0), 3);
    CHECK (memcmp (zmq_msg_data (&m), "old", 3) == 0);
    OK (zmq_msg_close (&m));
    tclose (a);
    tclose (b);
}

static void test_failed_send_keeps_message (void)
{
    void *push = tsock (ctx, ZMQ_PUSH);
    zmq_msg_t m;
    OK (zmq_msg_init_size (&m, 5));
    memcpy (zmq_msg_data (&m), "stays", 5);
    /* On failure the caller still owns the message, contents intact. */
    FAILS_WITH (zmq_msg_send (&m, push, ZMQ_DONTWAIT), EAGAIN);
    CHECK_INT (zmq_msg_size (&m), 5);
    CHECK (memcmp (zmq_msg_data (&m), "stays", 5) == 0);
    OK (zmq_msg_close (&m));
    tclose (push);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_init_variants);
    RUN (test_init_data_freed_once_when_closed);
    RUN (test_init_data_freed_once_after_delivery);
    RUN (test_copy_shares_and_move);
    RUN (test_more_flag);
    RUN (test_recv_truncates_but_reports_size);
    RUN (test_send_const);
    RUN (test_sendiov_recviov);
    RUN (test_msg_send_recv_aliases);
    RUN (test_failed_send_keeps_message);
    tctx_term (ctx);
    return 0;
}
