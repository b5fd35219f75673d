//! Findings and the catalogue of rules they come from.
//!
//! Every finding names a rule by a stable id; the rule's title, description and remediation
//! live here once, so that a report, SARIF output and the docs all say the same thing.

use serde::Serialize;

/// How bad a finding is: the workspace's one scale, serialized in lowercase (`"critical"`).
/// Every rule here rates its findings from `Info` up, never `Unknown`.
pub use ironroot_severity::Severity;

/// One rule of the catalogue: what it looks for and how to fix what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable id, e.g. `IR-CFG-SSH-001`; never reused for another meaning.
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub description: &'static str,
    pub remediation: &'static str,
}

/// A rule that matched, where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub description: &'static str,
    pub remediation: &'static str,
    /// Path in the image, relative without a leading `/` (`etc/shadow`).
    pub path: Option<String>,
    /// Index of the layer that put `path` there, lowest first.
    pub layer: Option<usize>,
    /// What was seen; never a secret or a password hash (those are redacted).
    pub evidence: Option<String>,
}

impl Finding {
    /// A finding of `rule`; `rule` is one of this module's constants, so it is always known.
    pub(crate) fn new(rule: &RuleInfo) -> Finding {
        Finding {
            id: rule.id,
            severity: rule.severity,
            title: rule.title,
            description: rule.description,
            remediation: rule.remediation,
            path: None,
            layer: None,
            evidence: None,
        }
    }

    pub(crate) fn at(mut self, path: &str, layer: usize) -> Finding {
        self.path = Some(path.to_owned());
        self.layer = Some(layer);
        self
    }

    pub(crate) fn evidence(mut self, evidence: impl Into<String>) -> Finding {
        self.evidence = Some(evidence.into());
        self
    }
}

/// Every rule this crate can report, in id order.
pub fn rules() -> &'static [RuleInfo] {
    RULES
}

macro_rules! rule {
    ($name:ident, $id:literal, $sev:ident, $title:literal, $desc:literal, $fix:literal) => {
        pub(crate) const $name: RuleInfo = RuleInfo {
            id: $id,
            severity: Severity::$sev,
            title: $title,
            description: $desc,
            remediation: $fix,
        };
    };
}

rule!(SSH_INSTALLED, "IR-CFG-SSH-001", Medium, "SSH server installed",
    "An SSH server (OpenSSH or Dropbear) is installed in the image. Containers are managed through the runtime (exec, logs); a remote-login daemon adds credentials to manage and an attack surface (ISO 27001 A.8.20, CIS Docker 4.1/5.6).",
    "Remove the SSH server package from the image; use `kubectl exec`/`podman exec` for access.");
rule!(SSH_ENABLED, "IR-CFG-SSH-002", High, "SSH server enabled at boot",
    "The SSH server is enabled to start with the system (a systemd wants link, a SysV rc link or an OpenRC runlevel link).",
    "Remove the enablement link and the SSH server package.");
rule!(
    SSH_ROOT_LOGIN,
    "IR-CFG-SSH-003",
    High,
    "SSH permits root login",
    "sshd_config sets `PermitRootLogin yes`: root may log in remotely with a password (CIS 5.2.x).",
    "Set `PermitRootLogin no` (or remove the SSH server)."
);
rule!(SSH_PASSWORD_AUTH, "IR-CFG-SSH-004", Medium, "SSH permits password authentication",
    "sshd_config sets `PasswordAuthentication yes`, or leaves it unset where OpenSSH's default is yes: passwords can be guessed remotely.",
    "Set `PasswordAuthentication no` and use keys (or remove the SSH server).");
rule!(SSH_EMPTY_PASSWORDS, "IR-CFG-SSH-005", Critical, "SSH permits empty passwords",
    "sshd_config sets `PermitEmptyPasswords yes`: an account without a password can log in remotely.",
    "Set `PermitEmptyPasswords no` (the default) and give every account a password or lock it.");
rule!(
    SSH_PORT_EXPOSED,
    "IR-CFG-SSH-006",
    Low,
    "SSH port exposed",
    "The image configuration exposes port 22, which suggests remote login into the container.",
    "Remove `EXPOSE 22` from the image build."
);
rule!(PWD_EMPTY, "IR-CFG-PWD-001", Critical, "Account without a password",
    "An account in etc/shadow or etc/passwd has an empty password field: anyone can log in as it without a password (CIS 6.2.1; e.g. CVE-2019-5021 in Alpine images).",
    "Lock the account (`passwd -l NAME`, or `*`/`!` in etc/shadow) or give it a strong password.");
rule!(PWD_WELL_KNOWN, "IR-CFG-PWD-002", Critical, "Account with a well-known password",
    "An account's password hash matches a common or default password (or the account name): anyone who tries it can log in.",
    "Lock the account or set a strong, unique password outside the image (images are public by nature).");
rule!(PWD_NOT_CHECKED, "IR-CFG-PWD-003", Info, "Password hash not checked",
    "An account has a password hash this crate did not verify against well-known passwords: an unknown scheme, parameters over the work cap, or the work budget spent. Not checked does not mean strong.",
    "Lock accounts that need no password; re-hash the others with yescrypt or sha512-crypt at default cost.");
rule!(ACCOUNTS_UNREADABLE, "IR-CFG-PWD-004", Medium, "Account file unreadable",
    "etc/shadow or etc/passwd has lines that cannot be read (not UTF-8, too long, too few fields): the accounts on them were not checked.",
    "Rebuild the account files with the distribution's tools (`pwck`, `grpck`).");
