/* Endpoint lifecycle (unbind/rebind, disconnect, a name moving to another
 * socket, connecting to a name that was unbound), XPUB/XSUB proxies and
 * subscription bookkeeping, REQ against dying REPs, and the free callback
 * of zmq_msg_init_data under copying, closing and context termination.
 * Every check was first run against Debian's libzmq 4.3.4. */
#include "testutil.h"

static void *ctx;

/* ---- connect/bind lifecycle ---- */

static void test_unbind_then_rebind_same_name (void)
{
    char ep[64];
    unique_name (ep, sizeof ep, "rebind");
    void *pull = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (pull, ep));
    void *push1 = tsock (ctx, ZMQ_PUSH);
    connect_ep (push1, ep);
    send_str (push1, "one", 0);
    recv_expect (pull, "one", 0);
    OK (zmq_unbind (pull, ep));
    /* unbinding twice: the name is no longer ours */
    FAILS_WITH (zmq_unbind (pull, ep), ENOENT);
    /* unbinding an inproc name frees the name only: connections made
     * through it stay up */
    send_str (push1, "still", ZMQ_DONTWAIT);
    recv_expect (pull, "still", 0);
    /* a connect now waits for the next bind of the name */
    void *push2 = tsock (ctx, ZMQ_PUSH);
    connect_ep (push2, ep);
    send_str (push2, "two", 0);
    expect_nothing (pull, 50);
    /* rebind the same name on the same socket: the waiting connect
     * completes */
    OK (zmq_bind (pull, ep));
    recv_expect (pull, "two", 0);
    send_str (push1, "three", 0);
    recv_expect (pull, "three", 0);
    expect_nothing (pull, 50);
    tclose (push1);
    tclose (push2);
    tclose (pull);
}

static void test_disconnect_then_reconnect (void)
{
    char ep1[64], ep2[64];
    unique_name (ep1, sizeof ep1, "disc1");
    unique_name (ep2, sizeof ep2, "disc2");
    void *a = tsock (ctx, ZMQ_PULL), *b = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (a, ep1));
    OK (zmq_bind (b, ep2));
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep1);
    connect_ep (push, ep2);
    send_str (push, "x", 0);
    send_str (push, "y", 0);
    char buf[8];
    recv_str (a, buf, sizeof buf);
    recv_str (b, buf, sizeof buf);
    OK (zmq_disconnect (push, ep1));
    FAILS_WITH (zmq_disconnect (push, ep1), ENOENT);
    for (int i = 0; i < 10; i++)
        send_str (push, "only-b", 0);
    for (int i = 0; i < 10; i++)
        recv_expect (b, "only-b", 0);
    expect_nothing (a, 50);
    connect_ep (push, ep1);
    send_str (push, "p", 0);
    send_str (push, "q", 0);
    recv_str (a, buf, sizeof buf);
    recv_str (b, buf, sizeof buf);
    tclose (push);
    tclose (a);
    tclose (b);
}

static void test_close_bound_then_bind_from_other_socket (void)
{
    char ep[64];
    unique_name (ep, sizeof ep, "move");
    void *first = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (first, ep));
    void *second = tsock (ctx, ZMQ_PULL);
    FAILS_WITH (zmq_bind (second, ep), EADDRINUSE);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    send_str (push, "to-first", 0);
    recv_expect (first, "to-first", 0);
    tclose (first);
    /* libzmq frees the name once the closed socket is reaped, which is
     * asynchronous: retry for a while */
    int64_t t0 = now_ms ();
    while (zmq_bind (second, ep) != 0) {
        CHECK_INT (zmq_errno (), EADDRINUSE);
        CHECK (now_ms () - t0 < 1000);
        msleep (5);
    }
    /* the old connection does not move over; a new one reaches second */
    void *push2 = tsock (ctx, ZMQ_PUSH);
    connect_ep (push2, ep);
    send_str (push2, "to-second", 0);
    recv_expect (second, "to-second", 0);
    /* the old connection died with the first socket (whether the sender
     * already noticed is timing); inproc never reconnects it */
    if (zmq_send (push, "old", 3, ZMQ_DONTWAIT) != 3)
        CHECK_INT (zmq_errno (), EAGAIN);
    expect_nothing (second, 50);
    tclose (push);
    tclose (push2);
    tclose (second);
}

