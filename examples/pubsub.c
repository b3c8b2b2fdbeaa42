/* PUB/SUB with topic filtering: one publisher, two subscribers that each
 * subscribe to different topics and receive only those. */
#include "example.h"

static void *ctx;
static char pub_ep[256];

struct subscriber
{
    const char *name;
    const char *topics[3];
    pthread_t thread;
    int ready;
    char log[2048];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *subscriber_main (void *arg)
{
    struct subscriber *s = arg;
    void *sub = zmq_socket (ctx, ZMQ_SUB);
    int timeout = 5000; /* a lost END must not hang the demo */
    zmq_setsockopt (sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; s->topics[i]; i++)
        zmq_setsockopt (sub, ZMQ_SUBSCRIBE, s->topics[i],
                        strlen (s->topics[i]));
    /* Everyone hears the end-of-stream marker. */
    zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "END", 3);
    zmq_connect (sub, pub_ep);
    pthread_mutex_lock (&lock);
    s->ready = 1;
    pthread_mutex_unlock (&lock);

    char topic[64], body[128], line[256];
    s->log[0] = 0;
    for (;;) {
        if (recv_string (sub, topic, sizeof topic) < 0)
            break;
        if (strcmp (topic, "END") == 0)
            break;
        recv_string (sub, body, sizeof body); /* second frame: payload */
        snprintf (line, sizeof line, "  %s got [%s] %s\n", s->name, topic,
                  body);
        strncat (s->log, line, sizeof s->log - strlen (s->log) - 1);
    }
    zmq_close (sub);
    return NULL;
}

int main (int argc, char **argv)
{
    use_transport (argc, argv);
    ctx = zmq_ctx_new ();
    void *pub = zmq_socket (ctx, ZMQ_PUB);
    bind_named (pub, "pubsub", pub_ep, sizeof pub_ep);
    printf ("pubsub over %s\n", transport);

    struct subscriber subs[2] = {
      {"subscriber A (weather.)", {"weather.", NULL}, 0, 0, ""},
      {"subscriber B (sports., news.)", {"sports.", "news.", NULL}, 0, 0, ""},
    };
    for (int i = 0; i < 2; i++)
        pthread_create (&subs[i].thread, NULL, subscriber_main, &subs[i]);

    /* Subscriptions travel to the publisher asynchronously; messages
     * published before they arrive are not delivered ("slow joiner"). */
    for (int ready = 0; !ready;) {
        sleep_ms (10);
        pthread_mutex_lock (&lock);
        ready = subs[0].ready && subs[1].ready;
        pthread_mutex_unlock (&lock);
    }
    sleep_ms (200);

    const char *updates[][2] = {
      {"weather.paris", "sunny, 24C"},  {"sports.tennis", "6-4 6-3"},
      {"news.local", "bridge reopens"}, {"weather.oslo", "snow, -3C"},
      {"finance.eur", "1.08 USD"},      {"sports.chess", "draw in 41"},
    };
    for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++) {
        printf ("publisher: [%s] %s\n", updates[i][0], updates[i][1]);
        send_string (pub, updates[i][0], ZMQ_SNDMORE);
        send_string (pub, updates[i][1], 0);
    }
    send_string (pub, "END", 0);

    for (int i = 0; i < 2; i++) {
        pthread_join (subs[i].thread, NULL);
        printf ("%s received:\n%s", subs[i].name, subs[i].log);
    }
    printf ("nobody subscribed to finance., so it went nowhere\n");
    zmq_close (pub);
    zmq_ctx_term (ctx);
    printf ("pubsub: done\n");
    return 0;
}
