//! Actors and their capabilities (SPEC §1).

use crate::wire::wire_enum;

wire_enum! {
    /// The role of an account (SPEC §1).
    pub enum Role("role") {
        /// Association system administrator.
        Admin => "admin",
        /// Association training staff (协会培训专员).
        TrainingOfficer => "training_officer",
        /// Head of the training department (培训部门负责人).
        TrainingHead => "training_head",
        /// Finance department.
        Finance => "finance",
        /// Association leadership.
        Leader => "leader",
        /// Appointed part-time teacher / class head (班主任).
        Teacher => "teacher",
        /// Member company training clerk (企业培训专员, 填报人).
        OrgFiller => "org_filler",
        /// Member company training head (企业培训负责人, 审核人).
        OrgReviewer => "org_reviewer",
        /// An individual person.
        Trainee => "trainee",
        /// Staff of an accredited CE provider (继续教育基地).
        Provider => "provider",
        /// Regional HR authority (人力社保部门), read-only.
        Authority => "authority",
    }
}

impl Role {
    /// Association staff: admin, training officer, training head, finance, leader.
    pub const fn is_association_staff(self) -> bool {
        matches!(
            self,
            Self::Admin | Self::TrainingOfficer | Self::TrainingHead | Self::Finance | Self::Leader
        )
    }

    /// Training staff: admin, training officer, training head.
    pub const fn is_training_staff(self) -> bool {
        matches!(
            self,
            Self::Admin | Self::TrainingOfficer | Self::TrainingHead
        )
    }

    /// Organisation accounts: filler and reviewer (ACC-3).
    pub const fn is_org_account(self) -> bool {
        matches!(self, Self::OrgFiller | Self::OrgReviewer)
    }

    /// Accounts that must belong to an organisation: org filler, org reviewer,
    /// provider (ACC-2).
    pub const fn needs_organisation(self) -> bool {
        self.is_org_account() || matches!(self, Self::Provider)
    }

    /// Whether this role sees unmasked ID numbers of other people (PPL-3):
    /// association staff and the authority.
    pub const fn sees_full_id_numbers(self) -> bool {
        self.is_association_staff() || matches!(self, Self::Authority)
    }

    /// Whether this role may create and edit person records: training staff
    /// and organisation accounts (the latter for their own organisation, ACC-2).
    pub const fn can_manage_people(self) -> bool {
        self.is_training_staff() || self.is_org_account()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::assert_wire_enums;

    fn with(pred: fn(Role) -> bool) -> Vec<Role> {
        Role::ALL.iter().copied().filter(|&r| pred(r)).collect()
    }

    #[test]
    fn role_wire_names() {
        assert_wire_enums!(Role);
        assert_eq!(Role::ALL.len(), 11);
        assert_eq!(Role::TrainingOfficer.as_str(), "training_officer");
    }

    #[test]
    fn association_and_training_staff() {
        use Role::*;
        assert_eq!(
            with(Role::is_association_staff),
            [Admin, TrainingOfficer, TrainingHead, Finance, Leader]
        );
        assert_eq!(
            with(Role::is_training_staff),
            [Admin, TrainingOfficer, TrainingHead]
        );
    }

    #[test]
    fn org_accounts_acc_3() {
        use Role::*;
        // rule ACC-3: two levels of organisation accounts
        assert_eq!(with(Role::is_org_account), [OrgFiller, OrgReviewer]);
        assert_eq!(
            with(Role::needs_organisation),
            [OrgFiller, OrgReviewer, Provider]
        );
        assert_eq!(
            with(Role::can_manage_people),
            [Admin, TrainingOfficer, TrainingHead, OrgFiller, OrgReviewer]
        );
    }

    #[test]
    fn full_id_numbers_ppl_3() {
        use Role::*;
        // rule PPL-3: only association staff (and the read-everything authority)
        assert_eq!(
            with(Role::sees_full_id_numbers),
            [
                Admin,
                TrainingOfficer,
                TrainingHead,
                Finance,
                Leader,
                Authority
            ]
        );
    }
}
