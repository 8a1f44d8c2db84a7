//! Client addresses (`CF-Connecting-IP`) as numbers, parsed by hand: the platform sends plain
//! IPv4 dotted quads and IPv6 text (`::` shortening, an embedded IPv4 tail). `std::net`'s
//! parsers and formatters would add several KB to the wasm for the same answer.

/// An IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ip {
    V4([u8; 4]),
    V6([u16; 8]),
}

impl Ip {
    /// Parses an address; `None` for anything that is not one. An IPv4-mapped IPv6 address
    /// (`::ffff:192.0.2.1`) is its IPv4 address.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Some(v4) = ipv4(text) {
            return Some(Ip::V4(v4));
        }
        let g = ipv6(text)?;
        Some(match g {
            [0, 0, 0, 0, 0, 0xffff, hi, lo] => Ip::V4([(hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8]),
            _ => Ip::V6(g),
        })
    }
}

fn ipv4(text: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split('.');
    for byte in &mut out {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *byte = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn ipv6(text: &str) -> Option<[u16; 8]> {
    let (head, tail) = match text.split_once("::") {
        Some((h, t)) if !t.contains("::") => (h, Some(t)),
        Some(_) => return None,
        None => (text, None),
    };
    let groups = |s: &str| -> Option<Vec<u16>> {
        if s.is_empty() {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        let parts: Vec<&str> = s.split(':').collect();
        for (i, part) in parts.iter().enumerate() {
            if i == parts.len() - 1 && part.contains('.') {
                let [a, b, c, d] = ipv4(part)?;
                out.extend([u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])]);
            } else if (1..=4).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit()) {
                out.push(u16::from_str_radix(part, 16).ok()?);
            } else {
                return None;
            }
        }
        Some(out)
    };
    let head = groups(head)?;
    let tail = match tail {
        None if head.len() == 8 => Vec::new(),
        None => return None,
        Some(t) => groups(t)?,
    };
    if tail.len() + head.len() > 8 || (text.contains("::") && head.len() + tail.len() > 7) {
        return None;
    }
    let mut out = [0u16; 8];
    for (slot, g) in out.iter_mut().zip(&head) {
        *slot = *g;
    }
    for (slot, g) in out.iter_mut().rev().zip(tail.iter().rev()) {
        *slot = *g;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_std_parses_them() {
        for text in [
            "203.0.113.9",
            "0.0.0.0",
            "255.255.255.255",
            "2001:db8::1",
            "::",
            "::1",
            "2001:db8:1:2:3:4:5:6",
            "fe80::1:2",
            "2001:db8::192.0.2.1",
            "::ffff:198.51.100.7",
            "1::",
        ] {
            let ours = Ip::parse(text);
            let std = text.parse::<std::net::IpAddr>().ok().map(|ip| match ip {
                std::net::IpAddr::V4(v4) => Ip::V4(v4.octets()),
                std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => Ip::V4(v4.octets()),
                    None => Ip::V6(v6.segments()),
                },
            });
            assert_eq!(ours, std, "{text}");
            assert!(ours.is_some(), "{text}");
        }
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.x",
            "::1::",
            "1:2:3:4:5:6:7:8:9",
            "12345::",
            "g::",
            ":1",
            "1:2:3:4:5:6:7",
        ] {
            assert_eq!(Ip::parse(bad), None, "{bad}");
            assert!(bad.parse::<std::net::IpAddr>().is_err(), "std reads {bad}");
        }
    }
}
