/* Prints facts about the option and utility surface of the library it runs
 * on, one per line: every socket option's default for every socket type
 * (value or errno), which settings each type accepts, refused settings with
 * their errno, read-backs after a set, context options, and the utilities
 * (zmq_has, zmq_strerror, Z85, CURVE keys, atomic counters, stopwatch,
 * version).
 *
 * Built against Debian's libzmq 4.3.4 its output is the reference,
 * capi-tests/expected/option_defaults.txt; tests/capi.rs runs it on ours and
 * compares line by line, allowing only the lines listed in
 * capi-tests/expected/option_defaults.allowed.
 *
 * The output must not depend on the machine or the run: descriptors, times,
 * ports and random keys are printed as facts about them ("fd ok"), never as
 * raw values. The program always exits 0; the comparison is the test. */

#include <zmq.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Numbers zmq.h declares only with ZMQ_BUILD_DRAFT_API; a stable build
 * must treat them as unknown. */
#define OPT_ZERO_COPY_RECV 10

static void *ctx;

/* ------------------------------------------------------------------ */
/* Printing                                                             */

static const char *errname (int e)
{
    static char other[32];
    switch (e) {
        case EINVAL: return "EINVAL";
        case EFAULT: return "EFAULT";
        case EAGAIN: return "EAGAIN";
        case ENOTSUP: return "ENOTSUP";
        case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
        case ENOTSOCK: return "ENOTSOCK";
        case EMFILE: return "EMFILE";
        case ENOMEM: return "ENOMEM";
        case ENODEV: return "ENODEV";
        case ENOENT: return "ENOENT";
        case EINTR: return "EINTR";
        case EADDRINUSE: return "EADDRINUSE";
        case EHOSTUNREACH: return "EHOSTUNREACH";
        case EMSGSIZE: return "EMSGSIZE";
        case EFSM: return "EFSM";
        case ETERM: return "ETERM";
        case ENOCOMPATPROTO: return "ENOCOMPATPROTO";
        case EMTHREAD: return "EMTHREAD";
        default: snprintf (other, sizeof other, "errno %d", e); return other;
    }
}

/* Bytes as a C-like string literal: printable ASCII as is, the rest (and
 * the terminating NUL of string options) as escapes. */
static void put_escaped (const unsigned char *p, size_t n)
{
    putchar ('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == 0)
            fputs ("\\0", stdout);
        else if (c == '"' || c == '\\')
            printf ("\\%c", c);
        else if (c >= 32 && c < 127)
            putchar (c);
        else
            printf ("\\x%02x", c);
    }
    putchar ('"');
}

static void put_hex (const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf ("%02x", p[i]);
    if (n == 0)
        fputs ("(empty)", stdout);
}

static const char *type_name (int t)
{
    switch (t) {
        case ZMQ_PAIR: return "PAIR";
        case ZMQ_PUB: return "PUB";
        case ZMQ_SUB: return "SUB";
        case ZMQ_REQ: return "REQ";
        case ZMQ_REP: return "REP";
        case ZMQ_DEALER: return "DEALER";
        case ZMQ_ROUTER: return "ROUTER";
        case ZMQ_PULL: return "PULL";
        case ZMQ_PUSH: return "PUSH";
        case ZMQ_XPUB: return "XPUB";
        case ZMQ_XSUB: return "XSUB";
        case ZMQ_STREAM: return "STREAM";
        default: return "?";
    }
}

static const int types[] = {ZMQ_PAIR,   ZMQ_PUB,    ZMQ_SUB,  ZMQ_REQ,
                            ZMQ_REP,    ZMQ_DEALER, ZMQ_ROUTER, ZMQ_PULL,
                            ZMQ_PUSH,   ZMQ_XPUB,   ZMQ_XSUB, ZMQ_STREAM};
#define NTYPES (sizeof types / sizeof types[0])

/* ------------------------------------------------------------------ */
/* The options of zmq_getsockopt(3)/zmq_setsockopt(3) in zmq.h 4.3.4    */

enum kind
{
    K_INT,  /* int */
    K_I64,  /* int64_t */
    K_U64,  /* uint64_t */
    K_BYTES,  /* binary or string, read into a 256-byte buffer */
    K_KEY,  /* CURVE key: 32 bytes binary or 41 bytes Z85 */
    K_FD    /* ZMQ_FD: a descriptor, printed as a fact */
};

struct opt
{
    const char *name;
    int num;
    enum kind kind;
};

#define O(name, kind) {#name, name, kind}
static const struct opt opts[] = {
  O (ZMQ_AFFINITY, K_U64),
  O (ZMQ_ROUTING_ID, K_BYTES),
  O (ZMQ_SUBSCRIBE, K_BYTES),
  O (ZMQ_UNSUBSCRIBE, K_BYTES),
  O (ZMQ_RATE, K_INT),
  O (ZMQ_RECOVERY_IVL, K_INT),
  O (ZMQ_SNDBUF, K_INT),
  O (ZMQ_RCVBUF, K_INT),
  O (ZMQ_RCVMORE, K_INT),
  O (ZMQ_FD, K_FD),
  O (ZMQ_EVENTS, K_INT),
  O (ZMQ_TYPE, K_INT),
  O (ZMQ_LINGER, K_INT),
  O (ZMQ_RECONNECT_IVL, K_INT),
  O (ZMQ_BACKLOG, K_INT),
  O (ZMQ_RECONNECT_IVL_MAX, K_INT),
  O (ZMQ_MAXMSGSIZE, K_I64),
  O (ZMQ_SNDHWM, K_INT),
  O (ZMQ_RCVHWM, K_INT),
  O (ZMQ_MULTICAST_HOPS, K_INT),
  O (ZMQ_RCVTIMEO, K_INT),
  O (ZMQ_SNDTIMEO, K_INT),
  O (ZMQ_IPV4ONLY, K_INT),
  O (ZMQ_LAST_ENDPOINT, K_BYTES),
  O (ZMQ_ROUTER_MANDATORY, K_INT),
  O (ZMQ_TCP_KEEPALIVE, K_INT),
  O (ZMQ_TCP_KEEPALIVE_CNT, K_INT),
  O (ZMQ_TCP_KEEPALIVE_IDLE, K_INT),
  O (ZMQ_TCP_KEEPALIVE_INTVL, K_INT),
  O (ZMQ_TCP_ACCEPT_FILTER, K_BYTES),
  O (ZMQ_IMMEDIATE, K_INT),
  O (ZMQ_XPUB_VERBOSE, K_INT),
  O (ZMQ_ROUTER_RAW, K_INT),
  O (ZMQ_IPV6, K_INT),
  O (ZMQ_MECHANISM, K_INT),
  O (ZMQ_PLAIN_SERVER, K_INT),
  O (ZMQ_PLAIN_USERNAME, K_BYTES),
  O (ZMQ_PLAIN_PASSWORD, K_BYTES),
  O (ZMQ_CURVE_SERVER, K_INT),
  O (ZMQ_CURVE_PUBLICKEY, K_KEY),
  O (ZMQ_CURVE_SECRETKEY, K_KEY),
  O (ZMQ_CURVE_SERVERKEY, K_KEY),
  O (ZMQ_PROBE_ROUTER, K_INT),
  O (ZMQ_REQ_CORRELATE, K_INT),
  O (ZMQ_REQ_RELAXED, K_INT),
  O (ZMQ_CONFLATE, K_INT),
  O (ZMQ_ZAP_DOMAIN, K_BYTES),
  O (ZMQ_ROUTER_HANDOVER, K_INT),
  O (ZMQ_TOS, K_INT),
  O (ZMQ_IPC_FILTER_PID, K_INT),
  O (ZMQ_IPC_FILTER_UID, K_INT),
  O (ZMQ_IPC_FILTER_GID, K_INT),
  O (ZMQ_CONNECT_ROUTING_ID, K_BYTES),
  O (ZMQ_GSSAPI_SERVER, K_INT),
  O (ZMQ_GSSAPI_PRINCIPAL, K_BYTES),
  O (ZMQ_GSSAPI_SERVICE_PRINCIPAL, K_BYTES),
  O (ZMQ_GSSAPI_PLAINTEXT, K_INT),
  O (ZMQ_HANDSHAKE_IVL, K_INT),
  O (ZMQ_SOCKS_PROXY, K_BYTES),
  O (ZMQ_XPUB_NODROP, K_INT),
  O (ZMQ_BLOCKY, K_INT),
  O (ZMQ_XPUB_MANUAL, K_INT),
  O (ZMQ_XPUB_WELCOME_MSG, K_BYTES),
  O (ZMQ_STREAM_NOTIFY, K_INT),
  O (ZMQ_INVERT_MATCHING, K_INT),
  O (ZMQ_HEARTBEAT_IVL, K_INT),
  O (ZMQ_HEARTBEAT_TTL, K_INT),
  O (ZMQ_HEARTBEAT_TIMEOUT, K_INT),
  O (ZMQ_XPUB_VERBOSER, K_INT),
  O (ZMQ_CONNECT_TIMEOUT, K_INT),
  O (ZMQ_TCP_MAXRT, K_INT),
  O (ZMQ_THREAD_SAFE, K_INT),
  O (ZMQ_MULTICAST_MAXTPDU, K_INT),
  O (ZMQ_VMCI_BUFFER_SIZE, K_U64),
  O (ZMQ_VMCI_BUFFER_MIN_SIZE, K_U64),
  O (ZMQ_VMCI_BUFFER_MAX_SIZE, K_U64),
  O (ZMQ_VMCI_CONNECT_TIMEOUT, K_INT),
  O (ZMQ_USE_FD, K_INT),
  O (ZMQ_GSSAPI_PRINCIPAL_NAMETYPE, K_INT),
  O (ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, K_INT),
  O (ZMQ_BINDTODEVICE, K_BYTES),
};
#define NOPTS (sizeof opts / sizeof opts[0])

