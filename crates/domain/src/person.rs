//! People: identity documents, categories and personal-data masking
//! (PPL-1, PPL-2, PPL-3).

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::wire::wire_enum;

wire_enum! {
    /// Gender of a person (PPL-1).
    pub enum Gender("gender") {
        /// Male.
        Male => "male",
        /// Female.
        Female => "female",
    }
}

wire_enum! {
    /// Type of identity document (PPL-1).
    pub enum IdType("id_type") {
        /// Mainland resident identity card (居民身份证, GB 11643).
        ResidentId => "resident_id",
        /// Passport.
        Passport => "passport",
        /// Mainland travel permit for Hong Kong and Macao residents (港澳居民来往内地通行证).
        HkMacaoPermit => "hk_macao_permit",
        /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证).
        TaiwanPermit => "taiwan_permit",
        /// Foreign permanent resident ID card (外国人永久居留身份证).
        ForeignPermanentResidentId => "foreign_permanent_resident_id",
        /// Any other document.
        Other => "other",
    }
}

wire_enum! {
    /// Trainee category (PPL-2, seed 000 §4).
    pub enum TraineeCategory("trainee_category") {
        /// Principal head of a gas enterprise (主要负责人).
        PrincipalHead => "principal_head",
        /// Safety manager (安全生产管理人员).
        SafetyManager => "safety_manager",
        /// Operation, maintenance and emergency-repair staff (运行、维护和抢修人员).
        OperationsStaff => "operations_staff",
        /// Other frontline staff.
        FrontlineStaff => "frontline_staff",
        /// Commercial or industrial gas user (工商业用户).
        CommercialUser => "commercial_user",
        /// Residential gas user.
        ResidentialUser => "residential_user",
    }
}

wire_enum! {
    /// The two groups of trainee categories (PPL-2).
    pub enum TraineeGroup("trainee_group") {
        /// Practitioners of gas enterprises (从业人员).
        Practitioner => "practitioner",
        /// Gas users (燃气用户).
        GasUser => "gas_user",
    }
}

impl TraineeCategory {
    /// The group of this category (PPL-2).
    pub const fn group(self) -> TraineeGroup {
        match self {
            Self::PrincipalHead
            | Self::SafetyManager
            | Self::OperationsStaff
            | Self::FrontlineStaff => TraineeGroup::Practitioner,
            Self::CommercialUser | Self::ResidentialUser => TraineeGroup::GasUser,
        }
    }
}

wire_enum! {
    /// National vocational skill level (职业技能等级, PPL-1 / seed 004 art. 18).
    /// Level 5 is the lowest, level 1 the highest.
    pub enum SkillLevel("skill_level") {
        /// 五级 / 初级工 (junior worker).
        Level5 => "level_5",
        /// 四级 / 中级工 (intermediate worker).
        Level4 => "level_4",
        /// 三级 / 高级工 (senior worker).
        Level3 => "level_3",
        /// 二级 / 技师 (technician).
        Level2 => "level_2",
        /// 一级 / 高级技师 (senior technician).
        Level1 => "level_1",
    }
}

const ID_FIELD: &str = "id_number";
const ID_FORMAT: &str = "id_number_format";

/// GB 11643 weights of the first 17 digits.
const RESIDENT_ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// GB 11643 check characters indexed by the weighted sum mod 11.
const RESIDENT_ID_CHECK: &[u8; 11] = b"10X98765432";

/// A validated 18-character mainland resident ID number (GB 11643), with an
/// upper-case `X` check character (PPL-1).
///
/// `Debug` shows the masked form (PPL-3) so the number does not leak into logs.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct ResidentIdNumber(String);

