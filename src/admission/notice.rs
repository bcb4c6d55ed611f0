//! Admission notices (录取通知书): A4 PDF pages with the Chinese text in an
//! embedded subset of a TrueType CJK font (a CID font, Identity-H, with a
//! ToUnicode map so the text layer can be searched and copied) and a QR code
//! linking to the child's public result lookup. Pure: the font's bytes and
//! the pages' data in, the PDF's bytes out.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;

/// What one notice says.
#[derive(Debug, Clone)]
pub struct NoticeData {
    pub bureau: String,
    pub campaign_name: String,
    pub school_name: String,
    pub school_address: String,
    pub child_name: String,
    pub registration_no: String,
    /// When to report, in words (e.g. `2027年8月28日 8:00—11:30`).
    pub report_date: String,
    /// What to bring, one item per line.
    pub bring: Vec<String>,
    /// The child's public verification (the result lookup), for the QR code.
    pub verify_url: String,
    /// The date of issue, in words.
    pub issued: String,
}

const A4_W: f32 = 595.0;
const A4_H: f32 = 842.0;
const FONT: Name<'static> = Name(b"F1");
const BASE_FONT: Name<'static> = Name(b"RUXUEA+CJK");

/// Glyphs used so far: old glyph id → new id, and the character it shows.
struct Glyphs<'f> {
    face: ttf_parser::Face<'f>,
    remapper: subsetter::GlyphRemapper,
    used: BTreeMap<u16, (u16, char)>,
}

impl<'f> Glyphs<'f> {
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let old = self.face.glyph_index(ch).map(|g| g.0).unwrap_or(0);
            let new = self.remapper.remap(old);
            if old != 0 {
                self.used.entry(old).or_insert((new, ch));
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = f32::from(self.face.units_per_em());
        text.chars()
            .map(|ch| {
                let g = self.face.glyph_index(ch).unwrap_or(ttf_parser::GlyphId(0));
                f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) / upem * size
            })
            .sum()
    }
}

fn text(c: &mut Content, g: &mut Glyphs, s: &str, size: f32, x: f32, y: f32) {
    let bytes = g.encode(s);
    c.begin_text();
    c.set_font(FONT, size);
    c.next_line(x, y);
    c.show(Str(&bytes));
    c.end_text();
}

fn centred(c: &mut Content, g: &mut Glyphs, s: &str, size: f32, y: f32) {
    let w = g.width(s, size);
    text(c, g, s, size, (A4_W - w) / 2.0, y);
}

/// Splits `s` into lines no wider than `width` at `size`.
fn wrap(g: &Glyphs, s: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = vec![String::new()];
    for ch in s.chars() {
        let mut next = lines.last().cloned().unwrap_or_default();
        next.push(ch);
        if g.width(&next, size) > width && !lines.last().map(String::is_empty).unwrap_or(true) {
            lines.push(ch.to_string());
        } else if let Some(l) = lines.last_mut() {
            *l = next;
        }
    }
    lines
}

fn qr(c: &mut Content, url: &str, x: f32, y: f32, size: f32) -> Result<(), String> {
    let code =
        qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M).map_err(|e| format!("二维码无法生成：{e}"))?;
    let n = code.width();
    let quiet = 2usize;
    let m = size / (n + 2 * quiet) as f32;
    let colors = code.to_colors();
    c.save_state();
    c.set_fill_rgb(1.0, 1.0, 1.0);
    c.rect(x, y, size, size);
    c.fill_nonzero();
    c.set_fill_rgb(0.0, 0.0, 0.0);
    for row in 0..n {
        for col in 0..n {
            if colors[row * n + col] == qrcode::Color::Dark {
                let px = x + (col + quiet) as f32 * m;
                let py = y + size - (row + quiet + 1) as f32 * m;
                c.rect(px, py, m, m);
            }
        }
    }
    c.fill_nonzero();
    c.restore_state();
    Ok(())
}

fn page(g: &mut Glyphs, n: &NoticeData) -> Result<Vec<u8>, String> {
    let mut c = Content::new();
    // A border and the title.
    c.set_stroke_rgb(0.7, 0.1, 0.1);
    c.set_line_width(2.0);
    c.rect(36.0, 36.0, A4_W - 72.0, A4_H - 72.0);
    c.stroke();
    c.set_fill_rgb(0.7, 0.1, 0.1);
    centred(&mut c, g, "录取通知书", 34.0, A4_H - 130.0);
    c.set_fill_rgb(0.0, 0.0, 0.0);
    centred(&mut c, g, &n.campaign_name, 13.0, A4_H - 160.0);
    let left = 80.0;
    let width = A4_W - 2.0 * left;
    let mut y = A4_H - 220.0;
    text(&mut c, g, &format!("{} 同学（报名号 {}）：", n.child_name, n.registration_no), 16.0, left, y);
    y -= 34.0;
    let body = format!("经审核，你已被{}录取。请家长按下列时间带孩子到校报到，逾期未报到又未说明原因的，视为放弃学位。", n.school_name);
    for line in wrap(g, &body, 15.0, width - 30.0) {
        text(&mut c, g, &line, 15.0, left + 30.0, y);
        y -= 26.0;
    }
    y -= 10.0;
    for (label, value) in
        [("录取学校", n.school_name.as_str()), ("学校地址", n.school_address.as_str()), ("报到时间", n.report_date.as_str())]
    {
        for (i, line) in wrap(g, value, 14.0, width - 90.0).iter().enumerate() {
            if i == 0 {
                text(&mut c, g, &format!("{label}："), 14.0, left, y);
            }
            text(&mut c, g, line, 14.0, left + 80.0, y);
            y -= 24.0;
        }
    }
    y -= 6.0;
    text(&mut c, g, "报到时请携带：", 14.0, left, y);
    y -= 24.0;
    for (i, item) in n.bring.iter().enumerate() {
        for line in wrap(g, &format!("{}. {item}", i + 1), 13.0, width - 20.0) {
            text(&mut c, g, &line, 13.0, left + 20.0, y);
            y -= 22.0;
        }
    }
    // The QR code and the issuing bureau.
    let qs = 120.0;
    qr(&mut c, &n.verify_url, left, 90.0, qs)?;
    text(&mut c, g, "扫码核验录取结果", 11.0, left + 12.0, 78.0);
    let right = A4_W - left;
    let bw = g.width(&n.bureau, 16.0);
    text(&mut c, g, &n.bureau, 16.0, right - bw, 160.0);
    let dw = g.width(&n.issued, 13.0);
    text(&mut c, g, &n.issued, 13.0, right - dw, 134.0);
    Ok(c.finish().into_vec())
}

