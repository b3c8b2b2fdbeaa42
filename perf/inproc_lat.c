/* Round-trip latency over inproc: REQ/REP ping-pong of SIZE-byte messages,
 * ROUNDTRIPS times; prints the mean one-way latency in microseconds.
 * Usage: inproc_lat SIZE ROUNDTRIPS */
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static size_t size;
static long rounds;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void echo(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_REP);
    if (!s || zmq_connect(s, "inproc://lat") != 0)
        die("echo");
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (long i = 0; i < rounds; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0 || zmq_msg_send(&m, s, 0) < 0)
            die("echo io");
    }
    zmq_msg_close(&m);
    zmq_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: inproc_lat SIZE ROUNDTRIPS\n");
        return 1;
    }
    size = (size_t)atol(argv[1]);
    rounds = atol(argv[2]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    if (!s || zmq_bind(s, "inproc://lat") != 0)
        die("bind");
    void *t = zmq_threadstart(echo, ctx);
    zmq_msg_t m;
    double start = now();
    for (long i = 0; i < rounds; i++) {
        zmq_msg_init_size(&m, size);
        if (zmq_msg_send(&m, s, 0) < 0)
            die("send");
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("recv");
        zmq_msg_close(&m);
    }
    double secs = now() - start;
    zmq_threadclose(t);
    zmq_close(s);
    zmq_ctx_term(ctx);
    printf("inproc_lat size=%zu roundtrips=%ld latency_us=%.3f\n", size, rounds,
           secs / rounds / 2 * 1e6);
    return 0;
}
