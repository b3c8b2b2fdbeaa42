/* Small helpers shared by the examples (not part of the zmq API).
 *
 * Each example takes an optional transport name: inproc (default), tcp or
 * ipc. Binders pick an address on that transport and connectors read it
 * back from ZMQ_LAST_ENDPOINT, so the same program runs on any of them. */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <zmq.h>

/* Not every example uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *transport = "inproc";

static void use_transport (int argc, char **argv)
{
    if (argc > 1)
        transport = argv[1];
    if (strcmp (transport, "inproc") && strcmp (transport, "tcp")
        && strcmp (transport, "ipc")) {
        fprintf (stderr, "usage: %s [inproc|tcp|ipc]\n", argv[0]);
        exit (2);
    }
}

static void die (const char *what)
{
    fprintf (stderr, "%s: %s\n", what, zmq_strerror (zmq_errno ()));
    exit (1);
}

/* Binds `s` to a fresh address named after `name` and writes the address
 * peers should connect to into `out`. */
static void bind_named (void *s, const char *name, char *out, size_t n)
{
    char ep[256];
    if (strcmp (transport, "tcp") == 0)
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:*"); /* any free port */
    else if (strcmp (transport, "ipc") == 0)
        snprintf (ep, sizeof ep, "ipc:///tmp/ferrozmq-example-%s-%d", name,
                  (int) getpid ());
    else
        snprintf (ep, sizeof ep, "inproc://%s", name);
    if (zmq_bind (s, ep) != 0)
        die (ep);
    if (zmq_getsockopt (s, ZMQ_LAST_ENDPOINT, out, &n) != 0)
        die ("ZMQ_LAST_ENDPOINT");
}

static void sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep (&ts, NULL);
}

/* Receives one frame as a C string; returns -1 (errno in zmq_errno) on
 * failure, e.g. ETERM when the context is being terminated. */
static int recv_string (void *s, char *buf, size_t n)
{
    int rc = zmq_recv (s, buf, n - 1, 0);
    if (rc < 0)
        return -1;
    if (rc > (int) n - 1)
        rc = (int) n - 1;
    buf[rc] = 0;
    return rc;
}

static int send_string (void *s, const char *str, int flags)
{
    return zmq_send (s, str, strlen (str), flags);
}

#endif
