//! A letter (公函) laid out per GB/T 9704-2012's 信函格式 (`templates/letter_sheet.html`,
//! `assets/letter.css`): the same sheet on the printable page and in the PDF that
//! [`crate::pdf`] prints from [`print_document`] (`GET /api/v1/letters/{id}/pdf`, and the page's
//! download). The letter is in Chinese, as sent.

use askama::Template;
use bangfu_app::letters::LetterDetail;

/// The stylesheet of a letter, inlined into its printed document.
pub const LETTER_CSS: &str = include_str!("../../assets/letter.css");

/// A letter laid out as it is printed.
#[derive(Clone, Debug, Default)]
pub struct Sheet {
    /// The issuing authority (发文机关标志): 山西省工业和信息化厅.
    pub sender: String,
    pub number: String,
    pub subject: String,
    pub salutation: String,
    /// The body, the closing (妥否，请函复。) last.
    pub paragraphs: Vec<String>,
    pub signature: String,
    pub date: String,
    /// 抄送, joined.
    pub cc: String,
    /// The stored text, when it is not in the drafted form and cannot be laid out.
    pub raw: String,
}

impl Sheet {
    pub fn of(detail: &LetterDetail) -> Sheet {
        let letter = &detail.letter;
        let cc = letter.cc.join("，");
        match &detail.zh {
            Some(p) => Sheet {
                sender: detail.sender.name.zh.clone(),
                number: p.number.clone(),
                subject: p.subject.clone(),
                salutation: p.salutation.clone(),
                paragraphs: p.paragraphs.clone(),
                signature: p.signature.clone(),
                date: p.date.clone(),
                cc,
                raw: String::new(),
            },
            None => Sheet { sender: detail.sender.name.zh.clone(), number: letter.number.clone(), subject: letter.subject.clone(), cc, raw: letter.body_zh.clone(), ..Sheet::default() },
        }
    }
}

#[derive(Template)]
#[template(path = "letter_print.html")]
struct LetterPrint<'a> {
    css: &'static str,
    sheet: &'a Sheet,
}

/// A letter's PDF as a download named by its number.
pub fn pdf_response(detail: &LetterDetail, pdf: Vec<u8>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let name = format!("letter-{}.pdf", detail.letter.id);
    ([(axum::http::header::CONTENT_TYPE, "application/pdf".to_string()), (axum::http::header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\""))], pdf).into_response()
}

/// The letter as a self-contained HTML document, for printing to PDF.
pub fn print_document(detail: &LetterDetail) -> String {
    LetterPrint { css: LETTER_CSS, sheet: &Sheet::of(detail) }.render().unwrap_or_default()
}
