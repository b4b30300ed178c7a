//! A field of a request as the caller sent it ([`Sent`]), and the field names of a type as serde
//! knows them ([`field_names`]).
//!
//! A request type's leaves are `Option<Sent<T>>`: absent (or null), of the field's JSON type, or
//! not. Deserializing such a type never fails on a value, so the type can list the fields once
//! and validation still names a wrong value in its own order (operation first, then options, then
//! texts, then images), whatever order the caller sent them in, with the field's range in the
//! message. Only a key the type does not have stops it, and [`Sent::UnknownKey`] says which.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A value as sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent<T> {
    /// Of the field's type.
    Valid(T),
    /// Of another JSON type (for a struct: not an object).
    WrongType,
    /// An object with a key `T` refuses (`deny_unknown_fields`): the first such key, in the order
    /// sent.
    UnknownKey(String),
}

impl<T: DeserializeOwned> Sent<T> {
    /// Reads `value` as a `T`. An owned value, so that strings (multi-megabyte images) move into
    /// `T` rather than being copied.
    pub fn from_value(value: Value) -> Self {
        let Some(fields) = struct_fields::<T>() else {
            return T::deserialize(value).map_or(Sent::WrongType, Sent::Valid);
        };
        // serde reads a struct from an array too (by position); a request's never comes as one.
        let Value::Object(map) = value else { return Sent::WrongType };
        let unknown = map.keys().find(|k| !fields.contains(&k.as_str())).cloned();
        match T::deserialize(Value::Object(map)) {
            Ok(t) => Sent::Valid(t),
            // A request type's leaves are `Sent` and take any value, so only an unknown key fails.
            Err(_) => unknown.map_or(Sent::WrongType, Sent::UnknownKey),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Sent::from_value)
    }
}

/// The names of `T`'s fields, in declaration order, as its derived `Deserialize` knows them
/// (renamed): the list a message of unknown keys shows is the type's own. Empty when `T` is not a
/// struct.
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct_fields::<T>().unwrap_or_default()
}

/// The fields serde's derive passes to `deserialize_struct`, or `None` when `T` asks for
/// something else (a string, a number, a map…).
fn struct_fields<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    /// A deserializer that only records what `deserialize_struct` is given and stops there.
    struct Names<'a>(&'a mut Option<&'static [&'static str]>);

    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = Some(fields);
            Err(de::Error::custom("only the field names were wanted"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields = None;
    // Always an error: the deserializer gives no value, only the names.
    let _ = T::deserialize(Names(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Strict {
        a_b: Option<Sent<String>>,
        c: Option<Sent<u32>>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Lenient {
        a: Option<Sent<u32>>,
    }

    #[test]
    fn field_names_are_serdes() {
        assert_eq!(field_names::<Strict>(), ["aB", "c"]);
        assert_eq!(field_names::<Lenient>(), ["a"]);
        assert!(field_names::<String>().is_empty());
        assert!(field_names::<Sent<Strict>>().is_empty(), "a Sent is any value");
    }

    #[test]
    fn leaves_take_any_value() {
        let s = Sent::<Strict>::from_value(json!({"aB": 5, "c": "x"}));
        assert_eq!(s, Sent::Valid(Strict { a_b: Some(Sent::WrongType), c: Some(Sent::WrongType) }));
        let s = Sent::<Strict>::from_value(json!({"aB": "x", "c": null}));
        assert_eq!(s, Sent::Valid(Strict { a_b: Some(Sent::Valid("x".to_owned())), c: None }));
    }

    /// A multi-megabyte image moves from the parsed body into the request: no copy.
    #[test]
    fn strings_move_rather_than_being_copied() {
        let image = "A".repeat(4 << 20);
        let address = image.as_ptr();
        let body = Value::Object([("aB".to_owned(), Value::String(image))].into_iter().collect());
        let Sent::Valid(Strict { a_b: Some(Sent::Valid(moved)), .. }) = Sent::<Strict>::from_value(body) else {
            panic!("not read")
        };
        assert_eq!(moved.as_ptr(), address);
    }

    #[test]
    fn structs_are_objects_and_strict_ones_name_the_first_unknown_key() {
        assert_eq!(Sent::<Strict>::from_value(json!([1, 2])), Sent::WrongType);
        assert_eq!(Sent::<Strict>::from_value(json!("x")), Sent::WrongType);
        assert_eq!(
            Sent::<Strict>::from_value(json!({"c": 1, "zz": [[[1]]], "yy": 2})),
            Sent::UnknownKey("zz".to_owned())
        );
        // Without `deny_unknown_fields`, other keys are ignored.
        assert_eq!(
            Sent::<Lenient>::from_value(json!({"a": 1, "b": 2})),
            Sent::Valid(Lenient { a: Some(Sent::Valid(1)) })
        );
    }
}
