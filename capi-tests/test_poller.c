/* The draft zmq_poller_* API (build with -DZMQ_BUILD_DRAFT_API against a
 * library built with the draft API; without it this program only says it
 * was skipped).
 *
 * Debian's libzmq 4.3.4 is a stable build that does not export the poller,
 * so these expectations come from libzmq 4.3.4's zmq_poller(3) and its
 * tests/test_poller.cpp and src/socket_poller.cpp: EFAULT for a NULL or
 * invalid poller, ENOTSOCK for a NULL socket, EBADF for the retired fd,
 * EINVAL for a double registration, an unknown one or bad event bits,
 * EAGAIN when nothing was signalled in time, EFAULT for a wait that could
 * never end, ETERM and EINTR as zmq_poll. The cases marked "ours" are
 * undefined behaviour in libzmq, which we turn into errors instead. */
#include "testutil.h"

#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>

#ifndef ZMQ_HAVE_POLLER

int main (void)
{
    printf ("skipped: zmq.h without the draft poller "
            "(build with -DZMQ_BUILD_DRAFT_API)\n");
    return 0;
}

#else

static void *ctx;

static int zfd (void *s)
{
    return get_int (s, ZMQ_FD);
}

/* The event libzmq leaves in slots it did not fill. */
static void check_empty (const zmq_poller_event_t *e)
{
    CHECK (e->socket == NULL);
    CHECK_INT (e->fd, -1);
    CHECK (e->user_data == NULL);
    CHECK_INT (e->events, 0);
}

static void test_layout (void)
{
    /* zmq.h's struct, as libzmq 4.3.4 declares it (LP64). */
    CHECK_INT (offsetof (zmq_poller_event_t, socket), 0);
    CHECK_INT (offsetof (zmq_poller_event_t, fd), sizeof (void *));
    CHECK_INT (offsetof (zmq_poller_event_t, user_data), 2 * sizeof (void *));
    CHECK_INT (offsetof (zmq_poller_event_t, events), 3 * sizeof (void *));
    CHECK_INT (sizeof (zmq_poller_event_t), 4 * sizeof (void *));
}

static void test_null_and_invalid_pollers (void)
{
    void *s = tsock (ctx, ZMQ_PAIR);
    int fd = zfd (s);
    zmq_poller_event_t ev;
    zmq_fd_t pfd;
    /* NULL, and a pointer to a NULL variable (not a poller either). */
    void *null_poller = NULL;
    void *bad[2] = {NULL, &null_poller};
    for (int i = 0; i < 2; i++) {
        void *p = bad[i];
        FAILS_WITH (zmq_poller_add (p, s, NULL, ZMQ_POLLIN), EFAULT);
        FAILS_WITH (zmq_poller_modify (p, s, ZMQ_POLLIN), EFAULT);
        FAILS_WITH (zmq_poller_remove (p, s), EFAULT);
        FAILS_WITH (zmq_poller_add_fd (p, fd, NULL, ZMQ_POLLIN), EFAULT);
        FAILS_WITH (zmq_poller_modify_fd (p, fd, ZMQ_POLLIN), EFAULT);
        FAILS_WITH (zmq_poller_remove_fd (p, fd), EFAULT);
        FAILS_WITH (zmq_poller_wait (p, &ev, 0), EFAULT);
        FAILS_WITH (zmq_poller_wait_all (p, &ev, 1, 0), EFAULT);
        FAILS_WITH (zmq_poller_size (p), EFAULT);
        FAILS_WITH (zmq_poller_fd (p, &pfd), EFAULT);
    }
    FAILS_WITH (zmq_poller_destroy (NULL), EFAULT);
    FAILS_WITH (zmq_poller_destroy (&null_poller), EFAULT);

    /* Ours: a destroyed poller is refused, not used after free. */
    void *p = zmq_poller_new ();
    CHECK (p != NULL);
    void *stale = p;
    OK (zmq_poller_destroy (&p));
    CHECK (p == NULL);
    FAILS_WITH (zmq_poller_destroy (&stale), EFAULT);
    FAILS_WITH (zmq_poller_add (stale, s, NULL, ZMQ_POLLIN), EFAULT);
    FAILS_WITH (zmq_poller_wait (stale, &ev, 0), EFAULT);
    tclose (s);
}

