//! Runs swtpm, the reference TPM 2.0, as a child process on loopback.
//!
//! Used by this crate's tests, by other crates' tests and by the demo's development
//! nodes. [`Swtpm::setup`] manufactures a TPM (EKs, EK and platform certificates signed
//! by a local CA that lives under the state directory, so nothing touches
//! `/var/lib/swtpm-localca`); [`Swtpm::start`] runs it with `--flags startup-clear`, so
//! the TPM has already received TPM2_Startup(CLEAR) when clients connect.

mod setup;

pub use setup::{LocalCa, SetupOptions};

use crate::TpmError;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// swtpm control channel commands (swtpm's `ptm.h`).
const CMD_INIT: u32 = 2;
const CMD_SHUTDOWN: u32 = 3;
/// CMD_INIT flag: drop saved volatile state, so the init is a cold boot.
const INIT_FLAG_DELETE_VOLATILE: u32 = 1;
/// TPM2_Startup(TPM_SU_CLEAR) as raw command bytes.
const TPM2_STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running swtpm; stopped when dropped.
#[derive(Debug)]
pub struct Swtpm {
    child: Option<Child>,
    state_dir: PathBuf,
    port: u16,
}

impl Swtpm {
    /// Starts swtpm on the TPM manufactured in `state_dir`, on free loopback ports.
    pub fn start(state_dir: &Path) -> Result<Swtpm, TpmError> {
        let mut swtpm = Swtpm {
            child: None,
            state_dir: state_dir.to_path_buf(),
            port: 0,
        };
        swtpm.spawn()?;
        Ok(swtpm)
    }

    /// TCTI string for tss-esapi and tpm2-tools.
    pub fn tcti(&self) -> String {
        format!("swtpm:host=127.0.0.1,port={}", self.port)
    }

    /// TPM command port; the control channel is the next one.
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Shuts swtpm down through its control channel (so it saves its state), and kills
    /// it if it does not exit in time.
    pub fn stop(&mut self) -> Result<(), TpmError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = self.control(CMD_SHUTDOWN, None);
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if child.try_wait().map_err(io("waiting for swtpm"))?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().map_err(io("killing swtpm"))?;
        child.wait().map_err(io("waiting for swtpm")).map(|_| ())
    }

    /// Stops and starts swtpm on the same state: a TPM reset (resetCount changes,
    /// transient objects and sessions are gone, PCRs are back to their initial values).
    /// The ports may change, so reopen clients with the new [`Swtpm::tcti`].
    pub fn restart(&mut self) -> Result<(), TpmError> {
        self.stop()?;
        self.spawn()
    }

    /// A power cycle without restarting the process: TPM_Init through the control
    /// channel, then TPM2_Startup(CLEAR). Clients must reconnect afterwards.
    pub fn power_cycle(&mut self) -> Result<(), TpmError> {
        self.control(CMD_INIT, Some(INIT_FLAG_DELETE_VOLATILE))?;
        let mut tpm = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
            .map_err(io("connecting to swtpm"))?;
        tpm.write_all(&TPM2_STARTUP_CLEAR)
            .map_err(io("sending TPM2_Startup"))?;
        let mut reply = [0u8; 10];
        tpm.read_exact(&mut reply)
            .map_err(io("reading TPM2_Startup reply"))?;
        match u32::from_be_bytes([reply[6], reply[7], reply[8], reply[9]]) {
            0 => Ok(()),
            rc => Err(TpmError::Swtpm(format!("TPM2_Startup returned {rc:#x}"))),
        }
    }

    fn spawn(&mut self) -> Result<(), TpmError> {
        let mut last_error = None;
        // Free ports can be taken between probing and binding; try a few pairs.
        for _ in 0..5 {
            let port = free_port_pair()?;
            match self.spawn_on(port) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| TpmError::Swtpm("could not start".into())))
    }

    fn spawn_on(&mut self, port: u16) -> Result<(), TpmError> {
        let mut child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "startup-clear"])
            .arg("--tpmstate")
            .arg(format!("dir={}", tpm_dir(&self.state_dir).display()))
            .args([
                "--server",
                &format!("type=tcp,port={port},bindaddr=127.0.0.1"),
            ])
            .args([
                "--ctrl",
                &format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("starting swtpm"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().map_err(io("waiting for swtpm"))? {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                return Err(TpmError::Swtpm(format!(
                    "swtpm exited ({status}): {}",
                    err.trim()
                )));
            }
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                self.child = Some(child);
                self.port = port;
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TpmError::Swtpm(
                    "swtpm did not accept connections in time".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one control-channel command and checks its result code.
    fn control(&self, command: u32, argument: Option<u32>) -> Result<(), TpmError> {
        let mut ctrl = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port + 1))
            .map_err(io("connecting to swtpm ctrl"))?;
        let mut request = command.to_be_bytes().to_vec();
        if let Some(arg) = argument {
            request.extend_from_slice(&arg.to_be_bytes());
        }
        ctrl.write_all(&request).map_err(io("writing swtpm ctrl"))?;
        let mut result = [0u8; 4];
        ctrl.read_exact(&mut result)
            .map_err(io("reading swtpm ctrl"))?;
        match u32::from_be_bytes(result) {
            0 => Ok(()),
            rc => Err(TpmError::Swtpm(format!(
                "control command {command} returned {rc:#x}"
            ))),
        }
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "stopping swtpm");
        }
    }
}

pub(super) fn tpm_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("tpm")
}

pub(super) fn ca_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("localca")
}

pub(super) fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> TpmError {
    move |e| TpmError::Swtpm(format!("{what}: {e}"))
}

/// A port P such that P and P+1 were both free a moment ago.
fn free_port_pair() -> Result<u16, TpmError> {
    for _ in 0..50 {
        let first =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("probing for a free port"))?;
        let port = first
            .local_addr()
            .map_err(io("probing for a free port"))?
            .port();
        if port < u16::MAX && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err(TpmError::Swtpm(
        "no two consecutive free loopback ports".into(),
    ))
}
