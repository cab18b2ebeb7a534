//! The demo city (filled in by the demo loader).

use crate::state::AppState;

/// Loads the demo city into an empty database.
pub async fn load(_state: &AppState) -> anyhow::Result<()> {
    anyhow::bail!("the demo loader is not built yet")
}
