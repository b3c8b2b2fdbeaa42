/* Many threads, each with its own sockets: pipelines, a ROUTER/DEALER
 * broker through zmq_proxy, PUB to many SUBs, zmq_ctx_term while threads
 * are blocked, peers closing mid-stream, zmq_poll against a sending thread.
 * Every check was first run against Debian's libzmq 4.3.4. */
#include "testutil.h"

/* A failure inside a worker thread fails the whole program, like CHECK. */
#define TCHECK(cond) CHECK (cond)

/* ---- many PUSH threads into one PULL, sequence checked per sender ---- */

#define PP_SENDERS 4
#define PP_MSGS 20000

struct pp_arg
{
    void *ctx;
    const char *ep;
    int id;
};

static void *pp_sender (void *p)
{
    struct pp_arg *a = p;
    void *s = tsock (a->ctx, ZMQ_PUSH);
    set_int (s, ZMQ_SNDHWM, 100);
    connect_ep (s, a->ep);
    for (int i = 0; i < PP_MSGS; i++) {
        uint32_t v[2] = {(uint32_t) a->id, (uint32_t) i};
        TCHECK (zmq_send (s, v, sizeof v, 0) == (int) sizeof v);
    }
    tclose (s);
    return NULL;
}

static void test_many_pushers_one_puller (void)
{
    void *ctx = tctx_new ();
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 100);
    bind_ep (pull, "pp", ep, sizeof ep);
    pthread_t t[PP_SENDERS];
    struct pp_arg a[PP_SENDERS];
    for (int i = 0; i < PP_SENDERS; i++) {
        a[i] = (struct pp_arg){ctx, ep, i};
        t[i] = tthread (pp_sender, &a[i]);
    }
    int next[PP_SENDERS] = {0};
    for (int n = 0; n < PP_SENDERS * PP_MSGS; n++) {
        uint32_t v[2];
        int rc = zmq_recv (pull, v, sizeof v, 0);
        CHECK_INT (rc, sizeof v);
        CHECK (v[0] < PP_SENDERS);
        CHECK_INT (v[1], next[v[0]]);
        next[v[0]]++;
    }
    expect_nothing (pull, 50);
    for (int i = 0; i < PP_SENDERS; i++)
        pthread_join (t[i], NULL);
    tclose (pull);
    tctx_term (ctx);
}

/* ---- independent PUSH/PULL pairs, one pair of threads each ---- */

#define PAIRS 4
#define PAIR_MSGS 30000

static void *pair_receiver (void *p)
{
    struct pp_arg *a = p;
    void *s = tsock (a->ctx, ZMQ_PULL);
    set_int (s, ZMQ_RCVHWM, 10);
    connect_ep (s, a->ep);
    for (int i = 0; i < PAIR_MSGS; i++) {
        uint32_t v;
        TCHECK (zmq_recv (s, &v, sizeof v, 0) == (int) sizeof v);
        TCHECK (v == (uint32_t) i);
    }
    tclose (s);
    return NULL;
}

static void *pair_sender (void *p)
{
    struct pp_arg *a = p;
    void *s = tsock (a->ctx, ZMQ_PUSH);
    set_int (s, ZMQ_SNDHWM, 10);
    /* Each sender binds its own name; the receiver may connect first. */
    TCHECK (zmq_bind (s, a->ep) == 0);
    for (uint32_t i = 0; i < PAIR_MSGS; i++)
        TCHECK (zmq_send (s, &i, sizeof i, 0) == (int) sizeof i);
    tclose (s);
    return NULL;
}

static void test_independent_pairs (void)
{
    void *ctx = tctx_new ();
    char eps[PAIRS][64];
    struct pp_arg a[PAIRS];
    pthread_t ts[PAIRS], tr[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        unique_name (eps[i], sizeof eps[i], "pair");
        a[i] = (struct pp_arg){ctx, eps[i], i};
        tr[i] = tthread (pair_receiver, &a[i]);
        ts[i] = tthread (pair_sender, &a[i]);
    }
    for (int i = 0; i < PAIRS; i++) {
        pthread_join (ts[i], NULL);
        pthread_join (tr[i], NULL);
    }
    tctx_term (ctx);
}

/* ---- broker: REQ clients -> ROUTER | zmq_proxy | DEALER -> REP workers */

