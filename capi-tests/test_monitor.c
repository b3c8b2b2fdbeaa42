/* Prints, one fact per line, what zmq_socket_monitor(3) reports: the errors
 * of the call itself, then the events of monitored sockets over tcp and ipc,
 * on the bind and the connect side, through a reconnect cycle, bind
 * failures, unbind and close, and handshakes that fail (a socket-type
 * mismatch, raw peers sending a wrong mechanism, unexpected or malformed
 * commands, nothing at all, or an old ZMTP version).
 *
 * Built against Debian's libzmq 4.3.4 its output is the reference,
 * capi-tests/expected/monitor.txt; tests/capi.rs runs it on ours and
 * compares line by line, allowing only the lines listed in
 * capi-tests/expected/monitor.allowed.
 *
 * The output must not depend on the machine or the run: descriptors are
 * printed as facts ("fd", "fd=conn" when it is the descriptor the
 * connection was reported with), errnos by name, ports and ipc paths as
 * PORT and PATH, reconnect intervals by the range they fall in (libzmq adds
 * a random part). Every case waits for what it expects, so a slow machine
 * changes nothing; "(none)" marks an event that never came. The program
 * always exits 0: the comparison is the test. */

#define _GNU_SOURCE
#include <zmq.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How long an expected event may take, and how long "nothing more" lasts. */
#define WAIT_MS 3000
#define QUIET_MS 300

/* ------------------------------------------------------------------ */
/* Printing                                                             */

static const char *errname (int e)
{
    static char other[32];
    switch (e) {
        case 0: return "0";
        case EINVAL: return "EINVAL";
        case EFAULT: return "EFAULT";
        case EAGAIN: return "EAGAIN";
        case ENOTSUP: return "ENOTSUP";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ENOTSOCK: return "ENOTSOCK";
        case ENOENT: return "ENOENT";
        case ENODEV: return "ENODEV";
        case EADDRINUSE: return "EADDRINUSE";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case ECONNREFUSED: return "ECONNREFUSED";
        case ECONNRESET: return "ECONNRESET";
        case EINPROGRESS: return "EINPROGRESS";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EPIPE: return "EPIPE";
        case EPROTO: return "EPROTO";
        case ENOTEMPTY: return "ENOTEMPTY";
        case EMFILE: return "EMFILE";
        case ETERM: return "ETERM";
        case ENOCOMPATPROTO: return "ENOCOMPATPROTO";
        case EMTHREAD: return "EMTHREAD";
        default: snprintf (other, sizeof other, "errno %d", e); return other;
    }
}

static const char *event_name (int ev)
{
    static char other[32];
    switch (ev) {
        case ZMQ_EVENT_CONNECTED: return "CONNECTED";
        case ZMQ_EVENT_CONNECT_DELAYED: return "CONNECT_DELAYED";
        case ZMQ_EVENT_CONNECT_RETRIED: return "CONNECT_RETRIED";
        case ZMQ_EVENT_LISTENING: return "LISTENING";
        case ZMQ_EVENT_BIND_FAILED: return "BIND_FAILED";
        case ZMQ_EVENT_ACCEPTED: return "ACCEPTED";
        case ZMQ_EVENT_ACCEPT_FAILED: return "ACCEPT_FAILED";
        case ZMQ_EVENT_CLOSED: return "CLOSED";
        case ZMQ_EVENT_CLOSE_FAILED: return "CLOSE_FAILED";
        case ZMQ_EVENT_DISCONNECTED: return "DISCONNECTED";
        case ZMQ_EVENT_MONITOR_STOPPED: return "MONITOR_STOPPED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            return "HANDSHAKE_FAILED_NO_DETAIL";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            return "HANDSHAKE_FAILED_PROTOCOL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "HANDSHAKE_FAILED_AUTH";
        default: snprintf (other, sizeof other, "event 0x%x", ev); return other;
    }
}

static const char *protocol_error_name (uint32_t v)
{
    static char other[32];
    switch (v) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: return "ZMTP_UNSPECIFIED";
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND:
            return "ZMTP_UNEXPECTED_COMMAND";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE:
            return "ZMTP_INVALID_SEQUENCE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED:
            return "ZMTP_MALFORMED_COMMAND_UNSPECIFIED";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE:
            return "ZMTP_MALFORMED_COMMAND_MESSAGE";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR:
            return "ZMTP_MALFORMED_COMMAND_ERROR";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY:
            return "ZMTP_MALFORMED_COMMAND_READY";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA:
            return "ZMTP_INVALID_METADATA";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "ZMTP_MECHANISM_MISMATCH";
        default: snprintf (other, sizeof other, "0x%08x", v); return other;
    }
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static void set_int (void *s, int opt, int v)
{
    if (zmq_setsockopt (s, opt, &v, sizeof v) != 0)
        printf ("setsockopt %d failed: %s\n", opt, errname (zmq_errno ()));
}

