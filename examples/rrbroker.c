/* Request-reply broker: clients talk REQ to a ROUTER frontend, zmq_proxy
 * forwards to a DEALER backend, which spreads requests over REP workers.
 * Neither side knows the other; the broker's envelopes route each reply
 * back to the client that asked.
 *
 *   rrbroker [inproc|tcp|ipc]    the broker, three workers and two clients
 *                                as threads
 *   rrbroker broker [--bind|--connect] FRONTEND BACKEND
 *       binds by default; forwards until Ctrl-C or SIGTERM
 *   rrbroker worker [--bind|--connect] BACKEND [NAME]
 *       connects by default; serves until Ctrl-C or SIGTERM
 *   rrbroker client [--bind|--connect] FRONTEND [NAME]
 *       connects by default; sends its requests and checks the replies */
#include "example.h"

#define WORKERS 3
#define CLIENTS 2
#define REQUESTS 5

static void *ctx;

/* Forwards between the two sides until the context is shut down (ETERM).
 * Returns 0 when stopped that way. */
static int broker (void *frontend, void *backend)
{
    zmq_proxy (frontend, backend, NULL);
    int stopped = zmq_errno () == ETERM;
    printf ("broker: %s\n",
            stopped ? "stopped" : zmq_strerror (zmq_errno ()));
    return stopped ? 0 : 1;
}

/* Answers requests until the context is shut down (ETERM). Returns 0 when
 * stopped that way. */
static int worker (void *rep, const char *name)
{
    char req[64], reply[128];
    int served = 0;
    while (recv_string (rep, req, sizeof req) >= 0) {
        snprintf (reply, sizeof reply, "%s, served by worker %s", req, name);
        if (send_string (rep, reply, 0) < 0)
            break;
        served++;
    }
    int stopped = zmq_errno () == ETERM;
    printf ("worker %s: %s after %d requests\n", name,
            stopped ? "stopped" : zmq_strerror (zmq_errno ()), served);
    return stopped ? 0 : 1;
}

/* Sends REQUESTS requests and checks each reply answers it. Returns 0 when
 * all went as expected. */
static int client (void *req, const char *name)
{
    char request[64], reply[128];
    for (int i = 1; i <= REQUESTS; i++) {
        snprintf (request, sizeof request, "request %d from client %s", i,
                  name);
        if (send_string (req, request, 0) < 0
            || recv_string (req, reply, sizeof reply) < 0) {
            printf ("client %s: no reply to %s: %s\n", name, request,
                    zmq_strerror (zmq_errno ()));
            return 1;
        }
        size_t n = strlen (request);
        if (strncmp (reply, request, n) != 0
            || strncmp (reply + n, ", served by worker ", 19) != 0) {
            printf ("client %s: wrong reply to %s: %s\n", name, request,
                    reply);
            return 1;
        }
        printf ("client %s: %s\n", name, reply);
    }
    printf ("client %s: got all %d replies\n", name, REQUESTS);
    return 0;
}