#define BR_CLIENTS 4
#define BR_REQS 2000
#define BR_WORKERS 3

struct br
{
    void *ctx;
    char fe[64], be[64];
    int proxy_rc, proxy_err;
    int worker_err[BR_WORKERS];
    int worker_count[BR_WORKERS];
};

struct br_arg
{
    struct br *b;
    int id;
};

static void *br_proxy (void *p)
{
    struct br *b = p;
    void *fe = zmq_socket (b->ctx, ZMQ_ROUTER);
    void *be = zmq_socket (b->ctx, ZMQ_DEALER);
    set_int (fe, ZMQ_LINGER, 0);
    set_int (be, ZMQ_LINGER, 0);
    TCHECK (zmq_bind (fe, b->fe) == 0);
    TCHECK (zmq_bind (be, b->be) == 0);
    b->proxy_rc = zmq_proxy (fe, be, NULL);
    b->proxy_err = zmq_errno ();
    zmq_close (fe);
    zmq_close (be);
    return NULL;
}

static void *br_worker (void *p)
{
    struct br_arg *a = p;
    void *s = zmq_socket (a->b->ctx, ZMQ_REP);
    set_int (s, ZMQ_LINGER, 0);
    TCHECK (zmq_connect (s, a->b->be) == 0);
    char buf[64];
    for (;;) {
        int rc = zmq_recv (s, buf, sizeof buf, 0);
        if (rc < 0) {
            a->b->worker_err[a->id] = zmq_errno ();
            break;
        }
        TCHECK (rc < (int) sizeof buf);
        /* reply = request + worker id */
        buf[rc] = (char) ('A' + a->id);
        if (zmq_send (s, buf, rc + 1, 0) != rc + 1) {
            a->b->worker_err[a->id] = zmq_errno ();
            break;
        }
        a->b->worker_count[a->id]++;
    }
    zmq_close (s);
    return NULL;
}

static void *br_client (void *p)
{
    struct br_arg *a = p;
    void *s = tsock (a->b->ctx, ZMQ_REQ);
    connect_ep (s, a->b->fe);
    for (int i = 0; i < BR_REQS; i++) {
        char req[64], rep[64];
        int n = snprintf (req, sizeof req, "c%d-r%d", a->id, i);
        TCHECK (zmq_send (s, req, n, 0) == n);
        int rc = zmq_recv (s, rep, sizeof rep, 0);
        if (rc != n + 1 || memcmp (rep, req, n) != 0 || rep[n] < 'A'
            || rep[n] >= 'A' + BR_WORKERS) {
            rep[rc > 0 && rc < 64 ? rc : 0] = 0;
            printf ("client %d: request %s got reply '%s' (rc %d)\n", a->id,
                    req, rep, rc);
            TCHECK (0);
        }
    }
    tclose (s);
    return NULL;
}

static void test_broker (void)
{
    struct br b;
    memset (&b, 0, sizeof b);
    b.ctx = tctx_new ();
    unique_name (b.fe, sizeof b.fe, "br-fe");
    unique_name (b.be, sizeof b.be, "br-be");
    pthread_t tp = tthread (br_proxy, &b);
    msleep (50); /* the proxy binds */
    struct br_arg wa[BR_WORKERS], ca[BR_CLIENTS];
    pthread_t tw[BR_WORKERS], tc[BR_CLIENTS];
    for (int i = 0; i < BR_WORKERS; i++) {
        wa[i] = (struct br_arg){&b, i};
        tw[i] = tthread (br_worker, &wa[i]);
    }
    for (int i = 0; i < BR_CLIENTS; i++) {
        ca[i] = (struct br_arg){&b, i};
        tc[i] = tthread (br_client, &ca[i]);
    }
    for (int i = 0; i < BR_CLIENTS; i++)
        pthread_join (tc[i], NULL);
    /* Terminating the context stops the proxy and the workers. */
    tctx_term (b.ctx);
    pthread_join (tp, NULL);
    CHECK_INT (b.proxy_rc, -1);
    CHECK_INT (b.proxy_err, ETERM);
    int total = 0;
    for (int i = 0; i < BR_WORKERS; i++) {
        pthread_join (tw[i], NULL);
        CHECK_INT (b.worker_err[i], ETERM);
        total += b.worker_count[i];
    }
    CHECK_INT (total, BR_CLIENTS * BR_REQS);
}

