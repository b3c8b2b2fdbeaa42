/* PUB/SUB with topic filtering: one publisher, subscribers that each
 * subscribe to some topics and receive only those.
 *
 * A subscriber gets only what is published after its subscriptions reached
 * the publisher ("slow joiner"). So, as in the zguide's node coordination,
 * the publisher first sends HELLO until every subscriber has told it, over
 * a REQ/REP sync socket, that it hears it; then the updates, then END.
 *
 *   pubsub [inproc|tcp|ipc]   the publisher and two subscribers as threads
 *   pubsub publisher [--bind|--connect] UPDATES SYNC [SUBSCRIBERS]
 *       binds by default; waits for SUBSCRIBERS (2) subscribers
 *   pubsub subscriber [--bind|--connect] UPDATES SYNC TOPIC...
 *       connects by default; subscribes to each TOPIC prefix */
#include "example.h"

#define SUBSCRIBERS 2
#define MAX_TOPICS 8

static const char *updates[][2] = {
  {"weather.paris", "sunny, 24C"},  {"sports.tennis", "6-4 6-3"},
  {"news.local", "bridge reopens"}, {"weather.oslo", "snow, -3C"},
  {"finance.eur", "1.08 USD"},      {"sports.chess", "draw in 41"},
};
#define UPDATES (int) (sizeof updates / sizeof updates[0])

static void *ctx;

/* Sends HELLO on `pub` until `subscribers` subscribers checked in on
 * `sync`, then publishes the updates and END. Returns 0 when all went as
 * expected. */
static int publisher (void *pub, void *sync, int subscribers)
{
    char name[128];
    int synced = 0;
    for (int tick = 0; synced < subscribers; tick++) {
        if (tick == TIMEOUT_MS / 100) {
            printf ("publisher: only %d of %d subscribers showed up\n",
                    synced, subscribers);
            return 1;
        }
        send_string (pub, "HELLO", 0);
        zmq_pollitem_t item = {sync, 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, 100) < 0)
            die ("zmq_poll");
        if (item.revents & ZMQ_POLLIN) {
            if (recv_string (sync, name, sizeof name) < 0)
                die ("sync");
            send_string (sync, "GO", 0);
            synced++;
            printf ("publisher: %s is listening (%d of %d)\n", name, synced,
                    subscribers);
        }
    }
    for (int i = 0; i < UPDATES; i++) {
        printf ("publisher: [%s] %s\n", updates[i][0], updates[i][1]);
        send_string (pub, updates[i][0], ZMQ_SNDMORE);
        send_string (pub, updates[i][1], 0);
    }
    send_string (pub, "END", 0);
    printf ("publisher: sent %d updates and END\n", UPDATES);
    return 0;
}

