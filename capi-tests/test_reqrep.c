/* REQ/REP: the strict send/recv alternation, envelopes, REQ options, and a
 * ROUTER/DEALER broker driven by zmq_proxy. */
#include "testutil.h"

static void *ctx;

static void test_basic_roundtrip (void)
{
    char ep[256];
    void *rep = tsock (ctx, ZMQ_REP);
    void *req = tsock (ctx, ZMQ_REQ);
    bind_ep (rep, "reqrep", ep, sizeof ep);
    connect_ep (req, ep);

    for (int i = 0; i < 5; i++) {
        send_str (req, "hello", 0);
        recv_expect (rep, "hello", 0);
        send_str (rep, "world", 0);
        recv_expect (req, "world", 0);
    }
    /* Multipart requests and replies keep their frames. */
    send_str (req, "a", ZMQ_SNDMORE);
    send_str (req, "b", 0);
    recv_expect (rep, "a", 1);
    recv_expect (rep, "b", 0);
    send_str (rep, "c", ZMQ_SNDMORE);
    send_str (rep, "", ZMQ_SNDMORE);
    send_str (rep, "d", 0);
    recv_expect (req, "c", 1);
    recv_expect (req, "", 1);
    recv_expect (req, "d", 0);
    tclose (req);
    tclose (rep);
}

static void test_efsm (void)
{
    char ep[256], buf[16];
    void *rep = tsock (ctx, ZMQ_REP);
    void *req = tsock (ctx, ZMQ_REQ);
    bind_ep (rep, "efsm", ep, sizeof ep);
    connect_ep (req, ep);

    /* REQ must send first; REP must receive first. */
    FAILS_WITH (zmq_recv (req, buf, sizeof buf, 0), EFSM);
    FAILS_WITH (zmq_send (rep, "x", 1, 0), EFSM);

    send_str (req, "q", 0);
    FAILS_WITH (zmq_send (req, "q2", 2, 0), EFSM);
    recv_expect (rep, "q", 0);
    FAILS_WITH (zmq_recv (rep, buf, sizeof buf, 0), EFSM);
    send_str (rep, "r", 0);
    FAILS_WITH (zmq_send (rep, "r2", 2, 0), EFSM);
    recv_expect (req, "r", 0);
    FAILS_WITH (zmq_recv (req, buf, sizeof buf, 0), EFSM);

    /* The cycle can start over. */
    send_str (req, "q3", 0);
    recv_expect (rep, "q3", 0);
    send_str (rep, "r3", 0);
    recv_expect (req, "r3", 0);
    tclose (req);
    tclose (rep);
}

static void test_req_envelope_seen_by_router (void)
{
    char ep[256];
    void *router = tsock (ctx, ZMQ_ROUTER);
    void *req = tsock (ctx, ZMQ_REQ);
    OK (zmq_setsockopt (req, ZMQ_ROUTING_ID, "client", 6));
    bind_ep (router, "req-env", ep, sizeof ep);
    connect_ep (req, ep);

    /* REQ adds an empty delimiter frame; ROUTER prefixes the routing id. */
    send_str (req, "body", 0);
    recv_expect (router, "client", 1);
    recv_expect (router, "", 1);
    recv_expect (router, "body", 0);

    send_str (router, "client", ZMQ_SNDMORE);
    send_str (router, "", ZMQ_SNDMORE);
    send_str (router, "reply", 0);
    recv_expect (req, "reply", 0);
    tclose (req);
    tclose (router);
}

static void test_rep_echoes_envelope (void)
{
    char ep[256];
    void *rep = tsock (ctx, ZMQ_REP);
    void *dealer = tsock (ctx, ZMQ_DEALER);
    bind_ep (rep, "rep-env", ep, sizeof ep);
    connect_ep (dealer, ep);

    /* Everything up to the empty delimiter is the envelope: REP hides it
     * from the application and puts it back on the reply. */
    send_str (dealer, "hop1", ZMQ_SNDMORE);
    send_str (dealer, "hop2", ZMQ_SNDMORE);
    send_str (dealer, "", ZMQ_SNDMORE);
    send_str (dealer, "request", 0);
    recv_expect (rep, "request", 0);
    send_str (rep, "reply", 0);
    recv_expect (dealer, "hop1", 1);
    recv_expect (dealer, "hop2", 1);
    recv_expect (dealer, "", 1);
    recv_expect (dealer, "reply", 0);
    tclose (dealer);
    tclose (rep);
}

