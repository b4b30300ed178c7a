//! Golden tests: the exact InvokeModel body per operation, and the mask conversion.
//! Images in the bodies are replaced by `<png WxH>` placeholders (see `common::redact`); the masks
//! themselves are decoded and checked pixel by pixel.

use crate::common;

use common::*;
use image::GenericImageView;
use serde_json::{Value, json};

const W: u32 = 512;
const H: u32 = 384;
/// The white (change) rectangle of the test masks.
const RECT: (u32, u32, u32, u32) = (100, 100, 200, 200);

async fn sent(family: &'static str, body: Value) -> (Value, Value) {
    let model = FakeModel::ok(family, W, H);
    let app = app(family, model.clone());
    let resp = app.handle(post_edit(&body)).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    let (_, request) = model.last_call().expect("the model was called");
    (request, json_body(&resp))
}

fn image() -> String {
    png_data_url(W, H)
}

fn mask() -> String {
    mask_b64(W, H, RECT)
}

// ---------- Stability ----------

#[tokio::test]
async fn stability_inpaint() {
    let (req, resp) = sent(
        "stability",
        json!({"operation": "inpaint", "prompt": "a red sports car", "negativePrompt": "blurry",
               "image": image(), "mask": mask(), "options": {"seed": 42}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "mask": "<png 512x384>", "prompt": "a red sports car",
               "negative_prompt": "blurry", "seed": 42, "output_format": "png"})
    );
    assert_eq!(resp["seeds"], json!([42]));
    assert_eq!(resp["model"], "stability.stable-image-inpaint-v1:0");
    assert_eq!(resp["operation"], "inpaint");
    assert_eq!(resp["standIn"], false);
    assert_eq!(resp["images"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn stability_outpaint() {
    let (req, _) = sent(
        "stability",
        json!({"operation": "outpaint", "prompt": "more beach", "image": image(),
               "options": {"seed": 7, "strength": 0.3, "extents": {"right": 256, "down": 64}}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "left": 0, "right": 256, "up": 0, "down": 64, "creativity": 0.3,
               "prompt": "more beach", "seed": 7, "output_format": "png"})
    );
}

#[tokio::test]
async fn stability_replace_and_recolor() {
    let (req, _) = sent(
        "stability",
        json!({"operation": "replace", "prompt": "a golden retriever", "maskPrompt": "the cat",
               "image": image(), "options": {"seed": 1}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "prompt": "a golden retriever", "search_prompt": "the cat",
               "seed": 1, "output_format": "png"})
    );
    let (req, _) = sent(
        "stability",
        json!({"operation": "recolor", "prompt": "bright red", "maskPrompt": "the car", "negativePrompt": "pink",
               "image": image(), "options": {"seed": 2}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "prompt": "bright red", "select_prompt": "the car",
               "negative_prompt": "pink", "seed": 2, "output_format": "png"})
    );
}

#[tokio::test]
async fn stability_erase_remove_background_generate() {
    let (req, _) =
        sent("stability", json!({"operation": "erase", "image": image(), "mask": mask(), "options": {"seed": 3}}))
            .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "mask": "<png 512x384>", "seed": 3, "output_format": "png"})
    );

    let (req, resp) = sent("stability", json!({"operation": "remove-background", "image": image()})).await;
    assert_eq!(redact(&req), json!({"image": "<png 512x384>", "output_format": "png"}));
    assert_eq!(resp["notices"], json!([]));

    let (req, _) = sent(
        "stability",
        json!({"operation": "generate", "prompt": "a lighthouse at dusk", "negativePrompt": "people", "options": {"seed": 4}}),
    )
    .await;
    assert_eq!(
        req,
        json!({"prompt": "a lighthouse at dusk", "negative_prompt": "people", "aspect_ratio": "1:1",
               "seed": 4, "output_format": "png"})
    );
}

/// The control services: the picture guides a new one (`control_strength`, `fidelity`), and Style
/// Transfer names its two pictures `init_image` and `style_image`.
#[tokio::test]
async fn stability_control_services() {
    for (op, key) in [("sketch", "control_strength"), ("structure", "control_strength")] {
        let (req, _) = sent(
            "stability",
            json!({"operation": op, "prompt": "a castle", "negativePrompt": "fog", "image": image(),
                   "options": {"seed": 5, "strength": 0.4}}),
        )
        .await;
        let mut want = json!({"image": "<png 512x384>", "prompt": "a castle", "negative_prompt": "fog", "seed": 5,
                              "output_format": "png"});
        want[key] = json!(0.4);
        assert_eq!(redact(&req), want, "{op}");
    }
    // Style Guide draws at the listed aspect ratio nearest the style picture's (512×384 → 5:4).
    let (req, _) = sent(
        "stability",
        json!({"operation": "style-guide", "prompt": "a cat", "image": image(),
                                            "options": {"seed": 6}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "prompt": "a cat", "fidelity": 0.5, "aspect_ratio": "5:4", "seed": 6,
               "output_format": "png"})
    );
    let (req, _) = sent(
        "stability",
        json!({"operation": "style-transfer", "image": image(), "styleImage": png_data_url(256, 256),
               "options": {"seed": 7, "strength": 0.8}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"init_image": "<png 512x384>", "style_image": "<png 256x256>", "style_strength": 0.8, "seed": 7,
               "output_format": "png"})
    );
}

