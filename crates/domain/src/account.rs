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

/// Login rate limits per account and per client address (ACC-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failed logins of one account within `window` after which it is throttled.
    pub max_failures_per_account: u32,
    /// Failed logins from one address within `window` after which it is throttled.
    pub max_failures_per_address: u32,
    /// How far back failed logins are counted.
    pub window: Duration,
}

impl Default for LoginThrottle {
    /// 5 failures per account, 20 per address, within 15 minutes.
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            window: Duration::minutes(15),
        }
    }
}

impl LoginThrottle {
    /// Refuses a login attempt once the failures counted since
    /// [`window_start`](Self::window_start) reach either maximum (ACC-5).
    pub fn check(&self, account_failures: u32, address_failures: u32) -> Result<(), Refusal> {
        if account_failures >= self.max_failures_per_account
            || address_failures >= self.max_failures_per_address
        {
            Err(Refusal::rule(
                "ACC-5",
                "login_throttled",
                format!(
                    "too many failed logins; retry in {} minutes",
                    self.window.num_minutes().max(1)
                ),
            ))
        } else {
            Ok(())
        }
    }

    /// Start of the window in which failed logins are counted (ACC-5).
    pub fn window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    /// Whole seconds until a throttled caller may try again (ACC-5): the
    /// oldest counted failure must leave the window. At least one second.
    pub fn retry_after(&self, oldest_counted_failure: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (oldest_counted_failure + self.window - now)
            .num_seconds()
            .max(1)
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
        assert_wire_enums!(UserStatus, UserAction);
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

    #[test]
    fn login_throttle_edges_acc_5() {
        // rule ACC-5: refused at exactly the maximum, allowed just below
        let t = LoginThrottle::default();
        assert_eq!(
            (t.max_failures_per_account, t.max_failures_per_address),
            (5, 20)
        );
        assert!(t.check(0, 0).is_ok());
        assert!(t.check(4, 19).is_ok());
        for (acct, addr) in [(5, 0), (0, 20), (6, 25)] {
            let r = t.check(acct, addr).unwrap_err();
            assert_eq!((r.code, r.rule), ("login_throttled", Some("ACC-5")));
            assert!(r.detail.contains("retry in 15 minutes"), "{}", r.detail);
        }
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
