//! Discord objects as the developer documentation describes them (every field it marks as
//! always present is present), for the fake's REST answers and gateway dispatches.

use serde_json::{json, Value};

pub const TIMESTAMP: &str = "2026-01-01T00:00:00.000000+00:00";

/// A user object.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": null,
    })
}

/// A guild member object (with its user).
pub fn member(user: &Value, roles: &[u64]) -> Value {
    json!({
        "user": user,
        "nick": null,
        "avatar": null,
        "banner": null,
        "communication_disabled_until": null,
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": TIMESTAMP,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
    })
}

/// A message object. `guild` and `roles` are given for guild messages (the gateway then adds
/// a partial member).
pub fn message(
    id: u64,
    channel_id: u64,
    guild: Option<u64>,
    author: &Value,
    roles: Option<&[u64]>,
    content: &str,
) -> Value {
    let mut message = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
    });
    if let Some(guild) = guild {
        message["guild_id"] = json!(guild.to_string());
        if let Some(roles) = roles {
            let mut partial = member(author, roles);
            if let Some(m) = partial.as_object_mut() {
                m.remove("user");
            }
            message["member"] = partial;
        }
    }
    message
}

/// A guild text channel, or a thread (`kind` 11 public, 12 private) under `parent`.
pub fn channel(
    id: u64,
    kind: u64,
    guild: u64,
    name: &str,
    parent: Option<u64>,
    archived: bool,
    locked: bool,
) -> Value {
    let mut channel = json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild.to_string(),
        "name": name,
        "parent_id": parent.map(|p| p.to_string()),
        "permission_overwrites": [],
        "nsfw": false,
        "rate_limit_per_user": 0,
        "flags": 0,
    });
    if kind == 11 || kind == 12 {
        channel["owner_id"] = json!(super::BOT_USER_ID.to_string());
        channel["message_count"] = json!(0);
        channel["member_count"] = json!(1);
        channel["total_message_sent"] = json!(0);
        channel["thread_metadata"] = json!({
            "archived": archived,
            "auto_archive_duration": 10080,
            "archive_timestamp": TIMESTAMP,
            "locked": locked,
            "invitable": false,
            "create_timestamp": TIMESTAMP,
        });
    } else {
        channel["position"] = json!(0);
        channel["topic"] = Value::Null;
    }
    channel
}

/// A DM channel with `recipient`.
pub fn dm_channel(id: u64, recipient: &Value) -> Value {
    json!({
        "id": id.to_string(),
        "type": 1,
        "last_message_id": null,
        "recipients": [recipient],
        "flags": 0,
    })
}

/// An interaction object in a guild channel. `kind` 2 = application command (then `data` is the
/// command data), 3 = message component.
pub fn interaction(
    id: u64,
    kind: u64,
    channel_id: u64,
    guild: u64,
    member: &Value,
    data: Value,
    message: Option<Value>,
) -> Value {
    let mut interaction = json!({
        "id": id.to_string(),
        "application_id": super::APPLICATION_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": guild.to_string(),
        "channel_id": channel_id.to_string(),
        "channel": {"id": channel_id.to_string(), "type": 12},
        "member": member,
        "token": format!("token-{id}"),
        "version": 1,
        "app_permissions": "0",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.to_string()},
        "context": 0,
        "attachment_size_limit": 10485760,
    });
    if let Some(message) = message {
        interaction["message"] = message;
    }
    interaction
}

/// A role object.
pub fn role(id: u64, name: &str, position: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": "0",
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// The GUILD_CREATE payload of the support guild: the guild object plus the extra fields the
/// gateway adds (joined_at, members, channels, threads, …).
pub fn guild_create(channels: Vec<Value>, bot: &Value) -> Value {
    let guild = super::GUILD_ID;
    let mut guild_object = json!({
        "id": guild.to_string(),
        "name": "Support",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": "1",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            role(guild, "@everyone", 0),
            role(super::AGENT_ROLE_ID, "Agents", 1),
            role(super::ADMIN_ROLE_ID, "Admins", 2),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    });
    let gateway_fields = json!({
        "joined_at": TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": 1,
        "voice_states": [],
        "members": [member(bot, &[])],
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    });
    if let (Some(guild), Some(extra)) = (guild_object.as_object_mut(), gateway_fields.as_object()) {
        guild.extend(extra.clone());
    }
    guild_object
}

/// An attachment object as Discord's CDN describes an uploaded file.
pub fn attachment(id: u64, filename: &str, content_type: &str, size: u64) -> Value {
    let url = format!("https://cdn.discordapp.com/attachments/1/{id}/{filename}");
    json!({
        "id": id.to_string(),
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "url": url,
        "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
    })
}