/* Option numbers zmq.h 4.3.4 does not define for a stable build (gaps,
 * draft options 93-112, beyond): all must be unknown. */
static const int unknown_opts[] = {-1, 0,  1,  2,  3,  10,  20,  26,  29,
                                   30, 67, 82, 83, 93, 94,  95,  96,  97,
                                   98, 99, 100, 101, 102, 103, 104, 105, 106,
                                   107, 108, 109, 110, 111, 112, 113, 1000};
#define NUNKNOWN (sizeof unknown_opts / sizeof unknown_opts[0])

static const char *opt_name (int num)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].num == num)
            return opts[i].name;
    return "?";
}


/* ------------------------------------------------------------------ */
/* Reading options                                                      */

static size_t natural_size (enum kind kind)
{
    switch (kind) {
        case K_INT: return sizeof (int);
        case K_I64: return sizeof (int64_t);
        case K_U64: return sizeof (uint64_t);
        case K_FD: return sizeof (int);
        case K_KEY: return 32;
        default: return 256;
    }
}

/* Reads option `num` with a buffer of `size` bytes and prints
 * "<label> = <value>" or "<label> -> <errno>". For fixed-size kinds the
 * returned size is printed when it is not the natural one. */
static void get_line (void *s, const char *label, int num, enum kind kind,
                      size_t size)
{
    unsigned char buf[512];
    memset (buf, 0xAA, sizeof buf);
    size_t sz = size;
    errno = 0;
    int rc = zmq_getsockopt (s, num, buf, &sz);
    if (rc != 0) {
        printf ("%s -> %s\n", label, errname (errno));
        return;
    }
    printf ("%s = ", label);
    switch (kind) {
        case K_INT: {
            int v;
            memcpy (&v, buf, sizeof v);
            printf ("%d", v);
            break;
        }
        case K_I64: {
            int64_t v;
            memcpy (&v, buf, sizeof v);
            printf ("%lld", (long long) v);
            break;
        }
        case K_U64: {
            uint64_t v;
            memcpy (&v, buf, sizeof v);
            printf ("%llu", (unsigned long long) v);
            break;
        }
        case K_FD: {
            int v;
            memcpy (&v, buf, sizeof v);
            fputs (v >= 0 ? "fd ok" : "fd negative", stdout);
            break;
        }
        case K_KEY:
            if (sz == 32)
                put_hex (buf, sz);
            else
                put_escaped (buf, sz < sizeof buf ? sz : sizeof buf);
            break;
        case K_BYTES:
            put_escaped (buf, sz < sizeof buf ? sz : sizeof buf);
            break;
    }
    if (kind == K_BYTES || sz != natural_size (kind))
        printf (" (size %zu)", sz);
    putchar ('\n');
}

/* Reads with a non-natural buffer size: "<T> get NAME[size] ...". */
static void get_sized (void *s, const char *tname, int num, enum kind kind,
                       size_t size)
{
    char label[128];
    snprintf (label, sizeof label, "%s get %s[%zu]", tname, opt_name (num),
              size);
    get_line (s, label, num, kind, size);
}

/* ------------------------------------------------------------------ */
/* Setting options                                                      */

/* Sets `num` and prints "<T> set NAME(desc) -> ok|errno"; returns rc. */
static int set_line (void *s, const char *tname, int num, const void *val,
                     size_t len, const char *desc)
{
    char name[32];
    const char *n = opt_name (num);
    if (strcmp (n, "?") == 0) {
        snprintf (name, sizeof name, "option %d", num);
        n = name;
    }
    errno = 0;
    int rc = zmq_setsockopt (s, num, val, len);
    int e = errno;
    printf ("%s set %s(%s) -> %s\n", tname, n, desc, rc == 0 ? "ok" : errname (e));
    return rc;
}

static int set_int (void *s, const char *tname, int num, int v)
{
    char d[32];
    snprintf (d, sizeof d, "%d", v);
    return set_line (s, tname, num, &v, sizeof v, d);
}

/* An int option given a buffer of the wrong size. */
static int set_int_len (void *s, const char *tname, int num, size_t len)
{
    int64_t v = 1;
    char d[32];
    snprintf (d, sizeof d, "1, len %zu", len);
    return set_line (s, tname, num, &v, len, d);
}

static int set_i64 (void *s, const char *tname, int num, int64_t v)
{
    char d[40];
    snprintf (d, sizeof d, "int64 %lld", (long long) v);
    return set_line (s, tname, num, &v, sizeof v, d);
}

static int set_u64 (void *s, const char *tname, int num, uint64_t v)
{
    char d[40];
    snprintf (d, sizeof d, "uint64 %llu", (unsigned long long) v);
    return set_line (s, tname, num, &v, sizeof v, d);
}

/* Binary or string values, described by their printable form. */
static int set_bytes (void *s, const char *tname, int num, const void *val,
                      size_t len)
{
    char d[64];
    if (val == NULL)
        snprintf (d, sizeof d, "NULL, len %zu", len);
    else if (len <= 24) {
        int printable = 1;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = ((const unsigned char *) val)[i];
            if (c < 32 || c >= 127 || c == '"' || c == '\\')
                printable = 0;
        }
        if (printable)
            snprintf (d, sizeof d, "\"%.*s\"", (int) len, (const char *) val);
        else
            snprintf (d, sizeof d, "%zu bytes from 0x%02x", len,
                      ((const unsigned char *) val)[0]);
    } else
        snprintf (d, sizeof d, "%zu bytes from 0x%02x", len,
                  ((const unsigned char *) val)[0]);
    return set_line (s, tname, num, val, len, d);
}

static void *new_socket (int type)
{
    void *s = zmq_socket (ctx, type);
    if (!s) {
        printf ("zmq_socket(%s) failed: %s\n", type_name (type),
                errname (errno));
        exit (0);
    }
    return s;
}

/* A known CURVE key pair (made once with zmq_curve_keypair): reading and
 * deriving keys from it gives the same bytes on every run. */
static const char z85_public[] = "qV@v&ulDKDFl4{^+@myX%dC4hwh@OtPTv(H]!HkJ";
static const char z85_secret[] = "=uFrfrj/UCue.c$ha<oDSy!@&gPJ+nZmOV{@<:Q5";

/* ------------------------------------------------------------------ */
/* Sections                                                             */

static void defaults (void)
{
    for (size_t t = 0; t < NTYPES; t++) {
        void *s = new_socket (types[t]);
        const char *tn = type_name (types[t]);
        for (size_t i = 0; i < NOPTS; i++) {
            char label[96];
            snprintf (label, sizeof label, "%s %s", tn, opts[i].name);
            get_line (s, label, opts[i].num, opts[i].kind,
                      natural_size (opts[i].kind));
            if (opts[i].kind == K_KEY) {
                snprintf (label, sizeof label, "%s %s[41]", tn, opts[i].name);
                get_line (s, label, opts[i].num, K_KEY, 41);
            }
        }
        zmq_close (s);
    }
}

/* For every type, every known option set to a value libzmq accepts for
 * some type: shows which options each type takes. Each on a new socket. */