/// One PDF with a page per notice. `font` is a TrueType font or collection
/// with CJK glyphs; `index` the face in a collection.
pub fn render(font: &[u8], index: u32, notices: &[NoticeData]) -> Result<Vec<u8>, String> {
    if notices.is_empty() {
        return Err("没有可打印的录取通知书".into());
    }
    let face = ttf_parser::Face::parse(font, index).map_err(|e| format!("字体文件无法读取：{e}"))?;
    if face.glyph_index('录').is_none() {
        return Err("字体文件不含中文字形，请在 notices.font_file 中配置中文字体".into());
    }
    let mut g = Glyphs { face, remapper: subsetter::GlyphRemapper::new(), used: BTreeMap::new() };
    let mut streams = Vec::new();
    for n in notices {
        streams.push(page(&mut g, n)?);
    }
    let subset = subsetter::subset(font, index, &g.remapper).map_err(|e| format!("字体子集无法生成：{e}"))?;

    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let (catalog, tree, type0, cid, descriptor, file, tounicode) = (alloc(), alloc(), alloc(), alloc(), alloc(), alloc(), alloc());
    let pages: Vec<(Ref, Ref)> = streams.iter().map(|_| (alloc(), alloc())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(pages.iter().map(|(p, _)| *p)).count(pages.len() as i32);
    for ((p, c), s) in pages.iter().zip(&streams) {
        let mut page = pdf.page(*p);
        page.media_box(Rect::new(0.0, 0.0, A4_W, A4_H));
        page.parent(tree);
        page.contents(*c);
        page.resources().fonts().pair(FONT, type0);
        page.finish();
        pdf.stream(*c, s);
    }
    let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    pdf.type0_font(type0).base_font(BASE_FONT).encoding_predefined(Name(b"Identity-H")).descendant_font(cid).to_unicode(tounicode);
    let upem = f32::from(g.face.units_per_em());
    let scale = |v: f32| v * 1000.0 / upem;
    {
        let mut f = pdf.cid_font(cid);
        f.subtype(CidFontType::Type2);
        f.base_font(BASE_FONT);
        f.system_info(system);
        f.font_descriptor(descriptor);
        f.default_width(1000.0);
        f.cid_to_gid_map_predefined(Name(b"Identity"));
        let mut by_new: Vec<(u16, f32)> = g
            .used
            .iter()
            .map(|(old, (new, _))| (*new, scale(f32::from(g.face.glyph_hor_advance(ttf_parser::GlyphId(*old)).unwrap_or(0)))))
            .collect();
        by_new.sort_by_key(|(n, _)| *n);
        let mut w = f.widths();
        for (new, width) in by_new {
            w.consecutive(new, [width]);
        }
        w.finish();
        f.finish();
    }
    let bb = g.face.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(BASE_FONT)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(scale(f32::from(bb.x_min)), scale(f32::from(bb.y_min)), scale(f32::from(bb.x_max)), scale(f32::from(bb.y_max))))
        .italic_angle(0.0)
        .ascent(scale(f32::from(g.face.ascender())))
        .descent(scale(f32::from(g.face.descender())))
        .cap_height(scale(f32::from(g.face.capital_height().unwrap_or(g.face.ascender()))))
        .stem_v(80.0)
        .font_file2(file);
    pdf.stream(file, &subset);
    let mut cmap = UnicodeCmap::new(Name(b"Ruxue-UCS"), system);
    for (new, ch) in g.used.values() {
        cmap.pair(*new, *ch);
    }
    pdf.cmap(tounicode, &cmap.finish());
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn refuses_a_font_that_is_not_one() {
        let n = super::NoticeData {
            bureau: "安溪县教育局".into(),
            campaign_name: "2027".into(),
            school_name: "实验小学".into(),
            school_address: "凤城镇".into(),
            child_name: "张小明".into(),
            registration_no: "2027-G1-00001".into(),
            report_date: "2027年8月28日".into(),
            bring: vec!["户口簿".into()],
            verify_url: "https://example.org/results".into(),
            issued: "2027年7月1日".into(),
        };
        assert!(super::render(b"not a font", 0, std::slice::from_ref(&n)).unwrap_err().contains("字体"));
        assert!(super::render(b"x", 0, &[]).is_err());
    }
}
