/*
 * uring_shim.c -- make every io_uring ring in the process use
 * IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG.
 *
 * glommio 0.9 (its bundled liburing and its own Rust code) creates rings
 * through libc's variadic syscall(2) without COOP_TASKRUN, so each
 * completion is delivered with a reschedule IPI to the ring's thread.  With
 * thread-per-core executors that is pure overhead: the owning thread enters
 * the kernel constantly anyway and will run the task work there.
 *
 * This file defines `long syscall(long, ...)`.  Because it is linked into
 * the executable, it takes precedence over glibc's definition for every
 * call made from the program itself (liburing, glommio, Rust std's futex
 * calls, the libc crate).  io_uring_setup gets the two flags ORed in (unless
 * SQPOLL or IOPOLL is requested, or SHOAL_NO_COOP_TASKRUN is set); every
 * other call is forwarded unchanged with the same semantics as glibc's
 * syscall(): raw results in [-4095, -1] become -1 with errno set.
 *
 * Only x86-64 and aarch64 are supported; build.rs compiles this file only
 * for those targets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425 /* same number on x86-64 and aarch64 */
#endif

#define SHIM_SETUP_IOPOLL        (1u << 0)
#define SHIM_SETUP_SQPOLL        (1u << 1)
#define SHIM_SETUP_COOP_TASKRUN  (1u << 8)  /* Linux 5.19 */
#define SHIM_SETUP_TASKRUN_FLAG  (1u << 9)  /* Linux 5.19 */
#define SHIM_ADDED_FLAGS (SHIM_SETUP_COOP_TASKRUN | SHIM_SETUP_TASKRUN_FLAG)

/* struct io_uring_params: u32 sq_entries, u32 cq_entries, u32 flags, ... */
#define SHIM_PARAMS_FLAGS_OFFSET 8

#if defined(__x86_64__)
static inline long shim_raw_syscall6(long n, long a1, long a2, long a3,
                                     long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    long ret;
    __asm__ __volatile__("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
                           "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
static inline long shim_raw_syscall6(long n, long a1, long a2, long a3,
                                     long a4, long a5, long a6)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a1;
    register long x1 __asm__("x1") = a2;
    register long x2 __asm__("x2") = a3;
    register long x3 __asm__("x3") = a4;
    register long x4 __asm__("x4") = a5;
    register long x5 __asm__("x5") = a6;
    __asm__ __volatile__("svc 0"
                         : "+r"(x0)
                         : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4),
                           "r"(x5)
                         : "memory", "cc");
    return x0;
}
#else
#error "uring_shim.c supports only x86-64 and aarch64"
#endif

/* 0 = not read yet, 1 = add the flags, 2 = disabled by the environment. */
static int shim_mode;
static int shim_rings_coop;
static int shim_rings_total;

static int shim_enabled(void)
{
    int mode = __atomic_load_n(&shim_mode, __ATOMIC_RELAXED);
    if (mode == 0) {
        /* getenv() only reads `environ`; it never calls syscall().  Two
         * threads racing here compute the same answer. */
        const char *v = getenv("SHOAL_NO_COOP_TASKRUN");
        mode = (v != NULL) ? 2 : 1;
        __atomic_store_n(&shim_mode, mode, __ATOMIC_RELAXED);
    }
    return mode == 1;
}

static long shim_io_uring_setup(long entries, long params, long a3, long a4,
                                long a5, long a6)
{
    unsigned int *flagsp =
        params ? (unsigned int *)((char *)params + SHIM_PARAMS_FLAGS_OFFSET)
               : NULL;
    long ret;

    if (flagsp != NULL && shim_enabled()) {
        unsigned int orig = *flagsp;
        if ((orig & (SHIM_SETUP_SQPOLL | SHIM_SETUP_IOPOLL)) == 0 &&
            (orig & SHIM_ADDED_FLAGS) != SHIM_ADDED_FLAGS) {
            *flagsp = orig | SHIM_ADDED_FLAGS;
            ret = shim_raw_syscall6(__NR_io_uring_setup, entries, params, a3,
                                    a4, a5, a6);
            if (ret >= 0) {
                __atomic_fetch_add(&shim_rings_coop, 1, __ATOMIC_RELAXED);
                __atomic_fetch_add(&shim_rings_total, 1, __ATOMIC_RELAXED);
                return ret;
            }
            /* Restore what the caller asked for. */
            *flagsp = orig;
            if (ret != -EINVAL)
                return ret;
            /* Kernel older than 5.19: retry without the flags. */
        }
    }

    ret = shim_raw_syscall6(__NR_io_uring_setup, entries, params, a3, a4, a5,
                            a6);
    if (ret >= 0) {
        if (flagsp != NULL && (*flagsp & SHIM_SETUP_COOP_TASKRUN))
            __atomic_fetch_add(&shim_rings_coop, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&shim_rings_total, 1, __ATOMIC_RELAXED);
    }
    return ret;
}

long syscall(long n, ...)
{
    va_list ap;
    long a1, a2, a3, a4, a5, a6, ret;

    /* Like glibc: always take six arguments; unused ones are ignored by the
     * kernel. */
    va_start(ap, n);
    a1 = va_arg(ap, long);
    a2 = va_arg(ap, long);
    a3 = va_arg(ap, long);
    a4 = va_arg(ap, long);
    a5 = va_arg(ap, long);
    a6 = va_arg(ap, long);
    va_end(ap);

    if (n == __NR_io_uring_setup)
        ret = shim_io_uring_setup(a1, a2, a3, a4, a5, a6);
    else
        ret = shim_raw_syscall6(n, a1, a2, a3, a4, a5, a6);

    if ((unsigned long)ret > -4096UL) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

/* Number of rings created with IORING_SETUP_COOP_TASKRUN. */
int shoal_uring_shim_rings_coop(void)
{
    return __atomic_load_n(&shim_rings_coop, __ATOMIC_RELAXED);
}

/* Number of rings created successfully through this shim. */
int shoal_uring_shim_rings_total(void)
{
    return __atomic_load_n(&shim_rings_total, __ATOMIC_RELAXED);
}

/* Called from Rust at start-up so the object is always linked in. Returns
 * 1 when this syscall() is the one the program actually uses. */
int shoal_uring_shim_linked(void)
{
    return 1;
}
