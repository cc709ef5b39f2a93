//! Behaviour of the store against real SQLite files in temporary directories.

use std::path::{Path, PathBuf};

use serde_json::json;
use time::OffsetDateTime;
use unifi_dns_sync_store::{
    ControllerState, CopyState, EventQuery, EventStatus, NewConflict, NewEvent, NewOrigin,
    OriginChanges, OriginKind, RecordData, RunOutcome, SiteListing, SiteRead, Store, StoreError,
    Trigger, record_id,
};

fn t(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000 + secs).unwrap()
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("dns_sync.db")
}

fn url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn controller(name: &str) -> ControllerState {
    ControllerState {
        name: name.to_owned(),
        url: format!("https://{name}.example"),
        key_fingerprint: Some("0123456789ab".to_owned()),
        app_version: Some("10.5.66".to_owned()),
        last_contact: Some(t(0)),
        last_error: None,
    }
}

fn listing(uuid: &str, ir: &str, name: &str) -> SiteListing {
    SiteListing {
        uuid: uuid.to_owned(),
        internal_reference: ir.to_owned(),
        name: name.to_owned(),
    }
}

fn a_record(name: &str, ip: &str) -> RecordData {
    RecordData::new(
        "A",
        name,
        ip,
        Some(300),
        true,
        json!({"type": "A_RECORD", "domain": name, "ipv4Address": ip, "ttlSeconds": 300, "enabled": true}),
    )
}

fn policy_origin(record: &RecordData, policy: &str) -> NewOrigin {
    NewOrigin {
        record_id: record.id.clone(),
        kind: OriginKind::Policy,
        source_id: policy.to_owned(),
    }
}

/// A store with controller `hq` and two sites; returns their ids.
async fn seeded(path: &Path) -> (Store, i64, i64) {
    let store = Store::open(&url(path)).await.unwrap();
    store.upsert_controller(&controller("hq")).await.unwrap();
    let sites = store
        .sync_sites(
            "hq",
            &[
                listing("u-1", "default", "Default"),
                listing("u-2", "branch", "Branch"),
            ],
            t(0),
        )
        .await
        .unwrap();
    (store, sites[0].id, sites[1].id)
}

#[tokio::test]
async fn migrations_apply_on_a_fresh_file_and_reopen_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    // A parent directory that does not exist yet is created.
    let path = dir.path().join("nested").join("dns_sync.db");
    let store = Store::open(&url(&path)).await.unwrap();
    let d = store.diagnostics().await.unwrap();
    assert_eq!(d.journal_mode, "wal");
    assert!(d.foreign_keys);
    assert_eq!(d.busy_timeout_ms, 5000);
    assert_eq!(d.synchronous, 1, "synchronous=NORMAL");
    assert_eq!(d.schema_version, 2);
    assert!(!d.read_only);
    store.upsert_controller(&controller("hq")).await.unwrap();
    store.close().await;

    // Reopen (plain path this time): nothing re-applied, data kept, settings again.
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let d = store.diagnostics().await.unwrap();
    assert_eq!(d.schema_version, 2);
    assert_eq!(d.journal_mode, "wal");
    assert!(d.foreign_keys);
    assert_eq!(store.controllers().await.unwrap(), vec![controller("hq")]);
    assert_eq!(store.write_stats().transactions, 0);
    store.close().await;

    // A third open is just as happy.
    let store = Store::open(&url(&path)).await.unwrap();
    assert_eq!(store.diagnostics().await.unwrap().schema_version, 2);
}

#[tokio::test]
async fn in_memory_databases_work_for_tests() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.upsert_controller(&controller("hq")).await.unwrap();
    assert_eq!(store.controllers().await.unwrap().len(), 1);
    assert!(store.path().is_none());
}

#[tokio::test]
async fn a_second_open_is_locked_while_read_only_opens_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let (store, site, _) = seeded(&path).await;

    let err = Store::open(&url(&path)).await.unwrap_err();
    assert!(err.is_locked(), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("another unifi-dns-sync"), "{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(".lock"), "{msg}");
    assert!(msg.contains("stop that process first"), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    // The same database through another spelling of its path is the same lock.
    assert!(
        Store::open(path.to_str().unwrap())
            .await
            .unwrap_err()
            .is_locked()
    );

    let ro = Store::open_read_only(&url(&path)).await.unwrap();
    assert!(ro.is_read_only());
    assert_eq!(ro.sites().await.unwrap().len(), 2);
    let d = ro.diagnostics().await.unwrap();
    assert!(d.read_only);
    assert_eq!(d.journal_mode, "wal");

    // Writes are refused on the read-only store, before touching the database.
    let err = ro
        .upsert_controller(&controller("other"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"));
    assert!(matches!(
        ro.start_run(Trigger::Cli, false, t(1)).await.unwrap_err(),
        StoreError::ReadOnly { .. }
    ));
    assert!(matches!(
        ro.insert_pending(site, &["x"], t(1)).await.unwrap_err(),
        StoreError::ReadOnly { .. }
    ));
    assert!(matches!(
        ro.apply_origin_changes(
            site,
            &OriginChanges {
                remove: vec!["x".into()],
                ..Default::default()
            },
            t(1)
        )
        .await
        .unwrap_err(),
        StoreError::ReadOnly { .. }
    ));

    // The writer sees its own writes; the reader sees them too (WAL).
    store
        .upsert_controller(&controller("branch"))
        .await
        .unwrap();
    assert_eq!(ro.controllers().await.unwrap().len(), 2);

    // Once the owner is gone, the database can be opened for writing again.
    store.close().await;
    let again = Store::open(&url(&path)).await.unwrap();
    assert_eq!(again.sites().await.unwrap().len(), 2);
    drop(again);
    // Read-only after a clean shutdown (no -wal/-shm left) still works.
    let ro2 = Store::open_read_only(path.to_str().unwrap()).await.unwrap();
    assert_eq!(ro2.controllers().await.unwrap().len(), 2);
}

#[tokio::test]
async fn read_only_open_of_a_missing_database_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open_read_only(&url(&db(&dir))).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("sync"), "{err}");
    assert!(
        !db(&dir).exists(),
        "a read-only open must not create the file"
    );
}

#[tokio::test]
async fn bad_urls_are_refused_with_a_hint() {
    let err = Store::open("postgres://localhost/db").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl { .. }), "{err:?}");
    assert!(err.to_string().contains("sqlite://"));
}

