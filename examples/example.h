/* Small helpers shared by the examples (not part of the zmq API).
 *
 * Every example runs in one of two ways:
 *
 *   EXAMPLE [inproc|tcp|ipc]
 *       all its parties, as threads of this one process, over that
 *       transport (inproc by default);
 *
 *   EXAMPLE ROLE [--bind|--connect] ENDPOINT... [ARG...]
 *       one party, in this process; run the other parties as other
 *       processes, with the same endpoints. Each role binds or connects
 *       by default as in the zguide (the stable party binds); --bind and
 *       --connect swap that, since ZeroMQ does not care which side binds.
 *       A binder prints "ROLE: WHAT bound to ENDPOINT" for each endpoint,
 *       so `tcp://127.0.0.1:*` (any free port) works: read the port back
 *       from that line and give it to the connectors.
 *
 * Every party checks what it receives and exits non-zero when a message is
 * wrong or missing; every wait is bounded by TIMEOUT_MS. */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <zmq.h>

/* Not every example uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long any party waits for a message before giving up. */
#define TIMEOUT_MS 10000

static const char *transport = "inproc";

static int is_transport (const char *s)
{
    return !strcmp (s, "inproc") || !strcmp (s, "tcp") || !strcmp (s, "ipc");
}

static void die (const char *what)
{
    fprintf (stderr, "%s: %s\n", what, zmq_strerror (zmq_errno ()));
    exit (1);
}

/* Output goes to files and pipes when the examples run as processes:
 * flush each line as it is written, so nothing is lost or held back. */
static void line_buffered_stdout (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
}

/* One-process mode: binds `s` to a fresh address named after `name` on
 * `transport` and writes the address peers should connect to into `out`
 * (ZMQ_LAST_ENDPOINT, which holds the port picked for tcp's `*`). */
static void bind_named (void *s, const char *name, char *out, size_t n)
{
    char ep[256];
    if (strcmp (transport, "tcp") == 0)
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:*"); /* any free port */
    else if (strcmp (transport, "ipc") == 0)
        snprintf (ep, sizeof ep, "ipc:///tmp/ferrozmq-example-%s-%d", name,
                  (int) getpid ());
    else
        snprintf (ep, sizeof ep, "inproc://%s", name);
    if (zmq_bind (s, ep) != 0)
        die (ep);
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &n) != 0)
        die ("ZMQ_LAST_ENDPOINT");
}

/* A party run as its own process, from its command line:
 * ROLE [--bind|--connect] ARG... */
struct party
{
    const char *role;
    int bind;    /* 1: bind its endpoints, 0: connect them */
    int argc;    /* the ARGs: endpoints first, then the role's extras */
    char **argv;
};

/* Parses the command line of a party whose role binds by default when
 * `binds` is set; fewer than `min_args` ARGs is a usage error. */
static struct party parse_party (int argc, char **argv, int binds,
                                 int min_args, const char *usage)
{
    struct party p = {argv[1], binds, argc - 2, argv + 2};
    if (p.argc > 0 && !strcmp (p.argv[0], "--bind")) {
        p.bind = 1;
        p.argc--, p.argv++;
    } else if (p.argc > 0 && !strcmp (p.argv[0], "--connect")) {
        p.bind = 0;
        p.argc--, p.argv++;
    }
    if (p.argc < min_args) {
        fprintf (stderr, "%s", usage);
        exit (2);
    }
    return p;
}

/* Binds or connects `s` to `ep`, and says so. A binder prints the endpoint
 * it really got, which is what connectors need for tcp://host:*. */
static void attach (void *s, const char *ep, int bind, const char *who,
                    const char *what)
{
    if (bind) {
        char real[256];
        size_t n = sizeof real;
        if (zmq_bind (s, ep) != 0)
            die (ep);
        if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, real, &n) != 0)
            die ("ZMQ_LAST_ENDPOINT");
        printf ("%s: %s bound to %s\n", who, what, real);
    } else {
        if (zmq_connect (s, ep) != 0)
            die (ep);
        printf ("%s: %s connecting to %s\n", who, what, ep);
    }
}

/* Bounds every wait on `s`: a lost peer or message makes a send or receive
 * fail with EAGAIN instead of hanging, and closing it drops what could not
 * be delivered after that long (ZMQ_LINGER) instead of blocking
 * zmq_ctx_term forever. */
static void set_timeouts (void *s)
{
    int ms = TIMEOUT_MS;
    zmq_setsockopt (s, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_setsockopt (s, ZMQ_SNDTIMEO, &ms, sizeof ms);
    zmq_setsockopt (s, ZMQ_LINGER, &ms, sizeof ms);
}

static void *wait_for_interrupt (void *ctx)
{
    sigset_t set;
    int sig;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    if (sigwait (&set, &sig) == 0)
        zmq_ctx_shutdown (ctx);
    return NULL;
}

/* A context for a party that serves until it is told to stop (a broker,
 * a worker): on SIGINT (Ctrl-C) or SIGTERM, the context is shut down, so
 * its blocking calls fail with ETERM and the party closes and exits
 * cleanly. The signals are blocked in every thread but one that waits
 * for them, so this must run before any other thread is started. */
static void *context_until_interrupted (void)
{
    sigset_t set;
    sigemptyset (&set);
    sigaddset (&set, SIGINT);
    sigaddset (&set, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &set, NULL);
    void *ctx = zmq_ctx_new ();
    pthread_t t;
    pthread_create (&t, NULL, wait_for_interrupt, ctx);
    pthread_detach (t);
    return ctx;
}

static void sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

/* Receives one frame as a C string; returns -1 (errno in zmq_errno) on
 * failure, e.g. ETERM when the context is being terminated or EAGAIN
 * after TIMEOUT_MS. */
static int recv_string (void *s, char *buf, size_t n)
{
    int rc = zmq_recv (s, buf, n - 1, 0);
    if (rc < 0)
        return -1;
    if (rc > (int) n - 1)
        rc = (int) n - 1;
    buf[rc] = 0;
    return rc;
}

static int send_string (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

/* Whether the last frame received on `s` has more frames after it. */
static int more_frames (void *s)
{
    int more = 0;
    size_t n = sizeof more;
    zmq_getsockopt (s, ZMQ_RCVMORE, &more, &n);
    return more;
}

#endif
