use sqlx::any::AnyRow;
use sqlx::Row;

use super::{flag, parse, time, Tx};
use crate::{Agent, Backend, Customer, Platform, Result, Role, StorageError};

fn customer(row: &AnyRow) -> Result<Customer> {
    Ok(Customer {
        id: row.try_get("id")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        language: row.try_get("language")?,
        created_at: time(row, "created_at")?,
    })
}

pub(super) fn agent(row: &AnyRow) -> Result<Agent> {
    Ok(Agent {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        role: parse(row, "role")?,
        on_duty: flag(row, "on_duty")?,
        disabled: flag(row, "disabled")?,
        must_change_password: flag(row, "must_change_password")?,
    })
}

pub(super) const AGENT_COLUMNS: &str =
    "a.id, a.name, a.email, a.role, a.on_duty, a.disabled, a.must_change_password";

/// A platform identity that wrote before: its customer, and the name and language stored for
/// the identity itself.
#[derive(Debug, Clone)]
pub struct KnownIdentity {
    pub customer: Customer,
    pub name: String,
    pub language: Option<String>,
}

impl KnownIdentity {
    /// Whether what the platform says now would change what is stored (the rule of
    /// [`Tx::customer_for_identity`]).
    pub fn is_current(&self, display_name: &str, language: Option<&str>) -> bool {
        self.name == display_name && (self.language.is_some() || language.is_none())
    }
}

/// The statement [`Tx::known_customers`] runs for `count` identities: `$1` is the platform,
/// `$2…` the platform's user ids. Public so that a test can check PostgreSQL's plan for it.
pub fn known_customers_sql(backend: Backend, count: usize) -> String {
    let columns = "i.external_id, c.id, c.display_name, c.email, c.language, c.created_at, \
         i.display_name AS identity_name, i.language AS identity_language";
    match backend {
        // One index lookup per listed identity, as in `active_tickets_sql`: an `IN` list
        // was planned, on a table without statistics, as a scan of every identity of the
        // platform filtered row by row.
        Backend::Postgres => format!(
            "SELECT k.* FROM (VALUES {}) AS listed (wanted) CROSS JOIN LATERAL \
             (SELECT {columns} FROM customer_identities i \
             JOIN customers c ON c.id = i.customer_id \
             WHERE i.platform = $1 AND i.external_id = listed.wanted OFFSET 0) AS k",
            super::value_rows(2, count)
        ),
        Backend::Sqlite => format!(
            "SELECT {columns} FROM customer_identities i \
             JOIN customers c ON c.id = i.customer_id \
             WHERE i.platform = $1 AND i.external_id IN ({})",
            super::placeholders(2, count)
        ),
    }
}

