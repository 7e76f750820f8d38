//! ECS rolling deploys and rollbacks for ship.
//!
//! The pure parts (image reference checks, task definition rendering, the deployment success
//! rule, rollback target selection) are plain functions over SDK types and are unit tested; the
//! parts that talk to ECS live in [`ecs`], [`watch`] and [`rollout`].

pub mod ecs;
pub mod elb;
pub mod image;
pub mod journal;
pub mod registry;
pub mod render;
pub mod rollback;
pub mod rollout;
pub mod runtask;
pub mod taskdef_file;
pub mod verdict;
pub mod watch;

pub use aws_sdk_ecr;
pub use aws_sdk_ecs;

/// Tag keys ship writes on the task definition revisions it registers.
pub mod tags {
    pub const VERSION: &str = "ship:version";
    pub const GIT_SHA: &str = "ship:git-sha";
    pub const PREVIOUS: &str = "ship:previous";
    pub const RUN_URL: &str = "ship:run-url";
    pub const SCHEMA_VERSION: &str = "ship:schema-version";
    /// `COMPLETED` or `FAILED`, written when a rollout of the revision finishes; `CANCELLED`
    /// when the rollout was cancelled (SIGINT/SIGTERM) before it settled.
    pub const ROLLOUT: &str = "ship:rollout";
}

/// Every error ship-ecs reports. [`Error::exit_code`] maps it to the binaries' exit codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or configuration: exit 2.
    #[error("{0}")]
    Input(String),
    /// A cluster, service, revision or version that does not exist: exit 2.
    #[error("{0}")]
    NotFound(String),
    /// An AWS API call failed: exit 1.
    #[error("{0}")]
    Aws(String),
    /// The rollout or rollback did not succeed: exit 1.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::NotFound(_) => 2,
            Error::Aws(_) | Error::Failed(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
