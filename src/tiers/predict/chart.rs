//! The report's chart, a server-rendered SVG (plotters): per tier S, A, B, C the median ROI of
//! the next collaboration as a dot and its 95 % interval as a vertical line, with an accessible
//! `<title>` and `<desc>`. The page shows the same numbers in the table above it; a tier without
//! re-bookings has no mark.

use plotters::prelude::*;
use plotters::style::FontFamily;

use super::domain::TierSummary;
use crate::web::chart::{FONT, LABEL_PX, accessible};

/// Drawn at about this size so the 13 px axis text stays at least 11 px in the charts grid.
const WIDTH: u32 = 320;
const HEIGHT: u32 = 200;
const MARK: RGBColor = RGBColor(37, 99, 235);

/// The chart of the report's tiers (listed S to C).
pub fn medians(id: &str, title: &str, desc: &str, tiers: &[TierSummary]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, tiers).is_ok();
    accessible(svg, drawn, (WIDTH, HEIGHT), id, (title, desc))
}

fn draw(svg: &mut String, tiers: &[TierSummary]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let highest = tiers
        .iter()
        .flat_map(|t| t.median.into_iter().chain(t.interval.map(|i| i.1)))
        .filter(|x| x.is_finite())
        .fold(0.0_f64, f64::max);
    let top = highest.max(1.0) * 1.15;
    let count = tiers.len().max(1) as i32;
    let label = |size: u32| (FontFamily::Name(FONT), size).into_font();
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(44)
        .build_cartesian_2d((0..count).into_segmented(), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(220, 220, 220))
        .y_labels(5)
        .label_style(label(LABEL_PX))
        .x_label_formatter(&|x: &SegmentValue<i32>| match x {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| tiers.get(i))
                .map(|t| t.tier.code().to_string())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .y_label_formatter(&|y: &f64| format!("{y:.1}"))
        .draw()?;
    let line = ShapeStyle {
        color: MARK.to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    for (i, t) in tiers.iter().enumerate() {
        let x = || SegmentValue::CenterOf(i as i32);
        if let Some((lo, hi)) = t.interval {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x(), lo), (x(), hi)],
                line,
            )))?;
        }
        if let Some(m) = t.median {
            chart.draw_series(std::iter::once(Circle::new((x(), m), 5, MARK.filled())))?;
        }
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::tier::Tier;

    #[test]
    fn the_chart_is_svg_with_its_title_and_a_mark_per_tier_with_data() {
        let tiers = vec![
            TierSummary {
                tier: Tier::S,
                count: 6,
                median: Some(2.2),
                interval: Some((1.0, 4.0)),
            },
            TierSummary {
                tier: Tier::A,
                count: 0,
                median: None,
                interval: None,
            },
        ];
        let svg = medians("p", "ROI <by tier>", "d", &tiers);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"chart-p-title\">ROI &lt;by tier&gt;</title>"));
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(!svg.contains("style="), "no inline styles (CSP)");
    }
}
