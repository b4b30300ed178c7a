//! Schema checks: the rules of a model's request schema (keys, types, lengths, ranges, enums), with
//! Bedrock's wording when one is broken.

use serde_json::{Map, Value};

use super::errors::{VResult, malformed, type_error};

/// A JSON object at a JSON-pointer-ish path (`#`, `#/inPaintingParams`).
pub(super) struct Obj<'a> {
    pub(super) path: String,
    pub(super) map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    pub(super) fn root(v: &'a Value) -> VResult<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj { path: "#".to_owned(), map }),
            other => Err(type_error("#", "JSONObject", other)),
        }
    }

    pub(super) fn at(&self, key: &str) -> String {
        format!("{}/{key}", self.path)
    }

    /// Rejects keys not in `keys` (the first, in key order).
    pub(super) fn allow(&self, keys: &[&str]) -> VResult<()> {
        match self.map.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(malformed(&self.path, format!("extraneous key [{k}] is not permitted"))),
            None => Ok(()),
        }
    }

    pub(super) fn require(&self, keys: &[&str]) -> VResult<()> {
        match keys.iter().find(|k| !self.map.contains_key(**k)) {
            Some(k) => Err(malformed(&self.path, format!("required key [{k}] not found"))),
            None => Ok(()),
        }
    }

    pub(super) fn string(&self, key: &str, min: usize, max: usize) -> VResult<Option<&'a str>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let s = v.as_str().ok_or_else(|| type_error(&self.at(key), "String", v))?;
        let n = s.chars().count();
        if n < min {
            return Err(malformed(&self.at(key), format!("expected minLength: {min}, actual: {n}")));
        }
        if n > max {
            return Err(malformed(&self.at(key), format!("expected maxLength: {max}, actual: {n}")));
        }
        Ok(Some(s))
    }

    pub(super) fn int(&self, key: &str, min: i64, max: i64) -> VResult<Option<i64>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let path = self.at(key);
        let i = match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
            other => return Err(type_error(&path, "Integer", other)),
        };
        if i < min {
            return Err(malformed(&path, format!("{v} is not greater or equal to {min}")));
        }
        if i > max {
            return Err(malformed(&path, format!("{v} is not less or equal to {max}")));
        }
        Ok(Some(i))
    }

    pub(super) fn number(&self, key: &str, min: f64, max: f64) -> VResult<Option<f64>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        let path = self.at(key);
        let x = v.as_f64().ok_or_else(|| type_error(&path, "Number", v))?;
        if x < min {
            return Err(malformed(&path, format!("{v} is not greater or equal to {min:?}")));
        }
        if x > max {
            return Err(malformed(&path, format!("{v} is not less or equal to {max:?}")));
        }
        Ok(Some(x))
    }

    pub(super) fn enumeration(&self, key: &str, allowed: &[&str]) -> VResult<Option<&'a str>> {
        let Some(v) = self.map.get(key) else { return Ok(None) };
        match v.as_str() {
            Some(s) if allowed.contains(&s) => Ok(Some(s)),
            Some(s) => Err(malformed(&self.at(key), format!("{s} is not a valid enum value"))),
            None => Err(malformed(&self.at(key), format!("{v} is not a valid enum value"))),
        }
    }
}
