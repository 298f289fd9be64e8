-- Opening to first reply and opening to close, in the business hours of the ticket's SLA
-- policy: what reports give as business-hours durations.
ALTER TABLE ticket_sla ADD COLUMN first_response_business_ms BIGINT;
ALTER TABLE ticket_sla ADD COLUMN resolution_business_ms BIGINT;
