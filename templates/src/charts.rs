//! Charts drawn as inline SVG on the server: pure functions from numbers to markup. No script,
//! no inline style (the CSP allows only the stylesheet): colours come from CSS classes. Each
//! chart has a `<title>` and, for screen readers, a visually hidden table with the same numbers.
//! The SVGs scale to their container through `viewBox`.

use maud::{Markup, html};

/// Width of every chart's drawing, in SVG units.
const WIDTH: f64 = 400.0;

/// One series of a column chart: its name and its colour class (`going` → `bar-going`).
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub label: &'a str,
    pub class: &'a str,
}

/// One column of a column chart: its label in the table, its (shorter) label under the axis,
/// and one value per series.
#[derive(Debug, Clone)]
pub struct Column {
    pub label: String,
    pub short: String,
    pub values: Vec<u64>,
}

fn n(x: f64) -> String {
    format!("{x:.2}")
}

/// Stacked columns, one per entry of `columns`, bottom to top in the order of `series`. Every
/// `label_every`-th column is labelled under the axis (all of them are in the table, whose first
/// column is headed `label_heading`).
pub fn columns(
    id: &str,
    title: &str,
    label_heading: &str,
    series: &[Series<'_>],
    columns: &[Column],
    label_every: usize,
) -> Markup {
    const HEIGHT: f64 = 200.0;
    const LEFT: f64 = 30.0;
    const RIGHT: f64 = 6.0;
    const TOP: f64 = 12.0;
    const BOTTOM: f64 = 24.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let base = TOP + plot_h;
    let max = columns.iter().map(|c| c.values.iter().sum::<u64>()).max().unwrap_or(0).max(1);
    let slot = plot_w / columns.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    let every = label_every.max(1);
    let title_id = format!("{id}-title");
    html! {
        figure.chart {
            svg.chart-svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n(WIDTH)) " " (n(HEIGHT)) }
                role="img" aria-labelledby=(title_id) {
                title id=(title_id) { (title) }
                line.chart-grid x1=(n(LEFT)) x2=(n(WIDTH - RIGHT)) y1=(n(TOP)) y2=(n(TOP)) {}
                text.chart-label x=(n(LEFT - 4.0)) y=(n(TOP + 4.0)) text-anchor="end" { (max) }
                text.chart-label x=(n(LEFT - 4.0)) y=(n(base + 4.0)) text-anchor="end" { "0" }
                @for (i, c) in columns.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                    g.chart-column {
                        @for (k, (v, s)) in c.values.iter().zip(series).enumerate() {
                            @if *v > 0 {
                                @let below: u64 = c.values[..k].iter().sum();
                                @let h = *v as f64 / max as f64 * plot_h;
                                @let y = base - (below as f64 / max as f64 * plot_h) - h;
                                rect class={ "bar bar-" (s.class) } x=(n(x)) y=(n(y)) width=(n(bar_w)) height=(n(h)) {
                                    title { (c.label) ", " (s.label) ": " (v) }
                                }
                            }
                        }
                    }
                    @if i % every == 0 {
                        text.chart-label x=(n(x + bar_w / 2.0)) y=(n(HEIGHT - 6.0)) text-anchor="middle" { (c.short) }
                    }
                }
                line.chart-axis x1=(n(LEFT)) x2=(n(WIDTH - RIGHT)) y1=(n(base)) y2=(n(base)) {}
            }
            @if series.len() > 1 {
                ul.chart-legend aria-hidden="true" {
                    @for s in series {
                        li { span class={ "swatch swatch-" (s.class) } {} (s.label) }
                    }
                }
            }
            // A table ignores `width`: the hiding box is a block around it, so that the
            // table's own width never widens the page on a phone.
            div.visually-hidden {
                table {
                    caption { (title) }
                    thead {
                        tr {
                            th scope="col" { (label_heading) }
                            @for s in series { th scope="col" { (s.label) } }
                        }
                    }
                    tbody {
                        @for c in columns {
                            tr {
                                th scope="row" { (c.label) }
                                @for v in &c.values { td { (v) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Horizontal bars, one per `(label, value)` row, with the number at the end of each bar.
pub fn bars(id: &str, title: &str, label_heading: &str, class: &str, rows: &[(String, u64)]) -> Markup {
    const ROW: f64 = 28.0;
    const LABEL: f64 = 116.0;
    const NUMBER: f64 = 56.0;
    let height = ROW * rows.len() as f64 + 8.0;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let span = WIDTH - LABEL - NUMBER;
    let title_id = format!("{id}-title");
    html! {
        figure.chart {
            svg.chart-svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (n(WIDTH)) " " (n(height)) }
                role="img" aria-labelledby=(title_id) {
                title id=(title_id) { (title) }
                @for (i, (label, v)) in rows.iter().enumerate() {
                    @let y = 4.0 + ROW * i as f64;
                    @let w = *v as f64 / max as f64 * span;
                    g.chart-row {
                        text.chart-label x=(n(LABEL - 8.0)) y=(n(y + ROW / 2.0 + 4.0)) text-anchor="end" { (label) }
                        @if *v > 0 {
                            rect class={ "bar bar-" (class) } x=(n(LABEL)) y=(n(y + 4.0)) width=(n(w)) height=(n(ROW - 8.0)) {
                                title { (label) ": " (v) }
                            }
                        }
                        text.chart-value x=(n(LABEL + w + 6.0)) y=(n(y + ROW / 2.0 + 4.0)) { (v) }
                    }
                }
                line.chart-axis x1=(n(LABEL)) x2=(n(LABEL)) y1="0" y2=(n(height)) {}
            }
            div.visually-hidden {
                table {
                    caption { (title) }
                    thead { tr { th scope="col" { (label_heading) } th scope="col" { "Count" } } }
                    tbody {
                        @for (label, v) in rows {
                            tr { th scope="row" { (label) } td { (v) } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rects(xml: &str) -> Vec<(String, f64, f64)> {
        // ok: test code; a malformed chart must fail the test.
        let doc = roxmltree::Document::parse(xml).expect("well-formed XML"); // ok: test code
        doc.descendants()
            .filter(|n| n.has_tag_name("rect"))
            .map(|r| {
                let number = |name: &str| -> f64 {
                    // ok: test code; a bar without its size must fail the test.
                    r.attribute(name).and_then(|v| v.parse().ok()).expect("a numeric attribute") // ok: test code
                };
                // ok: test code; a bar without its class must fail the test.
                (r.attribute("class").expect("a class").to_owned(), number("width"), number("height")) // ok: test code
            })
            .collect()
    }

    const SERIES: [Series<'static>; 2] =
        [Series { label: "Going", class: "going" }, Series { label: "Declined", class: "declined" }];

    fn col(label: &str, values: &[u64]) -> Column {
        Column { label: label.into(), short: label.into(), values: values.to_vec() }
    }

    #[test]
    fn columns_parse_as_xml_and_heights_are_proportional() {
        let cols =
            [col("Mon <1>", &[2, 0]), col("Tue", &[4, 2]), col("Wed", &[0, 0]), col("Thu & co", &[1, 1])];
        let xml = columns("answers", "Answers & more", "Day", &SERIES, &cols, 2).into_string();
        let rects = rects(&xml);
        assert_eq!(rects.len(), 5, "no rect for zero: {xml}");
        let going: Vec<f64> = rects.iter().filter(|r| r.0 == "bar bar-going").map(|r| r.2).collect();
        assert_eq!(going.len(), 3);
        assert!((going[1] / going[0] - 2.0).abs() < 0.01, "{going:?}");
        assert!((going[2] / going[0] - 0.5).abs() < 0.01, "{going:?}");
        // The tallest stack (6) fills the plot: 164 units.
        let tue: f64 = rects.iter().skip(1).take(2).map(|r| r.2).sum();
        assert!((tue - 164.0).abs() < 0.05, "{tue}");
        assert!(xml.contains("<title id=\"answers-title\">Answers &amp; more</title>"));
        assert!(xml.contains("<th scope=\"row\">Thu &amp; co</th><td>1</td><td>1</td>"), "{xml}");
        assert!(!xml.contains("style="));
    }

    #[test]
    fn bars_parse_as_xml_and_widths_are_proportional() {
        let rows = vec![("sent".to_owned(), 6), ("failed".to_owned(), 3), ("expired".to_owned(), 0)];
        let xml = bars("status", "Deliveries by status", "Status", "neutral", &rows).into_string();
        let rects = rects(&xml);
        assert_eq!(rects.len(), 2);
        assert!((rects[0].1 / rects[1].1 - 2.0).abs() < 0.01, "{rects:?}");
        assert!(xml.contains("<th scope=\"row\">expired</th><td>0</td>"));
        assert!(!xml.contains("style="));
    }

    #[test]
    fn empty_data_still_draws_a_valid_chart() {
        let xml = columns("a", "A", "Day", &SERIES, &[], 7).into_string();
        assert!(rects(&xml).is_empty());
        let xml = bars("b", "B", "Kind", "neutral", &[]).into_string();
        assert!(rects(&xml).is_empty());
    }
}
