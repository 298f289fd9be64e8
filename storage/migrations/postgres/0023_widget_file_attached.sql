-- A visitor's upload is kept only once its message is stored: files still unattached a few
-- minutes after upload are deleted. Files stored before this counted as attached.
ALTER TABLE widget_files ADD COLUMN attached BIGINT NOT NULL DEFAULT 1;
CREATE INDEX widget_files_unattached ON widget_files (attached, created_at);
