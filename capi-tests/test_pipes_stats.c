/* The draft zmq_socket_monitor_pipes_stats (build with -DZMQ_BUILD_DRAFT_API
 * against a library built with the draft API; without it this program only
 * says it was skipped).
 *
 * Debian's libzmq 4.3.4 is a stable build without it, so these
 * expectations come from libzmq 4.3.4's zmq_socket_monitor_versioned(3),
 * src/socket_base.cpp (query_pipes_stats), src/pipe.cpp and
 * tests/test_monitor.cpp: EINVAL unless the monitor asks for
 * ZMQ_EVENT_PIPES_STATS, EAGAIN without pipes, then one version 2 event per
 * pipe whose two values are the messages queued towards the peer and from
 * it, named by the pipe's endpoints: none for inproc, the connection's
 * local and remote addresses for an accepted one, and only the endpoint
 * connected to for a pipe made at zmq_connect. The counts here are those of
 * queues nobody reads, which libzmq's lagging counters report exactly too. */
#include "testutil.h"

#ifndef ZMQ_EVENT_PIPES_STATS

int main (void)
{
    printf ("skipped: zmq.h without the draft monitor "
            "(build with -DZMQ_BUILD_DRAFT_API)\n");
    return 0;
}

#else

static void *ctx;

struct stats
{
    uint64_t event, outbound, inbound;
    char local[256], remote[256];
};

static uint64_t recv_u64 (void *mon)
{
    uint64_t v = 0;
    CHECK_INT (zmq_recv (mon, &v, sizeof v, 0), (int) sizeof v);
    CHECK (get_int (mon, ZMQ_RCVMORE));
    return v;
}

static void recv_text (void *mon, char *out, size_t n)
{
    int rc = zmq_recv (mon, out, n - 1, 0);
    CHECK (rc >= 0 && (size_t) rc < n);
    out[rc] = 0;
}

/* One version 2 event: the number, the value count, the values, the
 * local endpoint, the remote endpoint. */
static void recv_stats (void *mon, struct stats *s)
{
    s->event = recv_u64 (mon);
    CHECK_INT (s->event, ZMQ_EVENT_PIPES_STATS);
    CHECK_INT (recv_u64 (mon), 2);
    s->outbound = recv_u64 (mon);
    s->inbound = recv_u64 (mon);
    recv_text (mon, s->local, sizeof s->local);
    CHECK (get_int (mon, ZMQ_RCVMORE));
    recv_text (mon, s->remote, sizeof s->remote);
    CHECK (!get_int (mon, ZMQ_RCVMORE));
}

/* Asks `s` for its stats and checks the one event that follows: its
 * counts, its local endpoint, and the first `remote_len` bytes of its remote
 * one (its terminating NUL included for an exact match). */
static void check_one_pipe (void *s, void *mon, uint64_t outbound,
                            uint64_t inbound, const char *local,
                            const char *remote, size_t remote_len)
{
    OK (zmq_socket_monitor_pipes_stats (s));
    struct stats st;
    recv_stats (mon, &st);
    CHECK_INT (st.outbound, outbound);
    CHECK_INT (st.inbound, inbound);
    CHECK (strcmp (st.local, local) == 0);
    CHECK (strncmp (st.remote, remote, remote_len) == 0);
    /* Only the event asked for: nothing else is queued. */
    FAILS_WITH (zmq_recv (mon, NULL, 0, ZMQ_DONTWAIT), EAGAIN);
}

/* A v2 monitor of `s` for `events`, and the PAIR that reads it. */
static void *monitor (void *s, uint64_t events)
{
    char ep[128];
    unique_name (ep, sizeof ep, "stats-monitor");
    OK (zmq_socket_monitor_versioned (s, ep, events, 2, ZMQ_PAIR));
    void *mon = tsock (ctx, ZMQ_PAIR);
    OK (zmq_connect (mon, ep));
    return mon;
}

static void send_n (void *s, int n)
{
    for (int i = 0; i < n; i++)
        CHECK_INT (zmq_send (s, "m", 1, 0), 1);
}

