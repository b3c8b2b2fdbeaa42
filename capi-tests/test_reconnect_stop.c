/* ZMQ_RECONNECT_STOP (draft 109), pinned against Debian's libzmq 4.3.4:
 * the values it takes, and for each bit combination what a tcp connecter
 * does after a refused connect and after a peer that accepts and closes
 * before any handshake: the monitor events, whether it retries, whether
 * the endpoint and its queue survive (CONN_REFUSED drops the endpoint:
 * zmq_disconnect then fails with ENOENT). Its output on Debian's library
 * is capi-tests/expected/reconnect_stop.txt. */
#include <zmq.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <errno.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/* Debian's zmq.h hides the draft number. */
#ifndef ZMQ_RECONNECT_STOP
#define ZMQ_RECONNECT_STOP 109
#endif

static struct sockaddr_in loopback (int port)
{
    struct sockaddr_in a;
    memset (&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    a.sin_port = htons (port);
    return a;
}

static int free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback (0);
    bind (fd, (struct sockaddr *) &a, sizeof a);
    socklen_t l = sizeof a;
    getsockname (fd, (struct sockaddr *) &a, &l);
    close (fd);
    return ntohs (a.sin_port);
}

static const char *event_name (int e)
{
    switch (e) {
        case ZMQ_EVENT_CONNECTED: return "CONNECTED";
        case ZMQ_EVENT_CONNECT_DELAYED: return "CONNECT_DELAYED";
        case ZMQ_EVENT_CONNECT_RETRIED: return "CONNECT_RETRIED";
        case ZMQ_EVENT_CLOSED: return "CLOSED";
        case ZMQ_EVENT_DISCONNECTED: return "DISCONNECTED";
        case ZMQ_EVENT_MONITOR_STOPPED: return "MONITOR_STOPPED";
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            return "HANDSHAKE_FAILED_NO_DETAIL";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            return "HANDSHAKE_FAILED_PROTOCOL";
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "HANDSHAKE_SUCCEEDED";
    }
    return "?";
}

static long long now_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* The first four events within ms, then whether more came: a connecter
 * that retries raises many in that time, whatever the machine's load. */
static void print_events (void *mon, int ms)
{
    zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
    int n = 0;
    long long end = now_ms () + ms;
    printf ("  events:");
    while (now_ms () < end && zmq_poll (&item, 1, end - now_ms ()) > 0) {
        zmq_msg_t m;
        zmq_msg_init (&m);
        zmq_msg_recv (&m, mon, 0);
        uint16_t e;
        memcpy (&e, zmq_msg_data (&m), 2);
        zmq_msg_close (&m);
        char addr[256];
        zmq_recv (mon, addr, sizeof addr - 1, 0);
        if (n < 4)
            printf (" %s", event_name (e));
        n++;
    }
    printf ("%s\n", n > 4 ? " ... (retries)" : "");
}

/* A peer that accepts and closes at once: no handshake ever completes. */
static int accepts;
static int listen_fd;

static void *accept_and_close (void *arg)
{
    (void) arg;
    for (;;) {
        int c = accept (listen_fd, 0, 0);
        if (c < 0)
            return 0;
        accepts++;
        close (c);
    }
}

enum peer { REFUSES, CLOSES };

static void run (const char *title, int stop, enum peer peer)
{
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_DEALER);
    int r = zmq_setsockopt (s, ZMQ_RECONNECT_STOP, &stop, sizeof stop);
    int ivl = 50, zero = 0;
    zmq_setsockopt (s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    zmq_socket_monitor (s, "inproc://m", ZMQ_EVENT_ALL);
    void *mon = zmq_socket (ctx, ZMQ_PAIR);
    zmq_connect (mon, "inproc://m");
    char ep[64];
    int port = free_port ();
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    pthread_t t;
    accepts = 0;
    if (peer == CLOSES) {
        listen_fd = socket (AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback (port);
        int one = 1;
        setsockopt (listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        bind (listen_fd, (struct sockaddr *) &a, sizeof a);
        listen (listen_fd, 10);
        pthread_create (&t, 0, accept_and_close, 0);
    }
    printf ("%s (set %d: %s)\n", title, stop, r == 0 ? "ok" : strerror (errno));
    int sr = zmq_send (s, "a", 1, ZMQ_DONTWAIT);
    zmq_connect (s, ep);
    printf ("  send before: %d\n", sr);
    sr = zmq_send (s, "b", 1, ZMQ_DONTWAIT);
    printf ("  send after connect: %d\n", sr);
    print_events (mon, 400);
    if (peer == CLOSES)
        printf ("  accepts: %s\n",
                accepts > 1 ? "many" : accepts == 1 ? "1" : "0");
    /* After a failed handshake libzmq's pipe lingers for a few command
     * round trips (racy), so the queue is only checked after refusals. */
    if (peer == REFUSES) {
        sr = zmq_send (s, "c", 1, ZMQ_DONTWAIT);
        printf ("  send later: %d %s\n", sr,
                sr < 0 ? zmq_strerror (errno) : "");
    }
    r = zmq_disconnect (s, ep);
    printf ("  disconnect: %s\n", r == 0 ? "ok" : zmq_strerror (errno));
    if (peer == CLOSES) {
        shutdown (listen_fd, SHUT_RDWR);
        close (listen_fd);
        pthread_join (t, 0);
    }
    zmq_close (s);
    print_events (mon, 100);
    zmq_close (mon);
    zmq_ctx_term (ctx);
}

int main (void)
{
    setvbuf (stdout, 0, _IONBF, 0);
    void *c = zmq_ctx_new ();
    void *s = zmq_socket (c, ZMQ_DEALER);
    int v;
    size_t l = sizeof v;
    zmq_getsockopt (s, ZMQ_RECONNECT_STOP, &v, &l);
    printf ("default %d\n", v);
    int vals[] = {-1, 0, 1, 2, 3, 4, 7, 1000};
    for (int i = 0; i < 8; i++) {
        int r = zmq_setsockopt (s, ZMQ_RECONNECT_STOP, &vals[i], sizeof (int));
        l = sizeof v;
        v = -99;
        zmq_getsockopt (s, ZMQ_RECONNECT_STOP, &v, &l);
        printf ("set %d -> %s, get %d\n", vals[i],
                r ? zmq_strerror (errno) : "ok", v);
    }
    char b[8] = {0};
    printf ("set len 8 -> %s\n", zmq_setsockopt (s, ZMQ_RECONNECT_STOP, b, 8)
                                   ? zmq_strerror (errno)
                                   : "ok");
    l = 8;
    printf ("get len 8 -> %s %zu\n",
            zmq_getsockopt (s, ZMQ_RECONNECT_STOP, b, &l) ? zmq_strerror (errno)
                                                          : "ok",
            l);
    l = 2;
    printf ("get len 2 -> %s\n", zmq_getsockopt (s, ZMQ_RECONNECT_STOP, b, &l)
                                   ? zmq_strerror (errno)
                                   : "ok");
    zmq_close (s);
    zmq_ctx_term (c);
    for (int stop = 0; stop < 4; stop++)
        run ("refused", stop, REFUSES);
    for (int stop = 0; stop < 4; stop++)
        run ("accept+close", stop, CLOSES);
    return 0;
}
