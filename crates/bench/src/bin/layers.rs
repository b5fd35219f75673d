//! `ironroot-layers`: encrypts or decrypts one OCI layer blob with ironroot's ocicrypt, as a
//! registry copy would, and prints the throughput, CPU time and peak RSS of the process.
//! `scripts/bench-layers.sh` runs it against skopeo on the same layer, in the same run.
//!
//! ```text
//! ironroot-layers encrypt PUB.pem LAYER OUT   # OUT, OUT.jwe, OUT.pubopts, OUT.digest
//! ironroot-layers decrypt PRIV.pem OUT PLAIN  # checks HMAC, both digests; PLAIN on success
//! ```
//!
//! Encryption wraps the layer's private options for the recipient (JWE, as skopeo's
//! `--encryption-key jwe:PUB.pem`) and computes the ciphertext's sha256 for its descriptor.
//! Decryption unwraps them, checks the ciphertext against that digest and the HMAC, and the
//! plaintext against the digest in the private options; the plaintext is renamed into place
//! only if every check passed. Bench tool only: it trusts its command line.

use ironroot_ocicrypt::{
    decrypt_layer, encrypt_layer, jwe_unwrap, jwe_wrap, JwePrivateKey, JwePublicKey,
    PrivateOptions, PublicOptions,
};
use std::fs::{self, File};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["encrypt", key, input, output] => encrypt(key, input, output),
        ["decrypt", key, input, output] => decrypt(key, input, output),
        _ => Err(
            "usage: ironroot-layers encrypt PUB.pem LAYER OUT | decrypt PRIV.pem OUT PLAIN".into(),
        ),
    };
    match result {
        Ok((op, bytes)) => {
            report(op, bytes, started.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ironroot-layers: {e}");
            ExitCode::FAILURE
        }
    }
}

fn encrypt(key: &str, input: &str, output: &str) -> Result<(&'static str, u64), String> {
    let recipient = JwePublicKey::from_pem(&read(key)?).map_err(|e| format!("{key}: {e}"))?;
    let reader = File::open(input).map_err(|e| format!("{input}: {e}"))?;
    let writer = File::create(output).map_err(|e| format!("{output}: {e}"))?;
    let layer = encrypt_layer(reader, writer).map_err(|e| e.to_string())?;
    let private = layer.private.to_json().map_err(|e| e.to_string())?;
    let jwe = jwe_wrap(&[recipient], &private).map_err(|e| e.to_string())?;
    let public = layer.public.to_json().map_err(|e| e.to_string())?;
    write(&format!("{output}.jwe"), &jwe)?;
    write(&format!("{output}.pubopts"), &public)?;
    write(&format!("{output}.digest"), layer.digest.as_bytes())?;
    Ok(("encrypt", layer.size))
}

fn decrypt(key: &str, input: &str, output: &str) -> Result<(&'static str, u64), String> {
    let own = JwePrivateKey::from_pem(&read(key)?).map_err(|e| format!("{key}: {e}"))?;
    let private_json = jwe_unwrap(&[own], &read(&format!("{input}.jwe"))?)
        .map_err(|e| format!("{input}.jwe: {e}"))?;
    let private = PrivateOptions::from_json(&private_json).map_err(|e| e.to_string())?;
    let public =
        PublicOptions::from_json(&read(&format!("{input}.pubopts"))?).map_err(|e| e.to_string())?;
    let expected =
        String::from_utf8(read(&format!("{input}.digest"))?).map_err(|e| e.to_string())?;
    let reader = File::open(input).map_err(|e| format!("{input}: {e}"))?;
    let partial = format!("{output}.partial");
    let writer = File::create(&partial).map_err(|e| format!("{partial}: {e}"))?;
    let seen = decrypt_layer(reader, writer, &private, &public).map_err(|e| {
        let _ = fs::remove_file(&partial);
        e.to_string()
    })?;
    if seen.digest != expected.trim() || seen.plaintext_digest != private.digest {
        let _ = fs::remove_file(&partial);
        return Err(format!(
            "digest mismatch: ciphertext {} (descriptor {}), plaintext {} (options {})",
            seen.digest,
            expected.trim(),
            seen.plaintext_digest,
            private.digest
        ));
    }
    fs::rename(&partial, output).map_err(|e| format!("{output}: {e}"))?;
    Ok(("decrypt", seen.size))
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn write(path: &str, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("{path}: {e}"))
}

/// One line, `key=value` pairs, for the script to parse.
fn report(op: &str, bytes: u64, wall: f64) {
    let (user, sys) = cpu_seconds().unwrap_or((f64::NAN, f64::NAN));
    let hwm = status_kib("VmHWM:").unwrap_or(0);
    let mb = bytes as f64 / 1e6;
    println!(
        "op={op} bytes={bytes} wall_s={wall:.3} user_s={user:.2} sys_s={sys:.2} \
         MB_per_s={:.0} cpu_GB_per_s={:.2} peak_rss_kib={hwm}",
        mb / wall,
        mb / 1e3 / (user + sys)
    );
}

/// User and system time of this process, from `/proc/self/stat` (in USER_HZ = 100 ticks).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    Some((ticks(11)? / 100.0, ticks(12)? / 100.0))
}

fn status_kib(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