/* ---- one PUB, many SUB threads, nothing lost below the HWM ---- */

#define PS_SUBS 6
#define PS_MSGS 5000

struct ps_arg
{
    void *ctx;
    const char *ep;
    int id;
    int got;
    void *ready; /* PUSH to tell the publisher we subscribed */
};

static void *ps_sub (void *p)
{
    struct ps_arg *a = p;
    void *s = tsock (a->ctx, ZMQ_SUB);
    set_int (s, ZMQ_RCVHWM, 0);
    /* half the subscribers want everything, half only topic "B" */
    const char *topic = (a->id % 2) ? "B" : "";
    OK (zmq_setsockopt (s, ZMQ_SUBSCRIBE, topic, strlen (topic)));
    connect_ep (s, a->ep);
    int expect = 0;
    char buf[32];
    for (;;) {
        int rc = zmq_recv (s, buf, sizeof buf - 1, 0);
        TCHECK (rc > 0);
        buf[rc] = 0;
        if (strcmp (buf, "BEND") == 0)
            break;
        if (buf[0] == 'H') /* hello probe */
            continue;
        int v = atoi (buf + 1);
        if (a->id % 2)
            TCHECK (buf[0] == 'B');
        TCHECK (v >= expect);
        if (a->id % 2 == 0 || buf[0] == 'B') {
            /* everything, in order, no gaps */
            if (a->id % 2 == 0)
                TCHECK (v == expect);
            expect = v + 1;
        }
        a->got++;
    }
    tclose (s);
    return NULL;
}

static void test_pub_many_subs (void)
{
    void *ctx = tctx_new ();
    char ep[256];
    void *pub = tsock (ctx, ZMQ_XPUB);
    set_int (pub, ZMQ_SNDHWM, 0);
    bind_ep (pub, "ps", ep, sizeof ep);
    struct ps_arg a[PS_SUBS];
    pthread_t t[PS_SUBS];
    for (int i = 0; i < PS_SUBS; i++) {
        a[i] = (struct ps_arg){ctx, ep, i, 0, NULL};
        t[i] = tthread (ps_sub, &a[i]);
    }
    /* Wait for every subscription: XPUB reports unique ones only, so
     * count the pipes by waiting until "" and "B" both arrived, then
     * settle for the duplicates. */
    int seen = 0;
    while (seen < 2) {
        char buf[8];
        int rc = zmq_recv (pub, buf, sizeof buf, 0);
        CHECK (rc >= 1);
        seen++;
    }
    msleep (SETTLE_MS * 2);
    for (int i = 0; i < PS_MSGS; i++) {
        char m[32];
        int n = snprintf (m, sizeof m, "%c%d", (i % 3 == 0) ? 'B' : 'A', i);
        CHECK_INT (zmq_send (pub, m, n, 0), n);
    }
    send_str (pub, "BEND", 0);
    int bcount = 0;
    for (int i = 0; i < PS_MSGS; i++)
        bcount += i % 3 == 0;
    for (int i = 0; i < PS_SUBS; i++) {
        pthread_join (t[i], NULL);
        CHECK_INT (a[i].got, (i % 2) ? bcount : PS_MSGS);
    }
    tclose (pub);
    tctx_term (ctx);
}

/* ---- zmq_ctx_term while threads block in recv, send, poll, proxy ---- */

struct blk
{
    void *s;
    int kind; /* 0 recv, 1 send, 2 poll, 3 recv with REQ */
    int rc, err;
    volatile int started;
};

static void *blk_thread (void *p)
{
    struct blk *b = p;
    b->started = 1;
    if (b->kind == 0 || b->kind == 3) {
        char buf[8];
        b->rc = zmq_recv (b->s, buf, sizeof buf, 0);
    } else if (b->kind == 1) {
        /* fill the pipe, then block */
        do {
            b->rc = zmq_send (b->s, "x", 1, 0);
        } while (b->rc == 1);
    } else {
        zmq_pollitem_t it = {b->s, 0, ZMQ_POLLIN, 0};
        b->rc = zmq_poll (&it, 1, -1);
    }
    b->err = zmq_errno ();
    zmq_close (b->s);
    return NULL;
}

