//! The most a stack's daily limits let it spend on images: an estimate from list prices, shown by
//! `up` and `doctor` so that an owner sees the ceiling before anyone uses the app.

use crate::config::{ModelFamily, StackConfig};

/// When the prices below were read, and where (Amazon Bedrock pricing, on-demand, per image; the
/// same figures as docs/setup.md §5). They change: this is an estimate, not a quote.
pub const PRICES_AS_OF: &str = "2026-12";
pub const PRICES_SOURCE: &str = "https://aws.amazon.com/bedrock/pricing/";

/// The highest list price of one image among the family's models and options, in USD:
/// Stability Image Services / Stable Image Core up to $0.08.
pub fn price_per_image(family: ModelFamily) -> f64 {
    match family {
        ModelFamily::Stability => 0.08,
    }
}

/// The ceiling, as a line: images a day and their worst-case price.
pub fn ceiling(config: &StackConfig) -> String {
    let l = config.limits;
    let price = price_per_image(config.family);
    let day = f64::from(l.edits_per_day) * price;
    format!(
        "at most {} images a day ({} per user) ≈ ${day:.2} a day, ${:.2} a 30-day month, at ≤ ${price} an image \
         ({}; list-price estimate of {PRICES_AS_OF}, {PRICES_SOURCE}); change `limits` in {}",
        l.edits_per_day,
        l.edits_per_user_per_day,
        day * 30.0,
        config.family.as_str(),
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
            line.starts_with("at most 500 images a day (50 per user) ≈ $40.00 a day, $1200.00 a 30-day month"),
            "{line}"
        );
    }
}
