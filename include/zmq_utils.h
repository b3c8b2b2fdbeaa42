/*
    zmq_utils.h for ferrozmq. libzmq moved everything this header used to
    declare (stopwatch, sleep, threads, Z85, CURVE keys) into zmq.h; the
    header stays so programs that still include it keep compiling. It
    includes zmq.h, so those programs also get the declarations they want.
*/

#ifndef __ZMQ_UTILS_H_INCLUDED__
#define __ZMQ_UTILS_H_INCLUDED__

#include "zmq.h"

#if defined(__GNUC__) || defined(__clang__) || defined(_MSC_VER)
#pragma message("zmq_utils.h is deprecated: include zmq.h instead.")
#endif

#endif
