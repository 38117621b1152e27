//! `wire_enum!`: declares a string enumeration of the OCPP schemas once — each variant with its exact wire
//! spelling — and derives serde and an allocation-free `as_str` from that single list.

/// Declares `pub enum $name` whose variants (de)serialize as the given string literals, plus `as_str()`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`.")]
                $(#[$vmeta])*
                #[serde(rename = $wire)]
                $variant,
            )*
        }

        impl $name {
            /// The value as spelled on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }
        }
    };
}

pub(crate) use wire_enum;
