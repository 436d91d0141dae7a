//! A resident's report: every field checked, then one record of the residents' feed. The tracking number
//! is drawn from what was reported, where and in which minute, so the same report sent twice (a double
//! tap, a retry after a lost answer) is one case, and the feed counts the second as a duplicate.
use super::service;
use crate::feeds::gazetteer::AddressMiss;
use crate::feeds::locate::{Datum, Locator};
use crate::feeds::record::{Body, CaseRecord, Record};
use app::flow::Priority;
use app::model::{Category, Level, Person, Source, Status};
use app::residents::{Field, Refusal};
use std::collections::BTreeMap;

pub const MAX_DESCRIPTION: usize = 4000;
const MAX_ADDRESS: usize = 200;
const MAX_NAME: usize = 50;
const MAX_ID: usize = 100;

/// What a resident (or an app on their behalf) sent, as the Open311 form names it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Submission {
    pub service_code: Option<String>,
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub media_url: Option<String>,
    /// `attribute[CODE]` values.
    pub attributes: BTreeMap<String, String>,
}

impl Submission {
    /// From form pairs as the spec sends them (`attribute[code]=value` for attributes). Unknown keys are
    /// left to the caller (api_key, jurisdiction_id).
    pub fn from_pairs(pairs: &[(String, String)]) -> Submission {
        let mut s = Submission::default();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            let slot = match k.as_str() {
                "service_code" => &mut s.service_code,
                "lat" => &mut s.lat,
                "long" => &mut s.long,
                "address_string" => &mut s.address_string,
                "address_id" => &mut s.address_id,
                "description" => &mut s.description,
                "email" => &mut s.email,
                "phone" => &mut s.phone,
                "first_name" => &mut s.first_name,
                "last_name" => &mut s.last_name,
                "device_id" => &mut s.device_id,
                "account_id" => &mut s.account_id,
                "media_url" => &mut s.media_url,
                other => {
                    if let Some(code) = other.strip_prefix("attribute[").and_then(|r| r.strip_suffix(']')) {
                        s.attributes.insert(code.to_string(), v);
                    }
                    continue;
                }
            };
            *slot = Some(v);
        }
        s
    }
}

/// A report that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub id: String,
    pub category: Category,
    pub grid: String,
    pub at: i64,
    /// The description with the attributes' answers after it: what officials read.
    pub summary: String,
    /// Where exactly (the resident's words, or the point): sensitive, never published.
    pub address: String,
    pub person: Option<Person>,
}

fn within(f: Field, v: &Option<String>, max: usize) -> Result<(), Refusal> {
    match v {
        Some(v) if v.chars().count() > max => Err(Refusal::TooLong(f, max)),
        _ => Ok(()),
    }
}

fn degrees(f: Field, v: &str, range: f64) -> Result<f64, Refusal> {
    v.parse::<f64>().ok().filter(|x| x.is_finite() && x.abs() <= range).ok_or(Refusal::Invalid(f))
}

