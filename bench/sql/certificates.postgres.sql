-- Seeds :n certificates (psql -v n=100000) for the verification benchmark
-- (CRT-2): 50 organisations, 20 programs, one person per certificate, issue
-- dates spread over 2019-2026 so that valid, expired and lapsed certificates
-- mix, 5% superseded and about 1% revoked. Codes are 24 random hexadecimal
-- characters (a subset of the URL-safe alphabet of real codes). Runs after the
-- server migrated the database and created `admin`, who issues them all.
BEGIN;

INSERT INTO organisations (id, name, kind, status, version, created_at, updated_at)
SELECT format('00000000-0000-7000-8000-%s', lpad(i::text, 12, '0')),
       'Bench Gas Company ' || i, 'member_company', 'approved', 1, now(), now()
FROM generate_series(1, 50) AS i;

INSERT INTO programs (id, code, name, target_categories, training_fee_fen, exam_fee_fen,
                      skill_level, certificate_name, validity_years, status, version,
                      created_at, updated_at)
SELECT format('00000000-0000-7000-8001-%s', lpad(i::text, 12, '0')),
       'BENCH-' || i, 'Bench gas program ' || i, '["operations_staff"]', 120000, 30000,
       false, 'Gas operations certificate', 3, 'active', 1, now(), now()
FROM generate_series(1, 20) AS i;

INSERT INTO people (id, name, gender, id_type, id_number, organisation_id, version,
                    created_at, updated_at)
SELECT format('00000000-0000-7000-8002-%s', lpad(i::text, 12, '0')),
       substr('张李王陈刘杨黄赵吴周', 1 + i % 10, 1) || substr('伟芳娜敏静强磊军洋勇', 1 + (i / 10) % 10, 1)
           || CASE WHEN i % 3 = 0 THEN '' ELSE substr('明华平刚桂英', 1 + i % 6, 1) END,
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       'passport', 'BENCH' || lpad(i::text, 9, '0'),
       format('00000000-0000-7000-8000-%s', lpad((1 + i % 50)::text, 12, '0')),
       1, now(), now()
FROM generate_series(1, :n) AS i;

INSERT INTO certificates (id, number, code, person_id, organisation_id, holder_name, program_id,
                          issued_on, validity_years, period_started_on, valid_until, renewals,
                          status, ended_at, end_reason, issued_by, version, created_at, updated_at)
SELECT format('00000000-0000-7000-8003-%s', lpad(s.i::text, 12, '0')),
       'GA' || extract(year FROM s.d)::int || lpad(s.i::text, 6, '0'),
       substr(md5(random()::text || s.i::text), 1, 24),
       p.id, p.organisation_id, p.name,
       format('00000000-0000-7000-8001-%s', lpad((1 + s.i % 20)::text, 12, '0')),
       s.d, 3, s.d, (s.d + interval '3 years' - interval '1 day')::date, 0,
       CASE WHEN s.i % 20 = 0 THEN 'superseded' WHEN s.i % 97 = 0 THEN 'revoked' ELSE 'active' END,
       CASE WHEN s.i % 20 = 0 OR s.i % 97 = 0 THEN now()::timestamp END,
       CASE WHEN s.i % 20 = 0 THEN 'reissued' WHEN s.i % 97 = 0 THEN 'cancelled' END,
       (SELECT id FROM users WHERE username = 'admin'), 1, now(), now()
FROM (SELECT i, date '2019-01-01' + (i % 2900) AS d FROM generate_series(1, :n) AS i) AS s
JOIN people AS p ON p.id = format('00000000-0000-7000-8002-%s', lpad(s.i::text, 12, '0'));

COMMIT;
VACUUM ANALYZE organisations;
VACUUM ANALYZE programs;
VACUUM ANALYZE people;
VACUUM ANALYZE certificates;
