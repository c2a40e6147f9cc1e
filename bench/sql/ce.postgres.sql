-- Seeds :n continuing-education credit records (psql -v n=1000000) for the
-- CE benchmark (CED-5, CED-6), with the yearly roll-up ce_person_years built
-- from them exactly as the server keeps it. The shape: 10 regions, 200
-- member companies, 20 accredited providers running 1,000 activities in each
-- of 2024, 2025 and 2026 (a quarter public, a fifth with an exam), and n/24
-- (rounded up) skilled people (30 occupations) who each earn 8 credits a year in those 3
-- years, every one from a different activity. Runs after the server migrated
-- the database and created `admin`, who records everything.
BEGIN;

SELECT (:n + 23) / 24 AS people \gset

INSERT INTO organisations (id, name, kind, region, status, version, created_at, updated_at)
SELECT format('00000000-0000-7000-80c0-%s', lpad(i::text, 12, '0')),
       'CE Bench Company ' || i, 'member_company', 'Region ' || (1 + i % 10), 'approved', 1, now(), now()
FROM generate_series(1, 200) AS i;

INSERT INTO organisations (id, name, kind, region, status, version, created_at, updated_at)
SELECT format('00000000-0000-7000-80c1-%s', lpad(i::text, 12, '0')),
       'CE Bench Skills Centre ' || i, 'provider', 'Region ' || (1 + i % 10), 'approved', 1, now(), now()
FROM generate_series(1, 20) AS i;

INSERT INTO ce_providers (id, organisation_id, name, region, status, conditions_json, scope, content,
                          fee_items_json, standards, applied_by, decided_by, decided_at, version,
                          created_at, updated_at)
SELECT format('00000000-0000-7000-80c2-%s', lpad(i::text, 12, '0')),
       format('00000000-0000-7000-80c1-%s', lpad(i::text, 12, '0')),
       'CE Bench Skills Centre ' || i, 'Region ' || (1 + i % 10), 'accredited',
       '{"teaching_facilities":"rooms","teaching_staff":"teachers","plans_and_rules":"plan","quality_assurance":"manual","legal_compliance":"licence"}',
       'Gas trades', 'Safety and new technology', '[{"name":"Class day","amount_fen":30000}]', 'At most 40 per class',
       a.id, a.id, now(), 1, now(), now()
FROM generate_series(1, 20) AS i, (SELECT id FROM users WHERE username = 'admin') AS a;

-- Activity a (1..3000): year 2024 + (a-1)/1000, provider 1 + a % 20.
INSERT INTO ce_activities (id, provider_id, organisation_id, source, title, subject_category, credits,
                           hours, fee_fen, held_on, year, has_exam, region, evidence_json, status,
                           created_by, version, created_at, updated_at)
SELECT format('00000000-0000-7000-80c3-%s', lpad(s.a::text, 12, '0')),
       format('00000000-0000-7000-80c2-%s', lpad((1 + s.a % 20)::text, 12, '0')),
       format('00000000-0000-7000-80c1-%s', lpad((1 + s.a % 20)::text, 12, '0')),
       CASE WHEN s.a % 5 = 0 THEN 'online_test' ELSE 'offline_class' END,
       'Bench activity ' || s.a,
       CASE WHEN s.a % 4 = 0 THEN 'public' ELSE 'professional' END,
       2 + s.a % 9, 2 + s.a % 7, (s.a % 6) * 5000,
       make_date(s.y, 1 + s.a % 12, 1 + s.a % 28), s.y, s.a % 5 = 0,
       'Region ' || (1 + (1 + s.a % 20) % 10), '[]', 'registered', u.id, 1, now(), now()
FROM (SELECT a, 2024 + (a - 1) / 1000 AS y FROM generate_series(1, 3000) AS a) AS s,
     (SELECT id FROM users WHERE username = 'admin') AS u;

INSERT INTO people (id, name, gender, id_type, id_number, organisation_id, occupation, skill_level,
                    skill_certificate_number, skill_certificate_issued_on, version, created_at, updated_at)
SELECT format('00000000-0000-7000-80c4-%s', lpad(i::text, 12, '0')),
       'CE Bench Person ' || i,
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       'passport', 'CEBENCH' || lpad(i::text, 9, '0'),
       format('00000000-0000-7000-80c0-%s', lpad((1 + i % 200)::text, 12, '0')),
       'Occupation ' || (1 + i % 30), 'level_4', 'SK' || i, make_date(2010 + i % 14, 1 + i % 12, 1),
       1, now(), now()
FROM generate_series(1, :people) AS i;

-- Credit i (1..n): person p = 1 + (i-1)/24, k = (i-1) % 24, year 2024 + k/8,
-- activity (k/8)*1000 + 1 + (7p + 125*(k%8)) % 1000: 8 different activities a year.
INSERT INTO ce_credits (id, activity_id, person_id, year, earned_on, source, subject_category, credits,
                        hours, fee_fen, exam_based, exam_score, exam_passed, provider_id,
                        organisation_id, occupation, region, evidence_json, recorded_by, recorded_at)
SELECT format('00000000-0000-7000-80c5-%s', lpad(c.i::text, 12, '0')),
       a.id, format('00000000-0000-7000-80c4-%s', lpad(c.p::text, 12, '0')), a.year, a.held_on,
       a.source, a.subject_category, a.credits, a.hours, a.fee_fen, a.has_exam,
       CASE WHEN a.has_exam THEN 60 + c.i % 41 END, CASE WHEN a.has_exam THEN true END,
       a.provider_id,
       format('00000000-0000-7000-80c0-%s', lpad((1 + c.p % 200)::text, 12, '0')),
       'Occupation ' || (1 + c.p % 30), 'Region ' || (1 + (1 + c.p % 200) % 10), '[]', u.id, now()
FROM (SELECT i, 1 + (i - 1) / 24 AS p, (i - 1) % 24 AS k FROM generate_series(1, :people * 24) AS i) AS c
JOIN ce_activities AS a
  ON a.id = format('00000000-0000-7000-80c3-%s',
                   lpad(((c.k / 8) * 1000 + 1 + (7 * c.p + 125 * (c.k % 8)) % 1000)::text, 12, '0')),
     (SELECT id FROM users WHERE username = 'admin') AS u;

INSERT INTO ce_person_years (person_id, year, region, organisation_id, occupation, total_credits,
                             public_credits, professional_credits, exam_credits, hours, fee_fen,
                             records, updated_at)
SELECT person_id, year, max(region), max(organisation_id), max(occupation), sum(credits),
       coalesce(sum(credits) FILTER (WHERE subject_category = 'public'), 0),
       coalesce(sum(credits) FILTER (WHERE subject_category = 'professional'), 0),
       coalesce(sum(credits) FILTER (WHERE exam_based AND subject_category = 'professional'
                                     AND exam_passed IS NOT false), 0),
       sum(hours), sum(fee_fen), count(*), now()
FROM ce_credits
GROUP BY person_id, year;

COMMIT;
VACUUM ANALYZE organisations;
VACUUM ANALYZE people;
VACUUM ANALYZE ce_providers;
VACUUM ANALYZE ce_activities;
VACUUM ANALYZE ce_credits;
VACUUM ANALYZE ce_person_years;
