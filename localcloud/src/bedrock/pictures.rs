//! Pictures out: the deterministic, visibly edited pictures the stand-in draws, encoded as the
//! request asked.

use axum::http::StatusCode;
use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

use super::STAB_MAX_PIXELS;
use super::errors::{ApiError, VResult};
use super::images_in::{Picture, Rect, luma};
use super::work::{Answer, Job, OutFormat, Render, digest};

/// An output image, encoded and base64'd.
pub(super) struct Encoded {
    w: usize,
    h: usize,
    pub(super) b64: String,
}

/// Fills unknown pixels from known ones: averages of the known pixels over a pyramid of 2×2
/// blocks ("pull"), then each level's gaps filled from the coarser level ("push").
struct PullPush {
    /// The window's top left corner in the image.
    x0: usize,
    y0: usize,
    /// Levels from half size down to 1×1: width, height, colour.
    levels: Vec<(usize, usize, Vec<[f32; 3]>)>,
}

impl PullPush {
    /// Over the pixels of `win` in a `w`-wide image; known are those where `change` is 0.
    fn new(rgb: &[u8], w: usize, change: &[u8], win: Rect) -> PullPush {
        let mut levels: Vec<Level> = Vec::new();
        // Level 1 straight from the pixels.
        let (ww, wh) = (win.x1 - win.x0 + 1, win.y1 - win.y0 + 1);
        let (lw, lh) = (ww.div_ceil(2), wh.div_ceil(2));
        let mut c = vec![[0f32; 3]; lw * lh];
        let mut wt = vec![0f32; lw * lh];
        for y in 0..wh {
            let row = (y / 2) * lw;
            for x in 0..ww {
                let i = (y + win.y0) * w + x + win.x0;
                if change[i] == 0 {
                    let j = row + x / 2;
                    let p = &rgb[i * 3..i * 3 + 3];
                    c[j][0] += f32::from(p[0]);
                    c[j][1] += f32::from(p[1]);
                    c[j][2] += f32::from(p[2]);
                    wt[j] += 1.0;
                }
            }
        }
        normalise(&mut c, &mut wt);
        let mut cur = (lw, lh, c, wt);
        // Coarser levels.
        while cur.0 > 1 || cur.1 > 1 {
            let next = Self::pull(&cur);
            levels.push(std::mem::replace(&mut cur, next));
        }
        levels.push(cur);
        // Push: nothing known at all → mid grey; then fill each level's gaps from the coarser one.
        if let Some(top) = levels.last_mut()
            && top.3[0] == 0.0
        {
            top.2[0] = [128.0; 3];
            top.3[0] = 1.0;
        }
        for k in (0..levels.len().saturating_sub(1)).rev() {
            let (upper, lower) = levels.split_at_mut(k + 1);
            let (lw, lh, lc, lwt) = &mut upper[k];
            let (uw, uh, uc, _) = &lower[0];
            for y in 0..*lh {
                for x in 0..*lw {
                    let i = y * *lw + x;
                    let a = lwt[i];
                    if a < 1.0 {
                        let p = bilinear(*uw, *uh, uc, (x as f32 + 0.5) / 2.0 - 0.5, (y as f32 + 0.5) / 2.0 - 0.5);
                        for ch in 0..3 {
                            lc[i][ch] = lc[i][ch] * a + p[ch] * (1.0 - a);
                        }
                        lwt[i] = 1.0;
                    }
                }
            }
        }
        PullPush { x0: win.x0, y0: win.y0, levels: levels.into_iter().map(|(w, h, c, _)| (w, h, c)).collect() }
    }

    /// The next coarser level: weighted averages of 2×2 blocks.
    fn pull((pw, ph, pc, pwt): &Level) -> Level {
        let (pw, ph) = (*pw, *ph);
        let (nw, nh) = (pw.div_ceil(2), ph.div_ceil(2));
        let mut c = vec![[0f32; 3]; nw * nh];
        let mut wt = vec![0f32; nw * nh];
        for y in 0..ph {
            for x in 0..pw {
                let i = y * pw + x;
                let j = (y / 2) * nw + x / 2;
                let a = pwt[i];
                if a > 0.0 {
                    c[j][0] += pc[i][0] * a;
                    c[j][1] += pc[i][1] * a;
                    c[j][2] += pc[i][2] * a;
                    wt[j] += a;
                }
            }
        }
        normalise(&mut c, &mut wt);
        (nw, nh, c, wt)
    }

