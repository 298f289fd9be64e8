-- A bounced mail names the Message-ID we sent: find its delivery by that reference.
CREATE INDEX outbox_external_ref ON outbox (platform, external_ref) WHERE external_ref IS NOT NULL;
