/* Prints facts about zmq_poll, the ZMQ_FD/ZMQ_EVENTS contract, signals
 * (EINTR), zmq_proxy/zmq_proxy_steerable/zmq_device and message properties,
 * one per line, for the library it runs on.
 *
 * Built against Debian's libzmq 4.3.4 its output is the reference,
 * capi-tests/expected/api_facts.txt; tests/capi.rs runs it on ours and
 * compares line by line, allowing only the lines listed in
 * capi-tests/expected/api_facts.allowed (the same runner as
 * test_option_defaults.c).
 *
 * The output must not depend on the machine or the run: times are printed as
 * whether they fall in a generous window, descriptors and pids as facts about
 * them. The program exits 0 unless it hangs (a watchdog then prints a line
 * and exits 1); the comparison is the test. */

#define _GNU_SOURCE
#include <zmq.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Draft option number, known to Debian's stable build (see the reference). */
#define OPT_METADATA 95

static void *ctx;

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static const char *errname (int e)
{
    static char other[32];
    switch (e) {
        case 0: return "no error";
        case EINVAL: return "EINVAL";
        case EFAULT: return "EFAULT";
        case EAGAIN: return "EAGAIN";
        case ENOTSUP: return "ENOTSUP";
        case ENOTSOCK: return "ENOTSOCK";
        case EINTR: return "EINTR";
        case EBADF: return "EBADF";
        case EFSM: return "EFSM";
        case ETERM: return "ETERM";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        default: snprintf (other, sizeof other, "errno %d", e); return other;
    }
}

/* "-> ERR" for -1, "= rc" otherwise. */
static const char *rcs (int rc, int e)
{
    /* Several results may appear in one printf: rotate the buffers. */
    static char bufs[4][64];
    static int next;
    char *buf = bufs[next++ % 4];
    if (rc == -1)
        snprintf (buf, sizeof bufs[0], "-> %s", errname (e));
    else
        snprintf (buf, sizeof bufs[0], "= %d", rc);
    return buf;
}

static const char *revents_name (short r)
{
    static char bufs[6][64];
    static int next;
    char *buf = bufs[next++ % 6];
    buf[0] = 0;
    if (r == 0)
        return "0";
    if (r & ZMQ_POLLIN)
        strcat (buf, "|POLLIN");
    if (r & ZMQ_POLLOUT)
        strcat (buf, "|POLLOUT");
    if (r & ZMQ_POLLERR)
        strcat (buf, "|POLLERR");
    if (r & ZMQ_POLLPRI)
        strcat (buf, "|POLLPRI");
    if (r & ~(ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLERR | ZMQ_POLLPRI))
        strcat (buf, "|other");
    return buf + 1;
}

static int64_t now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void msleep (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* Whether `el` ms lies in [lo, hi): generous windows, so the line is the
 * same on every run of a correct library. */
static const char *within (int64_t el, int64_t lo, int64_t hi)
{
    if (el < lo)
        return "too early";
    if (el >= hi)
        return "too late";
    return "in time";
}

static void set_int (void *s, int opt, int v)
{
    zmq_setsockopt (s, opt, &v, sizeof v);
}

static int get_int (void *s, int opt)
{
    int v = -1;
    size_t sz = sizeof v;
    if (zmq_getsockopt (s, opt, &v, &sz) != 0)
        return -1;
    return v;
}

static void *sock (void *c, int type)
{
    void *s = zmq_socket (c, type);
    if (!s) {
        printf ("zmq_socket(%d) failed: %s\n", type, errname (errno));
        exit (1);
    }
    set_int (s, ZMQ_LINGER, 0);
    return s;
}

static const char *transports[] = {"inproc", "tcp", "ipc"};

/* Binds on `transport`; `ep` receives the address to connect to. */
static void bind_on (void *s, const char *transport, char *ep, size_t n)
{
    static int counter = 0;
    counter++;
    if (strcmp (transport, "inproc") == 0)
        snprintf (ep, n, "inproc://facts-%d", counter);
    else if (strcmp (transport, "tcp") == 0)
        snprintf (ep, n, "tcp://127.0.0.1:*");
    else
        snprintf (ep, n, "ipc:///tmp/ferro-facts-%d-%d", (int) getpid (),
                  counter);
    if (zmq_bind (s, ep) != 0) {
        printf ("bind %s failed: %s\n", transport, errname (errno));
        exit (1);
    }
    size_t sz = n;
    zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &sz);
}

/* Receives one frame as a string (at most 255 bytes); "" on failure,
 * with the error in the text. */
static const char *recv_text (void *s, int flags)
{
    static char buf[300];
    char data[256];
    int rc = zmq_recv (s, data, sizeof data - 1, flags);
    if (rc < 0) {
        snprintf (buf, sizeof buf, "(recv %s)", errname (errno));
        return buf;
    }
    if (rc > (int) sizeof data - 1)
        rc = sizeof data - 1;
    data[rc] = 0;
    snprintf (buf, sizeof buf, "\"%s\"%s", data,
              get_int (s, ZMQ_RCVMORE) ? " +more" : "");
    return buf;
}

/* Runs `fn(arg)` on a thread, after `delay_ms`. */
struct later
{
    int delay_ms;
    void (*fn) (void *);
    void *arg;
};

static void *later_main (void *p)
{
    struct later *l = p;
    msleep (l->delay_ms);
    l->fn (l->arg);
    return NULL;
}

static pthread_t run_later (struct later *l)
{
    pthread_t t;
    if (pthread_create (&t, NULL, later_main, l) != 0) {
        printf ("pthread_create failed\n");
        exit (1);
    }
    return t;
}

