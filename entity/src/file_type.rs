//! What an uploaded document is, decided from its bytes: the first bytes (magic numbers) for
//! PDF, JPEG and PNG; for a ZIP container the names in its central directory, so a DOCX must
//! hold `word/document.xml`, an XLSX `xl/workbook.xml` and an OFD (GB/T 33190) its `OFD.xml`
//! entry. The name and the declared type are never consulted. Pure functions: the caller reads
//! the bytes (the head while streaming, then the tail and the directory by range).

use std::ops::Range;

/// The document types the platform accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Ofd,
    Jpeg,
    Png,
    Docx,
    Xlsx,
}

impl FileType {
    /// The media type stored with the file and sent with its downloads.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Ofd => "application/ofd",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

impl FileType {
    /// A short name for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pdf => "PDF",
            Self::Ofd => "OFD",
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Docx => "DOCX",
            Self::Xlsx => "XLSX",
        }
    }

    /// The file-name extensions of this type.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Pdf => &["pdf"],
            Self::Ofd => &["ofd"],
            Self::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Self::Png => &["png"],
            Self::Docx => &["docx"],
            Self::Xlsx => &["xlsx"],
        }
    }

    /// Whether a declared media type names this type (or an alias of it).
    fn declared_as(self, essence: &str) -> bool {
        essence == self.content_type()
            || match self {
                Self::Pdf => matches!(essence, "application/x-pdf" | "application/acrobat"),
                Self::Jpeg => matches!(essence, "image/jpg" | "image/pjpeg"),
                Self::Png => essence == "image/x-png",
                Self::Ofd => essence == "application/x-ofd",
                Self::Docx | Self::Xlsx => false,
            }
    }
}

/// Media types that say nothing of the document's type: any accepted type may come as one.
fn generic(essence: &str, t: FileType) -> bool {
    matches!(
        essence,
        "" | "application/octet-stream" | "binary/octet-stream"
    ) || (matches!(t, FileType::Docx | FileType::Xlsx | FileType::Ofd)
        && matches!(
            essence,
            "application/zip" | "application/x-zip-compressed" | "application/x-zip"
        ))
}

/// The extension of a name: the text after its last dot when that is 1–5 ASCII letters or
/// digits (`2026.03 报表` has none).
fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

/// `name` with the type's usual extension added when it has none (so a download opens with the
/// right program).
pub fn with_extension(t: FileType, name: &str) -> String {
    if extension(name).is_some() {
        return name.to_string();
    }
    let ext = t.extensions()[0];
    let stem: String = name.chars().take(NAME_MAX - 1 - ext.len()).collect();
    format!("{stem}.{ext}")
}

/// A disguised upload: the bytes are one type, the name or the declared type say another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disguised(pub String);

/// The bytes decide the type; a name extension or a specific declared media type that says
/// something else is a disguise (a PNG renamed `.pdf`, an executable renamed `.docx` would not
/// even get here). A name without an extension, and generic declared types
/// (`application/octet-stream`, a ZIP type for DOCX/XLSX/OFD), agree with anything.
pub fn check_agrees(t: FileType, name: &str, declared: Option<&str>) -> Result<(), Disguised> {
    if let Some(ext) = extension(name)
        && !t.extensions().contains(&ext.as_str())
    {
        return Err(Disguised(format!(
            "the content is a {} document but the name ends in .{ext}",
            t.label()
        )));
    }
    let essence = declared
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !generic(&essence, t) && !t.declared_as(&essence) {
        return Err(Disguised(format!(
            "the content is a {} document but it was sent as {essence}",
            t.label()
        )));
    }
    Ok(())
}

/// How many leading bytes [`sniff_head`] needs to decide (a PDF header may follow up to 1 KiB
/// of leading junk, as readers accept).
pub const HEAD_BYTES: usize = 1024;

/// What the first bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// The type is decided.
    Is(FileType),
    /// A ZIP container: its central directory decides.
    Zip,
    /// Not an accepted type.
    Other,
}

/// Decides from the first bytes of a file (up to [`HEAD_BYTES`]).
pub fn sniff_head(head: &[u8]) -> Head {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Head::Is(FileType::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Head::Is(FileType::Jpeg)
    } else if head.starts_with(b"PK\x03\x04") {
        Head::Zip
    } else if head[..head.len().min(HEAD_BYTES)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        Head::Is(FileType::Pdf)
    } else {
        Head::Other
    }
}

/// The end of central directory record is 22 bytes plus a comment of at most 65,535.
const EOCD_MIN: u64 = 22;
const EOCD_MAX: u64 = EOCD_MIN + 65_535;
/// The ZIP64 locator sits right before the end record.
const ZIP64_LOCATOR: u64 = 20;

