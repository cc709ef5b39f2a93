use unifi_dns_sync_store::EventStatus;
use unifi_sim::{Scenario, SiteSpec};

use crate::support::*;

/// Three consoles, five sites.
fn five_sites() -> Scenario {
    Scenario::new()
        .console(
            console("hq")
                .site(
                    SiteSpec::new("default")
                        .policy(a("nas.hq.example", "10.1.0.10"))
                        .policy(cname("files.hq.example", "nas.hq.example")),
                )
                .site(SiteSpec::new("lab").policy(a("ci.lab.example", "10.2.0.5"))),
        )
        .console(
            console("branch")
                .site(SiteSpec::new("default").policy(a("printer.branch.example", "10.3.0.20"))),
        )
        .console(
            console("shop")
                .site(SiteSpec::new("default").policy(a("pos.shop.example", "10.4.0.2")))
                .site(SiteSpec::new("storage")),
        )
}

#[tokio::test]
async fn every_native_record_reaches_every_other_site_and_a_second_cycle_writes_nothing() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    let all = [
        "A ci.lab.example 10.2.0.5",
        "A nas.hq.example 10.1.0.10",
        "A pos.shop.example 10.4.0.2",
        "A printer.branch.example 10.3.0.20",
        "CNAME files.hq.example nas.hq.example",
    ];
    for (console, site) in [
        ("hq", "default"),
        ("hq", "lab"),
        ("branch", "default"),
        ("shop", "default"),
        ("shop", "storage"),
    ] {
        assert_eq!(world.domains(console, site), all, "{console}/{site}");
    }
    assert_eq!(report.counts.created, 5 * 5 - 5);
    let created = events(&engine)
        .await
        .iter()
        .filter(|e| e.status == EventStatus::Created)
        .count();
    assert_eq!(created, 20);

    world.reset_counters();
    let again = cycle(&engine).await;
    assert_eq!(
        world.total_writes(),
        0,
        "a second cycle with nothing changed writes nothing"
    );
    assert_eq!(again.counts.planned, 0);
}

const SITES: [(&str, &str); 5] = [
    ("hq", "default"),
    ("hq", "lab"),
    ("branch", "default"),
    ("shop", "default"),
    ("shop", "storage"),
];