#[tokio::test]
async fn sites_sync_new_renamed_removed_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&db(&dir))).await.unwrap();

    let err = store
        .sync_sites("hq", &[listing("u-1", "default", "Default")], t(0))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.to_string().contains("upsert_controller"));

    store.upsert_controller(&controller("hq")).await.unwrap();
    store.upsert_controller(&controller("lab")).await.unwrap();

    let sites = store
        .sync_sites(
            "hq",
            &[
                listing("u-1", "default", "Default"),
                listing("u-2", "branch", "Branch"),
            ],
            t(0),
        )
        .await
        .unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0].label(), "hq/default");
    assert_eq!(sites[0].first_seen, t(0));
    assert!(sites.iter().all(|s| s.removed_at.is_none()));
    let (u1, u2) = (sites[0].id, sites[1].id);

    // Renamed, and u-2 no longer listed.
    let sites = store
        .sync_sites("hq", &[listing("u-1", "default", "Head office")], t(10))
        .await
        .unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0].id, u1);
    assert_eq!(sites[0].name, "Head office");
    assert_eq!(sites[1].id, u2);
    assert_eq!(sites[1].removed_at, Some(t(10)));
    assert!(sites[1].is_removed());

    // Still missing: removed_at keeps the first time.
    let sites = store
        .sync_sites("hq", &[listing("u-1", "default", "Head office")], t(20))
        .await
        .unwrap();
    assert_eq!(sites[1].removed_at, Some(t(10)));

    // Back again: same id, removed_at cleared.
    let sites = store
        .sync_sites(
            "hq",
            &[
                listing("u-1", "default", "Head office"),
                listing("u-2", "branch", "Branch"),
            ],
            t(30),
        )
        .await
        .unwrap();
    assert_eq!(sites[1].id, u2);
    assert_eq!(sites[1].removed_at, None);

    // A second controller reporting the same UUID gets a different site.
    let lab = store
        .sync_sites("lab", &[listing("u-1", "default", "Default")], t(40))
        .await
        .unwrap();
    assert_eq!(lab.len(), 1);
    assert_ne!(lab[0].id, u1);
    assert_eq!(lab[0].controller, "lab");
    assert_eq!(store.sites().await.unwrap().len(), 3);
    assert_eq!(
        store.site(lab[0].id).await.unwrap().unwrap().label(),
        "lab/default"
    );

    // Nothing changed: no write at all.
    let before = store.write_stats();
    store
        .sync_sites(
            "hq",
            &[
                listing("u-1", "default", "Head office"),
                listing("u-2", "branch", "Branch"),
            ],
            t(50),
        )
        .await
        .unwrap();
    assert_eq!(store.write_stats(), before);
}

#[tokio::test]
async fn site_reads_withheld_deletes_and_policy_support() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;

    store.record_site_read(s1, true, None, t(5)).await.unwrap();
    store
        .record_site_reads(
            &[
                SiteRead {
                    site_id: s1,
                    complete: false,
                    error: Some("page 2: HTTP 500".into()),
                },
                SiteRead {
                    site_id: s2,
                    complete: true,
                    error: None,
                },
            ],
            t(10),
        )
        .await
        .unwrap();
    let site1 = store.site(s1).await.unwrap().unwrap();
    assert_eq!(
        site1.last_synced,
        Some(t(5)),
        "an incomplete read keeps last_synced"
    );
    assert_eq!(site1.last_read_at, Some(t(10)));
    assert!(!site1.last_read_complete);
    assert_eq!(site1.last_error.as_deref(), Some("page 2: HTTP 500"));
    let site2 = store.site(s2).await.unwrap().unwrap();
    assert_eq!(site2.last_synced, Some(t(10)));
    assert!(site2.last_read_complete);

    // An unknown site in a batch writes nothing of the batch.
    let err = store
        .record_site_reads(
            &[
                SiteRead {
                    site_id: s2,
                    complete: true,
                    error: None,
                },
                SiteRead {
                    site_id: 999,
                    complete: true,
                    error: None,
                },
            ],
            t(20),
        )
        .await
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        store.site(s2).await.unwrap().unwrap().last_synced,
        Some(t(10))
    );

    assert!(store.set_withheld_deletes(s1, 7).await.unwrap());
    assert!(!store.set_withheld_deletes(s1, 7).await.unwrap());
    assert_eq!(store.site(s1).await.unwrap().unwrap().withheld_deletes, 7);
    assert_eq!(store.site(s1).await.unwrap().unwrap().policy_support, None);
    assert!(store.set_policy_support(s1, Some(true)).await.unwrap());
    assert!(!store.set_policy_support(s1, Some(true)).await.unwrap());
    assert_eq!(
        store.site(s1).await.unwrap().unwrap().policy_support,
        Some(true)
    );
    assert!(
        store
            .set_withheld_deletes(999, 1)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn controllers_round_trip_and_identical_upserts_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&db(&dir))).await.unwrap();
    assert!(store.upsert_controller(&controller("hq")).await.unwrap());
    let before = store.write_stats();
    assert!(!store.upsert_controller(&controller("hq")).await.unwrap());
    assert_eq!(store.write_stats(), before);

    let mut changed = controller("hq");
    changed.last_contact = Some(t(60));
    changed.last_error = Some("timeout".into());
    changed.app_version = None;
    assert!(store.upsert_controller(&changed).await.unwrap());
    assert_eq!(store.controllers().await.unwrap(), vec![changed]);
}

