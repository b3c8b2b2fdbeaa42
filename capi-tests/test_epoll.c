/* The ZMQ_FD / ZMQ_EVENTS contract driven by a real epoll loop: the fd
 * signals (edge-like) that ZMQ_EVENTS should be read; after reading it, the
 * application works until EAGAIN and reads ZMQ_EVENTS again before waiting.
 * No message may be missed and the loop must not spin. Wakeup counts are
 * printed for comparison with libzmq.
 * Every check was first run against Debian's libzmq 4.3.4. */
#include "testutil.h"

#include <poll.h>
#include <sys/epoll.h>

static void *ctx;

static int zfd (void *s)
{
    int fd = -1;
    size_t sz = sizeof fd;
    OK (zmq_getsockopt (s, ZMQ_FD, &fd, &sz));
    CHECK (fd >= 0);
    return fd;
}

static int fd_readable (int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll (&p, 1, ms);
    CHECK (rc >= 0);
    return rc == 1 && (p.revents & POLLIN);
}

/* ---- an idle socket's fd stays quiet once ZMQ_EVENTS was read ---- */

static void test_idle_fd_is_quiet (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "idle", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);
    int fd = zfd (pull);
    /* Over a wire the connection completes later, and that signals too:
     * one message through settles it. */
    if (strcmp (tu_transport, "inproc") != 0) {
        send_str (push, "hello", 0);
        recv_expect (pull, "hello", 0);
    }
    /* read ZMQ_EVENTS until the fd is quiet: it must get there */
    int tries = 0;
    do {
        CHECK_INT (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN, 0);
        CHECK (++tries < 10);
    } while (fd_readable (fd, 0));
    CHECK (!fd_readable (fd, 100));
    /* a message makes it readable, and ZMQ_EVENTS reports it */
    send_str (push, "m", 0);
    CHECK (fd_readable (fd, TU_TIMEOUT_MS));
    CHECK (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN);
    /* reading ZMQ_EVENTS again without receiving: the message is still
     * reported, but the fd need not signal it again */
    CHECK (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN);
    recv_expect (pull, "m", 0);
    CHECK_INT (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN, 0);
    CHECK (!fd_readable (fd, 50));
    tclose (push);
    tclose (pull);
}

/* ---- 100k messages from another thread through an edge-triggered loop */

#define EP_MSGS 100000

struct snd
{
    const char *ep;
    volatile int received; /* set by the receiver once it has them all */
};

static void *sender (void *p)
{
    struct snd *a = p;
    void *s = tsock (ctx, ZMQ_PUSH);
    set_int (s, ZMQ_SNDHWM, 100);
    connect_ep (s, a->ep);
    for (uint32_t i = 0; i < EP_MSGS; i++) {
        CHECK_INT (zmq_send (s, &i, 4, 0), 4);
        if (i % 5000 == 0)
            usleep (1000); /* let the receiver run dry and sleep */
    }
    /* Stay connected until the receiver has everything: closing a wire
     * connection while the receiver's pipe is full loses what it still
     * holds, in libzmq 4.3.4 too (and LINGER is 0 here). */
    while (!a->received)
        usleep (1000);
    tclose (s);
    return NULL;
}