static void test_connect_to_unbound_name_waits_for_bind (void)
{
    char ep[64];
    unique_name (ep, sizeof ep, "unbound");
    void *first = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (first, ep));
    OK (zmq_unbind (first, ep));
    /* the name is free again: a connect waits for the next bind */
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    send_str (push, "early", 0); /* queued on the pending pipe */
    expect_nothing (first, 50);
    void *second = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (second, ep));
    recv_expect (second, "early", 0);
    send_str (push, "late", 0);
    recv_expect (second, "late", 0);
    tclose (push);
    tclose (first);
    tclose (second);
}

/* ---- XPUB/XSUB proxy: subscriptions up, messages down ---- */

struct px
{
    void *ctx;
    void *fe, *be;
    int rc, err;
};

static void *px_thread (void *p)
{
    struct px *a = p;
    a->rc = zmq_proxy (a->fe, a->be, NULL);
    a->err = zmq_errno ();
    zmq_close (a->fe);
    zmq_close (a->be);
    return NULL;
}

static void test_xsub_xpub_proxy (void)
{
    void *pctx = tctx_new ();
    char fe[64], be[64];
    unique_name (fe, sizeof fe, "pxfe");
    unique_name (be, sizeof be, "pxbe");
    struct px a = {pctx, tsock (pctx, ZMQ_XSUB), tsock (pctx, ZMQ_XPUB), 0, 0};
    OK (zmq_bind (a.fe, fe));
    OK (zmq_bind (a.be, be));
    /* the publisher sees the subscriptions the proxy forwards */
    void *pub = tsock (pctx, ZMQ_XPUB);
    connect_ep (pub, fe);
    pthread_t t = tthread (px_thread, &a);
    void *s1 = tsock (pctx, ZMQ_SUB), *s2 = tsock (pctx, ZMQ_SUB);
    connect_ep (s1, be);
    connect_ep (s2, be);
    OK (zmq_setsockopt (s1, ZMQ_SUBSCRIBE, "news", 4));
    OK (zmq_setsockopt (s2, ZMQ_SUBSCRIBE, "news", 4));
    OK (zmq_setsockopt (s2, ZMQ_SUBSCRIBE, "weather", 7));
    /* XPUB (backend) dedups: "news" reaches the publisher once */
    char buf[32];
    int n1 = recv_str (pub, buf, sizeof buf);
    int got_news = 0, got_weather = 0;
    for (int i = 0; i < 2; i++) {
        if (i)
            n1 = recv_str (pub, buf, sizeof buf);
        CHECK (n1 > 0 && buf[0] == 1);
        if (strcmp (buf + 1, "news") == 0)
            got_news++;
        else if (strcmp (buf + 1, "weather") == 0)
            got_weather++;
    }
    CHECK_INT (got_news, 1);
    CHECK_INT (got_weather, 1);
    expect_nothing (pub, 100);
    send_str (pub, "news: a", 0);
    send_str (pub, "weather: b", 0);
    send_str (pub, "sports: c", 0);
    recv_expect (s1, "news: a", 0);
    recv_expect (s2, "news: a", 0);
    recv_expect (s2, "weather: b", 0);
    expect_nothing (s1, 50);
    expect_nothing (s2, 50);
    /* s1 unsubscribes: s2 still wants news, so nothing goes up */
    OK (zmq_setsockopt (s1, ZMQ_UNSUBSCRIBE, "news", 4));
    expect_nothing (pub, 100);
    /* s2 leaves: its topics are cancelled upstream */
    tclose (s2);
    int cancels = 0;
    for (int i = 0; i < 2; i++) {
        int n = recv_str (pub, buf, sizeof buf);
        CHECK (n > 0 && buf[0] == 0);
        cancels++;
    }
    CHECK_INT (cancels, 2);
    expect_nothing (pub, 50);
    /* messages downstream of the proxy: upstream (XSUB side) user data */
    tclose (s1);
    tclose (pub);
    tctx_term (pctx);
    pthread_join (t, NULL);
    CHECK_INT (a.rc, -1);
    CHECK_INT (a.err, ETERM);
}

