//! A store filled for benchmarks with set-based SQL: 20 agents, 5 teams, one customer and
//! `total` tickets opened over `span_days` days from `start` (3 channels, 4 priorities, 5 %
//! still open with SLA clocks running, 97 % answered, 95 % closed, a survey on every tenth;
//! each last changed one to 48 hours after it was opened).

use sqlx::{Connection, Executor};

/// Agents, teams, one customer and `total` tickets with their replies, closes and surveys,
/// written with set-based SQL.
pub async fn fill(url: &str, total: i64, start: i64, span_days: i64) {
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    let span = span_days * 24 * 3600 * 1000;
    let statements = [
        format!("INSERT INTO customers (display_name, created_at) VALUES ('Bench Customer', {start})"),
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20) \
             INSERT INTO agents (name, role, created_at) SELECT 'agent-' || i, 'agent', {start} FROM s"
        ),
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5) \
             INSERT INTO teams (name, created_at) SELECT 'team-' || i, {start} FROM s"
        ),
        format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {total}) \
             INSERT INTO tickets (number, subject, customer_id, origin, conversation, status, priority, \
             assignee_id, team_id, created_at, updated_at, first_agent_reply_at, closed_at) \
             SELECT 1000 + i, 'bench ticket', 1, \
             CASE i % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'telegram' ELSE 'discord' END, \
             'conversation-' || i, \
             CASE WHEN i % 20 = 0 THEN 'open' ELSE 'closed' END, \
             CASE i % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' WHEN 2 THEN 'high' ELSE 'urgent' END, \
             1 + i % 20, 1 + i % 5, \
             {start} + CAST(i AS BIGINT) * {span} / {total}, \
             {start} + CAST(i AS BIGINT) * {span} / {total} + (1 + i % 48) * 3600000, \
             CASE WHEN i % 33 = 0 THEN NULL ELSE {start} + CAST(i AS BIGINT) * {span} / {total} + (1 + i % 120) * 60000 END, \
             CASE WHEN i % 20 = 0 THEN NULL ELSE {start} + CAST(i AS BIGINT) * {span} / {total} + (1 + i % 48) * 3600000 END \
             FROM s"
        ),
        "INSERT INTO csat_surveys (ticket_id, created_at, rating, rated_at) \
         SELECT id, closed_at, CASE WHEN id % 3 = 0 THEN NULL ELSE 1 + id % 5 END, closed_at \
         FROM tickets WHERE closed_at IS NOT NULL AND id % 10 = 0"
            .to_string(),
        // The open tickets run SLA clocks: answer within an hour, resolve within three days.
        "INSERT INTO ticket_sla (ticket_id, policy, first_response_due, first_response_warn, \
         resolution_due, resolution_warn, next_due_at, updated_at) \
         SELECT id, 'default', created_at + 3600000, created_at + 1800000, \
         created_at + 259200000, created_at + 172800000, created_at + 1800000, created_at \
         FROM tickets WHERE status = 'open'"
            .to_string(),
        // A live PostgreSQL has autovacuum keep its statistics and visibility map; a freshly
        // filled one is brought to that state at once.
        if url.starts_with("postgres") {
            "VACUUM ANALYZE".to_string()
        } else {
            "ANALYZE".to_string()
        },
    ];
    for sql in statements {
        conn.execute(sql.as_str()).await.expect("bulk insert");
    }
    conn.close().await.ok();
}
