//! The floor for the scanner's benchmark (scripts/bench-scan.sh): decompress and read every
//! byte of every layer of an OCI layout, with the same gzip/zstd and tar crates the scanner
//! uses, doing nothing else. `ironroot scan` is measured against this in the same run.
//!
//!   ironroot-scan-floor OCI_LAYOUT_DIR

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: ironroot-scan-floor OCI_LAYOUT_DIR");
        return ExitCode::from(2);
    };
    match run(std::path::Path::new(&dir)) {
        Ok((layers, bytes)) => {
            println!("layers={layers} bytes={bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn json(path: &std::path::Path) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_slice(&std::fs::read(path)?)?)
}

fn run(dir: &std::path::Path) -> Result<(usize, u64), Box<dyn std::error::Error>> {
    let blob = |d: &str| {
        dir.join("blobs/sha256")
            .join(d.trim_start_matches("sha256:"))
    };
    let index = json(&dir.join("index.json"))?;
    let m = index["manifests"][0]["digest"]
        .as_str()
        .ok_or("index.json: no manifest")?;
    let manifest = json(&blob(m))?;
    let layers = manifest["layers"].as_array().ok_or("manifest: no layers")?;
    let mut total = 0u64;
    let mut sink = std::io::sink();
    for l in layers {
        let digest = l["digest"].as_str().ok_or("layer without digest")?;
        let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(blob(digest))?);
        let mut magic = [0u8; 4];
        f.read_exact(&mut magic)?;
        let head = std::io::Cursor::new(magic).chain(f);
        let reader: Box<dyn Read> = match magic {
            [0x1f, 0x8b, ..] => Box::new(flate2::read::GzDecoder::new(head)),
            [0x28, 0xb5, 0x2f, 0xfd] => Box::new(zstd::stream::read::Decoder::new(head)?),
            _ => Box::new(head),
        };
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries()? {
            total += std::io::copy(&mut entry?, &mut sink)?;
        }
    }
    sink.flush()?;
    Ok((layers.len(), total))
}
