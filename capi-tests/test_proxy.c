/* zmq_proxy (with a capture socket) and zmq_proxy_steerable's control
 * commands. */
#include "testutil.h"

static void *ctx;

struct proxy_args
{
    void *frontend, *backend, *capture, *control;
    int rc, err;
};

static void *proxy_thread (void *p)
{
    struct proxy_args *a = p;
    if (a->control)
        a->rc = zmq_proxy_steerable (a->frontend, a->backend, a->capture,
                                     a->control);
    else
        a->rc = zmq_proxy (a->frontend, a->backend, a->capture);
    a->err = zmq_errno ();
    zmq_close (a->frontend);
    zmq_close (a->backend);
    if (a->capture)
        zmq_close (a->capture);
    if (a->control)
        zmq_close (a->control);
    return NULL;
}

static void test_streamer_with_capture (void)
{
    void *main_ctx = ctx;
    ctx = tctx_new (); /* terminating it is how zmq_proxy stops */
    char fe[256], be[256], ce[256];
    struct proxy_args a = {tsock (ctx, ZMQ_PULL), tsock (ctx, ZMQ_PUSH),
                           tsock (ctx, ZMQ_PUSH), NULL, 0, 0};
    bind_ep (a.frontend, "px-fe", fe, sizeof fe);
    bind_ep (a.backend, "px-be", be, sizeof be);
    bind_ep (a.capture, "px-cap", ce, sizeof ce);
    void *in = tsock (ctx, ZMQ_PUSH);
    void *out = tsock (ctx, ZMQ_PULL);
    void *cap = tsock (ctx, ZMQ_PULL);
    connect_ep (in, fe);
    connect_ep (out, be);
    connect_ep (cap, ce);
    pthread_t t = tthread (proxy_thread, &a);

    send_str (in, "one", ZMQ_SNDMORE);
    send_str (in, "two", 0);
    recv_expect (out, "one", 1);
    recv_expect (out, "two", 0);
    /* The capture socket sees every frame that passed, MORE flags too. */
    recv_expect (cap, "one", 1);
    recv_expect (cap, "two", 0);

    tclose (in);
    tclose (out);
    tclose (cap);
    tctx_term (ctx);
    pthread_join (t, NULL);
    CHECK_INT (a.rc, -1);
    CHECK_INT (a.err, ETERM);
    ctx = main_ctx;
}

static void test_steerable_pause_resume_terminate (void)
{
    char fe[256], be[256], ce[256];
    struct proxy_args a = {tsock (ctx, ZMQ_PULL), tsock (ctx, ZMQ_PUSH), NULL,
                           tsock (ctx, ZMQ_PAIR), 0, 0};
    bind_ep (a.frontend, "spx-fe", fe, sizeof fe);
    bind_ep (a.backend, "spx-be", be, sizeof be);
    bind_ep (a.control, "spx-ctl", ce, sizeof ce);
    void *in = tsock (ctx, ZMQ_PUSH);
    void *out = tsock (ctx, ZMQ_PULL);
    void *ctl = tsock (ctx, ZMQ_PAIR);
    connect_ep (in, fe);
    connect_ep (out, be);
    connect_ep (ctl, ce);
    pthread_t t = tthread (proxy_thread, &a);

    send_str (in, "before", 0);
    recv_expect (out, "before", 0);

    /* PAUSE holds messages back until RESUME. */
    send_str (ctl, "PAUSE", 0);
    msleep (SETTLE_MS);
    send_str (in, "held", 0);
    expect_nothing (out, 150);
    send_str (ctl, "RESUME", 0);
    recv_expect (out, "held", 0);

    /* TERMINATE makes the proxy return 0. */
    send_str (ctl, "TERMINATE", 0);
    pthread_join (t, NULL);
    CHECK_INT (a.rc, 0);

    tclose (in);
    tclose (out);
    tclose (ctl);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_streamer_with_capture);
    RUN (test_steerable_pause_resume_terminate);
    tctx_term (ctx);
    return 0;
}