impl ResidentIdNumber {
    /// Parses and validates a resident ID number (PPL-1): format, region,
    /// GB 11643 ISO 7064 MOD 11-2 check digit and birth date.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let id = match trimmed.strip_suffix('x') {
            Some(head) => format!("{head}X"),
            None => trimmed.to_owned(),
        };
        let bytes = id.as_bytes();
        let well_formed = bytes.len() == 18
            && bytes[..17].iter().all(u8::is_ascii_digit)
            && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
        if !well_formed {
            return Err(FieldError::new(
                ID_FIELD,
                ID_FORMAT,
                "a resident ID number has 17 digits followed by a digit or X",
            ));
        }
        if bytes[..6].iter().all(|&b| b == b'0') {
            return Err(FieldError::new(
                ID_FIELD,
                ID_FORMAT,
                "the region code (first six digits) of the ID number is invalid",
            ));
        }
        let sum: u32 = bytes[..17]
            .iter()
            .zip(RESIDENT_ID_WEIGHTS)
            .map(|(&b, w)| u32::from(b - b'0') * w)
            .sum();
        if RESIDENT_ID_CHECK[(sum % 11) as usize] != bytes[17] {
            return Err(FieldError::new(
                ID_FIELD,
                "id_number_check_digit",
                "the check digit of the ID number does not match; please re-check the number",
            ));
        }
        if parse_birth_date(&id[6..14]).is_none() {
            return Err(FieldError::new(
                ID_FIELD,
                "id_number_birth_date",
                "the ID number does not contain a valid birth date",
            ));
        }
        Ok(Self(id))
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        // Validated by `parse`; the fallback is unreachable.
        parse_birth_date(&self.0[6..14]).unwrap_or_default()
    }

    /// The full (unmasked) number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number masked for display (PPL-3).
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }

    /// Consumes the value, returning the full number.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `YYYYMMDD` with a real calendar date in 1900 or later.
fn parse_birth_date(digits: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(digits, "%Y%m%d")
        .ok()
        .filter(|d| d.year() >= 1900)
}

impl fmt::Debug for ResidentIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentIdNumber")
            .field(&self.masked())
            .finish()
    }
}

impl TryFrom<String> for ResidentIdNumber {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ResidentIdNumber> for String {
    fn from(id: ResidentIdNumber) -> Self {
        id.0
    }
}

impl AsRef<str> for ResidentIdNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Normalises and validates an ID number of the given document type (PPL-1):
/// resident IDs get the full GB 11643 check; other documents are trimmed,
/// upper-cased and must be 5–32 ASCII letters, digits or `-`.
pub fn normalize_id_number(id_type: IdType, raw: &str) -> Result<String, FieldError> {
    if id_type == IdType::ResidentId {
        return ResidentIdNumber::parse(raw).map(ResidentIdNumber::into_string);
    }
    let id = raw.trim().to_ascii_uppercase();
    let valid =
        (5..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(id)
    } else {
        Err(FieldError::new(
            ID_FIELD,
            ID_FORMAT,
            "an ID document number has 5 to 32 letters, digits or '-'",
        ))
    }
}

/// Masks an ID number for display (PPL-3): 18-character numbers keep the first
/// 6 and last 4 characters (`440301********1234`); other numbers keep the first
/// 2 and last 2; numbers of 4 characters or fewer are fully masked.
pub fn mask_id_number(id: &str) -> String {
    let len = id.chars().count();
    let (head, tail) = match len {
        18 => (6, 4),
        0..=4 => (0, 0),
        _ => (2, 2),
    };
    keep_ends(id, head, tail)
}

/// Keeps the first `head` and last `tail` characters and stars the rest.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let len = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i + tail >= len { c } else { '*' })
        .collect()
}

/// Validates a phone number (PPL-1) and returns it trimmed: a mainland mobile
/// number (11 digits starting with 1) or a landline/international number of
/// 5–20 characters — digits with an optional leading `+` and single `-` or
/// space separators. All-digit numbers starting with 1 must be mobile numbers.
pub fn validate_phone(raw: &str) -> Result<String, FieldError> {
    let phone = raw.trim();
    let is_mobile =
        phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit());
    if is_mobile || is_other_phone(phone) {
        Ok(phone.to_owned())
    } else {
        Err(FieldError::new(
            "phone",
            "phone_format",
            "enter an 11-digit mobile number or a landline/international number \
             (digits, optional leading +, - or space separators)",
        ))
    }
}

