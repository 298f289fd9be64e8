//! Sign-in: agent passwords and lockout, console sessions, REST API tokens. Secrets are never
//! stored: callers pass hashes (argon2 for passwords, SHA-256 for random session and API tokens).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::people::{agent, AGENT_COLUMNS};
use super::{opt_time, time, Tx};
use crate::model::{Agent, AgentCredentials, ApiToken};
use crate::{Result, StorageError};

fn api_token(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        agent_id: row.try_get("agent_id")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "t.id, t.name, t.agent_id, t.created_at, t.last_used_at, t.revoked_at";

impl Tx {
    /// Sets (or replaces) an agent's console password hash. `must_change`: it was set for them
    /// (a one-time password), so the console asks for a new one first.
    pub async fn set_agent_password(
        &mut self,
        agent_id: i64,
        password_hash: &str,
        must_change: bool,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE agents SET password_hash = $2, failed_logins = 0, locked_until = NULL, \
             must_change_password = $3 WHERE id = $1",
        )
        .bind(agent_id)
        .bind(password_hash)
        .bind(i64::from(must_change))
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("agent id {agent_id}")));
        }
        Ok(())
    }

    /// An agent found by email (case-insensitively), with what sign-in needs.
    pub async fn agent_credentials(&mut self, email: &str) -> Result<Option<AgentCredentials>> {
        let sql = format!(
            "SELECT {AGENT_COLUMNS}, a.password_hash, a.failed_logins, a.locked_until \
             FROM agents a WHERE LOWER(a.email) = LOWER($1)"
        );
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref()
            .map(|row| -> Result<AgentCredentials> {
                Ok(AgentCredentials {
                    agent: agent(row)?,
                    password_hash: row.try_get("password_hash")?,
                    failed_logins: row.try_get("failed_logins")?,
                    locked_until_ms: row.try_get("locked_until")?,
                })
            })
            .transpose()
    }

    /// Counts a failed sign-in; at `max_failures` the agent is locked until `now + lock_ms`
    /// and the count starts again. Returns the failures counted so far.
    pub async fn record_login_failure(
        &mut self,
        agent_id: i64,
        max_failures: i64,
        lock_ms: i64,
        now_ms: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE agents SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
        )
        .bind(agent_id)
        .fetch_one(&mut *self.inner)
        .await?;
        let failures: i64 = row.try_get("failed_logins")?;
        if failures >= max_failures {
            sqlx::query("UPDATE agents SET failed_logins = 0, locked_until = $2 WHERE id = $1")
                .bind(agent_id)
                .bind(now_ms + lock_ms)
                .execute(&mut *self.inner)
                .await?;
        }
        Ok(failures)
    }

    /// Clears failures and any lock after a successful sign-in.
    pub async fn reset_login_failures(&mut self, agent_id: i64) -> Result<()> {
        sqlx::query("UPDATE agents SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(agent_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn create_console_session(
        &mut self,
        token_hash: &str,
        agent_id: i64,
        csrf_token: &str,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_sessions (token_hash, agent_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(agent_id)
        .bind(csrf_token)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The agent and CSRF token of an unexpired console session.
    pub async fn console_session(
        &mut self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(Agent, String)>> {
        let sql = format!(
            "SELECT {AGENT_COLUMNS}, s.csrf_token FROM console_sessions s \
             JOIN agents a ON a.id = s.agent_id WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now_ms)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref()
            .map(|row| -> Result<(Agent, String)> { Ok((agent(row)?, row.try_get("csrf_token")?)) })
            .transpose()
    }

    /// Ends a console session (sign-out). Also drops every expired session.
    pub async fn delete_console_session(&mut self, token_hash: &str, now_ms: i64) -> Result<()> {
        sqlx::query("DELETE FROM console_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Stores a new API token acting as `agent_id`. [`StorageError::Conflict`] when the name is
    /// taken.
    pub async fn create_api_token(
        &mut self,
        name: &str,
        token_hash: &str,
        agent_id: i64,
        now_ms: i64,
    ) -> Result<ApiToken> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (name, token_hash, agent_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING RETURNING id, name, agent_id, created_at, last_used_at, revoked_at",
        )
        .bind(name)
        .bind(token_hash)
        .bind(agent_id)
        .bind(now_ms)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref()
            .map(api_token)
            .transpose()?
            .ok_or_else(|| StorageError::Conflict(format!("API token `{name}`")))
    }

    /// The token and its agent for a bearer token's hash, unless revoked; notes the use.
    pub async fn use_api_token(
        &mut self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<(ApiToken, Agent)>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&mut *self.inner)
            .await?;
        let Some(token) = row.as_ref().map(api_token).transpose()? else {
            return Ok(None);
        };
        let owner = self.agent(token.agent_id).await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(token.id)
            .bind(now_ms)
            .execute(&mut *self.inner)
            .await?;
        Ok(Some((token, owner)))
    }

    /// Disables or enables an agent. Disabling ends their console sessions; their API tokens
    /// stay but are refused while they are disabled.
    pub async fn set_agent_disabled(&mut self, agent_id: i64, disabled: bool) -> Result<()> {
        sqlx::query("UPDATE agents SET disabled = $2 WHERE id = $1")
            .bind(agent_id)
            .bind(i64::from(disabled))
            .execute(&mut *self.inner)
            .await?;
        if disabled {
            self.end_console_sessions(agent_id, None).await?;
        }
        Ok(())
    }

    /// Ends every console session of an agent, but `keep` (the one in use, by its hash).
    pub async fn end_console_sessions(&mut self, agent_id: i64, keep: Option<&str>) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM console_sessions WHERE agent_id = $1 AND token_hash <> $2")
                .bind(agent_id)
                .bind(keep.unwrap_or(""))
                .execute(&mut *self.inner)
                .await?;
        Ok(done.rows_affected())
    }

    /// Revokes the token named `name`; false when there is no such live token.
    pub async fn revoke_api_token(&mut self, name: &str, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn api_tokens(&mut self) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t ORDER BY t.id");
        let rows = sqlx::query(&sql).fetch_all(&mut *self.inner).await?;
        rows.iter().map(api_token).collect()
    }

    pub async fn agent_by_email(&mut self, email: &str) -> Result<Option<Agent>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE LOWER(a.email) = LOWER($1)");
        let row = sqlx::query(&sql)
            .bind(email)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(agent).transpose()
    }
}
