//! Conversions between the API's DNS policies ([`unifi_client::DnsPolicy`]) and canonical
//! [`Record`]s (SPEC §2), in both directions.
//!
//! Reading canonicalises (lower-cased domains without a trailing dot, canonical addresses, SRV
//! owner `_service._proto.domain`, MX/SRV values as `priority … target`); writing splits the
//! canonical form back into the request schema's fields. A policy that cannot be canonicalised
//! (an address the console accepted but we cannot parse) is reported, never guessed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use unifi_client::{DnsPolicy, DnsPolicyBody, PolicyData};

use crate::record::{Record, canonical_domain};
use crate::record_type::RecordType;

/// The canonical record a live policy holds.
pub fn record_of(policy: &DnsPolicy) -> Result<Record, String> {
    let domain = canonical_domain(&policy.domain);
    let (rtype, name, value, ttl) = match &policy.data {
        PolicyData::A {
            ipv4_address,
            ttl_seconds,
        } => {
            let ip: Ipv4Addr = ipv4_address
                .trim()
                .parse()
                .map_err(|_| format!("ipv4Address {ipv4_address:?} is not an IPv4 address"))?;
            (RecordType::A, domain, ip.to_string(), Some(*ttl_seconds))
        }
        PolicyData::Aaaa {
            ipv6_address,
            ttl_seconds,
        } => {
            let ip: Ipv6Addr = ipv6_address
                .trim()
                .parse()
                .map_err(|_| format!("ipv6Address {ipv6_address:?} is not an IPv6 address"))?;
            (RecordType::Aaaa, domain, ip.to_string(), Some(*ttl_seconds))
        }
        PolicyData::Cname {
            target_domain,
            ttl_seconds,
        } => (
            RecordType::Cname,
            domain,
            canonical_domain(target_domain),
            Some(*ttl_seconds),
        ),
        PolicyData::Mx {
            mail_server_domain,
            priority,
        } => (
            RecordType::Mx,
            domain,
            format!("{priority} {}", canonical_domain(mail_server_domain)),
            None,
        ),
        PolicyData::Txt { text } => (RecordType::Txt, domain, text.clone(), None),
        PolicyData::Srv {
            server_domain,
            service,
            protocol,
            port,
            priority,
            weight,
        } => {
            let name = format!(
                "{}.{}.{domain}",
                service.trim().to_ascii_lowercase(),
                protocol.trim().to_ascii_lowercase()
            );
            (
                RecordType::Srv,
                name,
                format!(
                    "{priority} {weight} {port} {}",
                    canonical_domain(server_domain)
                ),
                None,
            )
        }
        PolicyData::ForwardDomain { ip_address } => {
            let ip: IpAddr = ip_address
                .trim()
                .parse()
                .map_err(|_| format!("ipAddress {ip_address:?} is not an IP address"))?;
            (RecordType::ForwardDomain, domain, ip.to_string(), None)
        }
        PolicyData::Other { type_name, .. } => {
            return Err(format!(
                "policy type {type_name} is not one this version knows"
            ));
        }
    };
    if name.is_empty() {
        return Err("the policy has an empty domain".into());
    }
    Ok(Record {
        rtype,
        name,
        value,
        ttl,
        enabled: policy.enabled,
    })
}

