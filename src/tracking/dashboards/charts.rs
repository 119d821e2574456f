//! Daily charts (and small bar charts) as server-rendered SVG (plotters' SVG backend): no script, an accessible
//! `<title>` and `<desc>`, text in a font stack with CJK faces so both languages read.

use plotters::prelude::*;
use plotters::style::FontFamily;
use time::Date;

/// Drawn at about this size (a column of the charts grid is 280–340 px at 1280 px wide, wider on
/// a phone in one column), so the 13 px axis text stays at least 11 px on screen.
const WIDTH: u32 = 300;
const HEIGHT: u32 = 180;

use crate::web::chart::{FONT, LABEL_PX, accessible};

/// A line chart of one value per day. `id` makes the title's id unique on the page.
pub fn daily_line(id: &str, title: &str, desc: &str, points: &[(Date, f64)]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, points);
    accessible(svg, drawn.is_ok(), (WIDTH, HEIGHT), id, (title, desc))
}

/// A bar chart of a few labelled values (e.g. how often each level was given). `id` makes the
/// title's id unique on the page.
pub fn bars(id: &str, title: &str, desc: &str, bars: &[(String, f64)]) -> String {
    let mut svg = String::new();
    let drawn = draw_bars(&mut svg, bars);
    accessible(svg, drawn.is_ok(), (WIDTH, HEIGHT), id, (title, desc))
}

fn draw_bars(svg: &mut String, bars: &[(String, f64)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1.0) * 1.1;
    let count = bars.len().max(1) as i32;
    let label = |size: u32| (FontFamily::Name(FONT), size).into_font();
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
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
                .and_then(|i| bars.get(i))
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        })
        .y_label_formatter(&|y: &f64| short_number(*y))
        .draw()?;
    let fill = RGBColor(37, 99, 235).filled();
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let i = i as i32;
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), b.1),
            ],
            fill,
        );
        bar.set_margin(0, 0, 12, 12);
        bar
    }))?;
    root.present()?;
    Ok(())
}

fn draw(svg: &mut String, points: &[(Date, f64)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let first = points.first().map(|p| p.0);
    let days = |d: Date| first.map_or(0, |f| (d - f).whole_days() as i32);
    let span = points.last().map_or(1, |p| days(p.0).max(1));
    let top = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1.0) * 1.1;
    let label = |size: u32| (FontFamily::Name(FONT), size).into_font();
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(0..span, 0.0..top)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(220, 220, 220))
        .x_labels(4)
        .y_labels(5)
        .label_style(label(LABEL_PX))
        .x_label_formatter(&|x: &i32| {
            first
                .and_then(|f| f.checked_add(time::Duration::days(i64::from(*x))))
                .map(|d| format!("{:02}-{:02}", u8::from(d.month()), d.day()))
                .unwrap_or_default()
        })
        .y_label_formatter(&|y: &f64| short_number(*y))
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (days(p.0), p.1)),
        ShapeStyle {
            color: RGBColor(37, 99, 235).to_rgba(),
            filled: false,
            stroke_width: 2,
        },
    ))?;
    root.present()?;
    Ok(())
}

/// 1234 → `1.2K`, 3400000 → `3.4M`: axis labels that fit.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}B", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", v / 1e3)
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_chart_is_svg_with_its_title_and_description_and_no_inline_style() {
        let svg = daily_line(
            "views",
            "每日播放量 <views>",
            "desc",
            &[
                (date!(2026 - 05 - 01), 10.0),
                (date!(2026 - 05 - 03), 2500.0),
            ],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"chart-views-title\">每日播放量 &lt;views&gt;</title>"));
        assert!(svg.contains("<desc"));
        assert!(svg.contains("05-01"));
        assert!(svg.contains("PingFang SC"));
        assert!(!svg.contains("style="), "CSP forbids inline style");
        let empty = daily_line("gmv", "t", "d", &[]);
        assert!(empty.contains("<title"));
        let bars = bars(
            "levels",
            "levels <1–5>",
            "desc",
            &[("1".into(), 0.0), ("5".into(), 3.0)],
        );
        assert!(bars.starts_with("<svg"));
        assert!(bars.contains("<title id=\"chart-levels-title\">levels &lt;1–5&gt;</title>"));
        assert!(!bars.contains("style="), "CSP forbids inline style");
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(short_number(1234.0), "1.2K");
        assert_eq!(short_number(3_400_000.0), "3.4M");
        assert_eq!(short_number(7.0), "7");
        assert_eq!(short_number(0.5), "0.5");
    }
}
