//! The residents' side, as the Open311 server and the report pages share it: a case as anyone may read
//! it (no person, no house number, no internal note) and why a report or a read is refused.
use crate::model::{Category, Status};
use serde::{Deserialize, Serialize};

/// A case as the public sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicRequest {
    /// `service_request_id`: a resident's tracking number, or `{feed}:{case id}` for the city's other cases.
    pub id: String,
    pub category: Category,
    pub status: Status,
    /// The department handling it, once dispatched.
    pub department: Option<String>,
    pub requested: i64,
    pub updated: i64,
    /// The deadline.
    pub expected: i64,
    /// Region names from the district down to the community or village: never finer.
    pub place: String,
    /// A point inside the case's grid (WGS-84 lon, lat), not where the resident stood.
    pub point: [f64; 2],
    /// The description with digit runs (phone, house and ID numbers) masked.
    pub description: String,
    /// Status changes, oldest first (only with one request read by id).
    pub history: Vec<PublicStep>,
}

/// One public step of a case: the status it reached and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicStep {
    pub status: Status,
    pub at: i64,
    /// On a resident's report: the department it was dispatched to, the reply it was resolved with.
    pub note: Option<String>,
}

impl PublicRequest {
    /// Open311 knows two states: open until the city has closed the case.
    pub fn open(&self) -> bool {
        self.status != Status::Closed
    }
}

/// A parameter of a report or a read, by its Open311 name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    ServiceCode,
    Lat,
    Long,
    AddressString,
    AddressId,
    Description,
    Email,
    Phone,
    FirstName,
    LastName,
    DeviceId,
    AccountId,
    Attribute,
    MediaUrl,
    ApiKey,
    JurisdictionId,
    StartDate,
    EndDate,
    UpdatedAfter,
    UpdatedBefore,
    Status,
    MaxResults,
    ServiceRequestId,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::ServiceCode => "service_code",
            Field::Lat => "lat",
            Field::Long => "long",
            Field::AddressString => "address_string",
            Field::AddressId => "address_id",
            Field::Description => "description",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::DeviceId => "device_id",
            Field::AccountId => "account_id",
            Field::Attribute => "attribute",
            Field::MediaUrl => "media_url",
            Field::ApiKey => "api_key",
            Field::JurisdictionId => "jurisdiction_id",
            Field::StartDate => "start_date",
            Field::EndDate => "end_date",
            Field::UpdatedAfter => "updated_after",
            Field::UpdatedBefore => "updated_before",
            Field::Status => "status",
            Field::MaxResults => "max_results",
            Field::ServiceRequestId => "service_request_id",
        }
    }
}

/// Why a report or a read is refused. `i18n::refusal` words it; `http_status` is what the Open311 server
/// answers with (the spec's error `code` is the same number).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    Missing(Field),
    /// Not in the form the field takes (a number, a date, an address).
    Invalid(Field),
    /// Longer than the field takes (characters).
    TooLong(Field, usize),
    UnknownService,
    /// Neither a point, an address nor a grid: nobody could go there.
    NoPlace,
    /// The address names no place of the city.
    AddressUnknown,
    /// The address names only this district or town: the community or village is needed.
    AddressVague(String),
    /// The address fits several communities or villages (town and name, a few of them).
    AddressAmbiguous(Vec<String>),
    OutsideCity,
    /// A period longer than a read may cover (days).
    PeriodTooLong(u32),
    UnknownJurisdiction,
    KeyRequired,
    KeyInvalid,
    /// Too many reports from one address or app; try again in this many seconds.
    TooMany(u64),
    NotFound,
    /// The body is not a form (application/x-www-form-urlencoded).
    NotAForm,
    /// The photo is larger than this many MiB.
    PhotoTooLarge(usize),
    /// The photo is not a JPEG or PNG (or not a whole one).
    PhotoType,
    /// The photo held for the report is gone (held for a day only); it must be attached again.
    PhotoExpired,
    /// The store cannot be reached; nothing was taken.
    Unavailable,
}

impl Refusal {
    pub fn http_status(&self) -> u16 {
        match self {
            Refusal::UnknownJurisdiction | Refusal::NotFound => 404,
            Refusal::KeyRequired | Refusal::KeyInvalid => 403,
            Refusal::TooMany(_) => 429,
            Refusal::PhotoTooLarge(_) => 413,
            Refusal::PhotoType => 415,
            Refusal::Unavailable => 503,
            _ => 400,
        }
    }
}