static void accepted_by_type (void)
{
    unsigned char key[32];
    zmq_z85_decode (key, z85_public);
    for (size_t t = 0; t < NTYPES; t++) {
        const char *tn = type_name (types[t]);
        for (size_t i = 0; i < NOPTS; i++) {
            void *s = new_socket (types[t]);
            int num = opts[i].num;
            const char *str = NULL;
            int iv = 1;
            switch (num) {
                case ZMQ_ROUTING_ID: str = "id"; break;
                case ZMQ_SUBSCRIBE:
                case ZMQ_UNSUBSCRIBE: str = "a"; break;
                case ZMQ_LAST_ENDPOINT: str = "inproc://x"; break;
                case ZMQ_TCP_ACCEPT_FILTER: str = "127.0.0.1"; break;
                case ZMQ_PLAIN_USERNAME: str = "user"; break;
                case ZMQ_PLAIN_PASSWORD: str = "pass"; break;
                case ZMQ_ZAP_DOMAIN: str = "global"; break;
                case ZMQ_CONNECT_ROUTING_ID: str = "peer"; break;
                case ZMQ_GSSAPI_PRINCIPAL: str = "p"; break;
                case ZMQ_GSSAPI_SERVICE_PRINCIPAL: str = "s"; break;
                case ZMQ_SOCKS_PROXY: str = "127.0.0.1:1080"; break;
                case ZMQ_XPUB_WELCOME_MSG: str = "hi"; break;
                case ZMQ_BINDTODEVICE: str = "lo"; break;
                case ZMQ_RATE: iv = 200; break;
                case ZMQ_RECOVERY_IVL: iv = 5000; break;
                case ZMQ_SNDBUF:
                case ZMQ_RCVBUF: iv = 65536; break;
                case ZMQ_LINGER: iv = 0; break;
                case ZMQ_RECONNECT_IVL: iv = 200; break;
                case ZMQ_BACKLOG: iv = 50; break;
                case ZMQ_RECONNECT_IVL_MAX: iv = 1000; break;
                case ZMQ_SNDHWM:
                case ZMQ_RCVHWM:
                case ZMQ_RCVTIMEO:
                case ZMQ_SNDTIMEO: iv = 10; break;
                case ZMQ_MULTICAST_HOPS: iv = 2; break;
                case ZMQ_IPV4ONLY: iv = 0; break;
                case ZMQ_TCP_KEEPALIVE_CNT: iv = 5; break;
                case ZMQ_TCP_KEEPALIVE_IDLE: iv = 60; break;
                case ZMQ_TCP_KEEPALIVE_INTVL: iv = 10; break;
                case ZMQ_TOS: iv = 8; break;
                case ZMQ_IPC_FILTER_UID:
                case ZMQ_IPC_FILTER_GID: iv = 0; break;
                case ZMQ_HANDSHAKE_IVL: iv = 1000; break;
                case ZMQ_BLOCKY: iv = 0; break;
                case ZMQ_STREAM_NOTIFY: iv = 0; break;
                case ZMQ_HEARTBEAT_IVL: iv = 100; break;
                case ZMQ_HEARTBEAT_TTL: iv = 1000; break;
                case ZMQ_HEARTBEAT_TIMEOUT: iv = 500; break;
                case ZMQ_CONNECT_TIMEOUT:
                case ZMQ_TCP_MAXRT:
                case ZMQ_VMCI_CONNECT_TIMEOUT: iv = 100; break;
                case ZMQ_MULTICAST_MAXTPDU: iv = 1000; break;
                case ZMQ_USE_FD: iv = -1; break;
                default: break;
            }
            switch (opts[i].kind) {
                case K_INT:
                case K_FD: set_int (s, tn, num, iv); break;
                case K_I64: set_i64 (s, tn, num, 1024); break;
                case K_U64:
                    set_u64 (s, tn, num, num == ZMQ_AFFINITY ? 1 : 4096);
                    break;
                case K_KEY:
                    if (num == ZMQ_CURVE_PUBLICKEY)
                        set_bytes (s, tn, num, key, 32);
                    else
                        set_bytes (s, tn, num, z85_secret, 40);
                    break;
                case K_BYTES: set_bytes (s, tn, num, str, strlen (str)); break;
            }
            zmq_close (s);
        }
    }
}

/* Generic options given bad sizes or values (on a DEALER), then the
 * type-specific ones on the types that take them. */