/// Checks a submission made at `now` (Unix ms); the refusal names the first field at fault.
pub fn check(s: &Submission, locator: &Locator, now: i64) -> Result<Report, Refusal> {
    let code = s.service_code.as_deref().ok_or(Refusal::Missing(Field::ServiceCode))?;
    let svc = service::find(code).ok_or(Refusal::UnknownService)?;
    let description = s.description.as_deref().ok_or(Refusal::Missing(Field::Description))?;
    within(Field::Description, &s.description, MAX_DESCRIPTION)?;
    within(Field::AddressString, &s.address_string, MAX_ADDRESS)?;
    for (f, v) in [(Field::FirstName, &s.first_name), (Field::LastName, &s.last_name)] {
        within(f, v, MAX_NAME)?;
    }
    for (f, v) in [(Field::DeviceId, &s.device_id), (Field::AccountId, &s.account_id), (Field::Email, &s.email), (Field::Phone, &s.phone)] {
        within(f, v, MAX_ID)?;
    }
    if let Some(e) = &s.email {
        let ok = e.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')) && !e.chars().any(char::is_whitespace);
        if !ok {
            return Err(Refusal::Invalid(Field::Email));
        }
    }
    let phone = match &s.phone {
        Some(p) => {
            let digits: String = p.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '+')).collect();
            if digits.len() < 5 || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(Refusal::Invalid(Field::Phone));
            }
            Some(digits)
        }
        None => None,
    };
    // Photos come with the report page, stored by the city itself; a link to elsewhere is not taken,
    // rather than dropped without a word.
    if s.media_url.is_some() {
        return Err(Refusal::Invalid(Field::MediaUrl));
    }
    let answers = service::answers(svc, &s.attributes)?;

    let (grid, place) = match (&s.lat, &s.long, &s.address_id) {
        (Some(lat), Some(long), _) => {
            let (lat, lon) = (degrees(Field::Lat, lat, 90.0)?, degrees(Field::Long, long, 180.0)?);
            let grid = locator.locate(lon, lat, Datum::Wgs84).map_err(|_| Refusal::OutsideCity)?;
            (grid, format!("WGS-84 {lat:.6}, {lon:.6}"))
        }
        (Some(_), None, _) => return Err(Refusal::Missing(Field::Long)),
        (None, Some(_), _) => return Err(Refusal::Missing(Field::Lat)),
        (None, None, Some(id)) => {
            let idx = locator.tree().find(id).ok_or(Refusal::Invalid(Field::AddressId))?;
            if locator.tree().get(idx).row.level != Level::Grid {
                return Err(Refusal::Invalid(Field::AddressId));
            }
            (id.clone(), format!("网格 {id}"))
        }
        (None, None, None) => {
            let words = s.address_string.as_deref().ok_or(Refusal::NoPlace)?;
            let grid = locator.address(words).map_err(|miss| match miss {
                AddressMiss::Unknown => Refusal::AddressUnknown,
                AddressMiss::Vague(r) => Refusal::AddressVague(r),
                AddressMiss::Ambiguous(list) => Refusal::AddressAmbiguous(list),
            })?;
            // The words are the place: the same words in the same minute are the same report.
            (grid.to_string(), format!("按地址 {words}"))
        }
    };
    let address = match &s.address_string {
        Some(a) if !place.starts_with("按地址") => format!("{a}（{place}）"),
        Some(a) => format!("{a}（按地址定位到网格 {grid}）"),
        None => place.clone(),
    };
    let name = [s.last_name.as_deref(), s.first_name.as_deref()].into_iter().flatten().collect::<String>();
    let person = (!name.is_empty() || phone.is_some() || s.email.is_some()).then(|| Person { name, phone: phone.unwrap_or_default(), id_number: None, email: s.email.clone() });
    let minute = now.div_euclid(60_000);
    let id = tracking_number(svc.category, description, &place, minute);
    let summary = if answers.is_empty() { description.to_string() } else { format!("{description}\n{answers}") };
    Ok(Report { id, category: svc.category, grid, at: minute * 60_000, summary, address, person })
}

/// `R` + the local date + eight characters drawn from the report: short enough to read out on a phone,
/// with room for a city's reports of a day many times over.
pub fn tracking_number(category: Category, description: &str, place: &str, minute: i64) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let key = format!("{}\u{1f}{}\u{1f}{place}\u{1f}{minute}", category.as_str(), description.trim());
    let mut h = crate::city::shaoxing::hash(&key, 0x0311);
    let tail: String = (0..8)
        .map(|_| {
            let c = ALPHABET[(h & 31) as usize] as char;
            h >>= 5;
            c
        })
        .collect();
    let date = app::model::date_time(minute * 60_000);
    format!("R{}{}{}{tail}", &date[0..4], &date[5..7], &date[8..10])
}