static void test_refusals (void)
{
    void *s = tsock (ctx, ZMQ_DEALER);
    FAILS_WITH (zmq_socket_monitor_pipes_stats (s), EINVAL);
    /* A monitor without the event does not make it available. */
    void *mon = monitor (s, ZMQ_EVENT_ALL_V1);
    FAILS_WITH (zmq_socket_monitor_pipes_stats (s), EINVAL);
    tclose (mon);
    mon = monitor (s, ZMQ_EVENT_PIPES_STATS);
    FAILS_WITH (zmq_socket_monitor_pipes_stats (s), EAGAIN);
    FAILS_WITH (zmq_socket_monitor_pipes_stats (NULL), ENOTSOCK);
    tclose (mon);
    tclose (s);
}

/* inproc: both queues of the one pipe, and no endpoints. */
static void test_inproc (void)
{
    char ep[128];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    unique_name (ep, sizeof ep, "stats");
    OK (zmq_bind (b, ep));
    OK (zmq_connect (a, ep));
    void *mon = monitor (a, ZMQ_EVENT_PIPES_STATS);
    send_n (a, 5);
    send_n (b, 3);
    check_one_pipe (a, mon, 5, 3, "", "", 1);
    tclose (mon);
    tclose (a);
    tclose (b);
}

/* tcp: an accepted pipe is named by the connection's addresses; the
 * messages sent on it left for the wire, those from the peer wait. */
static void test_tcp_accepted (void)
{
    char ep[256];
    size_t n = sizeof ep;
    void *server = tsock (ctx, ZMQ_PAIR);
    void *client = tsock (ctx, ZMQ_PAIR);
    OK (zmq_bind (server, "tcp://127.0.0.1:*"));
    OK (zmq_getsockopt (server, ZMQ_LAST_ENDPOINT, ep, &n));
    void *mon = monitor (server, ZMQ_EVENT_PIPES_STATS);
    OK (zmq_connect (client, ep));
    send_n (client, 4);
    /* The first message proves the connection is up; the rest follow. */
    zmq_pollitem_t it = {server, 0, ZMQ_POLLIN, 0};
    CHECK_INT (zmq_poll (&it, 1, TU_TIMEOUT_MS), 1);
    msleep (SETTLE_MS);
    send_n (server, 2);
    msleep (SETTLE_MS);
    check_one_pipe (server, mon, 0, 4, ep, "tcp://127.0.0.1:", 16);
    tclose (mon);
    tclose (client);
    tclose (server);
}

/* A connect makes its pipe at once (without ZMQ_IMMEDIATE): it is named by
 * the endpoint connected to alone, and queues before any peer exists. */
static void test_connect_early_pipe (void)
{
    void *s = tsock (ctx, ZMQ_PUSH);
    void *mon = monitor (s, ZMQ_EVENT_PIPES_STATS);
    /* Nobody listens there: the pipe waits, with what was sent. */
    const char *ep = "tcp://127.0.0.1:1";
    OK (zmq_connect (s, ep));
    send_n (s, 3);
    check_one_pipe (s, mon, 3, 0, "", ep, strlen (ep) + 1);
    tclose (mon);
    tclose (s);
}

/* One event per pipe. */
static void test_every_pipe (void)
{
    void *s = tsock (ctx, ZMQ_DEALER);
    void *mon = monitor (s, ZMQ_EVENT_PIPES_STATS);
    void *peers[3];
    for (int i = 0; i < 3; i++) {
        char ep[128];
        peers[i] = tsock (ctx, ZMQ_DEALER);
        unique_name (ep, sizeof ep, "stats-every");
        OK (zmq_bind (peers[i], ep));
        OK (zmq_connect (s, ep));
    }
    /* Round-robin: one message to each peer, and a second to the first. */
    send_n (s, 4);
    OK (zmq_socket_monitor_pipes_stats (s));
    uint64_t total = 0;
    for (int i = 0; i < 3; i++) {
        struct stats st;
        recv_stats (mon, &st);
        CHECK (st.outbound == 1 || st.outbound == 2);
        CHECK_INT (st.inbound, 0);
        total += st.outbound;
    }
    CHECK_INT (total, 4);
    FAILS_WITH (zmq_recv (mon, NULL, 0, ZMQ_DONTWAIT), EAGAIN);
    tclose (mon);
    for (int i = 0; i < 3; i++)
        tclose (peers[i]);
    tclose (s);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_refusals);
    RUN (test_inproc);
    RUN (test_tcp_accepted);
    RUN (test_connect_early_pipe);
    RUN (test_every_pipe);
    tctx_term (ctx);
    return 0;
}

#endif
