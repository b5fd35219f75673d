//! Generated versions compared here and by the real package managers, which must agree:
//! `dpkg --compare-versions` and rpm's Lua `rpm.vercmp`. A test whose tool is not installed
//! fails, or skips where a developer allowed it (`ironroot_testkit::skip_missing_peer`);
//! `apt-get install dpkg rpm` provides both on Debian.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cmp::Ordering;
use std::process::Command;

use ironroot_vercmp::{compare, Ecosystem};

/// xorshift64*: deterministic, so a disagreement reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick(&mut self, alphabet: &[u8]) -> char {
        char::from(alphabet[self.below(alphabet.len())])
    }

    fn string(&mut self, alphabet: &[u8], max: usize) -> String {
        (0..self.below(max + 1))
            .map(|_| self.pick(alphabet))
            .collect()
    }
}

fn installed(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        ironroot_testkit::skip_missing_peer(&format!(
            "{tool} is not installed (scripts/install-deps.sh)"
        ));
    }
    ok
}

/// A valid dpkg version, biased towards the characters whose order is subtle.
fn dpkg_version(r: &mut Rng) -> String {
    const UPSTREAM: &[u8] = b"0012399.+~~aAzZ";
    let mut v = String::new();
    if r.below(4) == 0 {
        v.push_str(&format!("{}:", r.below(3)));
    }
    v.push(r.pick(b"0123456789"));
    v.push_str(&r.string(UPSTREAM, 6));
    if r.below(2) == 0 {
        v.push('-');
        v.push(r.pick(b"01a~+."));
        v.push_str(&r.string(b"0129.+~ab", 3));
    }
    v
}

fn dpkg_says(a: &str, b: &str) -> Ordering {
    let holds = |op: &str| {
        let status = Command::new("dpkg")
            .args(["--compare-versions", "--", a, op, b])
            .status()
            .unwrap();
        match status.code() {
            Some(0) => true,
            Some(1) => false,
            other => panic!("dpkg rejected {a} {op} {b}: {other:?}"),
        }
    };
    if holds("lt") {
        Ordering::Less
    } else if holds("eq") {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    if !installed("dpkg", "--version") {
        return;
    }
    let mut r = Rng(0x1d2c_3b4a_5968_7786);
    let versions: Vec<String> = (0..300).map(|_| dpkg_version(&mut r)).collect();
    let mut equal = 0;
    for pair in versions.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        // Half the time compare against a near neighbour, where ties and `~` matter most.
        let b = if r.below(2) == 0 {
            format!("{a}{}", r.pick(b"~0a.+"))
        } else {
            b.clone()
        };
        let ours = compare(Ecosystem::Dpkg, a, &b).unwrap();
        assert_eq!(ours, dpkg_says(a, &b), "{a} vs {b}");
        equal += usize::from(ours == Ordering::Equal);
    }
    eprintln!("dpkg: 299 generated pairs agree with dpkg ({equal} equal)");
}

/// Any rpm version: rpm orders every string, separators and all.
fn rpm_version(r: &mut Rng) -> String {
    const CHARS: &[u8] = b"0012399.._+~^aAzZ";
    let mut v = String::new();
    if r.below(4) == 0 {
        v.push_str(&format!("{}:", r.below(3)));
    }
    v.push_str(&r.string(CHARS, 7));
    if v.is_empty() || v.ends_with(':') {
        v.push('1');
    }
    if r.below(2) == 0 {
        v.push('-');
        v.push_str(&r.string(CHARS, 4));
    }
    v
}

#[test]
fn rpm_agrees_with_rpm_vercmp() {
    if !installed("rpm", "--version") {
        return;
    }
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let pairs: Vec<(String, String)> = (0..400)
        .map(|_| {
            let a = rpm_version(&mut r);
            let b = if r.below(3) == 0 {
                format!("{a}{}", r.pick(b"~^.a1"))
            } else {
                rpm_version(&mut r)
            };
            (a, b)
        })
        .collect();
    // One rpm process for all pairs; the alphabet has no quote, backslash or '%'.
    let calls: String = pairs
        .iter()
        .map(|(a, b)| format!("print(rpm.vercmp(\"{a}\", \"{b}\")..\"\\n\") "))
        .collect();
    let out = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: {calls}}}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<i32> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(answers.len(), pairs.len());
    for ((a, b), rpm) in pairs.iter().zip(answers) {
        let ours = compare(Ecosystem::Rpm, a, b).unwrap();
        assert_eq!(ours, rpm.cmp(&0), "{a} vs {b}");
        assert_eq!(
            compare(Ecosystem::Rpm, b, a).unwrap(),
            ours.reverse(),
            "{b} vs {a}"
        );
    }
    eprintln!("rpm: {} generated pairs agree with rpm.vercmp", pairs.len());
}