static char frontend_ep[256], backend_ep[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int workers_ready;

struct sockets
{
    void *frontend, *backend;
};

static void *broker_thread (void *arg)
{
    struct sockets *b = arg;
    broker (b->frontend, b->backend);
    zmq_close (b->frontend);
    zmq_close (b->backend);
    return NULL;
}

static void *worker_thread (void *arg)
{
    char name[16];
    snprintf (name, sizeof name, "%d", (int) (long) arg);
    void *rep = zmq_socket (ctx, ZMQ_REP);
    zmq_connect (rep, backend_ep);
    pthread_mutex_lock (&lock);
    workers_ready++;
    pthread_mutex_unlock (&lock);
    worker (rep, name);
    zmq_close (rep);
    return NULL;
}

struct client_thread
{
    const char *name;
    pthread_t thread;
    int status;
};

static void *client_thread (void *arg)
{
    struct client_thread *c = arg;
    void *req = zmq_socket (ctx, ZMQ_REQ);
    set_timeouts (req);
    zmq_connect (req, frontend_ep);
    c->status = client (req, c->name);
    zmq_close (req);
    return NULL;
}

static int all_in_one (void)
{
    struct sockets b = {zmq_socket (ctx, ZMQ_ROUTER),
                        zmq_socket (ctx, ZMQ_DEALER)};
    bind_named (b.frontend, "rrbroker-frontend", frontend_ep,
                sizeof frontend_ep);
    bind_named (b.backend, "rrbroker-backend", backend_ep, sizeof backend_ep);
    printf ("rrbroker over %s: frontend %s, backend %s\n", transport,
            frontend_ep, backend_ep);
    pthread_t broker_t, workers[WORKERS];
    pthread_create (&broker_t, NULL, broker_thread, &b);
    for (long i = 0; i < WORKERS; i++)
        pthread_create (&workers[i], NULL, worker_thread, (void *) i);
    /* So that requests are spread evenly, let every worker connect first:
     * the backend deals only to workers already connected. */
    for (int ready = 0; !ready;) {
        sleep_ms (10);
        pthread_mutex_lock (&lock);
        ready = workers_ready == WORKERS;
        pthread_mutex_unlock (&lock);
    }
    sleep_ms (100);

    struct client_thread clients[CLIENTS] = {{"A", 0, 0}, {"B", 0, 0}};
    int rc = 0;
    for (int i = 0; i < CLIENTS; i++)
        pthread_create (&clients[i].thread, NULL, client_thread, &clients[i]);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join (clients[i].thread, NULL);
        rc |= clients[i].status;
    }
    zmq_ctx_shutdown (ctx); /* stops the broker and the workers */
    pthread_join (broker_t, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join (workers[i], NULL);
    return rc;
}

static const char usage[] =
  "usage: rrbroker [inproc|tcp|ipc]\n"
  "       rrbroker broker [--bind|--connect] FRONTEND BACKEND\n"
  "       rrbroker worker [--bind|--connect] BACKEND [NAME]\n"
  "       rrbroker client [--bind|--connect] FRONTEND [NAME]\n";

int main (int argc, char **argv)
{
    line_buffered_stdout ();
    char who[64] = "rrbroker"; /* who is speaking */
    char name[32];
    int rc;
    if (argc < 2 || is_transport (argv[1])) {
        if (argc > 1)
            transport = argv[1];
        ctx = zmq_ctx_new ();
        rc = all_in_one ();
    } else if (!strcmp (argv[1], "broker")) {
        struct party p = parse_party (argc, argv, 1, 2, usage);
        snprintf (who, sizeof who, "%s", p.role);
        ctx = context_until_interrupted ();
        void *frontend = zmq_socket (ctx, ZMQ_ROUTER);
        void *backend = zmq_socket (ctx, ZMQ_DEALER);
        attach (frontend, p.argv[0], p.bind, who, "frontend");
        attach (backend, p.argv[1], p.bind, who, "backend");
        rc = broker (frontend, backend);
        zmq_close (frontend);
        zmq_close (backend);
    } else if (!strcmp (argv[1], "worker") || !strcmp (argv[1], "client")) {
        int is_worker = argv[1][0] == 'w';
        struct party p = parse_party (argc, argv, 0, 1, usage);
        if (p.argc > 1)
            snprintf (name, sizeof name, "%s", p.argv[1]);
        else
            snprintf (name, sizeof name, "%d", (int) getpid ());
        snprintf (who, sizeof who, "%s %s", p.role, name);
        if (is_worker) {
            ctx = context_until_interrupted ();
            void *rep = zmq_socket (ctx, ZMQ_REP);
            attach (rep, p.argv[0], p.bind, who, "backend");
            rc = worker (rep, name);
            zmq_close (rep);
        } else {
            ctx = zmq_ctx_new ();
            void *req = zmq_socket (ctx, ZMQ_REQ);
            set_timeouts (req);
            attach (req, p.argv[0], p.bind, who, "frontend");
            rc = client (req, name);
            zmq_close (req);
        }
    } else {
        fprintf (stderr, "%s", usage);
        return 2;
    }
    zmq_ctx_term (ctx);
    printf ("%s: %s\n", who, rc == 0 ? "done" : "FAILED");
    return rc;
}
