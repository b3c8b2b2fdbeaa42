/* Connection life over tcp and ipc, pinned against Debian's libzmq 4.3.4:
 * linger timing at zmq_ctx_term, unbind by the wildcard string, binding
 * an ipc path over a stale file, ipc://* LAST_ENDPOINT, IMMEDIATE with no
 * connection and after the peer went away, a burst then close+term over
 * tcp delivers everything. */
#include "testutil.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static int free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    CHECK (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
    socklen_t l = sizeof a;
    CHECK (getsockname (fd, (struct sockaddr *) &a, &l) == 0);
    close (fd);
    return ntohs (a.sin_port);
}

static int64_t linger_term_ms (int linger)
{
    void *ctx = zmq_ctx_new ();
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_LINGER, linger);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    OK (zmq_connect (push, ep));
    for (int i = 0; i < 10; i++)
        CHECK (zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1);
    int64_t t = now_ms ();
    OK (zmq_close (push));
    OK (zmq_ctx_term (ctx));
    return now_ms () - t;
}

static void test_linger_timing (void)
{
    CHECK (linger_term_ms (0) < 100);
    int64_t d = linger_term_ms (200);
    CHECK (d >= 180 && d < 700);
}

static void test_unbind_wildcard_string (void)
{
    void *ctx = zmq_ctx_new ();
    void *pull = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (pull, "tcp://127.0.0.1:*"));
    char ep[256];
    size_t n = sizeof ep;
    OK (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, ep, &n));
    FAILS_WITH (zmq_unbind (pull, "tcp://127.0.0.1:*"), ENOENT);
    OK (zmq_unbind (pull, ep));
    FAILS_WITH (zmq_unbind (pull, ep), ENOENT);
    tclose (pull);
    OK (zmq_ctx_term (ctx));
}

static void test_ipc_stale_file_and_wildcard (void)
{
    char path[128];
    snprintf (path, sizeof path, "/tmp/ferro-wire-stale-%d", (int) getpid ());
    unlink (path);
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset (&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy (a.sun_path, path);
    CHECK (bind (fd, (struct sockaddr *) &a, sizeof a) == 0);
    close (fd); /* the file stays behind */
    CHECK (access (path, F_OK) == 0);

    void *ctx = zmq_ctx_new ();
    void *pull = tsock (ctx, ZMQ_PULL);
    char ep[256];
    snprintf (ep, sizeof ep, "ipc://%s", path);
    OK (zmq_bind (pull, ep)); /* libzmq unlinks the stale file */
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    send_str (push, "fresh", 0);
    recv_expect (pull, "fresh", 0);
    tclose (pull);
    /* libzmq 4.3.4 leaves an explicit path's file on close/unbind (its
     * ipc_listener_t::close unlinks only wildcard files); not checked. */
    unlink (path);

    void *p2 = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (p2, "ipc://*"));
    size_t n = sizeof ep;
    OK (zmq_getsockopt (p2, ZMQ_LAST_ENDPOINT, ep, &n));
    CHECK (strncmp (ep, "ipc://", 6) == 0 && strcmp (ep, "ipc://*") != 0);
    CHECK (access (ep + 6, F_OK) == 0);
    void *push2 = tsock (ctx, ZMQ_PUSH);
    connect_ep (push2, ep);
    send_str (push2, "wild", 0);
    recv_expect (p2, "wild", 0);
    OK (zmq_unbind (p2, ep));
    msleep (50);
    CHECK (access (ep + 6, F_OK) != 0); /* removed on unbind */
    tclose (push);
    tclose (push2);
    tclose (p2);
    OK (zmq_ctx_term (ctx));
}

static void test_immediate (void)
{
    void *ctx = zmq_ctx_new ();
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_IMMEDIATE, 1);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    OK (zmq_connect (push, ep));
    FAILS_WITH (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    void *pull = tsock (ctx, ZMQ_PULL);
    OK (zmq_bind (pull, ep));
    int64_t end = now_ms () + 3000;
    while (zmq_send (push, "up", 2, ZMQ_DONTWAIT) != 2) {
        CHECK (now_ms () < end);
        msleep (10);
    }
    recv_expect (pull, "up", 0);
    /* The peer goes: the pipe goes with it, nothing queues. */
    tclose (pull);
    msleep (300);
    for (int i = 0; i < 5; i++)
        FAILS_WITH (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    tclose (push);
    OK (zmq_ctx_term (ctx));
}

static void test_burst_close_term_tcp (void)
{
    void *rctx = zmq_ctx_new ();
    void *pull = tsock (rctx, ZMQ_PULL);
    char ep[256];
    bind_ep (pull, "burst", ep, sizeof ep);
    void *sctx = zmq_ctx_new ();
    void *push = zmq_socket (sctx, ZMQ_PUSH);
    OK (zmq_connect (push, ep));
    /* fits in the pipes and kernel buffers: no reader needed */
    for (int i = 0; i < 1500; i++)
        CHECK (zmq_send (push, &i, sizeof i, 0) == sizeof i);
    OK (zmq_close (push));
    OK (zmq_ctx_term (sctx));
    for (int i = 0; i < 1500; i++) {
        int v = -1;
        CHECK (zmq_recv (pull, &v, sizeof v, 0) == sizeof v);
        CHECK_INT (v, i);
    }
    tclose (pull);
    OK (zmq_ctx_term (rctx));
}

/* ipc is a transport this library offers, and says so. */
static void test_has_ipc (void)
{
    CHECK (zmq_has ("ipc") == 1);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    tu_transport = "tcp";
    RUN_UNLESS_SKIPPED (test_linger_timing);
    RUN_UNLESS_SKIPPED (test_burst_close_term_tcp);
    RUN_UNLESS_SKIPPED (test_ipc_stale_file_and_wildcard);
    RUN_UNLESS_SKIPPED (test_unbind_wildcard_string);
    RUN_UNLESS_SKIPPED (test_immediate);
    RUN_UNLESS_SKIPPED (test_has_ipc);
    printf ("PASS\n");
    return 0;
}