static void test_ctx_term_unblocks_all (void)
{
    void *ctx = tctx_new ();
    char ep1[64], ep2[64], ep3[64];
    unique_name (ep1, sizeof ep1, "blk1");
    unique_name (ep2, sizeof ep2, "blk2");
    unique_name (ep3, sizeof ep3, "blk3");
    /* blocking sockets: infinite timeouts */
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    void *peer_push = zmq_socket (ctx, ZMQ_PUSH);
    void *peer_pull = zmq_socket (ctx, ZMQ_PULL);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    void *all[] = {pull, push, sub, req, peer_push, peer_pull, rep};
    for (int i = 0; i < 7; i++)
        set_int (all[i], ZMQ_LINGER, 0);
    set_int (push, ZMQ_SNDHWM, 5);
    set_int (peer_pull, ZMQ_RCVHWM, 5);
    OK (zmq_bind (pull, ep1));
    OK (zmq_connect (peer_push, ep1));
    OK (zmq_bind (peer_pull, ep2));
    OK (zmq_connect (push, ep2));
    OK (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0));
    OK (zmq_bind (rep, ep3));
    OK (zmq_connect (req, ep3));
    send_str (req, "q", 0); /* REQ now blocks waiting for its reply */

    struct blk b[4] = {
      {pull, 0, 0, 0, 0}, {push, 1, 0, 0, 0}, {sub, 2, 0, 0, 0}, {req, 3, 0, 0, 0}};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = tthread (blk_thread, &b[i]);
    msleep (200);
    for (int i = 0; i < 4; i++)
        CHECK (b[i].started);
    /* Close the sockets this thread owns, then terminate: every blocked
     * call must come back with ETERM and its thread closes its socket. */
    zmq_close (peer_push);
    zmq_close (peer_pull);
    zmq_close (rep);
    int64_t t0 = now_ms ();
    tctx_term (ctx);
    CHECK (now_ms () - t0 < 3000);
    for (int i = 0; i < 4; i++) {
        pthread_join (t[i], NULL);
        CHECK_INT (b[i].rc, -1);
        CHECK_INT (b[i].err, ETERM);
    }
}

/* zmq_ctx_shutdown from another thread while the owner polls several
 * sockets at once with an infinite timeout. */
struct polln
{
    void *s[3];
    int rc, err;
};

static void *polln_thread (void *p)
{
    struct polln *a = p;
    zmq_pollitem_t it[3];
    for (int i = 0; i < 3; i++)
        it[i] = (zmq_pollitem_t){a->s[i], 0, ZMQ_POLLIN, 0};
    a->rc = zmq_poll (it, 3, -1);
    a->err = zmq_errno ();
    return NULL;
}

static void test_ctx_shutdown_wakes_poll_of_many (void)
{
    void *ctx = tctx_new ();
    struct polln a;
    a.s[0] = zmq_socket (ctx, ZMQ_PULL);
    a.s[1] = zmq_socket (ctx, ZMQ_DEALER);
    a.s[2] = zmq_socket (ctx, ZMQ_SUB);
    pthread_t t = tthread (polln_thread, &a);
    msleep (100);
    OK (zmq_ctx_shutdown (ctx));
    pthread_join (t, NULL);
    CHECK_INT (a.rc, -1);
    CHECK_INT (a.err, ETERM);
    /* Once a socket has seen the shutdown, its other calls fail with
     * ETERM too (options included); only zmq_close is left to do. */
    int zero = 0;
    FAILS_WITH (zmq_setsockopt (a.s[0], ZMQ_LINGER, &zero, sizeof zero),
                ETERM);
    FAILS_WITH (zmq_connect (a.s[1], "inproc://after-shutdown"), ETERM);
    for (int i = 0; i < 3; i++)
        OK (zmq_close (a.s[i]));
    tctx_term (ctx);
}

/* ---- a receiver closes while the sender is mid-stream ---- */

struct ms
{
    void *ctx;
    const char *ep;
    int sent, err;
};