/* ---- XPUB bookkeeping: duplicates, VERBOSER, NODROP ---- */

static int recv_sub_ (int line, void *xpub, char *topic, size_t n)
{
    char buf[64];
    int rc = recv_str_ (__FILE__, line, xpub, buf, sizeof buf);
    if (rc < 1)
        tu_fail (__FILE__, line, "empty subscription message");
    snprintf (topic, n, "%s", buf + 1);
    return buf[0];
}
#define recv_sub(s, t, n) recv_sub_ (__LINE__, s, t, n)

static void test_xpub_duplicate_subscriptions (void)
{
    char ep[256];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    bind_ep (xpub, "dup", ep, sizeof ep);
    void *s1 = tsock (ctx, ZMQ_SUB), *s2 = tsock (ctx, ZMQ_SUB);
    connect_ep (s1, ep);
    connect_ep (s2, ep);
    char topic[32];
    OK (zmq_setsockopt (s1, ZMQ_SUBSCRIBE, "A", 1));
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 1);
    CHECK (strcmp (topic, "A") == 0);
    OK (zmq_setsockopt (s2, ZMQ_SUBSCRIBE, "A", 1));
    /* the same subscription twice on one SUB: counted, not resent */
    OK (zmq_setsockopt (s1, ZMQ_SUBSCRIBE, "A", 1));
    expect_nothing (xpub, 100);
    send_str (xpub, "A1", 0);
    recv_expect (s1, "A1", 0);
    recv_expect (s2, "A1", 0);
    expect_nothing (s1, 30);
    /* s1 drops one of its two: still subscribed */
    OK (zmq_setsockopt (s1, ZMQ_UNSUBSCRIBE, "A", 1));
    expect_nothing (xpub, 50);
    send_str (xpub, "A2", 0);
    recv_expect (s1, "A2", 0);
    recv_expect (s2, "A2", 0);
    /* s1 drops the other: s2 still holds the topic, XPUB stays quiet */
    OK (zmq_setsockopt (s1, ZMQ_UNSUBSCRIBE, "A", 1));
    expect_nothing (xpub, 50);
    send_str (xpub, "A3", 0);
    recv_expect (s2, "A3", 0);
    expect_nothing (s1, 50);
    /* the last holder cancels: now the XPUB hears it */
    OK (zmq_setsockopt (s2, ZMQ_UNSUBSCRIBE, "A", 1));
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 0);
    CHECK (strcmp (topic, "A") == 0);
    tclose (s1);
    tclose (s2);
    tclose (xpub);
}

static void test_xpub_verboser (void)
{
    char ep[256];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_VERBOSER, 1);
    bind_ep (xpub, "verboser", ep, sizeof ep);
    void *s1 = tsock (ctx, ZMQ_SUB), *s2 = tsock (ctx, ZMQ_SUB);
    connect_ep (s1, ep);
    connect_ep (s2, ep);
    char topic[32];
    OK (zmq_setsockopt (s1, ZMQ_SUBSCRIBE, "T", 1));
    OK (zmq_setsockopt (s2, ZMQ_SUBSCRIBE, "T", 1));
    /* every subscription and cancellation is passed up */
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 1);
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 1);
    OK (zmq_setsockopt (s1, ZMQ_UNSUBSCRIBE, "T", 1));
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 0);
    CHECK (strcmp (topic, "T") == 0);
    OK (zmq_setsockopt (s1, ZMQ_SUBSCRIBE, "T", 1));
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 1);
    expect_nothing (xpub, 50);
    /* a subscriber that leaves: with VERBOSER its topic is cancelled even
     * though the other subscriber still holds it */
    tclose (s1);
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 0);
    CHECK (strcmp (topic, "T") == 0);
    expect_nothing (xpub, 50);
    send_str (xpub, "T!", 0);
    recv_expect (s2, "T!", 0);
    tclose (s2);
    CHECK_INT (recv_sub (xpub, topic, sizeof topic), 0);
    tclose (xpub);
}

