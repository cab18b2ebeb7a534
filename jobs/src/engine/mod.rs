//! The engine every promise runs on: clocks, the monitor, timelines and supervisions for any
//! subject (an appeal today; financing requests and fund reviews next). It sits in `jobs`,
//! below `api`, because both use it and nothing may depend on `api`.
//!
//! - [`clocks`]: the one clock service (start, meet, pause, resume, extend, cancel, recompute;
//!   the monitor's due scan and claim). Pure rules in `entity::sla`.
//! - [`monitor`]: warnings, breaches and escalations, claimed once per clock.
//! - [`subjects`]: one small resolver per subject type (holder, watchers, number, title).
//! - [`timeline`]: the one writer of timeline lines and supervisions.
//!
//! A new subject type is a new `SubjectType` value, its key column on the three tables, and a
//! resolver arm; a new clock kind is a new `ClockKind` value.

pub mod clocks;
pub mod monitor;
pub mod subjects;
pub mod timeline;

pub use entity::subject::Subject;
