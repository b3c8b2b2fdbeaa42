/* Throughput, receiving side: a PULL socket binds ENDPOINT and takes COUNT
 * messages of SIZE bytes from remote_thr. The clock starts at the first
 * message (so connection setup is not counted) and stops at the last.
 * Usage: local_thr ENDPOINT SIZE COUNT [null|curve] */
#include <zmq.h>
#include "security.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "local_thr: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: local_thr ENDPOINT SIZE COUNT [null|curve]\n");
        return 1;
    }
    const char *endpoint = argv[1];
    size_t size = (size_t)atol(argv[2]);
    long count = atol(argv[3]);
    if (count < 2) {
        fprintf(stderr, "local_thr: COUNT must be at least 2\n");
        return 1;
    }
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PULL);
    perf_security(s, argc == 5 ? argv[4] : NULL, 1);
    if (!s || zmq_bind(s, endpoint) != 0)
        die("bind");
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0)
        die("recv");
    if (zmq_msg_size(&m) != size) {
        fprintf(stderr, "local_thr: got %zu bytes, expected %zu\n", zmq_msg_size(&m), size);
        return 1;
    }
    double start = now();
    for (long i = 1; i < count; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("recv");
        if (zmq_msg_size(&m) != size) {
            fprintf(stderr, "local_thr: got %zu bytes, expected %zu\n", zmq_msg_size(&m), size);
            return 1;
        }
    }
    double secs = now() - start;
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    double rate = (count - 1) / secs;
    printf("local_thr endpoint=%s size=%zu count=%ld msg/s=%.0f Mb/s=%.1f\n", endpoint, size,
           count, rate, rate * size * 8 / 1e6);
    return 0;
}
