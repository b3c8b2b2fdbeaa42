/* zmq_poll over sockets and plain fds, and the ZMQ_FD/ZMQ_EVENTS contract
 * that event loops integrate with. */
#include "testutil.h"
#include <poll.h>

static void *ctx;

static void test_timeouts (void)
{
    void *s = tsock (ctx, ZMQ_PULL);
    char ep[256];
    bind_ep (s, "poll-to", ep, sizeof ep);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};

    /* 0: check and return at once. */
    int64_t t0 = now_ms ();
    CHECK_INT (zmq_poll (&it, 1, 0), 0);
    CHECK (now_ms () - t0 < 50);
    CHECK_INT (it.revents, 0);

    /* A positive timeout (milliseconds) elapses before returning 0. */
    t0 = now_ms ();
    CHECK_INT (zmq_poll (&it, 1, 150), 0);
    int64_t el = now_ms () - t0;
    CHECK (el >= 130);
    CHECK (el < 1500);

    /* No items: just waits. */
    t0 = now_ms ();
    CHECK_INT (zmq_poll (NULL, 0, 60), 0);
    el = now_ms () - t0;
    CHECK (el >= 50);
    CHECK (el < 1000);
    tclose (s);
}

static void test_pollin_pollout (void)
{
    char ep[256], buf[8];
    void *a = tsock (ctx, ZMQ_PAIR);
    void *b = tsock (ctx, ZMQ_PAIR);
    bind_ep (a, "poll-io", ep, sizeof ep);
    connect_ep (b, ep);

    zmq_pollitem_t it[2] = {{a, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                            {b, 0, ZMQ_POLLIN, 0}};
    /* Both connected: a can send; nobody has input. (Waiting lets a wire
     * connection complete.) */
    CHECK_INT (zmq_poll (it, 2, TU_TIMEOUT_MS), 1);
    CHECK_INT (it[0].revents, ZMQ_POLLOUT);
    CHECK_INT (it[1].revents, 0);

    send_str (a, "hi", 0);
    it[0].events = ZMQ_POLLIN;
    CHECK_INT (zmq_poll (it, 2, TU_TIMEOUT_MS), 1);
    CHECK_INT (it[0].revents, 0);
    CHECK_INT (it[1].revents, ZMQ_POLLIN);
    CHECK_INT (zmq_recv (b, buf, sizeof buf, 0), 2);
    CHECK_INT (zmq_poll (it, 2, 0), 0);

    /* revents only reports what was asked for. */
    it[0].events = 0;
    CHECK_INT (zmq_poll (it, 1, 0), 0);
    CHECK_INT (it[0].revents, 0);
    tclose (a);
    tclose (b);
}

static void test_sockets_and_fd (void)
{
    char ep1[256], ep2[256];
    void *p1 = tsock (ctx, ZMQ_PULL);
    void *p2 = tsock (ctx, ZMQ_PULL);
    bind_ep (p1, "poll-m1", ep1, sizeof ep1);
    bind_ep (p2, "poll-m2", ep2, sizeof ep2);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep2);
    int fds[2];
    CHECK (pipe (fds) == 0);

    zmq_pollitem_t it[4] = {{p1, 0, ZMQ_POLLIN, 0},
                            {p2, 0, ZMQ_POLLIN, 0},
                            {NULL, fds[0], ZMQ_POLLIN, 0},
                            {NULL, fds[1], ZMQ_POLLOUT, 0}};
    /* The pipe's write end is writable; nothing else is ready. */
    CHECK_INT (zmq_poll (it, 3, 0), 0);
    CHECK_INT (zmq_poll (it, 4, 0), 1);
    CHECK_INT (it[3].revents, ZMQ_POLLOUT);

    CHECK (write (fds[1], "z", 1) == 1);
    CHECK_INT (zmq_poll (it, 3, TU_TIMEOUT_MS), 1);
    CHECK_INT (it[0].revents, 0);
    CHECK_INT (it[1].revents, 0);
    CHECK_INT (it[2].revents, ZMQ_POLLIN);
    char c;
    CHECK (read (fds[0], &c, 1) == 1);

    send_str (push, "m", 0);
    CHECK_INT (zmq_poll (it, 3, TU_TIMEOUT_MS), 1);
    CHECK_INT (it[1].revents, ZMQ_POLLIN);
    CHECK_INT (it[2].revents, 0);

    /* Two ready at once are both reported. */
    CHECK (write (fds[1], "z", 1) == 1);
    CHECK_INT (zmq_poll (it, 3, TU_TIMEOUT_MS), 2);
    CHECK_INT (it[1].revents, ZMQ_POLLIN);
    CHECK_INT (it[2].revents, ZMQ_POLLIN);

    close (fds[0]);
    close (fds[1]);
    tclose (push);
    tclose (p1);
    tclose (p2);
}

struct late
{
    const char *ep;
    int delay;
};

