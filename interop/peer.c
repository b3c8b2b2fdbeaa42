/*
 * interop/peer.c: one side of a two-process interop scenario.
 *
 * Built twice by tests/interop.rs: against ferrozmq (include/zmq.h + our
 * libzmq.so) and against Debian's libzmq (/usr/include/zmq.h + -lzmq), so any
 * pairing of the two implementations can be run over tcp or ipc.
 *
 * Usage:
 *   peer ROLE TYPE bind|connect ENDPOINT [key=value ...]
 *   peer probe tcp|ipc [ENDPOINT]
 *
 * ROLE
 *   send    sends `count` messages (PUSH, PUB, XPUB, PAIR, DEALER, ROUTER)
 *   recv    receives `count` messages and checks them (PULL, SUB, XSUB, ...)
 *   client  sends request i, receives reply i, `window` requests in flight
 *           (REQ, DEALER, PAIR, ROUTER)
 *   server  receives request i, checks it, sends reply i
 *           (REP, ROUTER, DEALER, PAIR)
 *   watch   monitors the socket (from before its bind or connect) and
 *           prints "EVENT <name> <value>" per event and "MSG <text>" per
 *           message received (PULL); with say=TEXT first sends TEXT once
 *           (PUSH). Runs until stdin closes: the harness decides when it
 *           has seen enough (tests/security.rs, refused peers)
 *
 * Options
 *   count=N        messages (round trips for client/server)        [100]
 *   sizes=a,b,..   frame sizes in bytes; frame j of message i has
 *                  size sizes[(i + j + stream) % n]                  [0]
 *   frames=a,b,..  message i has frames[i % n] frames               [1]
 *   seed=S         payload seed (both sides must agree)             [1]
 *   window=W       client: requests in flight (REQ needs 1)         [1]
 *   id=X           ZMQ_ROUTING_ID of this socket
 *   peer=X         ROUTER: route to this id (send/client) or expect
 *                  it on what is received (recv/server)
 *   delim=1        REQ/REP envelope: DEALER/ROUTER add and expect an
 *                  empty delimiter frame
 *   topic=T        SUB/XSUB subscribe to T (default ""); PUB/XPUB send
 *                  T as an extra first frame and, before each message,
 *                  decoys that must be filtered out
 *   sync=MODE      publisher/subscriber handshake, no sleeps:
 *                    stdin  PUB: send a hello every 10 ms until a line
 *                           "GO" arrives on stdin
 *                    hello  SUB/XSUB: skip hellos before the first data
 *                           message; on the first one print "RELAY GO"
 *                           (the harness writes "GO" to the peer's stdin)
 *                    xpub   XPUB: wait for the subscription message
 *   hb=MS          ZMTP 3.1 heartbeats: ZMQ_HEARTBEAT_IVL=MS,
 *                  ZMQ_HEARTBEAT_TIMEOUT=5*MS, ZMQ_HEARTBEAT_TTL=10*MS
 *                  (the peer must answer PINGs or the link is dropped)
 *   pause=K:MS     server/send: stay silent MS ms before reply/message K
 *                  (a reply in flight across a silent link: if heartbeats
 *                  drop the link, the reply is lost and the client hangs)
 *   timeout=S      watchdog, seconds                                [20]
 *   sec=MODE       security: plain-client (user "admin", password
 *                  "secret"), plain-server, curve-client, curve-server
 *                  (fixed key pairs, below); default NULL. Clients to be
 *                  refused: plain-client-wrong (password "wrong"),
 *                  curve-client-unknown (the server's own key pair, which
 *                  the ZAP handler does not know), curve-client-wrongkey
 *                  (the client's public key given as the server's)
 *   zap=1          run a ZAP handler (inproc://zeromq.zap.01) that
 *                  accepts admin/secret, the client's CURVE key and NULL
 *                  in domain "test", user ids "admin", "curve-client" and
 *                  "null-user", and refuses the rest
 *   domain=D       ZMQ_ZAP_DOMAIN (with NULL: ask the ZAP handler)
 *   user=X         every payload frame received must carry User-Id X
 *                  (zmq_msg_gets), as the peer's ZAP handler set it
 *   say=TEXT       watch: the message to send
 *
 * Output: a bind side prints "ENDPOINT <ZMQ_LAST_ENDPOINT>" first (so tcp
 * port * can be resolved), a connect side "CONNECTING <endpoint>" once
 * zmq_connect has returned. The last line is "OK ..." (exit 0) or
 * "FAIL <reason>" (exit 1; 3 for the watchdog). Payload byte k of frame j of
 * message i is a function of (seed, stream, i, j, k); stream 0 is the
 * request/data direction and 1 the reply direction, so every byte, every
 * frame count and the order are checked.
 */
#include <zmq.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 64
#define MAX_FRAMES 1024

static const char HELLO[] = "\x00HELLO\x00";
#define HELLO_LEN 7

/* ---------------------------------------------------------------- state */

static const char *g_role = "?";
static const char *g_type = "?";
static volatile const char *g_phase = "start";
static volatile long g_msg = -1;
static int g_timeout = 20;

struct config {
    const char *role, *type_name, *mode, *endpoint;
    int type;
    long count;
    size_t sizes[MAX_LIST];
    int nsizes;
    int frames[MAX_LIST];
    int nframes;
    uint64_t seed;
    int window;
    const char *id, *peer, *topic, *sync;
    int delim;
    int hb;
    long pause_at;
    int pause_ms;
    const char *sec, *user, *domain, *say;
    int zap;
};

