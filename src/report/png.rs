//! PNG copies of the SVG plots (cargo feature `png`), rasterised by resvg
//! with an embedded DejaVu Sans so that the pictures do not depend on the
//! fonts installed on the machine.

use resvg::{tiny_skia, usvg};

use super::PlotError;

/// DejaVu Sans (Bitstream Vera licence; see assets/fonts/DejaVu-LICENSE).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Rasterises an SVG document at twice its size (sharp on high-DPI screens).
///
/// # Errors
/// [`PlotError`] when the SVG does not parse or cannot be encoded.
pub fn render(svg: &str) -> Result<Vec<u8>, PlotError> {
    let err = |m: String| PlotError {
        plot: "png".into(),
        message: m,
    };
    let mut opt = usvg::Options {
        font_family: "DejaVu Sans".into(),
        ..usvg::Options::default()
    };
    let db = opt.fontdb_mut();
    db.load_font_data(FONT.to_vec());
    db.set_sans_serif_family("DejaVu Sans");
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| err(e.to_string()))?;
    let scale = 2.0;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w.max(1), h.max(1)).ok_or_else(|| err("empty image".into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| err(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_plot_becomes_a_png_with_text() {
        let svg = r#"<svg width="200" height="50" xmlns="http://www.w3.org/2000/svg"><text x="10" y="30" font-family="sans-serif" font-size="20">R [s]</text></svg>"#;
        let png = super::render(svg).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // Text was drawn: the image is not a blank white one of the same
        // size (a blank 400x100 PNG compresses to well under 300 bytes).
        let blank = super::render(
            r#"<svg width="200" height="50" xmlns="http://www.w3.org/2000/svg"></svg>"#,
        )
        .unwrap();
        assert!(
            png.len() > blank.len() + 200,
            "{} vs {}",
            png.len(),
            blank.len()
        );
    }
}