/// Every site's policies except those `describe`d as `what`.
fn without(
    snapshot: &std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    what: &str,
) -> std::collections::BTreeMap<String, Vec<serde_json::Value>> {
    snapshot
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.iter().filter(|p| describe(p) != what).cloned().collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_record_deleted_at_its_origin_is_deleted_from_every_copy_and_nothing_else() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let before = world.snapshot();
    let nas = "A nas.hq.example 10.1.0.10";
    let record = unifi_dns_sync_store::record_id("A", "nas.hq.example", "10.1.0.10");
    assert_eq!(
        engine
            .store()
            .copies_of_record(&record)
            .await
            .unwrap()
            .len(),
        4
    );
    let mark = last_event_id(&engine).await;

    let id = world.policy_id("hq", "default", nas);
    world.person_deletes("hq", "default", &id);
    world.reset_counters();
    let report = cycle(&engine).await;
    assert!(!report.is_partial(), "{:?}", report.sites);
    assert_eq!(report.counts.deleted, 4);
    assert_eq!(world.total_writes(), 4, "one DELETE per copy, nothing else");

    for (console, site) in SITES {
        assert!(
            !world.domains(console, site).contains(&nas.to_string()),
            "{console}/{site} still has {nas}"
        );
    }
    assert_eq!(
        world.snapshot(),
        without(&before, nas),
        "every other policy (natives and copies) is untouched, ids and all"
    );
    let new = events_after(&engine, mark).await;
    assert_eq!(new.len(), 4, "{:?}", event_lines(&new));
    assert!(
        new.iter().all(|e| e.status == EventStatus::Deleted
            && e.name.as_deref() == Some("nas.hq.example")
            && e.site_label.as_deref() != Some("hq/default")),
        "{:?}",
        event_lines(&new)
    );
    assert!(
        engine
            .store()
            .copies_of_record(&record)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine.store().record(&record).await.unwrap().is_none(),
        "a record without origins and copies is removed"
    );

    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_record_edited_at_its_origin_is_updated_in_place_on_every_copy() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let targets = [
        ("hq", "lab"),
        ("branch", "default"),
        ("shop", "default"),
        ("shop", "storage"),
    ];
    let ids_of = |what: &str| -> Vec<String> {
        targets
            .iter()
            .map(|(c, s)| world.policy_id(c, s, what))
            .collect()
    };
    let ids = ids_of("A nas.hq.example 10.1.0.10");
    let origin_id = world.policy_id("hq", "default", "A nas.hq.example 10.1.0.10");
    let old = unifi_dns_sync_store::record_id("A", "nas.hq.example", "10.1.0.10");
    let new = unifi_dns_sync_store::record_id("A", "nas.hq.example", "10.1.0.11");

    // A new address.
    world.person_edits(
        "hq",
        "default",
        &origin_id,
        &a("nas.hq.example", "10.1.0.11"),
    );
    let mark = last_event_id(&engine).await;
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(report.counts.updated, 4, "{:?}", report.counts);
    assert_eq!(
        (report.counts.created, report.counts.deleted),
        (0, 0),
        "in place: nothing created, nothing deleted"
    );
    assert_eq!(world.total_writes(), 4);
    assert_eq!(
        ids_of("A nas.hq.example 10.1.0.11"),
        ids,
        "same policy ids, new value"
    );
    for (c, s) in targets {
        assert_eq!(
            world
                .domains(c, s)
                .iter()
                .filter(|d| d.starts_with("A nas.hq.example"))
                .count(),
            1,
            "{c}/{s}: not duplicated"
        );
    }
    let mut rows = engine.store().copies_of_record(&new).await.unwrap();
    rows.sort_by(|a, b| a.policy_id.cmp(&b.policy_id));
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(
        rows.iter()
            .map(|r| r.policy_id.clone().unwrap())
            .collect::<Vec<_>>(),
        sorted_ids,
        "the registry rows are re-pointed to the new record"
    );
    assert!(
        engine
            .store()
            .copies_of_record(&old)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(engine.store().record(&old).await.unwrap().is_none());
    let ev = events_after(&engine, mark).await;
    assert!(
        ev.len() == 4
            && ev.iter().all(
                |e| e.status == EventStatus::Updated && e.value.as_deref() == Some("10.1.0.11")
            ),
        "{:?}",
        event_lines(&ev)
    );

    // A new TTL.
    world.person_edits(
        "hq",
        "default",
        &origin_id,
        &a_ttl("nas.hq.example", "10.1.0.11", 60),
    );
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(
        (report.counts.updated, world.total_writes()),
        (4, 4),
        "{:?}",
        report.counts
    );
    for (c, s) in targets {
        let p = world.policy(c, s, "A nas.hq.example 10.1.0.11");
        assert_eq!(describe_full(&p), "A nas.hq.example 10.1.0.11 ttl=60");
    }
    assert_eq!(ids_of("A nas.hq.example 10.1.0.11"), ids);
    assert_eq!(
        engine
            .store()
            .record(&new)
            .await
            .unwrap()
            .unwrap()
            .record
            .ttl,
        Some(60)
    );

    // Disabled at the origin.
    world.person_edits(
        "hq",
        "default",
        &origin_id,
        &disabled(a_ttl("nas.hq.example", "10.1.0.11", 60)),
    );
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!((report.counts.updated, world.total_writes()), (4, 4));
    for (c, s) in targets {
        let p = world.policy(c, s, "A nas.hq.example 10.1.0.11");
        assert_eq!(
            describe_full(&p),
            "A nas.hq.example 10.1.0.11 ttl=60 disabled"
        );
    }
    assert_eq!(ids_of("A nas.hq.example 10.1.0.11"), ids);

    // Enabled again, then nothing changes.
    world.person_edits(
        "hq",
        "default",
        &origin_id,
        &a_ttl("nas.hq.example", "10.1.0.11", 60),
    );
    cycle(&engine).await;
    for (c, s) in targets {
        let p = world.policy(c, s, "A nas.hq.example 10.1.0.11");
        assert_eq!(describe_full(&p), "A nas.hq.example 10.1.0.11 ttl=60");
    }
    assert_eq!(ids_of("A nas.hq.example 10.1.0.11"), ids);
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_copy_deleted_or_edited_by_hand_is_repaired() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    cycle(&engine).await;
    let nas = "A nas.hq.example 10.1.0.10";
    let record = unifi_dns_sync_store::record_id("A", "nas.hq.example", "10.1.0.10");
    let branch = site(&engine, "branch/default").await;
    let shop = site(&engine, "shop/default").await;
    let storage = site(&engine, "shop/storage").await;

    // Deleted by hand on branch: created again, the registry holds the new id.
    let gone = world.policy_id("branch", "default", nas);
    world.person_deletes("branch", "default", &gone);
    // Edited by hand on shop: another address. On storage: another TTL, and disabled.
    let shop_id = world.policy_id("shop", "default", nas);
    world.person_edits(
        "shop",
        "default",
        &shop_id,
        &a("nas.hq.example", "10.66.0.1"),
    );
    let storage_id = world.policy_id("shop", "storage", nas);
    world.person_edits(
        "shop",
        "storage",
        &storage_id,
        &disabled(a_ttl("nas.hq.example", "10.1.0.10", 5)),
    );
    let lab_files = world.policy_id("hq", "lab", "CNAME files.hq.example nas.hq.example");
    world.person_edits(
        "hq",
        "lab",
        &lab_files,
        &cname("files.hq.example", "elsewhere.example"),
    );

    let mark = last_event_id(&engine).await;
    world.reset_counters();
    let report = cycle(&engine).await;
    assert!(!report.is_partial());
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.deleted
        ),
        (1, 3, 0),
        "{:?}",
        event_lines(&events_after(&engine, mark).await)
    );
    assert_eq!(world.total_writes(), 4);

    let recreated = world.policy_id("branch", "default", nas);
    assert_ne!(recreated, gone);
    let row = engine
        .store()
        .copies_of_site(branch.id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.record_id == record)
        .unwrap();
    assert_eq!(row.policy_id.as_deref(), Some(recreated.as_str()));
    assert_eq!(row.state, unifi_dns_sync_store::CopyState::Active);

    assert_eq!(world.policy_id("shop", "default", nas), shop_id, "same id");
    assert_eq!(
        describe_full(&world.policy("shop", "storage", nas)),
        "A nas.hq.example 10.1.0.10 ttl=300"
    );
    assert_eq!(world.policy_id("shop", "storage", nas), storage_id);
    assert_eq!(
        world.policy_id("hq", "lab", "CNAME files.hq.example nas.hq.example"),
        lab_files
    );
    for s in [&shop, &storage] {
        let row = engine
            .store()
            .copies_of_site(s.id)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.record_id == record)
            .unwrap();
        assert_eq!(
            row.policy_id.as_deref(),
            Some(if s.id == shop.id {
                shop_id.as_str()
            } else {
                storage_id.as_str()
            })
        );
    }
    // Nothing else on any site was duplicated.
    for (c, s) in SITES {
        let d = world.domains(c, s);
        let mut dedup = d.clone();
        dedup.dedup();
        assert_eq!(d, dedup, "{c}/{s}");
        assert_eq!(d.len(), 5, "{c}/{s}: {d:?}");
    }
    let ev = events_after(&engine, mark).await;
    assert_eq!(
        ev.iter()
            .filter(|e| e.status == EventStatus::Created)
            .count(),
        1
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}