    /// The fill colour of full-size pixel (x, y).
    fn at(&self, x: usize, y: usize) -> [f32; 3] {
        let (w, h, c) = &self.levels[0];
        let (x, y) = (x - self.x0, y - self.y0);
        bilinear(*w, *h, c, (x as f32 + 0.5) / 2.0 - 0.5, (y as f32 + 0.5) / 2.0 - 0.5)
    }
}

/// Width, height, colour and weight (1 = known) of a pyramid level.
type Level = (usize, usize, Vec<[f32; 3]>, Vec<f32>);

/// Sums of weighted colours → averages; weights capped at 1.
fn normalise(c: &mut [[f32; 3]], wt: &mut [f32]) {
    for (cj, wj) in c.iter_mut().zip(wt.iter_mut()) {
        if *wj > 0.0 {
            for ch in cj.iter_mut() {
                *ch /= *wj;
            }
            *wj = wj.min(1.0);
        }
    }
}

fn bilinear(w: usize, h: usize, c: &[[f32; 3]], fx: f32, fy: f32) -> [f32; 3] {
    let fx = fx.clamp(0.0, (w - 1) as f32);
    let fy = fy.clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let (a, b, cc, d) = (c[y0 * w + x0], c[y0 * w + x1], c[y1 * w + x0], c[y1 * w + x1]);
    let mut out = [0f32; 3];
    for ch in 0..3 {
        let top = a[ch] + (b[ch] - a[ch]) * tx;
        let bottom = cc[ch] + (d[ch] - cc[ch]) * tx;
        out[ch] = top + (bottom - top) * ty;
    }
    out
}

fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i as u32 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [r * 255.0, g * 255.0, b * 255.0]
}

/// The prompt's colour; `variant` turns the hue for the 2nd, 3rd… image.
fn tint_of(prompt: &str, variant: u32) -> [f32; 3] {
    let d = digest(&[prompt.as_bytes()]);
    let hue = f32::from(u16::from_be_bytes([d[0], d[1]])) / 65536.0;
    hsv(hue + variant as f32 * 0.13, 0.8, 0.95)
}

/// The stand-in's mark: diagonal stripes.
fn stripe(x: usize, y: usize, variant: u32) -> bool {
    ((x + y + variant as usize * 3) / 6).is_multiple_of(4)
}

/// Stripes in black on light colours, white on dark ones.
fn striped(c: [f32; 3], weight: f32) -> [f32; 3] {
    let l = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
    let target = if l < 110.0 { 255.0 } else { 0.0 };
    [mix(c[0], target, weight), mix(c[1], target, weight), mix(c[2], target, weight)]
}

