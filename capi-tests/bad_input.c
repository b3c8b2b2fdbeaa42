/* Calls the C API with bad input (NULL and garbage handles, closed
   sockets, terminated contexts, wrong sizes, unknown options and socket
   types, bad endpoints) and checks each call fails with libzmq's errno
   instead of crashing.

   tests/abi.rs builds this twice: with -DFERROZMQ against our library,
   and without it against Debian's libzmq, which validates the expected
   errno values. Cases where libzmq itself crashes, asserts or succeeds on
   something we refuse are inside #ifdef FERROZMQ: there we deliberately
   differ from libzmq. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <zmq.h>

static int failures = 0;

static void check (const char *what, int line, int failed, int err, int want)
{
    if (!failed || err != want) {
        fprintf (stderr, "line %d: %s: %s, errno %d (%s), expected errno %d (%s)\n", line,
                 what, failed ? "failed" : "succeeded", err, zmq_strerror (err), want,
                 zmq_strerror (want));
        failures++;
    }
    else if (zmq_errno () != want) {
        fprintf (stderr, "line %d: %s: zmq_errno () is %d, errno %d\n", line, what,
                 zmq_errno (), want);
        failures++;
    }
}

/* The call must return -1 with errno `want`. */
#define FAILS(call, want)                                                      \
    do {                                                                       \
        errno = 0;                                                             \
        int rc_ = (int) (call);                                                \
        check (#call, __LINE__, rc_ == -1, errno, want);                       \
    } while (0)

/* The call must return NULL with errno `want`. */
#define FAILS_NULL(call, want)                                                 \
    do {                                                                       \
        errno = 0;                                                             \
        const void *p_ = (const void *) (call);                                \
        check (#call, __LINE__, p_ == NULL, errno, want);                      \
    } while (0)

#define WORKS(call)                                                            \
    do {                                                                       \
        if ((call) == -1) {                                                    \
            fprintf (stderr, "line %d: %s failed: %s\n", __LINE__, #call,      \
                     zmq_strerror (zmq_errno ()));                             \
            failures++;                                                        \
        }                                                                      \
    } while (0)

#define TRUE(cond)                                                             \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf (stderr, "line %d: %s is false\n", __LINE__, #cond);       \
            failures++;                                                        \
        }                                                                      \
    } while (0)

static void on_timer (int id, void *arg)
{
    (void) id;
    (void) arg;
}

static void contexts (void)
{
    int garbage = 0x5a5a5a5a;
    FAILS (zmq_ctx_term (NULL), EFAULT);
    FAILS (zmq_ctx_shutdown (NULL), EFAULT);
    FAILS (zmq_ctx_set (NULL, ZMQ_IO_THREADS, 1), EFAULT);
    FAILS (zmq_ctx_get (NULL, ZMQ_IO_THREADS), EFAULT);
    FAILS_NULL (zmq_socket (NULL, ZMQ_PAIR), EFAULT);
    FAILS_NULL (zmq_init (-1), EINVAL);
    FAILS (zmq_term (NULL), EFAULT);
    FAILS (zmq_ctx_destroy (NULL), EFAULT);

    void *ctx = zmq_ctx_new ();
    TRUE (ctx != NULL);
    FAILS (zmq_ctx_set (ctx, 9999, 1), EINVAL);
    FAILS (zmq_ctx_get (ctx, 9999), EINVAL);
    FAILS (zmq_ctx_set (ctx, ZMQ_IO_THREADS, -1), EINVAL);
    FAILS (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 0), EINVAL);
    FAILS_NULL (zmq_socket (ctx, 99), EINVAL);
    FAILS_NULL (zmq_socket (ctx, -1), EINVAL);
    /* A socket handle is not a context, nor a context a socket. */
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TRUE (s != NULL);
    FAILS (zmq_close (ctx), ENOTSOCK);
    WORKS (zmq_close (s));