#[tokio::test]
async fn a_record_native_at_two_sites_keeps_its_copies_until_both_origins_are_gone() {
    let shared = || a("shared.example", "10.9.0.1");
    let scenario = Scenario::new()
        .console(
            console("hq")
                .site(SiteSpec::new("default").policy(shared()))
                .site(SiteSpec::new("lab")),
        )
        .console(console("branch").site(SiteSpec::new("default").policy(shared())))
        .console(
            console("shop")
                .site(SiteSpec::new("default"))
                .site(SiteSpec::new("storage")),
        );
    let world = World::start(scenario).await;
    let engine = world.engine().await;
    let what = "A shared.example 10.9.0.1";
    let record = unifi_dns_sync_store::record_id("A", "shared.example", "10.9.0.1");
    let report = cycle(&engine).await;
    assert_eq!(report.counts.created, 3, "one copy per non-origin site");
    let copies: Vec<(&str, &str, String)> =
        [("hq", "lab"), ("shop", "default"), ("shop", "storage")]
            .into_iter()
            .map(|(c, s)| (c, s, world.policy_id(c, s, what)))
            .collect();
    let native_hq = world.policy_id("hq", "default", what);
    let native_branch = world.policy_id("branch", "default", what);
    let stored = engine.store().record(&record).await.unwrap().unwrap();
    assert_eq!(stored.origins.len(), 2);

    // Deleted at one origin: it stays everywhere, and hq/default gets it back as a copy.
    world.person_deletes("hq", "default", &native_hq);
    world.reset_counters();
    let report = cycle(&engine).await;
    assert_eq!(
        (
            report.counts.created,
            report.counts.updated,
            report.counts.deleted
        ),
        (1, 0, 0)
    );
    assert_eq!(world.total_writes(), 1);
    let back = world.policy_id("hq", "default", what);
    assert_ne!(back, native_hq);
    for (c, s, id) in &copies {
        assert_eq!(&world.policy_id(c, s, what), id, "{c}/{s} keeps its copy");
    }
    assert_eq!(world.policy_id("branch", "default", what), native_branch);
    let stored = engine.store().record(&record).await.unwrap().unwrap();
    assert_eq!(stored.origins.len(), 1);
    let hq = site(&engine, "hq/default").await;
    assert!(
        engine
            .store()
            .copies_of_site(hq.id)
            .await
            .unwrap()
            .iter()
            .any(|c| c.record_id == record && c.policy_id.as_deref() == Some(back.as_str())),
        "hq/default now holds a registry copy"
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);

    // Deleted at the other origin too: gone everywhere, the copy on hq/default included.
    world.person_deletes("branch", "default", &native_branch);
    let report = cycle(&engine).await;
    assert_eq!(report.counts.deleted, 4);
    for (c, s) in SITES {
        assert!(world.domains(c, s).is_empty(), "{c}/{s}");
    }
    assert!(engine.store().all_copies().await.unwrap().is_empty());
    assert!(engine.store().record(&record).await.unwrap().is_none());
}

