//! Inputs shared by several resources.

use serde::Deserialize;
use validator::Validate;

/// The reason for a rejection or suspension.
#[derive(Debug, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, in words the organisation will read.
    #[validate(length(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1000))]
    pub reason: String,
}
