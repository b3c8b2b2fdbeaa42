/* Latency, requesting side: a REQ socket connects to ENDPOINT, makes one
 * untimed warm-up round trip (so connecting and any reconnect delay are not
 * counted), then COUNT timed round trips of SIZE-byte messages, and prints
 * the mean one-way latency (half a round trip) in microseconds.
 * Usage: remote_lat ENDPOINT SIZE COUNT [null|curve] */
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
    fprintf(stderr, "remote_lat: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

static void round_trip(void *s, size_t size)
{
    zmq_msg_t m;
    if (zmq_msg_init_size(&m, size) != 0)
        die("msg_init_size");
    if (zmq_msg_send(&m, s, 0) < 0)
        die("send");
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0)
        die("recv");
    if (zmq_msg_size(&m) != size) {
        fprintf(stderr, "remote_lat: got %zu bytes, expected %zu\n", zmq_msg_size(&m), size);
        exit(1);
    }
    zmq_msg_close(&m);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: remote_lat ENDPOINT SIZE COUNT [null|curve]\n");
        return 1;
    }
    const char *endpoint = argv[1];
    size_t size = (size_t)atol(argv[2]);
    long count = atol(argv[3]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REQ);
    perf_security(s, argc == 5 ? argv[4] : NULL, 0);
    if (!s || zmq_connect(s, endpoint) != 0)
        die("connect");
    round_trip(s, size);
    double start = now();
    for (long i = 0; i < count; i++)
        round_trip(s, size);
    double secs = now() - start;
    zmq_close(s);
    zmq_ctx_term(ctx);
    printf("remote_lat endpoint=%s size=%zu roundtrips=%ld latency_us=%.3f\n", endpoint, size,
           count, secs / count / 2 * 1e6);
    return 0;
}