impl Tx {
    /// The customer behind a platform identity, created on first contact. Name and language are
    /// refreshed from what the platform says now.
    pub async fn customer_for_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
        display_name: &str,
        language: Option<&str>,
        now_ms: i64,
    ) -> Result<Customer> {
        let known = sqlx::query(
            "SELECT c.id, c.display_name, c.email, c.language, c.created_at, \
             i.display_name AS identity_name, i.language AS identity_language \
             FROM customer_identities i JOIN customers c ON c.id = i.customer_id \
             WHERE i.platform = $1 AND i.external_id = $2",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        if let Some(row) = known {
            let identity = KnownIdentity {
                customer: customer(&row)?,
                name: row.try_get("identity_name")?,
                language: row.try_get("identity_language")?,
            };
            if !identity.is_current(display_name, language) {
                sqlx::query(
                    "UPDATE customer_identities SET display_name = $3, language = COALESCE($4, language) \
                     WHERE platform = $1 AND external_id = $2",
                )
                .bind(platform.as_str())
                .bind(external_id)
                .bind(display_name)
                .bind(language)
                .execute(&mut *self.inner)
                .await?;
            }
            return Ok(identity.customer);
        }
        let row = sqlx::query(
            "INSERT INTO customers (display_name, language, created_at) VALUES ($1, $2, $3) \
             RETURNING id, display_name, email, language, created_at",
        )
        .bind(display_name)
        .bind(language)
        .bind(now_ms)
        .fetch_one(&mut *self.inner)
        .await?;
        let created = customer(&row)?;
        let linked = sqlx::query(
            "INSERT INTO customer_identities (platform, external_id, customer_id, display_name, language) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .bind(created.id)
        .bind(display_name)
        .bind(language)
        .execute(&mut *self.inner)
        .await?;
        if linked.rows_affected() == 1 {
            return Ok(created);
        }
        // A concurrent transaction linked this identity first: use its customer.
        sqlx::query("DELETE FROM customers WHERE id = $1")
            .bind(created.id)
            .execute(&mut *self.inner)
            .await?;
        let id = self
            .customer_id_for_identity(platform, external_id)
            .await?
            .ok_or_else(|| StorageError::NotFound(format!("{platform} customer {external_id}")))?;
        self.customer(id).await
    }

    /// The customers of several identities of one platform that wrote before, in one
    /// statement, each with the name and language stored for that identity. Identities not
    /// seen before are absent; nothing is written (see [`Tx::customer_for_identity`]).
    pub async fn known_customers(
        &mut self,
        platform: Platform,
        external_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, KnownIdentity>> {
        if external_ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let sql = known_customers_sql(self.backend, external_ids.len());
        let mut query = sqlx::query(&sql).bind(platform.as_str());
        for id in external_ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        let mut known = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            known.insert(
                row.try_get("external_id")?,
                KnownIdentity {
                    customer: customer(row)?,
                    name: row.try_get("identity_name")?,
                    language: row.try_get("identity_language")?,
                },
            );
        }
        Ok(known)
    }

    /// The customer a platform identity belongs to, if it wrote before.
    pub async fn customer_id_for_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT customer_id FROM customer_identities WHERE platform = $1 AND external_id = $2",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        Ok(row.map(|r| r.try_get("customer_id")).transpose()?)
    }

    pub async fn customer(&mut self, id: i64) -> Result<Customer> {
        let row = sqlx::query(
            "SELECT id, display_name, email, language, created_at FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref()
            .map(customer)
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("customer id {id}")))
    }

    /// Creates an agent. Fails with [`StorageError::Conflict`] when the name or email is taken.
    pub async fn create_agent(
        &mut self,
        name: &str,
        email: Option<&str>,
        role: Role,
        now_ms: i64,
    ) -> Result<Agent> {
        let row = sqlx::query(
            "INSERT INTO agents (name, email, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING RETURNING id, name, email, role, on_duty, disabled, must_change_password",
        )
        .bind(name)
        .bind(email)
        .bind(role.as_str())
        .bind(now_ms)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref()
            .map(agent)
            .transpose()?
            .ok_or_else(|| StorageError::Conflict(format!("agent `{name}`")))
    }

    /// Ties a chat identity to an agent (replacing an earlier link of that identity).
    pub async fn link_agent_identity(
        &mut self,
        agent_id: i64,
        platform: Platform,
        external_id: &str,
        display_name: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_identities (platform, external_id, agent_id, display_name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform, external_id) DO UPDATE SET agent_id = $3, display_name = $4",
        )
        .bind(platform.as_str())
        .bind(external_id)
        .bind(agent_id)
        .bind(display_name)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn agent_by_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
    ) -> Result<Option<Agent>> {
        let sql = format!(
            "SELECT {AGENT_COLUMNS} FROM agents a JOIN agent_identities i ON i.agent_id = a.id \
             WHERE i.platform = $1 AND i.external_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(platform.as_str())
            .bind(external_id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(agent).transpose()
    }

    /// Finds an agent by name, case-insensitively, or by a chat handle linked to them.
    pub async fn agent_by_name(&mut self, name: &str) -> Result<Option<Agent>> {
        let sql = format!(
            "SELECT {AGENT_COLUMNS} FROM agents a WHERE LOWER(a.name) = LOWER($1) \
             UNION SELECT {AGENT_COLUMNS} FROM agents a JOIN agent_identities i ON i.agent_id = a.id \
             WHERE LOWER(i.display_name) = LOWER($1) ORDER BY id LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref().map(agent).transpose()
    }

    /// Makes an agent a member of a team (no change when they already are).
    pub async fn add_agent_to_team(&mut self, agent_id: i64, team_id: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO agent_teams (agent_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(agent_id)
        .bind(team_id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Takes the agent out of the team; false when they were not in it.
    pub async fn remove_agent_from_team(&mut self, agent_id: i64, team_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM agent_teams WHERE agent_id = $1 AND team_id = $2")
            .bind(agent_id)
            .bind(team_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The names of the team's members, by name.
    pub async fn team_member_names(&mut self, team_id: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT a.name FROM agent_teams m JOIN agents a ON a.id = m.agent_id \
             WHERE m.team_id = $1 ORDER BY a.name",
        )
        .bind(team_id)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("name")?)).collect()
    }

    /// Deletes a team: its tickets keep no team, its members leave it. Returns how many
    /// tickets it had.
    pub async fn delete_team(&mut self, team_id: i64, now_ms: i64) -> Result<u64> {
        let moved =
            sqlx::query("UPDATE tickets SET team_id = NULL, updated_at = $2 WHERE team_id = $1")
                .bind(team_id)
                .bind(now_ms)
                .execute(&mut *self.inner)
                .await?
                .rows_affected();
        sqlx::query("DELETE FROM agent_teams WHERE team_id = $1")
            .bind(team_id)
            .execute(&mut *self.inner)
            .await?;
        sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(team_id)
            .execute(&mut *self.inner)
            .await?;
        Ok(moved)
    }

    /// The teams an agent belongs to.
    pub async fn agent_team_ids(&mut self, agent_id: i64) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT team_id FROM agent_teams WHERE agent_id = $1 ORDER BY team_id")
                .bind(agent_id)
                .fetch_all(&mut *self.inner)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("team_id")?)).collect()
    }

    /// Sets an agent's stored role: an admin's action (CLI, console, API), never a chat's.
    pub async fn set_agent_role(&mut self, id: i64, role: Role) -> Result<()> {
        let done = sqlx::query("UPDATE agents SET role = $2 WHERE id = $1")
            .bind(id)
            .bind(role.as_str())
            .execute(&mut *self.inner)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StorageError::NotFound(format!("agent {id}")));
        }
        Ok(())
    }

    pub async fn agent(&mut self, id: i64) -> Result<Agent> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?;
        row.as_ref()
            .map(agent)
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("agent id {id}")))
    }

    /// The agent behind a chat identity, created (as a plain agent) on first sight. The
    /// stored role is never changed here: what a platform says about someone's role counts
    /// for that message only (see `relaydesk_desk::access`).
    pub async fn agent_for_identity(
        &mut self,
        platform: Platform,
        external_id: &str,
        display_name: &str,
        now_ms: i64,
    ) -> Result<Agent> {
        if let Some(found) = self.agent_by_identity(platform, external_id).await? {
            return Ok(found);
        }
        let created = match self
            .create_agent(display_name, None, Role::Agent, now_ms)
            .await
        {
            Ok(agent) => agent,
            Err(StorageError::Conflict(_)) => {
                let unique = format!("{display_name} ({platform} {external_id})");
                self.create_agent(&unique, None, Role::Agent, now_ms)
                    .await?
            }
            Err(e) => return Err(e),
        };
        self.link_agent_identity(created.id, platform, external_id, display_name)
            .await?;
        Ok(created)
    }
}