#[tokio::test]
async fn origin_changes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let nas = a_record("nas.hq.lan", "192.168.1.10");
    let printer = a_record("printer.hq.lan", "192.168.1.20");
    assert_eq!(nas.id, record_id("A", "nas.hq.lan", "192.168.1.10"));
    assert_eq!(nas.id.len(), 64);

    let applied = store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![nas.clone(), printer.clone()],
                add: vec![policy_origin(&nas, "p-1"), policy_origin(&printer, "p-2")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    assert_eq!((applied.records, applied.added), (2, 2));
    // The same record is also native to s2.
    store
        .apply_origin_changes(
            s2,
            &OriginChanges {
                add: vec![NewOrigin {
                    record_id: nas.id.clone(),
                    kind: OriginKind::Client,
                    source_id: "aa:bb:cc:dd:ee:ff".into(),
                }],
                ..Default::default()
            },
            t(5),
        )
        .await
        .unwrap();

    let origins = store.origins_of_site(s1).await.unwrap();
    assert_eq!(origins.len(), 2);
    let o = origins.iter().find(|o| o.record_id == nas.id).unwrap();
    assert_eq!(
        (o.kind, o.source_id.as_str(), o.first_seen, o.last_seen),
        (OriginKind::Policy, "p-1", t(0), t(0))
    );

    let all = store.records_with_origins().await.unwrap();
    assert_eq!(all.len(), 2);
    let stored = all.iter().find(|r| r.record.id == nas.id).unwrap();
    assert_eq!(stored.record, nas);
    assert_eq!(stored.first_seen, t(0));
    assert_eq!(stored.origins.len(), 2);
    assert_eq!(stored.origins[1].site_id, s2);
    assert_eq!(stored.origins[1].kind, OriginKind::Client);

    // Unchanged record and origin: no rows written.
    let applied = store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![nas.clone()],
                touch: vec![(nas.id.clone(), t(0))],
                ..Default::default()
            },
            t(20),
        )
        .await
        .unwrap();
    assert_eq!(applied, Default::default());

    // TTL changed at the origin, a touch, and printer gone.
    let mut nas2 = nas.clone();
    nas2.ttl = Some(60);
    nas2.enabled = false;
    let applied = store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![nas2.clone()],
                touch: vec![(nas.id.clone(), t(30))],
                remove: vec![printer.id.clone()],
                ..Default::default()
            },
            t(30),
        )
        .await
        .unwrap();
    assert_eq!(
        (applied.records, applied.touched, applied.removed),
        (1, 1, 1)
    );
    let stored = store.record(&nas.id).await.unwrap().unwrap();
    assert_eq!(stored.record.ttl, Some(60));
    assert!(!stored.record.enabled);
    assert_eq!(stored.first_seen, t(0));
    assert_eq!(stored.updated_at, t(30));
    assert_eq!(store.origins_of_site(s1).await.unwrap()[0].last_seen, t(30));
    assert_eq!(store.origins_of_site(s1).await.unwrap().len(), 1);
    // printer has no origin left but still exists until orphan removal.
    let printer_stored = store.record(&printer.id).await.unwrap().unwrap();
    assert!(printer_stored.origins.is_empty());
    assert!(store.record("nope").await.unwrap().is_none());

    // An origin whose policy was recreated (same content, new id) is refreshed by `add`.
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                add: vec![policy_origin(&nas, "p-9")],
                ..Default::default()
            },
            t(40),
        )
        .await
        .unwrap();
    let o = &store.origins_of_site(s1).await.unwrap()[0];
    assert_eq!(
        (o.source_id.as_str(), o.first_seen, o.last_seen),
        ("p-9", t(0), t(40))
    );
}