static void *sock (void *ctx, int type)
{
    void *s = zmq_socket (ctx, type);
    set_int (s, ZMQ_LINGER, 0);
    set_int (s, ZMQ_RCVTIMEO, WAIT_MS);
    set_int (s, ZMQ_SNDTIMEO, WAIT_MS);
    return s;
}

static int port_of (const char *ep)
{
    const char *c = strrchr (ep, ':');
    return c ? atoi (c + 1) : -1;
}

static void last_endpoint (void *s, char *out, size_t n)
{
    size_t sz = n;
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &sz) != 0)
        out[0] = 0;
}

/* A tcp port nothing listens on. */
static int free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bind (fd, (struct sockaddr *) &a, sizeof a);
    socklen_t l = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &l);
    close (fd);
    return ntohs (a.sin_port);
}

static int counter;

static void unique_ipc (char *out, size_t n, const char *tag)
{
    snprintf (out, n, "ipc:///tmp/ferro-mon-%s-%d-%d", tag, (int) getpid (),
              ++counter);
}

/* ------------------------------------------------------------------ */
/* Reading a monitor                                                    */

typedef struct
{
    const char *label;
    void *pair;
    int port;       /* printed as PORT */
    char path[256]; /* an ipc path printed as PATH */
    int ivl;        /* the socket's RECONNECT_IVL */
    int conn_fd;    /* fd of the last CONNECTED or ACCEPTED */
    int listen_fd;  /* fd of the last LISTENING */
} mon_t;

static void mon_start (mon_t *m, void *ctx, void *s, const char *label,
                       int events)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://monitor-%d", ++counter);
    memset (m, 0, sizeof *m);
    m->label = label;
    m->ivl = 100;
    m->conn_fd = -2;
    m->listen_fd = -2;
    int rc = zmq_socket_monitor (s, ep, events);
    if (rc != 0)
        printf ("%s: zmq_socket_monitor failed: %s\n", label,
                errname (zmq_errno ()));
    m->pair = zmq_socket (ctx, ZMQ_PAIR);
    set_int (m->pair, ZMQ_LINGER, 0);
    zmq_connect (m->pair, ep);
}

static void mon_stop (mon_t *m)
{
    zmq_close (m->pair);
}

/* The endpoint with the test's port and ipc path replaced by names. */
static void put_endpoint (const mon_t *m, const char *ep)
{
    char buf[512];
    snprintf (buf, sizeof buf, "%s", ep);
    if (m->path[0]) {
        char *p = strstr (buf, m->path);
        if (p) {
            char rest[512];
            snprintf (rest, sizeof rest, "%s", p + strlen (m->path));
            snprintf (p, buf + sizeof buf - p, "PATH%s", rest);
        }
    }
    if (strncmp (buf, "tcp://", 6) == 0 || strchr (buf, ':')) {
        char *c = strrchr (buf, ':');
        if (c && c[1] >= '0' && c[1] <= '9' && !strchr (c, '/')) {
            int port = atoi (c + 1);
            snprintf (c + 1, buf + sizeof buf - c - 1, "%s",
                      port == m->port ? "PORT" : "EPHEMERAL");
        }
    }
    printf ("\"%s\"", buf);
}

static void put_event (mon_t *m, int ev, uint32_t v, const char *ep)
{
    printf ("%s: %s ", m->label, event_name (ev));
    switch (ev) {
        case ZMQ_EVENT_CONNECTED:
        case ZMQ_EVENT_ACCEPTED:
            m->conn_fd = (int) v;
            printf ("fd");
            break;
        case ZMQ_EVENT_LISTENING:
            m->listen_fd = (int) v;
            printf ("fd");
            break;
        case ZMQ_EVENT_CLOSED:
            printf ((int) v == m->listen_fd ? "fd=listener" : "fd");
            break;
        case ZMQ_EVENT_DISCONNECTED:
            printf ((int) v == m->conn_fd ? "fd=conn" : "fd");
            break;
        case ZMQ_EVENT_CONNECT_DELAYED:
        case ZMQ_EVENT_BIND_FAILED:
        case ZMQ_EVENT_ACCEPT_FAILED:
        case ZMQ_EVENT_CLOSE_FAILED:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            printf ("%s", errname ((int) v));
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            if ((int) v >= m->ivl && (int) v < 2 * m->ivl)
                printf ("in [ivl,2*ivl)");
            else
                printf ("%u (ivl %d)", v, m->ivl);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            printf ("%s", protocol_error_name (v));
            break;
        default: printf ("%u", v);
    }
    if (ev == ZMQ_EVENT_MONITOR_STOPPED && !*ep) {
        printf (" \"\"\n");
        return;
    }
    putchar (' ');
    put_endpoint (m, ep);
    putchar ('\n');
}

/* One event within `ms`: 1 and its parts, or 0. Also checks libzmq's
 * framing: 6 bytes with MORE, then the endpoint without. */
