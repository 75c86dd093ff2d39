//! Process-level tweaks for glommio 0.9's io_uring usage.
//!
//! **COOP_TASKRUN.** glommio 0.9 creates its rings without
//! `IORING_SETUP_COOP_TASKRUN`, so every completion is delivered with a
//! reschedule IPI to the executor thread (measured: ~40% of server CPU per
//! request). `uring_shim.c` beside this file (built by `src/build.rs`) defines libc's
//! `syscall()` for the whole process; glommio's bundled liburing creates rings
//! through it, and the shim ORs in `COOP_TASKRUN | TASKRUN_FLAG` (not for
//! SQPOLL/IOPOLL rings; retried without them on kernels < 5.19). Every other
//! system call is forwarded unchanged. Set `SHOAL_NO_COOP_TASKRUN` (any value)
//! to disable it for A/B measurements.
//!
//! **membarrier.** glommio registers `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`
//! lazily, right before an executor first goes to sleep. On kernels > 6.6 that
//! registration is slow once the process has several threads, so the first
//! timer of the process fires tens of milliseconds late (glommio issue #652).
//! [`prepare_process`] registers it while the process is still
//! single-threaded; glommio's own registration then returns immediately.

#[cfg(shoal_uring_shim)]
mod ffi {
    unsafe extern "C" {
        pub fn shoal_uring_shim_rings_coop() -> libc::c_int;
        pub fn shoal_uring_shim_rings_total() -> libc::c_int;
        pub fn shoal_uring_shim_linked() -> libc::c_int;
    }
}

/// Call at the very start of `main`, before any thread (executor, signal
/// handler, logger, ...) exists. Registers the process for private expedited
/// membarrier (see the module docs) and calls [`ensure_linked`].
pub fn prepare_process() {
    ensure_linked();
    const MEMBARRIER_CMD_QUERY: libc::c_int = 0;
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;
    let flags: libc::c_int = 0;
    // SAFETY: membarrier(2) takes two integers and touches no memory of ours.
    unsafe {
        let supported = libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_QUERY, flags);
        // Same condition glommio uses before registering; if unsupported,
        // glommio falls back to another barrier and there is nothing to do.
        if supported >= 0
            && supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED != 0
            && supported & (MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED as libc::c_long) != 0
        {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                flags,
            );
        }
    }
}

/// Makes sure the shim's object file is part of the binary (build.rs already
/// links it with `+whole-archive`; this call is a second guarantee, because
/// if the object were dropped the interposition would silently not happen).
/// Called by [`prepare_process`].
pub fn ensure_linked() {
    #[cfg(shoal_uring_shim)]
    {
        // SAFETY: a C function without arguments or side effects.
        std::hint::black_box(unsafe { ffi::shoal_uring_shim_linked() });
    }
}

/// `(coop, total)`: io_uring rings created so far with `COOP_TASKRUN`, and all
/// rings created. Both stay 0 if the shim is not in the binary. With glommio,
/// `coop < total` is expected (its IOPOLL ring never gets the flag); `coop ==
/// 0` means it is disabled (`SHOAL_NO_COOP_TASKRUN`) or the kernel is older
/// than 5.19.
pub fn rings_with_coop_taskrun() -> (u32, u32) {
    #[cfg(shoal_uring_shim)]
    {
        // SAFETY: C functions that only read atomic counters.
        unsafe {
            (
                ffi::shoal_uring_shim_rings_coop() as u32,
                ffi::shoal_uring_shim_rings_total() as u32,
            )
        }
    }
    #[cfg(not(shoal_uring_shim))]
    {
        (0, 0)
    }
}

#[cfg(all(test, shoal_uring_shim))]
mod tests {
    #[test]
    fn executor_rings_get_coop_taskrun() {
        let before = super::rings_with_coop_taskrun();
        let ex = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .io_memory(512 * 1024)
            .spawn(|| async { glommio::timer::sleep(std::time::Duration::from_millis(1)).await })
            .expect("executor");
        ex.join().expect("join");
        let (coop, total) = super::rings_with_coop_taskrun();
        assert!(total > before.1, "no ring went through the shim");
        if std::env::var_os("SHOAL_NO_COOP_TASKRUN").is_none() {
            assert!(coop > before.0, "rings were created without COOP_TASKRUN");
        }
    }
}