#[tokio::test]
async fn a_failing_origin_batch_leaves_nothing_half_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, _) = seeded(&db(&dir)).await;
    let nas = a_record("nas.hq.lan", "192.168.1.10");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![nas.clone()],
                add: vec![policy_origin(&nas, "p-1")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    let before = store.write_stats();

    // New record + origin + a removal, then an origin for a record that does not exist:
    // the foreign key fails on the last statement.
    let fresh = a_record("new.hq.lan", "192.168.1.30");
    let ghost = a_record("ghost.hq.lan", "192.168.1.99");
    let mut changed = nas.clone();
    changed.ttl = Some(1);
    let err = store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![fresh.clone(), changed],
                add: vec![policy_origin(&fresh, "p-2"), policy_origin(&ghost, "p-3")],
                touch: vec![],
                remove: vec![nas.id.clone()],
            },
            t(10),
        )
        .await
        .unwrap_err();
    assert!(err.is_constraint(), "{err:?}");
    assert!(
        err.to_string()
            .contains("nothing of this change was written"),
        "{err}"
    );

    assert!(store.record(&fresh.id).await.unwrap().is_none());
    assert_eq!(
        store.record(&nas.id).await.unwrap().unwrap().record.ttl,
        Some(300)
    );
    let origins = store.origins_of_site(s1).await.unwrap();
    assert_eq!(origins.len(), 1);
    assert_eq!(origins[0].record_id, nas.id);
    assert_eq!(store.write_stats(), before);

    // A record whose id is not its content hash is refused before anything is written.
    let mut forged = a_record("x.hq.lan", "10.0.0.1");
    forged.id = "0".repeat(64);
    let err = store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![forged],
                ..Default::default()
            },
            t(10),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidArgument { .. }), "{err:?}");

    // An unknown site.
    let err = store
        .apply_origin_changes(
            4242,
            &OriginChanges {
                remove: vec![nas.id.clone()],
                ..Default::default()
            },
            t(10),
        )
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(store.write_stats(), before);
}

#[tokio::test]
async fn registry_lifecycle_pending_active_repoint_remove() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let v1 = a_record("nas.hq.lan", "192.168.1.10");
    let v2 = a_record("nas.hq.lan", "192.168.1.11");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![v1.clone(), v2.clone()],
                add: vec![policy_origin(&v1, "p-1")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();

    assert_eq!(
        store
            .insert_pending(s2, &[v1.id.as_str()], t(1))
            .await
            .unwrap(),
        1
    );
    let copies = store.copies_of_site(s2).await.unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].state, CopyState::Pending);
    assert_eq!(copies[0].policy_id, None);
    assert_eq!(copies[0].created_at, t(1));
    assert_eq!(copies[0].verified_at, None);

    store
        .activate_copy(s2, &v1.id, "pol-A", None, t(2))
        .await
        .unwrap();
    let c = &store.copies_of_site(s2).await.unwrap()[0];
    assert_eq!(
        (c.state, c.policy_id.as_deref(), c.created_at, c.verified_at),
        (CopyState::Active, Some("pol-A"), t(1), Some(t(2)))
    );

    // Value changed at the origin: the same policy now holds v2.
    store
        .repoint_copy(s2, &v1.id, &v2.id, None, t(3))
        .await
        .unwrap();
    let copies = store.copies_of_site(s2).await.unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].record_id, v2.id);
    assert_eq!(copies[0].policy_id.as_deref(), Some("pol-A"));
    assert_eq!(copies[0].verified_at, Some(t(3)));
    assert_eq!(store.copies_of_record(&v2.id).await.unwrap().len(), 1);
    assert!(store.copies_of_record(&v1.id).await.unwrap().is_empty());
    let err = store
        .repoint_copy(s2, &v1.id, &v2.id, None, t(3))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    assert_eq!(
        store
            .mark_verified(s2, &[v2.id.as_str()], t(4))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .mark_verified(s2, &[v2.id.as_str()], t(4))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.all_copies().await.unwrap()[0].verified_at, Some(t(4)));

    assert!(store.remove_copy(s2, &v2.id).await.unwrap());
    assert!(!store.remove_copy(s2, &v2.id).await.unwrap());
    assert!(store.all_copies().await.unwrap().is_empty());

    // activate_copy without a pending row still records ownership.
    store
        .activate_copy(s2, &v1.id, "pol-B", None, t(5))
        .await
        .unwrap();
    assert_eq!(
        store.copies_of_site(s2).await.unwrap()[0].state,
        CopyState::Active
    );
    // A copy of a record that does not exist is refused.
    assert!(
        store
            .insert_pending(s2, &["missing"], t(6))
            .await
            .unwrap_err()
            .is_constraint()
    );
    // An ACTIVE row is never reset by insert_pending; the batch fails as a whole.
    let r3 = a_record("r3.hq.lan", "10.0.0.3");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r3.clone()],
                ..Default::default()
            },
            t(6),
        )
        .await
        .unwrap();
    let err = store
        .insert_pending(s2, &[r3.id.as_str(), v1.id.as_str()], t(7))
        .await
        .unwrap_err();
    assert!(err.is_constraint(), "{err:?}");
    assert!(err.to_string().contains("pol-B"), "{err}");
    assert!(err.to_string().contains("remove_copy"), "{err}");
    assert_eq!(store.copies_of_site(s2).await.unwrap().len(), 1);
    // A policy deleted by hand: remove the row, then register it again.
    store.remove_copy(s2, &v1.id).await.unwrap();
    assert_eq!(store.insert_pending(s2, &[&v1.id], t(8)).await.unwrap(), 1);
    // Retrying a create keeps the existing PENDING row as it is.
    assert_eq!(store.insert_pending(s2, &[&v1.id], t(9)).await.unwrap(), 0);
    let c = &store.copies_of_site(s2).await.unwrap()[0];
    assert_eq!(
        (c.state, c.policy_id.as_deref(), c.created_at),
        (CopyState::Pending, None, t(8))
    );
}

