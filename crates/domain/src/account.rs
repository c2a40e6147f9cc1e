//! User accounts: status, credentials rules and login throttling
//! (ACC-1, ACC-5).

use chrono::{DateTime, Duration, Utc};

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::wire::{StateMachine, wire_enum};

/// Lifetime of an access token in seconds: 15 minutes (ACC-1).
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 900;

/// Lifetime of a refresh token in days; refresh tokens rotate on use and are
/// revoked by logout and password change (ACC-1).
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

wire_enum! {
    /// Status of a user account.
    pub enum UserStatus("user_status") {
        /// May log in.
        Active => "active",
        /// May not log in.
        Disabled => "disabled",
    }
}

wire_enum! {
    /// Action on a user account.
    pub enum UserAction("user_action") {
        /// Disable an active account.
        Disable => "disable",
        /// Re-enable a disabled account.
        Enable => "enable",
    }
}

const USER_MACHINE: StateMachine<UserStatus, UserAction> = StateMachine {
    entity: "user",
    rule: None,
    edges: &[
        (
            UserStatus::Active,
            UserAction::Disable,
            UserStatus::Disabled,
        ),
        (UserStatus::Disabled, UserAction::Enable, UserStatus::Active),
    ],
};

/// Applies `action` to a user account in status `from` (active ⇄ disabled).
pub fn user_transition(
    from: UserStatus,
    action: UserAction,
) -> Result<UserStatus, InvalidTransition> {
    USER_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a user account in status `from`.
pub fn user_allowed_actions(from: UserStatus) -> Vec<&'static str> {
    USER_MACHINE.allowed(from)
}

/// Validates and normalises a username: trimmed, lower-cased, 3–64 characters
/// of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or digit.
pub fn validate_username(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim().to_ascii_lowercase();
    let valid = (3..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if valid {
        Ok(name)
    } else {
        Err(FieldError::new(
            "username",
            "username_format",
            "a username has 3 to 64 characters a-z, 0-9, '.', '_' or '-' and starts with a letter or digit",
        ))
    }
}

/// Minimum password length in characters (ACC-5).
pub const PASSWORD_MIN_CHARS: usize = 10;
/// Maximum password length in characters (ACC-5).
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Password policy (ACC-5): 10–128 characters, at least one letter and one
/// digit, and not containing the username (case-insensitive).
pub fn validate_password(password: &str, username: &str) -> Result<(), FieldError> {
    let refuse = |code, message: &str| Err(FieldError::new("password", code, message));
    let len = password.chars().count();
    if len < PASSWORD_MIN_CHARS {
        return refuse(
            "password_too_short",
            "the password must have at least 10 characters",
        );
    }
    if len > PASSWORD_MAX_CHARS {
        return refuse(
            "password_too_long",
            "the password must have at most 128 characters",
        );
    }
    if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        return refuse(
            "password_too_weak",
            "the password must contain at least one letter and one digit",
        );
    }
    let username = username.trim().to_lowercase();
    if !username.is_empty() && password.to_lowercase().contains(&username) {
        return refuse(
            "password_too_weak",
            "the password must not contain the username",
        );
    }
    Ok(())
}

/// What a throttled attempt is: a login, or a password change's check of the
/// current password (ACC-5). Stored with each attempt so the two are counted apart.
pub mod attempt_kind {
    /// `POST /auth/login`.
    pub const LOGIN: &str = "login";
    /// `POST /me/password`: the `current_password` check.
    pub const PASSWORD_CHANGE: &str = "password_change";
}

/// The attempts counted within the window for one request's keys (ACC-5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttemptCounts {
    /// Attempts for this account from this address.
    pub account_address: u32,
    /// Attempts for this account from every address.
    pub account: u32,
    /// Attempts from this address for every account.
    pub address: u32,
}

/// Which limit of a [`LoginThrottle`] refused an attempt (ACC-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptScope {
    /// One account from one address.
    AccountAddress,
    /// One account from every address.
    Account,
    /// One address for every account.
    Address,
}

