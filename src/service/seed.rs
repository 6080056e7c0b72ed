//! First start on an empty data dir: the Collective Brain's starting spaces and the
//! `admin` account.

use rand::distributions::{Alphanumeric, DistString};

use super::{App, Registration};
use crate::error::{ApiError, ApiResult};
use crate::model::{Lang, PostPolicy, Role, SpaceKind, Visibility};

/// The starting spaces: (slug, name, kind, post policy). All public.
const SPACES: &[(&str, &str, SpaceKind, PostPolicy)] = &[
    ("news", "News", SpaceKind::Forum, PostPolicy::Moderators),
    ("general", "General discussion", SpaceKind::Forum, PostPolicy::Members),
    (
        "meeting-point",
        "Meeting Point for South-South and Triangular Cooperation",
        SpaceKind::Forum,
        PostPolicy::Members,
    ),
    ("collections-turin", "Academy Collections: Turin", SpaceKind::Forum, PostPolicy::Members),
    ("collections-montreal", "Academy Collections: Montreal", SpaceKind::Forum, PostPolicy::Members),
    ("collections-agadir", "Academy Collections: Agadir", SpaceKind::Forum, PostPolicy::Members),
    ("collections-campinas", "Academy Collections: Campinas", SpaceKind::Forum, PostPolicy::Members),
    ("collections-johannesburg", "Academy Collections: Johannesburg", SpaceKind::Forum, PostPolicy::Members),
    ("collections-puebla", "Academy Collections: Puebla", SpaceKind::Forum, PostPolicy::Members),
    ("collections-san-jose", "Academy Collections: San José", SpaceKind::Forum, PostPolicy::Members),
    ("collections-seoul", "Academy Collections: Seoul", SpaceKind::Forum, PostPolicy::Members),
    ("collections-luxembourg", "Academy Collections: Luxembourg", SpaceKind::Forum, PostPolicy::Members),
    ("collections-madrid", "Academy Collections: Madrid", SpaceKind::Forum, PostPolicy::Members),
    ("collections-lisbon", "Academy Collections: Lisbon (online)", SpaceKind::Forum, PostPolicy::Members),
    ("lobby", "Lobby", SpaceKind::Chat, PostPolicy::Members),
];

/// Where the generated admin password is written on the first start, in the data dir.
pub const ADMIN_PASSWORD_FILE: &str = "admin-password.txt";

/// Writes `text` to a new file readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

pub(super) async fn first_start(app: &App) -> ApiResult<()> {
    let generated = app.config.admin_password.is_none();
    let password =
        app.config.admin_password.clone().unwrap_or_else(|| Alphanumeric.sample_string(&mut rand::rngs::OsRng, 24));
    let reg = Registration {
        handle: "admin".into(),
        password: password.clone(),
        display_name: Some("Administrator".into()),
        languages: Some(app.config.languages.iter().map(Lang::to_string).collect()),
        invite: None,
    };
    let admin = app.create_user(reg, vec![Role::Admin, Role::Moderator]).await?;
    for &(slug, name, kind, post_policy) in SPACES {
        let op = crate::store::CreateSpace {
            slug: slug.into(),
            name: name.into(),
            kind,
            visibility: Visibility::Public,
            post_policy,
            creator: Some(admin.id),
            direct: Vec::new(),
        };
        let space = app.store.run(op).await?;
        // Each edition's collection: the files posted there belong to that edition.
        if let Some(edition) = name.strip_prefix("Academy Collections: ") {
            let op = crate::store::UpdateSpace {
                space: space.id,
                name: None,
                names: None,
                descriptions: None,
                post_policy: None,
                archived: None,
                visibility: None,
                listed: None,
                edition: Some(edition.to_owned()),
                actor: admin.id,
                posts: Vec::new(),
            };
            app.store.run(op).await?;
        }
    }
    app.store.run(crate::store::MarkInitialized).await?;
    if generated {
        // Never in the log (logs travel to places passwords must not): in a file of the
        // data dir that only the server's own user can read.
        let path = app.config.data_dir.join(ADMIN_PASSWORD_FILE);
        write_private(&path, &password).map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
        tracing::warn!(file = %path.display(), "first start: created the account 'admin'; its generated password is in this file");
    } else {
        tracing::info!("first start: created the account 'admin' with the configured password");
    }
    tracing::info!(spaces = SPACES.len(), "first start: created the starting spaces");
    Ok(())
}
