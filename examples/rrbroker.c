/* Request-reply broker: clients talk REQ to a ROUTER frontend, zmq_proxy
 * forwards to a DEALER backend, which spreads requests over three REP
 * workers. Neither side knows the other; the broker's envelopes route each
 * reply back to the client that asked. */
#include "example.h"

#define WORKERS 3
#define REQUESTS 9

static void *ctx;
static char frontend_ep[256], backend_ep[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int workers_ready;

struct broker
{
    void *frontend, *backend;
};

static void *broker_main (void *arg)
{
    struct broker *b = arg;
    /* Returns when the context is terminated. */
    zmq_proxy (b->frontend, b->backend, NULL);
    zmq_close (b->frontend);
    zmq_close (b->backend);
    return NULL;
}

static void *worker_main (void *arg)
{
    int id = (int) (long) arg;
    void *rep = zmq_socket (ctx, ZMQ_REP);
    zmq_connect (rep, backend_ep);
    pthread_mutex_lock (&lock);
    workers_ready++;
    pthread_mutex_unlock (&lock);

    char req[64], reply[96];
    while (recv_string (rep, req, sizeof req) >= 0) {
        snprintf (reply, sizeof reply, "%s served by worker %d", req, id);
        send_string (rep, reply, 0);
    }
    zmq_close (rep);
    return NULL;
}

int main (int argc, char **argv)
{
    use_transport (argc, argv);
    ctx = zmq_ctx_new ();
    struct broker b = {zmq_socket (ctx, ZMQ_ROUTER),
                       zmq_socket (ctx, ZMQ_DEALER)};
    bind_named (b.frontend, "rrbroker-frontend", frontend_ep,
                sizeof frontend_ep);
    bind_named (b.backend, "rrbroker-backend", backend_ep, sizeof backend_ep);
    printf ("rrbroker over %s: frontend %s, backend %s\n", transport,
            frontend_ep, backend_ep);
    pthread_t broker_thread, workers[WORKERS];
    pthread_create (&broker_thread, NULL, broker_main, &b);
    for (long i = 0; i < WORKERS; i++)
        pthread_create (&workers[i], NULL, worker_main, (void *) i);
    /* The backend spreads requests only over workers already connected. */
    for (int ready = 0; !ready;) {
        sleep_ms (10);
        pthread_mutex_lock (&lock);
        ready = workers_ready == WORKERS;
        pthread_mutex_unlock (&lock);
    }
    sleep_ms (100);

    void *client = zmq_socket (ctx, ZMQ_REQ);
    int timeout = 5000; /* a lost reply must not hang the demo */
    zmq_setsockopt (client, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_connect (client, frontend_ep);
    char req[64], reply[128];
    int ok = 1;
    for (int i = 1; i <= REQUESTS; i++) {
        snprintf (req, sizeof req, "request %d", i);
        send_string (client, req, 0);
        if (recv_string (client, reply, sizeof reply) < 0) {
            printf ("client: no reply to %s\n", req);
            ok = 0;
            break;
        }
        printf ("client: %s\n", reply);
    }

    int linger = 0;
    zmq_setsockopt (client, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close (client);
    zmq_ctx_term (ctx); /* stops the proxy and the workers */
    pthread_join (broker_thread, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join (workers[i], NULL);
    printf ("rrbroker: done\n");
    return ok ? 0 : 1;
}
