//! `organizations`, `memberships` and `invitations`.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

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
            let mut tx = pool.begin().await?;
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
        on_pool!(self, pool => sqlx::query_as(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(Utc::now())
        .fetch_one(pool)
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
        on_pool!(self, pool => sqlx::query_as(
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
        .bind(expires_at)
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// Marks an open, unexpired invitation accepted and returns it; `None` when used, expired or unknown.
    #[instrument(skip_all)]
    pub async fn accept_invitation(&self, token_hash: &str) -> Result<Option<Invitation>, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => sqlx::query_as(
            "UPDATE invitations SET accepted_at = $2
             WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2 RETURNING *",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }
}
