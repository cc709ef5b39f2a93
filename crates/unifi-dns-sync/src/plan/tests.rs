//! Planner tests: each SPEC §5.2–§5.4/§5.7 rule on small hand-built inputs.

use super::*;
use crate::config::DomainTemplate;

fn default_rules() -> SitePolicy {
    SitePolicy {
        publish: true,
        receive: true,
        domains: vec!["*".into()],
        exclude_domains: vec![],
        clients_domain: DomainTemplate::parse("{site}.home.arpa").unwrap(),
        entry: None,
    }
}

fn a(name: &str, ip: &str) -> Record {
    Record {
        rtype: RecordType::A,
        name: name.into(),
        value: ip.into(),
        ttl: Some(300),
        enabled: true,
    }
}

fn cname(name: &str, target: &str) -> Record {
    Record {
        rtype: RecordType::Cname,
        name: name.into(),
        value: target.into(),
        ttl: Some(0),
        enabled: true,
    }
}

fn settings() -> PlanSettings {
    PlanSettings {
        record_types: vec![RecordType::A, RecordType::Aaaa, RecordType::Cname],
        exclude_same_controller: false,
        mode: SyncMode::Sync,
        max_delete_fraction: 0.3,
        threshold_min_copies: 10,
        force: false,
    }
}

struct World {
    records: HashMap<String, PlanRecord>,
    sites: Vec<PlanSite>,
}

impl World {
    /// Sites 1..=n on controllers c1..cn, priority 100, all live and empty.
    fn new(n: i64) -> World {
        let sites = (1..=n)
            .map(|id| PlanSite {
                id,
                controller: format!("c{id}"),
                priority: 100,
                rules: default_rules(),
                live: Some(LiveSite::default()),
            })
            .collect();
        World {
            records: HashMap::new(),
            sites,
        }
    }

    fn origin(&mut self, record: &Record, site: i64, first_seen: i64) -> &mut Self {
        let entry = self
            .records
            .entry(record.id())
            .or_insert_with(|| PlanRecord {
                record: record.clone(),
                origins: vec![],
            });
        entry.origins.push(PlanOrigin {
            site_id: site,
            first_seen,
        });
        self
    }

    fn site(&mut self, id: i64) -> &mut PlanSite {
        self.sites.iter_mut().find(|s| s.id == id).unwrap()
    }

    fn live(&mut self, id: i64) -> &mut LiveSite {
        self.site(id).live.as_mut().unwrap()
    }

    fn copy(&mut self, site: i64, record: &Record, live: Option<Record>, source: i64) -> &mut Self {
        let policy = format!("p-{site}-{}", &record.id()[..8]);
        self.live(site).copies.push(LiveCopy {
            record_id: record.id(),
            policy_id: Some(policy),
            live,
            source_site: Some(source),
        });
        self
    }

    fn plan(&self, settings: &PlanSettings) -> Plan {
        plan(&self.records, &self.sites, settings)
    }
}