#[tokio::test]
async fn two_consoles_reporting_the_same_default_site_uuid_are_two_sites() {
    let scenario = Scenario::new()
        .console(console("hq").site(SiteSpec::new("default").policy(a("a.example", "10.0.0.1"))))
        .console(
            console("branch").site(SiteSpec::new("default").policy(a("b.example", "10.0.0.2"))),
        );
    let world = World::start(scenario).await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert!(!report.is_partial());
    let hq = site(&engine, "hq/default").await;
    let branch = site(&engine, "branch/default").await;
    assert_eq!(hq.uuid, unifi_sim::DEFAULT_SITE_UUID.to_string());
    assert_eq!(hq.uuid, branch.uuid);
    assert_ne!(hq.id, branch.id);
    assert_eq!(report.sites.len(), 2);
    assert_eq!(
        world.domains("hq", "default"),
        ["A a.example 10.0.0.1", "A b.example 10.0.0.2"]
    );
    assert_eq!(
        world.domains("branch", "default"),
        world.domains("hq", "default")
    );
    let a_id = unifi_dns_sync_store::record_id("A", "a.example", "10.0.0.1");
    let b_id = unifi_dns_sync_store::record_id("A", "b.example", "10.0.0.2");
    let hq_copies = engine.store().copies_of_site(hq.id).await.unwrap();
    let branch_copies = engine.store().copies_of_site(branch.id).await.unwrap();
    assert_eq!(
        (hq_copies.len(), hq_copies[0].record_id.as_str()),
        (1, b_id.as_str())
    );
    assert_eq!(
        (branch_copies.len(), branch_copies[0].record_id.as_str()),
        (1, a_id.as_str())
    );
    let a = engine.store().record(&a_id).await.unwrap().unwrap();
    assert_eq!(a.origins.len(), 1);
    assert_eq!(a.origins[0].site_id, hq.id);
    let labels: std::collections::BTreeSet<String> = events(&engine)
        .await
        .iter()
        .filter_map(|e| e.site_label.clone())
        .collect();
    assert_eq!(
        labels.into_iter().collect::<Vec<_>>(),
        ["branch/default", "hq/default"]
    );

    // A change on one of them touches only that one's copies elsewhere.
    let id = world.policy_id("hq", "default", "A a.example 10.0.0.1");
    world.person_deletes("hq", "default", &id);
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.domains("hq", "default"), ["A b.example 10.0.0.2"]);
    assert_eq!(world.domains("branch", "default"), ["A b.example 10.0.0.2"]);
    assert_eq!(world.console("hq").counters().writes(), 0);
    assert_eq!(world.console("branch").counters().writes(), 1);
}

#[tokio::test]
async fn cycles_never_overlap_and_a_second_engine_cannot_open_the_database() {
    let world = World::start(five_sites()).await;
    let engine = world.engine().await;
    let options = unifi_dns_sync::engine::CycleOptions::new(unifi_dns_sync_store::Trigger::Cli);
    let (first, second) = tokio::join!(engine.run_cycle(&options), engine.run_cycle(&options));
    assert!(first.is_ok());
    assert!(matches!(
        second,
        Err(unifi_dns_sync::engine::EngineError::CycleRunning)
    ));
    let other = unifi_dns_sync_store::Store::open(&world.db_path().display().to_string()).await;
    assert!(other.is_err_and(|e| e.is_locked()));
}