static int matches (const char *topic, char **prefixes, int n)
{
    for (int i = 0; i < n; i++)
        if (strncmp (topic, prefixes[i], strlen (prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Opens a subscriber's sockets: SUB subscribed to `topics`, END and HELLO,
 * and REQ to check in with the publisher. */
static void subscriber_open (void **sub, void **sync, const char *updates_ep,
                             const char *sync_ep, int bind, const char *name,
                             char **topics, int n)
{
    *sub = zmq_socket (ctx, ZMQ_SUB);
    set_timeouts (*sub);
    for (int i = 0; i < n; i++)
        zmq_setsockopt (*sub, ZMQ_SUBSCRIBE, topics[i], strlen (topics[i]));
    /* Everyone hears the end-of-stream marker and the greeting. Set before
     * connecting, the subscriptions travel together once connected: when
     * HELLO comes through, the others have reached the publisher too. */
    zmq_setsockopt (*sub, ZMQ_SUBSCRIBE, "END", 3);
    zmq_setsockopt (*sub, ZMQ_SUBSCRIBE, "HELLO", 5);
    attach (*sub, updates_ep, bind, name, "updates");
    *sync = zmq_socket (ctx, ZMQ_REQ);
    set_timeouts (*sync);
    attach (*sync, sync_ep, bind, name, "sync");
}

/* Waits for HELLO, checks in, then receives updates until END and checks
 * they are exactly those published under `topics`, in order. Returns 0
 * when all went as expected. */
static int subscriber (void *sub, void *sync, const char *name,
                       char **topics, int n)
{
    char topic[64], body[128];
    do {
        if (recv_string (sub, topic, sizeof topic) < 0) {
            printf ("%s: no HELLO from the publisher\n", name);
            return 1;
        }
    } while (strcmp (topic, "HELLO") != 0);
    send_string (sync, name, 0);
    if (recv_string (sync, body, sizeof body) < 0) {
        printf ("%s: the publisher did not answer\n", name);
        return 1;
    }

    int next = 0, got = 0; /* next: index in updates[] to expect */
    for (;;) {
        while (next < UPDATES && !matches (updates[next][0], topics, n))
            next++;
        if (recv_string (sub, topic, sizeof topic) < 0) {
            printf ("%s: no END: %s\n", name, zmq_strerror (zmq_errno ()));
            return 1;
        }
        if (strcmp (topic, "HELLO") == 0) /* sent before we checked in */
            continue;
        if (strcmp (topic, "END") == 0)
            break;
        if (!more_frames (sub) || recv_string (sub, body, sizeof body) < 0) {
            printf ("%s: [%s] without a body\n", name, topic);
            return 1;
        }
        if (next == UPDATES || strcmp (topic, updates[next][0]) != 0
            || strcmp (body, updates[next][1]) != 0) {
            printf ("%s: unexpected [%s] %s\n", name, topic, body);
            return 1;
        }
        printf ("%s: got [%s] %s\n", name, topic, body);
        next++, got++;
    }
    while (next < UPDATES && !matches (updates[next][0], topics, n))
        next++;
    if (next < UPDATES) {
        printf ("%s: END before [%s]\n", name, updates[next][0]);
        return 1;
    }
    printf ("%s: received all %d updates for its topics\n", name, got);
    return 0;
}

/* Names a subscriber after its topics: "subscriber [sports. news.]". */
static void subscriber_name (char *out, size_t size, char **topics, int n)
{
    snprintf (out, size, "subscriber [");
    for (int i = 0; i < n; i++) {
        strncat (out, topics[i], size - strlen (out) - 1);
        strncat (out, i + 1 < n ? " " : "]", size - strlen (out) - 1);
    }
}

struct sub_thread
{
    char *topics[MAX_TOPICS];
    int n;
    pthread_t thread;
    int status;
};

static char updates_ep[256], sync_ep[256];

static void *subscriber_thread (void *arg)
{
    struct sub_thread *t = arg;
    char name[128];
    void *sub, *sync;
    subscriber_name (name, sizeof name, t->topics, t->n);
    subscriber_open (&sub, &sync, updates_ep, sync_ep, 0, name, t->topics,
                     t->n);
    t->status = subscriber (sub, sync, name, t->topics, t->n);
    zmq_close (sub);
    zmq_close (sync);
    return NULL;
}

static int all_in_one (void)
{
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    set_timeouts (pub);
    bind_named (pub, "pubsub", updates_ep, sizeof updates_ep);
    void *sync = zmq_socket (ctx, ZMQ_REP);
    set_timeouts (sync);
    bind_named (sync, "pubsub-sync", sync_ep, sizeof sync_ep);
    printf ("pubsub over %s\n", transport);

    struct sub_thread subs[SUBSCRIBERS] = {
      {{"weather."}, 1, 0, 0},
      {{"sports.", "news."}, 2, 0, 0},
    };
    for (int i = 0; i < SUBSCRIBERS; i++)
        pthread_create (&subs[i].thread, NULL, subscriber_thread, &subs[i]);
    int rc = publisher (pub, sync, SUBSCRIBERS);
    for (int i = 0; i < SUBSCRIBERS; i++) {
        pthread_join (subs[i].thread, NULL);
        rc |= subs[i].status;
    }
    printf ("nobody subscribed to finance., so it went nowhere\n");
    zmq_close (pub);
    zmq_close (sync);
    return rc;
}

static const char usage[] =
  "usage: pubsub [inproc|tcp|ipc]\n"
  "       pubsub publisher [--bind|--connect] UPDATES SYNC [SUBSCRIBERS]\n"
  "       pubsub subscriber [--bind|--connect] UPDATES SYNC TOPIC...\n";

int main (int argc, char **argv)
{
    line_buffered_stdout ();
    ctx = zmq_ctx_new ();
    char name[128] = "pubsub"; /* who is speaking */
    int rc;
    if (argc < 2 || is_transport (argv[1])) {
        if (argc > 1)
            transport = argv[1];
        rc = all_in_one ();
    } else if (!strcmp (argv[1], "publisher")) {
        struct party p = parse_party (argc, argv, 1, 2, usage);
        int subscribers = p.argc > 2 ? atoi (p.argv[2]) : SUBSCRIBERS;
        snprintf (name, sizeof name, "%s", p.role);
        void *pub = zmq_socket (ctx, ZMQ_PUB);
        set_timeouts (pub);
        attach (pub, p.argv[0], p.bind, name, "updates");
        void *sync = zmq_socket (ctx, ZMQ_REP);
        set_timeouts (sync);
        attach (sync, p.argv[1], p.bind, name, "sync");
        rc = publisher (pub, sync, subscribers);
        zmq_close (pub);
        zmq_close (sync);
    } else if (!strcmp (argv[1], "subscriber")) {
        struct party p = parse_party (argc, argv, 0, 3, usage);
        int n = p.argc - 2;
        if (n > MAX_TOPICS) {
            fprintf (stderr, "at most %d topics\n", MAX_TOPICS);
            return 2;
        }
        subscriber_name (name, sizeof name, p.argv + 2, n);
        void *sub, *sync;
        subscriber_open (&sub, &sync, p.argv[0], p.argv[1], p.bind, name,
                         p.argv + 2, n);
        rc = subscriber (sub, sync, name, p.argv + 2, n);
        zmq_close (sub);
        zmq_close (sync);
    } else {
        fprintf (stderr, "%s", usage);
        return 2;
    }
    zmq_ctx_term (ctx);
    printf ("%s: %s\n", name, rc == 0 ? "done" : "FAILED");
    return rc;
}
