//! The city's services as residents report under them: one per case category, each with the questions
//! (Open311 attributes) its form asks. Answers go into the case's summary, which officials read.
use app::i18n::{self, Lang};
use app::model::Category;
use app::residents::{Field, Refusal};
use std::collections::BTreeMap;

pub struct Service {
    pub category: Category,
    pub attributes: &'static [Attribute],
}

/// An Open311 attribute: a question of a service's form. Its words are the catalogue's
/// (`i18n::report_question`, `i18n::report_answer`).
pub struct Attribute {
    pub code: &'static str,
    pub datatype: Datatype,
    pub required: bool,
    /// The keys of a value list.
    pub values: &'static [&'static str],
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    Number,
    SingleValueList,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Number => "number",
            Datatype::SingleValueList => "singlevaluelist",
        }
    }
}

const ONGOING: Attribute = Attribute { code: "ongoing", datatype: Datatype::SingleValueList, required: false, values: &["yes", "no"] };
const PARTIES: Attribute = Attribute { code: "parties", datatype: Datatype::Number, required: false, values: &[] };

pub const SERVICES: [Service; 5] = [
    Service { category: Category::Dispute, attributes: &[ONGOING, PARTIES] },
    Service { category: Category::Hazard, attributes: &[ONGOING] },
    Service { category: Category::PublicOrder, attributes: &[ONGOING] },
    Service { category: Category::Environment, attributes: &[ONGOING] },
    Service { category: Category::Livelihood, attributes: &[ONGOING] },
];

/// The service of a `service_code`.
pub fn find(code: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.category.as_str() == code)
}

impl Service {
    pub fn code(&self) -> &'static str {
        self.category.as_str()
    }
    pub fn name(&self, lang: Lang) -> &'static str {
        i18n::category(lang, self.category)
    }
    pub fn description(&self, lang: Lang) -> &'static str {
        i18n::service_description(lang, self.category)
    }
}

impl Attribute {
    pub fn question(&self, lang: Lang) -> &'static str {
        i18n::report_question(lang, self.code)
    }
}

/// The answers as the summary's last line; a question the service does not ask, a value not in its list
/// or not a number, or a required question left out is refused.
pub fn answers(svc: &Service, given: &BTreeMap<String, String>) -> Result<String, Refusal> {
    if given.keys().any(|k| !svc.attributes.iter().any(|a| a.code == k)) {
        return Err(Refusal::Invalid(Field::Attribute));
    }
    let mut out = String::new();
    for a in svc.attributes {
        let Some(v) = given.get(a.code) else {
            if a.required {
                return Err(Refusal::Missing(Field::Attribute));
            }
            continue;
        };
        let ok = match a.datatype {
            Datatype::Number => v.parse::<u32>().is_ok_and(|n| n <= 100_000),
            Datatype::SingleValueList => a.values.contains(&v.as_str()),
        };
        if !ok {
            return Err(Refusal::Invalid(Field::Attribute));
        }
        // Officials read the summary in the city's language.
        out.push_str(&format!("【{}{}】", i18n::report_answer(Lang::Zh, a.code, ""), i18n::report_answer(Lang::Zh, a.code, v)));
    }
    Ok(out)
}