static void refusals (void)
{
    void *s = new_socket (ZMQ_DEALER);
    const char *tn = "DEALER";

    /* Every int option with an 8-byte, a 2-byte and an empty value. */
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].kind != K_INT)
            continue;
        set_int_len (s, tn, opts[i].num, 8);
        set_int_len (s, tn, opts[i].num, 2);
        set_int_len (s, tn, opts[i].num, 0);
    }
    /* 64-bit options with 4 bytes. */
    set_int_len (s, tn, ZMQ_MAXMSGSIZE, 4);
    set_int_len (s, tn, ZMQ_AFFINITY, 4);

    /* Out of range. */
    int ints[][2] = {
      {ZMQ_SNDHWM, -1},          {ZMQ_RCVHWM, -1},
      {ZMQ_RATE, 0},             {ZMQ_RATE, -1},
      {ZMQ_RECOVERY_IVL, -1},    {ZMQ_SNDBUF, -2},
      {ZMQ_SNDBUF, -1},          {ZMQ_SNDBUF, 0},
      {ZMQ_RCVBUF, -2},          {ZMQ_RCVBUF, -1},
      {ZMQ_LINGER, -2},          {ZMQ_LINGER, -1},
      {ZMQ_RECONNECT_IVL, -2},   {ZMQ_RECONNECT_IVL, -1},
      {ZMQ_RECONNECT_IVL_MAX, -1}, {ZMQ_BACKLOG, -1},
      {ZMQ_MULTICAST_HOPS, 0},   {ZMQ_MULTICAST_HOPS, -1},
      {ZMQ_RCVTIMEO, -2},        {ZMQ_SNDTIMEO, -2},
      {ZMQ_IPV4ONLY, 2},         {ZMQ_IPV4ONLY, -1},
      {ZMQ_TCP_KEEPALIVE, 2},    {ZMQ_TCP_KEEPALIVE, -2},
      {ZMQ_TCP_KEEPALIVE, -1},   {ZMQ_TCP_KEEPALIVE_CNT, -2},
      {ZMQ_TCP_KEEPALIVE_IDLE, -2}, {ZMQ_TCP_KEEPALIVE_INTVL, -2},
      {ZMQ_IMMEDIATE, 2},        {ZMQ_IMMEDIATE, -1},
      {ZMQ_IPV6, 2},             {ZMQ_IPV6, -1},
      {ZMQ_PLAIN_SERVER, 2},     {ZMQ_PLAIN_SERVER, 0},
      {ZMQ_CURVE_SERVER, 2},     {ZMQ_CURVE_SERVER, 0},
      {ZMQ_CONFLATE, 2},         {ZMQ_CONFLATE, -1},
      {ZMQ_TOS, -1},             {ZMQ_TOS, 256},
      {ZMQ_GSSAPI_SERVER, 2},    {ZMQ_GSSAPI_PLAINTEXT, 2},
      {ZMQ_HANDSHAKE_IVL, -1},   {ZMQ_HANDSHAKE_IVL, 0},
      {ZMQ_STREAM_NOTIFY, 2},    {ZMQ_INVERT_MATCHING, 2},
      {ZMQ_INVERT_MATCHING, -1}, {ZMQ_HEARTBEAT_IVL, -1},
      {ZMQ_HEARTBEAT_TTL, -1},   {ZMQ_HEARTBEAT_TTL, 6553599},
      {ZMQ_HEARTBEAT_TTL, 6553600}, {ZMQ_HEARTBEAT_TIMEOUT, -2},
      {ZMQ_HEARTBEAT_TIMEOUT, -1}, {ZMQ_CONNECT_TIMEOUT, -1},
      {ZMQ_TCP_MAXRT, -1},       {ZMQ_MULTICAST_MAXTPDU, 0},
      {ZMQ_MULTICAST_MAXTPDU, -1}, {ZMQ_USE_FD, -2},
      {ZMQ_GSSAPI_PRINCIPAL_NAMETYPE, 3}, {ZMQ_GSSAPI_PRINCIPAL_NAMETYPE, -1},
      {ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE, 3},
      {ZMQ_VMCI_CONNECT_TIMEOUT, -2},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        set_int (s, tn, ints[i][0], ints[i][1]);
    set_i64 (s, tn, ZMQ_MAXMSGSIZE, -2);
    set_i64 (s, tn, ZMQ_MAXMSGSIZE, -1);
    set_i64 (s, tn, ZMQ_MAXMSGSIZE, 0);
    set_u64 (s, tn, ZMQ_AFFINITY, UINT64_MAX);
    set_u64 (s, tn, ZMQ_VMCI_BUFFER_SIZE, 0);

    /* Routing ids: 1 to 255 bytes, not starting with a zero byte. */
    unsigned char big[300];
    memset (big, 'r', sizeof big);
    set_bytes (s, tn, ZMQ_ROUTING_ID, "", 0);
    set_bytes (s, tn, ZMQ_ROUTING_ID, NULL, 0);
    set_bytes (s, tn, ZMQ_ROUTING_ID, big, 256);
    set_bytes (s, tn, ZMQ_ROUTING_ID, big, 255);
    set_bytes (s, tn, ZMQ_ROUTING_ID, "\0abc", 4);
    set_bytes (s, tn, ZMQ_ROUTING_ID, "a\0c", 3);
    set_bytes (s, tn, ZMQ_ROUTING_ID, "\xff", 1);

    /* Strings with length limits. */
    set_bytes (s, tn, ZMQ_ZAP_DOMAIN, big, 256);
    set_bytes (s, tn, ZMQ_ZAP_DOMAIN, big, 255);
    set_bytes (s, tn, ZMQ_ZAP_DOMAIN, "", 0);
    set_bytes (s, tn, ZMQ_ZAP_DOMAIN, NULL, 0);
    set_bytes (s, tn, ZMQ_PLAIN_USERNAME, big, 256);
    set_bytes (s, tn, ZMQ_PLAIN_USERNAME, big, 255);
    set_bytes (s, tn, ZMQ_PLAIN_USERNAME, "", 0);
    set_bytes (s, tn, ZMQ_PLAIN_USERNAME, NULL, 0);
    set_bytes (s, tn, ZMQ_PLAIN_PASSWORD, big, 256);
    set_bytes (s, tn, ZMQ_PLAIN_PASSWORD, "", 0);
    set_bytes (s, tn, ZMQ_PLAIN_PASSWORD, NULL, 0);
    set_bytes (s, tn, ZMQ_BINDTODEVICE, big, 17);
    set_bytes (s, tn, ZMQ_BINDTODEVICE, big, 16);
    set_bytes (s, tn, ZMQ_BINDTODEVICE, big, 15);
    set_bytes (s, tn, ZMQ_BINDTODEVICE, "", 0);
    set_bytes (s, tn, ZMQ_BINDTODEVICE, NULL, 0);
    set_bytes (s, tn, ZMQ_SOCKS_PROXY, "", 0);
    set_bytes (s, tn, ZMQ_SOCKS_PROXY, NULL, 0);
    set_bytes (s, tn, ZMQ_SOCKS_PROXY, big, 256);
    set_bytes (s, tn, ZMQ_GSSAPI_PRINCIPAL, "", 0);
    set_bytes (s, tn, ZMQ_GSSAPI_PRINCIPAL, big, 256);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, "not an address", 14);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, "10.0.0.0/8", 10);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, "10.0.0.0/33", 11);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, "", 0);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, NULL, 0);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, "\0abc", 4);
    set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, big, 256);
    const char *filters[] = {"10.0.0.1/32", "10.0.0.0/0", "10.0.0.0/",
                             "10.0.0.0/8x", "10.0.0.0/-1", "::1",
                             "::1/128",     "::1/129",    "[::1]",
                             "localhost",   "*",          "10.0.0.256"};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        set_bytes (s, tn, ZMQ_TCP_ACCEPT_FILTER, filters[i],
                   strlen (filters[i]));
    /* The same on an IPv6 socket, which takes IPv6 addresses. */
    void *s6 = new_socket (ZMQ_DEALER);
    set_int (s6, "DEALER", ZMQ_IPV6, 1);
    const char *filters6[] = {"::1",        "[::1]",      "::1/128",
                              "::1/129",    "::1/0",      "fe80::1%lo",
                              "10.0.0.1",   "10.0.0.1/33", "127.1",
                              "::ffff:10.0.0.1/96"};
    for (size_t i = 0; i < sizeof filters6 / sizeof filters6[0]; i++)
        set_bytes (s6, "DEALER (IPV6)", ZMQ_TCP_ACCEPT_FILTER, filters6[i],
                   strlen (filters6[i]));
    zmq_close (s6);
    int ipcf[] = {ZMQ_IPC_FILTER_PID, ZMQ_IPC_FILTER_UID, ZMQ_IPC_FILTER_GID};
    for (int k = 0; k < 3; k++) {
        set_bytes (s, tn, ipcf[k], NULL, 0);
        set_int (s, tn, ipcf[k], -1);
        set_int_len (s, tn, ipcf[k], 8);
    }

    /* CURVE keys: 32 bytes binary or 40 characters of Z85 (41 with the
     * NUL); anything else is refused. */
    unsigned char key[33];
    memset (key, 7, sizeof key);
    int keyopts[] = {ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY,
                     ZMQ_CURVE_SERVERKEY};
    for (int k = 0; k < 3; k++) {
        set_bytes (s, tn, keyopts[k], key, 31);
        set_bytes (s, tn, keyopts[k], key, 33);
        set_bytes (s, tn, keyopts[k], key, 0);
        set_bytes (s, tn, keyopts[k], NULL, 0);
        set_bytes (s, tn, keyopts[k], z85_public, 39);
        set_bytes (s, tn, keyopts[k], z85_public, 41);
        set_bytes (s, tn, keyopts[k], "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
                   40);
        set_bytes (s, tn, keyopts[k], "#########################################",
                   41);
    }

    /* Set-only and read-only options. */
    set_int (s, tn, ZMQ_TYPE, ZMQ_PUB);
    set_int (s, tn, ZMQ_RCVMORE, 0);
    set_int (s, tn, ZMQ_EVENTS, 0);
    set_int (s, tn, ZMQ_FD, 0);
    set_int (s, tn, ZMQ_MECHANISM, 0);
    set_int (s, tn, ZMQ_THREAD_SAFE, 0);
    set_bytes (s, tn, ZMQ_LAST_ENDPOINT, "", 0);

    /* Unknown option numbers, set and read. */
    for (size_t i = 0; i < NUNKNOWN; i++) {
        char label[64];
        set_int (s, tn, unknown_opts[i], 1);
        snprintf (label, sizeof label, "%s get option %d", tn, unknown_opts[i]);
        get_line (s, label, unknown_opts[i], K_INT, sizeof (int));
    }
    zmq_close (s);

    /* Type-specific options with bad values, on the types that take them. */
    struct
    {
        int type;
        int num;
    } bools[] = {
      {ZMQ_ROUTER, ZMQ_ROUTER_MANDATORY}, {ZMQ_ROUTER, ZMQ_ROUTER_HANDOVER},
      {ZMQ_ROUTER, ZMQ_ROUTER_RAW},       {ZMQ_ROUTER, ZMQ_PROBE_ROUTER},
      {ZMQ_REP, ZMQ_ROUTER_MANDATORY},    {ZMQ_DEALER, ZMQ_PROBE_ROUTER},
      {ZMQ_REQ, ZMQ_PROBE_ROUTER},        {ZMQ_REQ, ZMQ_REQ_CORRELATE},
      {ZMQ_REQ, ZMQ_REQ_RELAXED},         {ZMQ_XPUB, ZMQ_XPUB_VERBOSE},
      {ZMQ_XPUB, ZMQ_XPUB_VERBOSER},      {ZMQ_XPUB, ZMQ_XPUB_MANUAL},
      {ZMQ_XPUB, ZMQ_XPUB_NODROP},        {ZMQ_PUB, ZMQ_XPUB_NODROP},
      {ZMQ_STREAM, ZMQ_STREAM_NOTIFY},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
        const char *n = type_name (bools[i].type);
        void *t = new_socket (bools[i].type);
        set_int (t, n, bools[i].num, 2);
        set_int (t, n, bools[i].num, -1);
        set_int_len (t, n, bools[i].num, 8);
        set_int (t, n, bools[i].num, 0);
        zmq_close (t);
    }

    /* Subscriptions: SUB takes any bytes, even none; XSUB and PUB none. */
    void *t = new_socket (ZMQ_SUB);
    set_bytes (t, "SUB", ZMQ_SUBSCRIBE, NULL, 0);
    set_bytes (t, "SUB", ZMQ_SUBSCRIBE, "", 0);
    set_bytes (t, "SUB", ZMQ_SUBSCRIBE, big, 256);
    set_bytes (t, "SUB", ZMQ_UNSUBSCRIBE, "never", 5);
    set_bytes (t, "SUB", ZMQ_UNSUBSCRIBE, NULL, 0);
    zmq_close (t);
    t = new_socket (ZMQ_XPUB);
    set_bytes (t, "XPUB", ZMQ_SUBSCRIBE, "a", 1);
    set_int (t, "XPUB", ZMQ_XPUB_MANUAL, 1);
    set_bytes (t, "XPUB", ZMQ_SUBSCRIBE, "a", 1);
    set_bytes (t, "XPUB", ZMQ_UNSUBSCRIBE, "a", 1);
    set_bytes (t, "XPUB", ZMQ_XPUB_WELCOME_MSG, NULL, 0);
    set_bytes (t, "XPUB", ZMQ_XPUB_WELCOME_MSG, "", 0);
    set_bytes (t, "XPUB", ZMQ_XPUB_WELCOME_MSG, big, 256);
    zmq_close (t);

    /* Connect routing ids: routing sockets only, 1 to 255 bytes. */
    int routing[] = {ZMQ_ROUTER, ZMQ_STREAM};
    for (int r = 0; r < 2; r++) {
        const char *n = type_name (routing[r]);
        t = new_socket (routing[r]);
        set_bytes (t, n, ZMQ_CONNECT_ROUTING_ID, "", 0);
        set_bytes (t, n, ZMQ_CONNECT_ROUTING_ID, NULL, 0);
        set_bytes (t, n, ZMQ_CONNECT_ROUTING_ID, big, 256);
        set_bytes (t, n, ZMQ_CONNECT_ROUTING_ID, big, 255);
        set_bytes (t, n, ZMQ_CONNECT_ROUTING_ID, "\0abc", 4);
        zmq_close (t);
    }
}