static void test_null_sockets_and_retired_fd (void)
{
    void *p = zmq_poller_new ();
    FAILS_WITH (zmq_poller_add (p, NULL, NULL, ZMQ_POLLIN), ENOTSOCK);
    FAILS_WITH (zmq_poller_modify (p, NULL, ZMQ_POLLIN), ENOTSOCK);
    FAILS_WITH (zmq_poller_remove (p, NULL), ENOTSOCK);
    /* Ours: a garbage socket handle too. */
    int garbage[8] = {0};
    FAILS_WITH (zmq_poller_add (p, garbage, NULL, ZMQ_POLLIN), ENOTSOCK);
    FAILS_WITH (zmq_poller_add_fd (p, -1, NULL, ZMQ_POLLIN), EBADF);
    FAILS_WITH (zmq_poller_modify_fd (p, -1, ZMQ_POLLIN), EBADF);
    FAILS_WITH (zmq_poller_remove_fd (p, -1), EBADF);
    CHECK_INT (zmq_poller_size (p), 0);
    OK (zmq_poller_destroy (&p));
}

static void test_registrations (void)
{
    void *s = tsock (ctx, ZMQ_PAIR);
    void *p = zmq_poller_new ();
    zmq_poller_event_t ev;
    CHECK_INT (zmq_poller_size (p), 0);

    /* Sockets: once each; modify and remove only what is there. */
    FAILS_WITH (zmq_poller_remove (p, s), EINVAL);
    FAILS_WITH (zmq_poller_modify (p, s, ZMQ_POLLIN), EINVAL);
    FAILS_WITH (zmq_poller_add (p, s, NULL, SHRT_MAX), EINVAL);
    CHECK_INT (zmq_poller_size (p), 0);
    OK (zmq_poller_add (p, s, NULL, ZMQ_POLLIN));
    FAILS_WITH (zmq_poller_add (p, s, NULL, ZMQ_POLLIN), EINVAL);
    CHECK_INT (zmq_poller_size (p), 1);
    FAILS_WITH (zmq_poller_modify (p, s, SHRT_MAX), EINVAL);
    OK (zmq_poller_modify (p, s, 0));
    OK (zmq_poller_modify (p, s, ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLERR
                                   | ZMQ_POLLPRI));
    /* A socket never waits alone for POLLERR or POLLPRI: nothing comes. */
    OK (zmq_poller_modify (p, s, ZMQ_POLLERR | ZMQ_POLLPRI));
    FAILS_WITH (zmq_poller_wait (p, &ev, 0), EAGAIN);
    check_empty (&ev);
    OK (zmq_poller_remove (p, s));
    FAILS_WITH (zmq_poller_remove (p, s), EINVAL);
    CHECK_INT (zmq_poller_size (p), 0);
    OK (zmq_poller_add (p, s, NULL, 0)); /* no events is allowed */

    /* Descriptors: the same rules, keyed by the number. */
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    CHECK (fd >= 0);
    FAILS_WITH (zmq_poller_remove_fd (p, fd), EINVAL);
    FAILS_WITH (zmq_poller_modify_fd (p, fd, ZMQ_POLLIN), EINVAL);
    FAILS_WITH (zmq_poller_add_fd (p, fd, NULL, SHRT_MAX), EINVAL);
    OK (zmq_poller_add_fd (p, fd, NULL, 0));
    FAILS_WITH (zmq_poller_add_fd (p, fd, NULL, ZMQ_POLLIN), EINVAL);
    FAILS_WITH (zmq_poller_modify_fd (p, fd, SHRT_MAX), EINVAL);
    OK (zmq_poller_modify_fd (p, fd, ZMQ_POLLIN));
    CHECK_INT (zmq_poller_size (p), 2);
    /* A socket's ZMQ_FD is a plain descriptor to the poller: both fit. */
    OK (zmq_poller_add_fd (p, zfd (s), NULL, ZMQ_POLLIN));
    CHECK_INT (zmq_poller_size (p), 3);
    OK (zmq_poller_remove_fd (p, fd));
    OK (zmq_poller_remove_fd (p, zfd (s)));
    FAILS_WITH (zmq_poller_remove_fd (p, fd), EINVAL);
    CHECK_INT (zmq_poller_size (p), 1);

    /* No thread-safe socket: no poller descriptor. */
    zmq_fd_t pfd = 12345;
    FAILS_WITH (zmq_poller_fd (p, &pfd), EINVAL);
    CHECK_INT (pfd, 12345);

    /* A poller may be destroyed with registrations. */
    OK (zmq_poller_destroy (&p));
    close (fd);
    tclose (s);
}

