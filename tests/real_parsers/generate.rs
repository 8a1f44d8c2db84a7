//! Adversarial `Cookie` headers around a victim's real session cookies, from a seed: every
//! spelling a server might read as the session cookie's name (case, quotes, percent-encoding
//! to depth 3, IIS's `%u`, PHP's `.`/` `/`[` mappings, Unicode case tricks, full-width letters,
//! whitespace), smuggled inside other pairs, beside noise (`$Version`, `$Path`, empty names,
//! quoted values with separators, non-ASCII, long values) and, half the time, beside the
//! attacker's own session cookies spelled exactly. Headers hold only bytes a header value may
//! carry (visible ASCII, space, tab, obs-text as Latin-1 characters): a control character
//! never reaches the edge (the native property tests cover those).

/// splitmix64: small, seedable, good enough to spread cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// One generated case.
pub struct Case {
    /// The header as the client sends it (characters ≤ U+00FF: one byte each on the wire).
    pub header: String,
    /// Whether it carries the attacker's own session cookies, spelled exactly.
    pub with_own: bool,
}

/// `name=value` pairs.
pub type Pairs = [(String, String)];

/// The reproductions first, then generated cases.
pub fn case(seed: u64, victim: &Pairs, own: &Pairs, planted: &str) -> Case {
    let key = &victim[0];
    let fixed = [
        format!("\"{}\"={}; \"{}\"=0", key.0, key.1, victim.last().map_or("x", |p| p.0.as_str())),
        format!("{}={}", encode_name(&key.0, 2, &mut Rng::new(seed)), key.1),
        format!("\"{}\"={}", encode_name(&key.0, 1, &mut Rng::new(seed)), key.1),
        format!("{}; \"{}\"={}", plain(own), key.0, key.1),
        format!("{}; \"{}\"={planted}", plain(own), key.0.to_ascii_lowercase()),
    ];
    if let Some(h) = fixed.get(seed as usize) {
        return Case { header: h.clone(), with_own: seed == 3 || seed == 4 };
    }
    let mut rng = Rng::new(seed);
    let with_own = rng.chance(50);
    let mut parts: Vec<String> = Vec::new();
    if with_own {
        parts.push(plain(own));
    }
    for _ in 0..1 + rng.below(3) {
        let (name, value) = if rng.chance(70) { rng.pick(victim).clone() } else { (key.0.clone(), planted.to_owned()) };
        let pair = format!("{}={}", spell(&name, &mut rng), value_of(&value, &mut rng));
        parts.push(smuggle(pair, &mut rng));
    }
    for _ in 0..rng.below(4) {
        parts.push(noise(&mut rng));
    }
    // Shuffle, then join with the separators servers see.
    for i in (1..parts.len()).rev() {
        let j = rng.below(i + 1);
        parts.swap(i, j);
    }
    let mut header = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            header.push_str(rng.pick_str(&["; ", ";", ", ", " ; ", ";;", "; \t"]));
        }
        header.push_str(p);
    }
    Case { header, with_own }
}

fn plain(pairs: &Pairs) -> String {
    pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
}

/// A spelling of `name` some server might read as `name`: one to three transformations.
fn spell(name: &str, rng: &mut Rng) -> String {
    let mut out = name.to_owned();
    for _ in 0..1 + rng.below(3) {
        out = match rng.below(10) {
            0 => out.to_ascii_uppercase(),
            1 => out
                .chars()
                .map(|c| if rng.chance(50) { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
                .collect(),
            2 => format!("\"{out}\""),
            3 => encode_name(&out, 1 + rng.below(3), rng),
            4 => out
                .chars()
                .flat_map(|c| [c].into_iter().chain(rng.chance(30).then(|| *rng.pick(&['.', ' ', '_', '-', '[']))))
                .collect(),
            5 => format!("{out}[{}]", rng.below(3)),
            6 => format!("{}{out}{}", rng.pick(&[" ", "\t", "  "]), rng.pick(&["", " ", "\t"])),
            7 => unicode(&out, rng),
            8 => out
                .chars()
                .map(|c| {
                    if c.is_ascii_alphabetic() && rng.chance(40) {
                        format!("%u00{:02X}", c as u32)
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
            _ => out.replace(['.', '_'], rng.pick_str(&[".", "_", " ", "["])),
        };
    }
    out
}

/// Java's and Unicode's case mappings that land on ASCII, and full-width letters: as UTF-8,
/// percent-encoded or raw.
fn unicode(name: &str, rng: &mut Rng) -> String {
    name.chars()
        .map(|c| {
            let lower = c.to_ascii_lowercase();
            let twin = match lower {
                'i' => Some('\u{131}'),
                's' => Some('\u{17f}'),
                'k' => Some('\u{212a}'),
                c if c.is_ascii_alphanumeric() && rng.chance(20) => char::from_u32(c as u32 + 0xFEE0),
                _ => None,
            };
            match twin.filter(|_| rng.chance(60)) {
                // As UTF-8, percent-encoded (a decoding server reads the character) ...
                Some(t) if rng.chance(50) => t.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
                // ... or raw (one Latin-1 character per byte, as the platform hands them over).
                Some(t) => t.to_string().bytes().map(char::from).collect(),
                None => c.to_string(),
            }
        })
        .collect()
}

/// `name` with some characters percent-encoded, `depth` times over (`%` itself encoded each
/// further round).
pub fn encode_name(name: &str, depth: usize, rng: &mut Rng) -> String {
    let mut out: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 0 || rng.chance(30) { format!("%{:02X}", c as u32 & 0xff) } else { c.to_string() })
        .collect();
    for _ in 1..depth {
        out = out.replace('%', "%25");
    }
    out
}

fn value_of(value: &str, rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("\"{value}\""),
        1 => value
            .chars()
            .map(|c| if rng.chance(30) { format!("%{:02X}", c as u32 & 0xff) } else { c.to_string() })
            .collect(),
        2 => format!("{value} "),
        _ => value.to_owned(),
    }
}

/// The pair alone, or hidden inside another pair as some server reads one.
fn smuggle(pair: String, rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => format!("a=\"x; {pair}; z=\""),
        1 => format!("a=1 {pair}"),
        2 => format!("a=1,{pair}"),
        3 => format!("a=\"x\"{pair}"),
        4 => format!("={pair}"),
        5 => format!("a=={pair}"),
        6 => format!("a=1, {pair}"),
        7 => format!("x {pair}"),
        _ => pair,
    }
}

fn noise(rng: &mut Rng) -> String {
    let long = format!("long={}", "x".repeat(200 + rng.below(2_000)));
    rng.pick(&[
        "a=1".to_owned(),
        "$Version=1".to_owned(),
        "$Path=/".to_owned(),
        "=x".to_owned(),
        "theme=\"dark; mode\"".to_owned(),
        "bare".to_owned(),
        long,
        "caf\u{e9}=\u{fc}ber".to_owned(),
        "json={\"a\":1}".to_owned(),
        "lang=de, b=2".to_owned(),
    ])
    .clone()
}
