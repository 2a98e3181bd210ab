//! The servers an example's own `setup.sh` starts (databases, an S3 server) for the tests that read them.

use std::path::PathBuf;
use std::process::Command;

/// What `examples/<name>/setup.sh STATE` started, with `env` (its ports and scale); stopped (`--stop`) and its state
/// removed when dropped.
pub struct ExampleServers {
    name: &'static str,
    pub state: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl ExampleServers {
    /// Run the example's setup under a fresh state directory (under the test data directory).
    pub fn setup(name: &'static str, env: Vec<(&'static str, String)>) -> Self {
        let servers = Self {
            name,
            state: super::data_dir().join(format!("{name}-{}", std::process::id())),
            env,
        };
        servers.script(&[]);
        servers
    }

    /// `setup.sh ARGS… STATE`, as the test demo's scale, this semgate binary and `env` say.
    pub fn script(&self, args: &[&str]) {
        let script = super::repo().join(format!("examples/{}/setup.sh", self.name));
        let status = Command::new(&script)
            .args(args)
            .arg(&self.state)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("SEMGATE", env!("CARGO_BIN_EXE_semgate"))
            .status()
            .expect("setup.sh runs");
        assert!(status.success(), "{} {args:?} failed", script.display());
    }

    /// A file of the state directory (a server's log), empty until it exists.
    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.state.join(file)).unwrap_or_default()
    }
}

impl Drop for ExampleServers {
    fn drop(&mut self) {
        self.script(&["--stop"]);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}
