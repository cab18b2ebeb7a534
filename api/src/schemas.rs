//! Schemas of request and answer fields that the OpenAPI derive cannot express alone
//! (`#[schema(schema_with = ...)]`): working-day amounts, instants or dates, USCCs, time zones.
//! Shared by the services' types; depends on nothing else in the crate.

use utoipa::openapi::{
    KnownFormat, Schema, SchemaFormat,
    schema::{AnyOfBuilder, ObjectBuilder, OneOfBuilder, Type},
};

/// Working days in plain decimal notation, as the API reads them: 0 to 365 with at most 3
/// decimal places (trailing zeros aside), as a string (`"0.5"`) or a number (`1`).
const WORKING_DAYS: &str =
    r"^0*(?:[0-9]{1,2}|[12][0-9]{2}|3[0-5][0-9]|36[0-4])(?:\.[0-9]{1,3}0*)?$|^0*365(?:\.0+)?$";
/// The same, above 0.
const POSITIVE_WORKING_DAYS: &str = r"^0*(?:[1-9][0-9]?|[12][0-9]{2}|3[0-5][0-9]|36[0-4])(?:\.[0-9]{1,3}0*)?$|^0*365(?:\.0+)?$|^0+\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9])0*$";

fn working_days_schema(positive: bool) -> Schema {
    let number = ObjectBuilder::new()
        .schema_type(Type::Number)
        .maximum(Some(365))
        .multiple_of(Some(0.001));
    let number = if positive {
        number.exclusive_minimum(Some(0))
    } else {
        number.minimum(Some(0))
    };
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(if positive {
                    POSITIVE_WORKING_DAYS
                } else {
                    WORKING_DAYS
                }))
                .examples(["0.5"]),
        )
        .item(number.examples([1]))
        .description(Some(if positive {
            "Working days above 0, at most 365, with up to 3 decimal places: a string in plain decimal notation (`\"0.5\"`) or a number (`1`)."
        } else {
            "Working days from 0 to 365 with up to 3 decimal places: a string in plain decimal notation (`\"0.5\"`) or a number (`1`)."
        }))
        .build()
        .into()
}

/// The schema of a count of working days (`schema_with`).
pub fn working_days() -> Schema {
    working_days_schema(false)
}

/// The schema of a count of working days above 0 (`schema_with`).
pub fn positive_working_days() -> Schema {
    working_days_schema(true)
}

/// Years the API accepts in dates and instants: 1900 to 9999.
const YEAR_1900_TO_9999: &str = r"^(?:19[0-9]{2}|[2-9][0-9]{3})-";

/// An RFC 3339 instant or a date, 1900-01-01 to 9999-12-31 (`schema_with`).
pub fn instant_or_date() -> Schema {
    AnyOfBuilder::new()
        .description(Some(
            "An RFC 3339 instant or a date (midnight in the calendar's time zone), from 1900-01-01 to 9999-12-31.",
        ))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .pattern(Some(YEAR_1900_TO_9999)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some(YEAR_1900_TO_9999)),
        )
        .build()
        .into()
}

/// What a 统一社会信用代码 is; the pattern says all but the check character.
const USCC: &str = "统一社会信用代码 (GB 32100-2015): 18 characters of `0-9A-HJ-NPQRTUWXY` (lower case accepted, surrounding whitespace ignored), characters 3–8 digits, the last the check character of the first 17.";

fn uscc_string() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            r"^(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Ya-hj-np-rtuw-y]{10}(?:[\t\n \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\r\n)*$",
        ))
        .examples(["91320600MA1XY7123Y"])
}

/// A 统一社会信用代码 (`schema_with`).
pub fn uscc() -> Schema {
    uscc_string().description(Some(USCC)).into()
}

/// A 统一社会信用代码, or null (`schema_with`).
pub fn optional_uscc() -> Schema {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(uscc_string())
        .description(Some(USCC))
        .into()
}

/// An IANA time zone name, one of those the server knows (`schema_with`).
pub fn time_zone() -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
        .examples(["Asia/Shanghai"])
        .build()
}
