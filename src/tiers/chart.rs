//! The tier distribution as a server-rendered SVG bar chart (plotters), with an accessible
//! `<title>` and `<desc>`; the page shows the same numbers in a table beside it.

use plotters::prelude::*;

const WIDTH: u32 = 480;
const HEIGHT: u32 = 220;

/// One bar per (label, count).
pub fn bars(id: &str, title: &str, desc: &str, data: &[(&str, i64)]) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, data).is_ok();
    crate::web::chart::accessible(svg, drawn, (WIDTH, HEIGHT), id, (title, desc))
}

fn draw(svg: &mut String, data: &[(&str, i64)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = data.iter().map(|d| d.1).max().unwrap_or(0).max(1) as f64 * 1.1;
    let n = data.len().max(1) as i32;
    let labels: Vec<String> = data.iter().map(|d| d.0.to_string()).collect();
    let mut chart = ChartBuilder::on(&root)
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(40)
        .build_cartesian_2d(0..n, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(data.len().max(1))
        .x_label_formatter(&|x: &i32| {
            labels
                .get(usize::try_from(*x).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default()
        })
        .y_labels(5)
        .draw()?;
    chart.draw_series(data.iter().enumerate().map(|(i, d)| {
        let x = i as i32;
        Rectangle::new(
            [(x, 0.0), (x + 1, d.1 as f64)],
            RGBColor(37, 99, 235).filled(),
        )
    }))?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_chart_is_svg_with_its_title() {
        let svg = super::bars("t", "Tiers <x>", "d", &[("S", 3), ("A", 0)]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title id=\"chart-t-title\">Tiers &lt;x&gt;</title>"));
    }
}
