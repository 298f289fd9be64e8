//! Who may run what: the one permission check. The hub calls [`check`] for every command,
//! whatever edge it came from; adapters and the web never decide it themselves.

use relaydesk_storage::Role;

use crate::{Command, DeskError};

/// The role someone has for the message at hand: their stored role, raised to admin when the
/// platform shows them as an administrator right now (a staff group admin, a Discord admin
/// role). Never lowered by the platform, and never written back: the stored role changes only
/// by an admin's action in the CLI, console or API.
pub fn effective_role(stored: Role, seen_on_platform: Option<Role>) -> Role {
    match (stored, seen_on_platform) {
        (Role::Admin, _) | (_, Some(Role::Admin)) => Role::Admin,
        _ => Role::Agent,
    }
}

/// May someone with `role` (`None`: not staff at all) run `command`?
pub fn check(role: Option<Role>, command: &Command) -> Result<(), DeskError> {
    let needed = command.spec().role;
    match (role, needed) {
        (None, _) => Err(not_staff(command)),
        (Some(Role::Agent), Role::Admin) => Err(DeskError::Forbidden(format!(
            "Only admins can use /{}.",
            command.name()
        ))),
        _ => Ok(()),
    }
}

/// The refusal for someone who is not staff (a customer, a guild member without a staff role):
/// they may run no command.
pub fn not_staff(command: &Command) -> DeskError {
    DeskError::Forbidden(format!("Only agents can use /{}.", command.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_needs_an_admin_and_customers_run_nothing() {
        assert!(check(Some(Role::Agent), &Command::Merge(1)).is_err());
        assert!(check(Some(Role::Admin), &Command::Merge(1)).is_ok());
        assert!(check(Some(Role::Agent), &Command::Close(None)).is_ok());
        let refused = check(None, &Command::Claim).unwrap_err();
        assert_eq!(
            refused,
            DeskError::Forbidden("Only agents can use /claim.".into())
        );
    }

    #[test]
    fn a_platform_can_raise_a_role_for_one_message_but_never_lower_it() {
        assert_eq!(effective_role(Role::Admin, Some(Role::Agent)), Role::Admin);
        assert_eq!(effective_role(Role::Admin, None), Role::Admin);
        assert_eq!(effective_role(Role::Agent, Some(Role::Admin)), Role::Admin);
        assert_eq!(effective_role(Role::Agent, Some(Role::Agent)), Role::Agent);
    }
}