static void test_wait_arguments (void)
{
    zmq_poller_event_t ev[3];
    void *p = zmq_poller_new ();

    /* Empty: a wait that could never end is EFAULT, otherwise EAGAIN. */
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);
    check_empty (&ev[0]);
    FAILS_WITH (zmq_poller_wait (p, ev, -1), EFAULT);
    FAILS_WITH (zmq_poller_wait_all (p, ev, 0, 0), EAGAIN);
    FAILS_WITH (zmq_poller_wait_all (p, ev, 0, -1), EFAULT);
    FAILS_WITH (zmq_poller_wait_all (p, ev, -1, 0), EINVAL);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_poller_wait (p, ev, 100), EAGAIN);
    CHECK (now_ms () - t0 >= 90);

    /* Registered, but nothing asked: the same. */
    void *s = tsock (ctx, ZMQ_PAIR);
    OK (zmq_poller_add (p, s, NULL, 0));
    FAILS_WITH (zmq_poller_wait (p, ev, -1), EFAULT);
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);

    /* NULL events. */
    OK (zmq_poller_modify (p, s, ZMQ_POLLIN));
    FAILS_WITH (zmq_poller_wait (p, NULL, 0), EFAULT);
    FAILS_WITH (zmq_poller_wait_all (p, NULL, 1, 0), EFAULT);
    FAILS_WITH (zmq_poller_wait_all (p, ev, -1, 0), EINVAL);

    /* A timeout with nothing signalled. */
    t0 = now_ms ();
    FAILS_WITH (zmq_poller_wait (p, ev, 150), EAGAIN);
    int64_t el = now_ms () - t0;
    CHECK (el >= 140);
    CHECK (el < 1500);
    check_empty (&ev[0]);
    OK (zmq_poller_destroy (&p));
    tclose (s);
}

static void test_sockets_and_fds (void)
{
    char ep[256];
    void *vent = tsock (ctx, ZMQ_PUSH);
    bind_ep (vent, "poller-basic", ep, sizeof ep);
    void *sink = tsock (ctx, ZMQ_PULL);
    connect_ep (sink, ep);
    void *p = zmq_poller_new ();
    zmq_poller_event_t ev[4];
    int tag_sink, tag_vent, tag_pipe;

    OK (zmq_poller_add (p, sink, &tag_sink, ZMQ_POLLIN));
    send_str (vent, "H", 0);
    OK (zmq_poller_wait (p, ev, -1));
    CHECK (ev[0].socket == sink);
    CHECK (ev[0].user_data == &tag_sink);
    CHECK_INT (ev[0].fd, -1);
    CHECK_INT (ev[0].events, ZMQ_POLLIN);
    recv_expect (sink, "H", 0);
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);
    check_empty (&ev[0]);

    /* The sender can send: POLLOUT, reported only when asked. */
    OK (zmq_poller_add (p, vent, &tag_vent, ZMQ_POLLIN));
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);
    OK (zmq_poller_modify (p, vent, ZMQ_POLLIN | ZMQ_POLLOUT));
    OK (zmq_poller_wait (p, ev, 0));
    CHECK (ev[0].socket == vent);
    CHECK (ev[0].user_data == &tag_vent);
    CHECK_INT (ev[0].events, ZMQ_POLLOUT);

    /* A pipe: socket NULL, its fd, what poll(2) said. */
    int fds[2];
    CHECK (pipe (fds) == 0);
    OK (zmq_poller_add_fd (p, fds[0], &tag_pipe, ZMQ_POLLIN));
    CHECK (write (fds[1], "x", 1) == 1);
    send_str (vent, "M", 0);
    msleep (SETTLE_MS);
    /* Three ready (sink, vent, pipe), room for four: the rest is empty,
     * in registration order. */
    memset (ev, 0x55, sizeof ev);
    CHECK_INT (zmq_poller_wait_all (p, ev, 4, 0), 3);
    CHECK (ev[0].socket == sink);
    CHECK_INT (ev[0].events, ZMQ_POLLIN);
    CHECK (ev[1].socket == vent);
    CHECK_INT (ev[1].events, ZMQ_POLLOUT);
    CHECK (ev[2].socket == NULL);
    CHECK_INT (ev[2].fd, fds[0]);
    CHECK (ev[2].user_data == &tag_pipe);
    CHECK_INT (ev[2].events, ZMQ_POLLIN);
    check_empty (&ev[3]);
    /* Room for two: two. */
    CHECK_INT (zmq_poller_wait_all (p, ev, 2, 0), 2);
    CHECK (ev[0].socket == sink);
    CHECK (ev[1].socket == vent);
    /* Room for none: nothing counts, so the timeout passes. */
    FAILS_WITH (zmq_poller_wait_all (p, ev, 0, 50), EAGAIN);

    /* Disabled registrations are not reported; a disabled fd not polled. */
    OK (zmq_poller_modify (p, sink, 0));
    OK (zmq_poller_modify (p, vent, 0));
    OK (zmq_poller_modify_fd (p, fds[0], 0));
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);
    OK (zmq_poller_modify_fd (p, fds[0], ZMQ_POLLIN));

    /* A hung-up pipe: POLLIN while bytes remain, and POLLERR (poll's
     * POLLHUP) whatever was asked. */
    close (fds[1]);
    OK (zmq_poller_wait (p, ev, 0));
    CHECK_INT (ev[0].fd, fds[0]);
    CHECK_INT (ev[0].events, ZMQ_POLLIN | ZMQ_POLLERR);
    char c;
    CHECK (read (fds[0], &c, 1) == 1);
    OK (zmq_poller_wait (p, ev, 0));
    CHECK_INT (ev[0].events, ZMQ_POLLERR);
    OK (zmq_poller_remove_fd (p, fds[0]));
    close (fds[0]);

    /* A message arriving during a wait ends it. */
    OK (zmq_poller_modify (p, sink, ZMQ_POLLIN));
    recv_expect (sink, "M", 0);
    FAILS_WITH (zmq_poller_wait (p, ev, 0), EAGAIN);
    OK (zmq_poller_destroy (&p));
    tclose (vent);
    tclose (sink);
}

