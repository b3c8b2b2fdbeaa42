/* PAIR: an exclusive link between two threads, used as a signaling chain.
 *
 * step1 tells step2 it is ready, step2 tells the main thread (step3); then
 * main and step2 play ping-pong over their PAIR link. */
#include "example.h"

static void *ctx;
static char step2_ep[256], step3_ep[256];

static void *step1 (void *arg)
{
    (void) arg;
    void *to_step2 = zmq_socket (ctx, ZMQ_PAIR);
    zmq_connect (to_step2, step2_ep);
    printf ("step1: ready, signaling step2\n");
    send_string (to_step2, "READY", 0);
    zmq_close (to_step2);
    return NULL;
}

static void *step2 (void *arg)
{
    (void) arg;
    char buf[64];
    void *from_step1 = zmq_socket (ctx, ZMQ_PAIR);
    bind_named (from_step1, "pair-step2", step2_ep, sizeof step2_ep);
    pthread_t t;
    pthread_create (&t, NULL, step1, NULL);
    recv_string (from_step1, buf, sizeof buf);
    printf ("step2: got %s from step1\n", buf);
    pthread_join (t, NULL);
    zmq_close (from_step1);

    void *to_step3 = zmq_socket (ctx, ZMQ_PAIR);
    zmq_connect (to_step3, step3_ep);
    printf ("step2: ready, signaling step3\n");
    send_string (to_step3, "READY", 0);

    /* Answer pings until told to stop. */
    while (recv_string (to_step3, buf, sizeof buf) >= 0
           && strcmp (buf, "STOP") != 0)
        send_string (to_step3, "pong", 0);
    zmq_close (to_step3);
    return NULL;
}

int main (int argc, char **argv)
{
    use_transport (argc, argv);
    ctx = zmq_ctx_new ();
    char buf[64];
    void *from_step2 = zmq_socket (ctx, ZMQ_PAIR);
    bind_named (from_step2, "pair-step3", step3_ep, sizeof step3_ep);
    printf ("pair over %s\n", transport);

    pthread_t t;
    pthread_create (&t, NULL, step2, NULL);
    recv_string (from_step2, buf, sizeof buf);
    printf ("step3: got %s from step2, the chain is complete\n", buf);

    for (int i = 1; i <= 3; i++) {
        send_string (from_step2, "ping", 0);
        recv_string (from_step2, buf, sizeof buf);
        printf ("step3: ping %d -> %s\n", i, buf);
    }
    send_string (from_step2, "STOP", 0);
    pthread_join (t, NULL);
    zmq_close (from_step2);
    zmq_ctx_term (ctx);
    printf ("pair: done\n");
    return 0;
}