static void test_epoll_et_receiver (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 100);
    bind_ep (pull, "et", ep, sizeof ep);
    int efd = epoll_create1 (0);
    CHECK (efd >= 0);
    struct epoll_event ev = {EPOLLIN | EPOLLET, {.ptr = pull}};
    OK (epoll_ctl (efd, EPOLL_CTL_ADD, zfd (pull), &ev));
    struct snd a = {ep, 0};
    pthread_t t = tthread (sender, &a);
    uint32_t next = 0;
    long wakeups = 0, idle_wakeups = 0, events_reads = 0;
    while (next < EP_MSGS) {
        /* work first: the fd only signals changes */
        int progressed = 0;
        for (;;) {
            events_reads++;
            if (!(get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN))
                break;
            uint32_t v;
            while (zmq_recv (pull, &v, 4, ZMQ_DONTWAIT) == 4) {
                if (v != next) {
                    printf ("expected %u got %u\n", next, v);
                    CHECK_INT (v, next);
                }
                next++;
                progressed = 1;
            }
            CHECK_INT (zmq_errno (), EAGAIN);
        }
        if (next >= EP_MSGS) {
            a.received = 1;
            break;
        }
        struct epoll_event out;
        int n = epoll_wait (efd, &out, 1, TU_TIMEOUT_MS);
        if (n == 0) {
            printf ("epoll timed out at message %u (the fd never "
                    "signalled)\n",
                    next);
            CHECK (n == 1);
        }
        CHECK_INT (n, 1);
        wakeups++;
        (void) progressed;
        /* a wakeup with nothing to read is spurious */
        if (!(get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN))
            idle_wakeups++;
        events_reads++;
    }
    a.received = 1;
    pthread_join (t, NULL);
    printf ("  %d messages: %ld epoll wakeups (%ld with nothing to read), "
            "%ld ZMQ_EVENTS reads\n",
            EP_MSGS, wakeups, idle_wakeups, events_reads);
    /* not spinning: far fewer wakeups than messages, mostly useful */
    CHECK (wakeups < EP_MSGS / 4);
    CHECK (idle_wakeups <= wakeups / 2 + 10);
    close (efd);
    tclose (pull);
}

/* Reads ZMQ_EVENTS until it has no `what` bit; each read re-arms the fd.
 * Calls `work` while the bit is set; returns how much work was done. */
typedef int (*work_fn) (void *s, void *arg);

static int drain (void *s, int what, work_fn work, void *arg)
{
    int done = 0;
    while (get_int (s, ZMQ_EVENTS) & what) {
        int n = work (s, arg);
        if (n == 0)
            break; /* bounded batch: the caller comes back later */
        done += n;
    }
    return done;
}

struct both
{
    uint32_t sent, got;
};

static int send_all (void *s, void *arg)
{
    struct both *b = arg;
    int n = 0;
    while (b->sent < EP_MSGS && zmq_send (s, &b->sent, 4, ZMQ_DONTWAIT) == 4) {
        b->sent++;
        n++;
    }
    if (b->sent < EP_MSGS)
        CHECK_INT (zmq_errno (), EAGAIN);
    return n;
}

static int recv_all (void *s, void *arg)
{
    struct both *b = arg;
    int n = 0;
    uint32_t v;
    while (zmq_recv (s, &v, 4, ZMQ_DONTWAIT) == 4) {
        if (v != b->got)
            printf ("expected %u got %u\n", b->got, v);
        CHECK_INT (v, b->got);
        b->got++;
        n++;
    }
    CHECK_INT (zmq_errno (), EAGAIN);
    return n;
}

/* One thread, one epoll, both ends of a pipe with a small HWM: the sender
 * fills the pipe, the loop sleeps until the receiver's fd fires, the
 * receiver drains, the loop sleeps until the sender's fd fires (room). */
static void test_epoll_single_thread_both_ends (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 50);
    bind_ep (pull, "both", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 50);
    connect_ep (push, ep);
    int efd = epoll_create1 (0);
    CHECK (efd >= 0);
    struct epoll_event e1 = {EPOLLIN | EPOLLET, {.ptr = pull}};
    struct epoll_event e2 = {EPOLLIN | EPOLLET, {.ptr = push}};
    OK (epoll_ctl (efd, EPOLL_CTL_ADD, zfd (pull), &e1));
    OK (epoll_ctl (efd, EPOLL_CTL_ADD, zfd (push), &e2));
    struct both b = {0, 0};
    long waits = 0, useless = 0;
    /* arm both, then only ever act after epoll says so */
    drain (push, ZMQ_POLLOUT, send_all, &b);
    drain (pull, ZMQ_POLLIN, recv_all, &b);
    while (b.got < EP_MSGS) {
        struct epoll_event out[2];
        int n = epoll_wait (efd, out, 2, TU_TIMEOUT_MS);
        if (n == 0)
            printf ("stuck: sent %u got %u after %ld waits\n", b.sent, b.got,
                    waits);
        CHECK (n >= 1);
        waits++;
        int done = 0;
        for (int k = 0; k < n; k++) {
            void *s = out[k].data.ptr;
            if (s == push)
                done += drain (push, ZMQ_POLLOUT, send_all, &b);
            else
                done += drain (pull, ZMQ_POLLIN, recv_all, &b);
        }
        /* both sockets must stay armed: read the other one too */
        done += drain (push, ZMQ_POLLOUT, send_all, &b);
        done += drain (pull, ZMQ_POLLIN, recv_all, &b);
        useless += done == 0;
    }
    printf ("  %d messages: %ld epoll waits (%ld useless)\n", EP_MSGS, waits,
            useless);
    CHECK_INT (b.sent, EP_MSGS);
    CHECK (useless <= waits / 2 + 10);
    close (efd);
    tclose (push);
    tclose (pull);
}

