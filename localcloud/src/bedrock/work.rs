//! The work to do: what a valid request asks the stand-in to draw, and the shape of the answer.

use sha2::{Digest, Sha256};

use super::images_in::Picture;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OutFormat {
    Png,
    Jpeg,
}

pub(super) enum Render {
    /// Change the pixels with `change` > 0 (a blend weight): fill from the unchanged pixels, tint with
    /// the prompt's colour (if any), stripe.
    Fill {
        pic: Picture,
        change: Vec<u8>,
        prompt: Option<String>,
    },
    /// Stability outpaint: a larger canvas around the image, the new border filled and tinted.
    Extend {
        pic: Picture,
        left: usize,
        right: usize,
        up: usize,
        down: usize,
        prompt: Option<String>,
    },
    /// Recolor `region` in the prompt's colour, keeping the luminance.
    Recolor {
        pic: Picture,
        region: Vec<u8>,
        prompt: String,
    },
    RemoveBackground {
        pic: Picture,
    },
    /// A gradient of `palette` (or of colours hashed from the prompt and the seed), optionally
    /// shaded by a guide image's luminance.
    Generate {
        w: usize,
        h: usize,
        prompt: String,
        palette: Vec<[u8; 3]>,
        guide: Option<Picture>,
    },
    /// A tinted, striped copy of `source` scaled to `w`×`h` (nearest neighbour); `amount` is the tint
    /// weight, the tint `colour` or else one hashed from the prompt and the seed.
    Vary {
        source: Picture,
        w: usize,
        h: usize,
        amount: f32,
        prompt: Option<String>,
        colour: Option<[u8; 3]>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// `{"seeds": [..], "finish_reasons": [null], "images": [..]}`
    Stability,
}

pub(super) struct Job {
    pub(super) render: Render,
    pub(super) count: u32,
    pub(super) seed: u64,
    pub(super) format: OutFormat,
    pub(super) answer: Answer,
    /// For the log line.
    pub(super) task: &'static str,
}

/// A digest of a request, for the seeds callers leave to chance: the whole body when small, else its
/// length and a sample of its bytes (hashing megabytes of base64 is slow in debug builds).
pub(super) fn request_digest(model: &str, body: &[u8]) -> [u8; 32] {
    if body.len() <= 65_536 {
        return digest(&[model.as_bytes(), body]);
    }
    let sample: Vec<u8> = body.iter().step_by(body.len() / 16_384).copied().collect();
    digest(&[model.as_bytes(), &(body.len() as u64).to_be_bytes(), &sample])
}

pub(super) fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize().into()
}