#[tokio::test]
async fn a_policy_id_is_owned_once_per_site() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let r1 = a_record("a.hq.lan", "10.0.0.1");
    let r2 = a_record("b.hq.lan", "10.0.0.2");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r1.clone(), r2.clone()],
                add: vec![policy_origin(&r1, "p-1"), policy_origin(&r2, "p-2")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    store
        .insert_pending(s2, &[&r1.id, &r2.id], t(1))
        .await
        .unwrap();
    store
        .activate_copy(s2, &r1.id, "same", None, t(2))
        .await
        .unwrap();
    let err = store
        .activate_copy(s2, &r2.id, "same", None, t(2))
        .await
        .unwrap_err();
    assert!(err.is_constraint(), "{err:?}");
    let c = store.copies_of_site(s2).await.unwrap();
    assert_eq!(
        c[1].state,
        CopyState::Pending,
        "the failed activation changed nothing"
    );
    // The same policy id on another site is fine: ids are per site.
    store
        .activate_copy(s1, &r2.id, "same", None, t(2))
        .await
        .unwrap();
    // Repointing onto a record that already has a row on the site is refused.
    store
        .activate_copy(s2, &r2.id, "other", None, t(3))
        .await
        .unwrap();
    assert!(
        store
            .repoint_copy(s2, &r1.id, &r2.id, None, t(4))
            .await
            .unwrap_err()
            .is_constraint()
    );
}

#[tokio::test]
async fn orphan_records_go_only_without_origins_and_copies() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let kept_by_origin = a_record("origin.hq.lan", "10.0.0.1");
    let kept_by_copy = a_record("copy.hq.lan", "10.0.0.2");
    let orphan = a_record("orphan.hq.lan", "10.0.0.3");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![kept_by_origin.clone(), kept_by_copy.clone(), orphan.clone()],
                add: vec![
                    policy_origin(&kept_by_origin, "p-1"),
                    policy_origin(&kept_by_copy, "p-2"),
                    policy_origin(&orphan, "p-3"),
                ],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    store
        .insert_pending(s2, &[&kept_by_copy.id], t(1))
        .await
        .unwrap();
    store
        .set_conflicts(
            s2,
            &[NewConflict {
                record_id: orphan.id.clone(),
                reason: "shadowed".into(),
                code: None,
                detail: None,
            }],
            &[] as &[&str],
            t(1),
        )
        .await
        .unwrap();
    assert_eq!(store.remove_orphan_records().await.unwrap(), 0);

    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                remove: vec![kept_by_copy.id.clone(), orphan.id.clone()],
                ..Default::default()
            },
            t(2),
        )
        .await
        .unwrap();
    assert_eq!(store.remove_orphan_records().await.unwrap(), 1);
    assert!(store.record(&orphan.id).await.unwrap().is_none());
    assert!(
        store.open_conflicts(s2).await.unwrap().is_empty(),
        "its conflict went along"
    );
    assert!(store.record(&kept_by_copy.id).await.unwrap().is_some());
    assert!(store.record(&kept_by_origin.id).await.unwrap().is_some());

    // Once the copy is deleted, the record goes too.
    store.remove_copy(s2, &kept_by_copy.id).await.unwrap();
    assert_eq!(store.remove_orphan_records().await.unwrap(), 1);
    assert_eq!(store.records_with_origins().await.unwrap().len(), 1);
    // Nothing left to do: no write.
    let before = store.write_stats();
    assert_eq!(store.remove_orphan_records().await.unwrap(), 0);
    assert_eq!(store.write_stats(), before);
}

#[tokio::test]
async fn conflicts_open_once_and_close() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let r = a_record("nas.hq.lan", "10.0.0.1");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r.clone()],
                add: vec![policy_origin(&r, "p")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    let conflict = NewConflict {
        record_id: r.id.clone(),
        reason: "unifi-refused".into(),
        code: Some("api.dns.policy.validation.overlap-with-local-dns".into()),
        detail: Some("nas is a client name on branch".into()),
    };
    assert_eq!(
        store
            .set_conflicts(s2, std::slice::from_ref(&conflict), &[] as &[String], t(1))
            .await
            .unwrap(),
        1
    );
    // Re-opening an identical conflict writes nothing and keeps `since`.
    assert_eq!(
        store
            .set_conflicts(s2, std::slice::from_ref(&conflict), &[] as &[String], t(2))
            .await
            .unwrap(),
        0
    );
    let open = store.open_conflicts(s2).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].since, t(1));
    assert_eq!(
        open[0].code.as_deref(),
        Some("api.dns.policy.validation.overlap-with-local-dns")
    );
    assert_eq!(store.all_conflicts().await.unwrap().len(), 1);
    assert!(store.open_conflicts(s1).await.unwrap().is_empty());
    assert_eq!(
        store
            .set_conflicts(s2, &[], &[r.id.as_str()], t(3))
            .await
            .unwrap(),
        1
    );
    assert!(store.all_conflicts().await.unwrap().is_empty());
}

#[tokio::test]
async fn runs_and_interrupted_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = Store::open(&url(&path)).await.unwrap();
    let r1 = store
        .start_run(Trigger::Schedule, false, t(0))
        .await
        .unwrap();
    store
        .finish_run(r1, RunOutcome::Success, &json!({"created": 3}), None, t(5))
        .await
        .unwrap();
    let r2 = store.start_run(Trigger::Cli, true, t(10)).await.unwrap();
    assert!(r2 > r1);
    let err = store
        .finish_run(999, RunOutcome::Failed, &json!({}), Some("x"), t(1))
        .await
        .unwrap_err();
    assert!(err.is_not_found());

    let runs = store.last_runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, r2);
    assert_eq!(runs[0].outcome, None);
    assert!(runs[0].dry_run);
    assert_eq!(runs[1].counts, json!({"created": 3}));
    assert_eq!(runs[1].finished_at, Some(t(5)));
    assert_eq!(runs[1].trigger, Trigger::Schedule);
    assert_eq!(store.last_finished_run().await.unwrap().unwrap().id, r1);
    assert_eq!(
        store
            .last_run_with_outcome(RunOutcome::Success)
            .await
            .unwrap()
            .unwrap()
            .id,
        r1
    );
    assert_eq!(store.interrupted_at_open(), 0);

    // The process dies with r2 running.
    drop(store);
    let store = Store::open(&url(&path)).await.unwrap();
    assert_eq!(store.interrupted_at_open(), 1);
    let run = store.run(r2).await.unwrap().unwrap();
    assert_eq!(run.outcome, Some(RunOutcome::Interrupted));
    assert!(run.finished_at.is_some());
    assert!(run.error.unwrap().contains("stopped before"));
    assert_eq!(
        store.run(r1).await.unwrap().unwrap().outcome,
        Some(RunOutcome::Success)
    );
    assert_eq!(store.last_runs(1).await.unwrap()[0].id, r2);
}

