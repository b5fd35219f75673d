#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
//! The report's output formats: their key fields on hand-built reports of a Debian, an
//! Alpine and an AlmaLinux image, each output validated against the format's official
//! JSON schema (committed in tests/fixtures/schemas, see its README), and package URLs
//! checked against the purl specification's own test cases.

mod render_support;

use ironroot_scanner::render::{self, Invocation, Purl};
use ironroot_scanner::{RenderError, ScanReport};
use render_support::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;

#[test]
fn sarif_is_valid_and_shaped_for_github_code_scanning() {
    let v = validator("sarif-schema-2.1.0.json");
    for r in [debian(), alpine(), almalinux()] {
        assert_valid(&v, &render::sarif(&r, &catalogue()));
    }
    let out = render::sarif(&debian(), &catalogue());
    let run = &out["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ironroot");
    assert_eq!(run["tool"]["driver"]["version"], "0.1.0");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "CVE-2024-2961",
            "CVE-2023-5678",
            "TEMP-0000000-ABCDEF",
            "IR-CFG-SSH-001",
            "IR-CFG-USER-ROOT",
            "aws-access-key-id",
            "IR-LAYER-SYMLINK"
        ]
    );
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(
        rule("CVE-2024-2961")["properties"]["security-severity"],
        "7.3"
    );
    assert_eq!(
        rule("CVE-2023-5678")["properties"]["security-severity"],
        "5.5"
    );
    assert!(rule("TEMP-0000000-ABCDEF")["properties"]
        .get("security-severity")
        .is_none());
    assert!(rule("TEMP-0000000-ABCDEF").get("helpUri").is_none());
    assert_eq!(
        rule("CVE-2024-2961")["helpUri"],
        "https://osv.dev/vulnerability/CVE-2024-2961"
    );
    assert_eq!(
        rule("aws-access-key-id")["properties"]["security-severity"],
        "9.5"
    );
    assert!(rule("CVE-2024-2961")["help"]["text"]
        .as_str()
        .unwrap()
        .contains("Upgrade libc6 to 2.36-9+deb12u8"));
    assert_eq!(
        rule("IR-CFG-SSH-001")["shortDescription"]["text"],
        "SSH permits root login"
    );
    assert_eq!(
        rule("IR-CFG-SSH-001")["help"]["text"],
        "Set PermitRootLogin no."
    );
    assert_eq!(
        rule("IR-CFG-USER-ROOT")["help"]["text"],
        "fix IR-CFG-USER-ROOT"
    );
    let tags = rule("CVE-2024-2961")["properties"]["tags"]
        .as_array()
        .unwrap();
    assert!(tags.contains(&"vulnerability".into()) && tags.contains(&"high".into()));

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3 + 5);
    for r in results {
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
            r["ruleId"]
        );
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["error", "warning", "note", "warning", "error", "error", "error", "note"]
    );
    let libc = &results[0]["locations"][0];
    assert_eq!(
        libc["physicalLocation"]["artifactLocation"]["uri"],
        "var/lib/dpkg/status"
    );
    assert_eq!(libc["logicalLocations"][0]["name"], "libc6");
    assert_eq!(
        libc["logicalLocations"][0]["fullyQualifiedName"],
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
    );
    let uri = |i: usize| {
        results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()
    };
    assert_eq!(uri(3), "etc/ssh/sshd_config");
    assert_eq!(uri(5), "app/config%20with%20space.env");
    assert_eq!(uri(6), "app/other%3Afile%231.env");
    assert_eq!(
        results[4]["locations"][0]["logicalLocations"][0]["name"],
        "registry.example/debian:latest"
    );
    assert!(results[5]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("AKIA************MPLE"));
}