struct late
{
    void *s;
    void *ctx;
    int delay;
};

static void *send_late (void *arg)
{
    struct late *l = arg;
    msleep (l->delay);
    send_str (l->s, "late", 0);
    return NULL;
}

static void test_wait_woken (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "poller-wake", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    void *p = zmq_poller_new ();
    OK (zmq_poller_add (p, pull, NULL, ZMQ_POLLIN));
    zmq_poller_event_t ev;
    struct late l = {push, NULL, 150};
    pthread_t t = tthread (send_late, &l);
    int64_t t0 = now_ms ();
    OK (zmq_poller_wait (p, &ev, -1));
    CHECK (now_ms () - t0 >= 100);
    CHECK (ev.socket == pull);
    pthread_join (t, NULL);
    recv_expect (pull, "late", 0);
    t = tthread (send_late, &l);
    t0 = now_ms ();
    OK (zmq_poller_wait (p, &ev, 5000));
    CHECK (now_ms () - t0 < 3000);
    pthread_join (t, NULL);
    recv_expect (pull, "late", 0);
    OK (zmq_poller_destroy (&p));
    tclose (push);
    tclose (pull);
}

static void *shutdown_late (void *arg)
{
    struct late *l = arg;
    msleep (l->delay);
    zmq_ctx_shutdown (l->ctx);
    return NULL;
}

static void test_eterm (void)
{
    void *c = tctx_new ();
    void *s = tsock (c, ZMQ_PULL);
    char ep[256];
    bind_ep (s, "poller-term", ep, sizeof ep);
    void *p = zmq_poller_new ();
    OK (zmq_poller_add (p, s, NULL, ZMQ_POLLIN));
    zmq_poller_event_t ev;
    struct late l = {NULL, c, 150};
    pthread_t t = tthread (shutdown_late, &l);
    FAILS_WITH (zmq_poller_wait (p, &ev, -1), ETERM);
    check_empty (&ev);
    pthread_join (t, NULL);
    FAILS_WITH (zmq_poller_wait (p, &ev, 0), ETERM);
    /* Even a socket asking for nothing is looked at. */
    int fds[2];
    CHECK (pipe (fds) == 0);
    OK (zmq_poller_add_fd (p, fds[1], NULL, ZMQ_POLLOUT));
    OK (zmq_poller_modify (p, s, 0));
    FAILS_WITH (zmq_poller_wait (p, &ev, 0), ETERM);
    OK (zmq_poller_destroy (&p));
    close (fds[0]);
    close (fds[1]);
    tclose (s);
    tctx_term (c);
}

static volatile sig_atomic_t usr1_seen;

static void on_usr1 (int sig)
{
    (void) sig;
    usr1_seen = 1;
}

struct killer
{
    pthread_t target;
    int delay;
};

static void *kill_late (void *arg)
{
    struct killer *k = arg;
    msleep (k->delay);
    pthread_kill (k->target, SIGUSR1);
    return NULL;
}