#[tokio::test]
async fn events_survive_the_deletion_of_their_record_and_site() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let r = a_record("nas.hq.lan", "10.0.0.1");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r.clone()],
                add: vec![policy_origin(&r, "p")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    let run = store.start_run(Trigger::Manual, false, t(0)).await.unwrap();
    store.insert_pending(s2, &[&r.id], t(1)).await.unwrap();
    store
        .activate_copy(s2, &r.id, "pol", None, t(1))
        .await
        .unwrap();
    store
        .add_events(&[NewEvent::new(EventStatus::Created, t(1))
            .run(run)
            .site(s2)
            .record(&r)])
        .await
        .unwrap();

    // The record disappears at its origin, its copy is deleted, the site goes away.
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                remove: vec![r.id.clone()],
                ..Default::default()
            },
            t(2),
        )
        .await
        .unwrap();
    store.remove_copy(s2, &r.id).await.unwrap();
    store
        .add_events(&[NewEvent::new(EventStatus::Deleted, t(2))
            .run(run)
            .site(s2)
            .record(&r)])
        .await
        .unwrap();
    assert_eq!(store.remove_orphan_records().await.unwrap(), 1);
    // Only a removed site can be deleted.
    assert!(matches!(
        store.delete_site(s2).await.unwrap_err(),
        StoreError::InvalidArgument { .. }
    ));
    store
        .sync_sites("hq", &[listing("u-1", "default", "Default")], t(3))
        .await
        .unwrap();
    store.delete_site(s2).await.unwrap();
    assert!(store.site(s2).await.unwrap().is_none());
    assert!(store.record(&r.id).await.unwrap().is_none());

    let events = store.events(&EventQuery::default()).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].status, EventStatus::Deleted);
    assert_eq!(events[1].status, EventStatus::Created);
    for e in &events {
        assert_eq!(e.site_id, Some(s2));
        assert_eq!(e.site_label.as_deref(), Some("hq/branch"));
        assert_eq!(e.record_id.as_deref(), Some(r.id.as_str()));
        assert_eq!(e.rtype.as_deref(), Some("A"));
        assert_eq!(e.name.as_deref(), Some("nas.hq.lan"));
        assert_eq!(e.value.as_deref(), Some("10.0.0.1"));
        assert_eq!(e.run_id, Some(run));
    }
}