static void *ms_sender (void *p)
{
    struct ms *a = p;
    void *s = zmq_socket (a->ctx, ZMQ_PUSH);
    set_int (s, ZMQ_LINGER, 0);
    set_int (s, ZMQ_SNDTIMEO, 300);
    set_int (s, ZMQ_SNDHWM, 50);
    TCHECK (zmq_connect (s, a->ep) == 0);
    for (uint32_t i = 0;; i++) {
        uint32_t v[2] = {i, ~i};
        if (zmq_send (s, v, 4, ZMQ_SNDMORE) != 4
            || zmq_send (s, v + 1, 4, 0) != 4) {
            a->err = zmq_errno ();
            break;
        }
        a->sent++;
    }
    zmq_close (s);
    return NULL;
}

static void test_receiver_closes_mid_stream (void)
{
    void *ctx = tctx_new ();
    char ep[64];
    unique_name (ep, sizeof ep, "ms");
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 50);
    OK (zmq_bind (pull, ep));
    struct ms a = {ctx, ep, 0, 0};
    pthread_t t = tthread (ms_sender, &a);
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t v, w;
        CHECK_INT (zmq_recv (pull, &v, 4, 0), 4);
        CHECK_INT (get_int (pull, ZMQ_RCVMORE), 1);
        CHECK_INT (zmq_recv (pull, &w, 4, 0), 4);
        CHECK_INT (get_int (pull, ZMQ_RCVMORE), 0);
        CHECK_INT (v, i);
        CHECK_INT (w, ~i);
    }
    /* Close with messages in flight; the sender must end up with EAGAIN
     * (no peer left to take them), not crash or hang. */
    tclose (pull);
    pthread_join (t, NULL);
    CHECK (a.sent >= 5000);
    CHECK_INT (a.err, EAGAIN);
    tctx_term (ctx);
}

/* ---- zmq_poll in one thread while another sends ---- */

#define PO_MSGS 50000

struct po
{
    void *ctx;
    const char *ep;
};

static void *po_sender (void *p)
{
    struct po *a = p;
    void *s = tsock (a->ctx, ZMQ_DEALER);
    connect_ep (s, a->ep);
    for (uint32_t i = 0; i < PO_MSGS; i++) {
        TCHECK (zmq_send (s, &i, sizeof i, 0) == 4);
        if (i % 1000 == 0)
            usleep (200); /* let the poller block now and then */
    }
    tclose (s);
    return NULL;
}

static void test_poll_while_other_thread_sends (void)
{
    void *ctx = tctx_new ();
    char ep[256];
    void *r = tsock (ctx, ZMQ_DEALER);
    void *idle = tsock (ctx, ZMQ_PULL); /* a second item that never fires */
    bind_ep (r, "po", ep, sizeof ep);
    struct po a = {ctx, ep};
    pthread_t t = tthread (po_sender, &a);
    uint32_t next = 0;
    int polls = 0;
    while (next < PO_MSGS) {
        zmq_pollitem_t it[2] = {{idle, 0, ZMQ_POLLIN, 0},
                                {r, 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (it, 2, TU_TIMEOUT_MS);
        polls++;
        CHECK (rc == 1);
        CHECK (it[1].revents & ZMQ_POLLIN);
        CHECK (!(it[0].revents & ZMQ_POLLIN));
        uint32_t v;
        while (zmq_recv (r, &v, 4, ZMQ_DONTWAIT) == 4) {
            CHECK_INT (v, next);
            next++;
        }
        CHECK_INT (zmq_errno (), EAGAIN);
    }
    pthread_join (t, NULL);
    printf ("  %d polls for %d messages\n", polls, PO_MSGS);
    tclose (r);
    tclose (idle);
    tctx_term (ctx);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    alarm (28);
    RUN_UNLESS_SKIPPED (test_many_pushers_one_puller);
    RUN_UNLESS_SKIPPED (test_independent_pairs);
    RUN_UNLESS_SKIPPED (test_broker);
    RUN_UNLESS_SKIPPED (test_pub_many_subs);
    RUN_UNLESS_SKIPPED (test_ctx_term_unblocks_all);
    RUN_UNLESS_SKIPPED (test_ctx_shutdown_wakes_poll_of_many);
    RUN_UNLESS_SKIPPED (test_receiver_closes_mid_stream);
    RUN_UNLESS_SKIPPED (test_poll_while_other_thread_sends);
    return 0;
}