#[tokio::test]
async fn every_record_type_is_copied_exactly_and_edited_in_place() {
    use serde_json::json;
    let bodies = [
        json!({"type": "AAAA_RECORD", "domain": "NAS.Example.com.", "ipv6Address": "FD00:0:0::1", "ttlSeconds": 600}),
        json!({"type": "MX_RECORD", "domain": "example.com", "mailServerDomain": "mail.example.com", "priority": 10}),
        json!({"type": "TXT_RECORD", "domain": "example.com", "text": "v=spf1 a MX -all"}),
        json!({"type": "SRV_RECORD", "domain": "example.com", "serverDomain": "sip.example.com", "service": "_sip", "protocol": "_tcp", "port": 5060, "priority": 10, "weight": 5}),
        json!({"type": "FORWARD_DOMAIN", "domain": "corp.example", "ipAddress": "2001:db8::53"}),
        cname("www.example.com", "web.example.com"),
        a("web.example.com", "10.0.0.80"),
    ];
    let mut hq = SiteSpec::new("default");
    for b in &bodies {
        hq = hq.policy(b.clone());
    }
    let world = World::start(
        Scenario::new()
            .console(console("hq").site(hq))
            .console(console("branch").site(SiteSpec::new("default"))),
    )
    .await;
    let engine = world.engine().await;
    let report = cycle(&engine).await;
    assert_eq!(report.counts.created, 7, "{:?}", report.counts);
    assert_eq!(report.counts.failed, 0);
    // Field for field what the origin holds (ids aside), in canonical form.
    let strip = |mut p: serde_json::Value| {
        let o = p.as_object_mut().unwrap();
        o.remove("id");
        o.remove("metadata");
        p
    };
    let mut origin: Vec<String> = world
        .policies("hq", "default")
        .into_iter()
        .map(|p| strip(p).to_string().to_lowercase())
        .collect();
    let mut copies: Vec<String> = world
        .policies("branch", "default")
        .into_iter()
        .map(|p| strip(p).to_string().to_lowercase())
        .collect();
    origin.sort();
    copies.sort();
    assert_eq!(copies.len(), 7);
    // The origin's spelling (upper case, trailing dot, long IPv6) is canonical in the copy.
    assert!(
        copies
            .iter()
            .any(|c| c.contains("\"nas.example.com\"") && c.contains("\"fd00::1\""))
    );
    assert_eq!(
        origin
            .iter()
            .filter(|o| !o.contains("aaaa_record"))
            .collect::<Vec<_>>(),
        copies
            .iter()
            .filter(|c| !c.contains("aaaa_record"))
            .collect::<Vec<_>>()
    );
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0, "canonical forms compare equal");

    // Value changes of the structured types are in-place updates.
    let ids_before: std::collections::BTreeSet<String> = world
        .policies("branch", "default")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    let edit = |what: &str, body: serde_json::Value| {
        let id = world.policy_id("hq", "default", what);
        world.person_edits("hq", "default", &id, &body);
    };
    edit(
        "MX example.com mail.example.com",
        json!({"type": "MX_RECORD", "domain": "example.com", "mailServerDomain": "mail.example.com", "priority": 20}),
    );
    edit(
        "TXT example.com v=spf1 a MX -all",
        json!({"type": "TXT_RECORD", "domain": "example.com", "text": "v=spf1 -all"}),
    );
    edit(
        "SRV example.com sip.example.com",
        json!({"type": "SRV_RECORD", "domain": "example.com", "serverDomain": "sip.example.com", "service": "_sip", "protocol": "_tcp", "port": 5061, "priority": 10, "weight": 5}),
    );
    let report = cycle(&engine).await;
    assert_eq!(
        (
            report.counts.updated,
            report.counts.created,
            report.counts.deleted
        ),
        (3, 0, 0),
        "{:?}",
        report.counts
    );
    let ids_after: std::collections::BTreeSet<String> = world
        .policies("branch", "default")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids_after, ids_before);
    let mx = world.policy("branch", "default", "MX example.com mail.example.com");
    assert_eq!(mx["priority"], 20);
    let srv = world.policy("branch", "default", "SRV example.com sip.example.com");
    assert_eq!(srv["port"], 5061);
    world.policy("branch", "default", "TXT example.com v=spf1 -all");
    world.reset_counters();
    cycle(&engine).await;
    assert_eq!(world.total_writes(), 0);
}