#[tokio::test]
async fn event_filters_and_paging() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let names = ["nas.hq.lan", "printer.hq.lan", "nas.branch.lan", "x_y.lab"];
    let mut batch = Vec::new();
    for i in 0..40_i64 {
        let name = names[(i % 4) as usize];
        let rec = a_record(name, &format!("10.0.0.{i}"));
        let status = if i % 5 == 0 {
            EventStatus::Skipped
        } else {
            EventStatus::Created
        };
        let mut e = NewEvent::new(status, t(i))
            .site(if i % 2 == 0 { s1 } else { s2 })
            .record(&rec);
        if status == EventStatus::Skipped {
            e = e
                .reason("threshold")
                .detail("would delete 40% of 12 copies");
        }
        batch.push(e);
    }
    assert_eq!(store.add_events(&batch).await.unwrap(), 40);
    // A site-level event without a record.
    store
        .add_events(&[NewEvent::new(EventStatus::Failed, t(100)).code("api.err.Internal")])
        .await
        .unwrap();

    let q = |f: fn(&mut EventQuery)| {
        let mut q = EventQuery {
            limit: 1000,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let all = store.events(&q(|_| {})).await.unwrap();
    assert_eq!(all.len(), 41);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all[0].status, EventStatus::Failed);
    assert_eq!(all[0].site_label, None);

    let skipped = store
        .events(&q(|q| q.status = Some(EventStatus::Skipped)))
        .await
        .unwrap();
    assert_eq!(skipped.len(), 8);
    assert!(
        skipped
            .iter()
            .all(|e| e.reason.as_deref() == Some("threshold"))
    );

    let mut by_site = EventQuery {
        limit: 1000,
        ..Default::default()
    };
    by_site.site_id = Some(s2);
    let s2_events = store.events(&by_site).await.unwrap();
    assert_eq!(s2_events.len(), 20);
    assert!(
        s2_events
            .iter()
            .all(|e| e.site_label.as_deref() == Some("hq/branch"))
    );

    let glob = |g: &str| EventQuery {
        name_glob: Some(g.to_owned()),
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(store.events(&glob("*.hq.lan")).await.unwrap().len(), 20);
    assert_eq!(store.events(&glob("NAS.*")).await.unwrap().len(), 20);
    assert_eq!(store.events(&glob("nas.hq.lan")).await.unwrap().len(), 10);
    assert_eq!(store.events(&glob("*")).await.unwrap().len(), 40);
    // `_` is literal, not a LIKE wildcard.
    assert_eq!(store.events(&glob("x_y.*")).await.unwrap().len(), 10);
    assert_eq!(store.events(&glob("xzy.*")).await.unwrap().len(), 0);

    let since = EventQuery {
        since: Some(t(30)),
        until: Some(t(40)),
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(store.events(&since).await.unwrap().len(), 10);

    let rec = a_record("printer.hq.lan", "10.0.0.1");
    let by_record = EventQuery {
        record_id: Some(rec.id.clone()),
        ..Default::default()
    };
    let found = store.events(&by_record).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].value.as_deref(), Some("10.0.0.1"));

    // Combined filters.
    let combined = EventQuery {
        site_id: Some(s1),
        status: Some(EventStatus::Created),
        name_glob: Some("nas.*".into()),
        limit: 1000,
        ..Default::default()
    };
    let found = store.events(&combined).await.unwrap();
    // i even, i % 4 in {0, 2}, i % 5 != 0
    let expected = (0..40).filter(|i| i % 2 == 0 && i % 5 != 0).count();
    assert_eq!(found.len(), expected);

    // Keyset paging walks everything exactly once.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .events(&EventQuery {
                before_id: before,
                limit: 7,
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        before = page.last().map(|e| e.id);
        seen.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(seen, all.iter().map(|e| e.id).collect::<Vec<_>>());

    // Offset paging too.
    let page2 = store
        .events(&EventQuery {
            offset: 10,
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page2.iter().map(|e| e.id).collect::<Vec<_>>(),
        all[10..20].iter().map(|e| e.id).collect::<Vec<_>>()
    );
    // A zero limit is treated as 1, never as "everything".
    assert_eq!(
        store
            .events(&EventQuery {
                limit: 0,
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn prune_removes_old_events_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, _) = seeded(&db(&dir)).await;
    let old_run = store
        .start_run(Trigger::Schedule, false, t(0))
        .await
        .unwrap();
    store
        .finish_run(old_run, RunOutcome::Success, &json!({}), None, t(1))
        .await
        .unwrap();
    let new_run = store
        .start_run(Trigger::Schedule, false, t(100))
        .await
        .unwrap();
    let events: Vec<NewEvent> = (0..10)
        .map(|i| {
            NewEvent::new(EventStatus::Created, t(i * 20))
                .site(s1)
                .run(if i < 5 { old_run } else { new_run })
        })
        .collect();
    store.add_events(&events).await.unwrap();

    let pruned = store.prune_events(t(100)).await.unwrap();
    assert_eq!(pruned.events, 5);
    assert_eq!(pruned.runs, 1);
    let left = store.events(&EventQuery::default()).await.unwrap();
    assert_eq!(left.len(), 5);
    assert!(left.iter().all(|e| e.at >= t(100)));
    assert!(store.run(old_run).await.unwrap().is_none());
    assert!(
        store.run(new_run).await.unwrap().is_some(),
        "a running run is never pruned"
    );
    assert_eq!(
        store.prune_events(t(100)).await.unwrap(),
        Default::default()
    );
}

#[tokio::test]
async fn backup_makes_an_openable_copy_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, _) = seeded(&db(&dir)).await;
    let r = a_record("nas.hq.lan", "10.0.0.1");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r.clone()],
                add: vec![policy_origin(&r, "p")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();

    let target = dir.path().join("backup.db");
    store.backup_to(&target).await.unwrap();
    let err = store.backup_to(&target).await.unwrap_err();
    assert!(matches!(err, StoreError::BackupExists { .. }), "{err:?}");
    assert!(err.to_string().contains("never overwrite"));

    // A read-only store (CLI while the daemon runs) can back up too.
    let ro = Store::open_read_only(&url(&db(&dir))).await.unwrap();
    let target2 = dir.path().join("backup2.db");
    ro.backup_to(&target2).await.unwrap();

    for t in [&target, &target2] {
        let copy = Store::open(&url(t)).await.unwrap();
        let d = copy.diagnostics().await.unwrap();
        assert_eq!(d.schema_version, 2);
        assert_eq!(copy.sites().await.unwrap().len(), 2);
        assert_eq!(copy.record(&r.id).await.unwrap().unwrap().origins.len(), 1);
    }
}

#[tokio::test]
async fn counts_summarise_records_copies_and_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, s2) = seeded(&db(&dir)).await;
    let a = a_record("a.hq.lan", "10.0.0.1");
    let cname = RecordData::new("CNAME", "www.hq.lan", "a.hq.lan", Some(0), true, json!({}));
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![a.clone(), cname.clone()],
                add: vec![policy_origin(&a, "p1"), policy_origin(&cname, "p2")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    store
        .insert_pending(s2, &[&a.id, &cname.id], t(1))
        .await
        .unwrap();
    store
        .activate_copy(s2, &a.id, "x", None, t(1))
        .await
        .unwrap();
    store
        .set_conflicts(
            s1,
            &[NewConflict {
                record_id: cname.id.clone(),
                reason: "competing-origin".into(),
                code: None,
                detail: None,
            }],
            &[] as &[&str],
            t(1),
        )
        .await
        .unwrap();
    let c = store.counts().await.unwrap();
    assert_eq!(c.records(), 2);
    assert_eq!(c.records_by_type.get("A"), Some(&1));
    assert_eq!(c.records_by_type.get("CNAME"), Some(&1));
    assert_eq!(c.origins, 2);
    let copies = c.copies_by_site.get(&s2).copied().unwrap();
    assert_eq!((copies.active, copies.pending), (1, 1));
    assert!(!c.copies_by_site.contains_key(&s1));
    assert_eq!(c.conflicts_by_site.get(&s1), Some(&1));
    assert_eq!(c.events, 0);
}

