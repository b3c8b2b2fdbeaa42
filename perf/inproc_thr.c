/* Throughput over inproc: one thread pushes COUNT messages of SIZE bytes,
 * the main thread pulls them and prints messages per second.
 * Usage: inproc_thr SIZE COUNT */
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t size;
static long count;

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

static void sender(void *ctx)
{
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    if (!s || zmq_connect(s, "inproc://thr") != 0)
        die("sender");
    for (long i = 0; i < count; i++) {
        zmq_msg_t m;
        zmq_msg_init_size(&m, size);
        if (zmq_msg_send(&m, s, 0) < 0)
            die("send");
    }
    zmq_close(s);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: inproc_thr SIZE COUNT\n");
        return 1;
    }
    size = (size_t)atol(argv[1]);
    count = atol(argv[2]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    if (!s || zmq_bind(s, "inproc://thr") != 0)
        die("bind");
    void *t = zmq_threadstart(sender, ctx);
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0)
        die("recv");
    double start = now();
    for (long i = 1; i < count; i++)
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("recv");
    double secs = now() - start;
    zmq_msg_close(&m);
    zmq_threadclose(t);
    zmq_close(s);
    zmq_ctx_term(ctx);
    printf("inproc_thr size=%zu count=%ld msg/s=%.0f Mb/s=%.1f\n", size, count,
           (count - 1) / secs, (count - 1) / secs * size * 8 / 1e6);
    return 0;
}
