//! The one CSV writer; it lives in `jobs` (which the api embeds) so the mailed reports and the
//! downloads share it.

pub use jobs::csv::*;