/// `upscale` with each upscaler: Fast takes the image only (scaled down to 1 MP first), the others
/// a prompt and their own `creativity`.
#[tokio::test]
async fn stability_upscalers() {
    let (req, resp) = sent("stability", json!({"operation": "upscale", "image": image()})).await;
    assert_eq!(redact(&req), json!({"image": "<png 512x384>", "output_format": "png"}));
    assert_eq!(resp["model"], "us.stability.stable-fast-upscale-v1:0");
    let (req, resp) = sent(
        "stability",
        json!({"operation": "upscale", "prompt": "a sharp photo", "image": image(),
               "options": {"upscaler": "conservative", "seed": 8}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "prompt": "a sharp photo", "creativity": 0.35, "seed": 8, "output_format": "png"})
    );
    assert_eq!(resp["model"], "us.stability.stable-conservative-upscale-v1:0");
    let big = png_b64(1600, 1200);
    let (req, resp) = sent(
        "stability",
        json!({"operation": "upscale", "prompt": "x", "image": big, "options": {"upscaler": "creative", "seed": 9}}),
    )
    .await;
    assert_eq!(req["creativity"], 0.3);
    let sent_image = decode_b64(req["image"].as_str().unwrap_or_default());
    let (w, h) = sent_image.dimensions();
    assert!(u64::from(w) * u64::from(h) <= 1_048_576, "{w}×{h}");
    assert!(resp["notices"][0].as_str().is_some_and(|n| n.starts_with("image resized to")), "{}", resp["notices"]);
}

/// `generate` with each generator, and `variation` through SD3.5 Large image-to-image.
#[tokio::test]
async fn stability_generators_and_variation() {
    let (req, resp) = sent(
        "stability",
        json!({"operation": "generate", "prompt": "a fox", "options": {"generator": "ultra", "seed": 1}}),
    )
    .await;
    assert_eq!(req, json!({"prompt": "a fox", "aspect_ratio": "1:1", "seed": 1, "output_format": "png"}));
    assert_eq!(resp["model"], "stability.stable-image-ultra-v1:1");
    let (req, _) = sent(
        "stability",
        json!({"operation": "generate", "prompt": "a fox", "options": {"generator": "sd3.5-large", "seed": 1}}),
    )
    .await;
    assert_eq!(req["mode"], "text-to-image");
    let (req, resp) = sent(
        "stability",
        json!({"operation": "variation", "prompt": "the same, at night", "image": image(), "options": {"seed": 2}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<png 512x384>", "prompt": "the same, at night", "mode": "image-to-image", "strength": 0.7,
               "seed": 2, "output_format": "png"})
    );
    assert_eq!(resp["model"], "stability.sd3-5-large-v1:0");
}

#[tokio::test]
async fn stability_without_seed_gets_one_and_returns_it() {
    let (req, resp) =
        sent("stability", json!({"operation": "inpaint", "prompt": "x", "image": image(), "mask": mask()})).await;
    let seed = req["seed"].as_u64().expect("a seed is always sent");
    assert!((1..=4_294_967_294).contains(&seed));
    assert_eq!(resp["seeds"], json!([seed]));
}

// ---------- masks ----------

/// (pixel inside the user's white rectangle, pixel outside) of the mask the model got.
fn mask_pixels(req: &Value, pointer: &str) -> ([u8; 3], [u8; 3], bool) {
    let b64 = req.pointer(pointer).and_then(Value::as_str).expect("mask in the request");
    let img = decode_b64(b64).to_rgb8();
    let pure = img.pixels().all(|p| p.0 == [0, 0, 0] || p.0 == [255, 255, 255]);
    (img.get_pixel(150, 150).0, img.get_pixel(10, 10).0, pure)
}

const WHITE: [u8; 3] = [255, 255, 255];
const BLACK: [u8; 3] = [0, 0, 0];