/// The bytes of a ZIP file of `size` bytes to read for [`locate_directory`]: its tail, where
/// the end of central directory record (and a ZIP64 locator) are.
pub fn tail_range(size: u64) -> Range<u64> {
    size.saturating_sub(EOCD_MAX + ZIP64_LOCATOR)..size
}

/// Where a ZIP file's central directory is, or what must be read to know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directory {
    /// The central directory is at this range of the file.
    At(Range<u64>),
    /// A ZIP64 archive: read this range (its ZIP64 end record) and call
    /// [`locate_zip64_directory`].
    Zip64Record(Range<u64>),
}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u64)
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Finds the central directory from `tail`, the bytes at [`tail_range`] of a file of `size`
/// bytes. `None`: not a well-formed ZIP.
pub fn locate_directory(tail: &[u8], size: u64) -> Option<Directory> {
    let base = size.checked_sub(tail.len() as u64)?;
    // The last end record whose comment runs exactly to the end of the file.
    let at = (0..tail.len().checked_sub(EOCD_MIN as usize - 1)?)
        .rev()
        .find(|&i| {
            tail[i..].starts_with(b"PK\x05\x06")
                && u16_at(tail, i + 20)
                    .is_some_and(|c| i as u64 + EOCD_MIN + c == tail.len() as u64)
        })?;
    let (cd_size, cd_offset) = (u32_at(tail, at + 12)?, u32_at(tail, at + 16)?);
    if cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        let loc = at.checked_sub(ZIP64_LOCATOR as usize)?;
        if !tail[loc..].starts_with(b"PK\x06\x07") {
            return None;
        }
        let record = u64_at(tail, loc + 8)?;
        return (record.checked_add(56)? <= base + loc as u64)
            .then(|| Directory::Zip64Record(record..record + 56));
    }
    let end = cd_offset.checked_add(cd_size)?;
    (end <= base + at as u64).then_some(Directory::At(cd_offset..end))
}

/// The central directory's range from a ZIP64 end record read at the range
/// [`Directory::Zip64Record`] gave.
pub fn locate_zip64_directory(record: &[u8], record_at: u64) -> Option<Range<u64>> {
    if !record.starts_with(b"PK\x06\x06") {
        return None;
    }
    let (size, offset) = (u64_at(record, 40)?, u64_at(record, 48)?);
    let end = offset.checked_add(size)?;
    (end <= record_at).then_some(offset..end)
}

/// The entry names of a central directory (`None`: malformed).
pub fn directory_names(cd: &[u8]) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while at < cd.len() {
        if !cd[at..].starts_with(b"PK\x01\x02") {
            return None;
        }
        let name_len = u16_at(cd, at + 28)? as usize;
        let extra_len = u16_at(cd, at + 30)? as usize;
        let comment_len = u16_at(cd, at + 32)? as usize;
        let name = cd.get(at + 46..at + 46 + name_len)?;
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(names)
}

/// The document type of a ZIP container with these entries: DOCX, XLSX (OOXML packages with
/// their main part) or OFD; anything else (a plain archive, a JAR, an ODF file) is `None`.
pub fn zip_type(names: &[String]) -> Option<FileType> {
    let has = |n: &str| names.iter().any(|e| e == n);
    if has("[Content_Types].xml") {
        if has("word/document.xml") {
            return Some(FileType::Docx);
        }
        if has("xl/workbook.xml") {
            return Some(FileType::Xlsx);
        }
        return None;
    }
    has("OFD.xml").then_some(FileType::Ofd)
}

/// The longest kept name, characters.
pub const NAME_MAX: usize = 255;

