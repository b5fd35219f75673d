//! The dashboard's governance views in the real browser: alerts paged and filtered, the
//! compliance matrix (first its empty state, with no policy set yet, then seeded through
//! the hub's own routes: a policy set, a registered cluster reporting over mTLS),
//! violations filtered by policy, cluster and namespace with the drill-down to one object,
//! and a CSV export really downloaded through its Blob URL under the page's policy.

mod seed;

use ironroot_client::AlertQuery;
use ironroot_e2e::Platform;
use ironroot_peers::chromium::Page;
use seed::{seed, CLUSTER};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const SOON: Duration = Duration::from_secs(20);

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js).await.unwrap()
}

async fn wait(page: &Page, js: &str) {
    page.wait_until(js, SOON).await.unwrap();
}

async fn set(page: &Page, id: &str, value: &str, event: &str) {
    eval(
        page,
        &format!(
            "(e => {{ e.value = {}; e.dispatchEvent(new Event('{event}')); return true }})(document.getElementById('{id}'))",
            json!(value)
        ),
    )
    .await;
}

async fn apply(page: &Page) {
    eval(
        page,
        "document.getElementById('violations-apply').click(); true",
    )
    .await;
}

const ROW_IDS: &str =
    "[...document.querySelectorAll('#alerts tbody tr')].map(r => r.dataset.alertId)";