static void test_req_relaxed_correlate (void)
{
    char ep[256], buf[64];
    unsigned char reqid1[16], reqid2[16];
    void *router = tsock (ctx, ZMQ_ROUTER);
    void *req = tsock (ctx, ZMQ_REQ);
    OK (zmq_setsockopt (req, ZMQ_ROUTING_ID, "R", 1));
    set_int (req, ZMQ_REQ_RELAXED, 1);
    set_int (req, ZMQ_REQ_CORRELATE, 1);
    bind_ep (router, "relaxed", ep, sizeof ep);
    connect_ep (req, ep);

    /* CORRELATE puts a request id frame before the delimiter. */
    send_str (req, "A", 0);
    recv_expect (router, "R", 1);
    int n1 = zmq_recv (router, reqid1, sizeof reqid1, 0);
    CHECK_INT (n1, 4);
    CHECK_INT (get_int (router, ZMQ_RCVMORE), 1);
    recv_expect (router, "", 1);
    recv_expect (router, "A", 0);

    /* RELAXED allows a new request without waiting for the reply. */
    send_str (req, "B", 0);
    recv_expect (router, "R", 1);
    int n2 = zmq_recv (router, reqid2, sizeof reqid2, 0);
    CHECK_INT (n2, 4);
    CHECK (memcmp (reqid1, reqid2, 4) != 0);
    recv_expect (router, "", 1);
    recv_expect (router, "B", 0);

    /* The stale reply to A is dropped; only B's reply is delivered. */
    send_str (router, "R", ZMQ_SNDMORE);
    CHECK_INT (zmq_send (router, reqid1, 4, ZMQ_SNDMORE), 4);
    send_str (router, "", ZMQ_SNDMORE);
    send_str (router, "reply-A", 0);
    send_str (router, "R", ZMQ_SNDMORE);
    CHECK_INT (zmq_send (router, reqid2, 4, ZMQ_SNDMORE), 4);
    send_str (router, "", ZMQ_SNDMORE);
    send_str (router, "reply-B", 0);
    recv_expect (req, "reply-B", 0);
    /* With the reply in, REQ is back to sending. */
    FAILS_WITH (zmq_recv (req, buf, sizeof buf, 0), EFSM);
    send_str (req, "C", 0);
    recv_expect (router, "R", 1);
    CHECK_INT (zmq_recv (router, reqid1, sizeof reqid1, 0), 4);
    recv_expect (router, "", 1);
    recv_expect (router, "C", 0);
    tclose (req);
    tclose (router);
}

static void test_req_round_robin_over_reps (void)
{
    char ep[256], buf[32];
    void *reps[3];
    void *req = tsock (ctx, ZMQ_REQ);
    for (int i = 0; i < 3; i++) {
        reps[i] = tsock (ctx, ZMQ_REP);
        bind_ep (reps[i], "req-rr", ep, sizeof ep);
        connect_ep (req, ep);
    }
    if (strcmp (tu_transport, "inproc") != 0)
        msleep (SETTLE_MS);

    int served_by[9];
    for (int i = 0; i < 9; i++) {
        snprintf (buf, sizeof buf, "req%d", i);
        send_str (req, buf, 0);
        zmq_pollitem_t items[3];
        for (int k = 0; k < 3; k++) {
            items[k].socket = reps[k];
            items[k].events = ZMQ_POLLIN;
        }
        CHECK_INT (zmq_poll (items, 3, TU_TIMEOUT_MS), 1);
        int who = -1;
        for (int k = 0; k < 3; k++)
            if (items[k].revents & ZMQ_POLLIN)
                who = k;
        CHECK (who >= 0);
        recv_expect (reps[who], buf, 0);
        send_str (reps[who], "ok", 0);
        recv_expect (req, "ok", 0);
        served_by[i] = who;
    }
    /* Requests cycle through the three services in a fixed order. */
    CHECK (served_by[0] != served_by[1] && served_by[1] != served_by[2]
           && served_by[0] != served_by[2]);
    for (int i = 3; i < 9; i++)
        CHECK_INT (served_by[i], served_by[i - 3]);
    for (int i = 0; i < 3; i++)
        tclose (reps[i]);
    tclose (req);
}

