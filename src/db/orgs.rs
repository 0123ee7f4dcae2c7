//! `organizations`, `memberships` and `invitations`.
//!
//! The rules (who may do what) live in [`crate::orgs`]; this module only guarantees what the
//! database must guarantee atomically, such as "an organization never loses its last owner".

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::models::{Invitation, Membership, Organization, Role};
use super::{Db, DbError, on_pool};

impl Db {
    /// Creates an organization with `owner` as its first owner, in one transaction.
    #[instrument(skip_all)]
    pub async fn create_organization(
        &self,
        slug: &str,
        name: &str,
        owner: Uuid,
    ) -> Result<Organization, DbError> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let org: Organization = sqlx::query_as(
                "INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING *",
            )
            .bind(id)
            .bind(slug)
            .bind(name)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(owner)
                .bind(Role::Owner.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(org)
        })
    }

    /// The organization with this slug.
    #[instrument(skip_all)]
    pub async fn organization_by_slug(&self, slug: &str) -> Result<Option<Organization>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Adds a member. Already a member is [`DbError::Conflict`].
    #[instrument(skip_all)]
    pub async fn add_membership(
        &self,
        org_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> Result<Membership, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(Utc::now()), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// The user's role in the organization, if a member.
    #[instrument(skip_all)]
    pub async fn membership(&self, org_id: Uuid, user_id: Uuid) -> Result<Option<Membership>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The organizations the user belongs to, by name.
    #[instrument(skip_all)]
    pub async fn organizations_of(&self, user_id: Uuid) -> Result<Vec<(Organization, Role)>, DbError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            org: Organization,
            #[sqlx(try_from = "String")]
            role: Role,
        }
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(
            "SELECT o.*, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id
             WHERE m.user_id = $1 ORDER BY o.name, o.slug",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|r| (r.org, r.role)).collect())
    }

    /// Records an invitation. An open one for the same address is [`DbError::Conflict`].
    #[instrument(skip_all)]
    pub async fn create_invitation(
        &self,
        org_id: Uuid,
        email: &str,
        role: Role,
        token_hash: &str,
        invited_by: Option<Uuid>,
        expires_at: DateTime<Utc>,
    ) -> Result<Invitation, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO invitations (id, org_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(org_id)
        .bind(email)
        .bind(role.as_str())
        .bind(token_hash)
        .bind(invited_by)
        .bind(Utc::now())
        .bind(expires_at), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// Marks an open, unexpired invitation accepted and returns it; `None` when used, expired or unknown.
    #[instrument(skip_all)]
    pub async fn accept_invitation(&self, token_hash: &str) -> Result<Option<Invitation>, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE invitations SET accepted_at = $2
             WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 RETURNING *",
        )
        .bind(token_hash)
        .bind(now), fetch_optional)
        .await
        .map_err(DbError::from))
    }

    /// The organization with this id.
    #[instrument(skip_all)]
    pub async fn organization_by_id(&self, id: Uuid) -> Result<Option<Organization>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Renames an organization.
    #[instrument(skip_all)]
    pub async fn rename_organization(&self, org_id: Uuid, name: &str) -> Result<Organization, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE organizations SET name = $2, updated_at = $3 WHERE id = $1 RETURNING *",
        )
        .bind(org_id)
        .bind(name)
        .bind(Utc::now()), fetch_optional)
        .await
        .map_err(DbError::from))?
        .ok_or(DbError::NotFound)
    }

    /// Sets what the organization's public page says about it.
    #[instrument(skip_all)]
    pub async fn set_organization_description(
        &self,
        org_id: Uuid,
        description: &str,
    ) -> Result<Organization, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE organizations SET description = $2, updated_at = $3 WHERE id = $1 RETURNING *",
        )
        .bind(org_id)
        .bind(description)
        .bind(Utc::now()), fetch_optional)
        .await
        .map_err(DbError::from))?
        .ok_or(DbError::NotFound)
    }

    /// Deletes an organization with its memberships, invitations and events.
    #[instrument(skip_all)]
    pub async fn delete_organization(&self, org_id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(org_id))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// The members with their accounts: owners first, then by role, then by name.
    #[instrument(skip_all)]
    pub async fn members_of(&self, org_id: Uuid) -> Result<Vec<Member>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at AS joined_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'organizer' THEN 2 ELSE 3 END,
                      u.display_name, u.email",
        )
        .bind(org_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// One member with their account.
    #[instrument(skip_all)]
    pub async fn member(&self, org_id: Uuid, user_id: Uuid) -> Result<Option<Member>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT m.user_id, u.email, u.display_name, m.role, m.created_at AS joined_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = $1 AND m.user_id = $2",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// How many members the organization has.
    #[instrument(skip_all)]
    pub async fn member_count(&self, org_id: Uuid) -> Result<i64, DbError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(pool)
            .await
            .map_err(DbError::from))
    }

    /// How many owners the organization has.
    #[instrument(skip_all)]
    pub async fn owner_count(&self, org_id: Uuid) -> Result<i64, DbError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner'",
        )
        .bind(org_id)
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// Changes a member's role (`Some`) or removes the member (`None`), but only if their role is
    /// still `expected` and the organization keeps at least one owner.
    ///
    /// The organization's row is written first so that concurrent changes to the same
    /// organization run one after the other on both backends: two owners demoting each other at
    /// the same moment cannot leave it without an owner.
    #[instrument(skip_all)]
    pub async fn change_membership(
        &self,
        org_id: Uuid,
        user_id: Uuid,
        expected: Role,
        new_role: Option<Role>,
    ) -> Result<MembershipChange, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let locked = sqlx::query("UPDATE organizations SET updated_at = $2 WHERE id = $1")
                .bind(org_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if locked == 0 {
                return Ok(MembershipChange::NotMember);
            }
            let current: Option<String> =
                sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
                    .bind(org_id)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(current) = current else { return Ok(MembershipChange::NotMember) };
            if current != expected.as_str() {
                return Ok(MembershipChange::Stale);
            }
            let stays_owner = new_role == Some(Role::Owner);
            if expected == Role::Owner && !stays_owner {
                let owners: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'owner'",
                )
                .bind(org_id)
                .fetch_one(&mut *tx)
                .await?;
                if owners <= 1 {
                    return Ok(MembershipChange::LastOwner);
                }
            }
            match new_role {
                Some(role) => {
                    sqlx::query("UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2")
                        .bind(org_id)
                        .bind(user_id)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
                        .bind(org_id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(MembershipChange::Done)
        })
    }

    /// Open invitations (accepted ones are history), newest first, with the inviter's name.
    /// Expired ones are included so they can be re-sent or revoked.
    #[instrument(skip_all)]
    pub async fn open_invitations(&self, org_id: Uuid) -> Result<Vec<OpenInvitation>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT i.*, u.display_name AS invited_by_name
             FROM invitations i LEFT JOIN users u ON u.id = i.invited_by
             WHERE i.org_id = $1 AND i.accepted_at IS NULL
             ORDER BY i.created_at DESC, i.email",
        )
        .bind(org_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// One open invitation of the organization.
    #[instrument(skip_all)]
    pub async fn open_invitation(&self, org_id: Uuid, id: Uuid) -> Result<Option<Invitation>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM invitations WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL",
        )
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Forgets open invitations to `email` that have expired, so the address can be invited again.
    #[instrument(skip_all)]
    pub async fn drop_expired_invitations(&self, org_id: Uuid, email: &str) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "DELETE FROM invitations WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND expires_at <= $3",
        )
        .bind(org_id)
        .bind(email)
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Revokes (deletes) an open invitation; [`DbError::NotFound`] if there is none with this id.
    #[instrument(skip_all)]
    pub async fn revoke_invitation(&self, org_id: Uuid, id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "DELETE FROM invitations WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL",
        )
        .bind(org_id)
        .bind(id))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Gives an open invitation a new link and expiry (the old link stops working).
    #[instrument(skip_all)]
    pub async fn renew_invitation(
        &self,
        org_id: Uuid,
        id: Uuid,
        token_hash: &str,
        invited_by: Option<Uuid>,
        expires_at: DateTime<Utc>,
    ) -> Result<Invitation, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE invitations SET token_hash = $3, invited_by = COALESCE($4, invited_by), expires_at = $5
             WHERE org_id = $1 AND id = $2 AND accepted_at IS NULL RETURNING *",
        )
        .bind(org_id)
        .bind(id)
        .bind(token_hash)
        .bind(invited_by)
        .bind(expires_at), fetch_optional)
        .await
        .map_err(DbError::from))?
        .ok_or(DbError::NotFound)
    }

    /// The invitation behind a link, whatever its state, with its organization and inviter.
    #[instrument(skip_all)]
    pub async fn invitation_by_token(&self, token_hash: &str) -> Result<Option<InvitationLink>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT i.*, o.slug AS org_slug, o.name AS org_name, u.display_name AS invited_by_name
             FROM invitations i
             JOIN organizations o ON o.id = i.org_id
             LEFT JOIN users u ON u.id = i.invited_by
             WHERE i.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Uses an open, unexpired invitation for `user_id`: marks it accepted and adds the
    /// membership, in one transaction. `None` when used, expired or unknown. Someone who is
    /// already a member keeps their role ([`Accepted::joined`] is then `false`).
    #[instrument(skip_all)]
    pub async fn accept_invitation_as(
        &self,
        token_hash: &str,
        user_id: Uuid,
    ) -> Result<Option<Accepted>, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let invitation: Option<Invitation> = sqlx::query_as(
                "UPDATE invitations SET accepted_at = $2
                 WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 RETURNING *",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(invitation) = invitation else { return Ok(None) };
            let joined = sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, user_id) DO NOTHING",
            )
            .bind(invitation.org_id)
            .bind(user_id)
            .bind(invitation.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            tx.commit().await?;
            Ok(Some(Accepted { invitation, joined }))
        })
    }
}

/// A member as the members page shows them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// An open invitation with the inviter's name.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OpenInvitation {
    #[sqlx(flatten)]
    pub invitation: Invitation,
    pub invited_by_name: Option<String>,
}

/// An invitation found by its link, with what its page shows.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InvitationLink {
    #[sqlx(flatten)]
    pub invitation: Invitation,
    pub org_slug: String,
    pub org_name: String,
    pub invited_by_name: Option<String>,
}

/// The outcome of [`Db::accept_invitation_as`].
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The invitation, now accepted.
    pub invitation: Invitation,
    /// Whether a membership was added (`false`: the user was already a member).
    pub joined: bool,
}

/// The outcome of [`Db::change_membership`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    /// Changed as asked.
    Done,
    /// Not a member (any more).
    NotMember,
    /// The member's role changed meanwhile; nothing was done.
    Stale,
    /// It would leave the organization without an owner; nothing was done.
    LastOwner,
}
