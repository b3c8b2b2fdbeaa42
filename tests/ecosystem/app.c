/* A libzmq user, as built by each way in (pkg-config, CMake, a binary built
 * against Debian's libzmq). It checks which libzmq the loader mapped, then
 * moves a message over inproc and tcp.
 *
 *   app EXPECT
 *
 * EXPECT is the directory the mapped libzmq must be in (symlinks resolved),
 * or "static": no libzmq shared object may be mapped. It prints the mapped
 * libzmq and exits 0 when everything holds, 1 otherwise.
 */
#include <zmq.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf (stderr, "app: %s:%d: %s failed (errno %d: %s)\n",      \
                     __FILE__, __LINE__, #cond, zmq_errno (),               \
                     zmq_strerror (zmq_errno ()));                          \
            failures++;                                                     \
        }                                                                   \
    } while (0)

/* The real path of the libzmq shared object in /proc/self/maps, or "" when
 * none is mapped. More than one distinct file is a failure. */
static void mapped_libzmq (char *out, size_t len)
{
    out[0] = '\0';
    FILE *maps = fopen ("/proc/self/maps", "r");
    if (!maps) {
        perror ("/proc/self/maps");
        failures++;
        return;
    }
    char line[PATH_MAX + 256];
    while (fgets (line, sizeof line, maps)) {
        char *path = strchr (line, '/');
        if (!path)
            continue;
        path[strcspn (path, "\n")] = '\0';
        const char *base = strrchr (path, '/') + 1;
        if (strncmp (base, "libzmq.so", 9) != 0)
            continue;
        if (out[0] && strcmp (out, path) != 0) {
            fprintf (stderr, "app: two libzmq mapped: %s and %s\n", out, path);
            failures++;
        }
        snprintf (out, len, "%s", path);
    }
    fclose (maps);
}

static void exchange (void *ctx, const char *bind_ep)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    CHECK (pull && push);
    int timeout = 5000;
    CHECK (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout) == 0);
    CHECK (zmq_bind (pull, bind_ep) == 0);
    char ep[256];
    size_t eplen = sizeof ep;
    CHECK (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, ep, &eplen) == 0);
    CHECK (zmq_connect (push, ep) == 0);
    CHECK (zmq_send (push, "hello", 5, 0) == 5);
    char buf[16];
    int n = zmq_recv (pull, buf, sizeof buf, 0);
    CHECK (n == 5 && memcmp (buf, "hello", 5) == 0);
    int linger = 0;
    zmq_setsockopt (push, ZMQ_LINGER, &linger, sizeof linger);
    CHECK (zmq_close (push) == 0);
    CHECK (zmq_close (pull) == 0);
    printf ("app: %s ok\n", ep);
}

int main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: app DIR|static\n");
        return 2;
    }
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("app: zmq_version %d.%d.%d (header %d.%d.%d)\n", major, minor,
            patch, ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH);
    CHECK (major == 4 && minor == 3);

    char lib[PATH_MAX];
    mapped_libzmq (lib, sizeof lib);
    printf ("app: libzmq mapped: %s\n", lib[0] ? lib : "(none)");
    if (strcmp (argv[1], "static") == 0) {
        CHECK (lib[0] == '\0');
    } else {
        char want[PATH_MAX];
        if (!realpath (argv[1], want)) {
            perror (argv[1]);
            return 1;
        }
        size_t n = strlen (want);
        CHECK (lib[0] && strncmp (lib, want, n) == 0 && lib[n] == '/'
               && strchr (lib + n + 1, '/') == NULL);
    }

    void *ctx = zmq_ctx_new ();
    CHECK (ctx);
    exchange (ctx, "inproc://app");
    exchange (ctx, "tcp://127.0.0.1:*");
    CHECK (zmq_ctx_term (ctx) == 0);
    return failures ? 1 : 0;
}