#ifdef FERROZMQ
    /* libzmq reads through these pointers. */
    FAILS (zmq_ctx_term (&garbage), EFAULT);
    FAILS_NULL (zmq_socket (&garbage, ZMQ_PAIR), EFAULT);
    FAILS_NULL (zmq_socket (s, ZMQ_PAIR), EFAULT);
#endif
    (void) garbage;

    /* After zmq_ctx_shutdown, new sockets are refused. */
    WORKS (zmq_ctx_shutdown (ctx));
    FAILS_NULL (zmq_socket (ctx, ZMQ_PAIR), ETERM);
    WORKS (zmq_ctx_term (ctx));
#ifdef FERROZMQ
    /* libzmq has freed the context: these are use-after-free there. */
    FAILS (zmq_ctx_term (ctx), EFAULT);
    FAILS (zmq_ctx_get (ctx, ZMQ_IO_THREADS), EFAULT);
    FAILS_NULL (zmq_socket (ctx, ZMQ_PAIR), EFAULT);
#endif
}

static void sockets (void *ctx)
{
    int i = 1;
    size_t len = sizeof i;
    char buf[64];
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TRUE (s != NULL);

    FAILS (zmq_close (NULL), ENOTSOCK);
    FAILS (zmq_setsockopt (NULL, ZMQ_LINGER, &i, sizeof i), ENOTSOCK);
    FAILS (zmq_getsockopt (NULL, ZMQ_LINGER, &i, &len), ENOTSOCK);
    FAILS (zmq_bind (NULL, "inproc://a"), ENOTSOCK);
    FAILS (zmq_connect (NULL, "inproc://a"), ENOTSOCK);
    FAILS (zmq_unbind (NULL, "inproc://a"), ENOTSOCK);
    FAILS (zmq_disconnect (NULL, "inproc://a"), ENOTSOCK);
    FAILS (zmq_send (NULL, "x", 1, 0), ENOTSOCK);
    FAILS (zmq_send_const (NULL, "x", 1, 0), ENOTSOCK);
    FAILS (zmq_recv (NULL, buf, sizeof buf, 0), ENOTSOCK);
    FAILS (zmq_socket_monitor (NULL, "inproc://m", ZMQ_EVENT_ALL), ENOTSOCK);

    /* Options: unknown, wrong size, out of range. */
    FAILS (zmq_setsockopt (s, 9999, &i, sizeof i), EINVAL);
    FAILS (zmq_setsockopt (s, ZMQ_LINGER, &i, 2), EINVAL);
    i = -5;
    FAILS (zmq_setsockopt (s, ZMQ_SNDHWM, &i, sizeof i), EINVAL);
    len = sizeof i;
    FAILS (zmq_getsockopt (s, 9999, &i, &len), EINVAL);
    len = 2;
    FAILS (zmq_getsockopt (s, ZMQ_LINGER, &i, &len), EINVAL);
    len = 0;
    FAILS (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, buf, &len), EINVAL);
    FAILS (zmq_setsockopt (s, ZMQ_ROUTING_ID, "", 0), EINVAL);

    /* Endpoints. */
    FAILS (zmq_bind (s, "nonsense"), EINVAL);
    FAILS (zmq_bind (s, "inproc://"), EINVAL);
    FAILS (zmq_bind (s, "foo://bar"), EPROTONOSUPPORT);
    FAILS (zmq_connect (s, "nonsense"), EINVAL);
    FAILS (zmq_connect (s, "foo://bar"), EPROTONOSUPPORT);
    FAILS (zmq_unbind (s, "inproc://never-bound"), ENOENT);
    FAILS (zmq_disconnect (s, "inproc://never-connected"), ENOENT);
    WORKS (zmq_bind (s, "inproc://bad-input"));
    void *other = zmq_socket (ctx, ZMQ_PAIR);
    FAILS (zmq_bind (other, "inproc://bad-input"), EADDRINUSE);
    WORKS (zmq_close (other));

    /* Sending and receiving with nothing to do. */
    FAILS (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    zmq_msg_t msg;
    WORKS (zmq_msg_init (&msg));
    FAILS (zmq_msg_send (&msg, NULL, 0), ENOTSOCK);
    FAILS (zmq_msg_recv (&msg, NULL, 0), ENOTSOCK);
    FAILS (zmq_sendmsg (NULL, &msg, 0), ENOTSOCK);
    FAILS (zmq_recvmsg (NULL, &msg, 0), ENOTSOCK);
    FAILS (zmq_msg_recv (&msg, s, ZMQ_DONTWAIT), EAGAIN);
    WORKS (zmq_msg_close (&msg));
#ifdef FERROZMQ
    /* libzmq asserts on a closed message. */
    FAILS (zmq_msg_send (&msg, s, 0), EFAULT);
#endif

    struct iovec iov = {buf, 1};
    size_t count = 1;
    FAILS (zmq_sendiov (NULL, &iov, 1, 0), ENOTSOCK);
    FAILS (zmq_sendiov (s, NULL, 1, 0), EINVAL);
    FAILS (zmq_sendiov (s, &iov, 0, 0), EINVAL);
    FAILS (zmq_recviov (NULL, &iov, &count, 0), ENOTSOCK);
    FAILS (zmq_recviov (s, &iov, NULL, 0), EINVAL);
    count = 0;
    FAILS (zmq_recviov (s, &iov, &count, 0), EINVAL);

    /* Operations the socket type does not have. */
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    void *req = zmq_socket (ctx, ZMQ_REQ);
    FAILS (zmq_recv (pub, buf, sizeof buf, ZMQ_DONTWAIT), ENOTSUP);
    FAILS (zmq_send (sub, "x", 1, ZMQ_DONTWAIT), ENOTSUP);
    FAILS (zmq_recv (req, buf, sizeof buf, ZMQ_DONTWAIT), EFSM);
    WORKS (zmq_close (pub));
    WORKS (zmq_close (sub));
    WORKS (zmq_close (req));

    /* Proxies need real sockets. */
    FAILS (zmq_proxy (NULL, NULL, NULL), EFAULT);
    FAILS (zmq_proxy_steerable (NULL, NULL, NULL, NULL), EFAULT);

#ifdef FERROZMQ
    /* libzmq asserts, crashes or reads freed memory on all of these. */
    int garbage = 0x5a5a5a5a;
    i = 0;
    FAILS (zmq_close (&garbage), ENOTSOCK);
    FAILS (zmq_send (&garbage, "x", 1, 0), ENOTSOCK);
    FAILS (zmq_setsockopt (s, ZMQ_LINGER, NULL, sizeof i), EFAULT);
    FAILS (zmq_getsockopt (s, ZMQ_LINGER, &i, NULL), EFAULT);
    FAILS (zmq_bind (s, NULL), EINVAL);
    FAILS (zmq_connect (s, NULL), EINVAL);
    FAILS (zmq_bind (s, "inproc://\xff\xfe"), EINVAL);
    FAILS (zmq_send (s, NULL, 5, 0), EFAULT);
    FAILS (zmq_recv (s, NULL, 5, 0), EFAULT);
    FAILS (zmq_proxy (&garbage, s, NULL), ENOTSOCK);
    FAILS (zmq_device (ZMQ_QUEUE, NULL, NULL), EFAULT);
    /* libzmq blocks the bind here, sending LISTENING to a monitor nobody
     * reads; ours keeps the event for a reader to come. */
    WORKS (zmq_socket_monitor (s, "inproc://monitor", ZMQ_EVENT_ALL));
    WORKS (zmq_bind (s, "tcp://127.0.0.1:*"));
    WORKS (zmq_socket_monitor (s, NULL, 0));
    void *closed = zmq_socket (ctx, ZMQ_PAIR);
    WORKS (zmq_close (closed));
    FAILS (zmq_close (closed), ENOTSOCK);
    FAILS (zmq_send (closed, "x", 1, 0), ENOTSOCK);
    FAILS (zmq_bind (closed, "inproc://closed"), ENOTSOCK);
    zmq_pollitem_t bad_item = {&garbage, 0, ZMQ_POLLIN, 0};
    FAILS (zmq_poll (&bad_item, 1, 0), ENOTSOCK);
    zmq_pollitem_t closed_item = {closed, 0, ZMQ_POLLIN, 0};
    FAILS (zmq_poll (&closed_item, 1, 0), ENOTSOCK);
#endif

    zmq_pollitem_t item = {s, 0, ZMQ_POLLIN, 0};
    FAILS (zmq_poll (NULL, 1, 0), EFAULT);
    TRUE (zmq_poll (&item, 1, 0) == 0);
    TRUE (zmq_poll (&item, 1, 10) == 0);

    WORKS (zmq_close (s));
}

