//! Money: integer fen (1/100 CNY), never floating point (ENR-3, PRG-1).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// An amount of money in fen. Never negative: direction (charge, payment,
/// refund) is carried by the ledger entry's kind, not by the sign.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "i64", into = "i64")]
#[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, example = 120000))]
pub struct Fen(i64);

/// The largest amount accepted: 100 million CNY, far above any fee, and far
/// below where sums of many entries could overflow `i64`.
pub const MAX_FEN: i64 = 10_000_000_000;

impl Fen {
    /// Zero fen.
    pub const ZERO: Fen = Fen(0);

    /// An amount from a number of fen; refuses negative and absurd amounts.
    pub fn new(fen: i64) -> Result<Fen, FieldError> {
        if (0..=MAX_FEN).contains(&fen) {
            Ok(Fen(fen))
        } else {
            Err(FieldError::new(
                "amount_fen",
                "amount_out_of_range",
                format!("must be 0 to {MAX_FEN} fen"),
            ))
        }
    }

    /// An amount already known to be valid (read back from the database or summed).
    pub const fn from_stored(fen: i64) -> Fen {
        Fen(fen)
    }

    /// The number of fen.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// `self + other`, saturating at `i64::MAX` (amounts are capped far below).
    pub fn plus(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }

    /// `self - other`, or `None` when that would be negative.
    pub fn minus(self, other: Fen) -> Option<Fen> {
        (self.0 >= other.0).then(|| Fen(self.0 - other.0))
    }

    /// Whether the amount is zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl TryFrom<i64> for Fen {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        Fen::new(v).map_err(|e| e.message)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

impl std::fmt::Display for Fen {
    /// Formats as yuan with two decimals, e.g. `¥1200.00`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen::ZERO, Fen::plus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_non_negative_integers_of_fen() {
        // rule ENR-3: money is integer fen
        assert_eq!(Fen::new(120_000).unwrap().get(), 120_000);
        assert!(Fen::new(-1).is_err());
        assert!(Fen::new(MAX_FEN + 1).is_err());
        assert_eq!(Fen::new(120_050).unwrap().to_string(), "¥1200.50");
    }

    #[test]
    fn subtraction_never_goes_negative() {
        let a = Fen::new(500).unwrap();
        let b = Fen::new(700).unwrap();
        assert_eq!(b.minus(a), Some(Fen::new(200).unwrap()));
        assert_eq!(a.minus(b), None);
        assert_eq!([a, b].into_iter().sum::<Fen>(), Fen::new(1200).unwrap());
    }

    #[test]
    fn json_refuses_negative_amounts() {
        assert!(serde_json::from_str::<Fen>("-5").is_err());
        assert_eq!(
            serde_json::from_str::<Fen>("5").unwrap(),
            Fen::new(5).unwrap()
        );
        assert_eq!(serde_json::to_string(&Fen::new(5).unwrap()).unwrap(), "5");
    }
}