fn verbs(plan: &Plan, site: i64) -> Vec<String> {
    plan.site(site)
        .map(|s| {
            s.actions
                .iter()
                .map(|a| format!("{} {}", a.verb(), a.record()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_native_record_is_created_on_every_other_site() {
    let mut w = World::new(3);
    let r = a("nas.hq", "10.0.0.1");
    w.origin(&r, 1, 0);
    let p = w.plan(&settings());
    assert!(verbs(&p, 1).is_empty(), "never copied to its origin");
    assert_eq!(verbs(&p, 2), ["create A nas.hq 10.0.0.1"]);
    assert_eq!(verbs(&p, 3), ["create A nas.hq 10.0.0.1"]);
}

#[test]
fn a_correct_copy_needs_nothing_and_drift_is_updated_in_place() {
    let mut w = World::new(2);
    let r = a("nas.hq", "10.0.0.1");
    w.origin(&r, 1, 0).copy(2, &r, Some(r.clone()), 1);
    let p = w.plan(&settings());
    assert!(verbs(&p, 2).is_empty());
    assert_eq!(p.site(2).unwrap().verified, [r.id()]);

    let mut drifted = r.clone();
    drifted.ttl = Some(60);
    let mut w = World::new(2);
    w.origin(&r, 1, 0).copy(2, &r, Some(drifted), 1);
    let p = w.plan(&settings());
    match &p.site(2).unwrap().actions[..] {
        [
            Action::Update {
                policy_id,
                old_record_id,
                record_id,
                record,
                ..
            },
        ] => {
            assert!(policy_id.starts_with("p-2-"));
            assert_eq!((old_record_id, record_id), (&r.id(), &r.id()));
            assert_eq!(record.ttl, Some(300));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_copy_edited_by_hand_is_repaired_and_one_deleted_by_hand_is_recreated() {
    let mut w = World::new(3);
    let r = a("nas.hq", "10.0.0.1");
    w.origin(&r, 1, 0)
        .copy(2, &r, Some(a("nas.hq", "10.9.9.9")), 1)
        .copy(3, &r, None, 1);
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 2), ["update A nas.hq 10.0.0.1"]);
    assert_eq!(verbs(&p, 3), ["create A nas.hq 10.0.0.1"]);
}

#[test]
fn a_value_changed_at_the_origin_repoints_the_copy() {
    let mut w = World::new(2);
    let old = a("nas.hq", "10.0.0.1");
    let new = a("nas.hq", "10.0.0.2");
    w.origin(&new, 1, 0).copy(2, &old, Some(old.clone()), 1);
    let p = w.plan(&settings());
    match &p.site(2).unwrap().actions[..] {
        [
            Action::Update {
                old_record_id,
                record_id,
                ..
            },
        ] => {
            assert_eq!(old_record_id, &old.id());
            assert_eq!(record_id, &new.id());
        }
        other => panic!("expected one re-pointing update, got {other:?}"),
    }
    let create_only = PlanSettings {
        mode: SyncMode::CreateOnly,
        ..settings()
    };
    assert_eq!(
        verbs(&w.plan(&create_only), 2),
        ["create A nas.hq 10.0.0.2"]
    );
}

#[test]
fn a_copy_of_unknown_source_is_repointed_too() {
    // An adopted copy (its create's answer was lost) has no recorded source site.
    let mut w = World::new(2);
    let old = a("nas.hq", "10.0.0.1");
    let new = a("nas.hq", "10.0.0.2");
    w.origin(&new, 1, 0).copy(2, &old, Some(old.clone()), 1);
    w.live(2).copies[0].source_site = None;
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 2), ["update A nas.hq 10.0.0.2"]);
}

#[test]
fn a_record_gone_from_its_origin_is_deleted_and_missing_policies_are_forgotten() {
    let mut w = World::new(3);
    let r = a("gone.hq", "10.0.0.1");
    w.copy(2, &r, Some(r.clone()), 1).copy(3, &r, None, 1);
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 2), ["delete A gone.hq 10.0.0.1"]);
    assert!(verbs(&p, 3).is_empty());
    assert_eq!(p.site(3).unwrap().forget, [r.id()]);
}

#[test]
fn a_record_with_two_origins_stays_until_both_are_gone() {
    let mut w = World::new(3);
    let r = a("shared.example", "10.0.0.1");
    w.origin(&r, 1, 0)
        .origin(&r, 2, 5)
        .copy(3, &r, Some(r.clone()), 1);
    let p = w.plan(&settings());
    assert!(verbs(&p, 1).is_empty() && verbs(&p, 2).is_empty() && verbs(&p, 3).is_empty());
    // Deleted at site 1: it comes back to site 1 as a copy from site 2.
    let mut w = World::new(3);
    w.origin(&r, 2, 5).copy(3, &r, Some(r.clone()), 1);
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 1), ["create A shared.example 10.0.0.1"]);
    assert!(verbs(&p, 3).is_empty());
}

#[test]
fn a_site_whose_read_is_incomplete_gets_no_action() {
    let mut w = World::new(2);
    let r = a("gone.hq", "10.0.0.1");
    w.copy(2, &r, Some(r.clone()), 1);
    w.site(2).live = None;
    let p = w.plan(&settings());
    assert!(p.site(2).is_none());
    assert_eq!(p.action_count(), 0);
}

