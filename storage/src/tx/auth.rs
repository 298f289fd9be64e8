//! Sign-in: agent passwords and lockout, console sessions, REST API tokens. Secrets are never
//! stored: callers pass hashes (argon2 for passwords, SHA-256 for random session and API tokens).

use sqlx::any::AnyRow;
use sqlx::Row;

use super::people::{agent, AGENT_COLUMNS};
use super::{opt_time, time, Tx};
use crate::model::{Agent, AgentCredentials, ApiToken, SignInLimits};
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
            "UPDATE agents SET password_hash = $2, must_change_password = $3 WHERE id = $1",
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
            "SELECT {AGENT_COLUMNS}, a.password_hash \
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
                })
            })
            .transpose()
    }

    /// The moment until which sign-in with `email` from `address` is refused, if it is: the
    /// latest lock of the pair, of the email (from any address) and of the address (for any
    /// email). Known and unknown emails are treated alike.
    pub async fn sign_in_locked_until(
        &mut self,
        email: &str,
        address: &str,
        now_ms: i64,
    ) -> Result<Option<i64>> {
        let email = email.trim().to_lowercase();
        let row = sqlx::query(
            "SELECT MAX(locked_until) AS until FROM sign_in_failures \
             WHERE locked_until > $3 AND ((email = $1 AND address IN ($2, '')) \
             OR (email = '' AND address = $2))",
        )
        .bind(&email)
        .bind(address)
        .bind(now_ms)
        .fetch_one(&mut *self.inner)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("until")?)
    }

    /// Counts a failed sign-in under the pair, the email and the address; each key that
    /// reaches its limit within the window is locked until `now + limits.lock_ms`. Returns
    /// whether the pair is locked now.
    pub async fn record_sign_in_failure(
        &mut self,
        email: &str,
        address: &str,
        limits: &SignInLimits,
        now_ms: i64,
    ) -> Result<bool> {
        // Counts whose time is over are forgotten, so that typing many emails grows nothing.
        sqlx::query(
            "DELETE FROM sign_in_failures WHERE first_at < $1 \
             AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(now_ms - limits.lock_ms)
        .bind(now_ms)
        .execute(&mut *self.inner)
        .await?;
        let email = email.trim().to_lowercase();
        let keys = [
            (email.as_str(), address, limits.per_pair),
            (email.as_str(), "", limits.per_email),
            ("", address, limits.per_address),
        ];
        let mut locked = false;
        for (key_email, key_address, max) in keys {
            let row = sqlx::query(
                "INSERT INTO sign_in_failures (email, address, failures, first_at) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (email, address) DO UPDATE SET \
                 failures = CASE WHEN sign_in_failures.first_at < $4 THEN 1 \
                 ELSE sign_in_failures.failures + 1 END, \
                 first_at = CASE WHEN sign_in_failures.first_at < $4 THEN $3 \
                 ELSE sign_in_failures.first_at END \
                 RETURNING failures",
            )
            .bind(key_email)
            .bind(key_address)
            .bind(now_ms)
            .bind(now_ms - limits.lock_ms)
            .fetch_one(&mut *self.inner)
            .await?;
            let failures: i64 = row.try_get("failures")?;
            if failures >= max.max(1) {
                sqlx::query(
                    "UPDATE sign_in_failures SET failures = 0, first_at = $3, locked_until = $4 \
                     WHERE email = $1 AND address = $2",
                )
                .bind(key_email)
                .bind(key_address)
                .bind(now_ms)
                .bind(now_ms + limits.lock_ms)
                .execute(&mut *self.inner)
                .await?;
                locked = true;
            }
        }
        Ok(locked)
    }

    /// Forgets the failures of the pair and of the email after a successful sign-in. The
    /// address keeps its count: signing in to one's own account does not buy more guesses
    /// at others.
    pub async fn clear_sign_in_failures(&mut self, email: &str, address: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1 AND address IN ($2, '')")
            .bind(email.trim().to_lowercase())
            .bind(address)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Lifts every sign-in lock of `email` (from any address) and forgets its failures.
    pub async fn unlock_sign_in(&mut self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1")
            .bind(email.trim().to_lowercase())
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