static void test_eintr (void)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGUSR1, &sa, NULL);
    void *s = tsock (ctx, ZMQ_PULL);
    char ep[256];
    bind_ep (s, "poller-intr", ep, sizeof ep);
    void *p = zmq_poller_new ();
    OK (zmq_poller_add (p, s, NULL, ZMQ_POLLIN));
    zmq_poller_event_t ev;
    struct killer k = {pthread_self (), 150};
    pthread_t t = tthread (kill_late, &k);
    FAILS_WITH (zmq_poller_wait (p, &ev, -1), EINTR);
    CHECK (usr1_seen);
    check_empty (&ev);
    pthread_join (t, NULL);
    /* With nothing to poll the sleep is cut short as well. */
    OK (zmq_poller_modify (p, s, 0));
    usr1_seen = 0;
    t = tthread (kill_late, &k);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_poller_wait (p, &ev, 5000), EINTR);
    CHECK (now_ms () - t0 < 3000);
    CHECK (usr1_seen);
    pthread_join (t, NULL);
    signal (SIGUSR1, SIG_IGN);
    OK (zmq_poller_destroy (&p));
    tclose (s);
}

/* Ours: a socket closed while registered (undefined in libzmq) makes the
 * wait fail with ENOTSOCK and can still be removed. */
static void test_closed_socket (void)
{
    void *s = tsock (ctx, ZMQ_PULL);
    void *p = zmq_poller_new ();
    OK (zmq_poller_add (p, s, NULL, ZMQ_POLLIN));
    tclose (s);
    zmq_poller_event_t ev;
    FAILS_WITH (zmq_poller_wait (p, &ev, 0), ENOTSOCK);
    OK (zmq_poller_remove (p, s));
    CHECK_INT (zmq_poller_size (p), 0);
    FAILS_WITH (zmq_poller_remove (p, s), ENOTSOCK);
    OK (zmq_poller_destroy (&p));
}

/* Ours: one poller used from several threads at once (undefined in
 * libzmq) stays consistent and never crashes. */
#define HAMMER_THREADS 3
#define HAMMER_ROUNDS 2000

struct hammer
{
    void *poller;
    void *socks[4];
    int fds[2];
    volatile int stop;
};

static void *hammer_registrations (void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < HAMMER_ROUNDS; i++) {
        void *s = h->socks[i % 4];
        zmq_poller_add (h->poller, s, NULL, ZMQ_POLLIN);
        zmq_poller_modify (h->poller, s, ZMQ_POLLIN | ZMQ_POLLOUT);
        zmq_poller_add_fd (h->poller, h->fds[i % 2], NULL, ZMQ_POLLIN);
        zmq_poller_size (h->poller);
        zmq_poller_remove (h->poller, s);
        zmq_poller_remove_fd (h->poller, h->fds[i % 2]);
    }
    return NULL;
}

static void *hammer_waits (void *arg)
{
    struct hammer *h = arg;
    zmq_poller_event_t ev[4];
    while (!h->stop) {
        int rc = zmq_poller_wait_all (h->poller, ev, 4, 1);
        /* Any outcome but a crash: events, a timeout, or no items. */
        CHECK (rc > 0 || zmq_errno () == EAGAIN || zmq_errno () == EFAULT);
    }
    return NULL;
}

static void test_poller_from_threads (void)
{
    struct hammer h;
    h.poller = zmq_poller_new ();
    h.stop = 0;
    for (int i = 0; i < 4; i++)
        h.socks[i] = tsock (ctx, i % 2 ? ZMQ_PUSH : ZMQ_PULL);
    CHECK (pipe (h.fds) == 0);
    pthread_t waiter = tthread (hammer_waits, &h);
    pthread_t t[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++)
        t[i] = tthread (hammer_registrations, &h);
    for (int i = 0; i < HAMMER_THREADS; i++)
        pthread_join (t[i], NULL);
    /* Destroyed while the waiter is still at it: its calls turn EFAULT. */
    void *p = h.poller;
    OK (zmq_poller_destroy (&p));
    msleep (20);
    h.stop = 1;
    pthread_join (waiter, NULL);
    for (int i = 0; i < 4; i++)
        tclose (h.socks[i]);
    close (h.fds[0]);
    close (h.fds[1]);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_layout);
    RUN (test_null_and_invalid_pollers);
    RUN (test_null_sockets_and_retired_fd);
    RUN (test_registrations);
    RUN (test_wait_arguments);
    RUN (test_sockets_and_fds);
    RUN (test_wait_woken);
    RUN (test_eterm);
    RUN (test_eintr);
    RUN (test_closed_socket);
    RUN (test_poller_from_threads);
    tctx_term (ctx);
    return 0;
}

#endif