#[tokio::test]
async fn a_no_op_cycle_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let (store, s1, s2) = seeded(&path).await;
    let r = a_record("nas.hq.lan", "10.0.0.1");
    store
        .apply_origin_changes(
            s1,
            &OriginChanges {
                upsert_records: vec![r.clone()],
                add: vec![policy_origin(&r, "p")],
                ..Default::default()
            },
            t(0),
        )
        .await
        .unwrap();
    store.insert_pending(s2, &[&r.id], t(0)).await.unwrap();
    store
        .activate_copy(s2, &r.id, "pol", None, t(0))
        .await
        .unwrap();
    store.set_withheld_deletes(s1, 0).await.unwrap();

    let stats = store.write_stats();
    let changes = store.diagnostics().await.unwrap().writer_total_changes;
    let wal = std::fs::metadata(dir.path().join("dns_sync.db-wal"))
        .map(|m| m.len())
        .ok();

    // What an engine does in a cycle where nothing changed (apart from its run/read
    // bookkeeping, which is not part of this check): read everything, diff, pass no changes.
    store.upsert_controller(&controller("hq")).await.unwrap();
    let sites = store
        .sync_sites(
            "hq",
            &[
                listing("u-1", "default", "Default"),
                listing("u-2", "branch", "Branch"),
            ],
            t(60),
        )
        .await
        .unwrap();
    assert_eq!(sites.len(), 2);
    for site in &sites {
        store.origins_of_site(site.id).await.unwrap();
        store.copies_of_site(site.id).await.unwrap();
        store.open_conflicts(site.id).await.unwrap();
        store
            .apply_origin_changes(site.id, &OriginChanges::default(), t(60))
            .await
            .unwrap();
        store
            .set_conflicts(site.id, &[], &[] as &[&str], t(60))
            .await
            .unwrap();
        store
            .insert_pending(site.id, &[] as &[&str], t(60))
            .await
            .unwrap();
        store
            .mark_verified(site.id, &[] as &[&str], t(60))
            .await
            .unwrap();
        store.set_withheld_deletes(site.id, 0).await.unwrap();
    }
    store.records_with_origins().await.unwrap();
    store.all_copies().await.unwrap();
    store.remove_orphan_records().await.unwrap();
    store.add_events(&[]).await.unwrap();
    store.counts().await.unwrap();
    store.events(&EventQuery::default()).await.unwrap();
    store.last_runs(5).await.unwrap();

    assert_eq!(store.write_stats(), stats);
    assert_eq!(
        store.diagnostics().await.unwrap().writer_total_changes,
        changes
    );
    let wal_after = std::fs::metadata(dir.path().join("dns_sync.db-wal"))
        .map(|m| m.len())
        .ok();
    assert_eq!(wal, wal_after, "the WAL did not grow");

    // And the counter does move on a real write.
    store.set_withheld_deletes(s1, 3).await.unwrap();
    let after = store.write_stats();
    assert_eq!(after.transactions, stats.transactions + 1);
    assert_eq!(after.rows, stats.rows + 1);
}

#[tokio::test]
async fn concurrent_writers_through_clones_are_serialised_without_busy_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (store, s1, _) = seeded(&db(&dir)).await;
    let ro = Store::open_read_only(&url(&db(&dir))).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16_i64 {
        let store = store.clone();
        let ro = ro.clone();
        tasks.push(tokio::spawn(async move {
            let run = store.start_run(Trigger::Manual, false, t(i)).await?;
            let events: Vec<NewEvent> = (0..25)
                .map(|j| {
                    NewEvent::new(EventStatus::Created, t(i * 100 + j))
                        .run(run)
                        .site(s1)
                })
                .collect();
            store.add_events(&events).await?;
            ro.events(&EventQuery::default()).await?;
            store
                .finish_run(run, RunOutcome::Success, &json!({"i": i}), None, t(i + 1))
                .await?;
            Ok::<_, StoreError>(())
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(store.counts().await.unwrap().events, 16 * 25);
    assert_eq!(store.last_runs(100).await.unwrap().len(), 16);
    assert_eq!(store.write_stats().transactions, 16 * 3 + 2);
}

/// Environment variable naming the database the child process probes.
const PROBE_ENV: &str = "UNIFI_DNS_SYNC_STORE_LOCK_PROBE_DB";

/// The child process of `a_second_process_is_refused`: without the variable (a normal test run)
/// it has nothing to probe and returns at once.
#[tokio::test]
async fn lock_probe_child() {
    let Ok(path) = std::env::var(PROBE_ENV) else {
        return;
    };
    let err = Store::open(&path).await.unwrap_err();
    assert!(err.is_locked(), "{err:?}");
    assert!(err.to_string().contains("another unifi-dns-sync"), "{err}");
    let ro = Store::open_read_only(&path).await.unwrap();
    assert_eq!(ro.sites().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_second_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let (store, _, _) = seeded(&path).await;
    let probe = url(&path);
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "lock_probe_child", "--test-threads=1"])
            .env(PROBE_ENV, probe)
            .status()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        status.success(),
        "the child process could open the locked database"
    );
    drop(store);
}