/* Reads with unusual buffer sizes, and values read back after a set. */
static void readbacks (void)
{
    void *s = new_socket (ZMQ_DEALER);
    const char *tn = "DEALER";
    get_sized (s, tn, ZMQ_SNDHWM, K_INT, 8);
    get_sized (s, tn, ZMQ_SNDHWM, K_INT, 2);
    get_sized (s, tn, ZMQ_SNDHWM, K_INT, 0);
    get_sized (s, tn, ZMQ_LINGER, K_INT, 8);
    get_sized (s, tn, ZMQ_RCVMORE, K_INT, 8);
    get_sized (s, tn, ZMQ_RCVMORE, K_INT, 2);
    get_sized (s, tn, ZMQ_EVENTS, K_INT, 8);
    get_sized (s, tn, ZMQ_EVENTS, K_INT, 2);
    get_sized (s, tn, ZMQ_THREAD_SAFE, K_INT, 8);
    get_sized (s, tn, ZMQ_THREAD_SAFE, K_INT, 2);
    get_sized (s, tn, ZMQ_TYPE, K_INT, 8);
    get_sized (s, tn, ZMQ_FD, K_FD, 8);
    get_sized (s, tn, ZMQ_FD, K_FD, 2);
    get_sized (s, tn, ZMQ_MAXMSGSIZE, K_I64, 4);
    get_sized (s, tn, ZMQ_MAXMSGSIZE, K_I64, 16);
    get_sized (s, tn, ZMQ_AFFINITY, K_U64, 4);
    get_sized (s, tn, ZMQ_AFFINITY, K_U64, 16);
    get_sized (s, tn, ZMQ_LAST_ENDPOINT, K_BYTES, 0);
    get_sized (s, tn, ZMQ_LAST_ENDPOINT, K_BYTES, 1);
    get_sized (s, tn, ZMQ_ROUTING_ID, K_BYTES, 0);
    get_sized (s, tn, ZMQ_ZAP_DOMAIN, K_BYTES, 0);
    get_sized (s, tn, ZMQ_ZAP_DOMAIN, K_BYTES, 1);
    get_sized (s, tn, ZMQ_PLAIN_USERNAME, K_BYTES, 0);
    get_sized (s, tn, ZMQ_PLAIN_USERNAME, K_BYTES, 1);
    get_sized (s, tn, ZMQ_SOCKS_PROXY, K_BYTES, 0);
    get_sized (s, tn, ZMQ_SOCKS_PROXY, K_BYTES, 1);
    get_sized (s, tn, ZMQ_BINDTODEVICE, K_BYTES, 0);
    get_sized (s, tn, ZMQ_BINDTODEVICE, K_BYTES, 1);
    get_sized (s, tn, ZMQ_CURVE_PUBLICKEY, K_KEY, 40);
    get_sized (s, tn, ZMQ_CURVE_PUBLICKEY, K_KEY, 64);
    zmq_close (s);

    /* One option set, then read back, each on a new DEALER. */
    struct
    {
        int num;
        int v;
    } ints[] = {
      {ZMQ_SNDHWM, 0},          {ZMQ_SNDBUF, 0},
      {ZMQ_SNDBUF, -1},         {ZMQ_RCVBUF, 0},
      {ZMQ_LINGER, 0},          {ZMQ_RECONNECT_IVL, -1},
      {ZMQ_HEARTBEAT_TTL, 1234}, {ZMQ_HEARTBEAT_TTL, 99},
      {ZMQ_HEARTBEAT_TTL, 6553599}, {ZMQ_HEARTBEAT_IVL, 250},
      {ZMQ_HEARTBEAT_TIMEOUT, 0}, {ZMQ_TCP_KEEPALIVE, 1},
      {ZMQ_TCP_KEEPALIVE, 0},   {ZMQ_TCP_KEEPALIVE_CNT, 0},
      {ZMQ_TOS, 255},           {ZMQ_IPV6, 1},
      {ZMQ_IPV4ONLY, 0},        {ZMQ_IPV4ONLY, 1},
      {ZMQ_CONFLATE, 1},        {ZMQ_IMMEDIATE, 1},
      {ZMQ_HANDSHAKE_IVL, 0},   {ZMQ_INVERT_MATCHING, 1},
      {ZMQ_INVERT_MATCHING, 2}, {ZMQ_INVERT_MATCHING, -1},
      {ZMQ_HEARTBEAT_TTL, -1},  {ZMQ_HEARTBEAT_TTL, -99},
      {ZMQ_MULTICAST_HOPS, 255}, {ZMQ_MULTICAST_MAXTPDU, 1},
      {ZMQ_RATE, 1},            {ZMQ_RECOVERY_IVL, 0},
      {ZMQ_USE_FD, 5},          {ZMQ_CONNECT_TIMEOUT, 7},
      {ZMQ_TCP_MAXRT, 7},       {ZMQ_STREAM_NOTIFY, 0},
      {ZMQ_PROBE_ROUTER, 1},    {ZMQ_BACKLOG, 0},
      {ZMQ_RCVTIMEO, 0},        {ZMQ_SNDTIMEO, 0},
      {ZMQ_RECONNECT_IVL_MAX, 50},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        s = new_socket (ZMQ_DEALER);
        char label[128];
        char set[64];
        snprintf (set, sizeof set, "%s(%d)", opt_name (ints[i].num),
                  ints[i].v);
        if (set_int (s, tn, ints[i].num, ints[i].v) == 0) {
            snprintf (label, sizeof label, "%s after set %s: %s", tn, set,
                      opt_name (ints[i].num));
            get_line (s, label, ints[i].num, K_INT, sizeof (int));
            if (ints[i].num == ZMQ_IPV6 || ints[i].num == ZMQ_IPV4ONLY) {
                int other = ints[i].num == ZMQ_IPV6 ? ZMQ_IPV4ONLY : ZMQ_IPV6;
                snprintf (label, sizeof label, "%s after set %s: %s", tn, set,
                          opt_name (other));
                get_line (s, label, other, K_INT, sizeof (int));
            }
        }
        zmq_close (s);
    }

    /* Binary and string options read back. */
    struct
    {
        int num;
        const char *v;
        size_t len;
    } strs[] = {
      {ZMQ_ROUTING_ID, "abc", 3},      {ZMQ_ROUTING_ID, "a\0c", 3},
      {ZMQ_ZAP_DOMAIN, "dom", 3},      {ZMQ_ZAP_DOMAIN, "", 0},
      {ZMQ_BINDTODEVICE, "lo", 2},     {ZMQ_SOCKS_PROXY, "127.0.0.1:1080", 14},
      {ZMQ_SOCKS_PROXY, "", 0},        {ZMQ_CONNECT_ROUTING_ID, "peer", 4},
      {ZMQ_PLAIN_USERNAME, "user", 4}, {ZMQ_PLAIN_PASSWORD, "pass", 4},
      {ZMQ_XPUB_WELCOME_MSG, "hi", 2}, {ZMQ_TCP_ACCEPT_FILTER, "127.0.0.1", 9},
    };
    int strtypes[] = {ZMQ_DEALER, ZMQ_ROUTER, ZMQ_XPUB};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        for (int k = 0; k < 3; k++) {
            /* Type-specific ones only on their type. */
            if ((strs[i].num == ZMQ_CONNECT_ROUTING_ID) != (strtypes[k] == ZMQ_ROUTER))
                continue;
            if ((strs[i].num == ZMQ_XPUB_WELCOME_MSG) != (strtypes[k] == ZMQ_XPUB))
                continue;
            const char *n = type_name (strtypes[k]);
            s = new_socket (strtypes[k]);
            if (set_bytes (s, n, strs[i].num, strs[i].v, strs[i].len) == 0) {
                char label[128];
                snprintf (label, sizeof label, "%s after set %s(%zu bytes): %s",
                          n, opt_name (strs[i].num), strs[i].len,
                          opt_name (strs[i].num));
                get_line (s, label, strs[i].num, K_BYTES, 256);
                if (strs[i].num == ZMQ_ROUTING_ID) {
                    snprintf (label, sizeof label,
                              "%s after set %s(%zu bytes): get[2]", n,
                              opt_name (strs[i].num), strs[i].len);
                    get_line (s, label, strs[i].num, K_BYTES, 2);
                    snprintf (label, sizeof label,
                              "%s after set %s(%zu bytes): get[3]", n,
                              opt_name (strs[i].num), strs[i].len);
                    get_line (s, label, strs[i].num, K_BYTES, 3);
                }
                if (strs[i].num == ZMQ_ZAP_DOMAIN && strs[i].len == 3) {
                    snprintf (label, sizeof label,
                              "%s after set %s(3 bytes): get[3]", n,
                              opt_name (strs[i].num));
                    get_line (s, label, strs[i].num, K_BYTES, 3);
                }
                snprintf (label, sizeof label, "%s after set %s(%zu bytes): %s",
                          n, opt_name (strs[i].num), strs[i].len,
                          "ZMQ_MECHANISM");
                get_line (s, label, ZMQ_MECHANISM, K_INT, sizeof (int));
            }
            zmq_close (s);
        }
    }

    /* 64-bit options read back. */
    s = new_socket (ZMQ_DEALER);
    if (set_i64 (s, tn, ZMQ_MAXMSGSIZE, 0) == 0)
        get_line (s, "DEALER after set ZMQ_MAXMSGSIZE(0): ZMQ_MAXMSGSIZE",
                  ZMQ_MAXMSGSIZE, K_I64, 8);
    if (set_u64 (s, tn, ZMQ_AFFINITY, 3) == 0)
        get_line (s, "DEALER after set ZMQ_AFFINITY(3): ZMQ_AFFINITY",
                  ZMQ_AFFINITY, K_U64, 8);
    /* A refused set leaves the value as it was. */
    set_int (s, tn, ZMQ_SNDHWM, -5);
    get_line (s, "DEALER after refused ZMQ_SNDHWM(-5): ZMQ_SNDHWM", ZMQ_SNDHWM,
              K_INT, 4);
    set_int_len (s, tn, ZMQ_RCVHWM, 8);
    get_line (s, "DEALER after refused ZMQ_RCVHWM(len 8): ZMQ_RCVHWM",
              ZMQ_RCVHWM, K_INT, 4);
    set_bytes (s, tn, ZMQ_ROUTING_ID, "", 0);
    get_line (s, "DEALER after refused ZMQ_ROUTING_ID(\"\"): ZMQ_ROUTING_ID",
              ZMQ_ROUTING_ID, K_BYTES, 256);
    zmq_close (s);

    /* CURVE keys set (as Z85 and binary) and read back both ways, and the
     * mechanism they select. */
    int keyopts[] = {ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY,
                     ZMQ_CURVE_SERVERKEY};
    unsigned char bin[32];
    zmq_z85_decode (bin, z85_public);
    for (int k = 0; k < 3; k++) {
        for (int form = 0; form < 3; form++) {
            s = new_socket (ZMQ_DEALER);
            int rc;
            const char *how;
            if (form == 0) {
                rc = set_bytes (s, tn, keyopts[k], z85_public, 40);
                how = "z85";
            } else if (form == 1) {
                rc = set_bytes (s, tn, keyopts[k], z85_public, 41);
                how = "z85+NUL";
            } else {
                rc = set_bytes (s, tn, keyopts[k], bin, 32);
                how = "binary";
            }
            if (rc == 0) {
                char label[128];
                snprintf (label, sizeof label, "%s after set %s(%s): get[32]",
                          tn, opt_name (keyopts[k]), how);
                get_line (s, label, keyopts[k], K_KEY, 32);
                snprintf (label, sizeof label, "%s after set %s(%s): get[41]",
                          tn, opt_name (keyopts[k]), how);
                get_line (s, label, keyopts[k], K_KEY, 41);
                snprintf (label, sizeof label,
                          "%s after set %s(%s): ZMQ_MECHANISM", tn,
                          opt_name (keyopts[k]), how);
                get_line (s, label, ZMQ_MECHANISM, K_INT, 4);
                snprintf (label, sizeof label,
                          "%s after set %s(%s): ZMQ_CURVE_SERVER", tn,
                          opt_name (keyopts[k]), how);
                get_line (s, label, ZMQ_CURVE_SERVER, K_INT, 4);
            }
            zmq_close (s);
        }
    }
    /* Server flags select the mechanism. */
    int servers[] = {ZMQ_PLAIN_SERVER, ZMQ_CURVE_SERVER, ZMQ_GSSAPI_SERVER};
    for (int k = 0; k < 3; k++) {
        s = new_socket (ZMQ_DEALER);
        if (set_int (s, tn, servers[k], 1) == 0) {
            char label[128];
            snprintf (label, sizeof label, "%s after set %s(1): ZMQ_MECHANISM",
                      tn, opt_name (servers[k]));
            get_line (s, label, ZMQ_MECHANISM, K_INT, 4);
            snprintf (label, sizeof label, "%s after set %s(1): %s", tn,
                      opt_name (servers[k]), opt_name (servers[k]));
            get_line (s, label, servers[k], K_INT, 4);
        }
        zmq_close (s);
    }

    /* LAST_ENDPOINT after binds and connects. */
    s = new_socket (ZMQ_PULL);
    if (zmq_bind (s, "inproc://option-defaults-a") == 0)
        get_line (s, "PULL after bind inproc: ZMQ_LAST_ENDPOINT",
                  ZMQ_LAST_ENDPOINT, K_BYTES, 256);
    get_line (s, "PULL after bind inproc: ZMQ_LAST_ENDPOINT[5]",
              ZMQ_LAST_ENDPOINT, K_BYTES, 5);
    zmq_close (s);
    s = new_socket (ZMQ_PUSH);
    if (zmq_connect (s, "inproc://option-defaults-unbound") == 0)
        get_line (s, "PUSH after connect inproc: ZMQ_LAST_ENDPOINT",
                  ZMQ_LAST_ENDPOINT, K_BYTES, 256);
    zmq_close (s);
    s = new_socket (ZMQ_PULL);
    set_int (s, "PULL", ZMQ_LINGER, 0);
    if (zmq_bind (s, "tcp://127.0.0.1:*") == 0) {
        char ep[256];
        size_t sz = sizeof ep;
        if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, ep, &sz) == 0) {
            /* The port changes from run to run: print its shape. */
            char *colon = strrchr (ep, ':');
            int digits = colon && colon[1] != 0;
            for (char *p = colon ? colon + 1 : ep; *p; p++)
                if (*p < '0' || *p > '9')
                    digits = 0;
            if (colon)
                *colon = 0;
            printf ("PULL after bind tcp://127.0.0.1:*: ZMQ_LAST_ENDPOINT = "
                    "\"%s:<%s>\" (size %s)\n",
                    ep, digits ? "port" : "not a port",
                    sz == strlen (ep) + strlen (colon ? colon + 1 : "") + 2
                      ? "length + 1"
                      : "wrong");
        }
    } else
        printf ("PULL bind tcp://127.0.0.1:* -> %s\n", errname (errno));
    zmq_close (s);
}

