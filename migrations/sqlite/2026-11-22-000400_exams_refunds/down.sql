ALTER TABLE classes DROP COLUMN results_published_by;
ALTER TABLE classes DROP COLUMN results_published_at;
DROP TABLE misconduct_entries;
DROP TABLE sanctions;
DROP TABLE exam_registrations;
DROP TABLE sittings;
DROP TABLE leave_requests;
DROP TABLE attendance_records;
DROP TABLE refunds;