static void test_xpub_nodrop_blocks_at_hwm (void)
{
    char ep[256];
    void *xpub = tsock (ctx, ZMQ_XPUB);
    set_int (xpub, ZMQ_XPUB_NODROP, 1);
    set_int (xpub, ZMQ_SNDHWM, 2);
    bind_ep (xpub, "nodrop", ep, sizeof ep);
    void *sub = tsock (ctx, ZMQ_SUB);
    set_int (sub, ZMQ_RCVHWM, 2);
    connect_ep (sub, ep);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    char topic[8];
    recv_sub (xpub, topic, sizeof topic);
    int sent = 0;
    for (; sent < 100; sent++) {
        uint32_t v = sent;
        if (zmq_send (xpub, &v, 4, ZMQ_DONTWAIT) != 4) {
            CHECK_INT (zmq_errno (), EAGAIN);
            break;
        }
    }
    CHECK (sent >= 2 && sent < 100);
    set_int (xpub, ZMQ_SNDTIMEO, 100);
    uint32_t v = sent;
    FAILS_WITH (zmq_send (xpub, &v, 4, 0), EAGAIN);
    /* nothing was dropped: all of them arrive, then sending resumes */
    for (int i = 0; i < sent; i++) {
        uint32_t w;
        CHECK_INT (zmq_recv (sub, &w, 4, 0), 4);
        CHECK_INT (w, i);
    }
    set_int (xpub, ZMQ_SNDTIMEO, 1000);
    CHECK_INT (zmq_send (xpub, &v, 4, 0), 4);
    uint32_t w;
    CHECK_INT (zmq_recv (sub, &w, 4, 0), 4);
    CHECK_INT (w, v);
    tclose (sub);
    tclose (xpub);
}

static void test_sub_connects_before_xpub_binds (void)
{
    char ep[64];
    unique_name (ep, sizeof ep, "late-xpub");
    void *sub = tsock (ctx, ZMQ_SUB);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "early", 5));
    connect_ep (sub, ep);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "later", 5));
    void *xpub = tsock (ctx, ZMQ_XPUB);
    OK (zmq_bind (xpub, ep));
    char t1[16], t2[16];
    CHECK_INT (recv_sub (xpub, t1, sizeof t1), 1);
    CHECK_INT (recv_sub (xpub, t2, sizeof t2), 1);
    CHECK ((strcmp (t1, "early") == 0 && strcmp (t2, "later") == 0)
           || (strcmp (t1, "later") == 0 && strcmp (t2, "early") == 0));
    expect_nothing (xpub, 50);
    send_str (xpub, "early bird", 0);
    send_str (xpub, "later gator", 0);
    send_str (xpub, "never", 0);
    recv_expect (sub, "early bird", 0);
    recv_expect (sub, "later gator", 0);
    expect_nothing (sub, 50);
    tclose (sub);
    tclose (xpub);
}

/* ---- REQ against REPs that die ---- */