/// Everything after the fleet and its node's alert; `shot` takes a screenshot.
pub async fn governance<F, Fut>(page: &Page, p: &Platform, shot: F)
where
    F: Fn(&'static str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Nothing the page does may break its policy (a Blob URL download included).
    eval(page, "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); true").await;

    // No policy set yet: an empty state, not an error.
    eval(page, "location.hash = '#compliance'").await;
    wait(
        page,
        "document.getElementById('compliance-status').textContent.startsWith('No policy set yet')",
    )
    .await;
    assert_eq!(
        eval(page, "document.getElementById('compliance').hidden").await,
        json!(true)
    );

    seed(p).await;

    // Alerts: two to a page; the second page is the service's own second page.
    eval(page, "location.hash = '#alerts'").await;
    set(page, "alerts-limit", "2", "change").await;
    wait(page, "document.querySelectorAll('#alerts tbody tr').length === 2 && !document.querySelector('#alerts-pager .older').disabled").await;
    let first: Vec<String> = serde_json::from_value(eval(page, ROW_IDS).await).unwrap();
    eval(
        page,
        "document.querySelector('#alerts-pager .older').click(); true",
    )
    .await;
    wait(
        page,
        "document.querySelector('#alerts-pager .page').textContent === 'page 2'",
    )
    .await;
    let second: Vec<String> = serde_json::from_value(eval(page, ROW_IDS).await).unwrap();
    let q = |after: Option<String>| AlertQuery {
        limit: Some(2),
        after,
        ..Default::default()
    };
    let api1 = p.admin.alerts(&q(None)).await.unwrap();
    let api2 = p.admin.alerts(&q(api1.next.clone())).await.unwrap();
    let ids =
        |l: &ironroot_api::AlertList| l.alerts.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!((first, second), (ids(&api1), ids(&api2)));
    eval(
        page,
        "document.querySelector('#alerts-pager .newer').click(); true",
    )
    .await;
    wait(
        page,
        "document.querySelector('#alerts-pager .page').textContent === 'page 1'",
    )
    .await;
    assert_eq!(
        serde_json::from_value::<Vec<String>>(eval(page, ROW_IDS).await).unwrap(),
        ids(&api1)
    );
    // The lowest severity shown, from the service: high and above only.
    set(page, "alerts-limit", "50", "change").await;
    set(page, "alerts-severity", "high", "change").await;
    wait(page, "(() => { const s = [...document.querySelectorAll('#alerts tbody tr')].map(r => r.cells[0].textContent); return s.length > 0 && s.every(x => x === 'high' || x === 'critical') })()").await;
    // The remediation taken, in words, on every alert.
    let remediations = eval(
        page,
        "[...document.querySelectorAll('#alerts tbody tr')].map(r => r.cells[7].textContent)",
    )
    .await;
    let words = [
        "none",
        "node tainted",
        "node drained",
        "denied at admission",
        "due, held back by the brake",
    ];
    assert!(
        remediations
            .as_array()
            .unwrap()
            .iter()
            .all(|r| words.contains(&r.as_str().unwrap())),
        "{remediations}"
    );

    // The compliance matrix: the high policy first, its cell red.
    eval(page, "location.hash = '#compliance'").await;
    wait(
        page,
        "document.querySelectorAll('#compliance tbody tr').length === 2",
    )
    .await;
    let matrix = eval(page, &format!("[...document.querySelectorAll('#compliance tbody tr')].map(r => [r.dataset.policy, r.dataset.status, r.querySelector('td.cell[data-cluster=\"{CLUSTER}\"]')?.dataset.status])")).await;
    assert_eq!(
        matrix,
        json!([
            ["no-privileged", "non_compliant", "non_compliant"],
            ["run-as-non-root", "compliant", "compliant"]
        ])
    );
    let red = eval(page, "getComputedStyle(document.querySelector('#compliance td.cell.st-non_compliant')).backgroundColor").await;
    assert_eq!(red, json!("rgb(176, 0, 32)"));
    assert!(eval(
        page,
        "document.getElementById('compliance-overall').textContent"
    )
    .await
    .as_str()
    .unwrap()
    .contains("non-compliant"));
    shot("compliance").await;

    // A cell opens that policy's violations in that cluster.
    eval(page, &format!("document.querySelector('#compliance tr[data-policy=\"no-privileged\"] td.cell[data-cluster=\"{CLUSTER}\"]').click(); true")).await;
    wait(page, "location.hash === '#violations' && document.querySelectorAll('#violations tbody tr').length === 2").await;
    let rows = eval(page, "[...document.querySelectorAll('#violations tbody tr')].map(r => [r.dataset.policy, r.dataset.cluster, r.dataset.namespace])").await;
    let rows: Vec<Vec<String>> = serde_json::from_value(rows).unwrap();
    assert!(
        rows.iter().all(|r| r[..2] == ["no-privileged", CLUSTER]),
        "{rows:?}"
    );

    // Filtered by policy only, then by cluster and namespace.
    set(page, "violations-cluster", "", "input").await;
    set(page, "violations-policy", "run-as-non-root", "input").await;
    apply(page).await;
    wait(page, "(() => { const r = [...document.querySelectorAll('#violations tbody tr')]; return r.length === 1 && r[0].dataset.policy === 'run-as-non-root' })()").await;
    set(page, "violations-policy", "", "input").await;
    set(page, "violations-cluster", CLUSTER, "input").await;
    set(page, "violations-namespace", "shop", "input").await;
    apply(page).await;
    wait(page, "(() => { const r = [...document.querySelectorAll('#violations tbody tr')]; return r.length === 1 && r[0].dataset.namespace === 'shop' })()").await;
    // A filter the service refuses (a cluster name holds no '/') leaves nothing shown.
    set(page, "violations-cluster", "eu/west", "input").await;
    apply(page).await;
    wait(page, "document.getElementById('violations-status').textContent.startsWith('Filter refused') && document.querySelectorAll('#violations tbody tr').length === 0").await;
    set(page, "violations-cluster", CLUSTER, "input").await;
    set(page, "violations-namespace", "payments", "input").await;
    apply(page).await;
    wait(page, "(() => { const r = [...document.querySelectorAll('#violations tbody tr')]; return r.length === 2 && r.every(x => x.dataset.namespace === 'payments') })()").await;

    // Drill-down to one object: its alert's history and every alert on it.
    eval(page, "document.querySelector('#violations tbody tr[data-policy=\"no-privileged\"]').click(); true").await;
    wait(page, "!document.getElementById('violation-detail').hidden && document.querySelectorAll('#violation-detail .on-object li').length === 2").await;
    let detail = eval(
        page,
        "document.getElementById('violation-detail').textContent",
    )
    .await;
    let detail = detail.as_str().unwrap();
    for want in [
        "Pod/api",
        "payments",
        CLUSTER,
        "no-privileged",
        "run-as-non-root",
        "first seen: alert opened",
        "Occurrences",
        "Remediation taken",
    ] {
        assert!(detail.contains(want), "{want} not in {detail}");
    }
    eval(page, "window.scrollTo(0, 0); true").await;
    shot("violations").await;

    export_downloads(page).await;
    let csp = eval(page, "window.__csp").await;
    assert_eq!(csp, json!([]), "policy violations");
}

/// The violations shown, exported as CSV: a real download through the Blob URL.
async fn export_downloads(page: &Page) {
    let dir = tempfile::tempdir().unwrap();
    page.call(
        "Page.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": dir.path()}),
    )
    .await
    .unwrap();
    eval(
        page,
        "document.querySelector('[data-export=violations] .export-csv').click(); true",
    )
    .await;
    let csv = wait_for_csv(dir.path()).await;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Last seen,Severity,Policy,Cluster,Namespace,Object,State,Count,Remediation,Message")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows.iter()
            .all(|r| r.contains(&format!(",{CLUSTER},payments,Pod/api,"))),
        "{csv}"
    );
}

async fn wait_for_csv(dir: &Path) -> String {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "csv") {
                return std::fs::read_to_string(e.path()).unwrap();
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no CSV was downloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
