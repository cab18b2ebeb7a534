//! Mail: typed templates, the outbox (written in the caller's transaction), the lettre transport
//! and the dispatcher job that sends what the outbox holds.

pub mod dispatch;
pub mod outbox;
pub mod templates;
pub mod transport;

pub use outbox::{enqueue, enqueue_at};
pub use templates::Template;
pub use transport::Mailer;