static int mon_read (mon_t *m, int ms, int *ev, uint32_t *v, char *ep,
                     size_t n)
{
    zmq_pollitem_t it = {m->pair, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&it, 1, ms) <= 0)
        return 0;
    zmq_msg_t a;
    zmq_msg_init (&a);
    if (zmq_msg_recv (&a, m->pair, 0) < 0) {
        printf ("%s: recv failed: %s\n", m->label, errname (zmq_errno ()));
        return 0;
    }
    if (zmq_msg_size (&a) != 6 || !zmq_msg_more (&a))
        printf ("%s: first frame of %zu bytes, more %d\n", m->label,
                zmq_msg_size (&a), zmq_msg_more (&a));
    uint16_t e = 0;
    uint32_t val = 0;
    memcpy (&e, zmq_msg_data (&a), zmq_msg_size (&a) >= 2 ? 2 : 0);
    if (zmq_msg_size (&a) >= 6)
        memcpy (&val, (char *) zmq_msg_data (&a) + 2, 4);
    int more = zmq_msg_more (&a);
    zmq_msg_close (&a);
    ep[0] = 0;
    if (more) {
        zmq_msg_init (&a);
        zmq_msg_recv (&a, m->pair, 0);
        if (zmq_msg_more (&a))
            printf ("%s: endpoint frame has MORE\n", m->label);
        size_t len = zmq_msg_size (&a) < n - 1 ? zmq_msg_size (&a) : n - 1;
        memcpy (ep, zmq_msg_data (&a), len);
        ep[len] = 0;
        zmq_msg_close (&a);
    }
    *ev = e;
    *v = val;
    return 1;
}

/* Prints the next `count` events. */
static void expect (mon_t *m, int count)
{
    for (int i = 0; i < count; i++) {
        int ev;
        uint32_t v;
        char ep[512];
        if (!mon_read (m, WAIT_MS, &ev, &v, ep, sizeof ep)) {
            printf ("%s: (none)\n", m->label);
            return;
        }
        put_event (m, ev, v, ep);
    }
}

/* Prints events until one of type `until` (included). */
static void expect_until (mon_t *m, int until)
{
    for (int i = 0; i < 20; i++) {
        int ev;
        uint32_t v;
        char ep[512];
        if (!mon_read (m, WAIT_MS, &ev, &v, ep, sizeof ep)) {
            printf ("%s: (none)\n", m->label);
            return;
        }
        put_event (m, ev, v, ep);
        if (ev == until)
            return;
    }
    printf ("%s: (too many events)\n", m->label);
}

/* Prints what arrives until nothing has for QUIET_MS. */
static void quiet (mon_t *m)
{
    int ev;
    uint32_t v;
    char ep[512];
    int n = 0;
    while (n < 20 && mon_read (m, QUIET_MS, &ev, &v, ep, sizeof ep)) {
        put_event (m, ev, v, ep);
        n++;
    }
    printf ("%s: (quiet)\n", m->label);
}

static void bounce (void *a, void *b)
{
    char buf[16];
    if (zmq_send (a, "ping", 4, 0) != 4 || zmq_recv (b, buf, sizeof buf, 0) != 4)
        printf ("bounce failed: %s\n", errname (zmq_errno ()));
}

/* ------------------------------------------------------------------ */
/* Raw peers                                                            */

static int raw_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons (port);
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &a, sizeof a) != 0)
        printf ("raw connect failed: %s\n", errname (errno));
    return fd;
}

static void raw_send (int fd, const void *p, size_t n)
{
    if (send (fd, p, n, MSG_NOSIGNAL) != (ssize_t) n)
        printf ("raw send failed: %s\n", errname (errno));
}

/* Reads until the peer closes (or WAIT_MS); says whether it closed. */
static const char *raw_wait_close (int fd)
{
    char buf[256];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, WAIT_MS) <= 0)
            return "still open";
        ssize_t r = recv (fd, buf, sizeof buf, 0);
        if (r == 0)
            return "closed";
        if (r < 0)
            return errno == ECONNRESET ? "reset" : "error";
    }
}

/* Reads whatever arrives within QUIET_MS. */
static void raw_drain (int fd)
{
    char buf[256];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll (&p, 1, QUIET_MS) <= 0 || recv (fd, buf, sizeof buf, 0) <= 0)
            return;
    }
}

/* A ZMTP 3.0 greeting for `mechanism`. */
static void greeting (unsigned char g[64], const char *mechanism)
{
    memset (g, 0, 64);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 0;
    memcpy (g + 12, mechanism, strlen (mechanism));
}

/* A short command frame of `body` (its name included). */
static size_t command (unsigned char *out, const void *body, size_t n)
{
    out[0] = 0x04;
    out[1] = (unsigned char) n;
    memcpy (out + 2, body, n);
    return n + 2;
}

/* READY with one Socket-Type property. */
static size_t ready (unsigned char *out, const char *type)
{
    unsigned char b[64];
    size_t n = 0;
    memcpy (b, "\x05READY", 6);
    n = 6;
    b[n++] = 11;
    memcpy (b + n, "Socket-Type", 11);
    n += 11;
    uint32_t len = htonl ((uint32_t) strlen (type));
    memcpy (b + n, &len, 4);
    n += 4;
    memcpy (b + n, type, strlen (type));
    n += strlen (type);
    return command (out, b, n);
}

