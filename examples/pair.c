/* PAIR: an exclusive link between two parties, used as a signaling chain.
 *
 * step1 tells step2 it is ready, step2 tells step3; then step3 and step2
 * play ping-pong over their PAIR link until step3 says STOP.
 *
 *   pair [inproc|tcp|ipc]                    the three steps as threads
 *   pair step3 [--bind|--connect] ENDPOINT   step3 (binds by default)
 *   pair step2 [--bind|--connect] ENDPOINT   step2, with step1 as a thread
 *                                            talking to it over inproc
 *                                            (connects by default) */
#include "example.h"

#define PINGS 3

static void *ctx;
static char step2_ep[256];

static void *step1 (void *arg)
{
    (void) arg;
    void *to_step2 = zmq_socket (ctx, ZMQ_PAIR);
    set_timeouts (to_step2);
    zmq_connect (to_step2, step2_ep);
    printf ("step1: ready, signaling step2\n");
    if (send_string (to_step2, "READY", 0) < 0)
        printf ("step1: cannot signal step2: %s\n",
                zmq_strerror (zmq_errno ()));
    zmq_close (to_step2);
    return NULL;
}

/* Waits for step1, signals step3 over `to_step3` and answers its pings
 * until STOP. Returns 0 when all went as expected. */
static int step2 (void *to_step3)
{
    char buf[64];
    void *from_step1 = zmq_socket (ctx, ZMQ_PAIR);
    set_timeouts (from_step1);
    bind_named (from_step1, "pair-step2", step2_ep, sizeof step2_ep);
    pthread_t t;
    pthread_create (&t, NULL, step1, NULL);
    int rc = recv_string (from_step1, buf, sizeof buf);
    pthread_join (t, NULL);
    zmq_close (from_step1);
    if (rc < 0 || strcmp (buf, "READY") != 0) {
        printf ("step2: no READY from step1\n");
        return 1;
    }
    printf ("step2: got READY from step1\n");

    printf ("step2: ready, signaling step3\n");
    if (send_string (to_step3, "READY", 0) < 0) {
        printf ("step2: cannot signal step3: %s\n",
                zmq_strerror (zmq_errno ()));
        return 1;
    }
    int pings = 0;
    for (;;) {
        if (recv_string (to_step3, buf, sizeof buf) < 0) {
            printf ("step2: no STOP from step3: %s\n",
                    zmq_strerror (zmq_errno ()));
            return 1;
        }
        if (strcmp (buf, "STOP") == 0)
            break;
        if (strcmp (buf, "ping") != 0) {
            printf ("step2: unexpected %s\n", buf);
            return 1;
        }
        send_string (to_step3, "pong", 0);
        pings++;
    }
    printf ("step2: answered %d pings, got STOP\n", pings);
    return pings == PINGS ? 0 : 1;
}

/* Waits for step2's signal on `to_step2`, pings it, then tells it to stop.
 * Returns 0 when all went as expected. */
static int step3 (void *to_step2)
{
    char buf[64];
    if (recv_string (to_step2, buf, sizeof buf) < 0
        || strcmp (buf, "READY") != 0) {
        printf ("step3: no READY from step2\n");
        return 1;
    }
    printf ("step3: got READY from step2, the chain is complete\n");
    for (int i = 1; i <= PINGS; i++) {
        send_string (to_step2, "ping", 0);
        if (recv_string (to_step2, buf, sizeof buf) < 0
            || strcmp (buf, "pong") != 0) {
            printf ("step3: ping %d got no pong\n", i);
            return 1;
        }
        printf ("step3: ping %d -> %s\n", i, buf);
    }
    send_string (to_step2, "STOP", 0);
    return 0;
}

static char step3_ep[256];
static int step2_status;

static void *step2_thread (void *arg)
{
    (void) arg;
    void *to_step3 = zmq_socket (ctx, ZMQ_PAIR);
    set_timeouts (to_step3);
    zmq_connect (to_step3, step3_ep);
    step2_status = step2 (to_step3);
    zmq_close (to_step3);
    return NULL;
}

static int all_in_one (void)
{
    void *to_step2 = zmq_socket (ctx, ZMQ_PAIR);
    set_timeouts (to_step2);
    bind_named (to_step2, "pair-step3", step3_ep, sizeof step3_ep);
    printf ("pair over %s\n", transport);
    pthread_t t;
    pthread_create (&t, NULL, step2_thread, NULL);
    int rc = step3 (to_step2);
    pthread_join (t, NULL);
    zmq_close (to_step2);
    return rc || step2_status;
}

static const char usage[] =
  "usage: pair [inproc|tcp|ipc]\n"
  "       pair step3 [--bind|--connect] ENDPOINT   (binds by default)\n"
  "       pair step2 [--bind|--connect] ENDPOINT   (connects by default)\n";

int main (int argc, char **argv)
{
    line_buffered_stdout ();
    ctx = zmq_ctx_new ();
    const char *who = "pair";
    int rc;
    if (argc < 2 || is_transport (argv[1])) {
        if (argc > 1)
            transport = argv[1];
        rc = all_in_one ();
    } else {
        int is_step3 = !strcmp (argv[1], "step3");
        if (!is_step3 && strcmp (argv[1], "step2") != 0) {
            fprintf (stderr, "%s", usage);
            return 2;
        }
        struct party p = parse_party (argc, argv, is_step3, 1, usage);
        who = p.role;
        void *link = zmq_socket (ctx, ZMQ_PAIR);
        set_timeouts (link);
        attach (link, p.argv[0], p.bind, p.role,
                is_step3 ? "link to step2" : "link to step3");
        rc = is_step3 ? step3 (link) : step2 (link);
        zmq_close (link);
    }
    zmq_ctx_term (ctx);
    printf ("%s: %s\n", who, rc == 0 ? "done" : "FAILED");
    return rc;
}
