//! Worker processes of a distributed cluster (`semgate worker`), for the tests that run one.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `semgate worker` process; killed when dropped.
pub struct WorkerProcess {
    child: Child,
    pub url: url::Url,
}

impl WorkerProcess {
    /// Start one of the test demo on a free port and wait for the line that names its address.
    pub fn start(secret: &str) -> Self {
        Self::start_with(
            secret,
            &["--demo-scale", &super::TEST_SCALE.to_string()],
            &super::data_dir(),
        )
    }

    /// Start one with `args` (`--config FILE`, say) and `--data-dir data_dir`.
    pub fn start_with(secret: &str, args: &[&str], data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_semgate"))
            .args(["worker", "--listen", "127.0.0.1:0"])
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env("SEMGATE_CLUSTER_SECRET", secret)
            .stderr(Stdio::piped())
            .spawn()
            .expect("semgate worker starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the worker printed its address before exiting")
                .unwrap();
            if let Some(url) = line.split("listening on ").nth(1) {
                break url::Url::parse(url.trim()).unwrap();
            }
        };
        // Keep reading its log so that the worker never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }

    pub fn port(&self) -> u16 {
        self.url.port().unwrap()
    }

    pub fn signal(&self, signal: &str) {
        // The shell's own `kill`: no package needed.
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {}", self.child.id()))
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
