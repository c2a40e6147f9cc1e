//! Every refusal code the sources raise is in `guild_domain::codes` (and every
//! catalogue entry is raised somewhere), so that no refusal answers with a
//! status nobody chose.
//!
//! The test reads the non-test Rust sources of the crates that build refusals
//! and finds the code argument of every `Refusal::rule(rule, code, ..)`,
//! `Refusal::new(code, ..)`, `check_before_start(rule, code, ..)` (the domain
//! helper that takes the code) and `Ineligibility { code, .. }` (exam
//! eligibility reasons, answered as the problem code when every trainee of a
//! registration is refused). A code is a string literal, a constant of the
//! same file, or a `codes::NAME` constant; anything else must be one of the
//! known pass-throughs below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use guild_domain::codes;

/// Crates whose `src` may build refusals (missing ones are skipped).
const CRATES: &[&str] = &["domain", "api", "app", "store"];

/// Codes of refusals that never reach a problem's `code`: ACC-5 throttling
/// answers 429 `too_many_requests` (`ApiError::Throttled` keeps only the
/// refusal's detail and rule).
const NOT_PROBLEM_CODES: &[&str] = &["login_throttled", "password_change_throttled"];

/// Code arguments that pass a code through rather than name one, by file
/// name: each is covered by the calls or literals it forwards.
const PASS_THROUGH: &[(&str, &str)] = &[
    // check_before_start(rule, code, ..) forwards its parameter; its callers are scanned.
    ("deferral.rs", "code"),
    // Ineligibility -> Refusal and Refusal -> Ineligibility conversions.
    ("exam.rs", "i.code"),
    ("exam.rs", "r.code"),
    // A ban's refusal as an eligibility reason: the ban's own literal is scanned.
    ("exam.rs", "ban.code"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
}

/// A small Rust lexer: identifiers, string literals (value without escapes
/// resolved) and punctuation; comments, numbers, chars and lifetimes dropped.
fn lex(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && at(i + 1) == 'r'))
            && matches!(at(i + 1 + usize::from(c == 'b')), '"' | '#')
            && {
                let mut j = i + 1 + usize::from(c == 'b');
                while at(j) == '#' {
                    j += 1;
                }
                at(j) == '"'
            }
        {
            // raw string r#"..."#
            i += 1 + usize::from(c == 'b');
            let mut hashes = 0;
            while at(i) == '#' {
                hashes += 1;
                i += 1;
            }
            i += 1;
            let start = i;
            loop {
                if i >= b.len() {
                    break;
                }
                if b[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    break;
                }
                i += 1;
            }
            out.push(Tok::Str(b[start..i.min(b.len())].iter().collect()));
            i += 1 + hashes;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            let start = i;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            out.push(Tok::Str(b[start..i.min(b.len())].iter().collect()));
            i += 1;
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                // escaped char literal: skip the quote, the backslash and the escaped char
                i += 3;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // a lifetime
                i += 1;
                while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

fn ident(t: Option<&Tok>, name: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s == name)
}

fn punct(t: Option<&Tok>, c: char) -> bool {
    t == Some(&Tok::Punct(c))
}

