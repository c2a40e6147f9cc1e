DROP TABLE scheduled_events;
DROP TABLE worker_leases;
