use shoal::runtime::{self, uring_shim};
use shoal::server::{config, log};

fn main() {
    // Before any thread exists (see uring_shim).
    uring_shim::prepare_process();
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