static void messages (void)
{
    zmq_msg_t msg, other;
    WORKS (zmq_msg_init (&msg));
    WORKS (zmq_msg_init (&other));
    FAILS (zmq_msg_get (&msg, 9999), EINVAL);
    FAILS (zmq_msg_set (&msg, ZMQ_MORE, 1), EINVAL);
    FAILS_NULL (zmq_msg_gets (&msg, "Socket-Type"), EINVAL);
    TRUE (zmq_msg_get (&msg, ZMQ_MORE) == 0);
    TRUE (zmq_msg_more (&msg) == 0);
    WORKS (zmq_msg_close (&msg));
    FAILS (zmq_msg_close (&msg), EFAULT);
    FAILS (zmq_msg_copy (&other, &msg), EFAULT);
    FAILS (zmq_msg_move (&other, &msg), EFAULT);
    WORKS (zmq_msg_close (&other));
    FAILS (zmq_msg_init_size (&msg, (size_t) 1 << 62), ENOMEM);
#ifdef FERROZMQ
    /* libzmq dereferences NULL or asserts on these. */
    FAILS (zmq_msg_init (NULL), EFAULT);
    FAILS (zmq_msg_init_size (NULL, 10), EFAULT);
    FAILS (zmq_msg_init_data (NULL, "x", 1, NULL, NULL), EFAULT);
    FAILS (zmq_msg_init_data (&msg, NULL, 10, NULL, NULL), EFAULT);
    FAILS (zmq_msg_close (NULL), EFAULT);
    FAILS (zmq_msg_copy (NULL, NULL), EFAULT);
    FAILS (zmq_msg_move (NULL, NULL), EFAULT);
    FAILS (zmq_msg_get (NULL, ZMQ_MORE), EFAULT);
    FAILS (zmq_msg_more (NULL), EFAULT);
    FAILS (zmq_msg_set (NULL, ZMQ_MORE, 1), EFAULT);
    FAILS_NULL (zmq_msg_gets (NULL, "Socket-Type"), EFAULT);
    FAILS_NULL (zmq_msg_data (NULL), EFAULT);
    TRUE (zmq_msg_size (NULL) == 0);
    WORKS (zmq_msg_init (&msg));
    FAILS_NULL (zmq_msg_gets (&msg, NULL), EINVAL);
    WORKS (zmq_msg_close (&msg));
#endif
}

