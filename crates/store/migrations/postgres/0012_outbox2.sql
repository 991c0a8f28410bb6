-- PostgreSQL dialect; the SQLite twin has the same name under migrations/sqlite.
-- Notifications where officials work (issue 15), second part.
--
-- A robot's messages due together go as one message (its 20-a-minute limit). The rows sent
-- together are a group, named by its first row's id and kept from the claim that formed it:
-- a retry, another server's claim after a lease ran out, or an administrator's retry sends
-- the same rows as the same message, under the same idempotency key (a receiver drops the
-- repeat). NULL: a message of its own.
ALTER TABLE outbox ADD COLUMN group_id BIGINT;
CREATE INDEX outbox_group ON outbox(channel_id, group_id);

-- How a robot's messages are written: 'text' (the default; mentions by mobile number) or
-- 'markdown' (企业微信's and 钉钉's markdown message).
ALTER TABLE channels ADD COLUMN format TEXT NOT NULL DEFAULT 'text';

-- The reminders of an approval nearing its deadline (审批临期提醒): one row per approval and
-- threshold (minutes before the deadline, such as 1440 and 240), written by the pass that sent
-- it in the transaction of its audit event and outbox messages, so each goes once whichever
-- server runs the pass.
CREATE TABLE approval_reminders (
    approval_id       BIGINT NOT NULL REFERENCES approvals(id),
    threshold_minutes BIGINT NOT NULL,
    sent_at           BIGINT NOT NULL,
    PRIMARY KEY (approval_id, threshold_minutes)
);
-- The pass reads the undecided approvals whose deadline is near.
CREATE INDEX approvals_due ON approvals(due_at);