static void test_req_relaxed_resends_when_rep_dies (void)
{
    char ep[3][64];
    void *rep[3];
    void *req = tsock (ctx, ZMQ_REQ);
    set_int (req, ZMQ_REQ_RELAXED, 1);
    set_int (req, ZMQ_REQ_CORRELATE, 1);
    set_int (req, ZMQ_RCVTIMEO, 200);
    for (int i = 0; i < 3; i++) {
        unique_name (ep[i], sizeof ep[i], "rr");
        rep[i] = tsock (ctx, ZMQ_REP);
        OK (zmq_bind (rep[i], ep[i]));
        connect_ep (req, ep[i]);
    }
    /* find which REP got the first request, and kill it unanswered */
    send_str (req, "job-1", 0);
    int victim = -1;
    for (int i = 0; i < 3 && victim < 0; i++) {
        zmq_pollitem_t it = {rep[i], 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&it, 1, 100) == 1)
            victim = i;
    }
    CHECK (victim >= 0);
    recv_expect (rep[victim], "job-1", 0);
    tclose (rep[victim]);
    rep[victim] = NULL;
    FAILS_WITH (zmq_recv (req, NULL, 0, 0), EAGAIN);
    /* relaxed: send the request again; a live REP answers it */
    for (int round = 0; round < 6; round++) {
        char job[16];
        snprintf (job, sizeof job, "job-%d", round + 2);
        send_str (req, job, 0);
        int answered = 0;
        for (int i = 0; i < 3; i++) {
            if (!rep[i])
                continue;
            zmq_pollitem_t it = {rep[i], 0, ZMQ_POLLIN, 0};
            if (zmq_poll (&it, 1, round == 0 ? 100 : 20) == 1) {
                recv_expect (rep[i], job, 0);
                send_str (rep[i], job, 0);
                answered++;
            }
        }
        CHECK_INT (answered, 1);
        recv_expect (req, job, 0);
    }
    for (int i = 0; i < 3; i++)
        if (rep[i])
            tclose (rep[i]);
    tclose (req);
}

/* With REQ_CORRELATE a late reply to an earlier request is dropped. */
static void test_req_correlate_drops_stale_reply (void)
{
    char ep[64];
    unique_name (ep, sizeof ep, "corr");
    void *router = tsock (ctx, ZMQ_ROUTER);
    OK (zmq_bind (router, ep));
    void *req = tsock (ctx, ZMQ_REQ);
    set_int (req, ZMQ_REQ_RELAXED, 1);
    set_int (req, ZMQ_REQ_CORRELATE, 1);
    connect_ep (req, ep);
    /* request 1: keep its envelope to answer later */
    send_str (req, "r1", 0);
    zmq_msg_t env1[3];
    for (int i = 0; i < 3; i++) {
        OK (zmq_msg_init (&env1[i]));
        CHECK (zmq_msg_recv (&env1[i], router, 0) >= 0);
    }
    recv_expect (router, "r1", 0);
    /* request 2 supersedes it */
    send_str (req, "r2", 0);
    zmq_msg_t env2[3];
    for (int i = 0; i < 3; i++) {
        OK (zmq_msg_init (&env2[i]));
        CHECK (zmq_msg_recv (&env2[i], router, 0) >= 0);
    }
    recv_expect (router, "r2", 0);
    /* answer 1 first (stale), then 2 */
    for (int i = 0; i < 3; i++)
        CHECK (zmq_msg_send (&env1[i], router, ZMQ_SNDMORE) >= 0);
    send_str (router, "reply-1", 0);
    for (int i = 0; i < 3; i++)
        CHECK (zmq_msg_send (&env2[i], router, ZMQ_SNDMORE) >= 0);
    send_str (router, "reply-2", 0);
    recv_expect (req, "reply-2", 0);
    tclose (req);
    tclose (router);
}

/* A REQ whose request went to a peer that died must not take another
 * peer's late reply to an older request as the answer. */
static void *which_got (void *r1, void *r2)
{
    zmq_pollitem_t it[2] = {{r1, 0, ZMQ_POLLIN, 0}, {r2, 0, ZMQ_POLLIN, 0}};
    CHECK_INT (zmq_poll (it, 2, 500), 1);
    return (it[0].revents & ZMQ_POLLIN) ? r1 : r2;
}

