/* Accept filters with real peers, pinned against Debian's libzmq 4.3.4:
 * ZMQ_TCP_ACCEPT_FILTER (address or address/prefix; each call adds one,
 * NULL clears) and ZMQ_IPC_FILTER_PID/UID/GID (SO_PEERCRED). A listener
 * keeps the filters the socket had when it bound. A refused peer is closed
 * before its handshake: the binder's monitor says ACCEPT_FAILED (the errno
 * is not checked: libzmq's is whatever its I/O thread saw last) and no
 * message gets through, while the socket goes on serving others. */
#include "testutil.h"

static int mon_counter = 0;

/* A PULL socket with a monitor on its accept events. */
typedef struct {
    void *pull;
    void *mon;
} binder_t;

static binder_t binder_new (void *ctx)
{
    binder_t b;
    char ep[64];
    b.pull = tsock (ctx, ZMQ_PULL);
    snprintf (ep, sizeof ep, "inproc://filter-mon-%d", ++mon_counter);
    OK (zmq_socket_monitor (b.pull, ep,
                            ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED));
    b.mon = tsock (ctx, ZMQ_PAIR);
    OK (zmq_connect (b.mon, ep));
    return b;
}

static void binder_close (binder_t *b)
{
    tclose (b->mon);
    tclose (b->pull);
}

/* The next accept event on the binder (ACCEPTED or ACCEPT_FAILED). */
static int next_accept_event (binder_t *b)
{
    zmq_pollitem_t it = {b->mon, 0, ZMQ_POLLIN, 0};
    CHECK (zmq_poll (&it, 1, TU_TIMEOUT_MS) == 1);
    zmq_msg_t head, addr;
    zmq_msg_init (&head);
    zmq_msg_init (&addr);
    CHECK (zmq_msg_recv (&head, b->mon, 0) == 6);
    CHECK (zmq_msg_recv (&addr, b->mon, 0) >= 0);
    uint16_t ev;
    memcpy (&ev, zmq_msg_data (&head), 2);
    zmq_msg_close (&head);
    zmq_msg_close (&addr);
    return ev;
}

static void bind_to (binder_t *b, const char *addr, char *ep, size_t n)
{
    OK (zmq_bind (b->pull, addr));
    OK (zmq_getsockopt (b->pull, ZMQ_LAST_ENDPOINT, ep, &n));
}

/* Connects a PUSH (IPV6 as given) to `ep` and sends `text`. */
static void *send_from_new_peer (void *ctx, const char *ep, int ipv6,
                                 const char *text)
{
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_LINGER, 0);
    set_int (push, ZMQ_IPV6, ipv6);
    OK (zmq_connect (push, ep));
    send_str (push, text, 0);
    return push;
}

/* A refused peer retries meanwhile: its events are skipped. */
static void admitted (binder_t *b, void *push, const char *text)
{
    int ev;
    while ((ev = next_accept_event (b)) == ZMQ_EVENT_ACCEPT_FAILED)
        ;
    CHECK_INT (ev, ZMQ_EVENT_ACCEPTED);
    recv_expect (b->pull, text, 0);
    tclose (push);
}

static void refused (binder_t *b, void *push)
{
    CHECK_INT (next_accept_event (b), ZMQ_EVENT_ACCEPT_FAILED);
    expect_nothing (b->pull, 200);
    tclose (push);
}

/* Whether one peer connecting to `ep` gets its message through; then
 * closes the binder and the context. */
static int came_in (void *ctx, binder_t *b, const char *ep)
{
    void *push = send_from_new_peer (ctx, ep, 0, "hello");
    int in = next_accept_event (b) == ZMQ_EVENT_ACCEPTED;
    if (in)
        recv_expect (b->pull, "hello", 0);
    else
        expect_nothing (b->pull, 100);
    tclose (push);
    binder_close (b);
    tctx_term (ctx);
    return in;
}

