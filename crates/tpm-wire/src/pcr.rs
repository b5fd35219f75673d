use ironroot_crypto::HashAlg;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A digest (or any byte string) that serialises as lowercase hex.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Digest(#[serde(with = "hex::serde")] pub Vec<u8>);

impl Digest {
    pub fn hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl From<Vec<u8>> for Digest {
    fn from(v: Vec<u8>) -> Self {
        Digest(v)
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// PCR values per bank: `bank -> PCR index -> digest`. Produced by a verified quote
/// (what the TPM says) and by replaying logs (what the logs say), then compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrValues(pub BTreeMap<HashAlg, BTreeMap<u32, Digest>>);

impl PcrValues {
    pub fn get(&self, bank: HashAlg, index: u32) -> Option<&Digest> {
        self.0.get(&bank).and_then(|b| b.get(&index))
    }

    pub fn set(&mut self, bank: HashAlg, index: u32, value: Vec<u8>) {
        self.0.entry(bank).or_default().insert(index, Digest(value));
    }

    /// Extends `index` in `bank` the way a TPM does: `new = H(old || digest)`, starting
    /// from all zeros when the PCR has no value yet.
    pub fn extend(&mut self, bank: HashAlg, index: u32, digest: &[u8]) {
        let entry = self
            .0
            .entry(bank)
            .or_default()
            .entry(index)
            .or_insert_with(|| Digest(vec![0u8; bank.len()]));
        let mut h = ironroot_crypto::Hasher::new(bank);
        h.update(&entry.0).update(digest);
        entry.0 = h.finish();
    }

    pub fn banks(&self) -> impl Iterator<Item = HashAlg> + '_ {
        self.0.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_from_zero_matches_manual_hash() {
        let mut p = PcrValues::default();
        p.extend(HashAlg::Sha256, 10, &[1u8; 32]);
        let mut input = vec![0u8; 32];
        input.extend([1u8; 32]);
        assert_eq!(
            p.get(HashAlg::Sha256, 10).unwrap().0,
            ironroot_crypto::digest(HashAlg::Sha256, &input)
        );
    }

    #[test]
    fn serialises_as_hex() {
        let mut p = PcrValues::default();
        p.set(HashAlg::Sha1, 0, vec![0xab]);
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"sha1":{"0":"ab"}}"#);
    }
}