/// A throttled attempt: the refusal and the limits that were reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttled {
    /// The problem to answer (429, ACC-5).
    pub refusal: Refusal,
    /// Every limit that was reached, to compute `Retry-After`.
    pub scopes: Vec<AttemptScope>,
}

/// Login rate limits (ACC-5), counted over attempts within `window`.
///
/// Every login attempt is *reserved* before its password is checked: the check
/// of these limits and the recording of the attempt are one atomic step, so the
/// number of guesses that reach the (slow) password check within the window is
/// at most the limit, however many arrive at once. A successful login then
/// removes its own reservation and the account's failures from its address;
/// a failed one stays counted.
///
/// The limits, within 15 minutes:
/// - **5 per account and address.** Wrong passwords from one address throttle
///   that account only from that address, so a stranger cannot lock the owner
///   out by guessing from elsewhere.
/// - **50 per account across every address.** A slower, higher bound against
///   guessing one account from many addresses (a botnet): ten times the
///   per-address budget, so ten addresses guessing in turn still stop after 50,
///   while one stranger's address alone can never reach it. An administrator
///   can clear an account's attempts at once (`POST /users/{id}/unlock`).
/// - **20 per address across every account**, against one address spraying
///   guesses over many accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Attempts for one account from one address within `window` after which it is throttled.
    pub max_per_account_address: u32,
    /// Attempts for one account from every address within `window` after which it is throttled.
    pub max_per_account: u32,
    /// Attempts from one address within `window` after which it is throttled.
    pub max_per_address: u32,
    /// How far back attempts are counted.
    pub window: Duration,
}

impl Default for LoginThrottle {
    /// 5 per account and address, 50 per account, 20 per address, within 15 minutes.
    fn default() -> Self {
        Self {
            max_per_account_address: 5,
            max_per_account: 50,
            max_per_address: 20,
            window: Duration::minutes(15),
        }
    }
}

impl LoginThrottle {
    /// The limit of password-change attempts (ACC-5): 5 wrong current
    /// passwords per account within 15 minutes from any address, since the
    /// caller is already known by its token. Reaching it ends every session of
    /// the account.
    pub fn password_change() -> Self {
        Self {
            max_per_account_address: 5,
            max_per_account: 5,
            max_per_address: u32::MAX,
            window: Duration::minutes(15),
        }
    }

    /// Refuses an attempt once the attempts counted since
    /// [`window_start`](Self::window_start) reach any limit (ACC-5).
    pub fn check(&self, counts: AttemptCounts) -> Result<(), Throttled> {
        let mut scopes = Vec::new();
        if counts.account_address >= self.max_per_account_address {
            scopes.push(AttemptScope::AccountAddress);
        }
        if counts.account >= self.max_per_account {
            scopes.push(AttemptScope::Account);
        }
        if counts.address >= self.max_per_address {
            scopes.push(AttemptScope::Address);
        }
        let Some(first) = scopes.first() else {
            return Ok(());
        };
        let what = match first {
            AttemptScope::AccountAddress => "for this account from this address",
            AttemptScope::Account => "for this account",
            AttemptScope::Address => "from this address",
        };
        Err(Throttled {
            refusal: Refusal::rule(
                "ACC-5",
                "login_throttled",
                format!(
                    "too many failed attempts {what}; retry in {} minutes",
                    self.window.num_minutes().max(1)
                ),
            ),
            scopes,
        })
    }

    /// Whether `failures` within the window reach the account limit: for a
    /// password change, the point at which every session of the account ends.
    pub fn exhausted(&self, failures: u32) -> bool {
        failures >= self.max_per_account.min(self.max_per_account_address)
    }

    /// Start of the window in which attempts are counted (ACC-5).
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Whole seconds until a throttled caller may try again (ACC-5): the
    /// oldest counted attempt must leave the window. At least one second.
    pub fn retry_after(&self, oldest_counted_failure: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (oldest_counted_failure + self.window - now)
            .num_seconds()
            .max(1)
    }
}

wire_enum! {
    /// Why a refresh token no longer works (ACC-1), told to the client as `reason`.
    pub enum RefreshTokenDeath("refresh_token_death") {
        /// It was exchanged already; presenting it again ends its session.
        Used => "used",
        /// Its session was ended: logout, password change, disabled account,
        /// or reuse of a spent token of the same session.
        Revoked => "revoked",
        /// Its 30 days have passed.
        Expired => "expired",
    }
}

