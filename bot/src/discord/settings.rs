//! `[discord]` turned into typed ids.

use serenity::all::{ChannelId, GuildId, RoleId};

use crate::config::DiscordConfig;

#[derive(Debug, thiserror::Error)]
#[error("discord.{key}: {message}")]
pub struct SettingsError {
    key: &'static str,
    message: String,
}

/// The Discord channel's settings, checked.
#[derive(Clone)]
pub struct DiscordSettings {
    pub token: String,
    /// REST base URL, without a trailing slash.
    pub api_url: String,
    pub guild: GuildId,
    pub staff_channel: ChannelId,
    pub support_channel: Option<ChannelId>,
    pub agent_roles: Vec<RoleId>,
    pub admin_roles: Vec<RoleId>,
}

impl std::fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordSettings")
            .field("token", &"<secret>")
            .field("api_url", &self.api_url)
            .field("guild", &self.guild)
            .field("staff_channel", &self.staff_channel)
            .field("support_channel", &self.support_channel)
            .field("agent_roles", &self.agent_roles)
            .field("admin_roles", &self.admin_roles)
            .finish()
    }
}

fn snowflake(key: &'static str, value: &str) -> Result<u64, SettingsError> {
    match value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(SettingsError {
            key,
            message: format!("`{value}` is not a Discord id"),
        }),
    }
}

fn required(key: &'static str, value: &Option<String>) -> Result<u64, SettingsError> {
    match value {
        Some(v) => snowflake(key, v),
        None => Err(SettingsError {
            key,
            message: "required when discord.token is set".into(),
        }),
    }
}

impl DiscordSettings {
    /// `None` when the channel is off (no token).
    pub fn from_config(config: &DiscordConfig) -> Result<Option<Self>, SettingsError> {
        let Some(token) = config.enabled_token() else {
            return Ok(None);
        };
        let roles = |key: &'static str, ids: &[String]| -> Result<Vec<RoleId>, SettingsError> {
            ids.iter()
                .map(|id| snowflake(key, id).map(RoleId::new))
                .collect()
        };
        Ok(Some(Self {
            token: token.to_string(),
            api_url: config.api_url.trim_end_matches('/').to_string(),
            guild: GuildId::new(required("guild_id", &config.guild_id)?),
            staff_channel: ChannelId::new(required("staff_channel_id", &config.staff_channel_id)?),
            support_channel: config
                .support_channel_id
                .as_deref()
                .map(|v| snowflake("support_channel_id", v).map(ChannelId::new))
                .transpose()?,
            agent_roles: roles("agent_role_ids", &config.agent_role_ids)?,
            admin_roles: roles("admin_role_ids", &config.admin_role_ids)?,
        }))
    }

    /// What a guild member's roles make them: admin, agent, or neither.
    pub fn role_of(&self, roles: &[RoleId]) -> Option<relaydesk_storage::Role> {
        if roles.iter().any(|r| self.admin_roles.contains(r)) {
            Some(relaydesk_storage::Role::Admin)
        } else if roles.iter().any(|r| self.agent_roles.contains(r)) {
            Some(relaydesk_storage::Role::Agent)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relaydesk_storage::Role;

    fn config() -> DiscordConfig {
        DiscordConfig {
            token: Some("t".into()),
            guild_id: Some("1".into()),
            staff_channel_id: Some("2".into()),
            agent_role_ids: vec!["10".into()],
            admin_role_ids: vec!["20".into()],
            ..DiscordConfig::default()
        }
    }

    #[test]
    fn off_without_a_token() {
        let config = DiscordConfig::default();
        assert!(DiscordSettings::from_config(&config).unwrap().is_none());
    }

    #[test]
    fn roles_decide_agent_admin_or_neither() {
        let settings = DiscordSettings::from_config(&config()).unwrap().unwrap();
        assert_eq!(settings.role_of(&[RoleId::new(10)]), Some(Role::Agent));
        assert_eq!(
            settings.role_of(&[RoleId::new(10), RoleId::new(20)]),
            Some(Role::Admin)
        );
        assert_eq!(settings.role_of(&[RoleId::new(30)]), None);
        assert_eq!(settings.role_of(&[]), None);
    }

    #[test]
    fn missing_ids_are_named() {
        let mut c = config();
        c.staff_channel_id = None;
        let err = DiscordSettings::from_config(&c).unwrap_err().to_string();
        assert!(err.contains("discord.staff_channel_id"), "{err}");
    }
}
