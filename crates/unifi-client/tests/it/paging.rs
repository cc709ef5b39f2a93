//! Every list is read completely with `limit=200`, one request per page, and a list that
//! changes between pages is re-read or refused, never returned partially.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use unifi_client::{ClientError, RequestRecord};
use unifi_sim::{ClientSpec, ConsoleSpec, Scenario, SiteSpec};

use crate::support::{POLICIES, a_record, client, info, many_a_records, start};

fn pages(n: u64) -> u64 {
    n.div_ceil(200).max(1)
}

#[tokio::test]
async fn policy_lists_of_every_size_are_read_completely() {
    let sizes = [0usize, 1, 25, 199, 200, 201, 450];
    let mut console = ConsoleSpec::new("hq", "hq-key");
    for n in sizes {
        let mut site = SiteSpec::new(&format!("s{n}"));
        for body in many_a_records(n) {
            site = site.policy(body);
        }
        console = console.site(site);
    }
    let sim = start(Scenario::new().console(console)).await;
    let hq = sim.console("hq").unwrap();
    let client = client(&info(&sim, "hq"));
    for n in sizes {
        let site = hq.site_id(&format!("s{n}")).unwrap().to_string();
        hq.reset_counters();
        let policies = client.dns_policies(&site).await.unwrap();
        assert_eq!(policies.len(), n, "site with {n} policies");
        let domains: HashSet<&str> = policies.iter().map(|p| p.domain.as_str()).collect();
        assert_eq!(domains.len(), n, "no duplicates for {n}");
        let requests = hq.counters().count("GET", POLICIES);
        assert_eq!(requests, pages(n as u64), "requests for {n} policies");
    }
}

#[tokio::test]
async fn two_hundred_fifty_sites_take_two_requests() {
    let mut console = ConsoleSpec::new("hq", "hq-key");
    for i in 0..250 {
        console = console.site(SiteSpec::new(&format!("site-{i:03}")));
    }
    let sim = start(Scenario::new().console(console)).await;
    let hq = sim.console("hq").unwrap();
    let sites = client(&info(&sim, "hq")).sites().await.unwrap();
    assert_eq!(sites.len(), 250);
    let refs: HashSet<&str> = sites
        .iter()
        .map(|s| s.internal_reference.as_str())
        .collect();
    assert_eq!(refs.len(), 250);
    assert!(refs.contains("site-000") && refs.contains("site-249"));
    assert_eq!(hq.counters().count("GET", "/v1/sites"), 2);
}

#[tokio::test]
async fn client_lists_are_paged_too() {
    let mut site = SiteSpec::new("default");
    for i in 0..201 {
        site = site.client(ClientSpec::wired(
            &format!("dev{i}"),
            &format!("aa:bb:cc:dd:{:02x}:{:02x}", i / 256, i % 256),
            &format!("10.0.{}.{}", i / 256, i % 256 + 1),
        ));
    }
    let sim = start(Scenario::new().console(ConsoleSpec::new("hq", "hq-key").site(site))).await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    let clients = client(&info(&sim, "hq")).clients(&site).await.unwrap();
    assert_eq!(clients.len(), 201);
    assert_eq!(hq.counters().count("GET", "/v1/sites/{siteId}/clients"), 2);
}

/// 450 policies: someone adds a policy right after page 1 (`inserts` times in all).
async fn read_while_inserting(inserts: usize) -> (Result<usize, ClientError>, u64) {
    let mut site = SiteSpec::new("default");
    for body in many_a_records(450) {
        site = site.policy(body);
    }
    let sim = start(Scenario::new().console(ConsoleSpec::new("hq", "hq-key").site(site))).await;
    let hq = sim.console("hq").unwrap();
    let site = hq.site_id("default").unwrap().to_string();
    let done = Arc::new(AtomicUsize::new(0));
    let console = hq.clone();
    let site_for_hook = site.clone();
    // The observer runs after each page's response: a deterministic "between pages".
    let hook = Arc::new(move |r: &RequestRecord| {
        if r.path_template == POLICIES {
            let n = done.fetch_add(1, Ordering::SeqCst);
            if n < inserts {
                console
                    .create_policy(
                        &site_for_hook,
                        &a_record(&format!("late{n}.example.com"), "192.0.2.1"),
                    )
                    .unwrap();
            }
        }
    });
    let client = client(&info(&sim, "hq")).with_observer(hook);
    let result = client.dns_policies(&site).await.map(|p| p.len());
    (result, hq.counters().count("GET", POLICIES))
}

#[tokio::test]
async fn a_list_that_changes_once_is_read_again_from_the_start() {
    let (result, requests) = read_while_inserting(1).await;
    assert_eq!(result.unwrap(), 451);
    // Page 1 (450), page 2 (451: changed), then a full re-read of 3 pages.
    assert_eq!(requests, 2 + 3);
}

#[tokio::test]
async fn a_list_that_keeps_changing_is_refused() {
    let (result, requests) = read_while_inserting(usize::MAX).await;
    let err = result.unwrap_err();
    assert!(matches!(err, ClientError::ListChanged { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("list changed while reading") && text.contains("controller 'hq'"),
        "{text}"
    );
    assert!(text.contains("totalCount changed"), "{text}");
    assert_eq!(requests, 2 + 2);
}
