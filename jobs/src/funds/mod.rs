//! Funds and subsidies below `api`, because the jobs need them too: eligibility facts, the
//! budget's guarded updates, creating applications (an enterprise's, or an apply-free award the
//! window-opening job makes), their notifications, and the two jobs — `fund_windows` (policy
//! push 政策直达 and apply-free awards 免申即享 when a program opens) and `fund_notices` (an
//! application whose public notice ended with no upheld objection is approved).

pub mod applications;
pub mod budget;
pub mod eligibility;
pub mod notices;
pub mod windows;