/* --- broker: ROUTER frontend, DEALER backend, zmq_proxy in a thread --- */

struct broker
{
    void *frontend, *backend;
    int rc, err;
};

static void *proxy_thread (void *p)
{
    struct broker *b = p;
    b->rc = zmq_proxy (b->frontend, b->backend, NULL);
    b->err = zmq_errno ();
    zmq_close (b->frontend);
    zmq_close (b->backend);
    return NULL;
}

struct worker
{
    const char *backend_ep;
    int id;
    int served;
    int last_err;
};

static void *worker_thread (void *p)
{
    struct worker *w = p;
    void *rep = zmq_socket (ctx, ZMQ_REP);
    int linger = 0;
    zmq_setsockopt (rep, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect (rep, w->backend_ep);
    char buf[64], out[96];
    for (;;) {
        int n = zmq_recv (rep, buf, sizeof buf - 1, 0);
        if (n < 0) {
            w->last_err = zmq_errno ();
            break;
        }
        buf[n] = 0;
        snprintf (out, sizeof out, "w%d:%s", w->id, buf);
        zmq_send (rep, out, strlen (out), 0);
        w->served++;
    }
    zmq_close (rep);
    return NULL;
}

static void test_broker_with_proxy (void)
{
    /* Needs its own context: terminating it is how the proxy is stopped. */
    void *main_ctx = ctx;
    ctx = tctx_new ();
    char fe[256], be[256], buf[64];
    struct broker b = {tsock (ctx, ZMQ_ROUTER), tsock (ctx, ZMQ_DEALER), 0,
                       0};
    bind_ep (b.frontend, "broker-fe", fe, sizeof fe);
    bind_ep (b.backend, "broker-be", be, sizeof be);
    pthread_t pt = tthread (proxy_thread, &b);

    struct worker w[2] = {{be, 0, 0, 0}, {be, 1, 0, 0}};
    pthread_t wt[2];
    for (int i = 0; i < 2; i++)
        wt[i] = tthread (worker_thread, &w[i]);

    void *clients[2];
    for (int c = 0; c < 2; c++) {
        clients[c] = tsock (ctx, ZMQ_REQ);
        connect_ep (clients[c], fe);
    }
    msleep (SETTLE_MS); /* both workers connected */
    int per_worker[2] = {0, 0};
    for (int i = 0; i < 10; i++) {
        void *c = clients[i % 2];
        char q[32];
        snprintf (q, sizeof q, "c%d-%d", i % 2, i);
        send_str (c, q, 0);
        recv_str (c, buf, sizeof buf);
        /* The reply went back to the client that asked. */
        CHECK (strcmp (buf + 3, q) == 0);
        per_worker[buf[1] - '0']++;
    }
    /* The DEALER backend spreads requests over both workers. */
    CHECK_INT (per_worker[0], 5);
    CHECK_INT (per_worker[1], 5);

    for (int c = 0; c < 2; c++)
        tclose (clients[c]);
    /* Terminating the context unblocks the proxy and the workers. */
    tctx_term (ctx);
    pthread_join (pt, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join (wt[i], NULL);
    CHECK_INT (b.rc, -1);
    CHECK_INT (b.err, ETERM);
    CHECK_INT (w[0].last_err, ETERM);
    CHECK_INT (w[1].last_err, ETERM);
    ctx = main_ctx;
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_basic_roundtrip);
    RUN (test_efsm);
    RUN (test_req_envelope_seen_by_router);
    RUN (test_rep_echoes_envelope);
    RUN (test_req_relaxed_correlate);
    RUN (test_req_round_robin_over_reps);
    RUN (test_broker_with_proxy);
    tctx_term (ctx);
    return 0;
}
