/* Latency, echoing side: a REP socket binds ENDPOINT and sends back each of
 * COUNT+1 requests (remote_lat makes one untimed warm-up round trip first).
 * Usage: local_lat ENDPOINT SIZE COUNT [null|curve] */
#include <zmq.h>
#include "security.h"
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
    fprintf(stderr, "local_lat: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: local_lat ENDPOINT SIZE COUNT [null|curve]\n");
        return 1;
    }
    const char *endpoint = argv[1];
    size_t size = (size_t)atol(argv[2]);
    long count = atol(argv[3]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_REP);
    perf_security(s, argc == 5 ? argv[4] : NULL, 1);
    if (!s || zmq_bind(s, endpoint) != 0)
        die("bind");
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (long i = 0; i <= count; i++) {
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("recv");
        if (zmq_msg_size(&m) != size) {
            fprintf(stderr, "local_lat: got %zu bytes, expected %zu\n", zmq_msg_size(&m), size);
            return 1;
        }
        if (zmq_msg_send(&m, s, 0) < 0)
            die("send");
    }
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
