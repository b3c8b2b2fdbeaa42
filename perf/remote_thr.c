/* Throughput, sending side: a PUSH socket connects to ENDPOINT and sends
 * COUNT messages of SIZE bytes, then closes with the default (infinite)
 * linger so that every message is delivered before the process exits.
 * Usage: remote_thr ENDPOINT SIZE COUNT [null|curve] */
#include <zmq.h>
#include "security.h"
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
    fprintf(stderr, "remote_thr: %s: %s\n", what, zmq_strerror(zmq_errno()));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: remote_thr ENDPOINT SIZE COUNT [null|curve]\n");
        return 1;
    }
    const char *endpoint = argv[1];
    size_t size = (size_t)atol(argv[2]);
    long count = atol(argv[3]);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_PUSH);
    perf_security(s, argc == 5 ? argv[4] : NULL, 0);
    if (!s || zmq_connect(s, endpoint) != 0)
        die("connect");
    for (long i = 0; i < count; i++) {
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, size) != 0)
            die("msg_init_size");
        if (zmq_msg_send(&m, s, 0) < 0)
            die("send");
    }
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