fn mix(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

const TINT: f32 = 0.45;
const STRIPE: f32 = 0.35;

pub(super) fn render(job: &Job, block_output: bool) -> VResult<Vec<Encoded>> {
    let mut out = Vec::new();
    match &job.render {
        Render::Fill { pic, change, prompt } => {
            for v in 0..job.count {
                let rgb = fill_change(pic, change, prompt.as_deref(), v);
                out.push(encode_rgb(pic.w, pic.h, &rgb, job.format)?);
            }
        }
        Render::Extend { pic, left, right, up, down, prompt } => {
            let (pic, [left, right, up, down]) = fit_extension(pic, [*left, *right, *up, *down]);
            let (w, h) = (pic.w + left + right, pic.h + up + down);
            let mut rgb = vec![0u8; w * h * 3];
            let mut change = vec![255u8; w * h];
            for y in 0..pic.h {
                let dst = ((y + up) * w + left) * 3;
                rgb[dst..dst + pic.w * 3].copy_from_slice(&pic.rgb[y * pic.w * 3..(y + 1) * pic.w * 3]);
                change[(y + up) * w + left..(y + up) * w + left + pic.w].fill(0);
            }
            let canvas = Picture { w, h, rgb, alpha: None };
            let rgb = fill_change(&canvas, &change, prompt.as_deref(), 0);
            out.push(encode_rgb(w, h, &rgb, job.format)?);
        }
        Render::Recolor { pic, region, prompt } => {
            let t = tint_of(prompt, 0);
            let mut rgb = pic.rgb.clone();
            for (i, &a) in region.iter().enumerate() {
                if a == 0 {
                    continue;
                }
                let (x, y) = (i % pic.w, i / pic.w);
                let px = &pic.rgb[i * 3..i * 3 + 3];
                let l = f32::from(luma(px)) / 255.0;
                let mut c = [t[0] * (0.3 + 0.8 * l), t[1] * (0.3 + 0.8 * l), t[2] * (0.3 + 0.8 * l)];
                if stripe(x, y, 0) {
                    c = striped(c, STRIPE);
                }
                let a = f32::from(a) / 255.0;
                for ch in 0..3 {
                    rgb[i * 3 + ch] = to_u8(mix(f32::from(px[ch]), c[ch], a));
                }
            }
            out.push(encode_rgb(pic.w, pic.h, &rgb, job.format)?);
        }
        Render::RemoveBackground { pic } => {
            let rgba = remove_background(pic);
            out.push(encode(pic.w, pic.h, &rgba, ExtendedColorType::Rgba8, OutFormat::Png)?);
        }
        Render::Generate { w, h, prompt, palette, guide } => {
            for v in 0..job.count {
                let rgb = generate(*w, *h, prompt, palette, guide.as_ref(), job.seed + u64::from(v), v);
                out.push(encode_rgb(*w, *h, &rgb, job.format)?);
            }
        }
        Render::Vary { source, w, h, amount, prompt, colour } => {
            for v in 0..job.count {
                let tint = match colour {
                    Some(c) => c.map(f32::from),
                    None => tint_of(&format!("{}\u{0}{}", prompt.as_deref().unwrap_or(""), job.seed), v),
                };
                let rgb = vary(source, *w, *h, *amount, tint, v);
                out.push(encode_rgb(*w, *h, &rgb, job.format)?);
            }
        }
    }
    // Stability answers a blocked output with a placeholder and a finish reason.
    if block_output && job.answer == Answer::Stability {
        out = out
            .iter()
            .map(|e| encode_rgb(e.w, e.h, &vec![128u8; e.w * e.h * 3], job.format))
            .collect::<VResult<_>>()?;
    }
    Ok(out)
}

/// `pic` with its `change` area filled from the surroundings, tinted and striped.
fn fill_change(pic: &Picture, change: &[u8], prompt: Option<&str>, variant: u32) -> Vec<u8> {
    let mut rgb = pic.rgb.clone();
    let Some(bb) = Rect::around(change, pic.w) else { return rgb };
    // The fill comes from a window around the change area, its own size wider on each side.
    let margin = (bb.x1 - bb.x0).max(bb.y1 - bb.y0).max(32);
    let fill = PullPush::new(&pic.rgb, pic.w, change, bb.widen(margin, pic.w, pic.h));
    let tint = prompt.filter(|p| !p.is_empty()).map(|p| tint_of(p, variant));
    for y in bb.y0..=bb.y1 {
        for x in bb.x0..=bb.x1 {
            let i = y * pic.w + x;
            let a = change[i];
            if a == 0 {
                continue;
            }
            let mut c = fill.at(x, y);
            if let Some(t) = tint {
                c = [mix(c[0], t[0], TINT), mix(c[1], t[1], TINT), mix(c[2], t[2], TINT)];
            }
            if stripe(x, y, variant) {
                c = striped(c, STRIPE);
            }
            let a = f32::from(a) / 255.0;
            for ch in 0..3 {
                rgb[i * 3 + ch] = to_u8(mix(f32::from(pic.rgb[i * 3 + ch]), c[ch], a));
            }
        }
    }
    rgb
}

/// Scales an outpaint down (nearest neighbour) when the result would exceed Stability's pixel budget.
fn fit_extension(pic: &Picture, ext: [usize; 4]) -> (Picture, [usize; 4]) {
    let total = ((pic.w + ext[0] + ext[1]) * (pic.h + ext[2] + ext[3])) as f64;
    if total <= STAB_MAX_PIXELS as f64 {
        return (pic.clone(), ext);
    }
    let s = (STAB_MAX_PIXELS as f64 / total).sqrt();
    let scale = |v: usize| (v as f64 * s).floor() as usize;
    let (w, h) = (scale(pic.w).max(1), scale(pic.h).max(1));
    (resample(pic, w, h), ext.map(scale))
}

fn resample(pic: &Picture, w: usize, h: usize) -> Picture {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let sy = (y * pic.h / h).min(pic.h - 1);
        for x in 0..w {
            let sx = (x * pic.w / w).min(pic.w - 1);
            let i = (sy * pic.w + sx) * 3;
            rgb.extend_from_slice(&pic.rgb[i..i + 3]);
        }
    }
    Picture { w, h, rgb, alpha: None }
}

