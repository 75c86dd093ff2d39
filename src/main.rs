use shoal::runtime::{self, uring_shim};
use shoal::server::{config, log};

fn main() {
    // Before any thread exists (see uring_shim).
    uring_shim::prepare_process();
    shoal::util::clock::calibrate();
    let config = match config::from_args(std::env::args().collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = log::init(config.get("loglevel"), config.get("logfile")) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    std::process::exit(runtime::run(config));
}

// mimalloc: exact-ish size classes (a 91-byte entry takes 96 bytes, not glibc's 112) and no
// per-block header, which is most of what keeps a key under Redis's footprint.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