/// The request body that creates (or PUTs) a policy holding `record`.
pub fn body_of(record: &Record) -> Result<DnsPolicyBody, String> {
    let ttl = record.ttl.unwrap_or(0);
    let bad = |what: &str| format!("{record}: {what}");
    let (domain, data) = match record.rtype {
        RecordType::A => (
            record.name.clone(),
            PolicyData::A {
                ipv4_address: record.value.clone(),
                ttl_seconds: ttl,
            },
        ),
        RecordType::Aaaa => (
            record.name.clone(),
            PolicyData::Aaaa {
                ipv6_address: record.value.clone(),
                ttl_seconds: ttl,
            },
        ),
        RecordType::Cname => (
            record.name.clone(),
            PolicyData::Cname {
                target_domain: record.value.clone(),
                ttl_seconds: ttl,
            },
        ),
        RecordType::Mx => {
            let (priority, server) = record
                .value
                .split_once(' ')
                .ok_or_else(|| bad("MX value is not `priority server`"))?;
            let priority = priority
                .parse()
                .map_err(|_| bad("MX priority is not a number"))?;
            (
                record.name.clone(),
                PolicyData::Mx {
                    mail_server_domain: server.to_owned(),
                    priority,
                },
            )
        }
        RecordType::Txt => (
            record.name.clone(),
            PolicyData::Txt {
                text: record.value.clone(),
            },
        ),
        RecordType::Srv => {
            let mut labels = record.name.splitn(3, '.');
            let (Some(service), Some(protocol), Some(domain)) =
                (labels.next(), labels.next(), labels.next())
            else {
                return Err(bad("SRV name is not `_service._proto.domain`"));
            };
            let parts: Vec<&str> = record.value.split(' ').collect();
            let [priority, weight, port, server] = parts.as_slice() else {
                return Err(bad("SRV value is not `priority weight port server`"));
            };
            let number = |s: &str| {
                s.parse()
                    .map_err(|_| bad("SRV priority, weight and port must be numbers"))
            };
            (
                domain.to_owned(),
                PolicyData::Srv {
                    server_domain: (*server).to_owned(),
                    service: service.to_owned(),
                    protocol: protocol.to_owned(),
                    port: number(port)?,
                    priority: number(priority)?,
                    weight: number(weight)?,
                },
            )
        }
        RecordType::ForwardDomain => (
            record.name.clone(),
            PolicyData::ForwardDomain {
                ip_address: record.value.clone(),
            },
        ),
    };
    Ok(DnsPolicyBody {
        enabled: record.enabled,
        domain,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(domain: &str, data: PolicyData) -> DnsPolicy {
        DnsPolicy {
            id: "0ce73be5-f734-4b24-aac2-d91dbe88202d".into(),
            enabled: true,
            domain: domain.into(),
            data,
            origin: Some("USER_DEFINED".into()),
        }
    }

    #[test]
    fn every_type_round_trips_through_the_canonical_form() {
        let cases = vec![
            policy(
                "NAS.Example.com.",
                PolicyData::A {
                    ipv4_address: "10.0.0.1".into(),
                    ttl_seconds: 0,
                },
            ),
            policy(
                "nas.example.com",
                PolicyData::Aaaa {
                    ipv6_address: "FD00:0:0::1".into(),
                    ttl_seconds: 300,
                },
            ),
            policy(
                "www.example.com",
                PolicyData::Cname {
                    target_domain: "Web.Example.com.".into(),
                    ttl_seconds: 60,
                },
            ),
            policy(
                "example.com",
                PolicyData::Mx {
                    mail_server_domain: "mail.example.com".into(),
                    priority: 10,
                },
            ),
            policy(
                "example.com",
                PolicyData::Txt {
                    text: "\"v=spf1 a,mx -all\"".into(),
                },
            ),
            policy(
                "example.com",
                PolicyData::Srv {
                    server_domain: "sip.example.com".into(),
                    service: "_sip".into(),
                    protocol: "_tcp".into(),
                    port: 5060,
                    priority: 10,
                    weight: 5,
                },
            ),
            policy(
                "corp.example",
                PolicyData::ForwardDomain {
                    ip_address: "2001:db8::53".into(),
                },
            ),
        ];
        for p in cases {
            let r = record_of(&p).unwrap();
            let body = body_of(&r).unwrap();
            let again = record_of(&DnsPolicy {
                id: p.id.clone(),
                enabled: body.enabled,
                domain: body.domain.clone(),
                data: body.data.clone(),
                origin: None,
            })
            .unwrap();
            assert_eq!(r, again, "{p:?}");
        }
    }

    #[test]
    fn canonical_values() {
        let r = record_of(&policy(
            "NAS.Example.com.",
            PolicyData::Aaaa {
                ipv6_address: "FD00:0:0::1".into(),
                ttl_seconds: 300,
            },
        ))
        .unwrap();
        assert_eq!(
            (r.name.as_str(), r.value.as_str(), r.ttl),
            ("nas.example.com", "fd00::1", Some(300))
        );
        let srv = record_of(&policy(
            "Example.com",
            PolicyData::Srv {
                server_domain: "SIP.example.com.".into(),
                service: "_SIP".into(),
                protocol: "_tcp".into(),
                port: 5060,
                priority: 10,
                weight: 5,
            },
        ))
        .unwrap();
        assert_eq!(
            (srv.name.as_str(), srv.value.as_str()),
            ("_sip._tcp.example.com", "10 5 5060 sip.example.com")
        );
        assert_eq!(srv.ttl, None);
        let txt = record_of(&policy(
            "t.example",
            PolicyData::Txt {
                text: "Case Kept".into(),
            },
        ))
        .unwrap();
        assert_eq!(txt.value, "Case Kept");
        assert!(
            record_of(&policy(
                "x.example",
                PolicyData::A {
                    ipv4_address: "nope".into(),
                    ttl_seconds: 0
                }
            ))
            .is_err()
        );
    }
}