/* One listener with `filter` (NULL: none) on a socket with IPV6 as given;
 * says whether a peer from 127.0.0.1 gets in. */
static int tcp_admits (const char *filter, int ipv6)
{
    void *ctx = tctx_new ();
    binder_t b = binder_new (ctx);
    set_int (b.pull, ZMQ_IPV6, ipv6);
    if (filter)
        OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, filter,
                            strlen (filter)));
    char ep[256], to[300];
    bind_to (&b, ipv6 ? "tcp://*:*" : "tcp://127.0.0.1:*", ep, sizeof ep);
    snprintf (to, sizeof to, "tcp://127.0.0.1:%s", strrchr (ep, ':') + 1);
    return came_in (ctx, &b, to);
}

static void test_tcp_filters_by_address (void)
{
    CHECK (tcp_admits (NULL, 0));
    CHECK (tcp_admits ("127.0.0.1", 0));
    CHECK (!tcp_admits ("10.0.0.1", 0));
    CHECK (tcp_admits ("127.0.0.0/8", 0));
    CHECK (tcp_admits ("127.0.0.0/31", 0));
    CHECK (!tcp_admits ("127.0.0.2/31", 0));
    CHECK (tcp_admits ("0.0.0.0/0", 0));
    /* Written as IPv4 mapped into IPv6 on an IPv4 socket. */
    CHECK (tcp_admits ("::ffff:127.0.0.1", 0));
    /* An IPV6 socket maps IPv4 filters, and sees IPv4 peers mapped. */
    CHECK (tcp_admits ("127.0.0.1", 1));
    CHECK (tcp_admits ("::ffff:0.0.0.0/96", 1));
    CHECK (!tcp_admits ("10.0.0.1", 1));
}

static void test_tcp_refused_peer_and_serving_on (void)
{
    void *ctx = tctx_new ();
    binder_t b = binder_new (ctx);
    char ep1[256], ep2[256], ep3[256];
    const char *far = "10.0.0.1";
    OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, far, strlen (far)));
    bind_to (&b, "tcp://127.0.0.1:*", ep1, sizeof ep1);
    void *out = send_from_new_peer (ctx, ep1, 0, "kept out");
    CHECK_INT (next_accept_event (&b), ZMQ_EVENT_ACCEPT_FAILED);

    /* Filters set now count for listeners bound from now on. */
    const char *lo = "127.0.0.0/8";
    OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, lo, strlen (lo)));
    bind_to (&b, "tcp://127.0.0.1:*", ep2, sizeof ep2);
    admitted (&b, send_from_new_peer (ctx, ep2, 0, "let in"), "let in");

    /* NULL clears the list. */
    OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, NULL, 0));
    OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, far, strlen (far)));
    OK (zmq_setsockopt (b.pull, ZMQ_TCP_ACCEPT_FILTER, NULL, 0));
    bind_to (&b, "tcp://127.0.0.1:*", ep3, sizeof ep3);
    admitted (&b, send_from_new_peer (ctx, ep3, 0, "cleared"), "cleared");
    expect_nothing (b.pull, 200);
    tclose (out);
    binder_close (&b);
    tctx_term (ctx);
}

/* One ipc listener with the (option, value) filters given; says whether a
 * peer of this process gets in. */
static int ipc_admits (int n, const int *opts, const int *values)
{
    void *ctx = tctx_new ();
    binder_t b = binder_new (ctx);
    for (int i = 0; i < n; i++)
        OK (zmq_setsockopt (b.pull, opts[i], &values[i], sizeof (int)));
    char ep[256];
    static int c = 0;
    snprintf (ep, sizeof ep, "ipc:///tmp/ferro-filter-%d-%d", (int) getpid (),
              ++c);
    bind_to (&b, ep, ep, sizeof ep);
    return came_in (ctx, &b, ep);
}

