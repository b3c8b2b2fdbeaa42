/* Optional security for the tcp/ipc benchmarks: a last argument "curve"
 * makes the binding side (local_*) a CURVE server and the connecting side
 * (remote_*) its client, with fixed key pairs; "null" or none keeps NULL. */
#ifndef PERF_SECURITY_H
#define PERF_SECURITY_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void perf_security(void *s, const char *mech, int server)
{
    static const char server_public[] = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    static const char server_secret[] = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
    static const char client_public[] = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    static const char client_secret[] = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";
    if (!mech || !strcmp(mech, "null"))
        return;
    if (strcmp(mech, "curve") != 0) {
        fprintf(stderr, "unknown mechanism '%s' (null or curve)\n", mech);
        exit(1);
    }
    int one = 1, rc;
    if (server) {
        rc = zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server_secret, 40);
    } else {
        rc = zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public, 40);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client_public, 40);
        rc |= zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client_secret, 40);
    }
    if (rc != 0) {
        fprintf(stderr, "CURVE options: %s\n", zmq_strerror(zmq_errno()));
        exit(1);
    }
}
#endif
