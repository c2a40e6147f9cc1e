//! Webhooks (API-8): who receives which event, which URLs are accepted, and
//! when a failed delivery is tried again. No I/O: addresses, instants and the
//! random jitter come in as arguments.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use uuid::Uuid;

use crate::Role;
use crate::codes;
use crate::error::Refusal;

/// The rule of every webhook decision.
pub const RULE: &str = "API-8";

/// The subscriber of a webhook: the owner's role and organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscriber {
    /// The owner's role when the subscription was created.
    pub role: Role,
    /// The owner's organisation (a reviewer's company, a provider's organisation).
    pub organisation: Option<Uuid>,
}

/// What the fan-out knows of an event: its kind, the entity type and the
/// organisation the entity belongs to (the outbox row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFacts<'a> {
    /// The kind, e.g. `refund.paid`.
    pub kind: &'a str,
    /// The entity type, e.g. `refund`.
    pub entity_type: &'a str,
    /// The entity's organisation, if any.
    pub organisation: Option<Uuid>,
}

/// The entity types of continuing education: what the authority receives,
/// and (for its own organisation) a provider.
pub const CE_ENTITIES: &[&str] = &["ce_activity", "ce_credit", "ce_provider", "ce_requirement"];

/// Whether `role` may subscribe to webhooks at all (403 otherwise).
pub fn may_subscribe(role: Role) -> bool {
    crate::roles::WEBHOOK_SUBSCRIBERS.contains(&role)
}

/// API-8, ACC-2: whether `subscriber` receives `event`.
///
/// - association admins receive every event;
/// - an organisation's reviewer receives the events about its own
///   organisation's entities only (ACC-2);
/// - a CE provider receives the events about its own CE activities and
///   credits (and its own provider record): CE entities of its organisation;
/// - the authority receives the CE events ([`CE_ENTITIES`]);
/// - nobody else receives anything (they cannot subscribe either).
///
/// An event without an organisation reaches only admins and, when it is
/// about continuing education, the authority.
pub fn receives(subscriber: &Subscriber, event: &EventFacts<'_>) -> bool {
    let ce = CE_ENTITIES.contains(&event.entity_type);
    let own = subscriber.organisation.is_some() && event.organisation == subscriber.organisation;
    match subscriber.role {
        Role::Admin => true,
        Role::OrgReviewer => own,
        Role::Provider => own && ce,
        Role::Authority => ce,
        _ => false,
    }
}

/// Whether an event of kind `kind` is wanted by a subscription listing
/// `wanted` (`*` wants every kind).
pub fn wants(wanted: &[String], kind: &str) -> bool {
    wanted.iter().any(|w| w == "*" || w == kind)
}

/// A webhook URL, taken apart as far as the policy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    /// `true` for `https`.
    pub https: bool,
    /// The host name or address (without brackets for IPv6).
    pub host: String,
    /// The port, explicit or the scheme's.
    pub port: u16,
}

fn invalid(detail: impl Into<String>) -> Refusal {
    Refusal::new(codes::WEBHOOK_URL_INVALID, Some(RULE), detail)
}

