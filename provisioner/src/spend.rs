//! The most a stack's daily limits let it spend on images: an estimate from list prices, shown by
//! `up` and `doctor` so that an owner sees the ceiling before anyone uses the app.

use image_edit_contract::catalogue::{self, PRICES_AS_OF, PRICES_SOURCE};

use crate::config::StackConfig;

/// The dearest image the stack can make: the highest list price among the models its operations
/// invoke (the catalogue's prices), and that model's name.
pub fn dearest(config: &StackConfig) -> (f64, &'static str) {
    config
        .models
        .values()
        .filter_map(|id| catalogue::resolve(id, &config.region).ok())
        .map(|(m, _)| (m.price_usd, m.name))
        .fold((0.0, ""), |best, m| if m.0 > best.0 { m } else { best })
}

/// The ceiling, as a line: images a day at the worst-case price. An estimate, not a quote.
pub fn ceiling(config: &StackConfig) -> String {
    let l = config.limits;
    let (price, name) = dearest(config);
    let day = f64::from(l.edits_per_day) * price;
    format!(
        "at most {} images a day ({} per user) ≈ ${day:.2} a day, ${:.2} a 30-day month, at ≤ ${price} an image \
         ({name}; list-price estimate of {PRICES_AS_OF}, {PRICES_SOURCE}); change `limits` in {}",
        l.edits_per_day,
        l.edits_per_user_per_day,
        day * 30.0,
        config.source.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_ceiling() {
        let c = crate::config::parse("region: us-west-2\n", std::path::Path::new("stacks/dev.yaml"), "dev")
            .expect("config");
        let line = ceiling(&c);
        assert!(
            line.starts_with(
                "at most 500 images a day (50 per user) ≈ $300.00 a day, $9000.00 a 30-day month, at ≤ $0.6 an image \
                 (Stable Image Creative Upscale;"
            ),
            "{line}"
        );
    }
}
