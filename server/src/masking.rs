//! Masking of personal fields (whether a viewer sees them unmasked is `policy::sees_personal_data`): the field stays in the layout, its content
//! is hidden (张*, 138****1234), so a screen never silently drops what it would have shown.
use app::model::Person;

pub fn name(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => std::iter::once(first).chain(c.map(|_| '*')).collect(),
        None => String::new(),
    }
}

pub fn phone(s: &str) -> String {
    let d: Vec<char> = s.chars().collect();
    if d.len() >= 7 {
        format!("{}****{}", d[..3].iter().collect::<String>(), d[d.len() - 4..].iter().collect::<String>())
    } else {
        "****".into()
    }
}

pub fn id_number(s: &str) -> String {
    let d: Vec<char> = s.chars().collect();
    if d.len() > 10 {
        format!("{}{}{}", d[..6].iter().collect::<String>(), "*".repeat(d.len() - 10), d[d.len() - 4..].iter().collect::<String>())
    } else {
        "*".repeat(d.len())
    }
}

/// Keeps the village or community, hides the house: "天竺社区3组12号" → "天竺社区****".
pub fn address(s: &str) -> String {
    let cut = ["社区", "村"].iter().filter_map(|m| s.rfind(m).map(|i| i + m.len())).max().unwrap_or(0);
    format!("{}****", &s[..cut])
}

/// Keeps the first character and the domain: "wang.jg@example.cn" → "w*****@example.cn".
pub fn email(s: &str) -> String {
    match s.split_once('@') {
        Some((user, domain)) => format!("{}@{domain}", name(user)),
        None => name(s),
    }
}

/// Free text shown to the public: every digit becomes an asterisk (phone, ID, plate, house and room
/// numbers alike: "3组12号" is a house), so a description cannot carry a person's number or door out.
pub fn free_text(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_digit() || ('０'..='９').contains(&c) { '*' } else { c }).collect()
}

/// The person with every field masked.
pub fn person(p: &Person) -> Person {
    Person { name: name(&p.name), phone: phone(&p.phone), id_number: p.id_number.as_deref().map(id_number), email: p.email.as_deref().map(email) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_shape_and_hide_content() {
        assert_eq!(name("张三"), "张*");
        assert_eq!(name("欧阳娜娜"), "欧***");
        assert_eq!(phone("13812341234"), "138****1234");
        assert_eq!(id_number("33068119800101123X"), "330681********123X");
        assert_eq!(address("天竺社区3组12号"), "天竺社区****");
        assert_eq!(address("枫源村5组2号"), "枫源村****");
        assert_eq!(free_text("楼道堆物，电话13812341234，3组12号"), "楼道堆物，电话***********，*组**号");
        assert_eq!(free_text("１３８ call"), "*** call");
        assert_eq!(email("wang.jg@example.cn"), "w******@example.cn");
        let p = Person { name: "王建国".into(), phone: "13912345678".into(), id_number: Some("33068119800101123X".into()), email: None };
        let m = person(&p);
        assert_eq!((m.name.as_str(), m.phone.as_str()), ("王**", "139****5678"));
        assert_eq!(m.id_number.as_deref(), Some("330681********123X"));
    }
}
