/* Shared helpers for the C API pattern tests.
 *
 * Every test must pass against the reference libzmq 4.3 first, so these
 * helpers use only the public zmq.h API plus POSIX.  A failed check prints
 * "FAIL: file:line: what" and exits 1, which the Rust harness reports. */
#ifndef FERRO_TESTUTIL_H
#define FERRO_TESTUTIL_H

#define _GNU_SOURCE
/* Not every test uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Generous enough for a loaded 2-core CI box, short enough that a lost
 * message fails the test instead of hanging it. */
#define TU_TIMEOUT_MS 2000
/* Time for asynchronous work (subscriptions, attaches) to settle. libzmq's
 * own tests rely on a settle sleep for PUB/SUB, so do we. */
#define SETTLE_MS 100

static const char *tu_current = "";

static void tu_fail (const char *file, int line, const char *what)
{
    int e = errno;
    printf ("FAIL: %s:%d: %s [test %s, errno %d: %s]\n", file, line, what,
            tu_current, e, zmq_strerror (e));
    fflush (stdout);
    exit (1);
}

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            tu_fail (__FILE__, __LINE__, #cond);                               \
    } while (0)

/* A call that must succeed (not return -1 / NULL). */
#define OK(expr)                                                               \
    do {                                                                       \
        if ((expr) == -1)                                                      \
            tu_fail (__FILE__, __LINE__, #expr " returned -1");                \
    } while (0)

/* A call that must fail with a given errno. */
#define FAILS_WITH(expr, err)                                                  \
    do {                                                                       \
        errno = 0;                                                             \
        int tu_rc_ = (int) (expr);                                             \
        int tu_e_ = zmq_errno ();                                              \
        if (tu_rc_ != -1 || tu_e_ != (err)) {                                  \
            char tu_b_[256];                                                   \
            snprintf (tu_b_, sizeof tu_b_,                                     \
                      "%s: expected -1/%s, got rc=%d errno=%d (%s)", #expr,   \
                      #err, tu_rc_, tu_e_, zmq_strerror (tu_e_));              \
            tu_fail (__FILE__, __LINE__, tu_b_);                               \
        }                                                                      \
    } while (0)

#define CHECK_INT(actual, expected)                                            \
    do {                                                                       \
        long long tu_a_ = (long long) (actual);                                \
        long long tu_x_ = (long long) (expected);                              \
        if (tu_a_ != tu_x_) {                                                  \
            char tu_b_[256];                                                   \
            snprintf (tu_b_, sizeof tu_b_, "%s == %lld, expected %lld",        \
                      #actual, tu_a_, tu_x_);                                  \
            tu_fail (__FILE__, __LINE__, tu_b_);                               \
        }                                                                      \
    } while (0)

/* Runs one test case; a hang anywhere is caught by the alarm in tu_init. */
#define RUN(fn)                                                                \
    do {                                                                       \
        tu_current = #fn;                                                      \
        fn ();                                                                 \
        printf ("ok %s\n", #fn);                                               \
        fflush (stdout);                                                       \
    } while (0)

/* RUN, unless the case is named in $TU_SKIP (comma-separated), so the
 * cases after a failing one can still be looked at by hand. */
#define RUN_UNLESS_SKIPPED(fn)                                                 \
    do {                                                                       \
        const char *tu_skip_ = getenv ("TU_SKIP");                             \
        if (tu_skip_ && strstr (tu_skip_, #fn)) {                              \
            printf ("skipped %s\n", #fn);                                     \
            break;                                                             \
        }                                                                      \
        RUN (fn);                                                              \
    } while (0)

static void tu_on_alarm (int sig)
{
    (void) sig;
    static const char m[] = "FAIL: watchdog: test did not finish in time\n";
    ssize_t r = write (1, m, sizeof m - 1);
    (void) r;
    _exit (1);
}

/* Transport used by bind_ep/connect helpers: "inproc" unless argv[1] names
 * another ("tcp", "ipc"), so the same pattern tests can later cover wires. */
static const char *tu_transport = "inproc";

static void tu_init (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    signal (SIGALRM, tu_on_alarm);
    alarm (45);
    if (argc > 1 && argv[1][0])
        tu_transport = argv[1];
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

static void set_int_ (const char *file, int line, void *s, int opt, int v,
                     const char *name)
{
    if (zmq_setsockopt (s, opt, &v, sizeof v) != 0) {
        char b[128];
        snprintf (b, sizeof b, "zmq_setsockopt(%s, %d)", name, v);
        tu_fail (file, line, b);
    }
}
#define set_int(s, opt, v) set_int_ (__FILE__, __LINE__, s, opt, v, #opt)

static int get_int_ (const char *file, int line, void *s, int opt,
                     const char *name)
{
    int v = -12345;
    size_t sz = sizeof v;
    if (zmq_getsockopt (s, opt, &v, &sz) != 0) {
        char b[128];
        snprintf (b, sizeof b, "zmq_getsockopt(%s)", name);
        tu_fail (file, line, b);
    }
    return v;
}
#define get_int(s, opt) get_int_ (__FILE__, __LINE__, s, opt, #opt)

/* A socket whose blocking calls give up, so a lost message fails fast. */
static void *tsock (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    if (!s)
        tu_fail (__FILE__, __LINE__, "zmq_socket");
    set_int (s, ZMQ_RCVTIMEO, TU_TIMEOUT_MS);
    set_int (s, ZMQ_SNDTIMEO, TU_TIMEOUT_MS);
    set_int (s, ZMQ_LINGER, 0);
    return s;
}

static void tclose (void *s)
{
    if (zmq_close (s) != 0)
        tu_fail (__FILE__, __LINE__, "zmq_close");
}

/* Unique inproc names per process and call, so cases never collide. */
static void unique_name (char *out, size_t n, const char *tag)
{
    static int counter = 0;
    snprintf (out, n, "inproc://%s-%d-%d", tag, (int) getpid (), ++counter);
}

/* Binds on the current transport; `out` receives the address to connect to
 * (for tcp the wildcard port resolved through ZMQ_LAST_ENDPOINT). */
static void bind_ep (void *s, const char *tag, char *out, size_t n)
{
    if (strcmp (tu_transport, "inproc") == 0) {
        unique_name (out, n, tag);
    } else if (strcmp (tu_transport, "tcp") == 0) {
        snprintf (out, n, "tcp://127.0.0.1:*");
    } else if (strcmp (tu_transport, "ipc") == 0) {
        static int c = 0;
        snprintf (out, n, "ipc:///tmp/ferro-%s-%d-%d", tag, (int) getpid (),
                  ++c);
    } else {
        snprintf (out, n, "%s", tu_transport);
    }
    if (zmq_bind (s, out) != 0)
        tu_fail (__FILE__, __LINE__, out);
    size_t sz = n;
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &sz) != 0)
        tu_fail (__FILE__, __LINE__, "ZMQ_LAST_ENDPOINT");
}

static void connect_ep (void *s, const char *ep)
{
    if (zmq_connect (s, ep) != 0)
        tu_fail (__FILE__, __LINE__, ep);
}

static void send_str_ (const char *file, int line, void *s, const char *str,
                       int flags)
{
    int len = (int) strlen (str);
    int rc = zmq_send (s, str, len, flags);
    if (rc != len) {
        char b[256];
        snprintf (b, sizeof b, "zmq_send(\"%s\") returned %d", str, rc);
        tu_fail (file, line, b);
    }
}
#define send_str(s, str, flags) send_str_ (__FILE__, __LINE__, s, str, flags)

/* Receives one frame and checks its content and whether more follow
 * (more: 1 = must follow, 0 = must be last, -1 = don't care). */
static void recv_expect_ (const char *file, int line, void *s,
                          const char *expected, int more)
{
    char buf[1024];
    int rc = zmq_recv (s, buf, sizeof buf - 1, 0);
    if (rc < 0) {
        char b[256];
        snprintf (b, sizeof b, "zmq_recv expecting \"%s\" failed", expected);
        tu_fail (file, line, b);
    }
    if (rc > (int) sizeof buf - 1)
        rc = sizeof buf - 1;
    buf[rc] = 0;
    if ((size_t) rc != strlen (expected) || memcmp (buf, expected, rc) != 0) {
        char b[1200];
        snprintf (b, sizeof b, "received \"%s\" (%d bytes), expected \"%s\"",
                  buf, rc, expected);
        errno = 0;
        tu_fail (file, line, b);
    }
    if (more >= 0) {
        int m = get_int (s, ZMQ_RCVMORE);
        if (m != more) {
            char b[256];
            snprintf (b, sizeof b, "RCVMORE after \"%s\" is %d, expected %d",
                      expected, m, more);
            errno = 0;
            tu_fail (file, line, b);
        }
    }
}
#define recv_expect(s, exp, more)                                              \
    recv_expect_ (__FILE__, __LINE__, s, exp, more)

/* Receives one frame into a NUL-terminated string; returns its length. */
static int recv_str_ (const char *file, int line, void *s, char *buf,
                      size_t n)
{
    int rc = zmq_recv (s, buf, n - 1, 0);
    if (rc < 0)
        tu_fail (file, line, "zmq_recv");
    if (rc > (int) n - 1)
        rc = (int) n - 1;
    buf[rc] = 0;
    return rc;
}
#define recv_str(s, buf, n) recv_str_ (__FILE__, __LINE__, s, buf, n)

/* Asserts that nothing arrives within `ms`. */
static void expect_nothing_ (const char *file, int line, void *s, int ms)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll (&it, 1, ms);
    if (rc != 0) {
        char buf[256];
        int n = zmq_recv (s, buf, sizeof buf - 1, ZMQ_DONTWAIT);
        if (n >= 0) {
            buf[n < 255 ? n : 255] = 0;
        } else {
            strcpy (buf, "?");
        }
        char b[400];
        snprintf (b, sizeof b,
                  "expected no message, poll=%d, got \"%s\" (%d bytes)", rc,
                  buf, n);
        errno = 0;
        tu_fail (file, line, b);
    }
}
#define expect_nothing(s, ms) expect_nothing_ (__FILE__, __LINE__, s, ms)

static void tctx_term (void *ctx)
{
    if (zmq_ctx_term (ctx) != 0)
        tu_fail (__FILE__, __LINE__, "zmq_ctx_term");
}

static void *tctx_new (void)
{
    void *ctx = zmq_ctx_new ();
    if (!ctx)
        tu_fail (__FILE__, __LINE__, "zmq_ctx_new");
    return ctx;
}

static pthread_t tthread (void *(*fn) (void *), void *arg)
{
    pthread_t t;
    if (pthread_create (&t, NULL, fn, arg) != 0)
        tu_fail (__FILE__, __LINE__, "pthread_create");
    return t;
}

#endif
