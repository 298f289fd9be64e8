-- Whether the customer's email address is vouched for (signed by the site in the widget, or
-- given by an integration with an API token). Transcripts are mailed only to such addresses.
ALTER TABLE customers ADD COLUMN email_verified BIGINT NOT NULL DEFAULT 0;
