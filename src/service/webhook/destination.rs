//! Where webhooks may go. A partner's URL must not reach the server's own network: addresses
//! that are loopback, private, link-local (cloud metadata services live there), shared,
//! unspecified, multicast or reserved are refused unless the server's settings allow them. The
//! rule is applied to the URL as given, to every address its name resolves to when a delivery
//! connects (so a name that later resolves elsewhere cannot slip through), and to every
//! redirect.
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::error::{AppError, AppResult, code};

/// Which otherwise refused destinations the server's settings allow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// 127.0.0.0/8 and ::1 (tests, a receiver on the same machine).
    pub loopback: bool,
    /// Private, shared, link-local and unique-local networks (a receiver inside the network).
    pub private: bool,
}

/// What kind of address `ip` is, for the rule above; `None` for a public one.
pub fn restricted(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => restricted_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => restricted_v4(v4),
            None => restricted_v6(v6),
        },
    }
}

fn restricted_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if ip.is_unspecified()
        || a == 0
        || ip.is_broadcast()
        || ip.is_multicast()
        || a >= 240
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0)
    {
        Some("reserved")
    } else {
        None
    }
}

fn restricted_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("loopback")
    } else if first & 0xfe00 == 0xfc00 {
        Some("private")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if ip.is_unspecified() || ip.is_multicast() || first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("reserved")
    } else if first == 0x0064 && ip.segments()[1] == 0xff9b {
        // NAT64 addresses embed an IPv4 address: judge that one.
        let [.., c, d] = ip.segments();
        restricted_v4(Ipv4Addr::from(((c as u32) << 16) | d as u32))
    } else {
        None
    }
}

impl Allowed {
    /// Whether a delivery may connect to `ip`.
    pub fn permits(self, ip: IpAddr) -> bool {
        match restricted(ip) {
            None => true,
            Some("loopback") => self.loopback || self.private,
            Some("private" | "link-local") => self.private,
            Some(_) => false,
        }
    }
}

fn refused(field: &str, why: String) -> AppError {
    AppError::refused(code::DESTINATION_NOT_ALLOWED, Some(field), why)
}

/// Checks an endpoint's URL as given: http(s), a host, no credentials, and a literal address
/// (or `localhost`) only where allowed. `https_only` in production.
pub fn check_url(text: &str, allowed: Allowed, https_only: bool, field: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > 2000 {
        return Err(AppError::bad_input(field, "give a URL of at most 2,000 characters"));
    }
    let url = reqwest::Url::parse(text).map_err(|_| AppError::bad_input(field, "is not a valid URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if !https_only => {}
        "http" => return Err(AppError::bad_input(field, "must be an https URL")),
        _ => return Err(AppError::bad_input(field, "must be an http or https URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AppError::bad_input(field, "must not carry a user name or password"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| AppError::bad_input(field, "must name a host"))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        if !allowed.permits(ip) {
            return Err(refused(
                field,
                format!(
                    "{ip} is a {} address: webhooks may not go there",
                    restricted(ip).unwrap_or("restricted")
                ),
            ));
        }
    } else if (host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost"))
        && !allowed.loopback
        && !allowed.private
    {
        return Err(refused(
            field,
            format!("{host} is this machine: webhooks may not go there"),
        ));
    }
    Ok(url.to_string())
}

/// Resolves names like the system does, keeping only addresses a delivery may connect to.
struct Guarded(Allowed);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.iter().copied().filter(|a| allowed.permits(a.ip())).collect();
            if kept.is_empty() {
                let why = match found.first() {
                    Some(a) => format!(
                        "destination not allowed: {host} resolves to a {} address",
                        restricted(a.ip()).unwrap_or("restricted")
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(why.into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// Redirects a delivery follows at most.
const MAX_REDIRECTS: usize = 3;

/// The HTTP client deliveries go through: names resolved by [`Guarded`], literal addresses of
/// redirects checked, no proxy from the environment, `timeout` per attempt.
pub fn client(allowed: Allowed, timeout: Duration) -> AppResult<reqwest::Client> {
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let literal = attempt
            .url()
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            .and_then(|h| h.parse::<IpAddr>().ok());
        match literal {
            Some(ip) if !allowed.permits(ip) => attempt.error(format!(
                "destination not allowed: a redirect to a {} address",
                restricted(ip).unwrap_or("restricted")
            )),
            _ => attempt.follow(),
        }
    });
    reqwest::Client::builder()
        .dns_resolver(Arc::new(Guarded(allowed)))
        .redirect(policy)
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("Nazar-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AppError::internal("webhook client", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused() {
        for (text, kind) in [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "private"),
            ("fd00::1", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("0.0.0.0", "reserved"),
            ("::", "reserved"),
            ("224.0.0.1", "reserved"),
            ("255.255.255.255", "reserved"),
        ] {
            assert_eq!(restricted(ip(text)), Some(kind), "{text}");
        }
        for text in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
            "172.32.0.1",
        ] {
            assert_eq!(restricted(ip(text)), None, "{text}");
        }
        let loopback = Allowed {
            loopback: true,
            private: false,
        };
        assert!(loopback.permits(ip("127.0.0.1")));
        assert!(!loopback.permits(ip("10.0.0.1")));
        assert!(!loopback.permits(ip("169.254.169.254")));
        assert!(!Allowed::default().permits(ip("127.0.0.1")));
        assert!(
            !Allowed {
                loopback: true,
                private: true
            }
            .permits(ip("0.0.0.0"))
        );
    }

    #[tokio::test]
    async fn names_that_resolve_to_refused_addresses_are_not_connected_to() {
        let strict = client(Allowed::default(), Duration::from_secs(5)).unwrap();
        let err = strict.post("http://localhost:9/hook").send().await.unwrap_err();
        let mut chain = Vec::new();
        let mut source: Option<&dyn std::error::Error> = Some(&err);
        while let Some(inner) = source {
            chain.push(inner.to_string());
            source = inner.source();
        }
        assert!(
            chain
                .iter()
                .any(|m| m == "destination not allowed: localhost resolves to a loopback address"),
            "{chain:?}"
        );
        // Allowed, the same name is connected to (nothing listens on port 9: refused).
        let allowed = client(
            Allowed {
                loopback: true,
                private: false,
            },
            Duration::from_secs(5),
        )
        .unwrap();
        let err = allowed.post("http://localhost:9/hook").send().await.unwrap_err();
        assert!(err.is_connect(), "{err:?}");
    }

    #[test]
    fn urls_are_checked_as_given() {
        let none = Allowed::default();
        assert!(check_url("https://hooks.example.com/in", none, true, "f").is_ok());
        assert!(check_url("http://hooks.example.com/in", none, true, "f").is_err());
        assert!(check_url("http://hooks.example.com/in", none, false, "f").is_ok());
        assert!(check_url("ftp://hooks.example.com/", none, false, "f").is_err());
        assert!(check_url("https://user:pw@hooks.example.com/", none, false, "f").is_err());
        assert!(check_url("not a url", none, false, "f").is_err());
        for refused in [
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.5/",
            "http://localhost:3000/",
            "http://0.0.0.0/",
        ] {
            let err = check_url(refused, none, false, "input.url").unwrap_err();
            assert!(
                matches!(
                    err,
                    AppError::Refused {
                        code: code::DESTINATION_NOT_ALLOWED,
                        ..
                    }
                ),
                "{refused}"
            );
        }
        let loopback = Allowed {
            loopback: true,
            private: false,
        };
        assert!(check_url("http://127.0.0.1:8080/", loopback, false, "f").is_ok());
        assert!(check_url("http://169.254.169.254/", loopback, false, "f").is_err());
    }
}
