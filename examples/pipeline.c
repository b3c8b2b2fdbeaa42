/* PUSH/PULL pipeline: a ventilator hands out tasks, three workers process
 * them in parallel, and a sink collects the results.
 *
 *   ventilator (PUSH) -> workers (PULL ... PUSH) -> sink (PULL) */
#include "example.h"

#define TASKS 30
#define WORKERS 3

static void *ctx;
static char tasks_ep[256], results_ep[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int workers_ready;

static void *worker (void *arg)
{
    int id = (int) (long) arg;
    void *in = zmq_socket (ctx, ZMQ_PULL);
    void *out = zmq_socket (ctx, ZMQ_PUSH);
    zmq_connect (in, tasks_ep);
    zmq_connect (out, results_ep);
    pthread_mutex_lock (&lock);
    workers_ready++;
    pthread_mutex_unlock (&lock);

    char buf[64];
    /* Runs until the context is terminated (recv then fails, ETERM). */
    while (recv_string (in, buf, sizeof buf) >= 0) {
        int n = atoi (buf);
        snprintf (buf, sizeof buf, "%d %d %d", id, n, n * n);
        send_string (out, buf, 0);
    }
    zmq_close (in);
    zmq_close (out);
    return NULL;
}

int main (int argc, char **argv)
{
    use_transport (argc, argv);
    ctx = zmq_ctx_new ();
    void *sink = zmq_socket (ctx, ZMQ_PULL);
    bind_named (sink, "pipeline-results", results_ep, sizeof results_ep);
    void *ventilator = zmq_socket (ctx, ZMQ_PUSH);
    bind_named (ventilator, "pipeline-tasks", tasks_ep, sizeof tasks_ep);
    printf ("pipeline over %s: %d tasks, %d workers\n", transport, TASKS,
            WORKERS);

    pthread_t threads[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create (&threads[i], NULL, worker, (void *) i);
    /* PUSH only spreads work over workers already connected. */
    for (int ready = 0; !ready;) {
        sleep_ms (10);
        pthread_mutex_lock (&lock);
        ready = workers_ready == WORKERS;
        pthread_mutex_unlock (&lock);
    }
    sleep_ms (100);

    char buf[64];
    for (int i = 1; i <= TASKS; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        send_string (ventilator, buf, 0);
    }
    printf ("ventilator: sent tasks 1..%d\n", TASKS);

    long sum = 0;
    int per_worker[WORKERS] = {0};
    int timeout = 5000;
    zmq_setsockopt (sink, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; i < TASKS; i++) {
        if (recv_string (sink, buf, sizeof buf) < 0)
            die ("sink");
        int who, n, sq;
        sscanf (buf, "%d %d %d", &who, &n, &sq);
        per_worker[who]++;
        sum += sq;
    }
    for (int i = 0; i < WORKERS; i++)
        printf ("sink: worker %d did %d tasks\n", i, per_worker[i]);
    printf ("sink: sum of squares 1..%d = %ld (expected %d)\n", TASKS, sum,
            TASKS * (TASKS + 1) * (2 * TASKS + 1) / 6);

    zmq_close (ventilator);
    zmq_close (sink);
    zmq_ctx_term (ctx); /* unblocks the workers */
    for (int i = 0; i < WORKERS; i++)
        pthread_join (threads[i], NULL);
    printf ("pipeline: done\n");
    return sum == TASKS * (TASKS + 1) * (2 * TASKS + 1) / 6 ? 0 : 1;
}
