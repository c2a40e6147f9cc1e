-- Seeds N certificates for the verification benchmark (CRT-2); the same
-- data as certificates.postgres.sql, generated with recursive CTEs. The
-- suite replaces __N__ with the count before running it.
PRAGMA foreign_keys = ON;
BEGIN;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 50)
INSERT INTO organisations (id, name, kind, status, version, created_at, updated_at)
SELECT printf('00000000-0000-7000-8000-%012d', i), 'Bench Gas Company ' || i, 'member_company',
       'approved', 1, datetime('now'), datetime('now')
FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 20)
INSERT INTO programs (id, code, name, target_categories, training_fee_fen, exam_fee_fen,
                      skill_level, certificate_name, validity_years, status, version,
                      created_at, updated_at)
SELECT printf('00000000-0000-7000-8001-%012d', i), 'BENCH-' || i, 'Bench gas program ' || i,
       '["operations_staff"]', 120000, 30000, 0, 'Gas operations certificate', 3, 'active', 1,
       datetime('now'), datetime('now')
FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < __N__)
INSERT INTO people (id, name, gender, id_type, id_number, organisation_id, version,
                    created_at, updated_at)
SELECT printf('00000000-0000-7000-8002-%012d', i),
       substr('张李王陈刘杨黄赵吴周', 1 + i % 10, 1) || substr('伟芳娜敏静强磊军洋勇', 1 + (i / 10) % 10, 1)
           || CASE WHEN i % 3 = 0 THEN '' ELSE substr('明华平刚桂英', 1 + i % 6, 1) END,
       CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END,
       'passport', printf('BENCH%09d', i),
       printf('00000000-0000-7000-8000-%012d', 1 + i % 50),
       1, datetime('now'), datetime('now')
FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < __N__),
s(i, d) AS (SELECT i, date('2019-01-01', '+' || (i % 2900) || ' days') FROM seq)
INSERT INTO certificates (id, number, code, person_id, organisation_id, holder_name, program_id,
                          issued_on, validity_years, period_started_on, valid_until, renewals,
                          status, ended_at, end_reason, issued_by, version, created_at, updated_at)
SELECT printf('00000000-0000-7000-8003-%012d', s.i),
       'GA' || strftime('%Y', s.d) || printf('%06d', s.i),
       lower(hex(randomblob(12))),
       p.id, p.organisation_id, p.name,
       printf('00000000-0000-7000-8001-%012d', 1 + s.i % 20),
       s.d, 3, s.d, date(s.d, '+3 years', '-1 day'), 0,
       CASE WHEN s.i % 20 = 0 THEN 'superseded' WHEN s.i % 97 = 0 THEN 'revoked' ELSE 'active' END,
       CASE WHEN s.i % 20 = 0 OR s.i % 97 = 0 THEN datetime('now') END,
       CASE WHEN s.i % 20 = 0 THEN 'reissued' WHEN s.i % 97 = 0 THEN 'cancelled' END,
       (SELECT id FROM users WHERE username = 'admin'), 1, datetime('now'), datetime('now')
FROM s
JOIN people AS p ON p.id = printf('00000000-0000-7000-8002-%012d', s.i);

COMMIT;
ANALYZE;
PRAGMA wal_checkpoint(TRUNCATE);
