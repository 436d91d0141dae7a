//! GeoReport v2 on the wire: the spec's documents in JSON and in XML, built from one tree of values so the
//! two formats cannot drift apart, and the read parameters of `requests.{json,xml}`.
use super::service::{Service, SERVICES};
use app::i18n::{self, Lang};
use app::residents::{Field, PublicRequest, Refusal};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `services.json` → ("services", Json).
    pub fn split(file: &str) -> Option<(&str, Format)> {
        if let Some(stem) = file.strip_suffix(".json") {
            Some((stem, Format::Json))
        } else {
            file.strip_suffix(".xml").map(|stem| (stem, Format::Xml))
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// A document: the JSON value, and for XML the root element and the name of each list item.
pub struct Doc {
    pub value: Value,
    pub root: &'static str,
    pub item: &'static str,
}

impl Doc {
    pub fn render(&self, f: Format) -> String {
        match f {
            Format::Json => self.value.to_string(),
            Format::Xml => {
                let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
                xml(&mut out, self.root, &self.value, self.item);
                out
            }
        }
    }
}

/// Element names of list items inside a document, by the list's element name.
fn item_of(list: &str) -> &'static str {
    match list {
        "attributes" => "attribute",
        "values" => "value",
        "keywords" => "keyword",
        _ => "item",
    }
}

fn xml(out: &mut String, name: &str, v: &Value, item: &str) {
    match v {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Array(list) => {
            out.push_str(&format!("<{name}>"));
            for x in list {
                xml(out, item, x, item_of(item));
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, x) in map {
                xml(out, k, x, item_of(k));
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// Text for XML (and for HTML): the five characters that could end or open markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// W3C datetimes in Beijing time, written as the open311 feed kind reads them.
pub use crate::feeds::open311::w3c;

/// A W3C datetime (any offset; a date alone is its midnight in Beijing) as Unix ms.
pub fn parse_w3c(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis() - 8 * 3_600_000)
}

pub fn errors(lang: Lang, list: &[Refusal]) -> Doc {
    let value = Value::Array(list.iter().map(|r| json!({"code": r.http_status(), "description": i18n::refusal(lang, r)})).collect());
    Doc { value, root: "errors", item: "error" }
}

fn service_entry(s: &Service, lang: Lang) -> Value {
    json!({
        "service_code": s.code(),
        "service_name": s.name(lang),
        "description": s.description(lang),
        "metadata": !s.attributes.is_empty(),
        "type": "realtime",
        "keywords": s.name(lang),
        "group": i18n::source(lang, app::model::Source::Hotline12345),
    })
}

pub fn services(lang: Lang) -> Doc {
    Doc { value: Value::Array(SERVICES.iter().map(|s| service_entry(s, lang)).collect()), root: "services", item: "service" }
}

pub fn definition(s: &Service, lang: Lang) -> Doc {
    let attributes: Vec<Value> = s
        .attributes
        .iter()
        .enumerate()
        .map(|(i, a)| {
            json!({
                "variable": true,
                "code": a.code,
                "datatype": a.datatype.as_str(),
                "required": a.required,
                "datatype_description": Value::Null,
                "order": i + 1,
                "description": a.question(lang),
                "values": a.values.iter().map(|k| json!({"key": k, "name": i18n::report_answer(lang, a.code, k)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Doc { value: json!({"service_code": s.code(), "attributes": attributes}), root: "service_definition", item: "item" }
}

/// The answer to a POST: the tracking number at once (the report is stored before the answer).
pub fn created(id: &str, lang: Lang) -> Doc {
    let notice = match lang {
        Lang::Zh => format!("已受理登记，请凭编号 {id} 查询办理进度"),
        Lang::En => format!("Received; follow it with number {id}"),
    };
    Doc { value: json!([{"service_request_id": id, "service_notice": notice, "account_id": Value::Null}]), root: "service_requests", item: "request" }
}

pub fn token(id: &str) -> Doc {
    Doc { value: json!([{"service_request_id": id, "token": id}]), root: "service_requests", item: "request" }
}

fn request_entry(r: &PublicRequest, lang: Lang) -> Value {
    let mut m = Map::new();
    m.insert("service_request_id".into(), json!(r.id));
    m.insert("status".into(), json!(if r.open() { "open" } else { "closed" }));
    // The city's latest word to the resident (the reply it was resolved with), else the stage's name.
    let latest = r.history.iter().rev().find_map(|s| s.note.clone());
    m.insert("status_notes".into(), json!(latest.unwrap_or_else(|| i18n::status(lang, r.status).to_string())));
    m.insert("service_name".into(), json!(i18n::category(lang, r.category)));
    m.insert("service_code".into(), json!(r.category.as_str()));
    m.insert("description".into(), json!(r.description));
    m.insert("agency_responsible".into(), r.department.as_ref().map_or(Value::Null, |d| json!(d)));
    m.insert("service_notice".into(), Value::Null);
    m.insert("requested_datetime".into(), json!(w3c(r.requested)));
    m.insert("updated_datetime".into(), json!(w3c(r.updated)));
    m.insert("expected_datetime".into(), json!(w3c(r.expected)));
    m.insert("address".into(), json!(r.place));
    m.insert("address_id".into(), Value::Null);
    m.insert("zipcode".into(), Value::Null);
    m.insert("lat".into(), json!(r.point[1]));
    m.insert("long".into(), json!(r.point[0]));
    m.insert("media_url".into(), Value::Null);
    // Beyond the spec (clients ignore what they do not know): the stage in the city's flow, and for
    // one request read by id, its public history.
    let mut ext = Map::new();
    ext.insert("stage".into(), json!(r.status.as_str()));
    if !r.history.is_empty() {
        ext.insert(
            "history".into(),
            Value::Array(r.history.iter().map(|s| json!({"stage": s.status.as_str(), "stage_name": i18n::status(lang, s.status), "datetime": w3c(s.at), "note": s.note})).collect()),
        );
    }
    m.insert("extended_attributes".into(), Value::Object(ext));
    Value::Object(m)
}

pub fn requests(list: &[PublicRequest], lang: Lang) -> Doc {
    Doc { value: Value::Array(list.iter().map(|r| request_entry(r, lang)).collect()), root: "service_requests", item: "request" }
}

/// What a read of `requests` asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// These ids (a comma list), in this order.
    Ids(Vec<String>),
    /// `categories` empty: every service.
    Window { on: crate::store::WindowOn, from: i64, to: i64, categories: Vec<app::model::Category>, open: Option<bool>, limit: u32 },
}

/// The spec's default window: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;

/// Reads `requests` parameters; `max` is the city's cap on results.
pub fn read(q: &[(String, String)], now: i64, max: u32) -> Result<Read, Refusal> {
    let get = |k: &str| q.iter().find(|(n, v)| n == k && !v.trim().is_empty()).map(|(_, v)| v.trim());
    if let Some(ids) = get("service_request_id") {
        let ids: Vec<String> = ids.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        if ids.len() > 100 {
            return Err(Refusal::TooLong(Field::ServiceRequestId, 100));
        }
        return Ok(Read::Ids(ids));
    }
    let time = |f: Field| get(f.name()).map(|v| parse_w3c(v).ok_or(Refusal::Invalid(f))).transpose();
    let (on, from, to) = match (time(Field::UpdatedAfter)?, time(Field::UpdatedBefore)?) {
        (None, None) => {
            let (a, b) = (time(Field::StartDate)?, time(Field::EndDate)?);
            let to = b.unwrap_or(now);
            (crate::store::WindowOn::Reported, a.unwrap_or(to - DEFAULT_DAYS * 86_400_000), to)
        }
        (a, b) => {
            let to = b.unwrap_or(now);
            (crate::store::WindowOn::Updated, a.unwrap_or(to - DEFAULT_DAYS * 86_400_000), to)
        }
    };
    if to < from {
        return Err(Refusal::Invalid(Field::EndDate));
    }
    if to - from > DEFAULT_DAYS * 86_400_000 {
        return Err(Refusal::PeriodTooLong(DEFAULT_DAYS as u32));
    }
    // A comma list, as the spec allows.
    let categories = match get("service_code") {
        None => Vec::new(),
        Some(list) => list.split(',').map(|c| super::service::find(c.trim()).map(|s| s.category).ok_or(Refusal::UnknownService)).collect::<Result<_, _>>()?,
    };
    let open = match get("status") {
        None => None,
        Some(s) => {
            let mut open = None;
            for part in s.split(',') {
                let o = match part.trim() {
                    "open" => true,
                    "closed" => false,
                    _ => return Err(Refusal::Invalid(Field::Status)),
                };
                // "open,closed" asks for both.
                open = if open.is_some_and(|x| x != o) { None } else { Some(o) };
                if open.is_none() {
                    break;
                }
            }
            open
        }
    };
    let limit = match get("max_results") {
        None => max,
        Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or(Refusal::Invalid(Field::MaxResults))?.min(max),
    };
    Ok(Read::Window { on, from, to, categories, open, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    const NOW: i64 = 1_796_000_000_000;

    #[test]
    fn reads_default_to_the_last_ninety_days_and_refuse_more() {
        match read(&q(&[]), NOW, 1000).unwrap() {
            Read::Window { on, from, to, limit, .. } => assert_eq!((on, to - from, to, limit), (crate::store::WindowOn::Reported, 90 * 86_400_000, NOW, 1000)),
            other => panic!("{other:?}"),
        }
        let r = read(&q(&[("updated_after", "2026-11-01T00:00:00+08:00"), ("updated_before", "2026-11-02"), ("status", "open"), ("max_results", "5000")]), NOW, 1000).unwrap();
        let day = parse_w3c("2026-11-01T00:00:00+08:00").unwrap();
        assert_eq!(r, Read::Window { on: crate::store::WindowOn::Updated, from: day, to: day + 86_400_000, categories: vec![], open: Some(true), limit: 1000 });
        match read(&q(&[("service_code", "hazard, dispute")]), NOW, 10).unwrap() {
            Read::Window { categories, .. } => assert_eq!(categories, [app::model::Category::Hazard, app::model::Category::Dispute]),
            other => panic!("{other:?}"),
        }
        assert_eq!(read(&q(&[("start_date", "2026-01-01"), ("end_date", "2026-12-01")]), NOW, 1000).unwrap_err(), Refusal::PeriodTooLong(90));
        assert_eq!(read(&q(&[("start_date", "yesterday")]), NOW, 1000).unwrap_err(), Refusal::Invalid(Field::StartDate));
        assert_eq!(read(&q(&[("start_date", "2026-11-02"), ("end_date", "2026-11-01")]), NOW, 1000).unwrap_err(), Refusal::Invalid(Field::EndDate));
        assert_eq!(read(&q(&[("status", "pending")]), NOW, 1000).unwrap_err(), Refusal::Invalid(Field::Status));
        assert_eq!(read(&q(&[("service_code", "ufo")]), NOW, 1000).unwrap_err(), Refusal::UnknownService);
        match read(&q(&[("status", "open,closed")]), NOW, 10).unwrap() {
            Read::Window { open, .. } => assert_eq!(open, None),
            other => panic!("{other:?}"),
        }
        assert_eq!(read(&q(&[("service_request_id", "R1, hotline:2")]), NOW, 10).unwrap(), Read::Ids(vec!["R1".into(), "hotline:2".into()]));
    }

    /// The keys of each document equal those of the GeoReport v2 specification's examples
    /// (wiki.open311.org/GeoReport_v2), plus our `extended_attributes` on requests.
    #[test]
    fn documents_have_the_fields_of_the_specifications_examples() {
        fn keys(v: &Value) -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        }
        let spec_service = r#"{"service_code":"001","service_name":"Cans left out 24x7","description":"Garbage or recycling cans that have been left out for more than 24 hours after collection. Violators will be cited.","metadata":true,"type":"realtime","keywords":"lorem, ipsum, dolor","group":"sanitation"}"#;
        let spec_definition = r#"{"service_code":"DMV66","attributes":[{"variable":true,"code":"WHISHETN","datatype":"singlevaluelist","required":true,"datatype_description":null,"order":1,"description":"What is the ticket/tag/DL number?","values":[{"key":123,"name":"Ford"},{"key":124,"name":"Chrysler"}]}]}"#;
        let spec_created = r#"[{"service_request_id":293944,"service_notice":"The City will inspect and require the responsible party to correct within 24 hours and/or issue a Correction Notice or Notice of Violation of the Public Works Code","account_id":null}]"#;
        let spec_token = r#"[{"service_request_id":638344,"token":"12345"}]"#;
        let spec_request = r#"{"service_request_id":638344,"status":"closed","status_notes":"Duplicate request.","service_name":"Sidewalk and Curb Issues","service_code":"006","description":null,"agency_responsible":null,"service_notice":null,"requested_datetime":"2010-04-14T06:37:38-08:00","updated_datetime":"2010-04-14T06:37:38-08:00","expected_datetime":"2010-04-15T06:37:38-08:00","address":"8TH AVE and JUDAH ST","address_id":545483,"zipcode":94122,"lat":37.762221815,"long":-122.4651145,"media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"}"#;
        let spec_error = r#"[{"code":403,"description":"Invalid api_key"}]"#;
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap();

        assert_eq!(keys(&services(Lang::Zh).value[0]), keys(&parse(spec_service)));
        let ours = definition(super::super::service::find("dispute").unwrap(), Lang::Zh).value;
        let spec = parse(spec_definition);
        assert_eq!(keys(&ours), keys(&spec));
        assert_eq!(keys(&ours["attributes"][0]), keys(&spec["attributes"][0]));
        assert_eq!(keys(&ours["attributes"][0]["values"][0]), keys(&spec["attributes"][0]["values"][0]));
        assert_eq!(keys(&created("R1", Lang::Zh).value[0]), keys(&parse(spec_created)[0]));
        assert_eq!(keys(&token("R1").value[0]), keys(&parse(spec_token)[0]));
        assert_eq!(keys(&errors(Lang::En, &[Refusal::KeyInvalid]).value[0]), keys(&parse(spec_error)[0]));
        let r = PublicRequest {
            id: "R1".into(),
            category: app::model::Category::Hazard,
            status: app::model::Status::Closed,
            department: None,
            requested: 0,
            updated: 0,
            expected: 0,
            place: String::new(),
            point: [120.0, 30.0],
            description: String::new(),
            history: Vec::new(),
        };
        let mut ours = keys(&requests(&[r], Lang::Zh).value[0]);
        ours.retain(|k| k != "extended_attributes");
        assert_eq!(ours, keys(&parse(spec_request)));
    }

    #[test]
    fn xml_and_json_carry_the_same_document() {
        let d = errors(Lang::En, &[Refusal::Missing(Field::ServiceCode), Refusal::UnknownJurisdiction]);
        assert_eq!(d.render(Format::Json), r#"[{"code":400,"description":"service_code is required"},{"code":404,"description":"jurisdiction_id is not served here"}]"#);
        assert_eq!(
            d.render(Format::Xml),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><errors><error><code>400</code><description>service_code is required</description></error><error><code>404</code><description>jurisdiction_id is not served here</description></error></errors>"
        );
        let def = definition(super::super::service::find("dispute").unwrap(), Lang::Zh).render(Format::Xml);
        assert!(def.contains("<attributes><attribute>") && def.contains("<variable>true</variable>") && def.contains("<code>ongoing</code>"), "{def}");
        assert!(def.contains("<values><value>") && def.contains("<key>yes</key>") && def.contains("<name>仍在持续</name>"), "{def}");
        assert!(def.contains("<datatype_description/>"), "{def}");
        assert_eq!(escape("<b>&\"'\u{1}"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