/// An uploaded name made safe to store and to send back: no directories (either separator),
/// no control or bidirectional-override characters, no surrounding blanks or dots; Chinese and
/// every other printable character kept. At most [`NAME_MAX`] characters, the extension kept
/// when it is cut. An empty result is `附件`.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = base
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
        })
        .collect();
    let trimmed = kept.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let name = if trimmed.is_empty() {
        "附件"
    } else {
        trimmed
    };
    if name.chars().count() <= NAME_MAX {
        return name.to_string();
    }
    let ext: String = match name.rsplit_once('.') {
        Some((_, e)) if e.chars().count() <= 16 => format!(".{e}"),
        _ => String::new(),
    };
    let stem: String = name.chars().take(NAME_MAX - ext.chars().count()).collect();
    stem + &ext
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ZIP holding empty stored entries with these names.
    pub(crate) fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for n in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 12]);
            out.extend_from_slice(&(n.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(n.as_bytes());
            cd.extend_from_slice(b"PK\x01\x02");
            cd.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            cd.extend_from_slice(&[0; 12]);
            cd.extend_from_slice(&(n.len() as u16).to_le_bytes());
            cd.extend_from_slice(&[0; 12]);
            cd.extend_from_slice(&offset.to_le_bytes());
            cd.extend_from_slice(n.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&cd);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    fn type_of(bytes: &[u8]) -> Option<FileType> {
        match sniff_head(&bytes[..bytes.len().min(HEAD_BYTES)]) {
            Head::Is(t) => Some(t),
            Head::Other => None,
            Head::Zip => {
                let size = bytes.len() as u64;
                let r = tail_range(size);
                let dir = match locate_directory(&bytes[r.start as usize..], size)? {
                    Directory::At(r) => r,
                    Directory::Zip64Record(r) => {
                        locate_zip64_directory(&bytes[r.start as usize..r.end as usize], r.start)?
                    }
                };
                zip_type(&directory_names(
                    &bytes[dir.start as usize..dir.end as usize],
                )?)
            }
        }
    }

    #[test]
    fn magic_numbers_decide_pdf_png_jpeg() {
        assert_eq!(type_of(b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(type_of(b"\r\n%PDF-1.4"), Some(FileType::Pdf));
        assert_eq!(type_of(b"\x89PNG\r\n\x1a\n\0\0"), Some(FileType::Png));
        assert_eq!(
            type_of(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(FileType::Jpeg)
        );
        assert_eq!(type_of(b"GIF89a"), None);
        assert_eq!(type_of(b"<html>%PD"), None);
        assert_eq!(type_of(b""), None);
    }

    #[test]
    fn zip_containers_need_their_main_part() {
        let docx = zip_of(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(type_of(&docx), Some(FileType::Docx));
        let xlsx = zip_of(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(type_of(&xlsx), Some(FileType::Xlsx));
        let ofd = zip_of(&["OFD.xml", "Doc_0/Document.xml"]);
        assert_eq!(type_of(&ofd), Some(FileType::Ofd));
        assert_eq!(type_of(&zip_of(&["readme.txt", "word/document.xml"])), None);
        assert_eq!(
            type_of(&zip_of(&["[Content_Types].xml", "ppt/presentation.xml"])),
            None
        );
        let mut truncated = docx.clone();
        truncated.truncate(docx.len() - 5);
        assert_eq!(type_of(&truncated), None);
        assert_eq!(type_of(b"PK\x03\x04garbage"), None);
    }

    #[test]
    fn a_zip_comment_is_skipped_to_find_the_directory() {
        let mut docx = zip_of(&["[Content_Types].xml", "word/document.xml"]);
        let n = docx.len();
        docx[n - 2..].copy_from_slice(&5u16.to_le_bytes());
        docx.extend_from_slice(b"hello");
        assert_eq!(type_of(&docx), Some(FileType::Docx));
    }

    #[test]
    fn the_name_and_the_declared_type_must_not_contradict_the_bytes() {
        use FileType::*;
        assert!(check_agrees(Pdf, "报表.pdf", Some("application/pdf")).is_ok());
        assert!(check_agrees(Pdf, "报表", None).is_ok());
        assert!(check_agrees(Pdf, "2026.03 报表", Some("application/octet-stream")).is_ok());
        assert!(check_agrees(Jpeg, "照片.JPG", Some("image/jpeg")).is_ok());
        assert!(check_agrees(Docx, "合同.docx", Some("application/zip")).is_ok());
        assert!(check_agrees(Png, "报表.pdf", Some("application/pdf")).is_err());
        assert!(check_agrees(Png, "图.png", Some("application/pdf")).is_err());
        assert!(check_agrees(Pdf, "run.exe", None).is_err());
        assert!(check_agrees(Pdf, "a.pdf", Some("text/html")).is_err());
        assert!(check_agrees(Pdf, "a.pdf", Some("application/zip")).is_err());
        assert_eq!(with_extension(Pdf, "报表"), "报表.pdf");
        assert_eq!(with_extension(Jpeg, "照片.JPG"), "照片.JPG");
    }

    #[test]
    fn names_lose_directories_and_control_characters_but_keep_chinese() {
        assert_eq!(clean_name("../../报表.pdf"), "报表.pdf");
        assert_eq!(clean_name(r"C:\Users\张三\营业执照.png"), "营业执照.png");
        assert_eq!(clean_name("a\u{0}b\nc\u{202E}fdp.exe"), "abcfdp.exe");
        assert_eq!(clean_name(".."), "附件");
        assert_eq!(clean_name("   "), "附件");
        assert_eq!(
            clean_name("2026年 财务报表（审计）.xlsx"),
            "2026年 财务报表（审计）.xlsx"
        );
        let long = format!("{}.pdf", "长".repeat(300));
        let cut = clean_name(&long);
        assert_eq!(cut.chars().count(), NAME_MAX);
        assert!(cut.ends_with(".pdf"));
    }
}