/* Key pairs for CURVE (Z85), the same on both sides. */
static const char SERVER_PUBLIC[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char SERVER_SECRET[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
static const char CLIENT_PUBLIC[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
static const char CLIENT_SECRET[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
static const char *g_user = NULL;

static void fail (const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (buf, sizeof buf, fmt, ap);
    va_end (ap);
    printf ("FAIL %s %s: %s (phase=%s msg=%ld)\n", g_role, g_type, buf,
            (const char *) g_phase, (long) g_msg);
    fflush (stdout);
    exit (1);
}

static void zfail (const char *what)
{
    int e = zmq_errno ();
    fail ("%s: errno %d (%s)", what, e, zmq_strerror (e));
}

/* async-signal-safe enough: only write(2) and _exit(2) */
static void put_str (char *buf, size_t *len, const char *s)
{
    while (*s && *len < 255)
        buf[(*len)++] = *s++;
}

static void put_num (char *buf, size_t *len, long v)
{
    char tmp[24];
    int n = 0;
    int neg = v < 0;
    unsigned long u = neg ? (unsigned long) -v : (unsigned long) v;
    do {
        tmp[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u && n < 22);
    if (neg)
        tmp[n++] = '-';
    while (n && *len < 255)
        buf[(*len)++] = tmp[--n];
}

static void on_alarm (int sig)
{
    (void) sig;
    char buf[256];
    size_t len = 0;
    put_str (buf, &len, "FAIL ");
    put_str (buf, &len, g_role);
    put_str (buf, &len, " ");
    put_str (buf, &len, g_type);
    put_str (buf, &len, ": watchdog fired after ");
    put_num (buf, &len, g_timeout);
    put_str (buf, &len, "s (phase=");
    put_str (buf, &len, (const char *) g_phase);
    put_str (buf, &len, " msg=");
    put_num (buf, &len, g_msg);
    put_str (buf, &len, ")\n");
    ssize_t r = write (1, buf, len);
    (void) r;
    _exit (3);
}

/* -------------------------------------------------------------- payload */

static uint64_t splitmix (uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void fill (unsigned char *p, size_t n, uint64_t seed, int stream,
                  long msg, int frame)
{
    uint64_t x = seed * 0x100000001B3ULL ^ ((uint64_t) stream << 62)
                 ^ ((uint64_t) msg << 20) ^ (uint64_t) frame;
    uint64_t r = 0;
    for (size_t k = 0; k < n; k++) {
        if ((k & 7) == 0)
            r = splitmix (&x);
        p[k] = (unsigned char) (r >> (8 * (k & 7)));
    }
}

static int nframes_of (const struct config *c, long msg)
{
    return c->frames[msg % c->nframes];
}

static size_t size_of (const struct config *c, int stream, long msg, int frame)
{
    return c->sizes[(msg + frame + stream) % c->nsizes];
}

/* --------------------------------------------------------------- frames */

static void send_frame (void *s, const void *data, size_t len, int more)
{
    for (;;) {
        int rc = zmq_send (s, data, len, more ? ZMQ_SNDMORE : 0);
        if (rc == (int) len)
            return;
        if (rc >= 0)
            fail ("zmq_send returned %d for a %zu-byte frame", rc, len);
        if (zmq_errno () == EINTR)
            continue;
        zfail ("zmq_send");
    }
}

/* ROUTER with ZMQ_ROUTER_MANDATORY: the first frame fails with EHOSTUNREACH
 * until the peer with that id has connected and said hello; retry. */
static void send_route (void *s, const char *peer, size_t len)
{
    for (;;) {
        int rc = zmq_send (s, peer, len, ZMQ_SNDMORE);
        if (rc == (int) len)
            return;
        if (rc < 0 && (zmq_errno () == EHOSTUNREACH || zmq_errno () == EAGAIN
                       || zmq_errno () == EINTR)) {
            usleep (2000);
            continue;
        }
        zfail ("zmq_send (routing id)");
    }
}

struct frames {
    zmq_msg_t f[MAX_FRAMES];
    int n;
};

static void recv_all (void *s, struct frames *m)
{
    m->n = 0;
    for (;;) {
        if (m->n == MAX_FRAMES)
            fail ("message has more than %d frames", MAX_FRAMES);
        zmq_msg_t *f = &m->f[m->n];
        zmq_msg_init (f);
        int rc;
        while ((rc = zmq_msg_recv (f, s, 0)) < 0 && zmq_errno () == EINTR)
            ;
        if (rc < 0)
            zfail ("zmq_msg_recv");
        if ((size_t) rc != zmq_msg_size (f))
            fail ("zmq_msg_recv returned %d, zmq_msg_size %zu", rc,
                  zmq_msg_size (f));
        m->n++;
        int more = zmq_msg_more (f);
        int rcvmore = 0;
        size_t sz = sizeof rcvmore;
        if (zmq_getsockopt (s, ZMQ_RCVMORE, &rcvmore, &sz) != 0)
            zfail ("getsockopt ZMQ_RCVMORE");
        if (!!more != !!rcvmore)
            fail ("frame %d: zmq_msg_more=%d but ZMQ_RCVMORE=%d", m->n - 1,
                  more, rcvmore);
        if (!more)
            return;
    }
}

static void free_all (struct frames *m)
{
    for (int i = 0; i < m->n; i++)
        zmq_msg_close (&m->f[i]);
    m->n = 0;
}

static void hexdump (char *out, size_t outlen, const unsigned char *p,
                     size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && i < 16 && o + 3 < outlen; i++)
        o += (size_t) snprintf (out + o, outlen - o, "%02x", p[i]);
    if (n > 16 && o + 4 < outlen)
        snprintf (out + o, outlen - o, "...");
}

static void expect_bytes (const zmq_msg_t *f, const void *want, size_t len,
                          const char *what)
{
    size_t n = zmq_msg_size ((zmq_msg_t *) f);
    const unsigned char *p = zmq_msg_data ((zmq_msg_t *) f);
    if (n != len || (len && memcmp (p, want, len) != 0)) {
        char got[64], exp[64];
        hexdump (got, sizeof got, p, n);
        hexdump (exp, sizeof exp, want, len);
        fail ("%s: got %zu bytes [%s], want %zu bytes [%s]", what, n, got, len,
              exp);
    }
}

/* Checks frames[first..] against message `msg` of `stream`. */
static void check_payload (const struct config *c, struct frames *m, int first,
                           int stream, long msg, uint64_t *bytes)
{
    int want = nframes_of (c, msg);
    int got = m->n - first;
    if (got != want)
        fail ("message %ld: %d payload frames, want %d (sizes of first: %zu)",
              msg, got, want, got > 0 ? zmq_msg_size (&m->f[first]) : 0);
    for (int j = 0; j < want; j++) {
        size_t len = size_of (c, stream, msg, j);
        zmq_msg_t *f = &m->f[first + j];
        size_t n = zmq_msg_size (f);
        if (n != len)
            fail ("message %ld frame %d: %zu bytes, want %zu", msg, j, n, len);
        if (g_user) {
            const char *u = zmq_msg_gets (f, "User-Id");
            if (!u || strcmp (u, g_user) != 0)
                fail ("message %ld frame %d: User-Id '%s', want '%s'", msg, j,
                      u ? u : "(none)", g_user);
        }
        unsigned char *exp = malloc (len ? len : 1);
        fill (exp, len, c->seed, stream, msg, j);
        const unsigned char *p = zmq_msg_data (f);
        if (len && memcmp (p, exp, len) != 0) {
            size_t k = 0;
            while (p[k] == exp[k])
                k++;
            /* Which message does it look like? Helps tell reordering. */
            long like = -1;
            for (long o = msg - 5; o <= msg + 5 && like < 0; o++) {
                if (o < 0 || o == msg || o >= c->count)
                    continue;
                if (size_of (c, stream, o, j) != n)
                    continue;
                fill (exp, len, c->seed, stream, o, j);
                if (memcmp (p, exp, len) == 0)
                    like = o;
            }
            fill (exp, len, c->seed, stream, msg, j);
            char note[64] = "";
            if (like >= 0)
                snprintf (note, sizeof note,
                          "; the frame is that of message %ld", like);
            fail ("message %ld frame %d (%zu bytes): first difference at byte "
                  "%zu: 0x%02x, want 0x%02x%s",
                  msg, j, len, k, p[k], exp[k], note);
        }
        free (exp);
        *bytes += len;
    }
}

static void send_payload (const struct config *c, void *s, int stream,
                          long msg, int more_after, uint64_t *bytes)
{
    int nf = nframes_of (c, msg);
    for (int j = 0; j < nf; j++) {
        size_t len = size_of (c, stream, msg, j);
        unsigned char *buf = malloc (len ? len : 1);
        fill (buf, len, c->seed, stream, msg, j);
        send_frame (s, buf, len, j + 1 < nf || more_after);
        free (buf);
        *bytes += len;
    }
}

/* ----------------------------------------------------------------- args */

static int type_of (const char *n)
{
    static const struct {
        const char *name;
        int type;
    } t[] = {{"PAIR", ZMQ_PAIR},     {"PUB", ZMQ_PUB},       {"SUB", ZMQ_SUB},
             {"REQ", ZMQ_REQ},       {"REP", ZMQ_REP},       {"DEALER", ZMQ_DEALER},
             {"ROUTER", ZMQ_ROUTER}, {"PULL", ZMQ_PULL},     {"PUSH", ZMQ_PUSH},
             {"XPUB", ZMQ_XPUB},     {"XSUB", ZMQ_XSUB},     {NULL, 0}};
    for (int i = 0; t[i].name; i++)
        if (strcasecmp (n, t[i].name) == 0)
            return t[i].type;
    fail ("unknown socket type '%s'", n);
    return -1;
}

static int parse_list (const char *s, long *out, const char *what)
{
    int n = 0;
    char *end;
    while (*s) {
        if (n == MAX_LIST)
            fail ("%s: more than %d entries", what, MAX_LIST);
        out[n++] = strtol (s, &end, 10);
        if (end == s || (*end && *end != ','))
            fail ("%s: bad list '%s'", what, s);
        s = *end ? end + 1 : end;
    }
    if (n == 0)
        fail ("%s: empty list", what);
    return n;
}

static void parse (struct config *c, int argc, char **argv)
{
    memset (c, 0, sizeof *c);
    c->role = argv[1];
    c->type_name = argv[2];
    c->type = type_of (argv[2]);
    c->mode = argv[3];
    c->endpoint = argv[4];
    c->count = 100;
    c->nsizes = 1;
    c->nframes = 1;
    c->frames[0] = 1;
    c->seed = 1;
    c->window = 1;
    c->topic = "";
    c->sync = "none";
    c->pause_at = -1;
    if (strcmp (c->mode, "bind") != 0 && strcmp (c->mode, "connect") != 0)
        fail ("mode must be bind or connect, not '%s'", c->mode);
    for (int i = 5; i < argc; i++) {
        char *eq = strchr (argv[i], '=');
        if (!eq)
            fail ("bad option '%s' (want key=value)", argv[i]);
        *eq = 0;
        const char *k = argv[i], *v = eq + 1;
        long l[MAX_LIST];
        if (!strcmp (k, "count"))
            c->count = atol (v);
        else if (!strcmp (k, "sizes")) {
            c->nsizes = parse_list (v, l, k);
            for (int j = 0; j < c->nsizes; j++)
                c->sizes[j] = (size_t) l[j];
        } else if (!strcmp (k, "frames")) {
            c->nframes = parse_list (v, l, k);
            for (int j = 0; j < c->nframes; j++) {
                if (l[j] < 1 || l[j] > MAX_FRAMES - 4)
                    fail ("frames: %ld out of range", l[j]);
                c->frames[j] = (int) l[j];
            }
        } else if (!strcmp (k, "seed"))
            c->seed = strtoull (v, NULL, 10);
        else if (!strcmp (k, "window"))
            c->window = atoi (v);
        else if (!strcmp (k, "id"))
            c->id = v;
        else if (!strcmp (k, "peer"))
            c->peer = v;
        else if (!strcmp (k, "delim"))
            c->delim = atoi (v);
        else if (!strcmp (k, "topic"))
            c->topic = v;
        else if (!strcmp (k, "sync"))
            c->sync = v;
        else if (!strcmp (k, "timeout"))
            g_timeout = atoi (v);
        else if (!strcmp (k, "hb"))
            c->hb = atoi (v);
        else if (!strcmp (k, "sec"))
            c->sec = v;
        else if (!strcmp (k, "zap"))
            c->zap = atoi (v);
        else if (!strcmp (k, "user"))
            c->user = v;
        else if (!strcmp (k, "domain"))
            c->domain = v;
        else if (!strcmp (k, "say"))
            c->say = v;
        else if (!strcmp (k, "pause")) {
            char *colon;
            c->pause_at = strtol (v, &colon, 10);
            if (*colon != ':')
                fail ("pause=K:MS, not '%s'", v);
            c->pause_ms = atoi (colon + 1);
        }
        else
            fail ("unknown option '%s'", k);
    }
    if (c->window < 1)
        c->window = 1;
}

/* ---------------------------------------------------------------- roles */

static void setopt_int (void *s, int opt, int v, const char *name)
{
    if (zmq_setsockopt (s, opt, &v, sizeof v) != 0)
        zfail (name);
}

static void maybe_pause (const struct config *c, long i)
{
    if (i != c->pause_at)
        return;
    const char *was = (const char *) g_phase;
    g_phase = "pausing (pause=)";
    struct timespec t = {c->pause_ms / 1000, (c->pause_ms % 1000) * 1000000L};
    while (nanosleep (&t, &t) != 0 && errno == EINTR)
        ;
    g_phase = was;
}

static int wait_go_on_stdin (int timeout_ms)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int rc = poll (&p, 1, timeout_ms);
    if (rc < 0 && errno == EINTR)
        return 0;
    if (rc < 0)
        fail ("poll(stdin): %s", strerror (errno));
    if (rc == 0)
        return 0;
    char line[64];
    if (!fgets (line, sizeof line, stdin))
        fail ("stdin closed before GO (sync=stdin needs the harness relay, "
              "or type GO)");
    if (strncmp (line, "GO", 2) != 0)
        fail ("unexpected line on stdin: %s", line);
    return 1;
}

static int is_hello (const struct config *c, struct frames *m)
{
    int first = c->topic[0] ? 1 : 0;
    if (m->n != first + 1)
        return 0;
    zmq_msg_t *f = &m->f[first];
    return zmq_msg_size (f) == HELLO_LEN
           && memcmp (zmq_msg_data (f), HELLO, HELLO_LEN) == 0;
}

static void do_send (const struct config *c, void *s, uint64_t *bytes)
{
    int is_pub = c->type == ZMQ_PUB || c->type == ZMQ_XPUB;
    size_t tlen = strlen (c->topic);
    if (c->type == ZMQ_ROUTER && !c->peer)
        fail ("ROUTER send needs peer=ID");

    if (!strcmp (c->sync, "stdin")) {
        g_phase = "sync: sending hellos until GO on stdin";
        do {
            if (tlen)
                send_frame (s, c->topic, tlen, 1);
            send_frame (s, HELLO, HELLO_LEN, 0);
        } while (!wait_go_on_stdin (10));
    } else if (!strcmp (c->sync, "xpub")) {
        g_phase = "sync: waiting for the subscription";
        if (c->type != ZMQ_XPUB)
            fail ("sync=xpub needs XPUB");
        struct frames m;
        recv_all (s, &m);
        char want[256];
        want[0] = 1;
        memcpy (want + 1, c->topic, tlen);
        if (m.n != 1)
            fail ("subscription message has %d frames", m.n);
        expect_bytes (&m.f[0], want, tlen + 1, "subscription message");
        free_all (&m);
    } else if (strcmp (c->sync, "none") != 0)
        fail ("unknown sync '%s' for send", c->sync);

    g_phase = "sending";
    for (long i = 0; i < c->count; i++) {
        g_msg = i;
        maybe_pause (c, i);
        if (is_pub && tlen) {
            /* decoys: a strict prefix of the topic and a different case */
            send_frame (s, c->topic, tlen - 1, 1);
            send_frame (s, "decoy", 5, 0);
            char other[256];
            memcpy (other, c->topic, tlen);
            other[0] ^= 0x20;
            send_frame (s, other, tlen, 1);
            send_frame (s, "decoy", 5, 0);
        }
        if (is_pub && tlen)
            send_frame (s, c->topic, tlen, 1);
        if (c->type == ZMQ_ROUTER)
            send_route (s, c->peer, strlen (c->peer));
        if (c->delim)
            send_frame (s, "", 0, 1);
        send_payload (c, s, 0, i, 0, bytes);
    }
    g_phase = "closing (linger)";
}

static void check_route (const struct config *c, struct frames *m, long i)
{
    if (m->n < 1)
        fail ("message %ld: no routing id frame", i);
    if (c->peer)
        expect_bytes (&m->f[0], c->peer, strlen (c->peer), "routing id");
    else if (zmq_msg_size (&m->f[0]) == 0)
        fail ("message %ld: empty routing id", i);
}

/* Frames that precede the payload: routing id, delimiter, topic. */
static int strip_envelope (const struct config *c, struct frames *m, long i)
{
    int first = 0;
    if (c->type == ZMQ_ROUTER) {
        check_route (c, m, i);
        first = 1;
    }
    if (c->delim) {
        if (m->n <= first)
            fail ("message %ld: missing the empty delimiter", i);
        expect_bytes (&m->f[first], "", 0, "delimiter frame");
        first++;
    }
    size_t tlen = strlen (c->topic);
    if ((c->type == ZMQ_SUB || c->type == ZMQ_XSUB) && tlen) {
        if (m->n <= first)
            fail ("message %ld: missing the topic frame", i);
        expect_bytes (&m->f[first], c->topic, tlen, "topic frame");
        first++;
    }
    return first;
}

static void do_recv (const struct config *c, void *s, uint64_t *bytes)
{
    int is_sub = c->type == ZMQ_SUB || c->type == ZMQ_XSUB;
    size_t tlen = strlen (c->topic);
    if (c->type == ZMQ_SUB) {
        if (zmq_setsockopt (s, ZMQ_SUBSCRIBE, c->topic, tlen) != 0)
            zfail ("setsockopt ZMQ_SUBSCRIBE");
    } else if (c->type == ZMQ_XSUB) {
        char sub[256];
        sub[0] = 1;
        memcpy (sub + 1, c->topic, tlen);
        send_frame (s, sub, tlen + 1, 0);
    } else if (tlen)
        fail ("topic= only for SUB/XSUB receivers");
    int hello = !strcmp (c->sync, "hello");
    if (!hello && strcmp (c->sync, "none") != 0)
        fail ("unknown sync '%s' for recv", c->sync);
    if (hello && !is_sub)
        fail ("sync=hello needs SUB or XSUB");

    int synced = !hello;
    g_phase = hello ? "sync: waiting for a hello" : "receiving";
    static struct frames m;
    for (long i = 0; i < c->count;) {
        g_msg = i;
        recv_all (s, &m);
        if (hello && i == 0 && is_hello (c, &m)) {
            if (c->topic[0])
                expect_bytes (&m.f[0], c->topic, tlen, "hello topic frame");
            if (!synced) {
                printf ("RELAY GO\n");
                fflush (stdout);
                synced = 1;
                g_phase = "receiving (synced)";
            }
            free_all (&m);
            continue;
        }
        if (!synced)
            fail ("data before any hello: the publisher did not wait");
        int first = strip_envelope (c, &m, i);
        check_payload (c, &m, first, 0, i, bytes);
        free_all (&m);
        i++;
    }
    g_phase = "closing";
}

static void do_client (const struct config *c, void *s, uint64_t *bytes)
{
    if (c->type == ZMQ_REQ && c->window != 1)
        fail ("REQ needs window=1");
    if (c->type == ZMQ_ROUTER && !c->peer)
        fail ("ROUTER client needs peer=ID");
    static struct frames m;
    long sent = 0, got = 0;
    while (got < c->count) {
        while (sent < c->count && sent - got < c->window) {
            g_phase = "sending request";
            g_msg = sent;
            if (c->type == ZMQ_ROUTER)
                send_route (s, c->peer, strlen (c->peer));
            if (c->delim)
                send_frame (s, "", 0, 1);
            send_payload (c, s, 0, sent, 0, bytes);
            sent++;
        }
        g_phase = "waiting for reply";
        g_msg = got;
        recv_all (s, &m);
        int first = strip_envelope (c, &m, got);
        check_payload (c, &m, first, 1, got, bytes);
        free_all (&m);
        got++;
    }
    g_phase = "closing";
}

static void do_server (const struct config *c, void *s, uint64_t *bytes)
{
    static struct frames m;
    for (long i = 0; i < c->count; i++) {
        g_phase = "waiting for request";
        g_msg = i;
        recv_all (s, &m);
        int first = strip_envelope (c, &m, i);
        check_payload (c, &m, first, 0, i, bytes);
        maybe_pause (c, i);
        g_phase = "sending reply";
        if (c->type == ZMQ_ROUTER) {
            zmq_msg_t *rid = &m.f[0];
            send_frame (s, zmq_msg_data (rid), zmq_msg_size (rid), 1);
        }
        if (c->delim)
            send_frame (s, "", 0, 1);
        send_payload (c, s, 1, i, 0, bytes);
        free_all (&m);
    }
    g_phase = "closing (linger)";
}

/* ------------------------------------------------------------- security */

static void setopt_str (void *s, int opt, const char *v, const char *name)
{
    if (zmq_setsockopt (s, opt, v, strlen (v)) != 0)
        zfail (name);
}

static void set_security (void *s, const char *sec)
{
    int one = 1;
    if (!sec)
        return;
    if (!strcmp (sec, "plain-client") || !strcmp (sec, "plain-client-wrong")) {
        setopt_str (s, ZMQ_PLAIN_USERNAME, "admin", "ZMQ_PLAIN_USERNAME");
        setopt_str (s, ZMQ_PLAIN_PASSWORD, strcmp (sec, "plain-client") ? "wrong" : "secret",
                    "ZMQ_PLAIN_PASSWORD");
    } else if (!strcmp (sec, "plain-server")) {
        if (zmq_setsockopt (s, ZMQ_PLAIN_SERVER, &one, sizeof one) != 0)
            zfail ("ZMQ_PLAIN_SERVER");
    } else if (!strcmp (sec, "curve-client") || !strcmp (sec, "curve-client-wrongkey")) {
        setopt_str (s, ZMQ_CURVE_SERVERKEY,
                    strcmp (sec, "curve-client") ? CLIENT_PUBLIC : SERVER_PUBLIC,
                    "ZMQ_CURVE_SERVERKEY");
        setopt_str (s, ZMQ_CURVE_PUBLICKEY, CLIENT_PUBLIC, "ZMQ_CURVE_PUBLICKEY");
        setopt_str (s, ZMQ_CURVE_SECRETKEY, CLIENT_SECRET, "ZMQ_CURVE_SECRETKEY");
    } else if (!strcmp (sec, "curve-client-unknown")) {
        setopt_str (s, ZMQ_CURVE_SERVERKEY, SERVER_PUBLIC, "ZMQ_CURVE_SERVERKEY");
        setopt_str (s, ZMQ_CURVE_PUBLICKEY, SERVER_PUBLIC, "ZMQ_CURVE_PUBLICKEY");
        setopt_str (s, ZMQ_CURVE_SECRETKEY, SERVER_SECRET, "ZMQ_CURVE_SECRETKEY");
    } else if (!strcmp (sec, "curve-server")) {
        if (zmq_setsockopt (s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0)
            zfail ("ZMQ_CURVE_SERVER");
        setopt_str (s, ZMQ_CURVE_SECRETKEY, SERVER_SECRET, "ZMQ_CURVE_SECRETKEY");
    } else
        fail ("unknown sec '%s'", sec);
    int mech = -1;
    size_t sz = sizeof mech;
    if (zmq_getsockopt (s, ZMQ_MECHANISM, &mech, &sz) != 0)
        zfail ("getsockopt ZMQ_MECHANISM");
    if (mech != (strncmp (sec, "plain", 5) == 0 ? ZMQ_PLAIN : ZMQ_CURVE))
        fail ("ZMQ_MECHANISM is %d after sec=%s", mech, sec);
}

/* The ZAP handler: answers every request until the context ends. */
static void zap_handler (void *sock)
{
    uint8_t client_key[32];
    zmq_z85_decode (client_key, CLIENT_PUBLIC);
    for (;;) {
        zmq_msg_t f[16];
        int n = 0, more = 1;
        while (more && n < 16) {
            zmq_msg_init (&f[n]);
            if (zmq_msg_recv (&f[n], sock, 0) < 0) {
                zmq_msg_close (&f[n]);
                for (int i = 0; i < n; i++)
                    zmq_msg_close (&f[i]);
                zmq_close (sock); /* ETERM: the context is ending */
                return;
            }
            more = zmq_msg_more (&f[n]);
            n++;
        }
        /* version, request id, domain, address, identity, mechanism, creds */
        const char *user = NULL;
        if (n >= 6) {
            const char *mech = zmq_msg_data (&f[5]);
            size_t ml = zmq_msg_size (&f[5]);
            if (ml == 5 && !memcmp (mech, "PLAIN", 5) && n == 8
                && zmq_msg_size (&f[6]) == 5 && !memcmp (zmq_msg_data (&f[6]), "admin", 5)
                && zmq_msg_size (&f[7]) == 6 && !memcmp (zmq_msg_data (&f[7]), "secret", 6))
                user = "admin";
            if (ml == 4 && !memcmp (mech, "NULL", 4) && n == 6
                && zmq_msg_size (&f[2]) == 4 && !memcmp (zmq_msg_data (&f[2]), "test", 4))
                user = "null-user";
            if (ml == 5 && !memcmp (mech, "CURVE", 5) && n == 7
                && zmq_msg_size (&f[6]) == 32
                && !memcmp (zmq_msg_data (&f[6]), client_key, 32))
                user = "curve-client";
        }
        const char *status = user ? "200" : "400";
        zmq_send (sock, zmq_msg_data (&f[0]), zmq_msg_size (&f[0]), ZMQ_SNDMORE);
        zmq_send (sock, zmq_msg_data (&f[1]), zmq_msg_size (&f[1]), ZMQ_SNDMORE);
        zmq_send (sock, status, 3, ZMQ_SNDMORE);
        zmq_send (sock, user ? "OK" : "denied", user ? 2 : 6, ZMQ_SNDMORE);
        zmq_send (sock, user ? user : "", user ? strlen (user) : 0, ZMQ_SNDMORE);
        zmq_send (sock, "", 0, 0);
        for (int i = 0; i < n; i++)
            zmq_msg_close (&f[i]);
    }
}

/* ---------------------------------------------------------------- watch */

static void *watch_start (void *ctx, void *s)
{
    if (zmq_socket_monitor (s, "inproc://peer-watch", ZMQ_EVENT_ALL) != 0)
        zfail ("zmq_socket_monitor");
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    if (!mon || zmq_connect (mon, "inproc://peer-watch") != 0)
        zfail ("monitor connect");
    setopt_int (mon, ZMQ_LINGER, 0, "setsockopt ZMQ_LINGER");
    return mon;
}

/* The events the harness reads by name; the others in hex. */
static const char *watch_event_name (unsigned ev)
{
    static char other[32];
    switch (ev) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "HANDSHAKE_FAILED_NO_DETAIL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "HANDSHAKE_FAILED_PROTOCOL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "HANDSHAKE_FAILED_AUTH";
        case ZMQ_EVENT_DISCONNECTED: return "DISCONNECTED";
        default: snprintf (other, sizeof other, "0x%x", ev); return other;
    }
}

/* Prints what happens to the socket until stdin closes. */
static void do_watch (const struct config *c, void *s, void *mon)
{
    g_phase = "watch";
    /* Queued before any handshake (a PUSH has its pipe from zmq_connect),
     * unless a refusal came first and took the pipe with it. */
    if (c->say && zmq_send (s, c->say, strlen (c->say), ZMQ_DONTWAIT) < 0)
        printf ("NOT SENT %s\n", zmq_strerror (zmq_errno ()));
    zmq_pollitem_t items[3] = {{mon, 0, ZMQ_POLLIN, 0},
                               {NULL, 0, ZMQ_POLLIN, 0},
                               {s, 0, ZMQ_POLLIN, 0}};
    int n = c->type == ZMQ_PULL ? 3 : 2;
    for (;;) {
        if (zmq_poll (items, n, -1) < 0)
            zfail ("zmq_poll");
        while (zmq_poll (items, 1, 0) > 0) {
            /* A version 1 event: 16-bit event and 32-bit value, then the
             * endpoint. */
            zmq_msg_t ev, ep;
            zmq_msg_init (&ev);
            zmq_msg_init (&ep);
            if (zmq_msg_recv (&ev, mon, 0) < 0 || zmq_msg_recv (&ep, mon, 0) < 0)
                zfail ("monitor recv");
            const uint8_t *d = zmq_msg_data (&ev);
            uint16_t event;
            uint32_t value;
            memcpy (&event, d, 2);
            memcpy (&value, d + 2, 4);
            printf ("EVENT %s %u\n", watch_event_name (event), value);
            zmq_msg_close (&ev);
            zmq_msg_close (&ep);
        }
        if (n == 3 && (items[2].revents & ZMQ_POLLIN)) {
            char buf[256];
            int r = zmq_recv (s, buf, sizeof buf - 1, ZMQ_DONTWAIT);
            if (r >= 0)
                printf ("MSG %.*s\n", r < (int) sizeof buf ? r : (int) sizeof buf - 1, buf);
        }
        fflush (stdout);
        /* A closed pipe polls as an error, not as readable. */
        if (items[1].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
            char buf[64];
            if (read (0, buf, sizeof buf) <= 0)
                return;
        }
    }
}

/* ---------------------------------------------------------------- probe */

/* Does this library do tcp/ipc at all? Exit 0: yes, 2: ENOTSUP, 1: other. */
static int probe (int argc, char **argv)
{
    const char *proto = argv[2];
    char ep[256];
    if (!strcmp (proto, "tcp"))
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:*");
    else if (!strcmp (proto, "ipc") && argc > 3)
        snprintf (ep, sizeof ep, "%s", argv[3]);
    else
        fail ("probe tcp | probe ipc ENDPOINT");
    void *ctx = zmq_ctx_new ();
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    void *c = zmq_socket (ctx, ZMQ_PAIR);
    int linger = 0;
    zmq_setsockopt (b, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt (c, ZMQ_LINGER, &linger, sizeof linger);
    int brc = zmq_bind (b, ep);
    int berr = brc ? zmq_errno () : 0;
    char last[256] = "";
    size_t sz = sizeof last;
    if (brc == 0)
        zmq_getsockopt (b, ZMQ_LAST_ENDPOINT, last, &sz);
    const char *target = brc == 0 && last[0] ? last
                         : !strcmp (proto, "tcp") ? "tcp://127.0.0.1:9"
                                                  : ep;
    int crc = zmq_connect (c, target);
    int cerr = crc ? zmq_errno () : 0;
    printf ("PROBE %s bind=%s%s connect=%s%s\n", proto,
            brc ? "error:" : "ok", brc ? zmq_strerror (berr) : "",
            crc ? "error:" : "ok", crc ? zmq_strerror (cerr) : "");
    fflush (stdout);
    zmq_close (b);
    zmq_close (c);
    zmq_ctx_term (ctx);
    if (berr == ENOTSUP || cerr == ENOTSUP)
        return 2;
    return brc || crc ? 1 : 0;
}

/* ----------------------------------------------------------------- main */

static double now_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main (int argc, char **argv)
{
    signal (SIGALRM, on_alarm);
    signal (SIGPIPE, SIG_IGN);
    alarm (30);
    if (argc >= 3 && !strcmp (argv[1], "probe"))
        return probe (argc, argv);
    if (argc < 5) {
        fprintf (stderr,
                 "usage: %s send|recv|client|server TYPE bind|connect "
                 "ENDPOINT [key=value ...]\n"
                 "       %s probe tcp | probe ipc ENDPOINT\n",
                 argv[0], argv[0]);
        return 2;
    }
    g_role = argv[1];
    g_type = argv[2];
    struct config c;
    parse (&c, argc, argv);
    alarm ((unsigned) g_timeout);
    double t0 = now_ms ();

    void *ctx = zmq_ctx_new ();
    if (!ctx)
        zfail ("zmq_ctx_new");
    void *zap_thread = NULL;
    if (c.zap) {
        void *h = zmq_socket (ctx, ZMQ_REP);
        if (!h || zmq_bind (h, "inproc://zeromq.zap.01") != 0)
            zfail ("ZAP handler bind");
        zap_thread = zmq_threadstart (zap_handler, h);
    }
    g_user = c.user;
    void *s = zmq_socket (ctx, c.type);
    if (!s)
        zfail ("zmq_socket");
    set_security (s, c.sec);
    if (c.domain && zmq_setsockopt (s, ZMQ_ZAP_DOMAIN, c.domain, strlen (c.domain)) != 0)
        zfail ("setsockopt ZMQ_ZAP_DOMAIN");
    setopt_int (s, ZMQ_LINGER, -1, "setsockopt ZMQ_LINGER");
    if (c.id && zmq_setsockopt (s, ZMQ_ROUTING_ID, c.id, strlen (c.id)) != 0)
        zfail ("setsockopt ZMQ_ROUTING_ID");
    if (c.type == ZMQ_ROUTER)
        setopt_int (s, ZMQ_ROUTER_MANDATORY, 1, "setsockopt ZMQ_ROUTER_MANDATORY");
    if (c.hb > 0) {
        setopt_int (s, ZMQ_HEARTBEAT_IVL, c.hb, "setsockopt ZMQ_HEARTBEAT_IVL");
        setopt_int (s, ZMQ_HEARTBEAT_TIMEOUT, 5 * c.hb,
                    "setsockopt ZMQ_HEARTBEAT_TIMEOUT");
        setopt_int (s, ZMQ_HEARTBEAT_TTL, 10 * c.hb, "setsockopt ZMQ_HEARTBEAT_TTL");
    }

    void *mon = !strcmp (c.role, "watch") ? watch_start (ctx, s) : NULL;
    if (!strcmp (c.mode, "bind")) {
        g_phase = "bind";
        if (zmq_bind (s, c.endpoint) != 0)
            zfail ("zmq_bind");
        char last[256] = "";
        size_t sz = sizeof last;
        if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, last, &sz) != 0)
            zfail ("getsockopt ZMQ_LAST_ENDPOINT");
        if (!last[0] || strstr (last, ":*") || strchr (last, '*'))
            fail ("ZMQ_LAST_ENDPOINT is '%s' after binding %s", last,
                  c.endpoint);
        printf ("ENDPOINT %s\n", last);
        fflush (stdout);
    } else {
        g_phase = "connect";
        if (zmq_connect (s, c.endpoint) != 0)
            zfail ("zmq_connect");
        /* Lets the harness start the binding side only now, to test
         * connecting before bind. */
        printf ("CONNECTING %s\n", c.endpoint);
        fflush (stdout);
    }

    uint64_t bytes = 0;
    if (!strcmp (c.role, "send"))
        do_send (&c, s, &bytes);
    else if (!strcmp (c.role, "recv"))
        do_recv (&c, s, &bytes);
    else if (!strcmp (c.role, "client"))
        do_client (&c, s, &bytes);
    else if (!strcmp (c.role, "server"))
        do_server (&c, s, &bytes);
    else if (mon)
        do_watch (&c, s, mon);
    else
        fail ("unknown role '%s'", c.role);

    /* Senders linger until everything is on the wire; receivers have nothing
     * left to deliver, but a SUB whose publisher is gone would re-send its
     * subscription to nobody and block zmq_ctx_term forever. */
    if (!strcmp (c.role, "recv") || !strcmp (c.role, "client") || mon)
        setopt_int (s, ZMQ_LINGER, 0, "setsockopt ZMQ_LINGER=0");
    if (mon)
        zmq_close (mon);
    if (zmq_close (s) != 0)
        zfail ("zmq_close");
    g_phase = "zmq_ctx_term";
    if (zmq_ctx_term (ctx) != 0)
        zfail ("zmq_ctx_term");
    if (zap_thread)
        zmq_threadclose (zap_thread);
    int maj, min, pat;
    zmq_version (&maj, &min, &pat);
    printf ("OK %s %s %s %s msgs=%ld bytes=%llu zmq=%d.%d.%d ms=%.0f\n", c.role,
            c.type_name, c.mode, c.endpoint, c.count, (unsigned long long) bytes,
            maj, min, pat, now_ms () - t0);
    fflush (stdout);
    return 0;
}