/// Background = pixels connected to the image border through colours close to the border pixel
/// the region started from (a flood fill from every border pixel); it becomes transparent.
fn remove_background(pic: &Picture) -> Vec<u8> {
    const TOLERANCE: u32 = 60;
    let (w, h) = (pic.w, pic.h);
    let px = |i: usize| &pic.rgb[i * 3..i * 3 + 3];
    let close = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(&x, &y)| u32::from(x.abs_diff(y))).sum::<u32>() <= TOLERANCE;
    // The border pixel each background pixel was reached from.
    let mut seed = vec![usize::MAX; w * h];
    let mut queue = std::collections::VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                let i = y * w + x;
                seed[i] = i;
                queue.push_back(i);
            }
        }
    }
    while let Some(i) = queue.pop_front() {
        let (x, y, s) = (i % w, i / w, seed[i]);
        let mut visit = |j: usize| {
            if seed[j] == usize::MAX && close(px(j), px(s)) {
                seed[j] = s;
                queue.push_back(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < w {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - w);
        }
        if y + 1 < h {
            visit(i + w);
        }
    }
    let mut rgba = Vec::with_capacity(w * h * 4);
    for (i, p) in pic.rgb.chunks_exact(3).enumerate() {
        let a = if seed[i] == usize::MAX { 255 } else { 0 };
        let a = pic.alpha.as_ref().map_or(a, |al| a.min(al[i]));
        rgba.extend_from_slice(&[p[0], p[1], p[2], a]);
    }
    rgba
}

fn generate(
    w: usize,
    h: usize,
    prompt: &str,
    palette: &[[u8; 3]],
    guide: Option<&Picture>,
    seed: u64,
    v: u32,
) -> Vec<u8> {
    let colours: Vec<[f32; 3]> = if palette.is_empty() {
        let d = digest(&[prompt.as_bytes(), &seed.to_be_bytes()]);
        let hue = f32::from(u16::from_be_bytes([d[0], d[1]])) / 65536.0;
        vec![hsv(hue, 0.7, 0.95), hsv(hue + 0.33, 0.6, 0.55), hsv(hue + 0.5, 0.8, 0.85)]
    } else {
        palette.iter().map(|c| c.map(f32::from)).collect()
    };
    let guide = guide.map(|g| resample(g, w, h));
    let k = colours.len();
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let t = 0.6 * x as f32 / w as f32 + 0.4 * y as f32 / h as f32;
            let pos = t * (k.max(2) - 1) as f32;
            let (i0, f) = ((pos.floor() as usize).min(k - 1), pos.fract());
            let i1 = (i0 + 1).min(k - 1);
            let mut c = [0f32; 3];
            for ch in 0..3 {
                c[ch] = mix(colours[i0][ch], colours[i1][ch], f);
            }
            if let Some(g) = &guide {
                let l = f32::from(luma(&g.rgb[(y * w + x) * 3..(y * w + x) * 3 + 3])) / 255.0;
                c = c.map(|v| v * (0.35 + 0.9 * l));
            }
            if stripe(x, y, v) {
                c = striped(c, 0.2);
            }
            rgb.extend(c.map(to_u8));
        }
    }
    rgb
}