/* ------------------------------------------------------------------ */
/* Contexts                                                             */

struct ctxopt
{
    const char *name;
    int num;
};
static const struct ctxopt ctxopts[] = {
  {"option -1", -1},
  {"option 0", 0},
  {"ZMQ_IO_THREADS", ZMQ_IO_THREADS},
  {"ZMQ_MAX_SOCKETS", ZMQ_MAX_SOCKETS},
  {"ZMQ_SOCKET_LIMIT/ZMQ_THREAD_PRIORITY", ZMQ_SOCKET_LIMIT},
  {"ZMQ_THREAD_SCHED_POLICY", ZMQ_THREAD_SCHED_POLICY},
  {"ZMQ_MAX_MSGSZ", ZMQ_MAX_MSGSZ},
  {"ZMQ_MSG_T_SIZE", ZMQ_MSG_T_SIZE},
  {"ZMQ_THREAD_AFFINITY_CPU_ADD", ZMQ_THREAD_AFFINITY_CPU_ADD},
  {"ZMQ_THREAD_AFFINITY_CPU_REMOVE", ZMQ_THREAD_AFFINITY_CPU_REMOVE},
  {"ZMQ_THREAD_NAME_PREFIX", ZMQ_THREAD_NAME_PREFIX},
  {"ZMQ_ZERO_COPY_RECV (draft)", OPT_ZERO_COPY_RECV},
  {"option 11", 11},
  {"option 12", 12},
  {"ZMQ_IPV6", ZMQ_IPV6},
  {"ZMQ_BLOCKY", ZMQ_BLOCKY},
  {"option 1000", 1000},
};
#define NCTXOPTS (sizeof ctxopts / sizeof ctxopts[0])

