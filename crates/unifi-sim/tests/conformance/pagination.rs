//! The pagination envelope on all three list endpoints: defaults, bounds, refusals, key order,
//! and reading every item exactly once by offset.

use std::collections::HashSet;

use serde_json::json;
use unifi_sim::{ClientSpec, ConsoleSpec, DEFAULT_SITE_UUID, Scenario, SiteSpec};

use crate::support::*;

/// A console whose default site has `n` policies and `n` clients, plus `extra_sites` more sites
/// (so the site list has `extra_sites + 1` items).
async fn seeded(n: usize, extra_sites: usize) -> (TestSim, Api) {
    let mut site = SiteSpec::new("default");
    for i in 0..n {
        site = site
            .policy(a_record(&format!("host{i:03}.example.com"), "10.0.0.1", 60))
            .client(ClientSpec::wired(
                &format!("client-{i:03}"),
                &format!("aa:bb:cc:dd:{:02x}:{:02x}", i / 256, i % 256),
                "10.0.1.1",
            ));
    }
    let mut console = ConsoleSpec::new("hq", HQ_KEY).site(site);
    for i in 0..extra_sites {
        console = console.site(SiteSpec::new(&format!("site-{i:03}")));
    }
    let sim = TestSim::start(Scenario::new().console(console)).await;
    let api = sim.api("hq");
    (sim, api)
}

/// The three list paths of the seeded console.
fn lists() -> [String; 3] {
    [
        sites(),
        policies(DEFAULT_SITE_UUID),
        clients(DEFAULT_SITE_UUID),
    ]
}

fn with_query(path: &str, query: &str) -> String {
    format!("{path}?{query}")
}

#[tokio::test]
async fn the_default_page_is_25_items_with_the_envelope_in_order() {
    let (_sim, api) = seeded(60, 59).await;
    for path in lists() {
        let resp = api.get(&path).await;
        let page = resp.expect(200);
        assert_eq!(
            resp.keys(),
            ["offset", "limit", "count", "totalCount", "data"],
            "{path}"
        );
        assert_eq!(
            (
                &page["offset"],
                &page["limit"],
                &page["count"],
                &page["totalCount"]
            ),
            (&json!(0), &json!(25), &json!(25), &json!(60)),
            "{path}"
        );
        assert_eq!(page["data"].as_array().expect("data").len(), 25);
    }
}

#[tokio::test]
async fn limit_200_returns_200_of_250_and_the_rest_on_the_next_page() {
    let (_sim, api) = seeded(250, 249).await;
    for path in lists() {
        let page = api.get(&with_query(&path, "limit=200")).await.expect(200);
        assert_eq!(
            (&page["limit"], &page["count"], &page["totalCount"]),
            (&json!(200), &json!(200), &json!(250)),
            "{path}"
        );
        let rest = api
            .get(&with_query(&path, "offset=200&limit=200"))
            .await
            .expect(200);
        assert_eq!(
            (&rest["offset"], &rest["count"], &rest["totalCount"]),
            (&json!(200), &json!(50), &json!(250)),
            "{path}"
        );
        assert_eq!(rest["data"].as_array().expect("data").len(), 50);
    }
}

#[tokio::test]
async fn an_offset_past_the_end_is_an_empty_page() {
    let (_sim, api) = seeded(30, 29).await;
    for path in lists() {
        for offset in [30, 31, 1000] {
            let page = api
                .get(&with_query(&path, &format!("offset={offset}")))
                .await
                .expect(200);
            assert_eq!(
                page,
                json!({"offset": offset, "limit": 25, "count": 0, "totalCount": 30, "data": []}),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn limit_zero_counts_without_items() {
    let (_sim, api) = seeded(12, 11).await;
    for path in lists() {
        let page = api.get(&with_query(&path, "limit=0")).await.expect(200);
        assert_eq!(
            page,
            json!({"offset": 0, "limit": 0, "count": 0, "totalCount": 12, "data": []}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn out_of_range_and_non_numeric_parameters_are_400() {
    let (_sim, api) = seeded(3, 0).await;
    let cases = [
        ("limit=201", "limit must be less than or equal to 200"),
        ("limit=100000", "limit must be less than or equal to 200"),
        ("limit=-1", "limit must be greater than or equal to 0"),
        ("offset=-1", "offset must be greater than or equal to 0"),
        (
            "limit=abc",
            "Invalid value 'abc' for query parameter 'limit': expected an integer",
        ),
        (
            "offset=1.5",
            "Invalid value '1.5' for query parameter 'offset': expected an integer",
        ),
        (
            "limit=",
            "Invalid value '' for query parameter 'limit': expected an integer",
        ),
        (
            "offset=99999999999",
            "Invalid value '99999999999' for query parameter 'offset': expected an integer",
        ),
    ];
    for path in lists() {
        for (query, message) in cases {
            api.get(&with_query(&path, query)).await.expect_error(
                400,
                "api.request.error",
                message,
            );
        }
        // The largest limit is fine.
        api.get(&with_query(&path, "limit=200")).await.expect(200);
    }
}

#[tokio::test]
async fn reading_every_page_by_offset_yields_each_item_exactly_once() {
    let (_sim, api) = seeded(60, 59).await;
    for path in lists() {
        for limit in [7, 25, 200] {
            let items = api.read_all(&path, limit).await;
            assert_eq!(items.len(), 60, "{path} limit {limit}");
            let ids: HashSet<&str> = items
                .iter()
                .map(|i| i["id"].as_str().expect("id"))
                .collect();
            assert_eq!(ids.len(), 60, "{path} limit {limit}: no item twice");
        }
        // Pages are stable: the same page twice is the same.
        let query = with_query(&path, "offset=10&limit=10");
        assert_eq!(
            api.get(&query).await.expect(200),
            api.get(&query).await.expect(200)
        );
    }
}

#[tokio::test]
async fn more_than_200_sites_paginate() {
    let (_sim, api) = seeded(0, 214).await;
    let first = api.get("/v1/sites?limit=200").await.expect(200);
    assert_eq!(
        (&first["count"], &first["totalCount"]),
        (&json!(200), &json!(215))
    );
    let rest = api.get("/v1/sites?offset=200&limit=200").await.expect(200);
    assert_eq!(rest["count"], 15);
    let all = api.read_all("/v1/sites", 200).await;
    let references: HashSet<&str> = all
        .iter()
        .map(|s| s["internalReference"].as_str().expect("reference"))
        .collect();
    assert_eq!(references.len(), 215);
    assert!(references.contains("default") && references.contains("site-213"));
}

#[tokio::test]
async fn new_policies_appear_in_the_page_totals() {
    let (_sim, api) = seeded(25, 0).await;
    let site = DEFAULT_SITE_UUID;
    assert_eq!(api.get(&policies(site)).await.expect(200)["count"], 25);
    let created = api
        .create(site, &a_record("new.example.com", "10.0.0.2", 0))
        .await;
    let page = api.get(&policies(site)).await.expect(200);
    assert_eq!(
        (&page["count"], &page["totalCount"]),
        (&json!(25), &json!(26))
    );
    let last = api
        .get(&format!("{}?offset=25", policies(site)))
        .await
        .expect(200);
    assert_eq!(last["data"], json!([created]));
}