impl Report {
    /// The residents' feed record of this report (version 1: the report itself).
    pub fn record(&self) -> Record {
        Record {
            external_id: self.id.clone(),
            version: 1,
            body: Body::Case(CaseRecord {
                status: Status::Reported,
                at: self.at,
                category: Some(self.category),
                // Residents' reports reach the city as 12345's do: the same queue and time limits.
                source: Source::Hotline12345,
                grid: Some(self.grid.clone()),
                reported_at: Some(self.at),
                priority: Priority::Normal,
                summary: self.summary.clone(),
                address: Some(self.address.clone()),
                department: None,
                person: self.person.clone(),
                note: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn locator() -> Locator {
        Locator::new(Arc::new(crate::city::RegionTree::new(crate::city::shaoxing::build()).unwrap()))
    }

    /// A point inside some grid of the demo city, and that grid.
    fn inside(l: &Locator) -> (f64, f64, String) {
        let (_, r) = l.tree().iter().find(|(_, r)| r.row.level == Level::Grid).unwrap();
        let [lon, lat] = geom::label_point(&r.row.shape);
        (lon, lat, r.row.code.clone())
    }

    fn pairs(list: &[(&str, &str)]) -> Submission {
        Submission::from_pairs(&list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>())
    }

    const NOW: i64 = 1_796_000_000_000;

    #[test]
    fn a_report_at_a_point_lands_in_its_grid_with_its_contact() {
        let l = locator();
        let (lon, lat, grid) = inside(&l);
        let s = pairs(&[
            ("service_code", "hazard"),
            ("lat", &lat.to_string()),
            ("long", &lon.to_string()),
            ("description", "井盖缺失"),
            ("first_name", "建国"),
            ("last_name", "王"),
            ("phone", "138-1234-1234"),
            ("attribute[ongoing]", "yes"),
            ("address_string", "3组12号"),
        ]);
        let r = check(&s, &l, NOW).unwrap();
        assert_eq!((r.category, r.grid.as_str()), (Category::Hazard, grid.as_str()));
        let p = r.person.clone().unwrap();
        assert_eq!((p.name.as_str(), p.phone.as_str()), ("王建国", "13812341234"));
        assert!(r.summary.starts_with("井盖缺失\n") && r.summary.contains("仍在持续"), "{}", r.summary);
        assert!(r.address.starts_with("3组12号（WGS-84 "), "{}", r.address);
        assert!(r.id.starts_with('R') && r.id.len() == 17, "{}", r.id);
        // The same report in the same minute is the same case; another minute or text is another.
        assert_eq!(check(&s, &l, NOW + 1).unwrap().id, r.id);
        assert_ne!(check(&s, &l, NOW + 60_000).unwrap().id, r.id);
        let mut other = s.clone();
        other.description = Some("井盖破损".into());
        assert_ne!(check(&other, &l, NOW).unwrap().id, r.id);
    }

    #[test]
    fn every_bad_field_is_named() {
        let l = locator();
        let (lon, lat, grid) = inside(&l);
        let (lat, lon) = (lat.to_string(), lon.to_string());
        let base = [("service_code", "environment"), ("lat", lat.as_str()), ("long", lon.as_str()), ("description", "垃圾堆放")];
        let with = |extra: &[(&str, &str)], drop: &str| {
            let mut v: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != drop).collect();
            v.extend_from_slice(extra);
            check(&pairs(&v), &l, NOW)
        };
        assert!(with(&[], "").is_ok());
        assert_eq!(with(&[], "service_code").unwrap_err(), Refusal::Missing(Field::ServiceCode));
        assert_eq!(with(&[("service_code", "ufo")], "service_code").unwrap_err(), Refusal::UnknownService);
        assert_eq!(with(&[], "description").unwrap_err(), Refusal::Missing(Field::Description));
        assert_eq!(with(&[("description", "   ")], "description").unwrap_err(), Refusal::Missing(Field::Description), "blank is missing");
        let long = "长".repeat(MAX_DESCRIPTION + 1);
        assert_eq!(with(&[("description", &long)], "description").unwrap_err(), Refusal::TooLong(Field::Description, MAX_DESCRIPTION));
        assert_eq!(with(&[], "long").unwrap_err(), Refusal::Missing(Field::Long));
        assert_eq!(with(&[("lat", "north")], "lat").unwrap_err(), Refusal::Invalid(Field::Lat));
        assert_eq!(with(&[("lat", "NaN")], "lat").unwrap_err(), Refusal::Invalid(Field::Lat));
        assert_eq!(with(&[("lat", "39.9"), ("long", "116.4")], "lat").unwrap_err(), Refusal::OutsideCity, "Beijing");
        let none: [(&str, &str); 0] = [];
        let no_place = check(&pairs(&[("service_code", "hazard"), ("description", "x")]), &l, NOW);
        assert_eq!(no_place.unwrap_err(), Refusal::NoPlace);
        let unknown = check(&pairs(&[("service_code", "hazard"), ("description", "x"), ("address_string", "某路")]), &l, NOW);
        assert_eq!(unknown.unwrap_err(), Refusal::AddressUnknown);
        let vague = check(&pairs(&[("service_code", "hazard"), ("description", "x"), ("address_string", "塔山街道某路")]), &l, NOW);
        assert_eq!(vague.unwrap_err(), Refusal::AddressVague("塔山街道".into()));
        let by_words = check(&pairs(&[("service_code", "hazard"), ("description", "x"), ("address_string", "塔山街道花园社区8幢")]), &l, NOW).unwrap();
        assert!(by_words.grid.starts_with("330602001004"), "{}", by_words.grid);
        assert_eq!(by_words.address, format!("塔山街道花园社区8幢（按地址定位到网格 {}）", by_words.grid));
        let by_grid = check(&pairs(&[("service_code", "hazard"), ("description", "x"), ("address_id", &grid)]), &l, NOW).unwrap();
        assert_eq!(by_grid.grid, grid);
        assert_eq!(check(&pairs(&[("service_code", "hazard"), ("description", "x"), ("address_id", "330602")]), &l, NOW).unwrap_err(), Refusal::Invalid(Field::AddressId), "a district is not a grid");
        assert_eq!(with(&[("email", "not-an-address")], "").unwrap_err(), Refusal::Invalid(Field::Email));
        assert_eq!(with(&[("phone", "call me")], "").unwrap_err(), Refusal::Invalid(Field::Phone));
        assert_eq!(with(&[("media_url", "http://elsewhere.example/p.jpg")], "").unwrap_err(), Refusal::Invalid(Field::MediaUrl));
        assert_eq!(with(&[("attribute[ongoing]", "maybe")], "").unwrap_err(), Refusal::Invalid(Field::Attribute));
        assert_eq!(with(&[("attribute[colour]", "red")], "").unwrap_err(), Refusal::Invalid(Field::Attribute));
        assert_eq!(with(&[("attribute[parties]", "3")], "").unwrap_err(), Refusal::Invalid(Field::Attribute), "parties is a dispute's");
        assert!(with(&none, "").is_ok());
    }

    #[test]
    fn the_record_is_a_new_case_of_the_residents_feed() {
        let l = locator();
        let (lon, lat, grid) = inside(&l);
        let s = pairs(&[("service_code", "dispute"), ("lat", &lat.to_string()), ("long", &lon.to_string()), ("description", "邻里噪声"), ("attribute[parties]", "3")]);
        let r = check(&s, &l, NOW).unwrap();
        let rec = r.record();
        assert_eq!((rec.external_id.as_str(), rec.version), (r.id.as_str(), 1));
        match rec.body {
            Body::Case(c) => {
                assert_eq!((c.status, c.category, c.grid.as_deref(), c.reported_at), (Status::Reported, Some(Category::Dispute), Some(grid.as_str()), Some(r.at)));
                assert!(c.summary.contains("涉及人数：3"), "{}", c.summary);
                assert!(c.person.is_none());
            }
            other => panic!("{other:?}"),
        }
    }
}
