//! Which network addresses a flow's outbound calls (interface calls, webhook bots) may
//! reach. A flow is written by an administrator, but its answers can be shown to the user:
//! a call to the desk's own host, the cloud's metadata service or the office network would
//! let anyone who can edit a flow read what only the server can reach. Such addresses are
//! refused unless the operator allows them by name or range (`[outbound] allow`).
//!
//! Pure: the shell resolves names and hands every resolved address here, at connect time,
//! so a name that resolves to a public address once and to an internal one later (DNS
//! rebinding) is checked on the address actually connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is internal: the range it falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Internal {
    /// `0.0.0.0/8`, `::`: "this host" on most systems.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT.
    SharedNat,
    /// `169.254.0.0/16` (the cloud metadata service lives there), `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`, IPv6's private ranges (and the deprecated site-local `fec0::/10`).
    UniqueLocal,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`: never routed.
    Documentation,
    /// `240.0.0.0/4`, `192.0.0.0/24`, `198.18.0.0/15`, `100::/64`: reserved, benchmarking
    /// or protocol assignments, nothing a customer's system answers on.
    Reserved,
}

impl Internal {
    /// The range's name, for logs and the call's error.
    pub fn as_str(self) -> &'static str {
        match self {
            Internal::Unspecified => "unspecified",
            Internal::Loopback => "loopback",
            Internal::Private => "private",
            Internal::SharedNat => "shared (carrier-grade NAT)",
            Internal::LinkLocal => "link-local",
            Internal::UniqueLocal => "unique local",
            Internal::Multicast => "multicast",
            Internal::Broadcast => "broadcast",
            Internal::Documentation => "documentation",
            Internal::Reserved => "reserved",
        }
    }
}

/// The range `ip` is internal for, or `None` for a public address. An IPv6 address that
/// carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is
/// classified as that IPv4 address: the packets end up there.
pub fn internal(ip: IpAddr) -> Option<Internal> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => internal_v4(v4),
            None => internal_v6(v6),
        },
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<Internal> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        (0, _, _) => Internal::Unspecified,
        (127, _, _) => Internal::Loopback,
        (10, _, _) | (192, 168, _) => Internal::Private,
        (172, 16..=31, _) => Internal::Private,
        (100, 64..=127, _) => Internal::SharedNat,
        (169, 254, _) => Internal::LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Internal::Documentation,
        (192, 0, 0) | (198, 18..=19, _) => Internal::Reserved,
        (224..=239, _, _) => Internal::Multicast,
        _ if ip == Ipv4Addr::BROADCAST => Internal::Broadcast,
        (240..=255, _, _) => Internal::Reserved,
        _ => return None,
    };
    Some(kind)
}

fn internal_v6(ip: Ipv6Addr) -> Option<Internal> {
    let s = ip.segments();
    let kind = if ip.is_unspecified() {
        Internal::Unspecified
    } else if ip.is_loopback() {
        Internal::Loopback
    } else if s[0] & 0xffc0 == 0xfe80 {
        Internal::LinkLocal
    } else if s[0] & 0xfe00 == 0xfc00 || s[0] & 0xffc0 == 0xfec0 {
        Internal::UniqueLocal
    } else if s[0] & 0xff00 == 0xff00 {
        Internal::Multicast
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        Internal::Documentation
    } else if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
        Internal::Reserved
    } else {
        return None;
    };
    Some(kind)
}

/// The IPv4 address an IPv6 one delivers to, when it embeds one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let from = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(from(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(from(s[1], s[2]));
    }
    None
}

/// An address and prefix length, e.g. `10.0.0.0/8`; a bare address is the range of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d[/n]` or `v6[/n]`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as its IPv4 one).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// What the operator lets outbound calls reach although it is internal: ranges, and host
/// names (a name allowed may resolve to anything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    ranges: Vec<Cidr>,
    hosts: Vec<String>,
}

/// Most entries an allow list takes: it names a few internal systems, not a network map.
pub const MAX_ALLOW_ENTRIES: usize = 256;

impl AllowList {
    /// Reads the entries: an address, a CIDR range, or a host name (compared without case).
    /// The error names the first entry that is none of those.
    pub fn parse(entries: &[String]) -> Result<AllowList, String> {
        if entries.len() > MAX_ALLOW_ENTRIES {
            return Err(format!("takes at most {MAX_ALLOW_ENTRIES} entries"));
        }
        let mut list = AllowList::default();
        for entry in entries {
            let entry = entry.trim();
            if let Some(range) = Cidr::parse(entry) {
                list.ranges.push(range);
            } else if is_host_name(entry) {
                list.hosts.push(entry.to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{entry:?} is neither an address, a CIDR range nor a host name"
                ));
            }
        }
        Ok(list)
    }

    /// Whether the operator allowed this host name.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether the operator allowed this address.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }
}

/// A host name as DNS spells it: labels of letters, digits and hyphens, dot-separated.
fn is_host_name(text: &str) -> bool {
    let text = text.trim_end_matches('.');
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && !text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// An outbound call refused: the address and its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The address it would have connected to.
    pub ip: IpAddr,
    /// Its range.
    pub range: Internal,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is a {} address: allow it in outbound.allow to call it",
            self.ip,
            self.range.as_str()
        )
    }
}

