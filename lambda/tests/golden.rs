//! Golden tests: the exact InvokeModel body per family and operation, and the mask conversion.
//! Images in the bodies are replaced by `<png WxH>` placeholders (see `common::redact`); the masks
//! themselves are decoded and checked pixel by pixel.

mod common;

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

#[tokio::test]
async fn stability_without_seed_gets_one_and_returns_it() {
    let (req, resp) =
        sent("stability", json!({"operation": "inpaint", "prompt": "x", "image": image(), "mask": mask()})).await;
    let seed = req["seed"].as_u64().expect("a seed is always sent");
    assert!((1..=4_294_967_294).contains(&seed));
    assert_eq!(resp["seeds"], json!([seed]));
}

// ---------- Titan / Nova ----------

#[tokio::test]
async fn titan_inpaint_with_mask_and_options() {
    let (req, resp) = sent(
        "titan",
        json!({"operation": "inpaint", "prompt": "a red sports car", "negativePrompt": "blurry", "image": image(),
               "mask": mask(), "options": {"seed": 42, "count": 2, "quality": "premium", "strength": 7.5}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({
            "taskType": "INPAINTING",
            "inPaintingParams": {"image": "<png 512x384>", "maskImage": "<png 512x384>",
                                  "text": "a red sports car", "negativeText": "blurry"},
            "imageGenerationConfig": {"numberOfImages": 2, "quality": "premium", "cfgScale": 7.5, "seed": 42}
        })
    );
    assert_eq!(resp["images"].as_array().map(Vec::len), Some(2));
    assert_eq!(resp["seeds"], json!([42]));
}

#[tokio::test]
async fn titan_inpaint_by_mask_prompt_without_text_removes() {
    let (req, _) = sent(
        "titan",
        json!({"operation": "inpaint", "maskPrompt": "the bin", "image": image(), "options": {"seed": 5}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({
            "taskType": "INPAINTING",
            "inPaintingParams": {"image": "<png 512x384>", "maskPrompt": "the bin"},
            "imageGenerationConfig": {"numberOfImages": 1, "quality": "standard", "cfgScale": 8.0, "seed": 5}
        })
    );
}

#[tokio::test]
async fn titan_outpaint_precise() {
    let (req, _) = sent(
        "titan",
        json!({"operation": "outpaint", "prompt": "a beach", "image": image(), "mask": mask(),
               "options": {"seed": 6, "outpaintMode": "precise"}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({
            "taskType": "OUTPAINTING",
            "outPaintingParams": {"image": "<png 512x384>", "maskImage": "<png 512x384>",
                                   "outPaintingMode": "PRECISE", "text": "a beach"},
            "imageGenerationConfig": {"numberOfImages": 1, "quality": "standard", "cfgScale": 8.0, "seed": 6}
        })
    );
}

#[tokio::test]
async fn titan_variation_generate_remove_background() {
    let (req, _) = sent(
        "titan",
        json!({"operation": "variation", "prompt": "in winter", "image": image(), "options": {"seed": 8, "strength": 0.5}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({
            "taskType": "IMAGE_VARIATION",
            "imageVariationParams": {"images": ["<png 512x384>"], "similarityStrength": 0.5, "text": "in winter"},
            "imageGenerationConfig": {"numberOfImages": 1, "quality": "standard", "cfgScale": 8.0, "seed": 8,
                                       "width": 1152, "height": 896}
        })
    );
    let (req, _) =
        sent("titan", json!({"operation": "generate", "prompt": "a fox", "options": {"seed": 9, "count": 3}})).await;
    assert_eq!(
        req,
        json!({
            "taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a fox"},
            "imageGenerationConfig": {"numberOfImages": 3, "quality": "standard", "cfgScale": 8.0, "seed": 9,
                                       "width": 1024, "height": 1024}
        })
    );
    let (req, resp) = sent("titan", json!({"operation": "remove-background", "image": image()})).await;
    assert_eq!(
        redact(&req),
        json!({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "<png 512x384>"}})
    );
    assert_eq!(resp["seeds"], json!([]));
}

#[tokio::test]
async fn nova_uses_its_own_defaults() {
    let (req, _) = sent(
        "nova",
        json!({"operation": "inpaint", "prompt": "a cat", "image": image(), "mask": mask(), "options": {"seed": 10}}),
    )
    .await;
    assert_eq!(
        redact(&req),
        json!({
            "taskType": "INPAINTING",
            "inPaintingParams": {"image": "<png 512x384>", "maskImage": "<png 512x384>", "text": "a cat"},
            "imageGenerationConfig": {"numberOfImages": 1, "quality": "standard", "cfgScale": 6.5, "seed": 10}
        })
    );
    let (req, _) = sent(
        "nova",
        json!({"operation": "variation", "prompt": "as a watercolour", "image": image(), "options": {"seed": 11}}),
    )
    .await;
    assert_eq!(req["imageGenerationConfig"]["width"], 512);
    assert_eq!(req["imageGenerationConfig"]["height"], 384);
    assert_eq!(req["imageVariationParams"]["similarityStrength"], 0.7);
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
async fn mask_polarity_per_family_and_operation() {
    // Our API: white = change. Stability: white = change → unchanged.
    let (req, _) =
        sent("stability", json!({"operation": "inpaint", "prompt": "x", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
    let (req, _) = sent("stability", json!({"operation": "erase", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
    // Titan/Nova inpainting changes the black (masked) region → inverted.
    let (req, _) = sent("titan", json!({"operation": "inpaint", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/inPaintingParams/maskImage"), (BLACK, WHITE, true));
    let (req, _) = sent("nova", json!({"operation": "inpaint", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/inPaintingParams/maskImage"), (BLACK, WHITE, true));
    // Titan/Nova outpainting changes what is outside the black region, i.e. the white → unchanged.
    let (req, _) =
        sent("titan", json!({"operation": "outpaint", "prompt": "x", "image": image(), "mask": mask()})).await;
    assert_eq!(mask_pixels(&req, "/outPaintingParams/maskImage"), (WHITE, BLACK, true));
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
    // Titan: longest side ≤ 1408.
    let body = json!({"operation": "inpaint", "prompt": "x", "image": png_b64(2816, 1408),
                      "mask": mask_b64(2816, 1408, (1000, 400, 1800, 1000)), "options": {"seed": 1}});
    let (req, resp) = sent("titan", body).await;
    assert_eq!(
        redact(&req)["inPaintingParams"],
        json!({"image": "<png 1408x704>", "maskImage": "<png 1408x704>", "text": "x"})
    );
    let m = decode_b64(req.pointer("/inPaintingParams/maskImage").and_then(Value::as_str).unwrap_or_default());
    assert_eq!(m.dimensions(), (1408, 704));
    assert!(m.to_rgb8().pixels().all(|p| p.0 == BLACK || p.0 == WHITE));
    assert_eq!(m.to_rgb8().get_pixel(700, 350).0, BLACK, "inside the change area (Titan: black)");
    assert_eq!(resp["notices"], json!(["image resized to 1408×704 to fit the model (was 2816×1408)"]));
}

#[tokio::test]
async fn fitting_images_are_passed_through_untouched() {
    let jpeg = jpeg_b64(W, H);
    let (req, resp) = sent("stability", json!({"operation": "remove-background", "image": jpeg.clone()})).await;
    assert_eq!(req["image"], json!(jpeg), "the JPEG's bytes reach the model unchanged");
    assert_eq!(resp["notices"], json!([]));
}

#[tokio::test]
async fn transparent_images_are_flattened_for_titan() {
    let (req, resp) =
        sent("titan", json!({"operation": "variation", "prompt": "x", "image": transparent_png_b64(W, H)})).await;
    let sent_img =
        decode_b64(req.pointer("/imageVariationParams/images/0").and_then(Value::as_str).unwrap_or_default());
    assert!(!sent_img.color().has_alpha());
    assert_eq!(sent_img.to_rgb8().get_pixel(10, 10).0, WHITE);
    assert_eq!(
        resp["notices"],
        json!(["transparent areas of the image were filled with white (the model needs an opaque image)"])
    );
}

#[tokio::test]
async fn unused_inputs_are_reported() {
    let (_, resp) = sent(
        "stability",
        json!({"operation": "remove-background", "prompt": "ignored", "image": image(), "options": {"quality": "premium"}}),
    )
    .await;
    assert_eq!(
        resp["notices"],
        json!([
            "options.quality is not used by remove-background on this stack and was ignored",
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
    for family in ["titan", "stability"] {
        let model = FakeModel::ok(family, W, H);
        let app = app(family, model.clone());
        let resp = app.handle(event("POST", "/", "/", Some(&seed_body.to_string()), Some("user-a"))).await;
        assert_eq!(status(&resp), 200, "{family}: {}", json_body(&resp));
        let (_, req) = model.last_call().expect("called");
        if family == "titan" {
            // Titan: black = change, as the seed sent it.
            assert_eq!(mask_pixels(&req, "/inPaintingParams/maskImage"), (BLACK, WHITE, true));
            assert_eq!(req["imageGenerationConfig"]["numberOfImages"], 2);
        } else {
            assert_eq!(mask_pixels(&req, "/mask"), (WHITE, BLACK, true));
        }
    }
}

#[tokio::test]
async fn seed_outpainting_and_precise_outpaint() {
    for (mode, expected_mode) in [("OUTPAINTING", "DEFAULT"), ("precise-outpaint", "PRECISE")] {
        let model = FakeModel::ok("titan", W, H);
        let app = app("titan", model.clone());
        let body = json!({"prompt": {"text": "a beach", "mode": mode},
                          "mask": seed_mask_b64(W, H, RECT), "base_image": image()});
        let resp = app.handle(event("POST", "/", "/", Some(&body.to_string()), Some("user-a"))).await;
        assert_eq!(status(&resp), 200, "{}", json_body(&resp));
        let (_, req) = model.last_call().expect("called");
        assert_eq!(req["taskType"], "OUTPAINTING", "never the seed's invalid taskType");
        assert_eq!(req["outPaintingParams"]["outPaintingMode"], expected_mode);
        // The seed's black region is kept; the mask reaches Titan as painted.
        assert_eq!(mask_pixels(&req, "/outPaintingParams/maskImage"), (BLACK, WHITE, true));
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
    assert_eq!(names, ["inpaint", "outpaint", "replace", "recolor", "erase", "remove-background", "generate"]);
    assert_eq!(
        caps["operations"][0],
        json!({"name": "inpaint", "prompt": "required", "mask": "required", "maskPrompt": false,
               "maskPromptRequired": false, "image": "required", "negativePrompt": true,
               "model": "stability.stable-image-inpaint-v1:0", "maxCount": 1, "seed": true, "quality": false,
               "outpaintMode": false, "extents": null, "maxPixels": 9_437_184, "strength": null})
    );
    assert_eq!(caps["operations"][1]["extents"], json!({"min": 0, "max": 2000}));
    assert_eq!(
        caps["operations"][1]["strength"],
        json!({"min": 0.0, "max": 1.0, "default": 0.5, "meaning": "creativity"})
    );
    assert_eq!(caps["operations"][5]["maxPixels"], 4_194_304);
    assert_eq!(
        caps["limits"],
        json!({"maxPromptLength": 10000, "minSide": 64, "maxSide": 4096, "minPixels": 4096, "maxPixels": 9_437_184,
               "maxAspect": 2.5, "maxCount": 1, "maxSeed": 4_294_967_294u64, "maxUploadBytes": 4_500_000,
               "maxRequestBytes": 6_258_688, "imagesPerUserPerDay": 1000, "imagesPerDay": 100_000,
               "strength": {"min": 0.0, "max": 1.0, "default": 0.5, "meaning": "creativity"}})
    );
}

#[tokio::test]
async fn capabilities_of_a_titan_stack() {
    let app = app("titan", FakeModel::ok("titan", 8, 8));
    let resp = app.handle(event("GET", "/capabilities", "/capabilities", None, Some("user-a"))).await;
    let caps = json_body(&resp);
    let names: Vec<&str> = caps["operations"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["inpaint", "outpaint", "remove-background", "generate", "variation"]);
    assert_eq!(caps["operations"][0]["mask"], "optional");
    assert_eq!(caps["operations"][0]["maskPrompt"], true);
    assert_eq!(caps["operations"][0]["maxCount"], 5);
    assert_eq!(caps["operations"][4]["strength"]["meaning"], "similarityStrength");
    assert_eq!(caps["limits"]["maxPromptLength"], 512);
    assert_eq!(caps["limits"]["maxSeed"], 858_993_459);
    assert_eq!(caps["limits"]["strength"], json!({"min": 1.1, "max": 10.0, "default": 8.0, "meaning": "cfgScale"}));
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