static void utilities (void)
{
    char text[16];
    uint8_t bytes[16];
    const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
    FAILS_NULL (zmq_z85_encode (text, hello, 3), EINVAL);
    FAILS_NULL (zmq_z85_decode (bytes, "abcd"), EINVAL);
    FAILS_NULL (zmq_z85_decode (bytes, "abcd~"), EINVAL);
    FAILS_NULL (zmq_z85_decode (bytes, "abc d"), EINVAL);
    TRUE (zmq_z85_encode (text, hello, 8) == text && strcmp (text, "HelloWorld") == 0);
    TRUE (zmq_z85_decode (bytes, "HelloWorld") == bytes && memcmp (bytes, hello, 8) == 0);

#ifdef FERROZMQ
    /* libzmq dereferences the NULL pointer-to-handle. */
    FAILS (zmq_timers_destroy (NULL), EFAULT);
#endif
    void *none = NULL;
    FAILS (zmq_timers_destroy (&none), EFAULT);
    FAILS (zmq_timers_add (NULL, 10, on_timer, NULL), EFAULT);
    FAILS (zmq_timers_cancel (NULL, 1), EFAULT);
    FAILS (zmq_timers_set_interval (NULL, 1, 10), EFAULT);
    FAILS (zmq_timers_reset (NULL, 1), EFAULT);
    FAILS (zmq_timers_timeout (NULL), EFAULT);
    FAILS (zmq_timers_execute (NULL), EFAULT);
    void *timers = zmq_timers_new ();
    TRUE (timers != NULL);
    FAILS (zmq_timers_add (timers, 10, NULL, NULL), EFAULT);
    FAILS (zmq_timers_cancel (timers, 999), EINVAL);
    FAILS (zmq_timers_set_interval (timers, 999, 10), EINVAL);
    FAILS (zmq_timers_reset (timers, 999), EINVAL);
    TRUE (zmq_timers_timeout (timers) == -1);
    int id = zmq_timers_add (timers, 10, on_timer, NULL);
    TRUE (id > 0);
    WORKS (zmq_timers_cancel (timers, id));
    FAILS (zmq_timers_cancel (timers, id), EINVAL);
    WORKS (zmq_timers_destroy (&timers));
    TRUE (timers == NULL);

    TRUE (zmq_strerror (EFSM) != NULL && zmq_strerror (ETERM) != NULL);
    TRUE (zmq_strerror (EINVAL) != NULL && zmq_strerror (123456) != NULL);
    TRUE (zmq_has ("no-such-capability") == 0);
    FAILS (zmq_poll (NULL, 1, 0), EFAULT);
    char pub[41], sec[41];
    WORKS (zmq_curve_keypair (pub, sec));
    WORKS (zmq_curve_public (pub, "0000000000000000000000000000000000000000"));
    FAILS (zmq_curve_public (pub, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"), EINVAL);
#ifdef FERROZMQ
    /* libzmq crashes on these; ours refuses them. */
    FAILS (zmq_curve_keypair (NULL, sec), EFAULT);
    FAILS (zmq_curve_public (NULL, sec), EFAULT);
    FAILS (zmq_curve_public (pub, NULL), EFAULT);
    /* libzmq overflows its 32-byte buffer on longer text; ours refuses it. */
    FAILS (zmq_curve_public (pub, "000000000000000000000000000000000000000000000"), EINVAL);
    TRUE (zmq_has (NULL) == 0);
    FAILS_NULL (zmq_z85_encode (NULL, hello, 8), EFAULT);
    FAILS_NULL (zmq_z85_decode (bytes, NULL), EFAULT);
    FAILS_NULL (zmq_threadstart (NULL, NULL), EINVAL);
    FAILS (zmq_poll (NULL, -1, 0), EINVAL);
    void *c = zmq_atomic_counter_new ();
    TRUE (zmq_atomic_counter_inc (c) == 0);
    TRUE (zmq_atomic_counter_dec (c) == 0);
    zmq_atomic_counter_destroy (&c);
    TRUE (c == NULL);
    zmq_atomic_counter_destroy (&c);
    zmq_atomic_counter_destroy (NULL);
    FAILS (zmq_atomic_counter_value (NULL), EFAULT);
    TRUE (zmq_stopwatch_stop (NULL) == 0);
    zmq_threadclose (NULL);
#endif
}

int main (void)
{
    Dl_info info;
    if (dladdr ((void *) zmq_ctx_new, &info) && info.dli_fname)
        printf ("library: %s\n", info.dli_fname);
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    TRUE (major == 4 && minor == 3);

    contexts ();
    void *ctx = zmq_ctx_new ();
    sockets (ctx);
    messages ();
    utilities ();
    WORKS (zmq_ctx_term (ctx));

    if (failures) {
        fprintf (stderr, "%d failures\n", failures);
        return 1;
    }
    printf ("bad_input: all passed\n");
    return 0;
}