rule!(AGE_MAX_DAYS, "IR-CFG-AGE-001", Medium, "Password maximum age too long",
    "etc/login.defs sets PASS_MAX_DAYS above the limit (default 90) or not at all (Debian's default 99999): passwords never expire (CIS 5.5.1.2, ISO 27002 5.17).",
    "Set `PASS_MAX_DAYS 90` (or your policy's limit) in etc/login.defs.");
rule!(AGE_MIN_DAYS, "IR-CFG-AGE-002", Low, "Password minimum age too short",
    "etc/login.defs sets PASS_MIN_DAYS below the limit (default 1) or not at all: a user can cycle through passwords back to an old one (CIS 5.5.1.1).",
    "Set `PASS_MIN_DAYS 1` in etc/login.defs.");
rule!(
    AGE_MIN_LEN,
    "IR-CFG-AGE-003",
    Medium,
    "Password minimum length too short (login.defs)",
    "etc/login.defs sets PASS_MIN_LEN below the limit (default 8).",
    "Set `PASS_MIN_LEN 8` or more, and enforce length in PAM (pam_pwquality minlen)."
);
rule!(PAM_MIN_LEN, "IR-CFG-PWQ-001", Medium, "Password minimum length too short (PAM)",
    "The PAM password stack accepts passwords shorter than the limit (default 8): pam_pwquality/pam_cracklib/pam_unix `minlen` is lower, or only pam_unix checks length (its default is 6) (CIS 5.4.1).",
    "Add `pam_pwquality.so minlen=14` (or your policy's length) to the password stack, or set `minlen` on pam_unix.");
rule!(
    PWQUALITY_MIN_LEN,
    "IR-CFG-PWQ-002",
    Medium,
    "Password minimum length too short (pwquality.conf)",
    "etc/security/pwquality.conf sets `minlen` below the limit (default 8).",
    "Set `minlen = 14` (or your policy's length) in etc/security/pwquality.conf."
);
rule!(SUID_UNEXPECTED, "IR-CFG-SUID-001", Medium, "setuid/setgid file",
    "A file has the setuid or setgid bit: run by any user, it runs with its owner's or group's rights, a classic path to privilege escalation inside a container (CIS Docker 4.8).",
    "Remove the bit (`chmod u-s,g-s FILE`) or the file in the image build, and run containers with `no-new-privileges`.");
rule!(SUID_EXPECTED, "IR-CFG-SUID-002", Low, "Expected setuid/setgid file",
    "A file that distributions ship setuid or setgid (passwd, su, mount, ...) has the bit. Expected on a host; rarely needed in a container (CIS Docker 4.8).",
    "Remove the bit (`chmod u-s,g-s FILE`) if the container does not need it, and run with `no-new-privileges`.");
rule!(USER_ROOT, "IR-CFG-USER-001", High, "Image runs as root",
    "The image configuration's User is empty, root, uid 0, or a name that etc/passwd maps to uid 0: the container's process runs as root (CIS Docker 4.1).",
    "Add a non-root user and `USER <uid>` to the image build.");
rule!(USER_UNKNOWN, "IR-CFG-USER-002", Low, "Image user not in etc/passwd",
    "The image configuration's User is a name that etc/passwd of the image does not list: whether it is root cannot be told, and runtimes refuse such a user.",
    "Use a numeric `USER uid[:gid]`, or add the user to etc/passwd.");
rule!(NO_HEALTHCHECK, "IR-CFG-HEALTH-001", Low, "No healthcheck",
    "The image configuration has no healthcheck (or disables it with NONE): a hung service is not noticed by the runtime (CIS Docker 4.6).",
    "Add a `HEALTHCHECK` instruction (or a liveness probe where the orchestrator ignores it).");
rule!(ENV_SECRET_NAME, "IR-CFG-ENV-001", High, "Secret in the image environment",
    "The image configuration sets an environment variable whose name suggests a secret (PASSWORD, SECRET, TOKEN, API_KEY, ...) to a value: anyone who can pull the image can read it (CIS Docker 4.10).",
    "Pass secrets at run time (orchestrator secrets, a mounted file, `*_FILE` variables); rotate the exposed one.");
rule!(ENV_SECRET_VALUE, "IR-CFG-ENV-002", Critical, "Credential in the image environment",
    "An environment variable's value has the shape of a known credential (AWS access key, GitHub or GitLab token, Slack or Stripe key, a PEM private key).",
    "Revoke the credential now, then pass it at run time instead of baking it into the image.");

rule!(FILE_NOT_READ, "IR-CFG-FILE-001", Low, "Configuration file not read",
    "A configuration file the checks read (sshd_config, login.defs, PAM, pwquality.conf) is over the size limit, so the checks that depend on it did not run.",
    "Look at the file: real ones are a few KiB. Shrink or replace it.");

static RULES: &[RuleInfo] = &[
    AGE_MAX_DAYS,
    AGE_MIN_DAYS,
    AGE_MIN_LEN,
    ENV_SECRET_NAME,
    ENV_SECRET_VALUE,
    FILE_NOT_READ,
    NO_HEALTHCHECK,
    PWD_EMPTY,
    PWD_WELL_KNOWN,
    PWD_NOT_CHECKED,
    ACCOUNTS_UNREADABLE,
    PAM_MIN_LEN,
    PWQUALITY_MIN_LEN,
    SSH_INSTALLED,
    SSH_ENABLED,
    SSH_ROOT_LOGIN,
    SSH_PASSWORD_AUTH,
    SSH_EMPTY_PASSWORDS,
    SSH_PORT_EXPOSED,
    SUID_UNEXPECTED,
    SUID_EXPECTED,
    USER_ROOT,
    USER_UNKNOWN,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_rates_its_findings() {
        assert!(rules().iter().all(|r| r.severity > Severity::Unknown));
    }
}
