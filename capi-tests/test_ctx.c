/* Contexts: documented option defaults, limits, and termination. */
#include "testutil.h"
#include <limits.h>

static void test_version (void)
{
    int major = -1, minor = -1, patch = -1;
    zmq_version (&major, &minor, &patch);
    CHECK_INT (major, 4);
    CHECK_INT (minor, 3);
    CHECK (patch >= 0);
}

static void test_defaults (void)
{
    void *ctx = tctx_new ();
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 1);
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 1023);
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_IPV6), 0);
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_BLOCKY), 1);
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), (int) sizeof (zmq_msg_t));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE), 64);
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), INT_MAX);
    int limit = zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT);
    printf ("  socket limit %d\n", limit);
    CHECK (limit >= 1023);
    /* An unknown option is refused. */
    FAILS_WITH (zmq_ctx_get (ctx, 9999), EINVAL);
    FAILS_WITH (zmq_ctx_set (ctx, 9999, 1), EINVAL);
    tctx_term (ctx);
}

static void test_set_get (void)
{
    void *ctx = tctx_new ();
    OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 2));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_IO_THREADS), 2);
    OK (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 100));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS), 100);
    OK (zmq_ctx_set (ctx, ZMQ_IPV6, 1));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_IPV6), 1);
    OK (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_BLOCKY), 0);
    OK (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, 1000));
    CHECK_INT (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ), 1000);
    FAILS_WITH (zmq_ctx_set (ctx, ZMQ_IO_THREADS, -1), EINVAL);
    tctx_term (ctx);
}

static void test_max_sockets (void)
{
    void *ctx = tctx_new ();
    OK (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 3));
    void *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = zmq_socket (ctx, ZMQ_PAIR);
        CHECK (s[i] != NULL);
    }
    /* One more than the limit is refused. */
    errno = 0;
    CHECK (zmq_socket (ctx, ZMQ_PAIR) == NULL);
    CHECK_INT (zmq_errno (), EMFILE);
    /* Closing one makes room again (the slot is released asynchronously
     * in libzmq, so allow a moment). */
    tclose (s[0]);
    int64_t t0 = now_ms ();
    while ((s[0] = zmq_socket (ctx, ZMQ_PAIR)) == NULL
           && now_ms () - t0 < TU_TIMEOUT_MS) {
        CHECK_INT (zmq_errno (), EMFILE);
        msleep (5);
    }
    CHECK (s[0] != NULL);
    for (int i = 0; i < 3; i++)
        tclose (s[i]);
    tctx_term (ctx);
}

static void test_bad_socket_type (void)
{
    void *ctx = tctx_new ();
    errno = 0;
    CHECK (zmq_socket (ctx, 9999) == NULL);
    CHECK_INT (zmq_errno (), EINVAL);
    tctx_term (ctx);
}

struct blocked
{
    void *ctx;
    int rc, err;
    int64_t closed_at;
    int bind_in_thread;
};

static void *recv_until_term (void *p)
{
    struct blocked *b = p;
    void *s = zmq_socket (b->ctx, ZMQ_PULL);
    char ep[256];
    unique_name (ep, sizeof ep, "ctx-term");
    zmq_bind (s, ep);
    char buf[8];
    b->rc = zmq_recv (s, buf, sizeof buf, 0); /* no timeout: blocks */
    b->err = zmq_errno ();
    /* Other calls on a terminated context's socket fail the same way. */
    if (zmq_send (s, "x", 1, ZMQ_DONTWAIT) != -1)
        b->err = -2;
    msleep (100); /* term must wait for this close */
    b->closed_at = now_ms ();
    zmq_close (s);
    return NULL;
}

static void test_term_unblocks_recv (void)
{
    struct blocked b = {tctx_new (), 0, 0, 0, 0};
    pthread_t t = tthread (recv_until_term, &b);
    msleep (100); /* let the thread block in recv */
    tctx_term (b.ctx);
    int64_t returned_at = now_ms ();
    pthread_join (t, NULL);
    CHECK_INT (b.rc, -1);
    CHECK_INT (b.err, ETERM);
    /* zmq_ctx_term returned only after the last socket was closed. */
    CHECK (b.closed_at > 0 && returned_at >= b.closed_at);
}

static void test_shutdown (void)
{
    struct blocked b = {tctx_new (), 0, 0, 0, 0};
    pthread_t t = tthread (recv_until_term, &b);
    msleep (100);
    /* Shutdown doesn't wait for sockets to close. */
    int64_t t0 = now_ms ();
    OK (zmq_ctx_shutdown (b.ctx));
    CHECK (now_ms () - t0 < 90);
    /* New sockets can't be made on a context being shut down. */
    errno = 0;
    CHECK (zmq_socket (b.ctx, ZMQ_PAIR) == NULL);
    CHECK_INT (zmq_errno (), ETERM);
    pthread_join (t, NULL);
    CHECK_INT (b.rc, -1);
    CHECK_INT (b.err, ETERM);
    tctx_term (b.ctx);
}

struct closer
{
    void *s;
    int64_t at;
};

static void *close_later (void *p)
{
    struct closer *c = p;
    msleep (150);
    c->at = now_ms ();
    zmq_close (c->s);
    return NULL;
}

static void test_term_waits_for_close (void)
{
    void *ctx = tctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    /* Another thread closes the socket while zmq_ctx_term blocks. */
    struct closer c = {s, 0};
    pthread_t t = tthread (close_later, &c);
    tctx_term (ctx);
    CHECK (c.at > 0 && now_ms () >= c.at);
    pthread_join (t, NULL);
}

static void test_linger_zero_term_is_prompt (void)
{
    /* Unsent messages with LINGER 0 don't hold up termination. */
    void *ctx = tctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_LINGER, 0);
    char ep[256];
    unique_name (ep, sizeof ep, "ctx-linger");
    connect_ep (push, ep); /* never bound: the message can't leave */
    CHECK_INT (zmq_send (push, "x", 1, ZMQ_DONTWAIT), 1);
    tclose (push);
    int64_t t0 = now_ms ();
    tctx_term (ctx);
    CHECK (now_ms () - t0 < 1000);
}

static void test_legacy_init_term (void)
{
    void *ctx = zmq_init (1);
    CHECK (ctx != NULL);
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    CHECK (s);
    tclose (s);
    OK (zmq_term (ctx));

    ctx = zmq_ctx_new ();
    OK (zmq_ctx_destroy (ctx));
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    RUN (test_version);
    RUN (test_defaults);
    RUN (test_set_get);
    RUN (test_max_sockets);
    RUN (test_bad_socket_type);
    RUN (test_term_unblocks_recv);
    RUN (test_shutdown);
    RUN (test_term_waits_for_close);
    RUN (test_linger_zero_term_is_prompt);
    RUN (test_legacy_init_term);
    return 0;
}