/// Parses `url` (`http(s)://host[:port][/path][?query]`, no user info, no fragment).
pub fn parse_url(url: &str) -> Result<WebhookUrl, Refusal> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(invalid("the URL must start with https://"));
    };
    if url.len() > 2000 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("the URL is too long or holds blanks"));
    }
    if url.contains('#') {
        return Err(invalid("the URL must not have a fragment"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(invalid("the URL must not carry user information"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| invalid("unclosed IPv6 address"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("the URL has no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| invalid("the port is not a number from 1 to 65535"))?,
        None if https => 443,
        None => 80,
    };
    Ok(WebhookUrl {
        https,
        host: host.to_ascii_lowercase(),
        port,
    })
}

/// Whether an address is one a webhook must not reach (SSRF): loopback,
/// private, link-local, unique-local, unspecified, broadcast, documentation,
/// shared (CGNAT) or multicast, including IPv4 mapped into IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_v4(v4);
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link local fe80::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
        }
    }
}

fn internal_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64/10
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

/// API-8: checks a subscription URL when it is saved. HTTPS is required and
/// the host must not be a loopback or private address (nor `localhost`),
/// unless `allow_private` (development and tests). The address a name
/// resolves to is checked again at every send ([`check_addresses`]).
pub fn check_url(url: &str, allow_private: bool) -> Result<WebhookUrl, Refusal> {
    let parsed = parse_url(url)?;
    if allow_private {
        return Ok(parsed);
    }
    if !parsed.https {
        return Err(Refusal::new(
            codes::WEBHOOK_URL_NOT_HTTPS,
            Some(RULE),
            "webhook URLs must use https",
        ));
    }
    let host = parsed.host.trim_end_matches('.');
    let internal_name = host == "localhost" || host.ends_with(".localhost");
    if internal_name || host.parse::<IpAddr>().is_ok_and(is_internal) {
        return Err(private(host));
    }
    Ok(parsed)
}

fn private(host: &str) -> Refusal {
    Refusal::new(
        codes::WEBHOOK_URL_PRIVATE,
        Some(RULE),
        format!("{host} is a loopback or private address: webhooks only reach public hosts"),
    )
}

/// API-8 (SSRF): the first address of those a host resolved to, if every one
/// is public (or `allow_private`). A host that also resolves to an internal
/// address is refused as a whole, so a DNS answer cannot reach inside.
pub fn check_addresses(
    host: &str,
    addresses: &[IpAddr],
    allow_private: bool,
) -> Result<IpAddr, Refusal> {
    let first = *addresses
        .first()
        .ok_or_else(|| invalid(format!("{host} does not resolve")))?;
    if !allow_private && addresses.iter().copied().any(is_internal) {
        return Err(private(host));
    }
    Ok(first)
}

/// The default retry delays (API-8): after the first attempt fails, the
/// delivery is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h and
/// 20 h, each counted from the attempt before it.
///
/// Choice where the issue was silent: the first attempt is immediate and the
/// eight delays are the eight *retries*, so a delivery is tried at most nine
/// times (the Standard Webhooks schedule also starts "immediately").
pub const DEFAULT_RETRY_SCHEDULE: &[u64] = &[
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
];

/// The default jitter: each delay is moved by up to ±10 %.
pub const DEFAULT_JITTER: f64 = 0.1;

/// API-8: the delay before the next attempt after `attempts` attempts failed
/// (1 after the first), or `None` when the schedule is used up (the delivery
/// has failed). `random` in `[0, 1)` spreads the delay by `±jitter`.
pub fn retry_delay(schedule: &[u64], attempts: u32, jitter: f64, random: f64) -> Option<Duration> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let base = *schedule.get(index)?;
    let spread = jitter.clamp(0.0, 1.0) * (random.clamp(0.0, 1.0) * 2.0 - 1.0);
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let millis = ((base as f64) * 1000.0 * (1.0 + spread)).max(0.0) as u64;
    Some(Duration::from_millis(millis))
}

/// API-8: a subscription whose deliveries have all failed for this long is
/// disabled, and its owner told.
pub const DISABLE_AFTER: chrono::TimeDelta = chrono::TimeDelta::days(5);

/// API-8: how long the key replaced by a rotation keeps signing.
pub const ROTATION_OVERLAP: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The notice an owner gets when their subscription is disabled.
pub fn disabled_notice(url: &str) -> (String, String) {
    (
        "Webhook disabled".to_owned(),
        format!(
            "Every delivery to {url} has failed for 5 days, so the subscription was disabled. \
             Fix the receiver and enable it again."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(n: u128) -> Option<Uuid> {
        Some(Uuid::from_u128(n))
    }

    #[test]
    fn who_receives_what_by_role() {
        // rule API-8, ACC-2: the subscriber policy, one row per role
        let own = org(1);
        let other = org(2);
        let enrolment_own = EventFacts {
            kind: "enrolment.confirmed",
            entity_type: "enrolment",
            organisation: own,
        };
        let enrolment_other = EventFacts {
            organisation: other,
            ..enrolment_own
        };
        let ce_own = EventFacts {
            kind: "ce_activity.registered",
            entity_type: "ce_activity",
            organisation: own,
        };
        let ce_other = EventFacts {
            organisation: other,
            ..ce_own
        };
        let association = EventFacts {
            kind: "class.created",
            entity_type: "class",
            organisation: None,
        };
        // (role, may subscribe, [enrolment own, enrolment other, ce own, ce other, association])
        let table: &[(Role, bool, [bool; 5])] = &[
            (Role::Admin, true, [true, true, true, true, true]),
            (Role::OrgReviewer, true, [true, false, true, false, false]),
            (Role::Provider, true, [false, false, true, false, false]),
            (Role::Authority, true, [false, false, true, true, false]),
            (Role::OrgFiller, false, [false; 5]),
            (Role::TrainingOfficer, false, [false; 5]),
            (Role::TrainingHead, false, [false; 5]),
            (Role::Finance, false, [false; 5]),
            (Role::Leader, false, [false; 5]),
            (Role::Teacher, false, [false; 5]),
            (Role::Trainee, false, [false; 5]),
        ];
        assert_eq!(table.len(), Role::ALL.len(), "every role has a row");
        for (role, subscribes, expected) in table {
            assert_eq!(may_subscribe(*role), *subscribes, "{role:?} subscribes");
            let s = Subscriber {
                role: *role,
                organisation: own,
            };
            let events = [
                enrolment_own,
                enrolment_other,
                ce_own,
                ce_other,
                association,
            ];
            for (event, want) in events.iter().zip(expected) {
                assert_eq!(receives(&s, event), *want, "{role:?} {event:?}");
            }
        }
    }

    #[test]
    fn an_organisation_account_without_organisation_receives_nothing() {
        // rule ACC-2: a missing fact grants nothing
        let s = Subscriber {
            role: Role::OrgReviewer,
            organisation: None,
        };
        let e = EventFacts {
            kind: "class.created",
            entity_type: "class",
            organisation: None,
        };
        assert!(!receives(&s, &e));
    }

    #[test]
    fn a_star_wants_every_kind() {
        // rule API-8
        assert!(wants(&["*".to_owned()], "refund.paid"));
        assert!(wants(&["refund.paid".to_owned()], "refund.paid"));
        assert!(!wants(&["refund.filed".to_owned()], "refund.paid"));
    }

    #[test]
    fn urls_must_be_https_and_public() {
        // rule API-8: HTTPS and no internal address unless allowed
        let ok = check_url("https://hooks.example.com/in?x=1", false).unwrap();
        assert_eq!(
            (ok.https, ok.host.as_str(), ok.port),
            (true, "hooks.example.com", 443)
        );
        assert_eq!(
            check_url("https://example.com:8443", false).unwrap().port,
            8443
        );
        let code = |u: &str| check_url(u, false).unwrap_err().code;
        assert_eq!(code("http://example.com/"), codes::WEBHOOK_URL_NOT_HTTPS);
        for internal in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://172.16.0.1/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://localhost/",
            "https://a.localhost/",
            "https://100.64.0.1/",
        ] {
            assert_eq!(code(internal), codes::WEBHOOK_URL_PRIVATE, "{internal}");
        }
        for bad in [
            "ftp://example.com",
            "https://",
            "https://user@example.com/",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://exa mple.com/",
            "https://example.com/#frag",
            "https://[::1/",
        ] {
            assert_eq!(code(bad), codes::WEBHOOK_URL_INVALID, "{bad}");
        }
        // With the development flag, plain HTTP and loopback are accepted.
        let dev = check_url("http://127.0.0.1:9000/hook", true).unwrap();
        assert_eq!((dev.https, dev.port), (false, 9000));
    }

    #[test]
    fn resolved_addresses_are_checked_at_send_time() {
        // rule API-8 (SSRF): a name resolving inside is refused
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let inside: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(check_addresses("h", &[public], false).unwrap(), public);
        assert_eq!(
            check_addresses("h", &[public, inside], false)
                .unwrap_err()
                .code,
            codes::WEBHOOK_URL_PRIVATE
        );
        assert_eq!(check_addresses("h", &[inside], true).unwrap(), inside);
        assert_eq!(
            check_addresses("h", &[], true).unwrap_err().code,
            codes::WEBHOOK_URL_INVALID
        );
        assert!(!is_internal("2606:4700::1111".parse().unwrap()));
    }

    #[test]
    fn retries_follow_the_schedule_then_give_up() {
        // rule API-8: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, then failed
        let s = DEFAULT_RETRY_SCHEDULE;
        let secs = |n| retry_delay(s, n, 0.0, 0.5).map(|d| d.as_secs());
        assert_eq!(secs(0), None, "no delay before the first attempt");
        assert_eq!(secs(1), Some(5));
        assert_eq!(secs(2), Some(300));
        assert_eq!(secs(3), Some(1800));
        assert_eq!(secs(8), Some(20 * 3600));
        assert_eq!(secs(9), None, "after the ninth attempt the delivery failed");
        let total: u64 = s.iter().sum();
        assert!(total > 24 * 3600 && total < 60 * 3600);
    }

    #[test]
    fn jitter_spreads_the_delay_within_its_bounds() {
        // rule API-8: jitter of ±10 % by default, none when set to 0
        let s = &[100];
        let at = |r| retry_delay(s, 1, DEFAULT_JITTER, r).unwrap().as_millis();
        assert_eq!(at(0.0), 90_000);
        assert_eq!(at(0.5), 100_000);
        assert!(at(0.999) <= 110_000 && at(0.999) > 109_000);
        assert_eq!(retry_delay(s, 1, 0.0, 0.9).unwrap().as_millis(), 100_000);
    }
}
