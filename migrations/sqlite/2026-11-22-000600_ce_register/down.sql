DROP TABLE ce_requirements;
DROP TABLE ce_person_years;
DROP TABLE ce_credits;
DROP TABLE ce_activities;
DROP TABLE ce_providers;
