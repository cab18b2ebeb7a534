//! The unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! 18 characters from `0-9A-HJ-NPQRTUWXY` (no I, O, Z, S, V): registration authority (1),
//! entity type (1), administrative division (6 digits), organization code (9) and a check
//! character computed over the first 17.

use std::fmt;

/// The code's alphabet; a character's value is its index.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 (3^i mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Length of a code.
const LEN: usize = 18;

/// A valid unified social credit code, stored upper-case.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uscc(String);

/// Why a string is not a valid unified social credit code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsccError {
    /// Not 18 characters (17 for `with_check_char`).
    #[error("a unified social credit code has {expected} characters, got {actual}")]
    WrongLength {
        /// Characters required.
        expected: usize,
        /// Characters given.
        actual: usize,
    },
    /// A character outside `0-9A-HJ-NPQRTUWXY`.
    #[error(
        "character {position} ({found:?}) is not allowed: use digits and upper-case letters except I, O, S, V, Z"
    )]
    InvalidCharacter {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// Characters 3–8 are not all digits.
    #[error("characters 3 to 8 (the administrative division code) must be digits")]
    InvalidDivisionCode,
    /// The 18th character does not match the first 17.
    #[error("check character is {found:?}, expected {expected:?}")]
    WrongCheckChar {
        /// Check character given.
        found: char,
        /// Check character computed from the first 17.
        expected: char,
    },
}

impl Uscc {
    /// Parses a code: surrounding whitespace is trimmed and lower-case letters are accepted and
    /// upper-cased (people type codes on phones); everything else must be exact.
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let code = input.trim().to_ascii_uppercase();
        let body = check_body(&code, LEN)?;
        let expected = check_char(&body);
        let found = char::from(code.as_bytes()[LEN - 1]);
        if found != expected {
            return Err(UsccError::WrongCheckChar { found, expected });
        }
        Ok(Uscc(code))
    }

    /// Completes 17 characters with their check character (for generated demo data).
    pub fn with_check_char(first17: &str) -> Result<Uscc, UsccError> {
        let mut code = first17.trim().to_ascii_uppercase();
        let body = check_body(&code, LEN - 1)?;
        code.push(check_char(&body));
        Ok(Uscc(code))
    }

    /// The code, upper-case, 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validates length and characters of `code` (which must have `len` characters) and returns
/// the values of its first 17 characters.
fn check_body(code: &str, len: usize) -> Result<[u32; 17], UsccError> {
    let actual = code.chars().count();
    if actual != len {
        return Err(UsccError::WrongLength {
            expected: len,
            actual,
        });
    }
    let mut values = [0u32; 17];
    // Length in chars equals length in bytes once every char is checked to be in ALPHABET.
    for (i, c) in code.chars().enumerate() {
        let value = u8::try_from(c)
            .ok()
            .and_then(|b| ALPHABET.iter().position(|&a| a == b))
            .ok_or(UsccError::InvalidCharacter {
                position: i + 1,
                found: c,
            })?;
        if (2..8).contains(&i) && value >= 10 {
            return Err(UsccError::InvalidDivisionCode);
        }
        if let Some(slot) = values.get_mut(i) {
            // Bounded by ALPHABET's length, 31.
            *slot = value as u32;
        }
    }
    Ok(values)
}

/// The check character for the first 17 values: `31 - (Σ value × weight mod 31)`, 31 → '0'.
fn check_char(values: &[u32; 17]) -> char {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    char::from(ALPHABET[check as usize])
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uscc::parse(s)
    }
}

impl TryFrom<String> for Uscc {
    type Error = UsccError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uscc::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(code: Uscc) -> String {
        code.0
    }
}

impl AsRef<str> for Uscc {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real-format codes whose check characters were verified by hand.
    const VALID: &[&str] = &["91350100M000100Y43", "91110000600037341L"];

    #[test]
    fn accepts_valid_codes() {
        for code in VALID {
            let parsed = Uscc::parse(code).unwrap();
            assert_eq!(parsed.as_str(), *code);
            assert_eq!(parsed.to_string(), *code);
        }
    }

    #[test]
    fn trims_and_uppercases_input() {
        let parsed = Uscc::parse("  91350100m000100y43\n").unwrap();
        assert_eq!(parsed.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn rejects_wrong_check_char() {
        assert_eq!(
            Uscc::parse("91350100M000100Y44"),
            Err(UsccError::WrongCheckChar {
                found: '4',
                expected: '3'
            })
        );
        assert_eq!(
            Uscc::parse("91110000600037341X"),
            Err(UsccError::WrongCheckChar {
                found: 'X',
                expected: 'L'
            })
        );
    }

    #[test]
    fn rejects_forbidden_letters() {
        for (bad, c) in [('I', 'I'), ('O', 'O'), ('Z', 'Z'), ('S', 'S'), ('V', 'V')] {
            let code = format!("91350100M000100{bad}43");
            assert_eq!(
                Uscc::parse(&code),
                Err(UsccError::InvalidCharacter {
                    position: 16,
                    found: c
                })
            );
        }
        assert!(matches!(
            Uscc::parse("91350100M000100Y4统"),
            Err(UsccError::InvalidCharacter { position: 18, .. })
        ));
        assert!(matches!(
            Uscc::parse("91350100M00-100Y43"),
            Err(UsccError::InvalidCharacter { position: 12, .. })
        ));
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(
            Uscc::parse("91350100M000100Y4"),
            Err(UsccError::WrongLength {
                expected: 18,
                actual: 17
            })
        );
        assert_eq!(
            Uscc::parse(""),
            Err(UsccError::WrongLength {
                expected: 18,
                actual: 0
            })
        );
        assert!(matches!(
            Uscc::parse("91350100M000100Y433"),
            Err(UsccError::WrongLength { actual: 19, .. })
        ));
    }

    #[test]
    fn rejects_letters_in_division_code() {
        assert_eq!(
            Uscc::parse("913A0100M000100Y43"),
            Err(UsccError::InvalidDivisionCode)
        );
    }

    #[test]
    fn with_check_char_completes_valid_codes() {
        for code in VALID {
            assert_eq!(Uscc::with_check_char(&code[..17]).unwrap().as_str(), *code);
        }
        let generated = Uscc::with_check_char("91440300MA5EXAMPL").unwrap();
        assert_eq!(Uscc::parse(generated.as_str()).unwrap(), generated);
        assert!(Uscc::with_check_char("91350100M000100Y43").is_err());
    }

    #[test]
    fn check_char_zero_case() {
        // Find a body whose weighted sum is 0 mod 31: the check character must be '0'.
        let code = Uscc::with_check_char("00000000000000000").unwrap();
        assert_eq!(code.as_str(), "000000000000000000");
    }

    #[test]
    fn serde_round_trip_validates() {
        let code = Uscc::parse(VALID[0]).unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"91350100M000100Y43\"");
        assert_eq!(serde_json::from_str::<Uscc>(&json).unwrap(), code);
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y44\"").is_err());
    }
}