/* ------------------------------------------------------------------ */
/* The call itself                                                      */

static void call_errors (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, ZMQ_DEALER);
    struct
    {
        const char *name;
        const char *ep;
        int events;
    } cases[] = {
      {"tcp endpoint", "tcp://127.0.0.1:5555", ZMQ_EVENT_ALL},
      {"ipc endpoint", "ipc:///tmp/ferro-mon-x", ZMQ_EVENT_ALL},
      {"udp endpoint", "udp://127.0.0.1:5555", ZMQ_EVENT_ALL},
      {"unknown transport", "bogus://x", ZMQ_EVENT_ALL},
      {"no separator", "inproc-x", ZMQ_EVENT_ALL},
      {"empty address", "inproc://", ZMQ_EVENT_ALL},
      {"events 0x10000", "inproc://mon-a", 0x10000},
      {"events -1", "inproc://mon-a", -1},
      {"events 0x10000 and NULL", NULL, 0x10000},
      {"NULL with no monitor", NULL, 0},
      {"NULL again", NULL, ZMQ_EVENT_ALL},
      {"events 0", "inproc://mon-b", 0},
      {"another endpoint", "inproc://mon-c", ZMQ_EVENT_ALL},
      {"stop", NULL, 0},
    };
    /* libzmq blocks sending an event nobody reads: each monitor gets its
     * reader first (inproc connects before the bind). */
    void *readers[2];
    const char *reader_eps[2] = {"inproc://mon-b", "inproc://mon-c"};
    for (int i = 0; i < 2; i++) {
        readers[i] = zmq_socket (ctx, ZMQ_PAIR);
        set_int (readers[i], ZMQ_LINGER, 0);
        zmq_connect (readers[i], reader_eps[i]);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errno = 0;
        int rc = zmq_socket_monitor (s, cases[i].ep, cases[i].events);
        int e = zmq_errno ();
        if (rc == -1)
            printf ("monitor %s -> %s\n", cases[i].name, errname (e));
        else
            printf ("monitor %s -> %d\n", cases[i].name, rc);
    }
    for (int i = 0; i < 2; i++) {
        mon_t r;
        memset (&r, 0, sizeof r);
        r.label = reader_eps[i];
        r.pair = readers[i];
        quiet (&r);
        zmq_close (readers[i]);
    }

    /* An endpoint another socket holds. */
    void *other = sock (ctx, ZMQ_PAIR);
    zmq_bind (other, "inproc://taken");
    int rc = zmq_socket_monitor (s, "inproc://taken", ZMQ_EVENT_ALL);
    printf ("monitor on a bound inproc endpoint -> %s\n",
            rc == -1 ? errname (zmq_errno ()) : "0");
    /* A bind after that failure: the monitor is gone, nothing blocks. */
    rc = zmq_bind (s, "tcp://127.0.0.1:*");
    printf ("bind after the failed monitor -> %d\n", rc);
    zmq_close (other);

    rc = zmq_socket_monitor (NULL, "inproc://mon-d", ZMQ_EVENT_ALL);
    printf ("monitor NULL socket -> %s\n",
            rc == -1 ? errname (zmq_errno ()) : "0");

    zmq_close (s);

    /* After the context was shut down. */
    void *t = sock (ctx, ZMQ_DEALER);
    zmq_ctx_shutdown (ctx);
    char buf[8];
    rc = zmq_recv (t, buf, sizeof buf, ZMQ_DONTWAIT);
    printf ("recv after shutdown -> %s\n", errname (zmq_errno ()));
    rc = zmq_socket_monitor (t, "inproc://mon-e", ZMQ_EVENT_ALL);
    printf ("monitor after shutdown -> %s\n",
            rc == -1 ? errname (zmq_errno ()) : "0");
    rc = zmq_socket_monitor (t, NULL, 0);
    printf ("stop after shutdown -> %s\n",
            rc == -1 ? errname (zmq_errno ()) : "0");
    zmq_close (t);
    zmq_ctx_term (ctx);
}

