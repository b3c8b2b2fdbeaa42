/* PUSH/PULL pipeline: a ventilator hands out tasks, workers process them
 * in parallel, and a sink collects the results.
 *
 *   ventilator (PUSH) -> workers (PULL ... PUSH) -> sink (PULL)
 *
 *   pipeline [inproc|tcp|ipc]    the ventilator, three workers and the
 *                                sink as threads
 *   pipeline ventilator [--bind|--connect] TASKS
 *       binds by default; sends the tasks, once a worker is there
 *   pipeline worker [--bind|--connect] TASKS RESULTS [NAME]
 *       connects by default; works until Ctrl-C or SIGTERM
 *   pipeline sink [--bind|--connect] RESULTS
 *       binds by default; collects and checks every result */
#include "example.h"

#define TASKS 30
#define WORKERS 3
#define MAX_WORKERS 16

static void *ctx;

/* Sends tasks 1..TASKS. PUSH only spreads work over workers already
 * connected, and waits (up to SNDTIMEO) for the first one. */
static int ventilator (void *tasks)
{
    char buf[16];
    for (int i = 1; i <= TASKS; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        if (send_string (tasks, buf, 0) < 0) {
            printf ("ventilator: cannot send task %d: %s\n", i,
                    zmq_strerror (zmq_errno ()));
            return 1;
        }
    }
    printf ("ventilator: sent tasks 1..%d\n", TASKS);
    return 0;
}

/* Squares numbers from `tasks` into `results` until the context is shut
 * down (ETERM). Returns 0 when stopped that way. */
static int worker (void *tasks, void *results, const char *name)
{
    char buf[64];
    int done = 0;
    while (recv_string (tasks, buf, sizeof buf) >= 0) {
        int n = atoi (buf);
        snprintf (buf, sizeof buf, "%s %d %d", name, n, n * n);
        if (send_string (results, buf, 0) < 0)
            break;
        done++;
    }
    int stopped = zmq_errno () == ETERM;
    printf ("worker %s: %s after %d tasks\n", name,
            stopped ? "stopped" : zmq_strerror (zmq_errno ()), done);
    return stopped ? 0 : 1;
}

/* Collects TASKS results and checks that each task was done once, right.
 * Returns 0 when all went as expected. */
static int sink (void *results)
{
    char buf[64], who[32];
    char names[MAX_WORKERS][32];
    int per_worker[MAX_WORKERS] = {0}, workers = 0;
    int seen[TASKS + 1] = {0};
    long sum = 0;
    int ok = 1;
    for (int i = 0; i < TASKS; i++) {
        int n, sq;
        if (recv_string (results, buf, sizeof buf) < 0) {
            printf ("sink: only %d of %d results: %s\n", i, TASKS,
                    zmq_strerror (zmq_errno ()));
            return 1;
        }
        if (sscanf (buf, "%31s %d %d", who, &n, &sq) != 3 || n < 1
            || n > TASKS || seen[n]++ || sq != n * n) {
            printf ("sink: bad result %s\n", buf);
            ok = 0;
            continue;
        }
        sum += sq;
        int w = 0;
        while (w < workers && strcmp (names[w], who) != 0)
            w++;
        if (w == workers && workers < MAX_WORKERS)
            snprintf (names[workers++], sizeof names[0], "%s", who);
        if (w < MAX_WORKERS)
            per_worker[w]++;
    }
    for (int w = 0; w < workers; w++)
        printf ("sink: worker %s did %d tasks\n", names[w], per_worker[w]);
    long expected = TASKS * (TASKS + 1) * (2 * TASKS + 1) / 6;
    printf ("sink: sum of squares 1..%d = %ld (expected %ld)\n", TASKS, sum,
            expected);
    return ok && sum == expected ? 0 : 1;
}