static void test_req_ignores_other_peer_after_reply_peer_dies (void)
{
    char ep1[64], ep2[64];
    unique_name (ep1, sizeof ep1, "rd1");
    unique_name (ep2, sizeof ep2, "rd2");
    void *r1 = tsock (ctx, ZMQ_ROUTER), *r2 = tsock (ctx, ZMQ_ROUTER);
    OK (zmq_bind (r1, ep1));
    OK (zmq_bind (r2, ep2));
    void *req = tsock (ctx, ZMQ_REQ);
    set_int (req, ZMQ_REQ_RELAXED, 1);
    set_int (req, ZMQ_RCVTIMEO, 300);
    connect_ep (req, ep1);
    connect_ep (req, ep2);
    /* "a" goes to one router; keep its envelope */
    send_str (req, "a", 0);
    void *ra = which_got (r1, r2);
    zmq_msg_t id_a;
    OK (zmq_msg_init (&id_a));
    CHECK (zmq_msg_recv (&id_a, ra, 0) > 0);
    recv_expect (ra, "", 1);
    recv_expect (ra, "a", 0);
    /* "b" (relaxed: a new request before the reply) goes to the other */
    send_str (req, "b", 0);
    void *rb = which_got (r1, r2);
    CHECK (rb != ra);
    char id[32];
    recv_str (rb, id, sizeof id);
    recv_expect (rb, "", 1);
    recv_expect (rb, "b", 0);
    /* the peer that holds "b" dies without answering */
    tclose (rb);
    msleep (50);
    /* the other peer answers "a" late: it is not the answer to "b" */
    CHECK (zmq_msg_send (&id_a, ra, ZMQ_SNDMORE) > 0);
    send_str (ra, "", ZMQ_SNDMORE);
    send_str (ra, "late-a", 0);
    char buf[16];
    errno = 0;
    int rc = zmq_recv (req, buf, sizeof buf - 1, 0);
    int err = zmq_errno ();
    if (rc >= 0) {
        buf[rc] = 0;
        printf ("REQ accepted \"%s\" from a peer its request never went to\n",
                buf);
    }
    CHECK_INT (rc, -1);
    CHECK_INT (err, EAGAIN);
    tclose (ra);
    tclose (req);
}

/* ---- zmq_msg_init_data free callback ---- */

static volatile int freed;
static pthread_mutex_t freed_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_free (void *data, void *hint)
{
    (void) hint;
    pthread_mutex_lock (&freed_lock);
    freed++;
    pthread_mutex_unlock (&freed_lock);
    free (data);
}

static int freed_now (void)
{
    pthread_mutex_lock (&freed_lock);
    int v = freed;
    pthread_mutex_unlock (&freed_lock);
    return v;
}

static void send_user_data (void *s, size_t n, int flags)
{
    void *p = malloc (n);
    CHECK (p);
    memset (p, 'u', n);
    zmq_msg_t m;
    OK (zmq_msg_init_data (&m, p, n, count_free, NULL));
    CHECK_INT (zmq_msg_send (&m, s, flags), (int) n);
}

static void test_free_callback_once_across_subscribers (void)
{
    freed = 0;
    char ep[256];
    void *pub = tsock (ctx, ZMQ_PUB);
    bind_ep (pub, "free", ep, sizeof ep);
    void *subs[4];
    for (int i = 0; i < 4; i++) {
        subs[i] = tsock (ctx, ZMQ_SUB);
        OK (zmq_setsockopt (subs[i], ZMQ_SUBSCRIBE, "", 0));
        connect_ep (subs[i], ep);
    }
    msleep (SETTLE_MS);
    /* big enough to be shared, not copied into a small message */
    send_user_data (pub, 1000, 0);
    /* three receive it; the fourth closes with it still queued */
    for (int i = 0; i < 3; i++) {
        zmq_msg_t m;
        OK (zmq_msg_init (&m));
        CHECK_INT (zmq_msg_recv (&m, subs[i], 0), 1000);
        CHECK_INT (freed_now (), 0);
        OK (zmq_msg_close (&m));
    }
    CHECK_INT (freed_now (), 0);
    /* the last reference goes with the closed socket's queue; libzmq
     * frees it once both ends of the pipe are done, so by the time every
     * socket is closed */
    tclose (subs[3]);
    for (int i = 0; i < 3; i++)
        tclose (subs[i]);
    tclose (pub);
    int64_t t0 = now_ms ();
    while (freed_now () == 0 && now_ms () - t0 < 1000)
        msleep (5);
    msleep (20);
    CHECK_INT (freed_now (), 1);
}

