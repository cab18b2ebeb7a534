//! Documents for upload tests: small files of every accepted type (and look-alikes that are
//! not), a multipart upload, and what the local store holds.

use crate::{Answer, TestApp};
use std::path::Path;

/// A small PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n".to_vec()
}

/// A PNG header and an IHDR chunk.
pub fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    b.extend_from_slice(&[0x1f, 0x15, 0xc4, 0x89]);
    b
}

/// A ZIP of empty stored entries with these names.
pub fn zip_of(names: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for n in names {
        let offset = out.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0");
        out.extend_from_slice(&[0; 12]);
        out.extend_from_slice(&(n.len() as u16).to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(n.as_bytes());
        cd.extend_from_slice(b"PK\x01\x02\x14\0\x14\0\0\0\0\0\0\0\0\0");
        cd.extend_from_slice(&[0; 12]);
        cd.extend_from_slice(&(n.len() as u16).to_le_bytes());
        cd.extend_from_slice(&[0; 12]);
        cd.extend_from_slice(&offset.to_le_bytes());
        cd.extend_from_slice(n.as_bytes());
    }
    let at = out.len() as u32;
    out.extend_from_slice(&cd);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(names.len() as u16).to_le_bytes());
    out.extend_from_slice(&(names.len() as u16).to_le_bytes());
    out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// A DOCX package (its content types and main document part).
pub fn docx() -> Vec<u8> {
    zip_of(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
}

/// An XLSX package.
pub fn xlsx() -> Vec<u8> {
    zip_of(&["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"])
}

/// A PDF of `size` bytes (a header, then filler).
pub fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut b = pdf();
    b.resize(size, b'x');
    b
}

/// `POST /files` with the field `file` named `name`, declared as `declared`.
pub async fn upload(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    declared: &str,
) -> Answer {
    upload_with_key(app, token, name, bytes, declared, None).await
}

/// [`upload`] with an `Idempotency-Key`.
pub async fn upload_with_key(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    declared: &str,
    key: Option<&str>,
) -> Answer {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(declared)
        .expect("a media type");
    let form = reqwest::multipart::Form::new().part("file", part);
    let mut req = app
        .client
        .post(app.url("/files"))
        .bearer_auth(token)
        .multipart(form);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    Answer::from_response(req.send().await.expect("the upload is answered")).await
}

/// `GET /files/{id}` with extra headers: status, headers and the raw bytes.
pub async fn download(
    app: &TestApp,
    token: &str,
    id: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app
        .client
        .get(app.url(&format!("/files/{id}")))
        .bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("the download is answered");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("a body").to_vec())
}

/// The regular files under `dir`, recursively (none when it does not exist).
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