#[tokio::test]
async fn masks_reach_the_model_white_for_change() {
    // Our API: white = change. Stability: white = change → unchanged.
    let (req, _) =
        sent("stability", json!({"operation": "inpaint", "prompt": "x", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
    let (req, _) = sent("stability", json!({"operation": "erase", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
}

#[tokio::test]
async fn soft_masks_are_thresholded_to_pure_black_and_white() {
    // Anti-aliased edges: 90 → keep, 170 → change, alpha 0 → keep.
    let img = image::RgbaImage::from_fn(W, H, |x, _| match x {
        0..100 => image::Rgba([255, 255, 255, 0]),
        100..120 => image::Rgba([90, 90, 90, 255]),
        120..140 => image::Rgba([170, 170, 170, 255]),
        140..300 => image::Rgba([255, 255, 255, 255]),
        _ => image::Rgba([0, 0, 0, 255]),
    });
    let soft = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        encode(&image::DynamicImage::ImageRgba8(img), image::ImageFormat::Png),
    );
    let (req, _) = sent("stability", json!({"operation": "erase", "image": image(), "mask": soft})).await;
    let m = decode_b64(req["mask"].as_str().unwrap_or_default()).to_rgb8();
    assert!(m.pixels().all(|p| p.0 == BLACK || p.0 == WHITE));
    assert_eq!(m.get_pixel(50, 5).0, BLACK, "transparent = keep");
    assert_eq!(m.get_pixel(110, 5).0, BLACK);
    assert_eq!(m.get_pixel(130, 5).0, WHITE);
    assert_eq!(m.get_pixel(200, 5).0, WHITE);
}

#[tokio::test]
async fn images_too_large_for_the_model_are_resized_with_their_mask() {
    // Stability: at most 9,437,184 pixels; a 4400×2200 photo (9.68 MP) is scaled down to fit.
    let body = json!({"operation": "inpaint", "prompt": "x", "image": jpeg_b64(4400, 2200),
                      "mask": mask_b64(4400, 2200, (1000, 400, 4000, 2000)), "options": {"seed": 1}});
    let (req, resp) = sent("stability", body).await;
    let img = decode_b64(req["image"].as_str().unwrap_or_default());
    let (w, h) = img.dimensions();
    assert!(u64::from(w) * u64::from(h) <= 9_437_184 && w.abs_diff(2 * h) <= 1 && w > 4000, "{w}×{h}");
    let m = decode_b64(req["mask"].as_str().unwrap_or_default());
    assert_eq!(m.dimensions(), (w, h));
    assert!(m.to_rgb8().pixels().all(|p| p.0 == BLACK || p.0 == WHITE));
    assert_eq!(m.to_rgb8().get_pixel(w / 2, h / 2).0, WHITE, "inside the change area");
    assert_eq!(resp["notices"], json!([format!("image resized to {w}×{h} to fit the model (was 4400×2200)")]));
}

#[tokio::test]
async fn fitting_images_are_passed_through_untouched() {
    let jpeg = jpeg_b64(W, H);
    let (req, resp) = sent("stability", json!({"operation": "remove-background", "image": jpeg.clone()})).await;
    assert_eq!(req["image"], json!(jpeg), "the JPEG's bytes reach the model unchanged");
    assert_eq!(resp["notices"], json!([]));
}

#[tokio::test]
async fn unused_inputs_are_reported() {
    let (_, resp) = sent(
        "stability",
        json!({"operation": "remove-background", "prompt": "ignored", "image": image(), "options": {"strength": 0.5}}),
    )
    .await;
    assert_eq!(
        resp["notices"],
        json!([
            "options.strength is not used by remove-background on this stack and was ignored",
            "prompt is not used by remove-background on this stack and was ignored"
        ])
    );
}

// ---------- the seed contract ----------

#[tokio::test]
async fn seed_inpainting_masks_are_black_for_change() {
    let seed_body = json!({"prompt": {"text": "clear driveway", "mode": "INPAINTING"},
                           "mask": format!("data:image/png;base64,{}", seed_mask_b64(W, H, RECT)),
                           "base_image": image(), "model": "titan"});
    let model = FakeModel::ok("stability", W, H);
    let app = app("stability", model.clone());
    let resp = app.handle(event("POST", "/", "/", Some(&seed_body.to_string()), Some("user-a"))).await;
    assert_eq!(status(&resp), 200, "{}", json_body(&resp));
    assert_eq!(json_body(&resp)["images"].as_array().map(Vec::len), Some(1));
    let (id, req) = model.last_call().expect("called");
    assert_eq!(id, "stability.stable-image-inpaint-v1:0");
    // The seed's black (change) reaches Stability as white (change).
    assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
}

#[tokio::test]
async fn seed_outpainting_and_precise_outpaint() {
    for mode in ["OUTPAINTING", "precise-outpaint"] {
        let model = FakeModel::ok("stability", W, H);
        let app = app("stability", model.clone());
        let body = json!({"prompt": {"text": "a beach", "mode": mode},
                          "mask": seed_mask_b64(W, H, RECT), "base_image": image()});
        let resp = app.handle(event("POST", "/", "/", Some(&body.to_string()), Some("user-a"))).await;
        assert_eq!(status(&resp), 200, "{mode}: {}", json_body(&resp));
        let (id, req) = model.last_call().expect("called");
        // Outpainting with a mask is inpainting of what the seed did not paint black.
        assert_eq!(id, "stability.stable-image-inpaint-v1:0", "{mode}");
        assert_eq!(mask_pixels(&req, "/mask"), (BLACK, WHITE, true), "{mode}");
    }
}

// ---------- capabilities ----------

#[tokio::test]
async fn capabilities_of_a_stability_stack() {
    let app = app("stability", FakeModel::ok("stability", 8, 8));
    let resp = app.handle(event("GET", "/capabilities", "/capabilities", None, Some("user-a"))).await;
    assert_eq!(status(&resp), 200);
    let caps = json_body(&resp);
    assert_eq!(caps["family"], "stability");
    assert_eq!(caps["region"], "us-west-2");
    assert_eq!(caps["standIn"], false);
    let names: Vec<&str> = caps["operations"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "inpaint",
            "outpaint",
            "replace",
            "recolor",
            "erase",
            "remove-background",
            "sketch",
            "structure",
            "style-guide",
            "style-transfer",
            "upscale",
            "upscale",
            "upscale",
            "generate",
            "generate",
            "generate",
            "variation"
        ]
    );
    assert_eq!(
        caps["operations"][0],
        json!({"name": "inpaint", "prompt": "required", "mask": "required", "maskPrompt": false,
               "maskPromptRequired": false, "image": "required", "styleImage": "none", "negativePrompt": true,
               "model": "stability.stable-image-inpaint-v1:0", "maxCount": 1, "seed": true, "extents": null,
               "maxPixels": 9_437_184, "strength": null, "choice": null})
    );
    assert_eq!(caps["operations"][1]["extents"], json!({"min": 0, "max": 2000}));
    assert_eq!(
        caps["operations"][1]["strength"],
        json!({"min": 0.0, "max": 1.0, "default": 0.5, "meaning": "creativity"})
    );
    assert_eq!(caps["operations"][5]["maxPixels"], 4_194_304);
    assert_eq!(caps["operations"][9]["styleImage"], "required");
    assert_eq!(
        caps["operations"][12],
        json!({"name": "upscale", "prompt": "required", "mask": "none", "maskPrompt": false,
               "maskPromptRequired": false, "image": "required", "styleImage": "none", "negativePrompt": true,
               "model": "us.stability.stable-creative-upscale-v1:0", "maxCount": 1, "seed": true, "extents": null,
               "maxPixels": 1_048_576, "strength": {"min": 0.1, "max": 0.5, "default": 0.3, "meaning": "creativity"},
               "choice": {"option": "upscaler", "value": "creative", "default": false}})
    );
    assert_eq!(caps["operations"][13]["choice"], json!({"option": "generator", "value": "core", "default": true}));
    assert_eq!(
        caps["limits"],
        json!({"maxPromptLength": 10000, "minSide": 64, "maxSide": 4096, "minPixels": 4096, "maxPixels": 9_437_184,
               "maxAspect": 2.5, "maxCount": 1, "maxSeed": 4_294_967_294u64, "maxUploadBytes": 4_500_000,
               "maxRequestBytes": 6_258_688, "imagesPerUserPerDay": 1000, "imagesPerDay": 100_000,
               "strength": {"min": 0.0, "max": 1.0, "default": 0.5, "meaning": "creativity"}})
    );
}

/// A JPEG whose EXIF says "rotate 90° clockwise" (orientation 6), as phones write them.
fn rotated_jpeg_b64(w: u32, h: u32) -> String {
    use base64::Engine as _;
    let jpeg = encode(&photo(w, h), image::ImageFormat::Jpeg);
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend_from_slice(&[0, 1]); // one IFD entry
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation, SHORT, 1, 6
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).expect("small");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    base64::engine::general_purpose::STANDARD.encode(out)
}

#[tokio::test]
async fn exif_rotation_is_applied_before_sizes_are_compared() {
    // Stored 480×320, shown (and masked) by the browser as 320×480.
    let image = rotated_jpeg_b64(480, 320);
    let (req, _) = sent(
        "stability",
        json!({"operation": "erase", "image": image.clone(), "mask": mask_b64(320, 480, (10, 10, 100, 100))}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({"image": "<jpeg 320x480>", "mask": "<png 320x480>", "seed": req["seed"], "output_format": "png"})
    );

    let app = app("stability", FakeModel::ok("stability", 8, 8));
    let body = json!({"operation": "erase", "image": image, "mask": mask_b64(480, 320, (10, 10, 100, 100))});
    let resp = app.handle(post_edit(&body)).await;
    assert_eq!(status(&resp), 400);
    assert_eq!(json_body(&resp)["error"]["field"], "mask");
}