static void test_free_callback_when_queued_and_socket_closes (void)
{
    freed = 0;
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "freeq", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    for (int i = 0; i < 10; i++)
        send_user_data (push, 100 + i, 0);
    /* a multipart message too, both frames user data */
    send_user_data (push, 500, ZMQ_SNDMORE);
    send_user_data (push, 600, 0);
    zmq_msg_t m;
    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_msg_recv (&m, pull, 0), 100);
    OK (zmq_msg_close (&m));
    CHECK_INT (freed_now (), 1);
    /* the sender goes; what it queued stays readable */
    tclose (push);
    OK (zmq_msg_init (&m));
    CHECK_INT (zmq_msg_recv (&m, pull, 0), 101);
    OK (zmq_msg_close (&m));
    /* the receiver goes with 10 frames still queued */
    tclose (pull);
    int64_t t0 = now_ms ();
    while (freed_now () < 12 && now_ms () - t0 < 1000)
        msleep (5);
    CHECK_INT (freed_now (), 12);
}

static void test_free_callback_on_ctx_term (void)
{
    freed = 0;
    void *c = tctx_new ();
    char ep[64];
    unique_name (ep, sizeof ep, "freect");
    void *pull = tsock (c, ZMQ_PULL);
    OK (zmq_bind (pull, ep));
    void *push = tsock (c, ZMQ_PUSH);
    OK (zmq_connect (push, ep));
    void *pub = tsock (c, ZMQ_PUB);
    void *sub = tsock (c, ZMQ_SUB);
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    char ep2[64];
    unique_name (ep2, sizeof ep2, "freect2");
    OK (zmq_bind (pub, ep2));
    OK (zmq_connect (sub, ep2));
    msleep (SETTLE_MS);
    for (int i = 0; i < 5; i++)
        send_user_data (push, 64, 0);
    send_user_data (pub, 64, 0);
    /* a message the application still holds, received but not closed */
    zmq_msg_t held;
    OK (zmq_msg_init (&held));
    CHECK_INT (zmq_msg_recv (&held, pull, 0), 64);
    /* term from another thread; close everything while it waits */
    zmq_ctx_shutdown (c);
    tclose (push);
    tclose (pull);
    tclose (pub);
    tclose (sub);
    tctx_term (c);
    CHECK_INT (freed_now (), 5);
    /* the message held by the application outlives its context */
    CHECK_INT (zmq_msg_size (&held), 64);
    OK (zmq_msg_close (&held));
    CHECK_INT (freed_now (), 6);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    alarm (28);
    ctx = tctx_new ();
    RUN_UNLESS_SKIPPED (test_unbind_then_rebind_same_name);
    RUN_UNLESS_SKIPPED (test_disconnect_then_reconnect);
    RUN_UNLESS_SKIPPED (test_close_bound_then_bind_from_other_socket);
    RUN_UNLESS_SKIPPED (test_connect_to_unbound_name_waits_for_bind);
    RUN_UNLESS_SKIPPED (test_xsub_xpub_proxy);
    RUN_UNLESS_SKIPPED (test_xpub_duplicate_subscriptions);
    RUN_UNLESS_SKIPPED (test_xpub_verboser);
    RUN_UNLESS_SKIPPED (test_xpub_nodrop_blocks_at_hwm);
    RUN_UNLESS_SKIPPED (test_sub_connects_before_xpub_binds);
    RUN_UNLESS_SKIPPED (test_req_relaxed_resends_when_rep_dies);
    RUN_UNLESS_SKIPPED (test_req_correlate_drops_stale_reply);
    RUN_UNLESS_SKIPPED (test_req_ignores_other_peer_after_reply_peer_dies);
    RUN_UNLESS_SKIPPED (test_free_callback_once_across_subscribers);
    RUN_UNLESS_SKIPPED (test_free_callback_when_queued_and_socket_closes);
    RUN_UNLESS_SKIPPED (test_free_callback_on_ctx_term);
    tctx_term (ctx);
    return 0;
}