#[test]
fn competing_origins_priority_then_first_seen_then_site_id() {
    let one = a("svc.example", "10.0.0.1");
    let two = a("svc.example", "10.0.0.2");
    // Same priority: the older first_seen wins.
    let mut w = World::new(3);
    w.origin(&one, 1, 50).origin(&two, 2, 10);
    w.live(1).natives.push(one.clone());
    w.live(2).natives.push(two.clone());
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 3), ["create A svc.example 10.0.0.2"]);
    let c = &p.site(3).unwrap().conflicts;
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].record_id.as_str(), &c[0].reason),
        (one.id().as_str(), &ConflictReason::CompetingOrigin)
    );
    // The loser's own site keeps its native: the winner is shadowed there.
    assert_eq!(
        p.site(1).unwrap().conflicts[0].reason,
        ConflictReason::ShadowedByNative
    );
    assert!(verbs(&p, 1).is_empty() && verbs(&p, 2).is_empty());
    // Lower priority wins over age.
    w.site(1).priority = 10;
    assert_eq!(
        verbs(&w.plan(&settings()), 3),
        ["create A svc.example 10.0.0.1"]
    );
    // Ties on everything: the smaller site id.
    let mut w = World::new(3);
    w.origin(&one, 2, 0).origin(&two, 1, 0);
    assert_eq!(
        verbs(&w.plan(&settings()), 3),
        ["create A svc.example 10.0.0.2"]
    );
}

#[test]
fn round_robin_records_of_the_winning_site_are_all_copied() {
    let mut w = World::new(2);
    w.origin(&a("rr.example", "10.0.0.1"), 1, 0)
        .origin(&a("rr.example", "10.0.0.2"), 1, 0);
    let mut v = verbs(&w.plan(&settings()), 2);
    v.sort();
    assert_eq!(
        v,
        [
            "create A rr.example 10.0.0.1",
            "create A rr.example 10.0.0.2"
        ]
    );
}

#[test]
fn a_cname_and_an_a_record_never_share_a_name() {
    let mut w = World::new(3);
    let alias = cname("www.example", "web.example");
    let addr = a("www.example", "10.0.0.1");
    w.origin(&alias, 1, 0).origin(&addr, 2, 10);
    let p = w.plan(&settings());
    assert_eq!(verbs(&p, 3), ["create CNAME www.example web.example"]);
    assert!(
        p.site(3)
            .unwrap()
            .conflicts
            .iter()
            .any(|c| c.record_id == addr.id() && c.reason == ConflictReason::CompetingOrigin)
    );
}

#[test]
fn natives_shadow_copies() {
    let r = a("nas.example", "10.0.0.1");
    for native in [
        a("nas.example", "10.0.0.9"),
        cname("nas.example", "x.example"),
    ] {
        let mut w = World::new(2);
        w.origin(&r, 1, 0).copy(2, &r, Some(r.clone()), 1);
        w.live(2).natives.push(native.clone());
        let p = w.plan(&settings());
        assert_eq!(
            verbs(&p, 2),
            ["delete A nas.example 10.0.0.1"],
            "native {native} wins"
        );
        assert_eq!(
            p.site(2).unwrap().conflicts[0].reason,
            ConflictReason::ShadowedByNative
        );
    }
    // A desired CNAME is shadowed by any native of its name.
    let mut w = World::new(2);
    w.origin(&cname("app.example", "x.example"), 1, 0);
    w.live(2).natives.push(Record {
        rtype: RecordType::Txt,
        name: "app.example".into(),
        value: "hello".into(),
        ttl: None,
        enabled: true,
    });
    let p = w.plan(&settings());
    assert!(verbs(&p, 2).is_empty());
    assert_eq!(p.site(2).unwrap().conflicts.len(), 1);
    // A native of another type and name does not shadow.
    let mut w = World::new(2);
    w.origin(&r, 1, 0);
    w.live(2).natives.push(Record {
        rtype: RecordType::Aaaa,
        name: "nas.example".into(),
        value: "::1".into(),
        ttl: Some(0),
        enabled: true,
    });
    assert_eq!(
        verbs(&w.plan(&settings()), 2),
        ["create A nas.example 10.0.0.1"]
    );
}