static void ctx_get_line (void *c, const char *prefix, int num,
                          const char *name)
{
    errno = 0;
    int v = zmq_ctx_get (c, num);
    if (v == -1 && errno != 0)
        printf ("%s get %s -> %s\n", prefix, name, errname (errno));
    else
        printf ("%s get %s = %d\n", prefix, name, v);
}

static void contexts (void)
{
    void *c = zmq_ctx_new ();
    for (size_t i = 0; i < NCTXOPTS; i++)
        ctx_get_line (c, "ctx", ctxopts[i].num, ctxopts[i].name);
    printf ("sizeof (zmq_msg_t) = %zu\n", sizeof (zmq_msg_t));
    zmq_ctx_term (c);

    /* Each setting on a new context, read back when accepted. */
    int values[] = {-2, -1, 0, 1, 2, 99, 1024, 65535, 65536, 2147483647};
    for (size_t i = 0; i < NCTXOPTS; i++) {
        for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
            c = zmq_ctx_new ();
            errno = 0;
            int rc = zmq_ctx_set (c, ctxopts[i].num, values[k]);
            printf ("ctx set %s(%d) -> %s\n", ctxopts[i].name, values[k],
                    rc == 0 ? "ok" : errname (errno));
            if (rc == 0) {
                char prefix[96];
                snprintf (prefix, sizeof prefix, "ctx after set %s(%d):",
                          ctxopts[i].name, values[k]);
                ctx_get_line (c, prefix, ctxopts[i].num, ctxopts[i].name);
            }
            zmq_ctx_term (c);
        }
    }

    /* Removing a CPU that was added, and one that was not. */
    c = zmq_ctx_new ();
    errno = 0;
    int rc = zmq_ctx_set (c, ZMQ_THREAD_AFFINITY_CPU_ADD, 0);
    printf ("ctx set ZMQ_THREAD_AFFINITY_CPU_ADD(0) then REMOVE(0) -> %s",
            rc == 0 ? "ok" : errname (errno));
    errno = 0;
    rc = zmq_ctx_set (c, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0);
    printf (", %s\n", rc == 0 ? "ok" : errname (errno));
    errno = 0;
    rc = zmq_ctx_set (c, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0);
    printf ("ctx set ZMQ_THREAD_AFFINITY_CPU_REMOVE(0) again -> %s\n",
            rc == 0 ? "ok" : errname (errno));
    zmq_ctx_term (c);

    /* ZMQ_MAX_SOCKETS limits zmq_socket. */
    c = zmq_ctx_new ();
    zmq_ctx_set (c, ZMQ_MAX_SOCKETS, 2);
    void *a = zmq_socket (c, ZMQ_PAIR);
    void *b = zmq_socket (c, ZMQ_PAIR);
    errno = 0;
    void *d = zmq_socket (c, ZMQ_PAIR);
    printf ("MAX_SOCKETS 2: sockets %s, %s, third %s\n", a ? "ok" : "failed",
            b ? "ok" : "failed", d ? "ok" : errname (errno));
    if (a)
        zmq_close (a);
    if (b)
        zmq_close (b);
    if (d)
        zmq_close (d);
    /* Not tried: a socket right after closing: libzmq frees the slot in
     * its reaper thread, so whether it is free yet is a race. */
    zmq_ctx_term (c);

    /* Socket types a stable build does not know. */
    c = zmq_ctx_new ();
    int bad_types[] = {-1, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 100};
    for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
        errno = 0;
        void *s = zmq_socket (c, bad_types[i]);
        printf ("zmq_socket(type %d) -> %s\n", bad_types[i],
                s ? "ok" : errname (errno));
        if (s)
            zmq_close (s);
    }
    zmq_ctx_term (c);

    /* zmq_init: the old constructor. */
    errno = 0;
    c = zmq_init (-1);
    printf ("zmq_init(-1) -> %s\n", c ? "ok" : errname (errno));
    if (c)
        zmq_term (c);
    c = zmq_init (0);
    printf ("zmq_init(0) -> %s\n", c ? "ok" : errname (errno));
    if (c) {
        ctx_get_line (c, "zmq_init(0):", ZMQ_IO_THREADS, "ZMQ_IO_THREADS");
        zmq_term (c);
    }
    c = zmq_init (3);
    printf ("zmq_init(3) -> %s\n", c ? "ok" : errname (errno));
    if (c) {
        ctx_get_line (c, "zmq_init(3):", ZMQ_IO_THREADS, "ZMQ_IO_THREADS");
        zmq_term (c);
    }
}

/* ------------------------------------------------------------------ */
/* Utilities                                                            */