fn vary(source: &Picture, w: usize, h: usize, amount: f32, t: [f32; 3], v: u32) -> Vec<u8> {
    let scaled;
    let base = if (source.w, source.h) == (w, h) {
        source
    } else {
        scaled = resample(source, w, h);
        &scaled
    };
    let mut rgb = Vec::with_capacity(w * h * 3);
    for (i, px) in base.rgb.chunks_exact(3).enumerate() {
        let mut c = [0f32; 3];
        for ch in 0..3 {
            c[ch] = mix(f32::from(px[ch]), t[ch], amount);
        }
        if stripe(i % w, i / w, v) {
            c = striped(c, 0.2);
        }
        rgb.extend(c.map(to_u8));
    }
    rgb
}

/// The mean colour of a picture.
pub(super) fn mean_colour(pic: &Picture) -> [u8; 3] {
    band_means(pic, 1)[0]
}

/// The mean colours of `n` vertical bands of a picture, left to right.
fn band_means(pic: &Picture, n: usize) -> Vec<[u8; 3]> {
    let mut sums = vec![[0u64; 3]; n];
    let mut counts = vec![0u64; n];
    for (i, px) in pic.rgb.chunks_exact(3).enumerate() {
        let band = (i % pic.w) * n / pic.w;
        for ch in 0..3 {
            sums[band][ch] += u64::from(px[ch]);
        }
        counts[band] += 1;
    }
    sums.iter().zip(&counts).map(|(s, &c)| s.map(|v| (v / c.max(1)) as u8)).collect()
}

/// Style Guide's palette: the style picture's colours (three bands), drawn towards the prompt's
/// colour the less `fidelity` asks to follow the style.
pub(super) fn style_palette(style: &Picture, prompt: &str, fidelity: f32) -> Vec<[u8; 3]> {
    let t = tint_of(prompt, 0);
    let pull = 0.6 * (1.0 - fidelity);
    band_means(style, 3)
        .into_iter()
        .map(|c| {
            [
                to_u8(mix(f32::from(c[0]), t[0], pull)),
                to_u8(mix(f32::from(c[1]), t[1], pull)),
                to_u8(mix(f32::from(c[2]), t[2], pull)),
            ]
        })
        .collect()
}

fn encode_rgb(w: usize, h: usize, rgb: &[u8], format: OutFormat) -> VResult<Encoded> {
    encode(w, h, rgb, ExtendedColorType::Rgb8, format)
}

fn encode(w: usize, h: usize, data: &[u8], color: ExtendedColorType, format: OutFormat) -> VResult<Encoded> {
    let mut buf = Vec::new();
    let (wu, hu) = (w as u32, h as u32);
    let res = match format {
        OutFormat::Png => PngEncoder::new_with_quality(&mut buf, CompressionType::Fast, FilterType::Up)
            .write_image(data, wu, hu, color),
        OutFormat::Jpeg => JpegEncoder::new_with_quality(&mut buf, 90).write_image(data, wu, hu, color),
    };
    res.map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", format!("stand-in encoder: {e}"))
    })?;
    Ok(Encoded { w, h, b64: base64::engine::general_purpose::STANDARD.encode(&buf) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_push_fills_holes_with_the_surroundings() {
        let (w, h) = (16, 16);
        let rgb: Vec<u8> = (0..w * h).flat_map(|_| [200u8, 10, 10]).collect();
        let hole: Vec<u8> =
            (0..w * h).map(|i| u8::from((4..12).contains(&(i % w)) && (4..12).contains(&(i / w)))).collect();
        let f = PullPush::new(&rgb, w, &hole, Rect { x0: 0, y0: 0, x1: w - 1, y1: h - 1 });
        let c = f.at(8, 8);
        assert!((c[0] - 200.0).abs() < 1.0 && (c[1] - 10.0).abs() < 1.0, "{c:?}");
    }

    #[test]
    fn nothing_known_fills_grey() {
        let rgb = vec![0u8; 4 * 4 * 3];
        let f = PullPush::new(&rgb, 4, &[1; 16], Rect { x0: 0, y0: 0, x1: 3, y1: 3 });
        assert_eq!(f.at(1, 1), [128.0; 3]);
    }
}