/// Whether a call to `host` (the URL's name; `None` for an address literal) may connect to
/// `ip`: public addresses always, internal ones only when the operator allowed the address
/// or the name.
pub fn check(host: Option<&str>, ip: IpAddr, allow: &AllowList) -> Result<(), Refused> {
    let Some(range) = internal(ip) else {
        return Ok(());
    };
    if allow.allows_ip(ip) || host.is_some_and(|h| allow.allows_host(h)) {
        return Ok(());
    }
    Err(Refused { ip, range })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn list(entries: &[&str]) -> AllowList {
        AllowList::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn the_issues_addresses_are_internal() {
        let cases = [
            ("127.0.0.1", Internal::Loopback),
            ("127.8.9.10", Internal::Loopback),
            ("::1", Internal::Loopback),
            ("0.0.0.0", Internal::Unspecified),
            ("::", Internal::Unspecified),
            ("169.254.169.254", Internal::LinkLocal),
            ("fe80::1", Internal::LinkLocal),
            ("10.1.2.3", Internal::Private),
            ("172.16.0.1", Internal::Private),
            ("172.31.255.255", Internal::Private),
            ("192.168.1.1", Internal::Private),
            ("100.64.0.1", Internal::SharedNat),
            ("100.127.255.255", Internal::SharedNat),
            ("fc00::1", Internal::UniqueLocal),
            ("fd12:3456::1", Internal::UniqueLocal),
            ("224.0.0.1", Internal::Multicast),
            ("ff02::1", Internal::Multicast),
            ("255.255.255.255", Internal::Broadcast),
            ("192.0.2.1", Internal::Documentation),
            ("198.51.100.7", Internal::Documentation),
            ("203.0.113.9", Internal::Documentation),
            ("2001:db8::1", Internal::Documentation),
            ("240.0.0.1", Internal::Reserved),
            ("198.18.0.1", Internal::Reserved),
        ];
        for (text, want) in cases {
            assert_eq!(internal(ip(text)), Some(want), "{text}");
        }
    }

    #[test]
    fn ipv6_forms_of_an_internal_ipv4_address_are_internal() {
        for text in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(internal(ip(text)).is_some(), "{text}");
        }
        assert_eq!(internal(ip("::ffff:8.8.8.8")), None);
    }

    #[test]
    fn public_addresses_are_not_internal() {
        for text in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "172.15.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "2606:4700::1111",
        ] {
            assert_eq!(internal(ip(text)), None, "{text}");
        }
    }

    #[test]
    fn an_allow_list_lets_its_ranges_and_hosts_through_and_nothing_else() {
        let allow = list(&["10.0.0.0/8", "127.0.0.1", "CRM.internal", "::1/128"]);
        assert_eq!(check(None, ip("10.9.9.9"), &allow), Ok(()));
        assert_eq!(check(None, ip("127.0.0.1"), &allow), Ok(()));
        assert_eq!(check(None, ip("::ffff:127.0.0.1"), &allow), Ok(()));
        assert_eq!(check(None, ip("::1"), &allow), Ok(()));
        assert_eq!(
            check(Some("crm.internal"), ip("192.168.5.5"), &allow),
            Ok(())
        );
        assert_eq!(
            check(Some("crm.internal."), ip("192.168.5.5"), &allow),
            Ok(())
        );
        let refused = check(Some("other.internal"), ip("192.168.5.5"), &allow).unwrap_err();
        assert_eq!(refused.range, Internal::Private);
        assert!(refused.to_string().contains("outbound.allow"), "{refused}");
        assert!(check(None, ip("127.0.0.2"), &allow).is_err());
        assert_eq!(
            check(Some("example.com"), ip("8.8.8.8"), &AllowList::default()),
            Ok(())
        );
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "a b",
            "-x.com",
            "1.2.3.4.5",
            "",
        ] {
            let e = AllowList::parse(&[bad.to_owned()]).unwrap_err();
            assert!(e.contains(&format!("{:?}", bad.trim())), "{bad}: {e}");
        }
        let many = vec!["10.0.0.1".to_owned(); MAX_ALLOW_ENTRIES + 1];
        assert!(AllowList::parse(&many).is_err());
    }

    proptest! {
        /// An IPv4 address and its IPv4-mapped IPv6 form are the same destination.
        #[test]
        fn a_mapped_address_is_classified_as_its_ipv4(raw in any::<u32>()) {
            let v4 = Ipv4Addr::from(raw);
            prop_assert_eq!(internal(IpAddr::V4(v4)), internal(IpAddr::V6(v4.to_ipv6_mapped())));
        }

        /// Allowing everything lets every address through; allowing nothing refuses exactly
        /// the internal ones.
        #[test]
        fn the_allow_list_only_ever_widens(raw in any::<u128>(), v4 in any::<u32>()) {
            let everything = list(&["0.0.0.0/0", "::/0"]);
            for ip in [IpAddr::V6(Ipv6Addr::from(raw)), IpAddr::V4(Ipv4Addr::from(v4))] {
                prop_assert!(check(None, ip, &everything).is_ok());
                prop_assert_eq!(
                    check(None, ip, &AllowList::default()).is_err(),
                    internal(ip).is_some()
                );
            }
        }
    }
}
