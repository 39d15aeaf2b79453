//! Forward-compatible enums for values the server sends.
//!
//! Every such enum is `#[non_exhaustive]` and has an `Unknown` variant that keeps the string it
//! did not recognise (docs/protocol.md §8.4: the order
//! query's answers carry values its document's enum lists leave out), so one new
//! server value never breaks a whole answer. `From<&str>` is infallible and `as_str()` gives back
//! exactly what was received.

use std::fmt;

/// A server value that this version of the SDK does not know, kept verbatim.
///
/// It cannot be built from a known value, so `Unknown` never shadows a named variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(pub(crate) String);

impl UnknownValue {
    /// The value exactly as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a server enum with an `Unknown(UnknownValue)` fallback.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown($crate::wire_enum::UnknownValue),
        }

        impl $name {
            /// Every value this version knows, in documentation order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Unknown(v) => v.as_str(),
                }
            }

            /// Whether this value is one this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, $name::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    other => $name::Unknown($crate::wire_enum::UnknownValue(other.to_owned())),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => $name::$variant, )+
                    _ => $name::Unknown($crate::wire_enum::UnknownValue(s)),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                Ok($name::from(s))
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
#[allow(unreachable_pub, dead_code)]
mod tests {
    wire_enum! {
        /// Test enum.
        pub enum Colour {
            /// Red.
            Red = "RED",
        }
    }

    #[test]
    fn unknown_values_round_trip_and_known_ones_never_become_unknown() {
        assert_eq!(Colour::from("RED"), Colour::Red);
        let other = Colour::from("MAUVE");
        assert!(other.is_unknown());
        assert_eq!(other.as_str(), "MAUVE");
        let json = serde_json::to_string(&other).unwrap();
        assert_eq!(json, "\"MAUVE\"");
        assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), other);
        assert_eq!(serde_json::from_str::<Colour>("\"RED\"").unwrap(), Colour::Red);
    }
}