/* ---- ROUTER/DEALER request-reply, both driven from one epoll ---- */

struct pp
{
    void *router, *dealer;
    int requests, replies, n;
};

static int router_work (void *s, void *arg)
{
    struct pp *p = arg;
    int n = 0;
    zmq_msg_t id, body;
    zmq_msg_init (&id);
    zmq_msg_init (&body);
    while (zmq_msg_recv (&id, s, ZMQ_DONTWAIT) >= 0) {
        CHECK (zmq_msg_recv (&body, s, 0) == 4);
        CHECK (zmq_msg_send (&id, s, ZMQ_SNDMORE) >= 0);
        CHECK (zmq_msg_send (&body, s, 0) == 4);
        p->requests++;
        n++;
    }
    zmq_msg_close (&id);
    zmq_msg_close (&body);
    return n;
}

static int dealer_work (void *s, void *arg)
{
    struct pp *p = arg;
    int n = 0;
    uint32_t v;
    while (zmq_recv (s, &v, 4, ZMQ_DONTWAIT) == 4) {
        CHECK_INT (v, (uint32_t) p->replies);
        p->replies++;
        n++;
        uint32_t next = p->replies;
        if (p->replies < p->n)
            CHECK_INT (zmq_send (s, &next, 4, 0), 4);
    }
    return n;
}

static void test_epoll_dealer_router_pingpong (void)
{
    char ep[256];
    struct pp p = {tsock (ctx, ZMQ_ROUTER), NULL, 0, 0, 20000};
    bind_ep (p.router, "pp", ep, sizeof ep);
    p.dealer = tsock (ctx, ZMQ_DEALER);
    connect_ep (p.dealer, ep);
    int efd = epoll_create1 (0);
    struct epoll_event e1 = {EPOLLIN | EPOLLET, {.ptr = p.router}};
    struct epoll_event e2 = {EPOLLIN | EPOLLET, {.ptr = p.dealer}};
    OK (epoll_ctl (efd, EPOLL_CTL_ADD, zfd (p.router), &e1));
    OK (epoll_ctl (efd, EPOLL_CTL_ADD, zfd (p.dealer), &e2));
    drain (p.router, ZMQ_POLLIN, router_work, &p);
    drain (p.dealer, ZMQ_POLLIN, dealer_work, &p);
    uint32_t zero = 0;
    CHECK_INT (zmq_send (p.dealer, &zero, 4, 0), 4);
    long waits = 0;
    while (p.replies < p.n) {
        struct epoll_event out[2];
        int n = epoll_wait (efd, out, 2, TU_TIMEOUT_MS);
        if (n == 0)
            printf ("stuck after %d replies\n", p.replies);
        CHECK (n >= 1);
        waits++;
        drain (p.router, ZMQ_POLLIN, router_work, &p);
        drain (p.dealer, ZMQ_POLLIN, dealer_work, &p);
    }
    printf ("  %d round trips, %ld epoll waits\n", p.n, waits);
    CHECK_INT (p.requests, p.n);
    close (efd);
    tclose (p.dealer);
    tclose (p.router);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    alarm (28);
    ctx = tctx_new ();
    RUN_UNLESS_SKIPPED (test_idle_fd_is_quiet);
    RUN_UNLESS_SKIPPED (test_epoll_et_receiver);
    RUN_UNLESS_SKIPPED (test_epoll_single_thread_both_ends);
    RUN_UNLESS_SKIPPED (test_epoll_dealer_router_pingpong);
    tctx_term (ctx);
    return 0;
}
