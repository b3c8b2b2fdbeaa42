/* Prints the layout of zmq.h's public structs, one "name value" a line.
   tests/abi.rs builds it once against Debian's zmq.h and once against
   ours, and the two outputs must be identical. */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include "zmq.h"

#define SHOW(what) printf ("%s %zu\n", #what, (size_t) (what))

int main (void)
{
    SHOW (sizeof (zmq_msg_t));
    SHOW (alignof (zmq_msg_t));
    SHOW (sizeof (zmq_pollitem_t));
    SHOW (alignof (zmq_pollitem_t));
    SHOW (offsetof (zmq_pollitem_t, socket));
    SHOW (offsetof (zmq_pollitem_t, fd));
    SHOW (offsetof (zmq_pollitem_t, events));
    SHOW (offsetof (zmq_pollitem_t, revents));
    SHOW (sizeof (zmq_fd_t));
    SHOW (sizeof (((zmq_pollitem_t *) 0)->events));
    SHOW (sizeof (((zmq_pollitem_t *) 0)->revents));
    /* A zmq_msg_t inside a struct must keep its alignment. */
    struct holder { char c; zmq_msg_t m; };
    SHOW (offsetof (struct holder, m));
    return 0;
}
