//! Setting the fleet up: benchmark enrollment of every node, their connections, and
//! flavors taken from one node so that every verdict can be trusted.

use crate::conn::{tls_config, Conn, Target};
use crate::node::{decode, Failure, FleetImage, SimNode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use ironroot_api::{ActivateResponse, FlavorsFromHostRequest};
use ironroot_testkit::{AkKind, SoftwareAk};
use std::sync::Arc;
use tokio::task::JoinSet;

/// Parallel requests while enrolling and connecting.
const SETUP_CONCURRENCY: usize = 16;

/// Enrolls `count` nodes through `POST /v1/bench/enroll`, the workers spread over the
/// replicas.
pub async fn enroll(
    targets: &[Target],
    count: usize,
    kind: AkKind,
) -> anyhow::Result<Vec<SimNode>> {
    let mut set = JoinSet::new();
    let per_worker = count.div_ceil(SETUP_CONCURRENCY);
    for w in 0..SETUP_CONCURRENCY {
        let range = (w * per_worker)..((w + 1) * per_worker).min(count);
        let target = targets[w % targets.len()].clone();
        set.spawn(async move {
            let tls = tls_config(&target.ca_pem, None)?;
            let mut conn = Conn::open(&target, tls).await?;
            let mut nodes = Vec::with_capacity(range.len());
            for i in range {
                nodes.push((i, enroll_one(&target, &mut conn, i, kind).await?));
            }
            anyhow::Ok(nodes)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, n)| n).collect())
}

async fn enroll_one(
    target: &Target,
    conn: &mut Conn,
    i: usize,
    kind: AkKind,
) -> anyhow::Result<SimNode> {
    let ak = SoftwareAk::generate(kind)?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let hostname = format!("load-{i:06}");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname.as_str());
    let csr_pem = params.serialize_request(&key)?.pem()?;
    let body = serde_json::json!({
        "hostname": hostname,
        "ak_public": STANDARD.encode(ak.tpm2b_public()?),
        "csr_pem": csr_pem,
    });
    let (status, bytes) = conn
        .post("/v1/bench/enroll", Bytes::from(body.to_string()), None)
        .await?;
    let activated: ActivateResponse = decode("bench_enroll", status, &bytes).map_err(|f| {
        anyhow::anyhow!(
            "benchmark enrollment of {hostname} failed ({f}): {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    let tls = tls_config(
        &target.ca_pem,
        Some((&activated.client_certificate_pem, key.serialize_der())),
    )?;
    // Distinct TPM clocks per node, as a fleet powered on at different times has.
    let clock_base = 1_000_000 + (i as u64 % 1000) * 3_600_000;
    Ok(SimNode::new(activated.host_id, ak, tls, clock_base))
}

/// Opens every node's connections (mutual TLS with its own certificate) to the replicas
/// it will use while all are up.
pub async fn connect_all(targets: &[Target], nodes: Vec<SimNode>) -> anyhow::Result<Vec<SimNode>> {
    let mut set = JoinSet::new();
    let count = nodes.len();
    let mut chunks: Vec<Vec<(usize, SimNode)>> =
        (0..SETUP_CONCURRENCY).map(|_| Vec::new()).collect();
    for (i, n) in nodes.into_iter().enumerate() {
        chunks[i % SETUP_CONCURRENCY].push((i, n));
    }
    for chunk in chunks {
        let targets = targets.to_vec();
        set.spawn(async move {
            let mut out = Vec::with_capacity(chunk.len());
            for (i, mut n) in chunk {
                let (chal, evid) = crate::runner::home_pair(i, targets.len());
                n.connect(&targets, chal).await?;
                n.connect(&targets, evid).await?;
                out.push((i, n));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::with_capacity(count);
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, n)| n).collect())
}

/// Makes `golden` attest (its evidence is then stored), creates the PLATFORM, OS and
/// SOFTWARE flavors from it with the admin API, and checks it is then trusted.
pub async fn flavors_from(
    targets: &[Target],
    fleet: &Arc<FleetImage>,
    golden: &mut SimNode,
    admin_token: &str,
) -> anyhow::Result<usize> {
    let (chal, evid) = crate::runner::home_pair(0, targets.len());
    if let Err(e) = golden.attest(targets, fleet, chal, evid).await {
        anyhow::bail!("the golden node could not attest: {}", e.failure);
    }
    let target = &targets[0];
    let req = FlavorsFromHostRequest {
        host_id: golden.host_id.clone(),
        label: "loadgen".into(),
        parts: Vec::new(),
        flavor_group: None,
    };
    let mut admin = Conn::open(target, tls_config(&target.ca_pem, None)?).await?;
    let (status, bytes) = admin
        .post(
            "/v1/flavors/from-host",
            Bytes::from(serde_json::to_vec(&req)?),
            Some(admin_token),
        )
        .await?;
    let list: ironroot_api::FlavorList =
        decode("flavors_from_host", status, &bytes).map_err(|f| {
            anyhow::anyhow!(
                "creating flavors failed ({f}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
    let verdict = golden
        .attest(targets, fleet, evid, chal)
        .await
        .map_err(|e| anyhow::anyhow!("the golden node could not attest again: {}", e.failure))?;
    if !verdict.trusted {
        anyhow::bail!(
            "the golden node is not trusted with its own flavors: {}",
            Failure::Untrusted
        );
    }
    Ok(list.flavors.len())
}
