//! Build script: compiles `src/runtime/uring_shim.c`, our interposer for libc's
//! `syscall()` that turns on IORING_SETUP_COOP_TASKRUN for glommio's rings
//! (see `src/runtime/uring_shim.rs`).

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    println!("cargo:rerun-if-changed=src/runtime/uring_shim.c");
    println!("cargo:rustc-check-cfg=cfg(shoal_uring_shim)");

    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    // The shim issues raw system calls with inline asm written for these
    // two targets only; elsewhere the Rust wrapper becomes a no-op.
    if os != "linux" || !(arch == "x86_64" || arch == "aarch64") {
        return;
    }

    cc::Build::new()
        .file("src/runtime/uring_shim.c")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(true)
        // Without whole-archive the linker may leave the object out (nothing
        // names `syscall` from it specifically), and the interposition
        // would silently not happen.
        .link_lib_modifier("+whole-archive")
        .compile("shoal_uring_shim");
    println!("cargo:rustc-cfg=shoal_uring_shim");
}