static char tasks_ep[256], results_ep[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int workers_ready;

static void *worker_thread (void *arg)
{
    char name[16];
    snprintf (name, sizeof name, "%d", (int) (long) arg);
    void *tasks = zmq_socket (ctx, ZMQ_PULL);
    void *results = zmq_socket (ctx, ZMQ_PUSH);
    zmq_connect (tasks, tasks_ep);
    zmq_connect (results, results_ep);
    pthread_mutex_lock (&lock);
    workers_ready++;
    pthread_mutex_unlock (&lock);
    worker (tasks, results, name);
    zmq_close (tasks);
    zmq_close (results);
    return NULL;
}

static int all_in_one (void)
{
    void *results = zmq_socket (ctx, ZMQ_PULL);
    set_timeouts (results);
    bind_named (results, "pipeline-results", results_ep, sizeof results_ep);
    void *tasks = zmq_socket (ctx, ZMQ_PUSH);
    set_timeouts (tasks);
    bind_named (tasks, "pipeline-tasks", tasks_ep, sizeof tasks_ep);
    printf ("pipeline over %s: %d tasks, %d workers\n", transport, TASKS,
            WORKERS);

    pthread_t threads[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        pthread_create (&threads[i], NULL, worker_thread, (void *) i);
    /* So that the work is spread evenly, let every worker connect first. */
    for (int ready = 0; !ready;) {
        sleep_ms (10);
        pthread_mutex_lock (&lock);
        ready = workers_ready == WORKERS;
        pthread_mutex_unlock (&lock);
    }
    sleep_ms (100);

    int rc = ventilator (tasks);
    rc |= sink (results);
    zmq_close (tasks);
    zmq_close (results);
    zmq_ctx_shutdown (ctx); /* stops the workers */
    for (int i = 0; i < WORKERS; i++)
        pthread_join (threads[i], NULL);
    return rc;
}

static const char usage[] =
  "usage: pipeline [inproc|tcp|ipc]\n"
  "       pipeline ventilator [--bind|--connect] TASKS\n"
  "       pipeline worker [--bind|--connect] TASKS RESULTS [NAME]\n"
  "       pipeline sink [--bind|--connect] RESULTS\n";

int main (int argc, char **argv)
{
    line_buffered_stdout ();
    char who[64] = "pipeline"; /* who is speaking */
    int rc;
    if (argc < 2 || is_transport (argv[1])) {
        if (argc > 1)
            transport = argv[1];
        ctx = zmq_ctx_new ();
        rc = all_in_one ();
    } else if (!strcmp (argv[1], "ventilator")) {
        struct party p = parse_party (argc, argv, 1, 1, usage);
        snprintf (who, sizeof who, "%s", p.role);
        ctx = zmq_ctx_new ();
        void *tasks = zmq_socket (ctx, ZMQ_PUSH);
        set_timeouts (tasks);
        attach (tasks, p.argv[0], p.bind, who, "tasks");
        rc = ventilator (tasks);
        zmq_close (tasks); /* zmq_ctx_term waits for the tasks to leave */
    } else if (!strcmp (argv[1], "worker")) {
        struct party p = parse_party (argc, argv, 0, 2, usage);
        char name[32];
        if (p.argc > 2)
            snprintf (name, sizeof name, "%s", p.argv[2]);
        else
            snprintf (name, sizeof name, "%d", (int) getpid ());
        snprintf (who, sizeof who, "worker %s", name);
        ctx = context_until_interrupted ();
        void *tasks = zmq_socket (ctx, ZMQ_PULL);
        void *results = zmq_socket (ctx, ZMQ_PUSH);
        set_timeouts (results);
        attach (tasks, p.argv[0], p.bind, who, "tasks");
        attach (results, p.argv[1], p.bind, who, "results");
        rc = worker (tasks, results, name);
        zmq_close (tasks);
        zmq_close (results);
    } else if (!strcmp (argv[1], "sink")) {
        struct party p = parse_party (argc, argv, 1, 1, usage);
        snprintf (who, sizeof who, "%s", p.role);
        ctx = zmq_ctx_new ();
        void *results = zmq_socket (ctx, ZMQ_PULL);
        set_timeouts (results);
        attach (results, p.argv[0], p.bind, who, "results");
        rc = sink (results);
        zmq_close (results);
    } else {
        fprintf (stderr, "%s", usage);
        return 2;
    }
    zmq_ctx_term (ctx);
    printf ("%s: %s\n", who, rc == 0 ? "done" : "FAILED");
    return rc;
}