/* Stopping, replacing, the mask, the frames. */
static void lifecycle (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, ZMQ_DEALER);

    mon_t a, b;
    mon_start (&a, ctx, s, "first monitor", ZMQ_EVENT_ALL);
    zmq_bind (s, "tcp://127.0.0.1:*");
    char ep[256];
    last_endpoint (s, ep, sizeof ep);
    a.port = port_of (ep);
    b.port = a.port;
    expect (&a, 1);
    /* A second call replaces the monitor: the first one hears it stop. */
    mon_start (&b, ctx, s, "second monitor", ZMQ_EVENT_ALL);
    b.port = a.port;
    expect (&a, 1);
    zmq_unbind (s, ep);
    expect (&b, 1);
    quiet (&a);
    /* Stopping. */
    zmq_socket_monitor (s, NULL, 0);
    expect (&b, 1);
    zmq_bind (s, "tcp://127.0.0.1:*");
    quiet (&b);
    mon_stop (&a);
    mon_stop (&b);

    /* A mask: only LISTENING and CLOSED, no MONITOR_STOPPED. */
    mon_t c;
    mon_start (&c, ctx, s, "mask LISTENING|CLOSED",
               ZMQ_EVENT_LISTENING | ZMQ_EVENT_CLOSED);
    zmq_bind (s, "tcp://127.0.0.1:*");
    last_endpoint (s, ep, sizeof ep);
    c.port = port_of (ep);
    zmq_bind (s, ep); /* fails: no BIND_FAILED in the mask */
    zmq_unbind (s, ep);
    expect (&c, 3);
    zmq_socket_monitor (s, NULL, 0);
    quiet (&c);
    mon_stop (&c);

    /* Mask 0: nothing at all. */
    mon_t d;
    mon_start (&d, ctx, s, "mask 0", 0);
    zmq_bind (s, "tcp://127.0.0.1:*");
    zmq_socket_monitor (s, NULL, 0);
    quiet (&d);
    mon_stop (&d);

    /* The reader connected before the monitor existed still hears it. */
    void *early = zmq_socket (ctx, ZMQ_PAIR);
    set_int (early, ZMQ_LINGER, 0);
    zmq_connect (early, "inproc://early-monitor");
    zmq_socket_monitor (s, "inproc://early-monitor", ZMQ_EVENT_LISTENING);
    zmq_bind (s, "tcp://127.0.0.1:*");
    mon_t e;
    memset (&e, 0, sizeof e);
    e.label = "reader connected first";
    e.pair = early;
    e.listen_fd = -2;
    e.conn_fd = -2;
    last_endpoint (s, ep, sizeof ep);
    e.port = port_of (ep);
    expect (&e, 1);
    mon_stop (&e);

    /* Events on inproc connections: none. */
    mon_t f;
    mon_start (&f, ctx, s, "inproc only", ZMQ_EVENT_ALL & ~ZMQ_EVENT_MONITOR_STOPPED);
    void *peer = sock (ctx, ZMQ_DEALER);
    zmq_bind (s, "inproc://monitored-inproc");
    zmq_connect (peer, "inproc://monitored-inproc");
    bounce (peer, s);
    zmq_close (peer);
    quiet (&f);
    zmq_close (s);
    quiet (&f);
    mon_stop (&f);
    zmq_ctx_term (ctx);
}

/* ------------------------------------------------------------------ */
/* tcp and ipc, both sides                                              */

/* The bind side: listening, a peer coming and going, unbind, close. */
static void bind_side (const char *transport)
{
    void *ctx = zmq_ctx_new ();
    void *server = sock (ctx, ZMQ_DEALER);
    mon_t m;
    char label[64];
    snprintf (label, sizeof label, "%s bind side", transport);
    mon_start (&m, ctx, server, label, ZMQ_EVENT_ALL);

    char ep[256];
    if (strcmp (transport, "tcp") == 0)
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:*");
    else
        unique_ipc (ep, sizeof ep, "bind");
    zmq_bind (server, ep);
    last_endpoint (server, ep, sizeof ep);
    if (strcmp (transport, "tcp") == 0)
        m.port = port_of (ep);
    else
        snprintf (m.path, sizeof m.path, "%s", ep + 6);
    expect (&m, 1);

    void *client = sock (ctx, ZMQ_DEALER);
    zmq_connect (client, ep);
    bounce (client, server);
    expect (&m, 2);
    zmq_close (client);
    expect (&m, 1);

    /* A second peer, then unbind: the listener closes, and its
     * connections end without a DISCONNECTED. */
    client = sock (ctx, ZMQ_DEALER);
    zmq_connect (client, ep);
    bounce (client, server);
    expect (&m, 2);
    zmq_unbind (server, ep);
    expect (&m, 1);
    /* libzmq ends them once the socket handles its commands. */
    for (int i = 0; i < 10; i++) {
        int events;
        size_t sz = sizeof events;
        zmq_getsockopt (server, ZMQ_EVENTS, &events, &sz);
        usleep (20000);
    }
    quiet (&m);
    zmq_close (client);
    quiet (&m);

    /* Bound again, a peer connected, then the socket closes. */
    zmq_bind (server, ep);
    expect (&m, 1);
    client = sock (ctx, ZMQ_DEALER);
    zmq_connect (client, ep);
    bounce (client, server);
    expect (&m, 2);
    zmq_close (server);
    expect_until (&m, ZMQ_EVENT_MONITOR_STOPPED);
    quiet (&m);
    zmq_close (client);
    mon_stop (&m);
    zmq_ctx_term (ctx);
    /* libzmq leaves the file of an explicit ipc path behind. */
    if (strncmp (ep, "ipc://", 6) == 0)
        unlink (ep + 6);
}

/* The connect side: connect, the peer leaves and comes back (reconnect),
 * disconnect, close. */