static void test_ipc_filters_by_credentials (void)
{
    int uid = (int) getuid (), gid = (int) getgid (), pid = (int) getpid ();
    /* No group has this id, so no user is a member of it either. */
    int no_gid = 0x7ffffff0;
    int uid_opt[] = {ZMQ_IPC_FILTER_UID}, gid_opt[] = {ZMQ_IPC_FILTER_GID},
        pid_opt[] = {ZMQ_IPC_FILTER_PID};
    CHECK (ipc_admits (0, NULL, NULL));
    CHECK (ipc_admits (1, uid_opt, &uid));
    int other_uid = uid + 1;
    CHECK (!ipc_admits (1, uid_opt, &other_uid));
    CHECK (ipc_admits (1, gid_opt, &gid));
    CHECK (!ipc_admits (1, gid_opt, &no_gid));
    CHECK (ipc_admits (1, pid_opt, &pid));
    int other_pid = pid + 1;
    CHECK (!ipc_admits (1, pid_opt, &other_pid));
    /* Any one listed credential lets a peer in. */
    int mixed_opts[] = {ZMQ_IPC_FILTER_UID, ZMQ_IPC_FILTER_GID,
                        ZMQ_IPC_FILTER_PID};
    int mixed[] = {other_uid, no_gid, pid};
    CHECK (ipc_admits (3, mixed_opts, mixed));
    int none[] = {other_uid, no_gid, other_pid};
    CHECK (!ipc_admits (3, mixed_opts, none));
}

static void test_ipc_refused_peer_and_serving_on (void)
{
    void *ctx = tctx_new ();
    binder_t b = binder_new (ctx);
    int other_uid = (int) getuid () + 1, uid = (int) getuid ();
    char ep1[256], ep2[256];
    snprintf (ep1, sizeof ep1, "ipc:///tmp/ferro-filter-%d-a", (int) getpid ());
    snprintf (ep2, sizeof ep2, "ipc:///tmp/ferro-filter-%d-b", (int) getpid ());
    OK (zmq_setsockopt (b.pull, ZMQ_IPC_FILTER_UID, &other_uid, sizeof (int)));
    bind_to (&b, ep1, ep1, sizeof ep1);
    void *out = send_from_new_peer (ctx, ep1, 0, "kept out");
    refused (&b, out);
    OK (zmq_setsockopt (b.pull, ZMQ_IPC_FILTER_UID, &uid, sizeof (int)));
    bind_to (&b, ep2, ep2, sizeof ep2);
    admitted (&b, send_from_new_peer (ctx, ep2, 0, "let in"), "let in");
    binder_close (&b);
    tctx_term (ctx);
}

static void test_options_are_set_only (void)
{
    void *ctx = tctx_new ();
    void *s = tsock (ctx, ZMQ_PULL);
    int opts[] = {ZMQ_TCP_ACCEPT_FILTER, ZMQ_IPC_FILTER_PID,
                  ZMQ_IPC_FILTER_UID, ZMQ_IPC_FILTER_GID};
    for (int i = 0; i < 4; i++) {
        char buf[256];
        size_t n = sizeof buf;
        FAILS_WITH (zmq_getsockopt (s, opts[i], buf, &n), EINVAL);
        OK (zmq_setsockopt (s, opts[i], NULL, 0));
    }
    FAILS_WITH (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, "", 0), EINVAL);
    FAILS_WITH (zmq_setsockopt (s, ZMQ_TCP_ACCEPT_FILTER, "10.0.0.0/33", 11),
                EINVAL);
    short small = 1;
    FAILS_WITH (zmq_setsockopt (s, ZMQ_IPC_FILTER_UID, &small, sizeof small),
                EINVAL);
    tclose (s);
    tctx_term (ctx);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    RUN (test_tcp_filters_by_address);
    RUN (test_tcp_refused_peer_and_serving_on);
    RUN (test_ipc_filters_by_credentials);
    RUN (test_ipc_refused_peer_and_serving_on);
    RUN (test_options_are_set_only);
    return 0;
}