static void utilities (void)
{
    int major = -1, minor = -1, patch = -1;
    zmq_version (&major, &minor, &patch);
    printf ("zmq_version = %d.%d.%d\n", major, minor, patch);
    printf ("ZMQ_VERSION = %d\n", ZMQ_VERSION);

    const char *caps[] = {"ipc", "pgm",  "tipc", "norm", "curve", "gssapi",
                          "draft", "vmci", "ws",  "wss",  "udp",   "tcp",
                          "inproc", "IPC", "",    "ipc "};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        printf ("zmq_has(\"%s\") = %d\n", caps[i], zmq_has (caps[i]));

    struct
    {
        const char *name;
        int num;
    } errs[] = {
      {"0", 0},
      {"EPERM", EPERM},
      {"ENOENT", ENOENT},
      {"EINTR", EINTR},
      {"EAGAIN", EAGAIN},
      {"ENOMEM", ENOMEM},
      {"EACCES", EACCES},
      {"EFAULT", EFAULT},
      {"ENODEV", ENODEV},
      {"EINVAL", EINVAL},
      {"EMFILE", EMFILE},
      {"EPIPE", EPIPE},
      {"ENAMETOOLONG", ENAMETOOLONG},
      {"ENOTSUP", ENOTSUP},
      {"EPROTONOSUPPORT", EPROTONOSUPPORT},
      {"ENOBUFS", ENOBUFS},
      {"ENETDOWN", ENETDOWN},
      {"EADDRINUSE", EADDRINUSE},
      {"EADDRNOTAVAIL", EADDRNOTAVAIL},
      {"ECONNREFUSED", ECONNREFUSED},
      {"EINPROGRESS", EINPROGRESS},
      {"ENOTSOCK", ENOTSOCK},
      {"EMSGSIZE", EMSGSIZE},
      {"EAFNOSUPPORT", EAFNOSUPPORT},
      {"ENETUNREACH", ENETUNREACH},
      {"ECONNABORTED", ECONNABORTED},
      {"ECONNRESET", ECONNRESET},
      {"ENOTCONN", ENOTCONN},
      {"ETIMEDOUT", ETIMEDOUT},
      {"EHOSTUNREACH", EHOSTUNREACH},
      {"ENETRESET", ENETRESET},
      {"EFSM", EFSM},
      {"ENOCOMPATPROTO", ENOCOMPATPROTO},
      {"ETERM", ETERM},
      {"EMTHREAD", EMTHREAD},
      {"-1", -1},
      {"9999", 9999},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++)
        printf ("zmq_strerror(%s) = \"%s\"\n", errs[i].name,
                zmq_strerror (errs[i].num));
    /* The fallback numbers zmq.h gives platforms lacking an errno. */
    for (int n = 1; n <= 18; n++)
        printf ("zmq_strerror(ZMQ_HAUSNUMERO + %d) = \"%s\"\n", n,
                zmq_strerror (ZMQ_HAUSNUMERO + n));
    for (int n = 50; n <= 55; n++)
        printf ("zmq_strerror(ZMQ_HAUSNUMERO + %d) = \"%s\"\n", n,
                zmq_strerror (ZMQ_HAUSNUMERO + n));
    errno = 0;
    zmq_setsockopt (NULL, ZMQ_LINGER, NULL, 0);
    printf ("zmq_errno() after a failed call = %s (errno %s)\n",
            errname (zmq_errno ()), errname (errno));

    /* Z85 (RFC 32). */
    static const unsigned char hello[8] = {0x86, 0x4F, 0xD2, 0x6F,
                                           0xB5, 0x59, 0xF7, 0x5B};
    char text[64];
    unsigned char bytes[64];
    struct
    {
        size_t size;
    } enc[] = {{8}, {4}, {0}, {1}, {3}, {5}, {7}};
    for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
        memset (text, '#', sizeof text);
        errno = 0;
        char *r = zmq_z85_encode (text, hello, enc[i].size);
        if (r == text)
            printf ("zmq_z85_encode(%zu bytes) = \"%s\"\n", enc[i].size, text);
        else
            printf ("zmq_z85_encode(%zu bytes) -> %s%s\n", enc[i].size,
                    r ? "other pointer " : "", r ? "" : errname (errno));
    }
    static const unsigned char ones[4] = {0xff, 0xff, 0xff, 0xff};
    static const unsigned char zeros[4] = {0, 0, 0, 0};
    zmq_z85_encode (text, ones, 4);
    printf ("zmq_z85_encode(ff ff ff ff) = \"%s\"\n", text);
    zmq_z85_encode (text, zeros, 4);
    printf ("zmq_z85_encode(00 00 00 00) = \"%s\"\n", text);
    const char *dec[] = {"HelloWorld", "",      "Hello",  "%nSc0",  "%nSc1",
                         "#####",      "00000", "Hell",   "Hello~", "Hell~",
                         "Hell ",      "Hell\"", "Hell\x7f", "Hell\x80",
                         "Hell,",      "Hell;", "Hell\\", "Hell_",  "Hell`",
                         "Hell|",      "Hell'", "HelloWorl", "rq:rM"};
    for (size_t i = 0; i < sizeof dec / sizeof dec[0]; i++) {
        memset (bytes, 0xAA, sizeof bytes);
        errno = 0;
        unsigned char *r = zmq_z85_decode (bytes, dec[i]);
        printf ("zmq_z85_decode(");
        put_escaped ((const unsigned char *) dec[i], strlen (dec[i]));
        if (r == bytes) {
            printf (") = ");
            put_hex (bytes, strlen (dec[i]) / 5 * 4);
            printf ("\n");
        } else
            printf (") -> %s%s\n", r ? "other pointer " : "",
                    r ? "" : errname (errno));
    }
    /* A 32-byte key round trip. */
    unsigned char key[32];
    char key_text[41];
    if (zmq_z85_decode (key, z85_public) == key
        && zmq_z85_encode (key_text, key, 32) == key_text)
        printf ("z85 key round trip: %s\n",
                strcmp (key_text, z85_public) == 0 ? "same" : "different");
    else
        printf ("z85 key round trip -> %s\n", errname (errno));

    /* CURVE keys: random pairs are described, derived keys printed. */
    char pub[41], sec[41], pub2[41], sec2[41], derived[41];
    memset (pub, 0, sizeof pub);
    memset (sec, 0, sizeof sec);
    errno = 0;
    int rc = zmq_curve_keypair (pub, sec);
    if (rc == 0) {
        printf ("zmq_curve_keypair -> ok\n");
        printf ("zmq_curve_keypair public: %zu chars, decodes %s\n",
                strlen (pub), zmq_z85_decode (key, pub) ? "ok" : "no");
        printf ("zmq_curve_keypair secret: %zu chars, decodes %s\n",
                strlen (sec), zmq_z85_decode (key, sec) ? "ok" : "no");
        rc = zmq_curve_public (derived, sec);
        printf ("zmq_curve_public(keypair secret) %s the keypair public\n",
                rc == 0 && strcmp (derived, pub) == 0 ? "matches"
                                                       : "does not match");
        zmq_curve_keypair (pub2, sec2);
        printf ("two zmq_curve_keypair calls give %s keys\n",
                strcmp (pub, pub2) && strcmp (sec, sec2) ? "different"
                                                         : "the same");
    } else
        printf ("zmq_curve_keypair -> %s\n", errname (errno));
    memset (derived, 0, sizeof derived);
    errno = 0;
    rc = zmq_curve_public (derived, z85_secret);
    if (rc == 0)
        printf ("zmq_curve_public(known secret) = \"%s\" (%s)\n", derived,
                strcmp (derived, z85_public) == 0 ? "the known public"
                                                  : "not the known public");
    else
        printf ("zmq_curve_public(known secret) -> %s\n", errname (errno));
    errno = 0;
    rc = zmq_curve_public (derived, "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~");
    printf ("zmq_curve_public(invalid Z85) -> %s\n",
            rc == 0 ? "ok" : errname (errno));
    errno = 0;
    rc = zmq_curve_public (derived, "short");
    printf ("zmq_curve_public(5 chars) -> %s\n",
            rc == 0 ? "ok" : errname (errno));

    /* Atomic counters. */
    void *counter = zmq_atomic_counter_new ();
    printf ("zmq_atomic_counter_new -> %s\n", counter ? "ok" : "NULL");
    if (counter) {
        printf ("counter value = %d\n", zmq_atomic_counter_value (counter));
        printf ("counter inc returns %d\n", zmq_atomic_counter_inc (counter));
        printf ("counter inc returns %d\n", zmq_atomic_counter_inc (counter));
        printf ("counter value = %d\n", zmq_atomic_counter_value (counter));
        printf ("counter dec returns %d\n", zmq_atomic_counter_dec (counter));
        printf ("counter dec returns %d\n", zmq_atomic_counter_dec (counter));
        printf ("counter value = %d\n", zmq_atomic_counter_value (counter));
        printf ("counter dec returns %d\n", zmq_atomic_counter_dec (counter));
        printf ("counter value = %d\n", zmq_atomic_counter_value (counter));
        zmq_atomic_counter_set (counter, 5);
        printf ("counter after set 5 = %d\n",
                zmq_atomic_counter_value (counter));
        zmq_atomic_counter_set (counter, -2147483647 - 1);
        printf ("counter dec from INT_MIN returns %d\n",
                zmq_atomic_counter_dec (counter));
        printf ("counter value = %d\n", zmq_atomic_counter_value (counter));
        zmq_atomic_counter_destroy (&counter);
        printf ("counter after destroy is %s\n", counter ? "not NULL" : "NULL");
    }

    /* Stopwatch: microseconds, never going backwards. */
    void *watch = zmq_stopwatch_start ();
    printf ("zmq_stopwatch_start -> %s\n", watch ? "ok" : "NULL");
    if (watch) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep (&ts, NULL);
        unsigned long mid = zmq_stopwatch_intermediate (watch);
        printf ("stopwatch after 20 ms: %s\n",
                mid >= 20000 && mid < 10000000 ? "20000 us or more (ok)"
                                               : "out of range");
        unsigned long end = zmq_stopwatch_stop (watch);
        printf ("stopwatch stop: %s\n",
                end >= mid ? "not less than intermediate (ok)" : "went back");
    }
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    ctx = zmq_ctx_new ();
    if (!ctx) {
        printf ("zmq_ctx_new failed\n");
        return 0;
    }
    defaults ();
    accepted_by_type ();
    refusals ();
    readbacks ();
    zmq_ctx_term (ctx);
    contexts ();
    utilities ();
    return 0;
}