#[test]
fn modes_drop_deletes_and_updates() {
    let mut w = World::new(2);
    let keep = a("keep.example", "10.0.0.1");
    let gone = a("gone.example", "10.0.0.2");
    let mut drifted = keep.clone();
    drifted.enabled = false;
    w.origin(&keep, 1, 0)
        .origin(&a("new.example", "10.0.0.3"), 1, 0);
    w.copy(2, &keep, Some(drifted), 1)
        .copy(2, &gone, Some(gone.clone()), 1);
    let mut sync = verbs(&w.plan(&settings()), 2);
    sync.sort();
    assert_eq!(
        sync,
        [
            "create A new.example 10.0.0.3",
            "delete A gone.example 10.0.0.2",
            "update A keep.example 10.0.0.1"
        ]
    );
    let upsert = w.plan(&PlanSettings {
        mode: SyncMode::UpsertOnly,
        ..settings()
    });
    assert_eq!(
        verbs(&upsert, 2),
        [
            "update A keep.example 10.0.0.1",
            "create A new.example 10.0.0.3"
        ]
    );
    assert_eq!(upsert.site(2).unwrap().dropped_by_mode, 1);
    let create = w.plan(&PlanSettings {
        mode: SyncMode::CreateOnly,
        ..settings()
    });
    assert_eq!(verbs(&create, 2), ["create A new.example 10.0.0.3"]);
}

#[test]
fn the_deletion_threshold_withholds_mass_deletes_unless_forced() {
    let mut w = World::new(2);
    for i in 0..10 {
        let r = a(&format!("h{i}.example"), "10.0.0.1");
        if i < 6 {
            w.origin(&r, 1, 0);
        }
        w.copy(2, &r, Some(r.clone()), 1);
    }
    // 4 of 10 copies would go: more than 30 %.
    let p = w.plan(&settings());
    assert_eq!(p.site(2).unwrap().withheld.len(), 4);
    assert!(verbs(&p, 2).is_empty());
    let forced = w.plan(&PlanSettings {
        force: true,
        ..settings()
    });
    assert_eq!(verbs(&forced, 2).len(), 4);
    // Below threshold_min_copies the threshold does not apply.
    let small = w.plan(&PlanSettings {
        threshold_min_copies: 11,
        ..settings()
    });
    assert_eq!(verbs(&small, 2).len(), 4);
}

#[test]
fn filters_publish_receive_types_and_same_controller() {
    let r = a("nas.hq.example", "10.0.0.1");
    let mut w = World::new(3);
    w.origin(&r, 1, 0);
    w.site(2).rules.receive = false;
    w.site(3).rules.exclude_domains = vec!["*.hq.example".into()];
    assert_eq!(w.plan(&settings()).action_count(), 0);

    let mut w = World::new(2);
    w.origin(&r, 1, 0);
    w.site(1).rules.publish = false;
    assert_eq!(w.plan(&settings()).action_count(), 0);

    let mut w = World::new(2);
    w.origin(&r, 1, 0);
    w.site(1).rules.domains = vec!["*.branch.example".into()];
    assert_eq!(
        w.plan(&settings()).action_count(),
        0,
        "the origin's own filter applies too"
    );

    let mut w = World::new(3);
    w.origin(&r, 1, 0);
    w.site(2).controller = "c1".into();
    let same = PlanSettings {
        exclude_same_controller: true,
        ..settings()
    };
    let p = w.plan(&same);
    assert!(verbs(&p, 2).is_empty());
    assert_eq!(verbs(&p, 3).len(), 1);

    let mut w = World::new(2);
    w.origin(
        &Record {
            rtype: RecordType::Mx,
            name: "hq.example".into(),
            value: "10 mail.hq.example".into(),
            ttl: None,
            enabled: true,
        },
        1,
        0,
    );
    assert_eq!(
        w.plan(&settings()).action_count(),
        0,
        "MX is not in record_types"
    );
}

#[test]
fn a_refused_record_is_not_retried_while_the_refusal_is_recent() {
    let mut w = World::new(2);
    let r = a("printer.branch.lan", "10.0.0.1");
    w.origin(&r, 1, 0);
    w.live(2).refused.insert(
        r.id(),
        "api.dns.policy.validation.overlap-with-local-dns".into(),
    );
    let p = w.plan(&settings());
    assert!(verbs(&p, 2).is_empty());
    assert_eq!(
        p.site(2).unwrap().conflicts[0].reason,
        ConflictReason::Refused("api.dns.policy.validation.overlap-with-local-dns".into())
    );
}
