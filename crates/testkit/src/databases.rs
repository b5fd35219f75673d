//! Throwaway databases for tests: a temporary directory for SQLite files and a private
//! PostgreSQL cluster (initdb + pg_ctl) on a free loopback port, never the system one.
//! Both are removed on drop, also when a test panics.
//!
//! The PostgreSQL binaries come from `IRONROOT_PG_BINDIR`, else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), else `PATH`. PostgreSQL
//! refuses to run as root, so as root the cluster runs as the `postgres` user.
//!
//! Test support only: a setup step that cannot work panics with what failed, which is
//! how a test should report it.
#![allow(clippy::panic)]

use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory under the system temp dir (`ironroot-TAG-...`), removed on drop.
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        match tempfile::Builder::new()
            .prefix(&format!("ironroot-{tag}-"))
            .tempdir()
        {
            Ok(dir) => TempDir(dir),
            Err(e) => panic!("cannot create a temporary directory for {tag}: {e}"),
        }
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// A private PostgreSQL cluster with trust authentication on 127.0.0.1.
pub struct PgCluster {
    bindir: PathBuf,
    as_postgres_user: bool,
    port: u16,
    // Fields drop after `Drop::drop`, so the directory goes once the server is stopped.
    dir: TempDir,
}

impl PgCluster {
    /// Creates and starts a cluster, or returns `None` (after saying why on stderr) when
    /// PostgreSQL is not installed, so the caller can skip.
    pub fn start() -> Option<PgCluster> {
        let Some(bindir) = find_bindir() else {
            crate::skip_missing_peer(
                "PostgreSQL binaries not found (install the `postgresql` package, \
                 see scripts/install-deps.sh, or set IRONROOT_PG_BINDIR)",
            );
            return None;
        };
        let as_postgres_user = running_as_root();
        if as_postgres_user && !postgres_user_exists() {
            crate::skip_missing_peer(
                "running as root and there is no `postgres` user to run PostgreSQL",
            );
            return None;
        }
        let dir = TempDir::new("pg");
        if as_postgres_user {
            run_checked(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let cluster = PgCluster {
            bindir,
            as_postgres_user,
            port: free_port(),
            dir,
        };
        cluster.run_pg(
            "initdb",
            &[
                "-D",
                "data",
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.start_again();
        Some(cluster)
    }

    /// A URL for the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the way an operator would (fast shutdown: clients are cut off).
    pub fn stop(&self) {
        self.run_pg("pg_ctl", &["-D", "data", "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server on the same port and data, after `stop` or at creation.
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        self.run_pg(
            "pg_ctl",
            &["-D", "data", "-l", "server.log", "-w", "-o", &opts, "start"],
        );
    }

    fn run_pg(&self, program: &str, args: &[&str]) {
        let exe = self.bindir.join(program);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args).current_dir(self.dir.path());
        let out = run(&mut cmd);
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{program} {args:?} failed: {}\n{}\nserver log:\n{log}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Immediate: nothing in a throwaway cluster is worth a clean shutdown. Errors are
        // ignored because the server may already be stopped.
        let exe = self.bindir.join("pg_ctl");
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let _ = cmd
            .args(["-D", "data", "-m", "immediate", "-w", "stop"])
            .current_dir(self.dir.path())
            .output();
    }
}

fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("IRONROOT_PG_BINDIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn postgres_user_exists() -> bool {
    run(Command::new("id").arg("postgres")).status.success()
}

fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free loopback port: {e}"),
    }
}

fn run(cmd: &mut Command) -> Output {
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run {cmd:?}: {e}"),
    }
}

fn run_checked(cmd: &mut Command) {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_fresh_named_by_tag_and_removed_on_drop() {
        let (a, b) = (TempDir::new("tag"), TempDir::new("tag"));
        assert_ne!(a.path(), b.path());
        let name = a
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        assert!(name.is_some_and(|n| n.starts_with("ironroot-tag-")));
        let kept = a.path().to_owned();
        std::fs::write(kept.join("f"), b"x").ok();
        drop(a);
        assert!(!kept.exists());
    }
}