static void connect_side (const char *transport)
{
    void *ctx = zmq_ctx_new ();
    void *server = sock (ctx, ZMQ_DEALER);
    char ep[256];
    if (strcmp (transport, "tcp") == 0)
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    else
        unique_ipc (ep, sizeof ep, "connect");
    zmq_bind (server, ep);

    void *client = sock (ctx, ZMQ_DEALER);
    set_int (client, ZMQ_RECONNECT_IVL, 300);
    mon_t m;
    char label[64];
    snprintf (label, sizeof label, "%s connect side", transport);
    mon_start (&m, ctx, client, label, ZMQ_EVENT_ALL);
    m.ivl = 300;
    if (strcmp (transport, "tcp") == 0)
        m.port = port_of (ep);
    else
        snprintf (m.path, sizeof m.path, "%s", ep + 6);

    zmq_connect (client, ep);
    bounce (client, server);
    expect_until (&m, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    quiet (&m);

    /* The peer goes: disconnected, then a retry is scheduled; the peer
     * comes back before the retry. */
    zmq_close (server);
    expect (&m, 2);
    server = sock (ctx, ZMQ_DEALER);
    if (zmq_bind (server, ep) != 0)
        printf ("rebind failed: %s\n", errname (zmq_errno ()));
    expect_until (&m, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    bounce (client, server);
    quiet (&m);

    /* zmq_disconnect ends the connection. */
    zmq_disconnect (client, ep);
    quiet (&m);

    /* Connected again, then the socket closes. */
    zmq_connect (client, ep);
    bounce (client, server);
    expect_until (&m, ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    zmq_close (client);
    expect_until (&m, ZMQ_EVENT_MONITOR_STOPPED);
    quiet (&m);
    mon_stop (&m);
    zmq_close (server);
    zmq_ctx_term (ctx);
    if (strncmp (ep, "ipc://", 6) == 0)
        unlink (ep + 6);
}

/* Nothing listens: each attempt fails and a retry is scheduled. */
static void refused (const char *transport)
{
    void *ctx = zmq_ctx_new ();
    void *client = sock (ctx, ZMQ_DEALER);
    set_int (client, ZMQ_RECONNECT_IVL, 10000);
    mon_t m;
    char label[64];
    snprintf (label, sizeof label, "%s refused", transport);
    mon_start (&m, ctx, client, label, ZMQ_EVENT_ALL);
    m.ivl = 10000;
    char ep[256];
    if (strcmp (transport, "tcp") == 0) {
        m.port = free_port ();
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", m.port);
    } else {
        unique_ipc (ep, sizeof ep, "refused");
        snprintf (m.path, sizeof m.path, "%s", ep + 6);
    }
    zmq_connect (client, ep);
    expect_until (&m, ZMQ_EVENT_CONNECT_RETRIED);
    quiet (&m);
    /* Closing while waiting for the retry. */
    zmq_close (client);
    expect_until (&m, ZMQ_EVENT_MONITOR_STOPPED);
    mon_stop (&m);
    zmq_ctx_term (ctx);
}

/* Failed binds: the errno, and libzmq's endpoint without the transport. */
static void bind_failures (void)
{
    void *ctx = zmq_ctx_new ();
    void *holder = sock (ctx, ZMQ_DEALER);
    zmq_bind (holder, "tcp://127.0.0.1:*");
    char taken[256];
    last_endpoint (holder, taken, sizeof taken);

    void *s = sock (ctx, ZMQ_DEALER);
    mon_t m;
    mon_start (&m, ctx, s, "bind failures", ZMQ_EVENT_ALL);
    m.port = port_of (taken);
    const char *eps[] = {taken,
                         "tcp://127.0.0.1",
                         "tcp://nosuchinterface0:5555",
                         "ipc:///nonexistent-dir-ferro/socket",
                         "udp://127.0.0.1:5555",
                         "bogus://x"};
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++) {
        /* Only the return code: libzmq's errno is clobbered by sending the
         * event (tests of bind itself check it). */
        int rc = zmq_bind (s, eps[i]);
        printf ("bind ");
        put_endpoint (&m, eps[i]);
        printf (" -> %d\n", rc);
        quiet (&m);
    }
    /* A wildcard address is reported as bound; peers are accepted on the
     * address they reached. */
    zmq_bind (s, "tcp://*:*");
    char ep[256];
    last_endpoint (s, ep, sizeof ep);
    m.port = port_of (ep);
    expect (&m, 1);
    void *c = sock (ctx, ZMQ_DEALER);
    char target[256];
    snprintf (target, sizeof target, "tcp://127.0.0.1:%d", m.port);
    zmq_connect (c, target);
    bounce (c, s);
    expect (&m, 2);
    zmq_close (c);
    expect (&m, 1);
    zmq_unbind (s, ep);
    expect (&m, 1);
    zmq_socket_monitor (s, NULL, 0);
    quiet (&m);
    mon_stop (&m);
    zmq_close (s);
    zmq_close (holder);
    zmq_ctx_term (ctx);
}

/* The ipc wildcard: the directory made for it is removed at unbind; if the socket
 * file went away first, the close is reported as failed. */
static void ipc_close_failed (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, ZMQ_DEALER);
    mon_t m;
    mon_start (&m, ctx, s, "ipc wildcard", ZMQ_EVENT_ALL);
    zmq_bind (s, "ipc://*");
    char ep[256];
    last_endpoint (s, ep, sizeof ep);
    snprintf (m.path, sizeof m.path, "%s", ep + 6);
    expect (&m, 1);
    zmq_unbind (s, ep);
    expect (&m, 1);

    zmq_bind (s, "ipc://*");
    last_endpoint (s, ep, sizeof ep);
    snprintf (m.path, sizeof m.path, "%s", ep + 6);
    expect (&m, 1);
    if (unlink (ep + 6) != 0)
        printf ("unlink failed: %s\n", errname (errno));
    zmq_unbind (s, ep);
    expect (&m, 1);
    quiet (&m);
    /* Remove what is left (libzmq makes the directory in the working
     * directory). */
    char dir[256];
    snprintf (dir, sizeof dir, "%s", ep + 6);
    char *slash = strrchr (dir, '/');
    if (slash) {
        *slash = 0;
        rmdir (dir);
    }
    zmq_socket_monitor (s, NULL, 0);
    expect (&m, 1);
    zmq_close (s);
    mon_stop (&m);
    zmq_ctx_term (ctx);
}

/* ------------------------------------------------------------------ */
/* Handshakes that fail                                                 */

/* REQ may not talk to PUB: both sides drop the connection. */
static void type_mismatch (void)
{
    void *ctx = zmq_ctx_new ();
    void *pub = sock (ctx, ZMQ_PUB);
    mon_t mp;
    mon_start (&mp, ctx, pub, "PUB with a REQ peer", ZMQ_EVENT_ALL);
    zmq_bind (pub, "tcp://127.0.0.1:*");
    char ep[256];
    last_endpoint (pub, ep, sizeof ep);
    mp.port = port_of (ep);
    expect (&mp, 1);

    void *req = sock (ctx, ZMQ_REQ);
    set_int (req, ZMQ_RECONNECT_IVL, 10000);
    mon_t mr;
    mon_start (&mr, ctx, req, "REQ to a PUB", ZMQ_EVENT_ALL);
    mr.port = mp.port;
    mr.ivl = 10000;
    zmq_connect (req, ep);
    expect_until (&mr, ZMQ_EVENT_DISCONNECTED);
    quiet (&mr);
    expect_until (&mp, ZMQ_EVENT_DISCONNECTED);
    quiet (&mp);
    zmq_close (req);
    expect_until (&mr, ZMQ_EVENT_MONITOR_STOPPED);
    zmq_close (pub);
    expect_until (&mp, ZMQ_EVENT_MONITOR_STOPPED);
    mon_stop (&mr);
    mon_stop (&mp);
    zmq_ctx_term (ctx);
}

typedef struct
{
    const char *name;
    int handshake_ivl;
    int close_after; /* the raw peer closes after this many events */
    int reset;       /* ... with a reset (SO_LINGER 0) */
    unsigned char bytes[256];
    size_t len;
} raw_case_t;

/* A monitored PAIR accepts a raw tcp peer that sends `bytes`. */
static void raw_peer (raw_case_t *c, int type)
{
    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, type);
    if (c->handshake_ivl)
        set_int (s, ZMQ_HANDSHAKE_IVL, c->handshake_ivl);
    mon_t m;
    char label[128];
    snprintf (label, sizeof label, "raw peer, %s", c->name);
    mon_start (&m, ctx, s, label,
               ZMQ_EVENT_ALL & ~(ZMQ_EVENT_LISTENING | ZMQ_EVENT_MONITOR_STOPPED
                                 | ZMQ_EVENT_CLOSED));
    zmq_bind (s, "tcp://127.0.0.1:*");
    char ep[256];
    last_endpoint (s, ep, sizeof ep);
    m.port = port_of (ep);
    int fd = raw_connect (m.port);
    if (c->len)
        raw_send (fd, c->bytes, c->len);
    if (c->close_after) {
        expect (&m, c->close_after);
        /* Read what the socket sent first, so the close is a FIN and not
         * a reset for unread data, whoever is quicker. */
        if (c->reset) {
            struct linger l = {1, 0};
            setsockopt (fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        } else
            raw_drain (fd);
        close (fd);
        fd = -1;
    }
    expect_until (&m, ZMQ_EVENT_DISCONNECTED);
    quiet (&m);
    if (fd >= 0) {
        printf ("raw peer, %s: the connection was %s\n", c->name,
                raw_wait_close (fd));
        close (fd);
    }
    zmq_close (s);
    mon_stop (&m);
    zmq_ctx_term (ctx);
}

static void raw_peers (void)
{
    raw_case_t c;
    unsigned char g[64];

    memset (&c, 0, sizeof c);
    c.name = "closes at once";
    c.close_after = 1;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "resets at once";
    c.close_after = 1;
    c.reset = 1;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "silent past HANDSHAKE_IVL";
    c.handshake_ivl = 200;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "mechanism PLAIN";
    greeting (g, "PLAIN");
    memcpy (c.bytes, g, 64);
    c.len = 64;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "HELLO during the handshake";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + command (c.bytes + 64, "\x05HELLO", 6);
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "a data frame during the handshake";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    memcpy (c.bytes + 64, "\x00\x05hello", 7);
    c.len = 64 + 7;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "ERROR too short";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + command (c.bytes + 64, "\x05" "ERROR", 6);
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "ERROR 400";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + command (c.bytes + 64, "\x05" "ERROR\x03" "400", 10);
    c.close_after = 2;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "ERROR with another reason";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + command (c.bytes + 64, "\x05" "ERROR\x03" "bad", 10);
    c.close_after = 1;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "READY with broken metadata";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + command (c.bytes + 64, "\x05READY\x0bSocket-Type\x00\x00\x00\x09PA", 23);
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "READY from a REQ to a PAIR";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + ready (c.bytes + 64, "REQ");
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "READY, then closes";
    greeting (g, "NULL");
    memcpy (c.bytes, g, 64);
    c.len = 64 + ready (c.bytes + 64, "PAIR");
    c.close_after = 2;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "ZMTP 1.0, then closes";
    memcpy (c.bytes, "\x01\x00\x06\x00hello", 9);
    c.len = 9;
    c.close_after = 1;
    raw_peer (&c, ZMQ_PAIR);

    memset (&c, 0, sizeof c);
    c.name = "STREAM peer closes";
    memcpy (c.bytes, "hello", 5);
    c.len = 5;
    c.close_after = 1;
    raw_peer (&c, ZMQ_STREAM);
}

/* A listener that accepts the tcp connection and answers with `bytes`
 * (or nothing): the connect side's view of a failed handshake. */
static void raw_server (const char *name, const void *bytes, size_t len)
{
    int lfd = socket (AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt (lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bind (lfd, (struct sockaddr *) &a, sizeof a);
    listen (lfd, 4);
    socklen_t l = sizeof a;
    getsockname (lfd, (struct sockaddr *) &a, &l);

    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_RECONNECT_IVL, 10000);
    set_int (s, ZMQ_HANDSHAKE_IVL, 300);
    mon_t m;
    char label[128];
    snprintf (label, sizeof label, "raw server, %s", name);
    mon_start (&m, ctx, s, label, ZMQ_EVENT_ALL);
    m.port = ntohs (a.sin_port);
    m.ivl = 10000;
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", m.port);
    zmq_connect (s, ep);
    int fd = accept (lfd, NULL, NULL);
    if (len)
        raw_send (fd, bytes, len);
    expect_until (&m, ZMQ_EVENT_DISCONNECTED);
    quiet (&m);
    zmq_close (s);
    expect_until (&m, ZMQ_EVENT_MONITOR_STOPPED);
    close (fd);
    close (lfd);
    mon_stop (&m);
    zmq_ctx_term (ctx);
}

/* A STREAM socket closes a connection by sending an empty frame. */
static void stream_close (void)
{
    void *ctx = zmq_ctx_new ();
    void *s = sock (ctx, ZMQ_STREAM);
    mon_t m;
    mon_start (&m, ctx, s, "STREAM closes a connection",
               ZMQ_EVENT_ALL & ~ZMQ_EVENT_LISTENING);
    zmq_bind (s, "tcp://127.0.0.1:*");
    char ep[256];
    last_endpoint (s, ep, sizeof ep);
    m.port = port_of (ep);
    int fd = raw_connect (m.port);
    raw_send (fd, "hi", 2);
    unsigned char id[256];
    char buf[16];
    int idlen = zmq_recv (s, id, sizeof id, 0);
    zmq_recv (s, buf, sizeof buf, 0);
    expect (&m, 1);
    zmq_send (s, id, idlen > 0 ? idlen : 0, ZMQ_SNDMORE);
    zmq_send (s, "", 0, 0);
    /* libzmq closes it once the socket handles its commands. */
    for (int i = 0; i < 10; i++) {
        int events;
        size_t sz = sizeof events;
        zmq_getsockopt (s, ZMQ_EVENTS, &events, &sz);
        usleep (20000);
    }
    printf ("STREAM closes a connection: the connection was %s\n",
            raw_wait_close (fd));
    quiet (&m);
    close (fd);
    zmq_socket_monitor (s, NULL, 0);
    expect (&m, 1);
    zmq_close (s);
    mon_stop (&m);
    zmq_ctx_term (ctx);
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    signal (SIGPIPE, SIG_IGN);
    call_errors ();
    lifecycle ();
    bind_side ("tcp");
    bind_side ("ipc");
    connect_side ("tcp");
    connect_side ("ipc");
    refused ("tcp");
    refused ("ipc");
    bind_failures ();
    ipc_close_failed ();
    type_mismatch ();
    raw_peers ();
    unsigned char g[64];
    raw_server ("silent past HANDSHAKE_IVL", NULL, 0);
    greeting (g, "PLAIN");
    raw_server ("mechanism PLAIN", g, 64);
    stream_close ();
    printf ("done\n");
    return 0;
}