/// The index just past the group opened at `open` (a `(`, `[` or `{`).
fn close_of(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < toks.len() {
        match toks[i] {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    toks.len()
}

/// Drops `#[cfg(test)] mod name { .. }`; returns the kept tokens and the
/// names of `#[cfg(test)] mod name;` files.
fn without_test_modules(toks: Vec<Tok>) -> (Vec<Tok>, Vec<String>) {
    let mut kept = Vec::with_capacity(toks.len());
    let mut test_files = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let is_cfg_test = punct(toks.get(i), '#')
            && punct(toks.get(i + 1), '[')
            && ident(toks.get(i + 2), "cfg")
            && punct(toks.get(i + 3), '(')
            && ident(toks.get(i + 4), "test")
            && punct(toks.get(i + 5), ')')
            && punct(toks.get(i + 6), ']');
        if is_cfg_test {
            let mut j = i + 7;
            // further attributes
            while punct(toks.get(j), '#') && punct(toks.get(j + 1), '[') {
                j = close_of(&toks, j + 1);
            }
            if ident(toks.get(j), "pub") {
                j += 1;
                if punct(toks.get(j), '(') {
                    j = close_of(&toks, j);
                }
            }
            if ident(toks.get(j), "mod")
                && let Some(Tok::Ident(name)) = toks.get(j + 1)
            {
                if punct(toks.get(j + 2), '{') {
                    i = close_of(&toks, j + 2);
                    continue;
                }
                if punct(toks.get(j + 2), ';') {
                    test_files.push(name.clone());
                    i = j + 3;
                    continue;
                }
            }
        }
        kept.push(toks[i].clone());
        i += 1;
    }
    (kept, test_files)
}

/// The comma-separated arguments of the group opened at `open`.
fn arguments(toks: &[Tok], open: usize) -> Vec<&[Tok]> {
    let end = close_of(toks, open) - 1;
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for i in open + 1..end {
        match toks[i] {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Tok::Punct(',') if depth == 0 => {
                args.push(&toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < end {
        args.push(&toks[start..end]);
    }
    args
}

/// The value of field `code:` in the struct literal opened at `open`.
fn code_field(toks: &[Tok], open: usize) -> Option<&[Tok]> {
    arguments(toks, open).into_iter().find_map(|field| {
        (ident(field.first(), "code") && punct(field.get(1), ':')).then(|| &field[2..])
    })
}

fn render(expr: &[Tok]) -> String {
    expr.iter()
        .map(|t| match t {
            Tok::Ident(s) => s.clone(),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Punct(c) => c.to_string(),
        })
        .collect()
}

/// `const NAME: &str = "value";` (or `&'static str`) in the file.
fn string_constants(toks: &[Tok]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (i, t) in toks.iter().enumerate() {
        if *t != Tok::Ident("const".to_owned()) {
            continue;
        }
        let Some(Tok::Ident(name)) = toks.get(i + 1) else {
            continue;
        };
        let rest = &toks[i + 2..];
        let eq = rest.iter().position(|t| *t == Tok::Punct('='));
        if let Some(eq) = eq
            && let Some(Tok::Str(value)) = rest.get(eq + 1)
            && punct(rest.get(eq + 2), ';')
        {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}

/// Where a code argument was found.
#[derive(Debug)]
struct Site {
    file: PathBuf,
    code: String,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files a `#[cfg(test)] mod name;` in `file` points at.
fn test_module_paths(file: &Path, name: &str) -> [PathBuf; 2] {
    let dir = file.parent().unwrap_or(Path::new("."));
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let base = if matches!(stem, "lib" | "main" | "mod") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    [
        base.join(format!("{name}.rs")),
        base.join(name).join("mod.rs"),
    ]
}

/// Every code argument in the non-test sources, and the arguments that are
/// neither a literal nor a known constant nor a known pass-through.
fn scan() -> (Vec<Site>, Vec<String>) {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(".."))
        .to_path_buf();
    let mut files = Vec::new();
    for name in CRATES {
        rs_files(&crates.join(name).join("src"), &mut files);
    }
    let mut lexed = Vec::new();
    let mut test_only = BTreeSet::new();
    for file in files {
        let src = std::fs::read_to_string(&file).expect("read a source file");
        let (toks, test_mods) = without_test_modules(lex(&src));
        for name in test_mods {
            test_only.extend(test_module_paths(&file, &name));
        }
        lexed.push((file, toks));
    }
    let mut sites = Vec::new();
    let mut unknown = Vec::new();
    for (file, toks) in lexed.iter().filter(|(f, _)| !test_only.contains(f)) {
        let file_name = file.file_name().and_then(|s| s.to_str()).unwrap_or("");
        let constants = string_constants(toks);
        let mut found: Vec<&[Tok]> = Vec::new();
        for i in 0..toks.len() {
            let t = toks.get(i);
            if ident(t, "Refusal")
                && punct(toks.get(i + 1), ':')
                && punct(toks.get(i + 2), ':')
                && punct(toks.get(i + 4), '(')
            {
                let args = arguments(toks, i + 4);
                if ident(toks.get(i + 3), "rule") {
                    found.extend(args.get(1));
                } else if ident(toks.get(i + 3), "new") {
                    found.extend(args.first());
                }
            } else if ident(t, "check_before_start")
                && punct(toks.get(i + 1), '(')
                && !(i > 0 && ident(toks.get(i - 1), "fn"))
            {
                found.extend(arguments(toks, i + 1).get(1));
            } else if ident(t, "Ineligibility") && punct(toks.get(i + 1), '{') {
                // skip `struct Ineligibility {` (its field declares a type)
                if !(i > 0 && ident(toks.get(i - 1), "struct")) {
                    found.extend(code_field(toks, i + 1));
                }
            }
        }
        for expr in found {
            let rendered = render(expr);
            let code = match expr {
                [Tok::Str(s)] => Some(s.clone()),
                [Tok::Ident(name)] if constants.contains_key(name) => constants.get(name).cloned(),
                [
                    ..,
                    Tok::Ident(m),
                    Tok::Punct(':'),
                    Tok::Punct(':'),
                    Tok::Ident(name),
                ] if m == "codes" => Some(name.to_ascii_lowercase()),
                _ => None,
            };
            match code {
                Some(code) => sites.push(Site {
                    file: file.clone(),
                    code,
                }),
                None if PASS_THROUGH.contains(&(file_name, rendered.as_str())) => {}
                None => unknown.push(format!("{}: {rendered}", file.display())),
            }
        }
    }
    (sites, unknown)
}

#[test]
fn every_refusal_code_in_the_sources_is_in_the_catalogue() {
    // rule API-2: a stable code, one table
    let (sites, unknown) = scan();
    assert!(
        unknown.is_empty(),
        "refusal codes that are neither a literal, a constant nor a known pass-through \
         (name the code, or add the pass-through to PASS_THROUGH):\n{}",
        unknown.join("\n")
    );
    assert!(
        sites.len() > 80,
        "the scan found only {} refusal sites; is it still reading the sources?",
        sites.len()
    );
    let missing: BTreeSet<String> = sites
        .iter()
        .filter(|s| {
            codes::lookup(&s.code).is_none() && !NOT_PROBLEM_CODES.contains(&s.code.as_str())
        })
        .map(|s| format!("{} ({})", s.code, s.file.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "refusal codes missing from guild_domain::codes (add each with its kind, rule and meaning):\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    let raised: BTreeSet<&str> = sites.iter().map(|s| s.code.as_str()).collect();
    let unused: Vec<&str> = codes::CATALOGUE
        .iter()
        .map(|c| c.code)
        .filter(|c| !raised.contains(c))
        .collect();
    assert!(
        unused.is_empty(),
        "catalogue entries no source raises (remove them): {unused:?}"
    );
    for code in NOT_PROBLEM_CODES {
        assert!(
            raised.contains(code),
            "{code} is no longer raised; drop it from NOT_PROBLEM_CODES"
        );
        assert!(
            codes::lookup(code).is_none(),
            "{code} is in the catalogue after all"
        );
    }
}

#[test]
fn the_lexer_sees_code_not_comments_or_strings() {
    let src = r####"
        // Refusal::rule("X-1", "in_a_comment", "")
        /* Refusal::new("in_a_block", None, "") /* nested */ */
        let s = "Refusal::new(\"in_a_string\", None, \"\")";
        let r = r#"Refusal::new("in_a_raw_string", None, "")"#;
        let c = '{'; let q = '\''; let l: &'static str = "x";
        fn f<'a>() {}
        Refusal::rule("DEF-1", "real_one", format!("{}", '}'));
        Refusal::new(codes::REAL_TWO, None, "");
        #[cfg(test)]
        mod tests { Refusal::new("test_only", None, ""); }
        #[cfg(test)]
        mod scan;
    "####;
    let (toks, test_files) = without_test_modules(lex(src));
    assert_eq!(test_files, vec!["scan".to_owned()]);
    let codes: Vec<String> = toks
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == Tok::Ident("Refusal".to_owned()))
        .filter_map(|(i, _)| {
            let args = arguments(&toks, i + 4);
            let arg = if ident(toks.get(i + 3), "rule") {
                args.get(1)
            } else {
                args.first()
            };
            arg.map(|a| render(a))
        })
        .collect();
    assert_eq!(codes, vec!["\"real_one\"", "codes::REAL_TWO"]);
}