/// The state of a stored refresh token at `now` (ACC-1): `Ok(())` while it can
/// be exchanged, otherwise why not. A used token reports `used` even after its
/// session was revoked (the reuse is what matters), and a revoked one
/// `revoked` even after it expired.
pub fn refresh_token_state(
    used: bool,
    revoked: bool,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), RefreshTokenDeath> {
    if used {
        Err(RefreshTokenDeath::Used)
    } else if revoked {
        Err(RefreshTokenDeath::Revoked)
    } else if expires_at <= now {
        Err(RefreshTokenDeath::Expired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn retry_after_counts_down_to_the_oldest_failure_leaving_the_window() {
        // rule ACC-5
        let t = LoginThrottle::default();
        let oldest = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
        assert_eq!(t.retry_after(oldest, oldest + Duration::minutes(5)), 600);
        assert_eq!(t.retry_after(oldest, oldest + Duration::seconds(899)), 1);
        assert_eq!(t.retry_after(oldest, oldest + Duration::minutes(20)), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};
    use chrono::TimeZone;

    #[test]
    fn account_enums_wire_names() {
        assert_wire_enums!(UserStatus, UserAction, RefreshTokenDeath);
    }

    #[test]
    fn user_state_machine() {
        use UserAction::*;
        use UserStatus::*;
        assert_machine(
            UserStatus::ALL,
            UserAction::ALL,
            &[(Active, Disable, Disabled), (Disabled, Enable, Active)],
            user_transition,
            user_allowed_actions,
            "user",
            None,
        );
        assert_eq!(
            user_transition(Active, Enable).unwrap_err().allowed,
            ["disable"]
        );
    }

    #[test]
    fn token_lifetimes_acc_1() {
        // rule ACC-1: 15-minute access tokens
        assert_eq!(ACCESS_TOKEN_TTL_SECONDS, 15 * 60);
        assert_eq!(REFRESH_TOKEN_TTL_DAYS, 30);
    }

    #[test]
    fn usernames() {
        assert_eq!(
            validate_username("  Zhang.San_01 ").unwrap(),
            "zhang.san_01"
        );
        assert_eq!(validate_username("abc").unwrap(), "abc");
        assert_eq!(validate_username("9-a").unwrap(), "9-a");
        assert!(validate_username(&"a".repeat(64)).is_ok());
        for bad in [
            "",
            "ab",
            &"a".repeat(65),
            ".abc",
            "_abc",
            "-abc",
            "zhang san",
            "zhang@san",
            "张三丰",
            "ab\u{0}",
        ] {
            let e = validate_username(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("username", "username_format"),
                "{bad:?}"
            );
        }
    }

    fn password_code(password: &str, username: &str) -> Option<&'static str> {
        validate_password(password, username).err().map(|e| {
            assert_eq!(e.field, "password");
            e.code
        })
    }

    #[test]
    fn password_length_acc_5() {
        // rule ACC-5
        assert_eq!(password_code("abcdefgh1", "u"), Some("password_too_short"));
        assert_eq!(password_code("abcdefghi1", "u"), None);
        // characters, not bytes: 9 multibyte characters are too short
        assert_eq!(
            password_code("密码密码密码密码1", "u"),
            Some("password_too_short")
        );
        assert_eq!(password_code("密码密码密码密码密1", "u"), None);
        let max = format!("a1{}", "x".repeat(126));
        assert_eq!(password_code(&max, "u"), None);
        assert_eq!(
            password_code(&format!("{max}x"), "u"),
            Some("password_too_long")
        );
    }

    #[test]
    fn password_strength_acc_5() {
        // rule ACC-5
        assert_eq!(password_code("abcdefghij", "u"), Some("password_too_weak"));
        assert_eq!(password_code("1234567890", "u"), Some("password_too_weak"));
        assert_eq!(password_code("!!!!!!!!!!1", "u"), Some("password_too_weak"));
        assert_eq!(password_code("s3cret-Phrase", "zhangsan"), None);
        assert_eq!(
            password_code("my-ZhangSan-2024", "zhangsan"),
            Some("password_too_weak")
        );
        assert_eq!(
            password_code("my-zhangsan-2024", " ZhangSan "),
            Some("password_too_weak")
        );
        // an empty username does not make every password weak
        assert_eq!(password_code("s3cret-Phrase", ""), None);
    }

    fn counts(account_address: u32, account: u32, address: u32) -> AttemptCounts {
        AttemptCounts {
            account_address,
            account,
            address,
        }
    }

    #[test]
    fn login_throttle_edges_acc_5() {
        // rule ACC-5: refused at exactly a maximum, allowed just below
        let t = LoginThrottle::default();
        assert_eq!(
            (
                t.max_per_account_address,
                t.max_per_account,
                t.max_per_address
            ),
            (5, 50, 20)
        );
        assert!(t.check(counts(0, 0, 0)).is_ok());
        assert!(t.check(counts(4, 49, 19)).is_ok());
        for (c, scopes) in [
            (counts(5, 5, 5), vec![AttemptScope::AccountAddress]),
            (counts(0, 50, 0), vec![AttemptScope::Account]),
            (counts(0, 0, 20), vec![AttemptScope::Address]),
            (
                counts(6, 60, 25),
                vec![
                    AttemptScope::AccountAddress,
                    AttemptScope::Account,
                    AttemptScope::Address,
                ],
            ),
        ] {
            let r = t.check(c).unwrap_err();
            assert_eq!(
                (r.refusal.code, r.refusal.rule),
                ("login_throttled", Some("ACC-5"))
            );
            assert!(
                r.refusal.detail.contains("retry in 15 minutes"),
                "{}",
                r.refusal.detail
            );
            assert_eq!(r.scopes, scopes);
        }
    }

    #[test]
    fn a_stranger_cannot_lock_the_owner_out_acc_5() {
        // rule ACC-5: five failures from address A leave address B its own budget
        let t = LoginThrottle::default();
        assert!(t.check(counts(5, 5, 5)).is_err(), "address A is throttled");
        assert!(t.check(counts(0, 5, 0)).is_ok(), "address B is not");
        assert!(
            t.check(counts(0, 50, 0)).is_err(),
            "the account-wide bound still holds"
        );
    }

    #[test]
    fn password_change_throttle_acc_5() {
        // rule ACC-5: 5 wrong current passwords per account, from any address
        let t = LoginThrottle::password_change();
        assert!(t.check(counts(0, 4, 1000)).is_ok());
        assert_eq!(
            t.check(counts(0, 5, 0)).unwrap_err().scopes,
            [AttemptScope::Account]
        );
        assert!(!t.exhausted(4));
        assert!(t.exhausted(5));
        assert!(LoginThrottle::default().exhausted(5));
    }

    #[test]
    fn refresh_token_states_acc_1() {
        // rule ACC-1: a dead refresh token says why
        use RefreshTokenDeath::*;
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap();
        let later = now + Duration::days(1);
        let earlier = now - Duration::seconds(1);
        assert_eq!(refresh_token_state(false, false, later, now), Ok(()));
        assert_eq!(refresh_token_state(false, false, now, now), Err(Expired));
        assert_eq!(
            refresh_token_state(false, false, earlier, now),
            Err(Expired)
        );
        assert_eq!(refresh_token_state(false, true, later, now), Err(Revoked));
        assert_eq!(refresh_token_state(false, true, earlier, now), Err(Revoked));
        assert_eq!(refresh_token_state(true, true, later, now), Err(Used));
        assert_eq!(refresh_token_state(true, false, earlier, now), Err(Used));
        assert_eq!(
            RefreshTokenDeath::WIRE_NAMES,
            ["used", "revoked", "expired"]
        );
    }

    #[test]
    fn login_throttle_window_acc_5() {
        // rule ACC-5
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap();
        assert_eq!(
            LoginThrottle::default().window_start(now),
            Utc.with_ymd_and_hms(2024, 5, 1, 7, 45, 0).unwrap()
        );
    }
}
