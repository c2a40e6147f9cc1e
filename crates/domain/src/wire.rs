//! Crate-internal plumbing shared by the wire enums and the state machines.

use crate::error::InvalidTransition;

/// Implemented by every enum generated with [`wire_enum!`].
pub(crate) trait WireEnum: Copy + Eq + 'static {
    /// The snake_case wire name of the variant.
    fn wire_name(self) -> &'static str;
}

/// Declares a closed enum that travels over the wire as a snake_case string.
///
/// Generates the enum with the standard derives (plus `utoipa::ToSchema` under
/// the `openapi` feature) and, from one list of `Variant => "wire_name"` pairs,
/// `ALL`, `WIRE_NAMES`, `KIND`, `as_str`, `Display` and `FromStr`. The explicit
/// serde rename keeps serde, utoipa and `as_str` in agreement even where
/// `rename_all` would differ (`Level5 => "level_5"`). Wire names are matched
/// as `tt`, not `literal`: a `literal` fragment reaches derive macros wrapped
/// in an invisible group, which utoipa-gen silently ignores.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &[Self] = &[$(Self::$variant),+];
            /// The wire names of every variant, in declaration order.
            pub const WIRE_NAMES: &[&str] = &[$($wire),+];
            /// Name of this kind of value, used in error messages.
            pub const KIND: &str = $kind;

            /// The snake_case wire name of this variant.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }
        }

        impl $crate::wire::WireEnum for $name {
            fn wire_name(self) -> &'static str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::UnknownValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::error::UnknownValue {
                        kind: Self::KIND,
                        value: s.to_owned(),
                        expected: Self::WIRE_NAMES,
                    })
            }
        }
    };
}

pub(crate) use wire_enum;

/// A finite state machine given as a table of `(from, action, to)` edges
/// (API-4: actions are guarded by the current state).
pub(crate) struct StateMachine<S: 'static, A: 'static> {
    /// Entity kind reported in [`InvalidTransition::entity`].
    pub entity: &'static str,
    /// SPEC rule reported in [`InvalidTransition::rule`].
    pub rule: Option<&'static str>,
    /// Allowed edges; the order defines the order of allowed actions.
    pub edges: &'static [(S, A, S)],
}

impl<S: WireEnum, A: WireEnum> StateMachine<S, A> {
    /// The state reached by `action` from `from`, or the refusal listing the
    /// actions allowed from `from`.
    pub(crate) fn apply(&self, from: S, action: A) -> Result<S, InvalidTransition> {
        self.edges
            .iter()
            .find(|(f, a, _)| *f == from && *a == action)
            .map(|&(_, _, to)| to)
            .ok_or_else(|| InvalidTransition {
                entity: self.entity,
                from: from.wire_name(),
                action: action.wire_name(),
                allowed: self.allowed(from),
                rule: self.rule,
            })
    }

    /// Wire names of the actions allowed from `from`.
    pub(crate) fn allowed(&self, from: S) -> Vec<&'static str> {
        self.edges
            .iter()
            .filter(|(f, _, _)| *f == from)
            .map(|(_, a, _)| a.wire_name())
            .collect()
    }
}

/// Shared assertions for the unit tests of each state machine.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use std::fmt::Debug;

    /// Checks `apply` against the full expected table: every `(state, action)`
    /// pair not in `expected` must be refused with exactly `allowed(state)`.
    pub(crate) fn assert_machine<S: WireEnum + Debug, A: WireEnum + Debug>(
        all_states: &[S],
        all_actions: &[A],
        expected: &[(S, A, S)],
        apply: impl Fn(S, A) -> Result<S, InvalidTransition>,
        allowed: impl Fn(S) -> Vec<&'static str>,
        entity: &str,
        rule: Option<&str>,
    ) {
        for &from in all_states {
            let expected_allowed: Vec<_> = expected
                .iter()
                .filter(|(f, _, _)| *f == from)
                .map(|(_, a, _)| a.wire_name())
                .collect();
            assert_eq!(allowed(from), expected_allowed, "allowed from {from:?}");
            for &action in all_actions {
                let want = expected
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|&(_, _, to)| to);
                match (apply(from, action), want) {
                    (Ok(got), Some(to)) => assert_eq!(got, to, "{from:?} --{action:?}-->"),
                    (Err(e), None) => {
                        assert_eq!(e.entity, entity);
                        assert_eq!(e.rule, rule);
                        assert_eq!(e.from, from.wire_name());
                        assert_eq!(e.action, action.wire_name());
                        assert_eq!(e.allowed, expected_allowed, "{from:?} --{action:?}-->");
                    }
                    (got, want) => panic!("{from:?} --{action:?}--> got {got:?}, want {want:?}"),
                }
            }
        }
    }

    /// Checks that `as_str`, `Display`, `FromStr` and serde agree for every
    /// variant and that unknown names are rejected (API-1 snake_case).
    pub(crate) fn assert_wire_roundtrip<T>(all: &[T], wire_names: &[&str])
    where
        T: WireEnum
            + Debug
            + std::fmt::Display
            + std::str::FromStr<Err = crate::error::UnknownValue>
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        assert_eq!(all.len(), wire_names.len());
        for (&v, &name) in all.iter().zip(wire_names) {
            assert_eq!(v.wire_name(), name);
            assert_eq!(v.to_string(), name);
            assert_eq!(name.parse::<T>().unwrap(), v);
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<T>(&format!("\"{name}\"")).unwrap(),
                v
            );
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name} is not snake_case"
            );
        }
        let err = "No Such Value".parse::<T>().unwrap_err();
        assert_eq!(err.value, "No Such Value");
        assert_eq!(err.expected, wire_names);
    }

    /// Checks that the OpenAPI schema of `T` is a string enum of exactly
    /// `wire_names` (API-7: the contract matches the wire format).
    #[cfg(feature = "openapi")]
    pub(crate) fn assert_schema_enum<T: utoipa::PartialSchema>(wire_names: &[&str]) {
        let schema = serde_json::to_value(T::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
        assert_eq!(schema["enum"], serde_json::json!(wire_names), "{schema}");
    }

    /// Runs [`assert_wire_roundtrip`] (and, with the `openapi` feature,
    /// [`assert_schema_enum`]) for each listed enum.
    macro_rules! assert_wire_enums {
        ($($t:ty),+ $(,)?) => {$(
            $crate::wire::testing::assert_wire_roundtrip(<$t>::ALL, <$t>::WIRE_NAMES);
            #[cfg(feature = "openapi")]
            $crate::wire::testing::assert_schema_enum::<$t>(<$t>::WIRE_NAMES);
        )+};
    }

    pub(crate) use assert_wire_enums;
}