#[test]
fn cyclonedx_is_valid_with_purls_layers_and_vulnerabilities() {
    let v = validator("bom-1.5.schema.json");
    for r in [debian(), alpine(), almalinux()] {
        assert_valid(&v, &render::cyclonedx(&r, SERIAL).unwrap());
    }
    let bom = render::cyclonedx(&almalinux(), &SERIAL.to_uppercase()).unwrap();
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.5");
    assert_eq!(bom["serialNumber"], format!("urn:uuid:{SERIAL}"));
    assert_eq!(bom["metadata"]["timestamp"], "2024-05-01T10:00:07Z");
    let image = &bom["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(image["version"], DIGEST);
    assert_eq!(
        image["hashes"][0]["content"],
        DIGEST.trim_start_matches("sha256:")
    );
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert_eq!(purls, [
        "pkg:rpm/almalinux/bash@5.1.8-9.el9?arch=x86_64&distro=almalinux-9.4",
        "pkg:rpm/almalinux/NetworkManager@1.46.0-8.el9?arch=x86_64&distro=almalinux-9.4&epoch=1",
        "pkg:rpm/almalinux/gpg-pubkey@b86b3716-61e69f29?distro=almalinux-9.4",
    ]);
    let nm = &bom["components"][1];
    assert_eq!(nm["type"], "library");
    assert_eq!(
        nm["properties"][0],
        serde_json::json!({"name": "ironroot:layer", "value": "1"})
    );
    let vuln = &bom["vulnerabilities"][0];
    assert_eq!(vuln["id"], "CVE-2024-3661");
    assert_eq!(vuln["affects"][0]["ref"], nm["bom-ref"]);
    assert_eq!(vuln["ratings"][0]["method"], "CVSSv31");
    assert_eq!(vuln["ratings"][0]["score"], 3.3);
    assert_eq!(vuln["ratings"][0]["severity"], "low");
    assert_eq!(vuln["recommendation"], "Upgrade to 1:1.46.0-20.el9_5");

    let apk = render::cyclonedx(&alpine(), SERIAL).unwrap();
    let refs: HashSet<&str> = apk["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), 3, "bom-refs must be unique");
    assert_eq!(apk["vulnerabilities"][0]["ratings"][0]["method"], "CVSSv4");
    assert_eq!(
        apk["vulnerabilities"][0]["ratings"][0]["severity"],
        "critical"
    );
    let deb = render::cyclonedx(&debian(), SERIAL).unwrap();
    assert_eq!(deb["vulnerabilities"][1]["ratings"][0]["method"], "other");
    assert!(deb["vulnerabilities"][1].get("recommendation").is_none());
    assert_eq!(
        deb["vulnerabilities"][2]["ratings"][0]["severity"],
        "unknown"
    );

    assert!(matches!(
        render::cyclonedx(&debian(), "not-a-uuid"),
        Err(RenderError::SerialNumber(_))
    ));
}

#[test]
fn spdx_is_valid_with_safe_unique_ids_and_relationships() {
    let v = validator("spdx-schema-2.3.json");
    for r in [debian(), alpine(), almalinux()] {
        assert_valid(&v, &render::spdx(&r, NAMESPACE).unwrap());
    }
    let doc = render::spdx(&alpine(), NAMESPACE).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(doc["documentNamespace"], NAMESPACE);
    assert_eq!(doc["creationInfo"]["creators"][0], "Tool: ironroot-0.1.0");
    assert_eq!(doc["creationInfo"]["created"], "2024-05-01T10:00:07Z");
    let packages = doc["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 1 + 3);
    let ids: HashSet<&str> = packages
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), packages.len(), "SPDX ids must be unique");
    for id in &ids {
        let rest = id.strip_prefix("SPDXRef-").unwrap();
        assert!(
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
    let busybox = &packages[2];
    assert_eq!(busybox["versionInfo"], "1.36.1-r29");
    for field in [
        "downloadLocation",
        "licenseConcluded",
        "licenseDeclared",
        "copyrightText",
    ] {
        assert_eq!(busybox[field], "NOASSERTION");
    }
    assert_eq!(
        busybox["externalRefs"][0]["referenceCategory"],
        "PACKAGE-MANAGER"
    );
    assert_eq!(
        busybox["externalRefs"][0]["referenceLocator"],
        "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3"
    );
    let relationships = doc["relationships"].as_array().unwrap();
    assert_eq!(relationships[0]["relationshipType"], "DESCRIBES");
    assert_eq!(
        relationships[0]["relatedSpdxElement"],
        packages[0]["SPDXID"]
    );
    let contained: HashSet<&str> = relationships[1..]
        .iter()
        .filter(|r| r["relationshipType"] == "CONTAINS")
        .map(|r| r["relatedSpdxElement"].as_str().unwrap())
        .collect();
    assert_eq!(contained.len(), 3);

    assert!(matches!(
        render::spdx(&alpine(), "https://x/#y"),
        Err(RenderError::DocumentNamespace(_))
    ));
    let mut late = alpine();
    late.finished_at = "2024-05-01T12:00:07+02:00".into();
    assert!(matches!(
        render::spdx(&late, NAMESPACE),
        Err(RenderError::Timestamp(_))
    ));
}

#[test]
fn cosign_vuln_predicate_carries_the_report_in_an_in_toto_statement() {
    let report = debian();
    let params = vec!["--format=cosign-vuln".to_owned()];
    let invocation = Invocation {
        parameters: &params,
        uri: "https://ci.example/run/7",
        event_id: "7",
        builder_id: "ci",
    };
    let predicate = render::cosign_vuln(&report, &invocation).unwrap();
    assert_eq!(
        predicate["invocation"]["parameters"][0],
        "--format=cosign-vuln"
    );
    assert_eq!(predicate["invocation"]["builder.id"], "ci");
    assert_eq!(predicate["invocation"]["event_id"], "7");
    assert_eq!(predicate["scanner"]["version"], "0.1.0");
    assert_eq!(
        predicate["scanner"]["db"]["version"],
        "2024-04-30T00:00:00Z"
    );
    assert_eq!(
        predicate["metadata"]["scanStartedOn"],
        "2024-05-01T10:00:00Z"
    );
    assert_eq!(
        predicate["metadata"]["scanFinishedOn"],
        "2024-05-01T10:00:07Z"
    );
    let back: ScanReport = serde_json::from_value(predicate["scanner"]["result"].clone()).unwrap();
    assert_eq!(back, report);

    let statement = render::in_toto_statement(
        "registry.example/debian",
        DIGEST,
        render::COSIGN_VULN_PREDICATE_TYPE,
        predicate.clone(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://cosign.sigstore.dev/attestation/vuln/v1"
    );
    assert_eq!(statement["subject"][0]["name"], "registry.example/debian");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        DIGEST.trim_start_matches("sha256:")
    );
    assert_eq!(statement["predicate"], predicate);
    assert!(matches!(
        render::in_toto_statement("x", "sha256:abc", "t", Value::Null),
        Err(RenderError::Digest(_))
    ));
}

#[test]
fn purls_match_the_purl_specification_build_tests() {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures/purl/purl-spec-build-cases.json",
    ]
    .iter()
    .collect();
    let suite: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = suite["tests"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let input = &case["input"];
        let mut purl = Purl::new(
            input["type"].as_str().unwrap(),
            input["namespace"].as_str(),
            input["name"].as_str().unwrap(),
            input["version"].as_str(),
        );
        for (k, v) in input["qualifiers"].as_object().into_iter().flatten() {
            purl = purl.qualifier(k, v.as_str().unwrap());
        }
        assert_eq!(
            purl.to_string(),
            case["expected_output"].as_str().unwrap(),
            "{}",
            case["description"]
        );
    }
}

#[test]
fn the_schemas_reject_what_they_should() {
    // Guards against a validator that accepts everything (a schema that failed to load
    // its references, say): one broken field per format must be caught.
    let mut sarif = render::sarif(&debian(), &[]);
    sarif["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator("sarif-schema-2.1.0.json").is_valid(&sarif));
    let mut bom = render::cyclonedx(&debian(), SERIAL).unwrap();
    bom["components"][0]["type"] = "package".into();
    assert!(!validator("bom-1.5.schema.json").is_valid(&bom));
    let mut doc = render::spdx(&debian(), NAMESPACE).unwrap();
    doc["relationships"][0]["relationshipType"] = "OWNS".into();
    assert!(!validator("spdx-schema-2.3.json").is_valid(&doc));
}
