/* PUSH/PULL: round-robin out, fair-queue in, and the high-water mark. */
#include "testutil.h"

static void *ctx;

static void test_push_round_robin (void)
{
    char ep[3][256], buf[32];
    void *pulls[3];
    void *push = tsock (ctx, ZMQ_PUSH);
    for (int i = 0; i < 3; i++) {
        pulls[i] = tsock (ctx, ZMQ_PULL);
        bind_ep (pulls[i], "rr", ep[i], sizeof ep[i]);
        connect_ep (push, ep[i]);
    }
    if (strcmp (tu_transport, "inproc") != 0)
        msleep (SETTLE_MS); /* all three connections must be up */

    for (int i = 0; i < 9; i++) {
        snprintf (buf, sizeof buf, "%d", i);
        send_str (push, buf, 0);
    }
    /* Every worker gets every third message. */
    for (int i = 0; i < 3; i++) {
        int prev = -1;
        for (int k = 0; k < 3; k++) {
            recv_str (pulls[i], buf, sizeof buf);
            int v = atoi (buf);
            if (prev >= 0)
                CHECK_INT (v - prev, 3);
            prev = v;
        }
        expect_nothing (pulls[i], 20);
    }
    for (int i = 0; i < 3; i++)
        tclose (pulls[i]);
    tclose (push);
}

static void test_pull_fair_queue (void)
{
    char ep[256], buf[32];
    void *pull = tsock (ctx, ZMQ_PULL);
    bind_ep (pull, "fq", ep, sizeof ep);
    void *push[3];
    for (int i = 0; i < 3; i++) {
        push[i] = tsock (ctx, ZMQ_PUSH);
        connect_ep (push[i], ep);
    }
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++) {
            snprintf (buf, sizeof buf, "%c%d", 'A' + i, k);
            send_str (push[i], buf, 0);
        }
    msleep (SETTLE_MS);
    /* All queues are full, so each window of three takes one from each
     * sender, and each sender's messages stay in order. */
    int next[3] = {0, 0, 0};
    for (int round = 0; round < 4; round++) {
        int seen = 0;
        for (int k = 0; k < 3; k++) {
            recv_str (pull, buf, sizeof buf);
            int who = buf[0] - 'A';
            CHECK (who >= 0 && who < 3);
            CHECK ((seen & (1 << who)) == 0);
            seen |= 1 << who;
            CHECK_INT (atoi (buf + 1), next[who]);
            next[who]++;
        }
    }
    expect_nothing (pull, 20);
    for (int i = 0; i < 3; i++)
        tclose (push[i]);
    tclose (pull);
}

static void test_hwm_blocks_push (void)
{
    /* Over a wire, kernel socket buffers absorb an unpredictable amount,
     * so the exact limit is only defined for inproc. */
    if (strcmp (tu_transport, "inproc") != 0)
        return;
    char ep[256], buf[32];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 5);
    bind_ep (pull, "hwm", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 5);
    connect_ep (push, ep);

    int sent = 0;
    while (sent < 1000 && zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    CHECK_INT (zmq_errno (), EAGAIN);
    /* The inproc pipe holds the sender's SNDHWM plus the receiver's
     * RCVHWM. */
    CHECK_INT (sent, 10);

    /* SNDTIMEO turns the block into EAGAIN after the timeout. */
    set_int (push, ZMQ_SNDTIMEO, 100);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_send (push, "x", 1, 0), EAGAIN);
    int64_t el = now_ms () - t0;
    CHECK (el >= 80);
    CHECK (el < 2000);

    /* Draining the receiver makes room again. */
    for (int i = 0; i < sent; i++)
        CHECK_INT (zmq_recv (pull, buf, sizeof buf, 0), 1);
    expect_nothing (pull, 20);
    set_int (push, ZMQ_SNDTIMEO, TU_TIMEOUT_MS);
    send_str (push, "again", 0);
    recv_expect (pull, "again", 0);

    tclose (push);
    tclose (pull);
}

static void test_hwm_zero_is_unbounded (void)
{
    if (strcmp (tu_transport, "inproc") != 0)
        return;
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 0);
    bind_ep (pull, "hwm0", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 5);
    connect_ep (push, ep);
    /* Either side at 0 means no limit for the inproc pipe. */
    for (int i = 0; i < 5000; i++)
        CHECK_INT (zmq_send (push, "x", 1, ZMQ_DONTWAIT), 1);
    tclose (push);
    tclose (pull);
}

static void test_push_without_peers (void)
{
    void *push = tsock (ctx, ZMQ_PUSH);
    char ep[256];
    bind_ep (push, "nopeer", ep, sizeof ep);
    FAILS_WITH (zmq_send (push, "x", 1, ZMQ_DONTWAIT), EAGAIN);
    set_int (push, ZMQ_SNDTIMEO, 50);
    int64_t t0 = now_ms ();
    FAILS_WITH (zmq_send (push, "x", 1, 0), EAGAIN);
    CHECK (now_ms () - t0 >= 40);
    tclose (push);
}

static void test_wrong_direction (void)
{
    void *push = tsock (ctx, ZMQ_PUSH);
    void *pull = tsock (ctx, ZMQ_PULL);
    char buf[8];
    FAILS_WITH (zmq_recv (push, buf, sizeof buf, 0), ENOTSUP);
    FAILS_WITH (zmq_send (pull, "x", 1, 0), ENOTSUP);
    tclose (push);
    tclose (pull);
}

struct blocked_arg
{
    void *pull;
    int got;
};

static void *late_reader (void *p)
{
    struct blocked_arg *a = p;
    char buf[8];
    msleep (150);
    for (int i = 0; i < 2; i++)
        if (zmq_recv (a->pull, buf, sizeof buf, 0) == 1)
            a->got++;
    return NULL;
}

static void test_blocked_send_resumes (void)
{
    /* A send blocked at the HWM wakes when another thread reads. */
    if (strcmp (tu_transport, "inproc") != 0)
        return;
    char ep[256];
    void *pull = tsock (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, 1);
    bind_ep (pull, "resume", ep, sizeof ep);
    void *push = tsock (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_SNDHWM, 1);
    connect_ep (push, ep);

    int n = 0;
    while (n < 1000 && zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        n++;
    struct blocked_arg a = {pull, 0};
    pthread_t t = tthread (late_reader, &a);
    int64_t t0 = now_ms ();
    CHECK_INT (zmq_send (push, "y", 1, 0), 1);
    CHECK (now_ms () - t0 >= 100);
    pthread_join (t, NULL);
    CHECK_INT (a.got, 2);
    tclose (push);
    tclose (pull);
}

int main (int argc, char **argv)
{
    tu_init (argc, argv);
    ctx = tctx_new ();
    RUN (test_push_round_robin);
    RUN (test_pull_fair_queue);
    RUN (test_hwm_blocks_push);
    RUN (test_hwm_zero_is_unbounded);
    RUN (test_push_without_peers);
    RUN (test_wrong_direction);
    RUN (test_blocked_send_resumes);
    tctx_term (ctx);
    return 0;
}
