//! What every server-rendered SVG chart shares (the dashboards', the tier distribution's, the
//! tier report's): the font stack, the axis text size, and the accessible name.

/// Axis text drawn at 13 px so it stays at least 11 px on screen at the charts' sizes.
pub const LABEL_PX: u32 = 13;
/// The UX font stack, CJK faces before the generic family.
pub const FONT: &str =
    "-apple-system, PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Segoe UI, Roboto, sans-serif";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Gives a drawn chart its accessible name (`<title>`, `<desc>`, role, `data-testid="chart-{id}"`)
/// — or an empty frame of `(width, height)` with the name when drawing failed. `id` makes the
/// ids unique on the page.
pub fn accessible(
    mut svg: String,
    drawn: bool,
    (width, height): (u32, u32),
    id: &str,
    (title, desc): (&str, &str),
) -> String {
    if !drawn || svg.is_empty() {
        svg = format!(
            "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\"></svg>"
        );
    }
    let title_id = format!("chart-{id}-title");
    let desc_id = format!("chart-{id}-desc");
    let head = format!(
        " role=\"img\" class=\"chart-svg\" aria-labelledby=\"{title_id} {desc_id}\" \
         data-testid=\"chart-{id}\"><title id=\"{title_id}\">{}</title><desc id=\"{desc_id}\">{}</desc>",
        escape(title),
        escape(desc)
    );
    // The first '>' closes the <svg …> tag; the accessible name goes right inside it.
    match svg.find('>') {
        Some(i) => {
            let mut out = String::with_capacity(svg.len() + head.len());
            out.push_str(&svg[..i]);
            out.push_str(&head);
            out.push_str(&svg[i + 1..]);
            out
        }
        None => svg,
    }
}