static void *send_late (void *p)
{
    struct late *l = p;
    void *s = zmq_socket (ctx, ZMQ_PUSH);
    zmq_connect (s, l->ep);
    msleep (l->delay);
    zmq_send (s, "late", 4, 0);
    zmq_close (s);
    return NULL;
}

static void test_infinite_wait_woken_by_message (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "poll-wake", ep, sizeof ep);
    struct late l = {ep, 150};
    pthread_t t = tthread (send_late, &l);
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
    int64_t t0 = now_ms ();
    /* -1 waits as long as it takes; the watchdog guards against a hang. */
    CHECK_INT (zmq_poll (&it, 1, -1), 1);
    CHECK (now_ms () - t0 >= 100);
    CHECK_INT (it.revents, ZMQ_POLLIN);
    recv_expect (pull, "late", 0);
    pthread_join (t, NULL);
    tclose (pull);
}

/* Waits as an event loop does: the fd signals that something may have
 * changed (over a wire also the connection itself), ZMQ_EVENTS tells what.
 * Returns 1 once ZMQ_EVENTS has `what`, 0 if the fd stays quiet until the
 * timeout without that happening. */
static int fd_wait_for (void *s, int fd, int what)
{
    int64_t end = now_ms () + TU_TIMEOUT_MS;
    while (!(get_int (s, ZMQ_EVENTS) & what)) {
        int64_t left = end - now_ms ();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (left <= 0 || poll (&pfd, 1, (int) left) != 1)
            return 0;
    }
    return 1;
}

static void test_zmq_fd_edge_contract (void)
{
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "poll-fd", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    connect_ep (push, ep);

    int fd = -1;
    size_t sz = sizeof fd;
    OK (zmq_getsockopt (pull, ZMQ_FD, &fd, &sz));
    CHECK (fd >= 0);
    /* Reading ZMQ_EVENTS settles pending work (the connection). */
    CHECK_INT (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN, 0);

    /* An arriving message makes the fd readable (over a wire the
     * connection may signal first: ZMQ_EVENTS tells them apart)... */
    send_str (push, "wake", 0);
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK_INT (poll (&pfd, 1, TU_TIMEOUT_MS), 1);
    CHECK (pfd.revents & POLLIN);
    /* ...and ZMQ_EVENTS then tells what is ready. */
    CHECK (fd_wait_for (pull, fd, ZMQ_POLLIN));
    recv_expect (pull, "wake", 0);
    CHECK_INT (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN, 0);

    /* The same cycle works again (the fd was re-armed); the connection
     * is settled now, so the fd signals the message itself. */
    send_str (push, "again", 0);
    CHECK_INT (poll (&pfd, 1, TU_TIMEOUT_MS), 1);
    CHECK (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN);
    recv_expect (pull, "again", 0);
    /* Before waiting on the fd again, a user must see ZMQ_EVENTS without
     * POLLIN: the fd only signals edges after that. */
    CHECK_INT (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN, 0);

    /* Edge-triggered users drain with ZMQ_EVENTS in a loop: every queued
     * message is reachable without further fd activity. Over inproc the
     * three are queued by the time send returns; over a wire they may come
     * in separate reads, each signalled, so the loop waits again. */
    send_str (push, "1", 0);
    send_str (push, "2", 0);
    send_str (push, "3", 0);
    CHECK_INT (poll (&pfd, 1, TU_TIMEOUT_MS), 1);
    int n = 0;
    int inproc = strcmp (tu_transport, "inproc") == 0;
    do {
        while (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN) {
            char buf[8];
            CHECK_INT (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT), 1);
            n++;
        }
    } while (!inproc && n < 3 && fd_wait_for (pull, fd, ZMQ_POLLIN));
    CHECK_INT (n, 3);
    tclose (push);
    tclose (pull);
}

static void test_zmq_fd_on_sender (void)
{
    /* ZMQ_FD also signals a blocked writer that room became available. */
    if (strcmp (tu_transport, "inproc") != 0)
        return;
    char ep[256], buf[8];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 1);
    bind_ep (pull, "poll-fd-out", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 1);
    connect_ep (push, ep);
    while (zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1) {
    }
    CHECK_INT (get_int (push, ZMQ_EVENTS) & ZMQ_POLLOUT, 0);
    int fd;
    size_t sz = sizeof fd;
    OK (zmq_getsockopt (push, ZMQ_FD, &fd, &sz));
    /* Reading everything wakes the writer. */
    while (zmq_recv (pull, buf, sizeof buf, ZMQ_DONTWAIT) == 1) {
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK_INT (poll (&pfd, 1, TU_TIMEOUT_MS), 1);
    CHECK (get_int (push, ZMQ_EVENTS) & ZMQ_POLLOUT);
    tclose (push);
    tclose (pull);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_timeouts);
    RUN (test_pollin_pollout);
    RUN (test_sockets_and_fd);
    RUN (test_infinite_wait_woken_by_message);
    RUN (test_zmq_fd_edge_contract);
    RUN (test_zmq_fd_on_sender);
    tctx_term (ctx);
    return 0;
}