static void send_hello (void *s)
{
    zmq_send (s, "hello", 5, 0);
}

/* Joins `t` within `ms`; returns 0 when it finished. */
static int join_within (pthread_t t, int ms)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long) (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np (t, NULL, &ts);
}

static void on_watchdog (int sig)
{
    (void) sig;
    static const char m[] = "watchdog: the program hung\n";
    ssize_t r = write (1, m, sizeof m - 1);
    (void) r;
    _exit (1);
}

/* ------------------------------------------------------------------ */
/* zmq_poll: arguments, timeouts, plain descriptors                    */

static void poll_arguments (void)
{
    int64_t t0 = now_ms ();
    errno = 0;
    int rc = zmq_poll (NULL, 0, 0);
    printf ("zmq_poll(NULL, 0, 0) %s, %s\n", rcs (rc, errno),
            within (now_ms () - t0, 0, 50));
    t0 = now_ms ();
    rc = zmq_poll (NULL, 0, 100);
    printf ("zmq_poll(NULL, 0, 100) %s, %s\n", rcs (rc, errno),
            within (now_ms () - t0, 90, 1500));
    errno = 0;
    rc = zmq_poll (NULL, 1, 0);
    printf ("zmq_poll(NULL, 1, 0) %s\n", rcs (rc, errno));
    zmq_pollitem_t item = {NULL, -1, ZMQ_POLLIN, 0};
    errno = 0;
    rc = zmq_poll (&item, -1, 0);
    printf ("zmq_poll(items, -1, 0) %s\n", rcs (rc, errno));

    /* A plain item whose fd is negative is skipped, as poll(2) does. */
    item.revents = 0x7f;
    errno = 0;
    rc = zmq_poll (&item, 1, 0);
    printf ("zmq_poll(fd -1, POLLIN, 0) %s, revents %s\n", rcs (rc, errno),
            revents_name (item.revents));

    /* A closed descriptor is reported as POLLERR (poll(2)'s POLLNVAL). */
    int fds[2];
    if (pipe (fds) != 0)
        exit (1);
    close (fds[0]);
    close (fds[1]);
    zmq_pollitem_t closed = {NULL, fds[0], ZMQ_POLLIN, 0};
    errno = 0;
    rc = zmq_poll (&closed, 1, 0);
    printf ("zmq_poll(closed fd, POLLIN, 0) %s, revents %s\n",
            rcs (rc, errno), revents_name (closed.revents));
    closed.events = 0;
    errno = 0;
    rc = zmq_poll (&closed, 1, 0);
    printf ("zmq_poll(closed fd, no events, 0) %s, revents %s\n",
            rcs (rc, errno), revents_name (closed.revents));

    /* A pipe: readable, writable, hung up. */
    if (pipe (fds) != 0)
        exit (1);
    zmq_pollitem_t p[2] = {{NULL, fds[0], ZMQ_POLLIN | ZMQ_POLLOUT, 0},
                           {NULL, fds[1], ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
    rc = zmq_poll (p, 2, 0);
    printf ("pipe, empty: zmq_poll %s, read end %s, write end %s\n",
            rcs (rc, errno), revents_name (p[0].revents),
            revents_name (p[1].revents));
    if (write (fds[1], "x", 1) != 1)
        exit (1);
    rc = zmq_poll (p, 2, 0);
    printf ("pipe, one byte: zmq_poll %s, read end %s, write end %s\n",
            rcs (rc, errno), revents_name (p[0].revents),
            revents_name (p[1].revents));
    close (fds[1]);
    rc = zmq_poll (p, 1, 0);
    printf ("pipe, writer closed: zmq_poll %s, read end %s\n",
            rcs (rc, errno), revents_name (p[0].revents));
    p[0].events = ZMQ_POLLPRI;
    rc = zmq_poll (p, 1, 0);
    printf ("pipe, writer closed, POLLPRI only: zmq_poll %s, read end %s\n",
            rcs (rc, errno), revents_name (p[0].revents));
    close (fds[0]);
}

static void poll_timeouts (void)
{
    void *pull = sock (ctx, ZMQ_PULL);
    char ep[256];
    bind_on (pull, "inproc", ep, sizeof ep);
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0x7f};

    int64_t t0 = now_ms ();
    int rc = zmq_poll (&it, 1, 0);
    printf ("idle socket: zmq_poll(timeout 0) %s, revents %s, %s\n",
            rcs (rc, errno), revents_name (it.revents),
            within (now_ms () - t0, 0, 50));
    t0 = now_ms ();
    rc = zmq_poll (&it, 1, 150);
    printf ("idle socket: zmq_poll(timeout 150) %s, %s\n", rcs (rc, errno),
            within (now_ms () - t0, 140, 1500));

    void *push = sock (ctx, ZMQ_PUSH);
    zmq_connect (push, ep);
    struct later l = {150, send_hello, push};
    pthread_t t = run_later (&l);
    t0 = now_ms ();
    rc = zmq_poll (&it, 1, -1);
    printf ("idle socket, message after 150 ms: zmq_poll(timeout -1) %s, "
            "revents %s, %s\n",
            rcs (rc, errno), revents_name (it.revents),
            within (now_ms () - t0, 100, 3000));
    pthread_join (t, NULL);
    printf ("  then recv %s\n", recv_text (pull, ZMQ_DONTWAIT));

    /* A message arriving during a finite wait ends it early. */
    t = run_later (&l);
    t0 = now_ms ();
    rc = zmq_poll (&it, 1, 5000);
    printf ("idle socket, message after 150 ms: zmq_poll(timeout 5000) %s, "
            "%s\n",
            rcs (rc, errno), within (now_ms () - t0, 100, 3000));
    pthread_join (t, NULL);
    recv_text (pull, ZMQ_DONTWAIT);
    /* The largest timeout is a long wait, not an error. */
    t = run_later (&l);
    t0 = now_ms ();
    rc = zmq_poll (&it, 1, LONG_MAX);
    printf ("idle socket, message after 150 ms: zmq_poll(timeout LONG_MAX) "
            "%s, %s\n",
            rcs (rc, errno), within (now_ms () - t0, 100, 3000));
    pthread_join (t, NULL);
    recv_text (pull, ZMQ_DONTWAIT);

    /* Bits a socket never reports. */
    send_hello (push);
    msleep (50);
    it.events = ZMQ_POLLERR | ZMQ_POLLPRI;
    rc = zmq_poll (&it, 1, 0);
    printf ("socket with a message, events POLLERR|POLLPRI: zmq_poll %s, "
            "revents %s\n",
            rcs (rc, errno), revents_name (it.revents));
    it.events = 0;
    rc = zmq_poll (&it, 1, 0);
    printf ("socket with a message, no events: zmq_poll %s, revents %s\n",
            rcs (rc, errno), revents_name (it.revents));
    it.events = ZMQ_POLLIN | ZMQ_POLLOUT;
    rc = zmq_poll (&it, 1, 0);
    printf ("PULL with a message, events POLLIN|POLLOUT: zmq_poll %s, "
            "revents %s\n",
            rcs (rc, errno), revents_name (it.revents));
    zmq_pollitem_t both[2] = {{pull, 0, ZMQ_POLLIN, 0},
                              {push, 0, ZMQ_POLLIN | ZMQ_POLLOUT, 0}};
    rc = zmq_poll (both, 2, 0);
    printf ("PULL and PUSH: zmq_poll %s, PULL %s, PUSH %s\n", rcs (rc, errno),
            revents_name (both[0].revents), revents_name (both[1].revents));
    /* The same socket twice: both items are reported. */
    zmq_pollitem_t twice[2] = {{pull, 0, ZMQ_POLLIN, 0},
                               {pull, 0, ZMQ_POLLIN, 0}};
    rc = zmq_poll (twice, 2, 0);
    printf ("the same socket in two items: zmq_poll %s, %s and %s\n",
            rcs (rc, errno), revents_name (twice[0].revents),
            revents_name (twice[1].revents));
    /* The socket wins over the fd when both are set. */
    int fds[2];
    if (pipe (fds) != 0)
        exit (1);
    if (write (fds[1], "x", 1) != 1)
        exit (1);
    recv_text (pull, ZMQ_DONTWAIT);
    zmq_pollitem_t sfd = {pull, fds[0], ZMQ_POLLIN, 0};
    rc = zmq_poll (&sfd, 1, 0);
    printf ("item with an idle socket and a readable fd: zmq_poll %s, "
            "revents %s\n",
            rcs (rc, errno), revents_name (sfd.revents));
    close (fds[0]);
    close (fds[1]);
    zmq_close (push);
    zmq_close (pull);
}

/* Sockets of each transport mixed with plain descriptors. */
static void poll_transports (void)
{
    for (int k = 0; k < 3; k++) {
        const char *tr = transports[k];
        char ep[256];
        void *pull = sock (ctx, ZMQ_PULL);
        bind_on (pull, tr, ep, sizeof ep);
        void *pair_b = sock (ctx, ZMQ_PAIR);
        char ep2[256];
        bind_on (pair_b, tr, ep2, sizeof ep2);
        void *push = sock (ctx, ZMQ_PUSH);
        zmq_connect (push, ep);
        void *pair_c = sock (ctx, ZMQ_PAIR);
        zmq_connect (pair_c, ep2);
        int fds[2];
        if (pipe (fds) != 0)
            exit (1);

        /* The bound PAIR can send once its peer is connected. */
        zmq_pollitem_t out = {pair_b, 0, ZMQ_POLLOUT, 0};
        int rc = zmq_poll (&out, 1, 3000);
        printf ("%s: bound PAIR, POLLOUT within 3 s: zmq_poll %s, revents "
                "%s\n",
                tr, rcs (rc, errno), revents_name (out.revents));

        zmq_pollitem_t it[5] = {{pull, 0, ZMQ_POLLIN, 0},
                                {pair_b, 0, ZMQ_POLLIN, 0},
                                {pair_c, 0, ZMQ_POLLIN, 0},
                                {NULL, fds[0], ZMQ_POLLIN, 0},
                                {NULL, fds[1], ZMQ_POLLOUT, 0}};
        rc = zmq_poll (it, 4, 0);
        printf ("%s: nothing sent: zmq_poll(4 items) %s\n", tr,
                rcs (rc, errno));
        rc = zmq_poll (it, 5, 0);
        printf ("%s: with a writable pipe: zmq_poll(5 items) %s, pipe %s\n",
                tr, rcs (rc, errno), revents_name (it[4].revents));

        zmq_send (push, "m", 1, 0);
        rc = zmq_poll (it, 4, 3000);
        printf ("%s: PUSH sent: zmq_poll %s, PULL %s, PAIRs %s %s, pipe %s\n",
                tr, rcs (rc, errno), revents_name (it[0].revents),
                revents_name (it[1].revents), revents_name (it[2].revents),
                revents_name (it[3].revents));
        if (write (fds[1], "x", 1) != 1)
            exit (1);
        zmq_send (pair_c, "p", 1, 0);
        /* Wait until the PAIR message is there too. */
        int64_t t0 = now_ms ();
        do {
            rc = zmq_poll (it, 4, 100);
        } while (rc < 3 && now_ms () - t0 < 3000);
        printf ("%s: and PAIR sent, pipe written: zmq_poll %s, PULL %s, "
                "PAIRs %s %s, pipe %s\n",
                tr, rcs (rc, errno), revents_name (it[0].revents),
                revents_name (it[1].revents), revents_name (it[2].revents),
                revents_name (it[3].revents));
        printf ("%s: recv %s, %s\n", tr, recv_text (pull, ZMQ_DONTWAIT),
                recv_text (pair_b, ZMQ_DONTWAIT));
        rc = zmq_poll (it, 3, 0);
        printf ("%s: after reading: zmq_poll(sockets) %s\n", tr,
                rcs (rc, errno));

        close (fds[0]);
        close (fds[1]);
        zmq_close (push);
        zmq_close (pair_c);
        zmq_close (pull);
        zmq_close (pair_b);
    }

    /* A full pipe: POLLOUT goes, and comes back once the reader drains. */
    void *pull = sock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 2);
    char ep[256];
    bind_on (pull, "inproc", ep, sizeof ep);
    void *push = sock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 2);
    zmq_connect (push, ep);
    int sent = 0;
    while (sent < 100000 && zmq_send (push, "f", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    zmq_pollitem_t out = {push, 0, ZMQ_POLLOUT, 0};
    int rc = zmq_poll (&out, 1, 0);
    printf ("full pipe: zmq_poll(POLLOUT, 0) %s\n", rcs (rc, errno));
    while (zmq_recv (pull, ep, sizeof ep, ZMQ_DONTWAIT) >= 0) {
    }
    rc = zmq_poll (&out, 1, 2000);
    printf ("full pipe drained: zmq_poll(POLLOUT, 2000) %s, revents %s\n",
            rcs (rc, errno), revents_name (out.revents));
    zmq_close (push);
    zmq_close (pull);
}

/* ------------------------------------------------------------------ */
/* ZMQ_FD and ZMQ_EVENTS                                                */

static int fd_readable (int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll (&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void fd_contract (void)
{
    char ep[256];
    void *pull = sock (ctx, ZMQ_PULL);
    bind_on (pull, "inproc", ep, sizeof ep);
    void *push = sock (ctx, ZMQ_PUSH);
    zmq_connect (push, ep);
    int fd = get_int (pull, ZMQ_FD);
    int fd2 = get_int (pull, ZMQ_FD);
    printf ("ZMQ_FD: %s, the same on each read: %s\n",
            fd >= 0 ? "fd ok" : "negative", fd == fd2 ? "yes" : "no");
    int fl = fcntl (fd, F_GETFL);
    printf ("ZMQ_FD is %s\n", fl == -1 ? "not open" : "open");
    int tries = 0;
    while (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN || fd_readable (fd, 0))
        if (++tries > 10)
            break;
    printf ("idle: ZMQ_EVENTS %d, ZMQ_FD readable %s\n",
            get_int (pull, ZMQ_EVENTS), fd_readable (fd, 100) ? "yes" : "no");
    zmq_send (push, "a", 1, 0);
    printf ("after a message: ZMQ_FD readable %s\n",
            fd_readable (fd, 2000) ? "yes" : "no");
    printf ("  ZMQ_EVENTS %d\n", get_int (pull, ZMQ_EVENTS));
    printf ("  ZMQ_EVENTS again %d\n", get_int (pull, ZMQ_EVENTS));
    printf ("  recv %s\n", recv_text (pull, ZMQ_DONTWAIT));
    printf ("  ZMQ_EVENTS %d, ZMQ_FD readable %s\n",
            get_int (pull, ZMQ_EVENTS), fd_readable (fd, 50) ? "yes" : "no");
    zmq_send (push, "b", 1, 0);
    zmq_send (push, "c", 1, 0);
    printf ("after two messages: ZMQ_FD readable %s\n",
            fd_readable (fd, 2000) ? "yes" : "no");
    int n = 0;
    while (get_int (pull, ZMQ_EVENTS) & ZMQ_POLLIN) {
        recv_text (pull, ZMQ_DONTWAIT);
        n++;
    }
    printf ("  read while ZMQ_EVENTS has POLLIN: %d messages\n", n);
    printf ("  ZMQ_FD readable %s\n", fd_readable (fd, 50) ? "yes" : "no");
    /* The sender's fd tells that room came back. */
    int pfd = get_int (push, ZMQ_FD);
    printf ("PUSH ZMQ_EVENTS %d\n", get_int (push, ZMQ_EVENTS));
    zmq_close (push);
    printf ("peer closed: PULL ZMQ_EVENTS %d\n", get_int (pull, ZMQ_EVENTS));
    (void) pfd;
    zmq_close (pull);
}

/* ------------------------------------------------------------------ */
/* ETERM                                                                */

static void shutdown_ctx (void *c)
{
    zmq_ctx_shutdown (c);
}

static void term_cases (void)
{
    void *c = zmq_ctx_new ();
    void *s = sock (c, ZMQ_PULL);
    char ep[256];
    bind_on (s, "inproc", ep, sizeof ep);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    struct later l = {150, shutdown_ctx, c};
    pthread_t t = run_later (&l);
    int64_t t0 = now_ms ();
    errno = 0;
    int rc = zmq_poll (&it, 1, -1);
    printf ("zmq_poll(-1), context shut down after 150 ms %s, %s\n",
            rcs (rc, errno), within (now_ms () - t0, 100, 3000));
    pthread_join (t, NULL);
    errno = 0;
    rc = zmq_poll (&it, 1, 0);
    printf ("zmq_poll(0) after shutdown %s\n", rcs (rc, errno));
    it.events = 0;
    errno = 0;
    rc = zmq_poll (&it, 1, 0);
    printf ("zmq_poll(0, no events) after shutdown %s\n", rcs (rc, errno));
    errno = 0;
    rc = get_int (s, ZMQ_EVENTS);
    printf ("ZMQ_EVENTS after shutdown %s\n",
            rc == -1 ? errname (errno) : "readable");
    zmq_close (s);
    zmq_ctx_term (c);

    c = zmq_ctx_new ();
    s = sock (c, ZMQ_PULL);
    bind_on (s, "inproc", ep, sizeof ep);
    l.arg = c;
    t = run_later (&l);
    t0 = now_ms ();
    errno = 0;
    char buf[8];
    rc = zmq_recv (s, buf, sizeof buf, 0);
    printf ("zmq_recv, context shut down after 150 ms %s, %s\n",
            rcs (rc, errno), within (now_ms () - t0, 100, 3000));
    pthread_join (t, NULL);
    zmq_close (s);
    zmq_ctx_term (c);
}

/* ------------------------------------------------------------------ */
/* Signals: blocking calls return EINTR                                 */

static volatile sig_atomic_t signals_seen;

static void on_usr1 (int sig)
{
    (void) sig;
    signals_seen++;
}

static pthread_t main_thread;

static void kill_main (void *unused)
{
    (void) unused;
    pthread_kill (main_thread, SIGUSR1);
}

static void install_usr1 (int restart)
{
    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset (&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction (SIGUSR1, &sa, NULL);
}

/* Runs `call` while a signal arrives after 150 ms; prints its outcome. */
#define INTERRUPTED(label, call)                                               \
    do {                                                                       \
        struct later l_ = {150, kill_main, NULL};                              \
        int seen_ = signals_seen;                                              \
        pthread_t t_ = run_later (&l_);                                        \
        int64_t t0_ = now_ms ();                                               \
        errno = 0;                                                             \
        int rc_ = (call);                                                      \
        int e_ = errno;                                                        \
        int64_t el_ = now_ms () - t0_;                                         \
        pthread_join (t_, NULL);                                               \
        printf ("%s, signal after 150 ms %s, %s, handler ran %s\n", label,     \
                rcs (rc_, e_), within (el_, 100, 2500),                        \
                signals_seen > seen_ ? "yes" : "no");                          \
    } while (0)

struct proxy_args
{
    void *front, *back, *capture, *control;
    int rc, err;
};

static void interrupts (int restart)
{
    install_usr1 (restart);
    const char *how = restart ? "SA_RESTART" : "no SA_RESTART";
    printf ("signal handler with %s:\n", how);
    char ep[256], buf[16];
    void *pull = sock (ctx, ZMQ_PULL);
    bind_on (pull, "inproc", ep, sizeof ep);
    void *push = sock (ctx, ZMQ_PUSH);
    char ep2[256];
    bind_on (push, "inproc", ep2, sizeof ep2); /* no peer: cannot send */

    /* With nothing to poll, zmq_poll sleeps; a signal cuts the sleep
     * short and the call still returns 0. */
    INTERRUPTED ("  zmq_poll(NULL, 0, -1)", zmq_poll (NULL, 0, -1));
    INTERRUPTED ("  zmq_poll(NULL, 0, 2000)", zmq_poll (NULL, 0, 2000));
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
    INTERRUPTED ("  zmq_poll(socket, -1)", zmq_poll (&it, 1, -1));
    INTERRUPTED ("  zmq_poll(socket, 2000)", zmq_poll (&it, 1, 2000));
    int fds[2];
    if (pipe (fds) != 0)
        exit (1);
    zmq_pollitem_t fit = {NULL, fds[0], ZMQ_POLLIN, 0};
    INTERRUPTED ("  zmq_poll(fd, -1)", zmq_poll (&fit, 1, -1));
    close (fds[0]);
    close (fds[1]);
    INTERRUPTED ("  zmq_recv", zmq_recv (pull, buf, sizeof buf, 0));
    zmq_msg_t m;
    zmq_msg_init (&m);
    INTERRUPTED ("  zmq_msg_recv", zmq_msg_recv (&m, pull, 0));
    set_int (pull, ZMQ_RCVTIMEO, 2000);
    INTERRUPTED ("  zmq_recv with RCVTIMEO 2000",
                 zmq_recv (pull, buf, sizeof buf, 0));
    INTERRUPTED ("  zmq_send on a PUSH without peers",
                 zmq_send (push, "x", 1, 0));
    zmq_msg_init_size (&m, 1);
    INTERRUPTED ("  zmq_msg_send on a PUSH without peers",
                 zmq_msg_send (&m, push, 0));
    zmq_msg_close (&m);

    /* The socket works after the interruption. */
    void *push2 = sock (ctx, ZMQ_PUSH);
    zmq_connect (push2, ep);
    zmq_send (push2, "after", 5, 0);
    printf ("  then recv %s\n", recv_text (pull, 0));
    zmq_close (push2);

    /* zmq_proxy, idle. */
    void *front = sock (ctx, ZMQ_PULL);
    void *back = sock (ctx, ZMQ_PUSH);
    bind_on (front, "inproc", ep, sizeof ep);
    bind_on (back, "inproc", ep, sizeof ep);
    INTERRUPTED ("  zmq_proxy", zmq_proxy (front, back, NULL));
    void *ctl = sock (ctx, ZMQ_PAIR);
    bind_on (ctl, "inproc", ep, sizeof ep);
    INTERRUPTED ("  zmq_proxy_steerable",
                 zmq_proxy_steerable (front, back, NULL, ctl));
    zmq_close (ctl);
    zmq_close (front);
    zmq_close (back);
    zmq_close (push);
    zmq_close (pull);
    signal (SIGUSR1, SIG_IGN);
}

/* ------------------------------------------------------------------ */
/* zmq_proxy                                                            */

static void *proxy_main (void *p)
{
    struct proxy_args *a = p;
    errno = 0;
    if (a->control)
        a->rc = zmq_proxy_steerable (a->front, a->back, a->capture,
                                     a->control);
    else
        a->rc = zmq_proxy (a->front, a->back, a->capture);
    a->err = errno;
    return NULL;
}

static void *device_main (void *p)
{
    struct proxy_args *a = p;
    errno = 0;
    a->rc = zmq_device (ZMQ_QUEUE, a->front, a->back);
    a->err = errno;
    return NULL;
}

static void print_stats (void *ctl, const char *label)
{
    zmq_send (ctl, "STATISTICS", 10, 0);
    printf ("%s STATISTICS:", label);
    for (int i = 0; i < 8; i++) {
        uint64_t v = 0;
        int rc = zmq_recv (ctl, &v, sizeof v, 0);
        int more = get_int (ctl, ZMQ_RCVMORE);
        if (rc != (int) sizeof v)
            printf (" (frame %d: %s)", i, rcs (rc, errno));
        else
            printf (" %llu%s", (unsigned long long) v, more ? "" : ".");
    }
    printf ("\n");
}

/* Reads everything queued on `s` within a short wait, as one line. */
static void drain_line (void *s, const char *label)
{
    printf ("%s:", label);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    while (zmq_poll (&it, 1, 200) == 1)
        printf (" %s", recv_text (s, ZMQ_DONTWAIT));
    printf ("\n");
}

static void proxies (void)
{
    void *s = sock (ctx, ZMQ_PAIR);
    errno = 0;
    int rc = zmq_proxy (NULL, s, NULL);
    printf ("zmq_proxy(NULL, socket, NULL) %s\n", rcs (rc, errno));
    errno = 0;
    rc = zmq_proxy (s, NULL, NULL);
    printf ("zmq_proxy(socket, NULL, NULL) %s\n", rcs (rc, errno));
    errno = 0;
    rc = zmq_proxy_steerable (NULL, NULL, NULL, s);
    printf ("zmq_proxy_steerable(NULL, NULL, NULL, socket) %s\n",
            rcs (rc, errno));
    /* Not tried: zmq_device with a NULL socket, which libzmq does not
     * check (it spins); ours gives EFAULT (capi-tests/bad_input.c). */
    zmq_close (s);

    /* Both directions, a capture socket, and every control command. */
    char fe[256], be[256], ce[256], ke[256];
    struct proxy_args a = {sock (ctx, ZMQ_PAIR), sock (ctx, ZMQ_PAIR),
                           sock (ctx, ZMQ_PUSH), sock (ctx, ZMQ_PAIR), 0, 0};
    bind_on (a.front, "inproc", fe, sizeof fe);
    bind_on (a.back, "inproc", be, sizeof be);
    bind_on (a.capture, "inproc", ke, sizeof ke);
    bind_on (a.control, "inproc", ce, sizeof ce);
    void *client = sock (ctx, ZMQ_PAIR);
    void *server = sock (ctx, ZMQ_PAIR);
    void *cap = sock (ctx, ZMQ_PULL);
    void *ctl = sock (ctx, ZMQ_PAIR);
    set_int (client, ZMQ_RCVTIMEO, 3000);
    set_int (server, ZMQ_RCVTIMEO, 3000);
    set_int (ctl, ZMQ_RCVTIMEO, 3000);
    zmq_connect (client, fe);
    zmq_connect (server, be);
    zmq_connect (cap, ke);
    zmq_connect (ctl, ce);
    pthread_t t;
    pthread_create (&t, NULL, proxy_main, &a);

    zmq_send (client, "a", 1, 0);
    printf ("steerable: server recv %s\n", recv_text (server, 0));
    zmq_send (client, "bb", 2, ZMQ_SNDMORE);
    zmq_send (client, "ccc", 3, 0);
    printf ("steerable: server recv %s", recv_text (server, 0));
    printf (", %s\n", recv_text (server, 0));
    zmq_send (server, "reply", 5, 0);
    printf ("steerable: client recv %s\n", recv_text (client, 0));
    print_stats (ctl, "steerable:");
    zmq_send (ctl, "PAUSE", 5, 0);
    /* Its answer means PAUSE (sent before) was handled. */
    print_stats (ctl, "steerable: paused,");
    zmq_send (client, "held", 4, 0);
    zmq_pollitem_t it = {server, 0, ZMQ_POLLIN, 0};
    rc = zmq_poll (&it, 1, 200);
    printf ("steerable: paused, message waiting 200 ms: zmq_poll %s\n",
            rcs (rc, errno));
    zmq_send (ctl, "RESUME", 6, 0);
    printf ("steerable: resumed, server recv %s\n", recv_text (server, 0));
    zmq_send (ctl, "TERMINATE", 9, 0);
    printf ("steerable: TERMINATE: proxy %s\n",
            join_within (t, 3000) == 0 ? "returned" : "still running");
    printf ("steerable: zmq_proxy_steerable %s\n", rcs (a.rc, a.err));
    drain_line (cap, "steerable: capture saw");
    zmq_close (client);
    zmq_close (server);
    zmq_close (cap);
    zmq_close (ctl);
    zmq_close (a.front);
    zmq_close (a.back);
    zmq_close (a.capture);
    zmq_close (a.control);

    /* One socket as both frontend and backend: an echo. */
    struct proxy_args e = {sock (ctx, ZMQ_PAIR), NULL, NULL,
                           sock (ctx, ZMQ_PAIR), 0, 0};
    e.back = e.front;
    bind_on (e.front, "inproc", fe, sizeof fe);
    bind_on (e.control, "inproc", ce, sizeof ce);
    client = sock (ctx, ZMQ_PAIR);
    ctl = sock (ctx, ZMQ_PAIR);
    set_int (client, ZMQ_RCVTIMEO, 3000);
    set_int (ctl, ZMQ_RCVTIMEO, 3000);
    zmq_connect (client, fe);
    zmq_connect (ctl, ce);
    pthread_create (&t, NULL, proxy_main, &e);
    zmq_send (client, "echo", 4, 0);
    printf ("same socket both ends: client recv %s\n", recv_text (client, 0));
    print_stats (ctl, "same socket both ends:");
    zmq_send (ctl, "TERMINATE", 9, 0);
    printf ("same socket both ends: TERMINATE: proxy %s, %s\n",
            join_within (t, 3000) == 0 ? "returned" : "still running",
            rcs (e.rc, e.err));
    zmq_close (client);
    zmq_close (ctl);
    zmq_close (e.front);
    zmq_close (e.control);

    /* A backend that cannot send (a PUSH without peers): the proxy keeps
     * the message and still obeys its control socket. */
    struct proxy_args b = {sock (ctx, ZMQ_PULL), sock (ctx, ZMQ_PUSH), NULL,
                           sock (ctx, ZMQ_PAIR), 0, 0};
    bind_on (b.front, "inproc", fe, sizeof fe);
    bind_on (b.back, "inproc", be, sizeof be);
    bind_on (b.control, "inproc", ce, sizeof ce);
    void *in = sock (ctx, ZMQ_PUSH);
    ctl = sock (ctx, ZMQ_PAIR);
    set_int (ctl, ZMQ_RCVTIMEO, 3000);
    zmq_connect (in, fe);
    zmq_connect (ctl, ce);
    pthread_create (&t, NULL, proxy_main, &b);
    zmq_send (in, "stuck", 5, 0);
    msleep (100);
    print_stats (ctl, "backend cannot send:");
    void *out = sock (ctx, ZMQ_PULL);
    set_int (out, ZMQ_RCVTIMEO, 3000);
    zmq_connect (out, be);
    printf ("backend cannot send: a peer connects, it recv %s\n",
            recv_text (out, 0));
    print_stats (ctl, "backend cannot send:");
    zmq_send (ctl, "TERMINATE", 9, 0);
    int joined = join_within (t, 3000);
    printf ("backend cannot send: TERMINATE: proxy %s\n",
            joined == 0 ? "returned" : "still running");
    zmq_close (in);
    zmq_close (out);
    zmq_close (ctl);
    if (joined != 0) {
        /* Unblock it the hard way before closing its sockets. */
        zmq_ctx_shutdown (ctx);
        pthread_join (t, NULL);
    }
    zmq_close (b.front);
    zmq_close (b.back);
    zmq_close (b.control);
    if (joined != 0) {
        zmq_ctx_term (ctx);
        ctx = zmq_ctx_new ();
    }

    /* zmq_device forwards both ways and returns ETERM at the end. */
    void *c = zmq_ctx_new ();
    struct proxy_args d = {sock (c, ZMQ_ROUTER), sock (c, ZMQ_DEALER), NULL,
                           NULL, 0, 0};
    bind_on (d.front, "inproc", fe, sizeof fe);
    bind_on (d.back, "inproc", be, sizeof be);
    void *req = sock (c, ZMQ_REQ);
    void *rep = sock (c, ZMQ_REP);
    set_int (req, ZMQ_RCVTIMEO, 3000);
    set_int (rep, ZMQ_RCVTIMEO, 3000);
    zmq_connect (req, fe);
    zmq_connect (rep, be);
    pthread_create (&t, NULL, device_main, &d);
    zmq_send (req, "ping", 4, 0);
    printf ("zmq_device(ZMQ_QUEUE): REP recv %s\n", recv_text (rep, 0));
    zmq_send (rep, "pong", 4, 0);
    printf ("zmq_device(ZMQ_QUEUE): REQ recv %s\n", recv_text (req, 0));
    zmq_close (req);
    zmq_close (rep);
    zmq_ctx_shutdown (c);
    printf ("zmq_device: context shut down: device %s",
            join_within (t, 3000) == 0 ? "returned" : "still running");
    printf (", %s\n", rcs (d.rc, d.err));
    zmq_close (d.front);
    zmq_close (d.back);
    zmq_ctx_term (c);
}

/* ------------------------------------------------------------------ */
/* Message properties                                                   */

static void print_property (const char *label, zmq_msg_t *m, const char *name)
{
    errno = 0;
    const char *v = zmq_msg_gets (m, name);
    if (!v) {
        printf ("%s gets(\"%s\") -> %s\n", label, name, errname (errno));
        return;
    }
    /* Peer addresses of ipc carry ids of this run: print their shape. */
    char shape[256];
    size_t k = 0;
    for (const char *p = v; *p && k < sizeof shape - 1; p++) {
        if (isdigit ((unsigned char) *p)) {
            if (k == 0 || shape[k - 1] != 'N')
                shape[k++] = 'N';
        } else
            shape[k++] = *p;
    }
    shape[k] = 0;
    if (strcmp (name, "Peer-Address") == 0 && strchr (v, ':'))
        printf ("%s gets(\"%s\") = shape \"%s\"\n", label, name, shape);
    else
        printf ("%s gets(\"%s\") = \"%s\"\n", label, name, v);
}

static void print_props (const char *label, zmq_msg_t *m)
{
    const char *names[] = {"Socket-Type", "socket-type", "Peer-Address",
                           "User-Id",     "Routing-Id",  "Identity",
                           "X-Color",     "x-color",     "X-Missing"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        print_property (label, m, names[i]);
    /* libzmq answers -1 without setting errno when there is no fd. */
    int fd = zmq_msg_get (m, ZMQ_SRCFD);
    printf ("%s get(ZMQ_SRCFD) %s\n", label,
            fd >= 0 ? "= fd ok" : fd == -1 ? "= -1" : "= other negative");
    printf ("%s get(ZMQ_MORE) = %d, zmq_msg_more = %d, get(ZMQ_SHARED) = %d\n",
            label, zmq_msg_get (m, ZMQ_MORE), zmq_msg_more (m),
            zmq_msg_get (m, ZMQ_SHARED));
}

static void properties (void)
{
    for (int k = 0; k < 3; k++) {
        const char *tr = transports[k];
        char ep[256], label[64];
        void *router = sock (ctx, ZMQ_ROUTER);
        set_int (router, ZMQ_RCVTIMEO, 3000);
        bind_on (router, tr, ep, sizeof ep);
        for (int named = 0; named < 2; named++) {
            void *dealer = sock (ctx, ZMQ_DEALER);
            set_int (dealer, ZMQ_RCVTIMEO, 3000);
            if (named)
                zmq_setsockopt (dealer, ZMQ_ROUTING_ID, "abc", 3);
            errno = 0;
            int rc = zmq_setsockopt (dealer, OPT_METADATA, "X-Color:red", 11);
            if (named == 0)
                printf ("%s: set ZMQ_METADATA(\"X-Color:red\") %s\n", tr,
                        rcs (rc, errno));
            zmq_connect (dealer, ep);
            zmq_send (dealer, "hello", 5, ZMQ_SNDMORE);
            zmq_send (dealer, "world", 5, 0);
            zmq_msg_t id, body, body2;
            zmq_msg_init (&id);
            zmq_msg_init (&body);
            zmq_msg_init (&body2);
            zmq_msg_recv (&id, router, 0);
            zmq_msg_recv (&body, router, 0);
            zmq_msg_recv (&body2, router, 0);
            const char *who = named ? "DEALER with id" : "DEALER";
            snprintf (label, sizeof label, "%s: %s -> ROUTER, id frame:", tr,
                      who);
            print_props (label, &id);
            snprintf (label, sizeof label, "%s: %s -> ROUTER, frame 1:", tr,
                      who);
            print_props (label, &body);
            snprintf (label, sizeof label, "%s: %s -> ROUTER, frame 2:", tr,
                      who);
            print_props (label, &body2);
            zmq_msg_send (&id, router, ZMQ_SNDMORE);
            zmq_send (router, "back", 4, 0);
            zmq_msg_t reply;
            zmq_msg_init (&reply);
            zmq_msg_recv (&reply, dealer, 0);
            snprintf (label, sizeof label, "%s: ROUTER -> %s:", tr, who);
            print_props (label, &reply);
            zmq_msg_close (&id);
            zmq_msg_close (&body);
            zmq_msg_close (&body2);
            zmq_msg_close (&reply);
            zmq_close (dealer);
        }
        zmq_close (router);
    }

    /* Properties of messages that never crossed a socket. */
    zmq_msg_t m, copy;
    zmq_msg_init_size (&m, 10);
    print_props ("local 10 bytes:", &m);
    errno = 0;
    int rc = zmq_msg_get (&m, 999);
    printf ("local: get(999) %s\n", rcs (rc, errno));
    errno = 0;
    rc = zmq_msg_set (&m, ZMQ_MORE, 1);
    printf ("local: set(ZMQ_MORE, 1) %s\n", rcs (rc, errno));
    errno = 0;
    rc = zmq_msg_set (&m, ZMQ_SHARED, 1);
    printf ("local: set(ZMQ_SHARED, 1) %s\n", rcs (rc, errno));
    size_t sizes[] = {0, 10, 100, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        zmq_msg_close (&m);
        zmq_msg_init_size (&m, sizes[i]);
        int before = zmq_msg_get (&m, ZMQ_SHARED);
        zmq_msg_init (&copy);
        zmq_msg_copy (&copy, &m);
        printf ("%zu bytes: ZMQ_SHARED %d, after zmq_msg_copy %d and %d", sizes[i],
                before, zmq_msg_get (&m, ZMQ_SHARED),
                zmq_msg_get (&copy, ZMQ_SHARED));
        zmq_msg_close (&copy);
        printf (", after closing the copy %d\n", zmq_msg_get (&m, ZMQ_SHARED));
    }
    zmq_msg_close (&m);
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    signal (SIGALRM, on_watchdog);
    alarm (90);
    main_thread = pthread_self ();
    ctx = zmq_ctx_new ();
    poll_arguments ();
    poll_timeouts ();
    poll_transports ();
    fd_contract ();
    term_cases ();
    interrupts (0);
    interrupts (1);
    proxies ();
    properties ();
    zmq_ctx_term (ctx);
    return 0;
}
