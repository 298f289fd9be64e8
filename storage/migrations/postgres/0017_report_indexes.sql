-- Reports count tickets opened, surveys sent and reopens per period: range scans on these.
CREATE INDEX tickets_created_at ON tickets (created_at);
CREATE INDEX audit_log_action_time ON audit_log (action, created_at);
CREATE INDEX csat_surveys_created_at ON csat_surveys (created_at);
-- Metrics count failed webhook deliveries at every scrape.
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (id) WHERE status = 'failed';