/// Landline or international number: see [`validate_phone`].
fn is_other_phone(phone: &str) -> bool {
    let body = phone.strip_prefix('+').unwrap_or(phone);
    let groups: Vec<&str> = body.split(['-', ' ']).collect();
    let digits: usize = groups.iter().map(|g| g.len()).sum();
    let mistyped_mobile = groups.len() == 1 && body.starts_with('1') && !phone.starts_with('+');
    (5..=20).contains(&phone.len())
        && digits >= 5
        && !mistyped_mobile
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Validates a person's name (PPL-1): trimmed, 1–64 characters, no control
/// characters.
pub fn validate_person_name(raw: &str) -> Result<String, FieldError> {
    validate_name(raw, 1, 64, "the name must have 1 to 64 characters")
}

/// Trimmed, `min..=max` characters, no control characters; field `name`,
/// code `name_format`.
pub(crate) fn validate_name(
    raw: &str,
    min: usize,
    max: usize,
    message: &str,
) -> Result<String, FieldError> {
    let name = raw.trim();
    let len = name.chars().count();
    if !(min..=max).contains(&len) {
        return Err(FieldError::new("name", "name_format", message));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "name_format",
            "the name must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Masks a name for public display (e.g. certificate verification, PPL-3).
///
/// Names with spaces (Latin names) keep the first letter of each word
/// (`J*** S****`). Otherwise 1-character names are unchanged, 2-character
/// names keep the first (`张*`), longer names keep the first and last
/// (`张*三`, `欧**锋`).
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.contains(' ') {
        return name
            .split(' ')
            .map(|word| keep_ends(word, 1, 0))
            .collect::<Vec<_>>()
            .join(" ");
    }
    match name.chars().count() {
        0 | 1 => name.to_owned(),
        2 => keep_ends(name, 1, 0),
        _ => keep_ends(name, 1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    fn code(r: Result<impl fmt::Debug, FieldError>) -> &'static str {
        r.unwrap_err().code
    }

    #[test]
    fn person_enums_wire_names() {
        assert_wire_enums!(Gender, IdType, TraineeCategory, TraineeGroup, SkillLevel);
        assert_eq!(SkillLevel::Level5.as_str(), "level_5");
        assert_eq!("level_1".parse::<SkillLevel>().unwrap(), SkillLevel::Level1);
        assert!("level1".parse::<SkillLevel>().is_err());
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn resident_id_schema_is_a_string() {
        let schema =
            serde_json::to_value(<ResidentIdNumber as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
    }

    #[test]
    fn trainee_category_groups_ppl_2() {
        // rule PPL-2
        use TraineeCategory::*;
        for c in [
            PrincipalHead,
            SafetyManager,
            OperationsStaff,
            FrontlineStaff,
        ] {
            assert_eq!(c.group(), TraineeGroup::Practitioner);
        }
        for c in [CommercialUser, ResidentialUser] {
            assert_eq!(c.group(), TraineeGroup::GasUser);
        }
    }

    #[test]
    fn valid_resident_ids_ppl_1() {
        // rule PPL-1: GB 11643 check digit (values verified independently)
        let id = ResidentIdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        let id = ResidentIdNumber::parse(" 440308199901101512\n").unwrap();
        assert_eq!(id.as_str(), "440308199901101512");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1999, 1, 10).unwrap()
        );
        assert!(ResidentIdNumber::parse("440301199001011234").is_ok());
    }

    #[test]
    fn resident_id_lowercase_x_accepted_ppl_1() {
        // rule PPL-1
        let id = ResidentIdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            normalize_id_number(IdType::ResidentId, "11010519491231002x").unwrap(),
            "11010519491231002X"
        );
    }

    #[test]
    fn resident_id_bad_check_digit_ppl_1() {
        // rule PPL-1
        for bad in [
            "110105194912310021",
            "440308199901101513",
            "440308199901101511",
            "44030819990110151X",
        ] {
            assert_eq!(
                code(ResidentIdNumber::parse(bad)),
                "id_number_check_digit",
                "{bad}"
            );
        }
    }

    #[test]
    fn resident_id_bad_format_ppl_1() {
        // rule PPL-1
        for bad in [
            "",
            "44030819990110151",
            "4403081999011015122",
            "44030819990110151Y",
            "4403081999011015X2",
            "4403081999 1101512",
            "４40308199901101512",
            // region code all zeros (check digit is otherwise valid)
            "00000019900101123X",
        ] {
            assert_eq!(
                code(ResidentIdNumber::parse(bad)),
                "id_number_format",
                "{bad}"
            );
        }
    }

    #[test]
    fn resident_id_bad_birth_date_ppl_1() {
        // rule PPL-1: check digits below are valid, only the dates are wrong
        for bad in [
            "440308199902301516", // 1999-02-30
            "440308189901011235", // 1899 is before 1900
        ] {
            assert_eq!(
                code(ResidentIdNumber::parse(bad)),
                "id_number_birth_date",
                "{bad}"
            );
        }
    }

    #[test]
    fn resident_id_serde_validates_and_debug_masks() {
        // rule PPL-3: Debug output is masked
        let id: ResidentIdNumber = serde_json::from_str("\"440308199901101512\"").unwrap();
        assert_eq!(
            format!("{id:?}"),
            "ResidentIdNumber(\"440308********1512\")"
        );
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"440308199901101512\""
        );
        assert!(serde_json::from_str::<ResidentIdNumber>("\"440308199901101513\"").is_err());
        assert_eq!(String::from(id.clone()), "440308199901101512");
        assert_eq!(id.as_ref(), "440308199901101512");
    }

    #[test]
    fn other_id_documents_ppl_1() {
        // rule PPL-1
        assert_eq!(
            normalize_id_number(IdType::Passport, "  e12345678 ").unwrap(),
            "E12345678"
        );
        assert_eq!(
            normalize_id_number(IdType::HkMacaoPermit, "h1234-5678").unwrap(),
            "H1234-5678"
        );
        assert_eq!(
            normalize_id_number(IdType::Other, "ab123").unwrap(),
            "AB123"
        );
        let bad = [
            "1234",
            "A234567890123456789012345678901234",
            "E1234 5678",
            "E1234_5678",
            "护照12345",
        ];
        for raw in bad {
            let err = normalize_id_number(IdType::Passport, raw).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.code),
                ("id_number", "id_number_format")
            );
        }
        assert!(normalize_id_number(IdType::Other, &"A".repeat(32)).is_ok());
        assert_eq!(
            code(normalize_id_number(
                IdType::ResidentId,
                "440308199901101513"
            )),
            "id_number_check_digit"
        );
    }

    #[test]
    fn mask_id_numbers_ppl_3() {
        // rule PPL-3
        assert_eq!(mask_id_number("440301199001011234"), "440301********1234");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_id_number("E12345678"), "E1*****78");
        assert_eq!(mask_id_number("AB123"), "AB*23");
        assert_eq!(mask_id_number("ABCD"), "****");
        assert_eq!(mask_id_number("A"), "*");
        assert_eq!(mask_id_number(""), "");
        // characters, not bytes
        assert_eq!(mask_id_number("证件号码甲乙"), "证件**甲乙");
        assert_eq!(
            ResidentIdNumber::parse("440308199901101512")
                .unwrap()
                .masked(),
            "440308********1512"
        );
    }

    #[test]
    fn phone_numbers_ppl_1() {
        // rule PPL-1
        for ok in [
            "13800138000",
            " 13800138000 ",
            "0755-12345678",
            "0755 1234 5678",
            "+86 138 0013 8000",
            "+852-2345-6789",
            "83456789",
            "95598",
        ] {
            assert_eq!(validate_phone(ok).unwrap(), ok.trim(), "{ok}");
        }
        for bad in [
            "",
            "1234",
            "1380013800",
            "138001380001",
            "0755--1234567",
            "-0755-1234567",
            "0755-1234567-",
            "+",
            "++8613800138000",
            "86+13800138000",
            "0755-1234567x",
            "+1-2-3",
            "012345678901234567890",
            "１3800138000",
        ] {
            let err = validate_phone(bad).unwrap_err();
            assert_eq!(
                (err.field.as_str(), err.code),
                ("phone", "phone_format"),
                "{bad}"
            );
        }
    }

    #[test]
    fn person_names_ppl_1() {
        // rule PPL-1
        assert_eq!(validate_person_name("  张三 ").unwrap(), "张三");
        assert_eq!(validate_person_name("李").unwrap(), "李");
        assert_eq!(
            validate_person_name("阿卜杜·热合曼").unwrap(),
            "阿卜杜·热合曼"
        );
        assert!(validate_person_name(&"名".repeat(64)).is_ok());
        for bad in ["", "   ", "张\u{0}三", "张\n三"] {
            assert_eq!(code(validate_person_name(bad)), "name_format", "{bad:?}");
        }
        assert_eq!(code(validate_person_name(&"名".repeat(65))), "name_format");
    }

    #[test]
    fn mask_names_ppl_3() {
        // rule PPL-3: public display of names
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("张小三"), "张*三");
        assert_eq!(mask_name("欧阳克锋"), "欧**锋");
        assert_eq!(mask_name("John Smith"), "J*** S****");
        assert_eq!(mask_name("Jo Ann Lee"), "J* A** L**");
        assert_eq!(mask_name("Smith"), "S***h");
        assert_eq!(mask_name(" 王五 "), "王*");
        assert_eq!(mask_name(""), "");
    }
}
